import VirtCore
import HostProbe

/// Rules about the host's configuration (a snapshot is enough; no window).
enum HostRules {
    static let rules: [DiagnosisRule] = [
        DiagnosisRule(ids: [.hostOvercommitVCPU], vcpuOvercommit),
        DiagnosisRule(ids: [.hostSwappiness], swappiness),
        DiagnosisRule(ids: [.hostTHPDisabled], transparentHugepages),
        DiagnosisRule(ids: [.hostKSMMergeAcrossNodes], ksmMergeAcrossNodes),
        DiagnosisRule(ids: [.hostHugepagesUnavailable, .hostHugepagesUnused], hugepages),
        DiagnosisRule(ids: [.hostNUMABalancingPinnedGuests], numaBalancing),
        DiagnosisRule(ids: [.hostBlockScheduler], blockScheduler),
        DiagnosisRule(ids: [.hostVhostNetMissing], vhostNet),
        DiagnosisRule(ids: [.hostKVMUnusable], kvmUnusable),
        DiagnosisRule(ids: [.hostIOMMUOff], iommuOff),
    ]

    static func vcpuOvercommit(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        guard let topo = input.host?.topology else { return [] }
        let cores = topo.coreCount
        guard cores > 0 else { return [] }
        let active = input.activeGuests
        let vcpus = active.reduce(0) { $0 + $1.definition.onlineVCPUs }
        var out: [Finding] = []
        let coreEvidence = Evidence("physical cores (online)", .count(cores), from: .sysfs("/sys/devices/system/cpu/cpu*/topology/thread_siblings_list"))
        for g in input.guests where g.definition.onlineVCPUs > cores {
            out.append(Finding(
                id: .hostOvercommitVCPU, severity: .critical, subject: .guest(g.reference),
                title: "\(g.reference.name) has \(g.definition.onlineVCPUs) vCPUs but the host only \(cores) physical cores",
                explanation: "A guest with more vCPUs than the host has cores can never run all of them at once: its vCPUs wait for each other (lock holder preemption), so it runs slower than the same guest with fewer vCPUs.",
                evidence: [Evidence("vCPUs", .count(g.definition.onlineVCPUs), from: .domainXML("vcpu")), coreEvidence],
                remedies: [Remedy(.domainXML(.set("vcpu", to: String(cores))), applies: .guestRestart, "give the guest at most \(cores) vCPUs")],
                source: RuleSource(RuleReference.rhelOvercommit, threshold: "vCPUs of one guest > host cores (\(cores))")))
        }
        let ratio = Double(vcpus) / Double(cores)
        let severity: Finding.Severity? = ratio > t.vcpusPerCoreCritical ? .critical : ratio > t.vcpusPerCoreWarning ? .warning : nil
        if let severity {
            let limit = severity == .critical ? t.vcpusPerCoreCritical : t.vcpusPerCoreWarning
            out.append(Finding(
                id: .hostOvercommitVCPU, severity: severity, subject: .host(name: input.hostName),
                title: "\(vcpus) vCPUs of \(active.count) active guests on \(cores) cores (\(formatNumber(ratio)) per core)",
                explanation: "Every vCPU is a host thread; with this many per core, busy guests wait on run queues (steal time) and consoles lag. Overcommit is safe only while guests are mostly idle.",
                evidence: [Evidence("vCPUs of active guests", .count(vcpus), from: .libvirt("virDomainGetXMLDesc <vcpu current>")), coreEvidence,
                           Evidence("vCPUs per core", .number(ratio, unit: "vCPUs/core"), from: .derived("vCPUs / cores"))],
                remedies: [Remedy(.manual("Reduce vCPUs of guests that do not use them, or move guests to another host."), applies: .manual, "lower the vCPU count per core")],
                source: RuleSource(RuleReference.rhelOvercommit, threshold: "vcpusPerCore\(severity == .critical ? "Critical" : "Warning") > \(formatNumber(limit))")))
        }
        return out
    }

    static func swappiness(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        guard let value = input.host?.sysctls?.swappiness, value > t.maxSwappiness, !input.activeGuests.isEmpty else { return [] }
        let mem = input.host?.memory
        let swapUsed = mem.flatMap { m in m.swapTotal.flatMap { total in m.swapFree.map { total >= $0 ? total.bytes - $0.bytes : 0 } } }
        var evidence = [Evidence("vm.swappiness", .count(value), from: .procfs("/proc/sys/vm/swappiness"))]
        if let swapUsed { evidence.append(Evidence("swap in use", .memory(MemorySize(bytes: swapUsed)), from: .procfs("/proc/meminfo SwapTotal - SwapFree"))) }
        return [Finding(
            id: .hostSwappiness, severity: (swapUsed ?? 0) > 0 ? .warning : .info, subject: .host(name: input.hostName),
            title: "vm.swappiness is \(value) on a host running \(plural(input.activeGuests.count, "guest"))",
            explanation: "A high swappiness lets the kernel swap out idle guest memory to keep page cache; the guest then stalls on swap-in when it touches that memory (a frozen console). Virtualization hosts run with 10.",
            evidence: evidence,
            remedies: [Remedy(.sysctl(name: "vm.swappiness", value: String(t.maxSwappiness)), applies: .live, "lower swappiness (persist in /etc/sysctl.d, or use tuned-adm profile virtual-host)")],
            source: RuleSource(RuleReference.tunedVirtualHost, threshold: "maxSwappiness = \(t.maxSwappiness)"))]
    }

    static func transparentHugepages(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        guard let mode = input.host?.memory?.transparentHugepages?.enabled?.active, mode == "never" else { return [] }
        let without = input.guests.filter { !$0.definition.usesHugepages }
        guard input.guests.isEmpty || !without.isEmpty else { return [] }
        return [Finding(
            id: .hostTHPDisabled, severity: .warning, subject: .host(name: input.hostName),
            title: "Transparent huge pages are off (never)" + (without.isEmpty ? "" : "; \(plural(without.count, "guest")) on 4 KiB pages"),
            explanation: "Without THP, guests not backed by explicit huge pages run on 4 KiB pages: twice the page-table walks on every TLB miss (guest and host tables), a few percent to tens of percent slower for memory-heavy guests.",
            evidence: [Evidence("THP enabled", .text(mode), from: .sysfs("/sys/kernel/mm/transparent_hugepage/enabled")),
                       Evidence("guests without huge pages", .count(without.count), from: .domainXML("memoryBacking/hugepages"))],
            remedies: [Remedy(.sysfs(path: "/sys/kernel/mm/transparent_hugepage/enabled", value: "madvise"), applies: .live, "enable THP for regions that ask for it (QEMU does)"),
                       Remedy(.kernelCommandLine(add: ["transparent_hugepage=madvise"], remove: ["transparent_hugepage=never"]), applies: .hostReboot, "keep it across reboots")],
            source: RuleSource(RuleReference.kernelTHP))]
    }

    static func ksmMergeAcrossNodes(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        guard let host = input.host, let ksm = host.memory?.ksm, ksm.run == 1, ksm.mergeAcrossNodes == 1,
              let numa = host.numa, !numa.synthesized, numa.nodes.count > 1 else { return [] }
        var evidence = [Evidence("ksm run", .count(1), from: .sysfs("/sys/kernel/mm/ksm/run")),
                        Evidence("merge_across_nodes", .count(1), from: .sysfs("/sys/kernel/mm/ksm/merge_across_nodes")),
                        Evidence("NUMA nodes", .count(numa.nodes.count), from: .sysfs("/sys/devices/system/node/online"))]
        if let sharing = ksm.pagesSharing { evidence.append(Evidence("pages sharing", .count(Int(clamping: sharing)), from: .sysfs("/sys/kernel/mm/ksm/pages_sharing"))) }
        let committed = input.activeGuests.compactMap(\.definition.memory).reduce(MemorySize.zero, +)
        let total = host.memory?.total
        let overcommitted = total.map { committed > $0 } ?? true
        if let total {
            evidence.append(Evidence("memory of active guests", .memory(committed), from: .domainXML("memory")))
            evidence.append(Evidence("host memory", .memory(total), from: .procfs("/proc/meminfo MemTotal")))
        }
        var remedies = [Remedy(.sysfs(path: "/sys/kernel/mm/ksm/run", value: "2"), applies: .live, "unmerge all pages (required before changing merge_across_nodes)"),
                        Remedy(.sysfs(path: "/sys/kernel/mm/ksm/merge_across_nodes", value: "0"), applies: .live, "merge only within a node, then write 1 to ksm/run again")]
        if !overcommitted {
            remedies.insert(Remedy(.sysfs(path: "/sys/kernel/mm/ksm/run", value: "2"), applies: .live, "memory is not overcommitted: stop KSM altogether (and disable ksmtuned)"), at: 0)
        }
        remedies.append(Remedy(.domainXML(.add("memoryBacking", "<nosharepages/>")), applies: .guestRestart, "opt latency-sensitive guests out of KSM"))
        return [Finding(
            id: .hostKSMMergeAcrossNodes, severity: .warning, subject: .host(name: input.hostName),
            title: "KSM merges pages across \(numa.nodes.count) NUMA nodes",
            explanation: "With merge_across_nodes=1 one shared copy of a page serves guests on every node, so guests on the other nodes read it remotely (slower) and a write breaks the sharing with a copy on the wrong node.",
            evidence: evidence, remedies: remedies, source: RuleSource(RuleReference.rhelKSM))]
    }

    /// Page size of a request: explicit, else the host's default huge page size.
    static func pageSize(_ r: HugepageRequest, host: HostSnapshot) -> MemorySize? {
        r.size ?? host.memory?.defaultHugepageSize
    }

    static func hugepages(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        guard let host = input.host, let mem = host.memory else { return [] }
        var out: [Finding] = []
        var requested = Set<MemorySize>()
        for g in input.guests {
            guard let requests = g.definition.hugepages, let memory = g.definition.memory else { continue }
            let sizes = (requests.isEmpty ? [HugepageRequest()] : requests)
            for r in sizes {
                guard let size = pageSize(r, host: host) else { continue }
                requested.insert(size)
                // A running guest holds its pages already; only guests that still have to start can fail.
                guard !g.isActive else { continue }
                // `<page nodeset>` names guest nodes; the host nodes come from a strict numatune.
                let nodes = g.definition.numaMode == "strict" || g.definition.numaMode == nil ? g.definition.numaNodes : nil
                let needed = (memory.bytes + size.bytes - 1) / max(size.bytes, 1)
                var free: UInt64 = 0
                var where_ = "/sys/kernel/mm/hugepages/hugepages-\(size.kibibytes)kB/free_hugepages"
                let pool = mem.hugepages.first { $0.size == size }
                if let nodes, let numa = host.numa, !numa.synthesized {
                    where_ = "/sys/devices/system/node/node{\(nodes)}/hugepages/hugepages-\(size.kibibytes)kB/free_hugepages"
                    for n in numa.nodes where nodes.contains(n.id) {
                        free += n.hugepages.first { $0.size == size }?.free ?? 0
                    }
                } else {
                    free = pool?.free ?? 0
                }
                guard pool == nil || needed > free else { continue }
                out.append(Finding(
                    id: .hostHugepagesUnavailable, severity: .critical, subject: .guest(g.reference),
                    title: "\(g.reference.name) needs \(needed) huge pages of \(size.humanReadable)" + (nodes.map { " on nodes \($0)" } ?? "") + "; \(pool == nil ? "the host has no such pool" : "only \(free) are free")",
                    explanation: "The guest's memory is backed by huge pages that must be free when it starts. QEMU fails to allocate them and the guest cannot start.",
                    evidence: [Evidence("guest memory", .memory(memory), from: .domainXML("memory")),
                               Evidence("pages needed", .count(Int(clamping: needed)), from: .derived("memory / page size")),
                               Evidence("free pages", .count(Int(clamping: free)), from: .sysfs(where_))],
                    remedies: [Remedy(.sysfs(path: "/sys/kernel/mm/hugepages/hugepages-\(size.kibibytes)kB/nr_hugepages", value: String((pool?.total ?? 0) + needed - free)), applies: .live, "reserve more pages (may fail once memory is fragmented)"),
                               Remedy(.kernelCommandLine(add: ["hugepagesz=\(size.kibibytes)K", "hugepages=\(needed)"], remove: []), applies: .hostReboot, "reserve them at boot")],
                    source: RuleSource(RuleReference.hugetlb, threshold: "pages needed ≤ free pages")))
            }
        }
        for pool in mem.hugepages where (pool.total ?? 0) > 0 && !requested.contains(pool.size) {
            let reserved = MemorySize(bytes: pool.size.bytes &* (pool.total ?? 0))
            let share = mem.total.map { Double(reserved.bytes) / Double(max($0.bytes, 1)) } ?? 0
            let kB = pool.size.kibibytes
            out.append(Finding(
                id: .hostHugepagesUnused, severity: share >= 0.10 ? .warning : .info, subject: .host(name: input.hostName),
                title: "\(reserved.humanReadable) reserved as \(pool.size.humanReadable) huge pages that no guest uses",
                explanation: "Reserved huge pages are taken out of normal memory whether used or not; no defined guest asks for this page size, so that memory is lost to the host and to guests using normal pages.",
                evidence: [Evidence("pages reserved", .count(Int(clamping: pool.total ?? 0)), from: .sysfs("/sys/kernel/mm/hugepages/hugepages-\(kB)kB/nr_hugepages")),
                           Evidence("pages free", .count(Int(clamping: pool.free ?? 0)), from: .sysfs("/sys/kernel/mm/hugepages/hugepages-\(kB)kB/free_hugepages")),
                           Evidence("share of host memory", .percent(share * 100), from: .derived("reserved / MemTotal"))],
                remedies: [Remedy(.sysfs(path: "/sys/kernel/mm/hugepages/hugepages-\(kB)kB/nr_hugepages", value: "0"), applies: .live, "release the pool"),
                           Remedy(.manual("Remove hugepages=/hugepagesz= from the kernel command line and any vm.nr_hugepages in /etc/sysctl.d."), applies: .hostReboot, "stop reserving it at boot")],
                source: RuleSource(RuleReference.hugetlb, threshold: "reserved pages with no guest requesting the size")))
        }
        return out
    }

    static func numaBalancing(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        guard let v = input.host?.sysctls?.numaBalancing, v != 0 else { return [] }
        let active = input.activeGuests
        let pinned = active.filter(\.definition.isPinned)
        guard !pinned.isEmpty else { return [] }
        return [Finding(
            id: .hostNUMABalancingPinnedGuests, severity: pinned.count == active.count ? .warning : .info, subject: .host(name: input.hostName),
            title: "Automatic NUMA balancing is on while \(pinned.count) of \(plural(active.count, "active guest")) are pinned",
            explanation: "NUMA balancing unmaps guest memory periodically to sample accesses (hinting faults) and migrates pages; for pinned guests whose placement is already decided this is pure overhead and latency.",
            evidence: [Evidence("kernel.numa_balancing", .count(v), from: .procfs("/proc/sys/kernel/numa_balancing")),
                       Evidence("pinned guests", .text(pinned.map(\.reference.name).joined(separator: ", ")), from: .domainXML("cputune/vcpupin, vcpu/@cpuset"))],
            remedies: [Remedy(.sysctl(name: "kernel.numa_balancing", value: "0"), applies: .live, "turn automatic NUMA balancing off (persist in /etc/sysctl.d)")],
            source: RuleSource(RuleReference.numaBalancing))]
    }

    static func blockScheduler(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        guard let devices = input.host?.block?.devices else { return [] }
        var users: [String: [String]] = [:]
        for g in input.activeGuests {
            for d in g.definition.disks {
                let name = d.hostBlockDevice ?? (d.isBlockBacked ? d.sourcePath.map { String($0.split(separator: "/").last ?? "") } : nil)
                if let name, !name.isEmpty { users[name, default: []].append("\(g.reference.name):\(d.target)") }
            }
        }
        var out: [Finding] = []
        for dev in devices where users[dev.name] != nil {
            guard dev.name.hasPrefix("nvme") || dev.name.hasPrefix("vd"), let active = dev.scheduler?.active, active != "none" else { continue }
            out.append(Finding(
                id: .hostBlockScheduler, severity: .warning, subject: .host(name: input.hostName),
                title: "\(dev.name) backs guest disks but uses the \(active) I/O scheduler",
                explanation: "NVMe and virtio devices queue in hardware (or in the hypervisor below); an extra elevator adds CPU cost and latency per request without reordering benefit.",
                evidence: [Evidence("\(dev.name) scheduler", .text(active), from: .sysfs("/sys/block/\(dev.name)/queue/scheduler")),
                           Evidence("guest disks on it", .text((users[dev.name] ?? []).joined(separator: ", ")), from: .domainXML("devices/disk/source"))],
                remedies: [Remedy(.sysfs(path: "/sys/block/\(dev.name)/queue/scheduler", value: "none"), applies: .live, "switch to none"),
                           Remedy(.manual("Persist with a udev rule: ACTION==\"add|change\", KERNEL==\"\(dev.name.hasPrefix("nvme") ? "nvme[0-9]*n[0-9]*" : "vd[a-z]*")\", ATTR{queue/scheduler}=\"none\"."), applies: .manual, "keep it across reboots")],
                source: RuleSource(RuleReference.blockScheduler, threshold: "scheduler ≠ none")))
        }
        return out
    }

    static func vhostNet(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        guard let kvm = input.host?.kvm, !kvm.vhostNet.present else { return [] }
        let users = input.guests.filter { $0.definition.interfaces.contains(where: \.isVirtio) }
        guard !users.isEmpty else { return [] }
        return [Finding(
            id: .hostVhostNetMissing, severity: .warning, subject: .host(name: input.hostName),
            title: "/dev/vhost-net is missing; \(plural(users.count, "guest")) with virtio-net",
            explanation: "Without vhost-net, QEMU moves every packet through its own userspace thread: higher latency, lower throughput, more host CPU.",
            evidence: [Evidence("/dev/vhost-net present", .flag(false), from: .system(kvm.vhostNet.path)),
                       Evidence("vhost_net module", .flag(kvm.vhostNetModule), from: .sysfs("/sys/module/vhost_net")),
                       Evidence("guests with virtio-net", .text(users.map(\.reference.name).joined(separator: ", ")), from: .domainXML("devices/interface/model[@type='virtio']"))],
            remedies: [Remedy(.manual("modprobe vhost_net; echo vhost_net > /etc/modules-load.d/vhost_net.conf; restart the guests to use it."), applies: .manual, "load the vhost_net module")],
            source: RuleSource(RuleReference.vhostNet))]
    }

    static func kvmUnusable(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        guard let kvm = input.host?.kvm else { return [] }
        let missing = !kvm.device.present
        guard missing || kvm.usable == false else { return [] }
        var evidence = [Evidence("/dev/kvm present", .flag(kvm.device.present), from: .system(kvm.device.path))]
        if let ok = kvm.createVMSucceeded { evidence.append(Evidence("KVM_CREATE_VM succeeded", .flag(ok), from: .system("ioctl(/dev/kvm, KVM_CREATE_VM)"))) }
        if let api = kvm.apiVersion { evidence.append(Evidence("KVM API version", .count(api), from: .system("ioctl(/dev/kvm, KVM_GET_API_VERSION)"))) }
        if let err = kvm.liveCheckError { evidence.append(Evidence("error", .text(err), from: .system("open/ioctl /dev/kvm"))) }
        let kvmGuests = input.guests.filter { $0.definition.domainType == "kvm" }
        if !kvmGuests.isEmpty { evidence.append(Evidence("guests of type kvm", .count(kvmGuests.count), from: .domainXML("domain/@type"))) }
        return [Finding(
            id: .hostKVMUnusable, severity: .critical, subject: .host(name: input.hostName),
            title: missing ? "/dev/kvm does not exist" : "KVM does not work here (KVM_CREATE_VM failed)",
            explanation: "Guests of type 'kvm' cannot start; guests of type 'qemu' run under TCG emulation, 10 to 100 times slower.",
            evidence: evidence,
            remedies: [Remedy(.manual("Enable VT-x/AMD-V in the firmware (or nested virtualization on the outer hypervisor), then modprobe kvm_intel or kvm_amd."), applies: .manual, "make hardware virtualization available")],
            source: RuleSource(RuleReference.kvm))]
    }

    static func iommuOff(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        guard let kvm = input.host?.kvm, !kvm.iommu.enabled else { return [] }
        let users = input.guests.filter { $0.definition.pciHostdevs > 0 }
        guard !users.isEmpty else { return [] }
        let intel = kvm.iommu.dmarTable || (input.host?.topology?.cpuinfo?.vendor == "GenuineIntel")
        return [Finding(
            id: .hostIOMMUOff, severity: .critical, subject: .host(name: input.hostName),
            title: "No IOMMU groups, but \(plural(users.count, "guest")) with PCI host devices",
            explanation: "VFIO device assignment needs an active IOMMU; these guests fail to start (or to hot-plug their devices).",
            evidence: [Evidence("IOMMU groups", .count(0), from: .sysfs("/sys/kernel/iommu_groups")),
                       Evidence("DMAR table", .flag(kvm.iommu.dmarTable), from: .sysfs("/sys/firmware/acpi/tables/DMAR")),
                       Evidence("IVRS table", .flag(kvm.iommu.ivrsTable), from: .sysfs("/sys/firmware/acpi/tables/IVRS")),
                       Evidence("guests with PCI host devices", .text(users.map(\.reference.name).joined(separator: ", ")), from: .domainXML("devices/hostdev[@type='pci']"))],
            remedies: intel
                ? [Remedy(.kernelCommandLine(add: ["intel_iommu=on"], remove: []), applies: .hostReboot, "turn on the Intel IOMMU (VT-d must be enabled in firmware)")]
                : [Remedy(.manual("Enable the IOMMU (AMD-Vi / VT-d) in the firmware; AMD kernels turn it on by default."), applies: .manual, "enable the IOMMU in firmware")],
            source: RuleSource(RuleReference.iommu))]
    }
}
