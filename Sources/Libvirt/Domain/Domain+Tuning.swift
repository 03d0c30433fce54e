import CLibvirt
import Foundation
import VirtCore

/// Which definition a tuning call reads or changes (`virDomainModificationImpact`).
/// Empty (`current`) means the live one if running, else the persistent one.
public struct ModificationImpact: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `VIR_DOMAIN_AFFECT_CURRENT` (0).
    public static let current: Self = []
    /// `VIR_DOMAIN_AFFECT_LIVE`: the running domain.
    public static let live = Self(rawValue: VIR_DOMAIN_AFFECT_LIVE.rawValue)
    /// `VIR_DOMAIN_AFFECT_CONFIG`: the persistent definition.
    public static let config = Self(rawValue: VIR_DOMAIN_AFFECT_CONFIG.rawValue)
}

/// A memory limit: libvirt's `VIR_DOMAIN_MEMORY_PARAM_UNLIMITED` or an amount.
public enum MemoryLimit: Hashable, Sendable, CustomStringConvertible {
    case unlimited
    case limit(MemorySize)

    /// Decodes libvirt's KiB value (`VIR_DOMAIN_MEMORY_PARAM_UNLIMITED` = 2^53-1 KiB).
    public init(kibibytes: UInt64) {
        self = kibibytes >= UInt64(VIR_DOMAIN_MEMORY_PARAM_UNLIMITED) ? .unlimited : .limit(.kibibytes(kibibytes))
    }

    public var kibibytes: UInt64 {
        switch self {
        case .unlimited: UInt64(VIR_DOMAIN_MEMORY_PARAM_UNLIMITED)
        case .limit(let m): m.kibibytes
        }
    }

    public var description: String {
        switch self {
        case .unlimited: "unlimited"
        case .limit(let m): "\(m.kibibytes) KiB"
        }
    }
}

/// CPU scheduler parameters (`virDomainGetSchedulerParametersFlags`). nil = not reported
/// by this driver (or, for setting, left unchanged). Periods in µs; quotas in µs where
/// a negative value means no limit.
public struct SchedulerParameters: Hashable, Sendable {
    /// `cpu_shares` (cgroup cpu.shares / cpu.weight).
    public var cpuShares: UInt64?
    public var vcpuPeriod: UInt64?
    public var vcpuQuota: Int64?
    public var emulatorPeriod: UInt64?
    public var emulatorQuota: Int64?
    public var globalPeriod: UInt64?
    public var globalQuota: Int64?
    public var iothreadPeriod: UInt64?
    public var iothreadQuota: Int64?
    /// Everything the driver reported, by libvirt's names (e.g. the test driver's `weight`).
    public var raw: TypedParameters

    public init(
        cpuShares: UInt64? = nil, vcpuPeriod: UInt64? = nil, vcpuQuota: Int64? = nil,
        emulatorPeriod: UInt64? = nil, emulatorQuota: Int64? = nil, globalPeriod: UInt64? = nil,
        globalQuota: Int64? = nil, iothreadPeriod: UInt64? = nil, iothreadQuota: Int64? = nil
    ) {
        self.cpuShares = cpuShares
        self.vcpuPeriod = vcpuPeriod
        self.vcpuQuota = vcpuQuota
        self.emulatorPeriod = emulatorPeriod
        self.emulatorQuota = emulatorQuota
        self.globalPeriod = globalPeriod
        self.globalQuota = globalQuota
        self.iothreadPeriod = iothreadPeriod
        self.iothreadQuota = iothreadQuota
        self.raw = [:]
    }

    /// Decodes libvirt's parameters.
    public init(parameters p: TypedParameters) {
        self.init(
            cpuShares: p["cpu_shares"]?.uint64, vcpuPeriod: p["vcpu_period"]?.uint64, vcpuQuota: p["vcpu_quota"]?.int64,
            emulatorPeriod: p["emulator_period"]?.uint64, emulatorQuota: p["emulator_quota"]?.int64,
            globalPeriod: p["global_period"]?.uint64, globalQuota: p["global_quota"]?.int64,
            iothreadPeriod: p["iothread_period"]?.uint64, iothreadQuota: p["iothread_quota"]?.int64)
        raw = p
    }

    /// The set fields, typed as libvirt expects them (ULLONG shares/periods, LLONG quotas).
    public var encoded: TypedParameters {
        var p = TypedParameters()
        p["cpu_shares"] = cpuShares.map(TypedValue.ullong)
        p["vcpu_period"] = vcpuPeriod.map(TypedValue.ullong)
        p["vcpu_quota"] = vcpuQuota.map(TypedValue.llong)
        p["emulator_period"] = emulatorPeriod.map(TypedValue.ullong)
        p["emulator_quota"] = emulatorQuota.map(TypedValue.llong)
        p["global_period"] = globalPeriod.map(TypedValue.ullong)
        p["global_quota"] = globalQuota.map(TypedValue.llong)
        p["iothread_period"] = iothreadPeriod.map(TypedValue.ullong)
        p["iothread_quota"] = iothreadQuota.map(TypedValue.llong)
        return p
    }
}

/// Memory cgroup limits (`virDomainGetMemoryParameters`); nil = not reported / unchanged.
public struct MemoryParameters: Hashable, Sendable {
    public var hardLimit: MemoryLimit?
    public var softLimit: MemoryLimit?
    public var swapHardLimit: MemoryLimit?
    public var minGuarantee: MemoryLimit?
    public var raw: TypedParameters

    public init(hardLimit: MemoryLimit? = nil, softLimit: MemoryLimit? = nil, swapHardLimit: MemoryLimit? = nil, minGuarantee: MemoryLimit? = nil) {
        self.hardLimit = hardLimit
        self.softLimit = softLimit
        self.swapHardLimit = swapHardLimit
        self.minGuarantee = minGuarantee
        raw = [:]
    }

    public init(parameters p: TypedParameters) {
        let lim = { (k: String) in p[k]?.uint64.map(MemoryLimit.init(kibibytes:)) }
        self.init(hardLimit: lim("hard_limit"), softLimit: lim("soft_limit"), swapHardLimit: lim("swap_hard_limit"), minGuarantee: lim("min_guarantee"))
        raw = p
    }

    /// The set fields as ULLONG KiB.
    public var encoded: TypedParameters {
        var p = TypedParameters()
        p["hard_limit"] = hardLimit.map { .ullong($0.kibibytes) }
        p["soft_limit"] = softLimit.map { .ullong($0.kibibytes) }
        p["swap_hard_limit"] = swapHardLimit.map { .ullong($0.kibibytes) }
        p["min_guarantee"] = minGuarantee.map { .ullong($0.kibibytes) }
        return p
    }
}

/// Block I/O cgroup parameters (`virDomainGetBlkioParameters`). Per-device settings
/// (`device_weight`, `device_read_iops_sec`, …) are strings in `raw`.
public struct BlkioParameters: Hashable, Sendable {
    /// `weight` (100–1000; 0 = not set).
    public var weight: UInt32?
    public var raw: TypedParameters

    public init(weight: UInt32? = nil) {
        self.weight = weight
        raw = [:]
    }

    public init(parameters p: TypedParameters) {
        weight = p["weight"]?.uint64.flatMap { UInt32(exactly: $0) }
        raw = p
    }

    public var encoded: TypedParameters {
        var p = TypedParameters()
        p["weight"] = weight.map(TypedValue.uint)
        return p
    }
}

/// NUMA memory placement (`virDomainGetNumaParameters`).
public struct NUMAParameters: Hashable, Sendable {
    /// `virDomainNumatuneMemMode`.
    public enum Mode: Hashable, Sendable, CustomStringConvertible {
        case strict, preferred, interleave, restrictive
        case unknown(Int32)
        public init(rawValue: Int32) {
            switch rawValue {
            case 0: self = .strict
            case 1: self = .preferred
            case 2: self = .interleave
            case 3: self = .restrictive
            default: self = .unknown(rawValue)
            }
        }
        public var rawValue: Int32 {
            switch self {
            case .strict: 0
            case .preferred: 1
            case .interleave: 2
            case .restrictive: 3
            case .unknown(let r): r
            }
        }
        public var description: String {
            switch self {
            case .strict: "strict"
            case .preferred: "preferred"
            case .interleave: "interleave"
            case .restrictive: "restrictive"
            case .unknown(let r): "mode \(r)"
            }
        }
    }

    /// `numa_mode`.
    public var mode: Mode?
    /// `numa_nodeset`; nil when not reported, empty when libvirt reports an empty string.
    public var nodeset: NodeSet?
    public var raw: TypedParameters

    public init(mode: Mode? = nil, nodeset: NodeSet? = nil) {
        self.mode = mode
        self.nodeset = nodeset
        raw = [:]
    }

    /// Decodes; a nodeset libvirt reports in a syntax `NodeSet` can't parse stays in `raw` only.
    public init(parameters p: TypedParameters) {
        mode = p["numa_mode"]?.int64.flatMap { Int32(exactly: $0) }.map(Mode.init(rawValue:))
        nodeset = p["numa_nodeset"]?.string.flatMap { try? NodeSet(parsing: $0, allowEmpty: true) }
        raw = p
    }

    public var encoded: TypedParameters {
        var p = TypedParameters()
        p["numa_mode"] = mode.map { .int($0.rawValue) }
        p["numa_nodeset"] = nodeset.map { .string($0.listString) }
        return p
    }
}

extension Domain {
    /// `virDomainSetVcpusFlags` / `virDomainGetVcpusFlags` flags.
    public struct VCPUFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let current: Self = []
        public static let live = Self(rawValue: VIR_DOMAIN_VCPU_LIVE.rawValue)
        public static let config = Self(rawValue: VIR_DOMAIN_VCPU_CONFIG.rawValue)
        /// The maximum rather than the current count.
        public static let maximum = Self(rawValue: VIR_DOMAIN_VCPU_MAXIMUM.rawValue)
        /// Ask the guest agent.
        public static let guest = Self(rawValue: VIR_DOMAIN_VCPU_GUEST.rawValue)
        public static let hotpluggable = Self(rawValue: VIR_DOMAIN_VCPU_HOTPLUGGABLE.rawValue)
    }

    /// `virDomainSetMemoryFlags` flags.
    public struct MemoryFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let current: Self = []
        public static let live = Self(rawValue: VIR_DOMAIN_MEM_LIVE.rawValue)
        public static let config = Self(rawValue: VIR_DOMAIN_MEM_CONFIG.rawValue)
        /// Change the maximum rather than the current (balloon) size.
        public static let maximum = Self(rawValue: VIR_DOMAIN_MEM_MAXIMUM.rawValue)
    }

    /// The vCPU count (`virDomainGetVcpusFlags`).
    public func vcpuCount(flags: VCPUFlags = .current) async throws -> Int {
        try await call { d throws(LibvirtError) in
            let n = virDomainGetVcpusFlags(d, flags.rawValue)
            guard n >= 0 else { throw LibvirtError.takeLast(after: "virDomainGetVcpusFlags") }
            return Int(n)
        }
    }

    /// Sets the vCPU count (`virDomainSetVcpusFlags`).
    public func setVCPUCount(_ count: Int, flags: VCPUFlags = .current) async throws {
        guard let n = UInt32(exactly: count) else { throw LibvirtError(code: .invalidArg, message: "vCPU count \(count) out of range") }
        try await check("virDomainSetVcpusFlags") { virDomainSetVcpusFlags($0, n, flags.rawValue) }
    }

    /// Sets the memory size (`virDomainSetMemoryFlags`, in KiB).
    public func setMemory(_ size: MemorySize, flags: MemoryFlags = .current) async throws {
        let kib = UInt(size.kibibytes)
        try await check("virDomainSetMemoryFlags") { virDomainSetMemoryFlags($0, kib, flags.rawValue) }
    }

    // MARK: Pinning

    /// Number of host CPUs libvirt knows (`virNodeGetCPUMap`), the bitmap length for pinning.
    static func hostCPUCount(_ d: OpaquePointer) throws(LibvirtError) -> Int {
        guard let conn = virDomainGetConnect(d) else { throw LibvirtError.takeLast(after: "virDomainGetConnect") }
        let n = virNodeGetCPUMap(conn, nil, nil, 0)
        guard n > 0 else { throw LibvirtError.takeLast(after: "virNodeGetCPUMap") }
        return Int(n)
    }

    /// Pins one vCPU to host CPUs (`virDomainPinVcpuFlags`).
    public func pinVCPU(_ vcpu: Int, to cpus: CPUSet, flags: ModificationImpact = .current) async throws {
        guard let v = UInt32(exactly: vcpu) else { throw LibvirtError(code: .invalidArg, message: "vCPU \(vcpu) out of range") }
        try await call { d throws(LibvirtError) in
            let host = try Domain.hostCPUCount(d)
            var map = cpus.bitmap(length: max((host + 7) / 8, ((cpus.max ?? 0) + 8) / 8))
            guard virDomainPinVcpuFlags(d, v, &map, Int32(map.count), flags.rawValue) == 0 else {
                throw LibvirtError.takeLast(after: "virDomainPinVcpuFlags")
            }
        }
    }

    /// The host CPUs each vCPU may run on, indexed by vCPU (`virDomainGetVcpuPinInfo`).
    public func vcpuPinning(flags: ModificationImpact = .current) async throws -> [CPUSet] {
        try await call { d throws(LibvirtError) in
            let host = try Domain.hostCPUCount(d)
            let maxV = virDomainGetVcpusFlags(d, flags.rawValue | VIR_DOMAIN_VCPU_MAXIMUM.rawValue)
            guard maxV >= 0 else { throw LibvirtError.takeLast(after: "virDomainGetVcpusFlags") }
            let maplen = (host + 7) / 8
            var maps = [UInt8](repeating: 0, count: Int(maxV) * maplen)
            let n = virDomainGetVcpuPinInfo(d, maxV, &maps, Int32(maplen), flags.rawValue)
            guard n >= 0 else { throw LibvirtError.takeLast(after: "virDomainGetVcpuPinInfo") }
            return (0..<Int(n)).map { CPUSet(bitmap: maps[($0 * maplen)..<(($0 + 1) * maplen)]) }
        }
    }

    /// Pins the emulator threads (`virDomainPinEmulator`).
    public func pinEmulator(to cpus: CPUSet, flags: ModificationImpact = .current) async throws {
        try await call { d throws(LibvirtError) in
            let host = try Domain.hostCPUCount(d)
            var map = cpus.bitmap(length: max((host + 7) / 8, ((cpus.max ?? 0) + 8) / 8))
            guard virDomainPinEmulator(d, &map, Int32(map.count), flags.rawValue) == 0 else {
                throw LibvirtError.takeLast(after: "virDomainPinEmulator")
            }
        }
    }

    /// The host CPUs the emulator threads may run on (`virDomainGetEmulatorPinInfo`).
    public func emulatorPinning(flags: ModificationImpact = .current) async throws -> CPUSet {
        try await call { d throws(LibvirtError) in
            let host = try Domain.hostCPUCount(d)
            var map = [UInt8](repeating: 0, count: (host + 7) / 8)
            guard virDomainGetEmulatorPinInfo(d, &map, Int32(map.count), flags.rawValue) >= 0 else {
                throw LibvirtError.takeLast(after: "virDomainGetEmulatorPinInfo")
            }
            return CPUSet(bitmap: map)
        }
    }

    // MARK: Typed parameter knobs

    /// The scheduler name and its parameter count (`virDomainGetSchedulerType`), e.g. `posix`.
    public func schedulerType() async throws -> (name: String, parameterCount: Int) {
        try await call { d throws(LibvirtError) in
            var n: Int32 = 0
            let s = try takeString(virDomainGetSchedulerType(d, &n), "virDomainGetSchedulerType")
            return (s, Int(n))
        }
    }

    /// Scheduler parameters (`virDomainGetSchedulerParametersFlags`, or
    /// `virDomainGetSchedulerParameters` for `.current`).
    public func schedulerParameters(flags: ModificationImpact = .current) async throws -> SchedulerParameters {
        try await call { d throws(LibvirtError) in
            var n: Int32 = 0
            let type = virDomainGetSchedulerType(d, &n)
            guard let type else { throw LibvirtError.takeLast(after: "virDomainGetSchedulerType") }
            free(type)
            if n <= 0 { return SchedulerParameters(parameters: [:]) }
            var params = [virTypedParameter](repeating: virTypedParameter(), count: Int(n))
            return try params.withUnsafeMutableBufferPointer { (buf) throws(LibvirtError) -> SchedulerParameters in
                // With no flags use the flag-less call: libvirt adds VIR_TYPED_PARAM_STRING_OKAY
                // to the *Flags variant, which some drivers (the 9.0 test driver) reject.
                let rc = flags.isEmpty
                    ? virDomainGetSchedulerParameters(d, buf.baseAddress, &n)
                    : virDomainGetSchedulerParametersFlags(d, buf.baseAddress, &n, flags.rawValue)
                guard rc == 0 else { throw LibvirtError.takeLast(after: "virDomainGetSchedulerParametersFlags") }
                defer { virTypedParamsClear(buf.baseAddress, n) }
                return SchedulerParameters(parameters: TypedParameterCoding.decode(buf.baseAddress, count: Int(n)))
            }
        }
    }

    /// Sets the non-nil scheduler parameters (`virDomainSetSchedulerParametersFlags`).
    public func setSchedulerParameters(_ parameters: SchedulerParameters, flags: ModificationImpact = .current) async throws {
        try await setSchedulerParameters(raw: parameters.encoded, flags: flags)
    }

    /// Sets scheduler parameters by libvirt name (`virDomainSetSchedulerParametersFlags`).
    public func setSchedulerParameters(raw: TypedParameters, flags: ModificationImpact = .current) async throws {
        try await setParameters("virDomainSetSchedulerParametersFlags", raw) { virDomainSetSchedulerParametersFlags($0, $1, $2, flags.rawValue) }
    }

    /// Memory cgroup limits (`virDomainGetMemoryParameters`).
    public func memoryParameters(flags: ModificationImpact = .current) async throws -> MemoryParameters {
        MemoryParameters(parameters: try await getParameters("virDomainGetMemoryParameters") {
            virDomainGetMemoryParameters($0, $1, $2, flags.rawValue)
        })
    }

    /// Sets the non-nil memory limits (`virDomainSetMemoryParameters`).
    public func setMemoryParameters(_ parameters: MemoryParameters, flags: ModificationImpact = .current) async throws {
        try await setParameters("virDomainSetMemoryParameters", parameters.encoded) { virDomainSetMemoryParameters($0, $1, $2, flags.rawValue) }
    }

    /// Block I/O parameters (`virDomainGetBlkioParameters`).
    public func blkioParameters(flags: ModificationImpact = .current) async throws -> BlkioParameters {
        BlkioParameters(parameters: try await getParameters("virDomainGetBlkioParameters") {
            virDomainGetBlkioParameters($0, $1, $2, flags.rawValue | VIR_TYPED_PARAM_STRING_OKAY.rawValue)
        })
    }

    /// Sets the block I/O weight and others (`virDomainSetBlkioParameters`).
    public func setBlkioParameters(_ parameters: BlkioParameters, flags: ModificationImpact = .current) async throws {
        try await setParameters("virDomainSetBlkioParameters", parameters.encoded) { virDomainSetBlkioParameters($0, $1, $2, flags.rawValue) }
    }

    /// NUMA placement (`virDomainGetNumaParameters`).
    public func numaParameters(flags: ModificationImpact = .current) async throws -> NUMAParameters {
        NUMAParameters(parameters: try await getParameters("virDomainGetNumaParameters") {
            virDomainGetNumaParameters($0, $1, $2, flags.rawValue | VIR_TYPED_PARAM_STRING_OKAY.rawValue)
        })
    }

    /// Sets NUMA placement (`virDomainSetNumaParameters`).
    public func setNUMAParameters(_ parameters: NUMAParameters, flags: ModificationImpact = .current) async throws {
        try await setParameters("virDomainSetNumaParameters", parameters.encoded) { virDomainSetNumaParameters($0, $1, $2, flags.rawValue) }
    }

    private func getParameters(
        _ name: StaticString,
        _ get: @escaping @Sendable (OpaquePointer, UnsafeMutablePointer<virTypedParameter>?, UnsafeMutablePointer<Int32>) -> Int32
    ) async throws -> TypedParameters {
        try await call { d throws(LibvirtError) in
            try TypedParameterCoding.fetch(name) { p, n in get(d, p, n) }
        }
    }

    private func setParameters(
        _ name: StaticString, _ parameters: TypedParameters,
        _ set: @escaping @Sendable (OpaquePointer, UnsafeMutablePointer<virTypedParameter>?, Int32) -> Int32
    ) async throws {
        try await call { d throws(LibvirtError) in
            try TypedParameterCoding.withEncoded(parameters) { (p, n) throws(LibvirtError) in
                guard set(d, p, n) == 0 else { throw LibvirtError.takeLast(after: name) }
            }
        }
    }
}
