import VirtCore

/// Kernel tunables from `/proc/sys`. JSON key `sysctls`.
public struct SysctlInfo: Sendable, Hashable, Codable {
    /// `name` (dotted, `vm.swappiness`) → value as the kernel prints it, whitespace
    /// collapsed (`net.ipv4.ip_local_port_range` = `"32768 60999"`).
    public var values: [String: String]

    public subscript(name: String) -> String? { values[name] }
    public func int(_ name: String) -> Int? { values[name].flatMap { Int($0) } }

    public var swappiness: Int? { int("vm.swappiness") }
    public var overcommitMemory: Int? { int("vm.overcommit_memory") }
    public var numaBalancing: Int? { int("kernel.numa_balancing") }
    public var ipForward: Bool? { int("net.ipv4.ip_forward").map { $0 != 0 } }
}

/// Reads any sysctl under a root: `vm.swappiness` → `/proc/sys/vm/swappiness`.
public enum Sysctl {
    /// The tunables that matter for KVM hosts, read by every probe.
    public static let virtualizationSet: [String] = [
        "vm.swappiness", "vm.overcommit_memory", "vm.overcommit_ratio", "vm.overcommit_kbytes",
        "vm.dirty_ratio", "vm.dirty_background_ratio", "vm.dirty_bytes", "vm.dirty_background_bytes",
        "vm.dirty_expire_centisecs", "vm.dirty_writeback_centisecs",
        "vm.nr_hugepages", "vm.nr_overcommit_hugepages", "vm.hugetlb_shm_group",
        "vm.max_map_count", "vm.min_free_kbytes", "vm.zone_reclaim_mode", "vm.vfs_cache_pressure",
        "vm.stat_interval", "vm.compaction_proactiveness", "vm.watermark_scale_factor",
        "kernel.numa_balancing", "kernel.sched_autogroup_enabled", "kernel.nmi_watchdog",
        "kernel.watchdog", "kernel.randomize_va_space", "kernel.pid_max", "kernel.threads-max",
        "kernel.sched_rt_runtime_us", "kernel.timer_migration", "kernel.perf_event_paranoid",
        "fs.aio-max-nr", "fs.file-max", "fs.inotify.max_user_watches",
        "net.core.somaxconn", "net.core.netdev_max_backlog", "net.core.rmem_max", "net.core.wmem_max",
        "net.core.default_qdisc", "net.core.busy_poll", "net.core.busy_read",
        "net.ipv4.tcp_congestion_control", "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding",
        "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem", "net.ipv4.ip_local_port_range",
        "net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables",
        "net.bridge.bridge-nf-call-arptables",
    ]

    /// `/proc/sys/…` path of a dotted name. Dots become slashes; a name written with
    /// slashes already (`net/ipv4/conf/eth0.100/forwarding`) is kept, as sysctl(8) does.
    public static func path(of name: String) -> String {
        "/proc/sys/" + (name.contains("/") ? name : name.replacingDots())
    }

    /// Reads one sysctl under `root` (synchronous; one `open`/`read`/`close`).
    public static func read(_ name: String, root: ProbeRoot = .live) -> Result<String, ReadFailure> {
        let comps = (name.contains("/") ? name : name.replacingDots()).split(separator: "/", omittingEmptySubsequences: false)
        if comps.isEmpty || comps.contains(where: { $0.isEmpty || $0 == ".." || $0 == "." }) {
            return .failure(.garbled("'\(name)' is not a sysctl name"))
        }
        let reader = SourceReader(root: root)
        return reader.read(path(of: name)).map(normalizeValue)
    }

    static func normalizeValue(_ s: String) -> String {
        s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).joined(separator: " ")
    }
}

extension String {
    func replacingDots() -> String { String(map { $0 == "." ? "/" : $0 }) }
}

extension HostProber {
    static func probeSysctls(_ ctx: ProbeContext, extra: [String]) -> SysctlInfo {
        var values: [String: String] = [:]
        for name in Sysctl.virtualizationSet + extra {
            let p = Sysctl.path(of: name)
            switch ctx.reader.read(p) {
            case .success(let s): values[name] = Sysctl.normalizeValue(s)
            // A sysctl that the running kernel lacks (no bridge module, no NUMA balancing)
            // is not a fault; anything else is.
            case .failure(.missing) where !extra.contains(name): break
            case .failure(let f): ctx.note("sysctl \(name)", p, f)
            }
        }
        return SysctlInfo(values: values)
    }
}
