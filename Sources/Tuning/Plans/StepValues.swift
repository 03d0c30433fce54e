import CgroupControl
import Foundation
import Libvirt
import VirtCore

// Scheduler and memory parameter steps carry Libvirt's `SchedulerParameters` and
// `MemoryParameters` (Codable: typed fields only). A step's `before` holds the values it
// replaces for exactly the fields its `after` sets, so an undo touches nothing else.

extension SchedulerParameters {
    /// The set fields by libvirt name.
    var fields: [(name: String, value: String)] {
        var out: [(String, String)] = []
        func add(_ n: String, _ v: (some CustomStringConvertible)?) { if let v { out.append((n, v.description)) } }
        add("cpu_shares", cpuShares)
        add("vcpu_period", vcpuPeriod); add("vcpu_quota", vcpuQuota)
        add("emulator_period", emulatorPeriod); add("emulator_quota", emulatorQuota)
        add("global_period", globalPeriod); add("global_quota", globalQuota)
        add("iothread_period", iothreadPeriod); add("iothread_quota", iothreadQuota)
        return out
    }

    var isEmpty: Bool { fields.isEmpty }

    /// These values, only for the fields `other` sets (the `before` of a step setting `other`).
    public func restricted(to other: SchedulerParameters) -> SchedulerParameters {
        SchedulerParameters(
            cpuShares: other.cpuShares == nil ? nil : cpuShares, vcpuPeriod: other.vcpuPeriod == nil ? nil : vcpuPeriod,
            vcpuQuota: other.vcpuQuota == nil ? nil : vcpuQuota, emulatorPeriod: other.emulatorPeriod == nil ? nil : emulatorPeriod,
            emulatorQuota: other.emulatorQuota == nil ? nil : emulatorQuota, globalPeriod: other.globalPeriod == nil ? nil : globalPeriod,
            globalQuota: other.globalQuota == nil ? nil : globalQuota, iothreadPeriod: other.iothreadPeriod == nil ? nil : iothreadPeriod,
            iothreadQuota: other.iothreadQuota == nil ? nil : iothreadQuota)
    }

    /// These values with `other`'s set fields laid over them.
    func merging(_ other: SchedulerParameters) -> SchedulerParameters {
        SchedulerParameters(
            cpuShares: other.cpuShares ?? cpuShares, vcpuPeriod: other.vcpuPeriod ?? vcpuPeriod, vcpuQuota: other.vcpuQuota ?? vcpuQuota,
            emulatorPeriod: other.emulatorPeriod ?? emulatorPeriod, emulatorQuota: other.emulatorQuota ?? emulatorQuota,
            globalPeriod: other.globalPeriod ?? globalPeriod, globalQuota: other.globalQuota ?? globalQuota,
            iothreadPeriod: other.iothreadPeriod ?? iothreadPeriod, iothreadQuota: other.iothreadQuota ?? iothreadQuota)
    }

    /// One field by libvirt name from its text (`vcpu_quota=-1`, `cpu_shares=512`,
    /// `global_period=100000`; periods and quotas in µs as libvirt and virsh spell them).
    init(libvirtName name: String, value: String) throws(ReconfigurationError) {
        self.init()
        func micro() throws(ReconfigurationError) -> Duration {
            guard let us = UInt64(value), us <= UInt64(Int64.max) else { throw .invalid("\(name)=\(value): not a number of µs") }
            return .microseconds(Int64(us))
        }
        func quota() throws(ReconfigurationError) -> Limit<Duration> {
            if let n = Int64(value), n < 0 { return .unlimited }
            return .limited(try micro())
        }
        switch name {
        case "cpu_shares":
            guard let s = UInt64(value) else { throw .invalid("cpu_shares=\(value): not a number") }
            cpuShares = s
        case "vcpu_period": vcpuPeriod = try micro()
        case "vcpu_quota": vcpuQuota = try quota()
        case "emulator_period": emulatorPeriod = try micro()
        case "emulator_quota": emulatorQuota = try quota()
        case "global_period": globalPeriod = try micro()
        case "global_quota": globalQuota = try quota()
        case "iothread_period": iothreadPeriod = try micro()
        case "iothread_quota": iothreadQuota = try quota()
        default: throw .invalid("\(name): not a scheduler parameter VirtKit can set")
        }
    }

    /// libvirt's ranges (`<cputune>`): shares 2…262144, periods 1 ms…1 s, quotas 1 ms…2^44 µs or unlimited.
    func validate() throws(ReconfigurationError) {
        if let s = cpuShares, !(UInt64(LibvirtRanges.cpuShares.lowerBound)...UInt64(LibvirtRanges.cpuShares.upperBound)).contains(s) {
            throw .invalid("cpu_shares \(s) is outside \(LibvirtRanges.cpuShares)")
        }
        for (n, p) in [("vcpu_period", vcpuPeriod), ("emulator_period", emulatorPeriod), ("global_period", globalPeriod), ("iothread_period", iothreadPeriod)] {
            if let p, !LibvirtRanges.cpuPeriod.contains(p) { throw .invalid("\(n) \(p) is outside 1 ms…1 s") }
        }
        for (n, q) in [("vcpu_quota", vcpuQuota), ("emulator_quota", emulatorQuota), ("global_quota", globalQuota), ("iothread_quota", iothreadQuota)] {
            if case .limited(let d)? = q, !LibvirtRanges.cpuQuota.contains(d) { throw .invalid("\(n) \(d) is outside libvirt's 1 ms…17592186044415 µs") }
        }
    }

    /// True when `read` (what libvirt reports now) has every field this sets.
    func isMatched(by read: SchedulerParameters) -> Bool { read.restricted(to: self) == self }

    var summary: String { fields.map { "\($0.name)=\($0.value)" }.joined(separator: " ") }
}

extension MemoryParameters {
    /// One field by libvirt name (`hard_limit`, `soft_limit`, `swap_hard_limit`, `min_guarantee`).
    init(libvirtName name: String, value: Limit<MemorySize>) throws(ReconfigurationError) {
        self.init()
        switch name {
        case "hard_limit": hardLimit = value
        case "soft_limit": softLimit = value
        case "swap_hard_limit": swapHardLimit = value
        case "min_guarantee": minGuarantee = value
        default: throw .invalid("\(name): not a memory parameter VirtKit can set")
        }
    }

    var isEmpty: Bool { hardLimit == nil && softLimit == nil && swapHardLimit == nil && minGuarantee == nil }

    /// These values, only for the fields `other` sets.
    public func restricted(to other: MemoryParameters) -> MemoryParameters {
        MemoryParameters(hardLimit: other.hardLimit == nil ? nil : hardLimit, softLimit: other.softLimit == nil ? nil : softLimit,
                         swapHardLimit: other.swapHardLimit == nil ? nil : swapHardLimit,
                         minGuarantee: other.minGuarantee == nil ? nil : minGuarantee)
    }

    func merging(_ other: MemoryParameters) -> MemoryParameters {
        MemoryParameters(hardLimit: other.hardLimit ?? hardLimit, softLimit: other.softLimit ?? softLimit,
                         swapHardLimit: other.swapHardLimit ?? swapHardLimit, minGuarantee: other.minGuarantee ?? minGuarantee)
    }

    /// Whole KiB up to libvirt's maximum; swap_hard_limit (memory + swap) not below hard_limit,
    /// taking the current values for the fields this does not set.
    func validate(current: MemoryParameters) throws(ReconfigurationError) {
        for (n, l) in [("hard_limit", hardLimit), ("soft_limit", softLimit), ("swap_hard_limit", swapHardLimit), ("min_guarantee", minGuarantee)] {
            guard case .limited(let m)? = l else { continue }
            if m.bytes % 1024 != 0 { throw .invalid("\(n) \(m) is not a whole number of KiB") }
            if m > LibvirtRanges.memoryMax { throw .invalid("\(n) \(m) exceeds libvirt's maximum") }
            if m.bytes == 0 { throw .invalid("\(n) 0 would leave the guest no memory") }
        }
        let hard = hardLimit ?? current.hardLimit, swap = swapHardLimit ?? current.swapHardLimit
        if case .limited(let h)? = hard, case .limited(let s)? = swap, s < h {
            throw .invalid("swap_hard_limit \(s) is below hard_limit \(h) (it counts memory plus swap)")
        }
    }

    /// The kernel keeps limits in whole pages: a limit reads back rounded down to one.
    func isMatched(by read: MemoryParameters) -> Bool {
        func same(_ want: Limit<MemorySize>?, _ got: Limit<MemorySize>?) -> Bool {
            guard let want else { return true }
            switch (want, got) {
            case (.unlimited, .unlimited?): return true
            case (.limited(let w), .limited(let g)?):
                let page = UInt64(max(1, sysconf(Int32(_SC_PAGESIZE))))
                return g == w || g.bytes == w.bytes / page * page
            default: return false
            }
        }
        return same(hardLimit, read.hardLimit) && same(softLimit, read.softLimit)
            && same(swapHardLimit, read.swapHardLimit) && same(minGuarantee, read.minGuarantee)
    }

    var summary: String {
        var out: [String] = []
        if let v = hardLimit { out.append("hard_limit=\(v)") }
        if let v = softLimit { out.append("soft_limit=\(v)") }
        if let v = swapHardLimit { out.append("swap_hard_limit=\(v)") }
        if let v = minGuarantee { out.append("min_guarantee=\(v)") }
        return out.joined(separator: " ")
    }
}

/// Which cgroup a cgroup step writes: one of its guest's (re-found from the running QEMU
/// when applied) or a host cgroup by path.
public struct CgroupTarget: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Part: Sendable, Hashable, Codable, CustomStringConvertible {
        case top, emulator, vcpu(Int), iothread(Int)
        public var description: String {
            switch self {
            case .top: "top"
            case .emulator: "emulator"
            case .vcpu(let n): "vcpu\(n)"
            case .iothread(let n): "iothread\(n)"
            }
        }
    }
    /// The guest's cgroup (the step's domain), or nil for `cgroup` as given.
    public var part: Part?
    /// The cgroup as found when planned (its directory per hierarchy).
    public var cgroup: Cgroup

    public init(part: Part?, cgroup: Cgroup) {
        self.part = part
        self.cgroup = cgroup
    }

    public var description: String { part.map { "\($0) cgroup" } ?? "cgroup \(cgroup.displayPath)" }

    /// `part` of a guest's cgroup tree.
    func resolve(in tree: GuestCgroups) -> Cgroup? {
        switch part {
        case nil: cgroup
        case .top: tree.top
        case .emulator: tree.emulator
        case .vcpu(let n): tree.vcpus[n]
        case .iothread(let n): tree.iothreads[n]
        }
    }
}

extension CgroupChange {
    /// The change that puts back what `settings` shows for this knob, or nil when the current
    /// value cannot be written back exactly (an empty v2 cpuset: "inherit" has no change).
    func restoring(from s: CgroupSettings) -> CgroupChange? {
        switch self {
        case .cpuWeight, .cpuShares:
            if let shares = s.cpuShares { return .cpuShares(shares) }   // v1: exact, no weight rounding
            return s.cpuWeight.map(CgroupChange.cpuWeight)
        case .cpuBandwidth:
            guard let q = s.cpuQuota else { return nil }
            return .cpuBandwidth(quota: q, period: s.cpuPeriod)
        case .cpuBurst: return s.cpuBurst.map(CgroupChange.cpuBurst)
        case .cpusetCPUs: return s.cpusetCPUs.flatMap { $0.isEmpty ? nil : .cpusetCPUs($0) }
        case .cpusetMems: return s.cpusetMems.flatMap { $0.isEmpty ? nil : .cpusetMems($0) }
        case .cpusetPartition: return s.cpusetPartition.map(CgroupChange.cpusetPartition)
        case .memoryMax: return s.memoryMax.map(CgroupChange.memoryMax)
        case .memoryHigh: return s.memoryHigh.map(CgroupChange.memoryHigh)
        case .memoryLow: return s.memoryLow.map(CgroupChange.memoryLow)
        case .memoryMin: return s.memoryMin.map(CgroupChange.memoryMin)
        case .swapMax: return s.swapMax.map(CgroupChange.swapMax)
        case .ioWeight: return s.ioWeight.map(CgroupChange.ioWeight)
        case .ioLimit(let dev, let want):
            guard let all = s.ioLimits else { return nil }
            let have = all.first { $0.device == dev }?.limits ?? IOLimits()
            // Fields without a line had no limit.
            return .ioLimit(dev, IOLimits(
                readBytesPerSecond: want.readBytesPerSecond.map { _ in have.readBytesPerSecond ?? .unlimited },
                writeBytesPerSecond: want.writeBytesPerSecond.map { _ in have.writeBytesPerSecond ?? .unlimited },
                readIOPS: want.readIOPS.map { _ in have.readIOPS ?? .unlimited },
                writeIOPS: want.writeIOPS.map { _ in have.writeIOPS ?? .unlimited }))
        case .pidsMax: return s.pidsMax.map(CgroupChange.pidsMax)
        }
    }

    /// A remedy's `file` and `value` as a change (v2 and v1 file names), nil for files
    /// CgroupControl does not model.
    init?(file: String, value: String) {
        let v = value.trimmingASCIIWhitespace()
        func limit() -> Limit<MemorySize>? {
            if v == "max" || v == "-1" { return .unlimited }
            return UInt64(v).map { .limited(MemorySize(bytes: $0)) }
        }
        switch file {
        case "cpu.weight": guard let n = Int(v) else { return nil }; self = .cpuWeight(n)
        case "cpu.shares": guard let n = Int(v) else { return nil }; self = .cpuShares(n)
        case "cpu.max":
            let f = v.split(separator: " ")
            guard let first = f.first else { return nil }
            let quota: Limit<Duration>
            if first == "max" { quota = .unlimited } else if let q = Int64(first), q > 0 { quota = .limited(.microseconds(q)) } else { return nil }
            var period: Duration?
            if f.count > 1 { guard let p = Int64(f[1]) else { return nil }; period = .microseconds(p) }
            self = .cpuBandwidth(quota: quota, period: period)
        case "cpu.cfs_quota_us":
            guard let q = Int64(v) else { return nil }
            self = .cpuBandwidth(quota: q < 0 ? .unlimited : .limited(.microseconds(q)), period: nil)
        case "cpuset.cpus": guard let c = try? CPUSet(parsing: v) else { return nil }; self = .cpusetCPUs(c)
        case "cpuset.mems": guard let n = try? NodeSet(parsing: v) else { return nil }; self = .cpusetMems(n)
        case "memory.max", "memory.limit_in_bytes": guard let l = limit() else { return nil }; self = .memoryMax(l)
        case "memory.high", "memory.soft_limit_in_bytes": guard let l = limit() else { return nil }; self = .memoryHigh(l)
        case "memory.low": guard let l = limit() else { return nil }; self = .memoryLow(l)
        case "memory.min": guard let l = limit() else { return nil }; self = .memoryMin(l)
        case "memory.swap.max": guard let l = limit() else { return nil }; self = .swapMax(l)
        case "pids.max":
            if v == "max" { self = .pidsMax(.unlimited) } else if let n = Int(v) { self = .pidsMax(.limited(n)) } else { return nil }
        default: return nil
        }
    }
}

/// A host kernel tunable: a sysctl (`/proc/sys/…`) or a sysfs attribute (`/sys/…`), read and
/// written under a root (`/` live, a directory in tests) through CgroupFS's rooted, single-`write(2)` file access.
enum HostKnobFile {
    /// `/proc/sys/vm/swappiness` for `vm.swappiness` (or `vm/swappiness`); nil for a name
    /// that is not a plain sysctl path.
    static func sysctlPath(_ name: String) -> String? {
        let slashed = name.contains("/") ? name : name.replacingOccurrences(of: ".", with: "/")
        let parts = slashed.split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }),
              slashed.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-./".contains($0)) }) else { return nil }
        return "/proc/sys/" + slashed
    }

    /// A sysfs path: absolute, under `/sys/`, no `.`/`..` components.
    static func isSysfsPath(_ path: String) -> Bool {
        guard path.hasPrefix("/sys/") else { return false }
        return path.split(separator: "/").allSatisfy { $0 != "." && $0 != ".." } && !path.contains("\0")
    }

    /// Whitespace runs as one space (the kernel prints multi-value sysctls with tabs).
    static func normalized(_ s: String) -> String {
        s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).joined(separator: " ")
    }

    /// A sysfs choice list (`always [madvise] never`): the choices and the selected one.
    static func choices(_ raw: String) -> (all: [String], selected: String)? {
        let words = normalized(raw).split(separator: " ").map(String.init)
        guard let sel = words.first(where: { $0.hasPrefix("[") && $0.hasSuffix("]") }) else { return nil }
        return (words.map { $0.hasPrefix("[") && $0.hasSuffix("]") ? String($0.dropFirst().dropLast()) : $0 }, String(sel.dropFirst().dropLast()))
    }

    /// The current value as a step records it: a choice file's selected word, else the
    /// normalized text.
    static func value(of raw: String) -> String { choices(raw)?.selected ?? normalized(raw) }

    static func read(_ path: String, root: String) async throws -> String {
        let fs = CgroupFS(root: root)
        return try await BlockingThreadPool.fileIO.run { () throws -> String in try fs.read(path) }
    }

    static func write(_ path: String, _ value: String, root: String) async throws {
        let fs = CgroupFS(root: root)
        try await BlockingThreadPool.fileIO.run { () throws -> Void in try fs.write(path, value + "\n") }
    }

    /// Ranges of the sysctls the diagnosis proposes (kernel `Documentation/admin-guide/sysctl/`).
    static let sysctlRanges: [String: ClosedRange<Int64>] = [
        "vm/swappiness": 0...200,
        "kernel/numa_balancing": 0...3,
        "vm/overcommit_memory": 0...2,
        "vm/dirty_ratio": 0...100,
        "vm/dirty_background_ratio": 0...100,
        "vm/nr_hugepages": 0...Int64.max,
        "vm/zone_reclaim_mode": 0...7,
        "kernel/sched_autogroup_enabled": 0...1,
    ]

    /// Checks `after` for a file currently holding `current`: one line, no control
    /// characters; a numeric value stays numeric with as many fields; known ranges; a
    /// choice file's value is one of its choices.
    static func validate(path: String, current: String, after: String) throws(ReconfigurationError) {
        if after.isEmpty || after.contains(where: { $0.isNewline || ($0.asciiValue.map { $0 < 0x20 && $0 != 0x09 } ?? false) }) {
            throw .invalid("\(path): '\(after)' is not a single-line value")
        }
        if let c = choices(current) {
            guard c.all.contains(after) else { throw .invalid("\(path): '\(after)' is not one of \(c.all.joined(separator: ", "))") }
            return
        }
        let now = normalized(current).split(separator: " "), new = normalized(after).split(separator: " ")
        if !now.isEmpty, now.allSatisfy({ Int64($0) != nil }) {
            guard new.count == now.count, new.allSatisfy({ Int64($0) != nil }) else {
                throw .invalid("\(path): '\(after)' must be \(now.count) integer(s) like '\(normalized(current))'")
            }
        }
        let key = path.hasPrefix("/proc/sys/") ? String(path.dropFirst("/proc/sys/".count)) : ""
        if let range = sysctlRanges[key], let n = Int64(after.trimmingASCIIWhitespace()), !range.contains(n) {
            throw .invalid("\(path): \(n) is outside \(range.lowerBound)…\(range.upperBound)")
        }
    }

    /// Whether the file now reads as `after`.
    static func matches(_ raw: String, _ after: String) -> Bool {
        if let c = choices(raw) { return c.selected == after }
        return normalized(raw) == normalized(after)
    }
}
