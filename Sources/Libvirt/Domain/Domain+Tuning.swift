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

extension Limit where Value == MemorySize {
    /// Decodes libvirt's KiB memory limit (`VIR_DOMAIN_MEMORY_PARAM_UNLIMITED` = 2^53-1 KiB
    /// and above mean no limit).
    init(libvirtKiB kib: UInt64) {
        self = kib >= UInt64(VIR_DOMAIN_MEMORY_PARAM_UNLIMITED) ? .unlimited : .limited(.kibibytes(kib))
    }

    /// libvirt's KiB encoding.
    var libvirtKiB: UInt64 {
        switch self {
        case .unlimited: UInt64(VIR_DOMAIN_MEMORY_PARAM_UNLIMITED)
        case .limited(let m): m.kibibytes
        }
    }
}

extension Limit where Value == Duration {
    /// Decodes a cgroup CPU quota in µs as libvirt reports it (negative: no limit).
    init(libvirtQuotaMicroseconds us: Int64) {
        self = us < 0 ? .unlimited : .limited(.microseconds(us))
    }

    /// libvirt's encoding: µs, -1 for no limit.
    var libvirtQuotaMicroseconds: Int64 {
        switch self {
        case .unlimited: -1
        case .limited(let d): d.inNanoseconds / 1_000
        }
    }
}

/// CPU scheduler parameters (`virDomainGetSchedulerParametersFlags`). nil = not reported
/// by this driver (or, for setting, left unchanged). libvirt's µs periods and quotas
/// (a negative quota: no limit) are `Duration`s and `Limit<Duration>`s here.
public struct SchedulerParameters: Hashable, Sendable {
    /// `cpu_shares` (cgroup cpu.shares / cpu.weight): a relative weight, no unit.
    public var cpuShares: UInt64?
    public var vcpuPeriod: Duration?
    public var vcpuQuota: Limit<Duration>?
    public var emulatorPeriod: Duration?
    public var emulatorQuota: Limit<Duration>?
    public var globalPeriod: Duration?
    public var globalQuota: Limit<Duration>?
    public var iothreadPeriod: Duration?
    public var iothreadQuota: Limit<Duration>?
    /// Everything the driver reported, by libvirt's names (e.g. the test driver's `weight`).
    public var raw: TypedParameters

    public init(
        cpuShares: UInt64? = nil, vcpuPeriod: Duration? = nil, vcpuQuota: Limit<Duration>? = nil,
        emulatorPeriod: Duration? = nil, emulatorQuota: Limit<Duration>? = nil, globalPeriod: Duration? = nil,
        globalQuota: Limit<Duration>? = nil, iothreadPeriod: Duration? = nil, iothreadQuota: Limit<Duration>? = nil
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
        let period = { (k: String) in p[k]?.uint64.map(Duration.microseconds(unsigned:)) }
        let quota = { (k: String) in p[k]?.int64.map(Limit<Duration>.init(libvirtQuotaMicroseconds:)) }
        self.init(
            cpuShares: p["cpu_shares"]?.uint64, vcpuPeriod: period("vcpu_period"), vcpuQuota: quota("vcpu_quota"),
            emulatorPeriod: period("emulator_period"), emulatorQuota: quota("emulator_quota"),
            globalPeriod: period("global_period"), globalQuota: quota("global_quota"),
            iothreadPeriod: period("iothread_period"), iothreadQuota: quota("iothread_quota"))
        raw = p
    }

    /// The set fields, typed as libvirt expects them (ULLONG shares and µs periods, LLONG µs quotas).
    public var encoded: TypedParameters {
        var p = TypedParameters()
        let period = { (d: Duration) in TypedValue.ullong(UInt64(max(0, d.inNanoseconds / 1_000))) }
        let quota = { (l: Limit<Duration>) in TypedValue.llong(l.libvirtQuotaMicroseconds) }
        p["cpu_shares"] = cpuShares.map(TypedValue.ullong)
        p["vcpu_period"] = vcpuPeriod.map(period)
        p["vcpu_quota"] = vcpuQuota.map(quota)
        p["emulator_period"] = emulatorPeriod.map(period)
        p["emulator_quota"] = emulatorQuota.map(quota)
        p["global_period"] = globalPeriod.map(period)
        p["global_quota"] = globalQuota.map(quota)
        p["iothread_period"] = iothreadPeriod.map(period)
        p["iothread_quota"] = iothreadQuota.map(quota)
        return p
    }
}

/// Memory cgroup limits (`virDomainGetMemoryParameters`); nil = not reported / unchanged.
public struct MemoryParameters: Hashable, Sendable {
    public var hardLimit: Limit<MemorySize>?
    public var softLimit: Limit<MemorySize>?
    public var swapHardLimit: Limit<MemorySize>?
    public var minGuarantee: Limit<MemorySize>?
    public var raw: TypedParameters

    public init(
        hardLimit: Limit<MemorySize>? = nil, softLimit: Limit<MemorySize>? = nil,
        swapHardLimit: Limit<MemorySize>? = nil, minGuarantee: Limit<MemorySize>? = nil
    ) {
        self.hardLimit = hardLimit
        self.softLimit = softLimit
        self.swapHardLimit = swapHardLimit
        self.minGuarantee = minGuarantee
        raw = [:]
    }

    public init(parameters p: TypedParameters) {
        let lim = { (k: String) in p[k]?.uint64.map(Limit<MemorySize>.init(libvirtKiB:)) }
        self.init(hardLimit: lim("hard_limit"), softLimit: lim("soft_limit"), swapHardLimit: lim("swap_hard_limit"), minGuarantee: lim("min_guarantee"))
        raw = p
    }

    /// The set fields as ULLONG KiB.
    public var encoded: TypedParameters {
        var p = TypedParameters()
        p["hard_limit"] = hardLimit.map { .ullong($0.libvirtKiB) }
        p["soft_limit"] = softLimit.map { .ullong($0.libvirtKiB) }
        p["swap_hard_limit"] = swapHardLimit.map { .ullong($0.libvirtKiB) }
        p["min_guarantee"] = minGuarantee.map { .ullong($0.libvirtKiB) }
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
    public enum Mode: CEnumMirror {
        case strict, preferred, interleave, restrictive
        case unknown(Int32)
        public static let known: [(Self, String)] = [(.strict, "strict"), (.preferred, "preferred"), (.interleave, "interleave"), (.restrictive, "restrictive")]
        public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
        public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
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
    /// What `vcpuCount`/`setVCPUCount` count, beyond which definition (`ModificationImpact`):
    /// the `virDomainVcpuFlags` bits that aren't `VIR_DOMAIN_AFFECT_*`.
    public struct VCPUCountOptions: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `VIR_DOMAIN_VCPU_MAXIMUM`: the maximum rather than the current count.
        public static let maximum = Self(rawValue: VIR_DOMAIN_VCPU_MAXIMUM.rawValue)
        /// `VIR_DOMAIN_VCPU_GUEST`: ask (or tell) the guest agent.
        public static let guest = Self(rawValue: VIR_DOMAIN_VCPU_GUEST.rawValue)
        /// `VIR_DOMAIN_VCPU_HOTPLUGGABLE`: hot-plug them as hot-unpluggable entities.
        public static let hotpluggable = Self(rawValue: VIR_DOMAIN_VCPU_HOTPLUGGABLE.rawValue)
    }

    /// The vCPU count (`virDomainGetVcpusFlags`).
    public func vcpuCount(flags: ModificationImpact = .current, options: VCPUCountOptions = []) async throws -> Int {
        try await call { d throws(LibvirtError) in
            Int(try cCall("virDomainGetVcpusFlags", virDomainGetVcpusFlags(d, flags.rawValue | options.rawValue)))
        }
    }

    /// Sets the vCPU count (`virDomainSetVcpusFlags`; for `.live` without options,
    /// `virDomainSetVcpus` — the running domain's count — where that is unsupported).
    public func setVCPUCount(_ count: Int, flags: ModificationImpact = .current, options: VCPUCountOptions = []) async throws {
        guard let n = UInt32(exactly: count) else { throw LibvirtError(code: .invalidArg, message: "vCPU count \(count) out of range") }
        try await check("virDomainSetVcpusFlags", { virDomainSetVcpusFlags($0, n, flags.rawValue | options.rawValue) },
                        classic: flags == .live && options.isEmpty ? ("virDomainSetVcpus", { virDomainSetVcpus($0, n) }) : nil)
    }

    /// Sets the memory size (`virDomainSetMemoryFlags`, in KiB); with `maximum`, the ceiling
    /// (`VIR_DOMAIN_MEM_MAXIMUM`) rather than the current (balloon) size. Where that call is
    /// unsupported, the classic calls do what drivers make of them: `virDomainSetMemory`
    /// for `.live`, `virDomainSetMaxMemory` for the maximum with `.current`.
    public func setMemory(_ size: MemorySize, flags: ModificationImpact = .current, maximum: Bool = false) async throws {
        let kib = UInt(size.kibibytes)
        let bits = flags.rawValue | (maximum ? VIR_DOMAIN_MEM_MAXIMUM.rawValue : 0)
        let classic: (function: StaticString, body: @Sendable (OpaquePointer) -> Int32)? = switch (maximum, flags) {
        case (false, .live): ("virDomainSetMemory", { virDomainSetMemory($0, kib) })
        case (true, .current): ("virDomainSetMaxMemory", { virDomainSetMaxMemory($0, kib) })
        default: nil
        }
        try await check("virDomainSetMemoryFlags", { virDomainSetMemoryFlags($0, kib, bits) }, classic: classic)
    }

    // MARK: Pinning

    /// Number of host CPUs libvirt knows (`virNodeGetCPUMap`), the bitmap length for pinning.
    static func hostCPUCount(_ d: OpaquePointer) throws(LibvirtError) -> Int {
        let conn = try cObject("virDomainGetConnect", virDomainGetConnect(d))
        return Int(try cCall("virNodeGetCPUMap", virNodeGetCPUMap(conn, nil, nil, 0)))
    }

    /// `cpus` as libvirt's pinning bitmap: one bit per host CPU, long enough for the host
    /// and for the highest CPU asked for (so an absent CPU is libvirt's error, not truncated).
    static func pinMap(_ cpus: CPUSet, _ d: OpaquePointer) throws(LibvirtError) -> [UInt8] {
        cpus.bitmap(length: max((try hostCPUCount(d) + 7) / 8, ((cpus.max ?? 0) + 8) / 8))
    }

    /// Pins one vCPU to host CPUs (`virDomainPinVcpuFlags`; for `.live`, `virDomainPinVcpu`
    /// where that is unsupported).
    public func pinVCPU(_ vcpu: Int, to cpus: CPUSet, flags: ModificationImpact = .current) async throws {
        guard let v = UInt32(exactly: vcpu) else { throw LibvirtError(code: .invalidArg, message: "vCPU \(vcpu) out of range") }
        try await call { d throws(LibvirtError) in
            var map = try Domain.pinMap(cpus, d)
            let length = Int32(map.count)
            _ = try withClassicFallback(self.connection, { () throws(LibvirtError) in
                try cCall("virDomainPinVcpuFlags", virDomainPinVcpuFlags(d, v, &map, length, flags.rawValue))
            }, classic: flags == .live ? { () throws(LibvirtError) in try cCall("virDomainPinVcpu", virDomainPinVcpu(d, v, &map, length)) } : nil)
        }
    }

    /// The host CPUs each vCPU may run on, indexed by vCPU (`virDomainGetVcpuPinInfo`).
    public func vcpuPinning(flags: ModificationImpact = .current) async throws -> [CPUSet] {
        try await call { d throws(LibvirtError) in
            let host = try Domain.hostCPUCount(d)
            let maxV = try cCall("virDomainGetVcpusFlags", virDomainGetVcpusFlags(d, flags.rawValue | VIR_DOMAIN_VCPU_MAXIMUM.rawValue))
            let maplen = (host + 7) / 8
            var maps = [UInt8](repeating: 0, count: Int(maxV) * maplen)
            let n = try cCall("virDomainGetVcpuPinInfo", virDomainGetVcpuPinInfo(d, maxV, &maps, Int32(maplen), flags.rawValue))
            return (0..<Int(n)).map { CPUSet(bitmap: maps[($0 * maplen)..<(($0 + 1) * maplen)]) }
        }
    }

    /// Pins the emulator threads (`virDomainPinEmulator`).
    public func pinEmulator(to cpus: CPUSet, flags: ModificationImpact = .current) async throws {
        try await call { d throws(LibvirtError) in
            var map = try Domain.pinMap(cpus, d)
            try cCall("virDomainPinEmulator", virDomainPinEmulator(d, &map, Int32(map.count), flags.rawValue))
        }
    }

    /// The host CPUs the emulator threads may run on (`virDomainGetEmulatorPinInfo`).
    public func emulatorPinning(flags: ModificationImpact = .current) async throws -> CPUSet {
        try await call { d throws(LibvirtError) in
            var map = [UInt8](repeating: 0, count: (try Domain.hostCPUCount(d) + 7) / 8)
            try cCall("virDomainGetEmulatorPinInfo", virDomainGetEmulatorPinInfo(d, &map, Int32(map.count), flags.rawValue))
            return CPUSet(bitmap: map)
        }
    }

    // MARK: Typed parameter knobs

    /// The scheduler name and its parameter count (`virDomainGetSchedulerType`), e.g. `posix`.
    public func schedulerType() async throws -> (name: String, parameterCount: Int) {
        try await call { d throws(LibvirtError) in
            var n: Int32 = 0
            let s = try takeString("virDomainGetSchedulerType", virDomainGetSchedulerType(d, &n))
            return (s, Int(n))
        }
    }

    /// Scheduler parameters (`virDomainGetSchedulerParametersFlags`, or
    /// `virDomainGetSchedulerParameters` for `.current`).
    public func schedulerParameters(flags: ModificationImpact = .current) async throws -> SchedulerParameters {
        try await call { d throws(LibvirtError) in
            var n: Int32 = 0
            _ = try takeString("virDomainGetSchedulerType", virDomainGetSchedulerType(d, &n))
            if n <= 0 { return SchedulerParameters(parameters: [:]) }
            var params = [virTypedParameter](repeating: virTypedParameter(), count: Int(n))
            return try params.withUnsafeMutableBufferPointer { (buf) throws(LibvirtError) -> SchedulerParameters in
                // With no flags use the flag-less call: libvirt adds VIR_TYPED_PARAM_STRING_OKAY
                // to the *Flags variant, which some drivers (the 9.0 test driver) reject.
                if flags.isEmpty {
                    try cCall("virDomainGetSchedulerParameters", virDomainGetSchedulerParameters(d, buf.baseAddress, &n))
                } else {
                    try cCall("virDomainGetSchedulerParametersFlags", virDomainGetSchedulerParametersFlags(d, buf.baseAddress, &n, flags.rawValue))
                }
                defer { virTypedParamsClear(buf.baseAddress, n) }
                return SchedulerParameters(parameters: TypedParameterCoding.decode(buf.baseAddress, count: Int(n)))
            }
        }
    }

    /// Sets the non-nil scheduler parameters (`virDomainSetSchedulerParametersFlags`).
    public func setSchedulerParameters(_ parameters: SchedulerParameters, flags: ModificationImpact = .current) async throws {
        try await setSchedulerParameters(raw: parameters.encoded, flags: flags)
    }

    /// Sets scheduler parameters by libvirt name (`virDomainSetSchedulerParametersFlags`; for
    /// `.current`, `virDomainSetSchedulerParameters` where that is unsupported).
    public func setSchedulerParameters(raw: TypedParameters, flags: ModificationImpact = .current) async throws {
        try await call { d throws(LibvirtError) in
            try TypedParameterCoding.withEncoded(raw) { (p, n) throws(LibvirtError) in
                _ = try withClassicFallback(self.connection, { () throws(LibvirtError) in
                    try cCall("virDomainSetSchedulerParametersFlags", virDomainSetSchedulerParametersFlags(d, p, n, flags.rawValue))
                }, classic: flags.isEmpty ? { () throws(LibvirtError) in
                    try cCall("virDomainSetSchedulerParameters", virDomainSetSchedulerParameters(d, p, n))
                } : nil)
            }
        }
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
                try cCall(name, set(d, p, n))
            }
        }
    }
}
