/// One metric family the exporter writes, with what Documentation/Exporter.md says about it.
public struct MetricFamily: Sendable, Hashable {
    public let name: String
    public let type: MetricType
    public let help: String
    /// Labels besides `host` (and `domain`, `uuid` on per-domain families).
    public let labels: [String]
    /// Where the value comes from (libvirt field or call).
    public let source: String

    init(_ name: String, _ type: MetricType, _ help: String, labels: [String] = [], source: String) {
        self.name = name
        self.type = type
        self.help = help
        self.labels = labels
        self.source = source
    }
}

extension MetricFamily {
    // MARK: Host and scrape
    static let up = Self("libvirt_up", .gauge, "Whether the last statistics call to this libvirt URI succeeded.", source: "virConnectGetAllDomainStats succeeded")
    static let stale = Self("virtkit_scrape_stale", .gauge, "1 when the values served for this host (or domain) are not from this scrape: the host missed the deadline, or libvirt skipped a busy domain's groups (NOWAIT).", labels: ["domain", "uuid (stale domains only)"], source: "exporter")
    static let age = Self("virtkit_scrape_age_seconds", .gauge, "Age of the statistics served for this host.", source: "exporter")
    static let callDuration = Self("virtkit_scrape_call_duration_seconds", .gauge, "Duration of the statistics calls whose result is served (the state call and the active domains' calls).", source: "virConnectGetAllDomainStats + virDomainListGetStats wall time")
    static let domains = Self("libvirt_domains_number", .gauge, "Number of domains exported for this host (all states).", source: "records of virConnectGetAllDomainStats")
    // MARK: Host figures
    static let hostCPUs = Self("virtkit_host_cpus", .gauge, "Active host CPUs.", source: "virNodeGetInfo cpus")
    static let hostMemory = Self("virtkit_host_memory_bytes", .gauge, "Host memory.", source: "virNodeGetInfo memory")
    static let hostFreeMemory = Self("virtkit_host_numa_free_memory_bytes", .gauge, "Free memory per NUMA node.", labels: ["node"], source: "virNodeGetCellsFreeMemory")
    static let hostCPUTime = Self("virtkit_host_cpu_seconds_total", .counter, "Host CPU time by mode, all CPUs.", labels: ["mode"], source: "virNodeGetCPUStats (kernel, user, idle, iowait)")
    // MARK: Domain state and info
    static let stateCode = Self("libvirt_domain_state_code", .gauge, "State of the domain (virDomainState: 1 running, 3 paused, 5 shut off, ...).", source: "state.state")
    static let state = Self("virtkit_domain_state", .gauge, "1 for the domain's current state and its reason.", labels: ["state", "reason"], source: "state.state, state.reason")
    static let info = Self("virtkit_domain_info", .gauge, "1 per domain whose definition was read; its title.", labels: ["title"], source: "domain XML <title> (cached per UUID)")
    static let maxMemory = Self("libvirt_domain_info_maximum_memory_bytes", .gauge, "Maximum allowed memory of the domain, in bytes.", source: "balloon.maximum, else domain XML <memory>")
    static let memoryUsage = Self("libvirt_domain_info_memory_usage_bytes", .gauge, "Memory usage of the domain, in bytes.", source: "balloon.current")
    static let vcpus = Self("libvirt_domain_info_virtual_cpus", .gauge, "Number of virtual CPUs for the domain.", source: "vcpu.current, else domain XML <vcpu>")
    static let cpuTime = Self("libvirt_domain_info_cpu_time_seconds_total", .counter, "Amount of CPU time used by the domain, in seconds.", source: "cpu.time (ns)")
    static let cpuModeTime = Self("virtkit_domain_cpu_seconds_total", .counter, "CPU time of the domain's process by mode.", labels: ["mode"], source: "cpu.user, cpu.system (ns)")
    // MARK: vCPUs
    static let vcpuState = Self("libvirt_domain_vcpu_state", .gauge, "vCPU state (0 offline, 1 running, 2 blocked).", labels: ["vcpu"], source: "vcpu.<n>.state")
    static let vcpuTime = Self("libvirt_domain_vcpu_time_seconds_total", .counter, "Time the vCPU ran, in seconds.", labels: ["vcpu"], source: "vcpu.<n>.time (ns)")
    static let vcpuWait = Self("libvirt_domain_vcpu_wait_seconds_total", .counter, "Time the vCPU waited on I/O, in seconds.", labels: ["vcpu"], source: "vcpu.<n>.wait (ns)")
    static let vcpuDelay = Self("libvirt_domain_vcpu_delay_seconds_total", .counter, "Time the vCPU was runnable but waited for a host CPU (run-queue delay), in seconds.", labels: ["vcpu"], source: "vcpu.<n>.delay (ns, schedstat)")
    // MARK: Block devices
    static let blockMeta = Self("libvirt_domain_block_meta", .gauge, "1 per disk of the domain definition.", labels: ["target_device", "source_file", "disk_type", "device"], source: "domain XML <disk> (cached per UUID)")
    static let blockReadBytes = Self("libvirt_domain_block_stats_read_bytes_total", .counter, "Number of bytes read from a block device, in bytes.", labels: ["source_file", "target_device"], source: "block.<n>.rd.bytes")
    static let blockReadRequests = Self("libvirt_domain_block_stats_read_requests_total", .counter, "Number of read requests from a block device.", labels: ["source_file", "target_device"], source: "block.<n>.rd.reqs")
    static let blockReadTime = Self("libvirt_domain_block_stats_read_time_seconds_total", .counter, "Total time spent on reads from a block device, in seconds.", labels: ["source_file", "target_device"], source: "block.<n>.rd.times (ns)")
    static let blockWriteBytes = Self("libvirt_domain_block_stats_write_bytes_total", .counter, "Number of bytes written to a block device, in bytes.", labels: ["source_file", "target_device"], source: "block.<n>.wr.bytes")
    static let blockWriteRequests = Self("libvirt_domain_block_stats_write_requests_total", .counter, "Number of write requests to a block device.", labels: ["source_file", "target_device"], source: "block.<n>.wr.reqs")
    static let blockWriteTime = Self("libvirt_domain_block_stats_write_time_seconds_total", .counter, "Total time spent on writes to a block device, in seconds.", labels: ["source_file", "target_device"], source: "block.<n>.wr.times (ns)")
    static let blockFlushRequests = Self("libvirt_domain_block_stats_flush_requests_total", .counter, "Number of flush requests to a block device.", labels: ["source_file", "target_device"], source: "block.<n>.fl.reqs")
    static let blockFlushTime = Self("libvirt_domain_block_stats_flush_time_seconds_total", .counter, "Total time spent on flushes of a block device, in seconds.", labels: ["source_file", "target_device"], source: "block.<n>.fl.times (ns)")
    static let blockErrors = Self("virtkit_domain_block_errors_total", .counter, "I/O errors of a block device.", labels: ["source_file", "target_device"], source: "block.<n>.errors")
    static let blockCapacity = Self("libvirt_domain_block_stats_capacity_bytes", .gauge, "Logical size of a block device, in bytes.", labels: ["source_file", "target_device"], source: "block.<n>.capacity")
    static let blockAllocation = Self("libvirt_domain_block_stats_allocation_bytes", .gauge, "Highest allocated offset of a block device, in bytes.", labels: ["source_file", "target_device"], source: "block.<n>.allocation")
    static let blockPhysical = Self("libvirt_domain_block_stats_physical_bytes", .gauge, "Physical size of a block device's host storage, in bytes.", labels: ["source_file", "target_device"], source: "block.<n>.physical")
    // MARK: Interfaces
    static let ifaceMeta = Self("libvirt_domain_interface_meta", .gauge, "1 per network interface of the domain definition.", labels: ["target_device", "source_bridge", "source_network", "mac", "type"], source: "domain XML <interface> (cached per UUID)")
    static let rxBytes = Self("libvirt_domain_interface_stats_receive_bytes_total", .counter, "Number of bytes received on a network interface, in bytes.", labels: ["source_bridge", "target_device"], source: "net.<n>.rx.bytes")
    static let rxPackets = Self("libvirt_domain_interface_stats_receive_packets_total", .counter, "Number of packets received on a network interface.", labels: ["source_bridge", "target_device"], source: "net.<n>.rx.pkts")
    static let rxErrors = Self("libvirt_domain_interface_stats_receive_errors_total", .counter, "Number of packet receive errors on a network interface.", labels: ["source_bridge", "target_device"], source: "net.<n>.rx.errs")
    static let rxDrops = Self("libvirt_domain_interface_stats_receive_drops_total", .counter, "Number of packet receive drops on a network interface.", labels: ["source_bridge", "target_device"], source: "net.<n>.rx.drop")
    static let txBytes = Self("libvirt_domain_interface_stats_transmit_bytes_total", .counter, "Number of bytes transmitted on a network interface, in bytes.", labels: ["source_bridge", "target_device"], source: "net.<n>.tx.bytes")
    static let txPackets = Self("libvirt_domain_interface_stats_transmit_packets_total", .counter, "Number of packets transmitted on a network interface.", labels: ["source_bridge", "target_device"], source: "net.<n>.tx.pkts")
    static let txErrors = Self("libvirt_domain_interface_stats_transmit_errors_total", .counter, "Number of packet transmit errors on a network interface.", labels: ["source_bridge", "target_device"], source: "net.<n>.tx.errs")
    static let txDrops = Self("libvirt_domain_interface_stats_transmit_drops_total", .counter, "Number of packet transmit drops on a network interface.", labels: ["source_bridge", "target_device"], source: "net.<n>.tx.drop")
    // MARK: Memory (balloon)
    static let balloonActual = Self("libvirt_domain_memory_stats_actual_balloon_bytes", .gauge, "Current balloon size, in bytes.", source: "balloon.current (KiB)")
    static let balloonUnused = Self("libvirt_domain_memory_stats_unused_bytes", .gauge, "Memory unused by the guest, in bytes.", source: "balloon.unused (KiB)")
    static let balloonAvailable = Self("libvirt_domain_memory_stats_available_bytes", .gauge, "Memory usable by the guest as the guest sees it, in bytes.", source: "balloon.available (KiB)")
    static let balloonUsable = Self("libvirt_domain_memory_stats_usable_bytes", .gauge, "Memory the guest can reclaim without swapping, in bytes.", source: "balloon.usable (KiB)")
    static let balloonRSS = Self("libvirt_domain_memory_stats_rss_bytes", .gauge, "Resident set size of the domain's process on the host, in bytes.", source: "balloon.rss (KiB)")
    static let balloonDiskCaches = Self("libvirt_domain_memory_stats_disk_cache_bytes", .gauge, "Guest memory that can be reclaimed from disk caches, in bytes.", source: "balloon.disk_caches (KiB)")
    static let balloonSwapIn = Self("libvirt_domain_memory_stats_swap_in_bytes", .gauge, "Memory swapped in by the guest, in bytes.", source: "balloon.swap_in (KiB)")
    static let balloonSwapOut = Self("libvirt_domain_memory_stats_swap_out_bytes", .gauge, "Memory swapped out by the guest, in bytes.", source: "balloon.swap_out (KiB)")
    static let balloonMajorFaults = Self("libvirt_domain_memory_stats_major_fault_total", .counter, "Page faults that needed disk I/O in the guest.", source: "balloon.major_fault")
    static let balloonMinorFaults = Self("libvirt_domain_memory_stats_minor_fault_total", .counter, "Page faults served without disk I/O in the guest.", source: "balloon.minor_fault")
    static let balloonUsedPercent = Self("libvirt_domain_memory_stats_used_percent", .gauge, "Guest memory in use: (available - usable) / available, in percent.", source: "balloon.available, balloon.usable")
    static let balloonLastUpdate = Self("libvirt_domain_memory_stats_last_update_timestamp_seconds", .gauge, "When the guest last updated its memory statistics (Unix time).", source: "balloon.last-update")
    // MARK: This machine's files (local hosts)
    static let hostHugepages = Self("virtkit_host_hugepages_bytes", .gauge, "Hugepage pool of a NUMA node (nr_hugepages times the page size), in bytes.", labels: ["node", "page_size"], source: "sysfs node/nodeN/hugepages/hugepages-*kB/nr_hugepages (HostProbe)")
    static let hostHugepagesFree = Self("virtkit_host_hugepages_free_bytes", .gauge, "Free part of a NUMA node's hugepage pool, in bytes.", labels: ["node", "page_size"], source: "sysfs node/nodeN/hugepages/hugepages-*kB/free_hugepages (HostProbe)")
    static let hostSteal = Self("virtkit_host_cpu_steal_seconds_total", .counter, "Time the hypervisor ran something else while this host's CPUs wanted to run, all CPUs, in seconds.", source: "/proc/stat cpu line, steal (USER_HZ ticks; HostProbe)")
    static let hostIOWait = Self("virtkit_host_cpu_iowait_seconds_total", .counter, "Time the host's CPUs were idle with I/O outstanding, all CPUs, in seconds.", source: "/proc/stat cpu line, iowait (USER_HZ ticks; HostProbe)")
    static let hostPressure = Self("virtkit_host_pressure_seconds_total", .counter, "Pressure stall time of the whole host (PSI): some = at least one task stalled, full = all non-idle tasks stalled, in seconds.", labels: ["resource", "kind"], source: "/proc/pressure/{cpu,io,memory} total (µs; HostProbe)")
    static let cgroupPeriods = Self("virtkit_domain_cpu_periods_total", .counter, "CPU bandwidth periods of a guest cgroup with a quota (cpu.stat nr_periods).", labels: ["cgroup"], source: "cgroup cpu.stat nr_periods (top, emulator, vcpuN)")
    static let cgroupThrottledPeriods = Self("virtkit_domain_cpu_throttled_periods_total", .counter, "Periods in which a guest cgroup was throttled by its CPU quota (cpu.stat nr_throttled).", labels: ["cgroup"], source: "cgroup cpu.stat nr_throttled (top, emulator, vcpuN)")
    static let cgroupThrottledTime = Self("virtkit_domain_cpu_throttled_seconds_total", .counter, "Time a guest cgroup's threads were held back by its CPU quota, in seconds.", labels: ["cgroup"], source: "cgroup cpu.stat throttled_usec (v2) / throttled_time (v1, ns)")
    static let pressure = Self("virtkit_domain_pressure_seconds_total", .counter, "Pressure stall time of the guest's cgroup (PSI): some = at least one task stalled, full = all non-idle tasks stalled, in seconds.", labels: ["resource", "kind"], source: "cgroup v2 {cpu,io,memory}.pressure total (µs) of the guest's top cgroup")
    static let guestHugepages = Self("virtkit_domain_hugepages_bytes", .gauge, "Hugepage memory of the guest's QEMU process on a host NUMA node, in bytes (hugepage-backed guests only).", labels: ["node"], source: "/proc/PID/numa_maps `huge` mappings (N<node>=pages × kernelpagesize_kB)")
    static let finding = Self("virtkit_finding", .gauge, "1 per diagnosis finding of the last refresh (Tuning's rules).", labels: ["id", "severity", "subject", "domain, uuid (guest findings)"], source: "Diagnoser over DiagnosisGatherer input, refreshed every --findings-interval")
    static let findingsAge = Self("virtkit_findings_age_seconds", .gauge, "Age of the findings served for this host.", source: "exporter (findings refresh)")
    // MARK: Exporter
    static let renderDuration = Self("virtkit_exporter_scrape_duration_seconds", .gauge, "Duration of this scrape: waiting for the hosts (at most the deadline) and rendering.", source: "exporter")

    /// Every family, in the order they are written.
    public static let all: [MetricFamily] = [
        up, stale, age, callDuration, domains, hostCPUs, hostMemory, hostFreeMemory, hostCPUTime,
        stateCode, state, info, maxMemory, memoryUsage, vcpus, cpuTime, cpuModeTime,
        vcpuState, vcpuTime, vcpuWait, vcpuDelay,
        blockMeta, blockReadBytes, blockReadRequests, blockReadTime, blockWriteBytes, blockWriteRequests, blockWriteTime,
        blockFlushRequests, blockFlushTime, blockErrors, blockCapacity, blockAllocation, blockPhysical,
        ifaceMeta, rxBytes, rxPackets, rxErrors, rxDrops, txBytes, txPackets, txErrors, txDrops,
        balloonActual, balloonUnused, balloonAvailable, balloonUsable, balloonRSS, balloonDiskCaches, balloonSwapIn,
        balloonSwapOut, balloonMajorFaults, balloonMinorFaults, balloonUsedPercent, balloonLastUpdate,
        hostHugepages, hostHugepagesFree, hostSteal, hostIOWait, hostPressure, cgroupPeriods, cgroupThrottledPeriods, cgroupThrottledTime, pressure, guestHugepages,
        finding, findingsAge,
        renderDuration,
    ]
}
