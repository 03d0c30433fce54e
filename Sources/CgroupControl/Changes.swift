import VirtCore

// "No limit" is VirtCore's `Limit.unlimited`; cgroup files spell it `max` (v2) or `-1` (v1),
// translated here and nowhere else.
extension Limit where Value == UInt64 {
    /// `max`, or a number; nil for anything else.
    init?(cgroupText text: String) {
        let t = text.trimmingASCIIWhitespace()
        if t == "max" { self = .unlimited; return }
        guard let v = UInt64(t) else { return nil }
        self = .limited(v)
    }
}

extension Limit {
    /// How a cgroup v2 file spells it: `max` or the number `raw` gives.
    func cgroupText(_ raw: (Value) -> UInt64) -> String {
        switch self { case .unlimited: "max"; case .limited(let v): "\(raw(v))" }
    }
}

extension Duration {
    /// Whole microseconds, or nil when negative, fractional or beyond `Int64`.
    var exactMicroseconds: Int64? {
        let (s, atto) = components
        guard s >= 0, atto >= 0, atto % 1_000_000_000_000 == 0 else { return nil }
        let (us, o1) = s.multipliedReportingOverflow(by: 1_000_000)
        let (sum, o2) = us.addingReportingOverflow(atto / 1_000_000_000_000)
        return o1 || o2 ? nil : sum
    }
}

/// Per-device I/O limits; nil fields are left unchanged.
public struct IOLimits: Hashable, Sendable, Codable {
    /// `rbps` / `read_bps_device`.
    public var readBytesPerSecond: Limit<UInt64>?
    /// `wbps` / `write_bps_device`.
    public var writeBytesPerSecond: Limit<UInt64>?
    /// `riops` / `read_iops_device`.
    public var readIOPS: Limit<UInt64>?
    /// `wiops` / `write_iops_device`.
    public var writeIOPS: Limit<UInt64>?
    public init(readBytesPerSecond: Limit<UInt64>? = nil, writeBytesPerSecond: Limit<UInt64>? = nil, readIOPS: Limit<UInt64>? = nil, writeIOPS: Limit<UInt64>? = nil) {
        self.readBytesPerSecond = readBytesPerSecond
        self.writeBytesPerSecond = writeBytesPerSecond
        self.readIOPS = readIOPS
        self.writeIOPS = writeIOPS
    }
    /// (io.max key, v1 blkio file, value) for the set fields.
    var fields: [(key: String, v1File: String, value: Limit<UInt64>)] {
        var out: [(String, String, Limit<UInt64>)] = []
        if let v = readBytesPerSecond { out.append(("rbps", "blkio.throttle.read_bps_device", v)) }
        if let v = writeBytesPerSecond { out.append(("wbps", "blkio.throttle.write_bps_device", v)) }
        if let v = readIOPS { out.append(("riops", "blkio.throttle.read_iops_device", v)) }
        if let v = writeIOPS { out.append(("wiops", "blkio.throttle.write_iops_device", v)) }
        return out
    }
}

/// cgroup v2 `cpuset.cpus.partition`.
public enum CpusetPartition: Hashable, Sendable, Codable, CustomStringConvertible {
    case member, root, isolated
    case other(String)
    public init(rawValue: String) {
        // The kernel appends a reason to invalid states: "root invalid (…)".
        switch rawValue.trimmingASCIIWhitespace() {
        case "member": self = .member
        case "root": self = .root
        case "isolated": self = .isolated
        case let s: self = .other(s)
        }
    }
    public var rawValue: String {
        switch self { case .member: "member"; case .root: "root"; case .isolated: "isolated"; case .other(let s): s }
    }
    public var description: String { rawValue }
}

/// One change to a cgroup, the same on v1 and v2; `CgroupSystem.plan` turns it into the
/// file writes of the host's version.
public enum CgroupChange: Hashable, Sendable, Codable, CustomStringConvertible {
    /// v2 weight, 1…10000 (default 100). v1: `cpu.shares = weight × 1024 / 100`, the
    /// kernel's own equivalence (`sched_weight_from_cgroup`), so default 100 ↔ 1024.
    case cpuWeight(Int)
    /// libvirt's `cpu_shares` in v1 units, 2…262144. v2: `cpu.weight = shares × 100 / 1024`,
    /// clamped to 1…10000.
    case cpuShares(Int)
    /// Quota per period, in whole microseconds: libvirt's range 1 ms…17592186044415 µs or
    /// unlimited; period 1 ms…1 s, nil to keep the current one. v2 `cpu.max`; v1
    /// `cpu.cfs_period_us` then `cpu.cfs_quota_us`.
    case cpuBandwidth(quota: Limit<Duration>, period: Duration?)
    /// Burst above the quota (whole µs): v2 `cpu.max.burst`, v1 `cpu.cfs_burst_us`.
    case cpuBurst(Duration)
    /// `cpuset.cpus`; must be within the parent's effective CPUs.
    case cpusetCPUs(CPUSet)
    /// `cpuset.mems`; must be within the parent's effective nodes.
    case cpusetMems(NodeSet)
    /// v2 only: `cpuset.cpus.partition`.
    case cpusetPartition(CpusetPartition)
    /// v2 `memory.max`, v1 `memory.limit_in_bytes` (libvirt `hard_limit`).
    case memoryMax(Limit<MemorySize>)
    /// v2 `memory.high`, v1 `memory.soft_limit_in_bytes` (libvirt `soft_limit`).
    case memoryHigh(Limit<MemorySize>)
    /// v2 only: `memory.low`.
    case memoryLow(Limit<MemorySize>)
    /// v2 only: `memory.min`.
    case memoryMin(Limit<MemorySize>)
    /// Swap alone: v2 `memory.swap.max`; v1 `memory.memsw.limit_in_bytes` = memory max + swap.
    case swapMax(Limit<MemorySize>)
    /// v2 `io.weight` (`default N`, 1…10000); v1 `blkio.weight` (10…1000).
    case ioWeight(Int)
    /// Per-device throttles: v2 `io.max`; v1 `blkio.throttle.{read,write}_{bps,iops}_device`.
    case ioLimit(DeviceNumber, IOLimits)
    /// `pids.max`.
    case pidsMax(Limit<Int>)

    /// The knob's name in messages and dry-run output.
    public var knob: String {
        switch self {
        case .cpuWeight: "cpu weight"
        case .cpuShares: "cpu shares"
        case .cpuBandwidth: "cpu quota"
        case .cpuBurst: "cpu burst"
        case .cpusetCPUs: "cpuset cpus"
        case .cpusetMems: "cpuset mems"
        case .cpusetPartition: "cpuset partition"
        case .memoryMax: "memory max"
        case .memoryHigh: "memory high"
        case .memoryLow: "memory low"
        case .memoryMin: "memory min"
        case .swapMax: "swap max"
        case .ioWeight: "io weight"
        case .ioLimit: "io limit"
        case .pidsMax: "pids max"
        }
    }

    public var description: String {
        switch self {
        case .cpuWeight(let w): "cpu weight \(w)"
        case .cpuShares(let s): "cpu shares \(s)"
        case .cpuBandwidth(let q, let p): "cpu quota \(q)" + (p.map { "/\($0)" } ?? "")
        case .cpuBurst(let b): "cpu burst \(b)"
        case .cpusetCPUs(let c): "cpuset cpus \(c.listString)"
        case .cpusetMems(let m): "cpuset mems \(m.listString)"
        case .cpusetPartition(let p): "cpuset partition \(p)"
        case .memoryMax(let l): "memory max \(l)"
        case .memoryHigh(let l): "memory high \(l)"
        case .memoryLow(let l): "memory low \(l)"
        case .memoryMin(let l): "memory min \(l)"
        case .swapMax(let l): "swap max \(l)"
        case .ioWeight(let w): "io weight \(w)"
        case .ioLimit(let d, let l): "io limit \(d) " + l.fields.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        case .pidsMax(let l): "pids max \(l)"
        }
    }
}

/// libvirt's documented ranges (formatdomain.html, `<cputune>`, `<memtune>`, `<blkiotune>`).
public enum LibvirtRanges {
    public static let cpuShares: ClosedRange<Int> = 2...262_144
    public static let cpuWeight: ClosedRange<Int> = 1...10_000
    public static let cpuPeriod: ClosedRange<Duration> = .microseconds(1_000) ... .microseconds(1_000_000)
    public static let cpuQuota: ClosedRange<Duration> = .microseconds(1_000) ... .microseconds(17_592_186_044_415)
    /// `VIR_DOMAIN_MEMORY_PARAM_UNLIMITED` KiB.
    public static let memoryMax = MemorySize.kibibytes(9_007_199_254_740_991)
    public static let blkioWeightV1: ClosedRange<Int> = 10...1_000
    public static let ioWeightV2: ClosedRange<Int> = 1...10_000
    /// The kernel's `PID_MAX_LIMIT`.
    public static let pidsMax = 4_194_304
}

/// How the kernel converts between v1 shares and v2 weights.
public enum CPUWeightConversion {
    /// `cpu.shares` for a v2 weight (1…10000): `weight × 1024 / 100`, rounded; nil outside
    /// the kernel's weight range.
    public static func shares(fromWeight w: Int) -> Int? {
        guard LibvirtRanges.cpuWeight.contains(w) else { return nil }
        return (w * 1024 + 50) / 100
    }
    /// `cpu.weight` for v1 shares: `shares × 100 / 1024`, rounded, clamped to 1…10000; nil
    /// for shares outside the kernel's range 2…262144 (`MAX_SHARES`), never a trap.
    public static func weight(fromShares s: Int) -> Int? {
        guard (2...262_144).contains(s) else { return nil }
        return min(10_000, max(1, (s * 100 + 512) / 1024))
    }
}

extension CpusetPartition {
    public init(from decoder: Decoder) throws { self.init(rawValue: try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(rawValue) }
}

