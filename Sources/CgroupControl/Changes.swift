import VirtCore

/// A limit that can be lifted: cgroup files spell "no limit" `max` (v2) or `-1` (v1).
public enum Limit: Hashable, Sendable, Codable, CustomStringConvertible {
    case max
    case value(UInt64)

    public var description: String {
        switch self { case .max: "max"; case .value(let v): "\(v)" }
    }

    /// `max`, or a number; nil for anything else.
    public init?(parsing text: String) {
        let t = text.trimmingASCIIWhitespace()
        if t == "max" { self = .max; return }
        guard let v = UInt64(t) else { return nil }
        self = .value(v)
    }
}

/// A CPU bandwidth quota per period.
public enum CPUQuota: Hashable, Sendable, Codable, CustomStringConvertible {
    case unlimited
    case microseconds(Int64)
    public var description: String {
        switch self { case .unlimited: "max"; case .microseconds(let v): "\(v)" }
    }
}

/// Per-device I/O limits; nil fields are left unchanged.
public struct IOLimits: Hashable, Sendable, Codable {
    /// `rbps` / `read_bps_device`.
    public var readBytesPerSecond: Limit?
    /// `wbps` / `write_bps_device`.
    public var writeBytesPerSecond: Limit?
    /// `riops` / `read_iops_device`.
    public var readIOPS: Limit?
    /// `wiops` / `write_iops_device`.
    public var writeIOPS: Limit?
    public init(readBytesPerSecond: Limit? = nil, writeBytesPerSecond: Limit? = nil, readIOPS: Limit? = nil, writeIOPS: Limit? = nil) {
        self.readBytesPerSecond = readBytesPerSecond
        self.writeBytesPerSecond = writeBytesPerSecond
        self.readIOPS = readIOPS
        self.writeIOPS = writeIOPS
    }
    /// (io.max key, v1 blkio file, value) for the set fields.
    var fields: [(key: String, v1File: String, value: Limit)] {
        var out: [(String, String, Limit)] = []
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
public enum CgroupChange: Hashable, Sendable, CustomStringConvertible {
    /// v2 weight, 1…10000 (default 100). v1: `cpu.shares = weight × 1024 / 100`, the
    /// kernel's own equivalence (`sched_weight_from_cgroup`), so default 100 ↔ 1024.
    case cpuWeight(Int)
    /// libvirt's `cpu_shares` in v1 units, 2…262144. v2: `cpu.weight = shares × 100 / 1024`,
    /// clamped to 1…10000.
    case cpuShares(Int)
    /// Quota per period (µs): libvirt's range 1000…17592186044415 or unlimited; period
    /// 1000…1000000, nil to keep the current one. v2 `cpu.max`; v1 `cpu.cfs_period_us`
    /// then `cpu.cfs_quota_us`.
    case cpuBandwidth(quota: CPUQuota, periodMicroseconds: Int64?)
    /// Burst (µs) above the quota: v2 `cpu.max.burst`, v1 `cpu.cfs_burst_us`.
    case cpuBurst(microseconds: Int64)
    /// `cpuset.cpus`; must be within the parent's effective CPUs.
    case cpusetCPUs(CPUSet)
    /// `cpuset.mems`; must be within the parent's effective nodes.
    case cpusetMems(NodeSet)
    /// v2 only: `cpuset.cpus.partition`.
    case cpusetPartition(CpusetPartition)
    /// v2 `memory.max`, v1 `memory.limit_in_bytes` (libvirt `hard_limit`).
    case memoryMax(Limit)
    /// v2 `memory.high`, v1 `memory.soft_limit_in_bytes` (libvirt `soft_limit`).
    case memoryHigh(Limit)
    /// v2 only: `memory.low`.
    case memoryLow(Limit)
    /// v2 only: `memory.min`.
    case memoryMin(Limit)
    /// Swap alone: v2 `memory.swap.max`; v1 `memory.memsw.limit_in_bytes` = memory max + swap.
    case swapMax(Limit)
    /// v2 `io.weight` (`default N`, 1…10000); v1 `blkio.weight` (10…1000).
    case ioWeight(Int)
    /// Per-device throttles: v2 `io.max`; v1 `blkio.throttle.{read,write}_{bps,iops}_device`.
    case ioLimit(DeviceNumber, IOLimits)
    /// `pids.max`.
    case pidsMax(Limit)

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
    public static let cpuPeriod: ClosedRange<Int64> = 1_000...1_000_000
    public static let cpuQuota: ClosedRange<Int64> = 1_000...17_592_186_044_415
    /// `VIR_DOMAIN_MEMORY_PARAM_UNLIMITED` KiB, in bytes.
    public static let memoryMaxBytes: UInt64 = 9_007_199_254_740_991 * 1024
    public static let blkioWeightV1: ClosedRange<Int> = 10...1_000
    public static let ioWeightV2: ClosedRange<Int> = 1...10_000
    /// The kernel's `PID_MAX_LIMIT`.
    public static let pidsMax: UInt64 = 4_194_304
}

/// How the kernel converts between v1 shares and v2 weights.
public enum CPUWeightConversion {
    /// `cpu.shares` for a v2 weight: `weight × 1024 / 100`, rounded.
    public static func shares(fromWeight w: Int) -> Int { (w * 1024 + 50) / 100 }
    /// `cpu.weight` for v1 shares: `shares × 100 / 1024`, rounded, clamped to 1…10000.
    public static func weight(fromShares s: Int) -> Int { min(10_000, max(1, (s * 100 + 512) / 1024)) }
}

// JSON: "max" or a number, as the kernel files spell them.
extension Limit {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(UInt64.self) { self = .value(n); return }
        let s = try c.decode(String.self)
        guard let l = Limit(parsing: s) else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected 'max' or a number") }
        self = l
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self { case .max: try c.encode("max"); case .value(let n): try c.encode(n) }
    }
}

extension CPUQuota {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int64.self) { self = n < 0 ? .unlimited : .microseconds(n); return }
        guard try c.decode(String.self) == "max" else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected 'max' or µs") }
        self = .unlimited
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self { case .unlimited: try c.encode("max"); case .microseconds(let n): try c.encode(n) }
    }
}

extension CpusetPartition {
    public init(from decoder: Decoder) throws { self.init(rawValue: try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(rawValue) }
}

