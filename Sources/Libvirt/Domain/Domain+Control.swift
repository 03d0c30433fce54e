import CLibvirt
import Foundation
import VirtCore

/// The balloon driver's memory statistics (`virDomainMemoryStats`); nil = not reported.
public struct DomainMemoryStats: Hashable, Sendable {
    public var swapIn: MemorySize?
    public var swapOut: MemorySize?
    public var majorFaults: UInt64?
    public var minorFaults: UInt64?
    /// Memory the guest leaves unused.
    public var unused: MemorySize?
    /// Memory the guest sees.
    public var available: MemorySize?
    /// The balloon's current size (the guest's current memory).
    public var actualBalloon: MemorySize?
    /// The QEMU process's resident set on the host.
    public var rss: MemorySize?
    /// What the guest could use without swapping.
    public var usable: MemorySize?
    /// When the guest last updated the figures.
    public var lastUpdate: Timestamp?
    public var diskCaches: MemorySize?
    public var hugetlbAllocations: UInt64?
    public var hugetlbFailures: UInt64?
    /// Every tag libvirt reported (`virDomainMemoryStatTags` raw value → value), also ones newer than 9.0.
    public var raw: [Int32: UInt64]

    init(_ raw: [Int32: UInt64]) {
        let kib = { (t: virDomainMemoryStatTags) in raw[Int32(t.rawValue)].map(MemorySize.kibibytes) }
        let n = { (t: virDomainMemoryStatTags) in raw[Int32(t.rawValue)] }
        swapIn = kib(VIR_DOMAIN_MEMORY_STAT_SWAP_IN)
        swapOut = kib(VIR_DOMAIN_MEMORY_STAT_SWAP_OUT)
        majorFaults = n(VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT)
        minorFaults = n(VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT)
        unused = kib(VIR_DOMAIN_MEMORY_STAT_UNUSED)
        available = kib(VIR_DOMAIN_MEMORY_STAT_AVAILABLE)
        actualBalloon = kib(VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON)
        rss = kib(VIR_DOMAIN_MEMORY_STAT_RSS)
        usable = kib(VIR_DOMAIN_MEMORY_STAT_USABLE)
        lastUpdate = n(VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE).flatMap { Int64(exactly: $0) }.map { Timestamp.seconds(sinceUnixEpoch: $0) }
        diskCaches = kib(VIR_DOMAIN_MEMORY_STAT_DISK_CACHES)
        hugetlbAllocations = n(VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGALLOC)
        hugetlbFailures = n(VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGFAIL)
        self.raw = raw
    }
}

/// A guest NIC's traffic counters (`virDomainInterfaceStats`); nil where the hypervisor reports -1.
public struct DomainInterfaceStats: Hashable, Sendable {
    public var rxBytes: UInt64?
    public var rxPackets: UInt64?
    public var rxErrors: UInt64?
    public var rxDrops: UInt64?
    public var txBytes: UInt64?
    public var txPackets: UInt64?
    public var txErrors: UInt64?
    public var txDrops: UInt64?
}

/// One vCPU as `virDomainGetVcpus` reports it.
public struct DomainVCPUInfo: Hashable, Sendable {
    public var number: UInt32
    /// `virVcpuState` raw value (0 offline, 1 running, 2 blocked).
    public var stateRaw: Int32
    public var cpuTime: Duration
    /// The host CPU it last ran on; nil when offline.
    public var hostCPU: Int?
    /// The host CPUs it may run on.
    public var affinity: CPUSet
}

/// A security label of a running domain (`virSecurityLabel`).
public struct DomainSecurityLabel: Hashable, Sendable {
    /// E.g. `libvirt-<uuid> (enforce)` for AppArmor, `system_u:system_r:svirt_t:s0:c1,c2` for SELinux.
    public var label: String
    public var enforcing: Bool
}

/// What the hypervisor does when the guest powers off, reboots or crashes (`<on_poweroff>`, …).
public enum LifecycleEventType: CEnumMirror {
    case poweroff, reboot, crash, unknown(Int32)
    public static let known: [(Self, String)] = [(.poweroff, "poweroff"), (.reboot, "reboot"), (.crash, "crash")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virDomainLifecycleAction`: the action for a `LifecycleEventType`.
public enum DomainLifecycleAction: CEnumMirror {
    case destroy, restart, restartRename, preserve, coredumpDestroy, coredumpRestart, unknown(Int32)
    public static let known: [(Self, String)] = [(.destroy, "destroy"), (.restart, "restart"), (.restartRename, "rename-restart"),
                                                 (.preserve, "preserve"), (.coredumpDestroy, "coredump-destroy"), (.coredumpRestart, "coredump-restart")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virKeycodeSet`: how `Domain.sendKey` codes are to be read.
public enum KeycodeSet: CEnumMirror {
    case linux, xt, atset1, atset2, atset3, osx, xtKbd, usb, win32, qnum, unknown(Int32)
    public static let known: [(Self, String)] = [(.linux, "linux"), (.xt, "xt"), (.atset1, "atset1"), (.atset2, "atset2"), (.atset3, "atset3"),
                                                 (.osx, "os_x"), (.xtKbd, "xt_kbd"), (.usb, "usb"), (.win32, "win32"), (.qnum, "qnum")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virNodeSuspendTarget`: the power state for guest (`pmSuspend`) and host suspend.
public enum SuspendTarget: CEnumMirror {
    /// Suspend to RAM (S3).
    case memory
    /// Suspend to disk (S4).
    case disk
    case hybrid
    case unknown(Int32)
    public static let known: [(Self, String)] = [(.memory, "mem"), (.disk, "disk"), (.hybrid, "hybrid")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

extension Domain {
    // MARK: Metadata

    /// The domain's `<description>`, `<title>` or a `<metadata>` element (in namespace
    /// `uri`) (`virDomainGetMetadata`); `.noDomainMetadata` when absent.
    public func metadata(_ type: MetadataType, uri: String? = nil, flags: ModificationImpact = .current) async throws -> String {
        let t = type.rawValue
        return try await string("virDomainGetMetadata") { virDomainGetMetadata($0, t, uri, flags.rawValue) }
    }

    /// Sets (nil: removes) the description, title or a `<metadata>` element: `key` is the
    /// namespace prefix and `uri` its namespace for `.element` (`virDomainSetMetadata`).
    public func setMetadata(_ type: MetadataType, _ value: String?, key: String? = nil, uri: String? = nil,
                            flags: ModificationImpact = .current) async throws {
        let t = type.rawValue
        try await check("virDomainSetMetadata") { virDomainSetMetadata($0, t, value, key, uri, flags.rawValue) }
    }

    // MARK: Statistics

    /// The balloon's memory statistics (`virDomainMemoryStats`).
    public func memoryStats() async throws -> DomainMemoryStats {
        try await call { d throws(LibvirtError) in
            let max = Int(VIR_DOMAIN_MEMORY_STAT_NR.rawValue)
            var stats = [virDomainMemoryStatStruct](repeating: virDomainMemoryStatStruct(), count: max)
            let n = try cCall("virDomainMemoryStats", virDomainMemoryStats(d, &stats, UInt32(max), 0))
            var raw: [Int32: UInt64] = [:]
            for s in stats.prefix(Int(n)) { raw[s.tag] = s.val }
            return DomainMemoryStats(raw)
        }
    }

    /// How often the balloon driver refreshes its statistics, whole seconds; `.zero`
    /// stops it (`virDomainSetMemoryStatsPeriod`).
    public func setMemoryStatsPeriod(_ period: Duration, flags: ModificationImpact = .current) async throws {
        let secs = Int32(clamping: period.components.seconds)
        try await check("virDomainSetMemoryStatsPeriod") { virDomainSetMemoryStatsPeriod($0, secs, flags.rawValue) }
    }

    /// A NIC's counters by target device (`vnet0`) or MAC (`virDomainInterfaceStats`).
    public func interfaceStats(_ device: String) async throws -> DomainInterfaceStats {
        try await call { d throws(LibvirtError) in
            var s = _virDomainInterfaceStats()
            try cCall("virDomainInterfaceStats", virDomainInterfaceStats(d, device, &s, MemoryLayout<_virDomainInterfaceStats>.size))
            let v = { (x: Int64) in x < 0 ? nil : UInt64(x) }
            return DomainInterfaceStats(rxBytes: v(s.rx_bytes), rxPackets: v(s.rx_packets), rxErrors: v(s.rx_errs), rxDrops: v(s.rx_drop),
                                        txBytes: v(s.tx_bytes), txPackets: v(s.tx_packets), txErrors: v(s.tx_errs), txDrops: v(s.tx_drop))
        }
    }

    /// A NIC's bandwidth settings (`virDomainGetInterfaceParameters`: `inbound.average`
    /// KiB/s, `inbound.peak`, `inbound.burst` KiB, `outbound.*`, …).
    public func interfaceParameters(_ device: String, flags: ModificationImpact = .current) async throws -> TypedParameters {
        try await call { d throws(LibvirtError) in
            try TypedParameterCoding.fetch("virDomainGetInterfaceParameters") { p, n in
                virDomainGetInterfaceParameters(d, device, p, n, flags.rawValue)
            }
        }
    }

    /// Sets a NIC's bandwidth parameters (`virDomainSetInterfaceParameters`).
    public func setInterfaceParameters(_ device: String, _ parameters: TypedParameters, flags: ModificationImpact = .current) async throws {
        try await call { d throws(LibvirtError) in
            try TypedParameterCoding.withEncoded(parameters) { (p, n) throws(LibvirtError) in
                try cCall("virDomainSetInterfaceParameters", virDomainSetInterfaceParameters(d, device, p, n, flags.rawValue))
            }
        }
    }

    /// Which perf events are enabled (`virDomainGetPerfEvents`: `cpu_cycles`, `instructions`, … → on/off).
    public func perfEvents(flags: ModificationImpact = .current) async throws -> [String: Bool] {
        let p = try await call { d throws(LibvirtError) in
            try TypedParameterCoding.fetchAllocated("virDomainGetPerfEvents") { p, n in virDomainGetPerfEvents(d, p, n, flags.rawValue) }
        }
        return p.compactMapValues(\.bool)
    }

    /// Enables or disables perf events by name (`virDomainSetPerfEvents`).
    public func setPerfEvents(_ events: [String: Bool], flags: ModificationImpact = .current) async throws {
        let params = events.mapValues(TypedValue.boolean)
        try await call { d throws(LibvirtError) in
            try TypedParameterCoding.withEncoded(params) { (p, n) throws(LibvirtError) in
                try cCall("virDomainSetPerfEvents", virDomainSetPerfEvents(d, p, n, flags.rawValue))
            }
        }
    }

    /// Starts measuring the guest's memory dirty rate over `period` (whole seconds);
    /// the result appears in the `dirtyrate` stats group (`virDomainStartDirtyRateCalc`).
    public func startDirtyRateCalculation(over period: Duration) async throws {
        let secs = Int32(clamping: period.components.seconds)
        try await check("virDomainStartDirtyRateCalc") { virDomainStartDirtyRateCalc($0, secs, 0) }
    }

    // MARK: vCPUs and memory

    /// Per-vCPU state, time, host CPU and affinity (`virDomainGetVcpus`; running domains).
    public func vcpuInfo() async throws -> [DomainVCPUInfo] {
        try await call { d throws(LibvirtError) in
            var info = virDomainInfo()
            try cCall("virDomainGetInfo", virDomainGetInfo(d, &info))
            let hostCPUs = try Domain.hostCPUCount(d)
            let maxInfo = Int(info.nrVirtCpu)
            let mapLen = (hostCPUs + 7) / 8
            var vcpus = [virVcpuInfo](repeating: virVcpuInfo(), count: maxInfo)
            var maps = [UInt8](repeating: 0, count: maxInfo * mapLen)
            let n = Int(try cCall("virDomainGetVcpus", virDomainGetVcpus(d, &vcpus, Int32(maxInfo), &maps, Int32(mapLen))))
            return (0..<n).map { i in
                let v = vcpus[i]
                return DomainVCPUInfo(number: v.number, stateRaw: v.state, cpuTime: .nanoseconds(unsigned: v.cpuTime),
                                      hostCPU: v.cpu < 0 ? nil : Int(v.cpu), affinity: CPUSet(bitmap: maps[(i * mapLen)..<((i + 1) * mapLen)]))
            }
        }
    }

    /// The most vCPUs the domain can have (`virDomainGetMaxVcpus`).
    public func maxVCPUs() async throws -> Int {
        Int(try await call { d throws(LibvirtError) in try cCall("virDomainGetMaxVcpus", virDomainGetMaxVcpus(d)) })
    }

    /// The domain's memory ceiling (`virDomainGetMaxMemory`).
    public func maxMemory() async throws -> MemorySize {
        try await call { d throws(LibvirtError) in
            let kib = virDomainGetMaxMemory(d)
            if kib == 0 { throw LibvirtError.takeLast(after: "virDomainGetMaxMemory") }
            return .kibibytes(UInt64(kib))
        }
    }

    /// The guest OS type, `hvm` or `linux` (`virDomainGetOSType`).
    public func osType() async throws -> String {
        try await string("virDomainGetOSType") { virDomainGetOSType($0) }
    }

    /// Whether the persistent definition differs from the live one (`virDomainIsUpdated`).
    public func isUpdated() async throws -> Bool {
        try await flag("virDomainIsUpdated") { virDomainIsUpdated($0) }
    }

    /// Renames an inactive domain (`virDomainRename`). The handle keeps the old name;
    /// look the domain up again.
    public func rename(to newName: String) async throws {
        try await check("virDomainRename") { virDomainRename($0, newName, 0) }
    }

    /// Sets what happens on guest power-off, reboot or crash (`virDomainSetLifecycleAction`).
    public func setLifecycleAction(_ type: LifecycleEventType, _ action: DomainLifecycleAction, flags: ModificationImpact = .current) async throws {
        let t = UInt32(bitPattern: type.rawValue), a = UInt32(bitPattern: action.rawValue)
        try await check("virDomainSetLifecycleAction") { virDomainSetLifecycleAction($0, t, a, flags.rawValue) }
    }

    // MARK: Input, signals, power

    /// Presses `keycodes` (at most 16) together for `hold` (`virDomainSendKey`).
    public func sendKey(_ keycodes: [UInt32], codeset: KeycodeSet = .linux, hold: Duration = .milliseconds(100)) async throws {
        let ms = UInt32(clamping: hold.components.seconds * 1000 + hold.components.attoseconds / 1_000_000_000_000_000)
        let set = UInt32(bitPattern: codeset.rawValue)
        try await call { d throws(LibvirtError) in
            var codes = keycodes
            let rc = codes.withUnsafeMutableBufferPointer { virDomainSendKey(d, set, ms, $0.baseAddress, Int32($0.count), 0) }
            try cCall("virDomainSendKey", rc)
        }
    }

    /// Injects a non-maskable interrupt (`virDomainInjectNMI`).
    public func injectNMI() async throws {
        try await check("virDomainInjectNMI") { virDomainInjectNMI($0, 0) }
    }

    /// Resets the guest like the reset button, no shutdown (`virDomainReset`).
    public func reset() async throws {
        try await check("virDomainReset") { virDomainReset($0, 0) }
    }

    /// Sends a signal to a process in the guest (containers: `pid` 1 is init) (`virDomainSendProcessSignal`).
    public func sendProcessSignal(pid: Int64, signal: UInt32) async throws {
        try await check("virDomainSendProcessSignal") { virDomainSendProcessSignal($0, pid, signal, 0) }
    }

    /// Suspends the guest to RAM or disk through the agent; `duration` 0 = until woken
    /// (`virDomainPMSuspendForDuration`).
    public func pmSuspend(_ target: SuspendTarget, duration: Duration = .zero) async throws {
        let t = UInt32(bitPattern: target.rawValue), secs = UInt64(max(0, duration.components.seconds))
        try await check("virDomainPMSuspendForDuration") { virDomainPMSuspendForDuration($0, t, secs, 0) }
    }

    /// Wakes a guest suspended to RAM (`virDomainPMWakeup`).
    public func pmWakeup() async throws {
        try await check("virDomainPMWakeup") { virDomainPMWakeup($0, 0) }
    }

    // MARK: Security

    /// The running domain's first security label (`virDomainGetSecurityLabel`).
    public func securityLabel() async throws -> DomainSecurityLabel {
        try await call { d throws(LibvirtError) in
            // Swift does not import the 4097-byte `label` array: fill a raw buffer laid out as C does.
            let raw = UnsafeMutableRawPointer.allocate(byteCount: Self.securityLabelStride, alignment: 8)
            defer { raw.deallocate() }
            raw.initializeMemory(as: UInt8.self, repeating: 0, count: Self.securityLabelStride)
            try cCall("virDomainGetSecurityLabel", virDomainGetSecurityLabel(d, raw.assumingMemoryBound(to: virSecurityLabel.self)))
            return Self.securityLabel(at: raw)
        }
    }

    /// Every security driver's label (`virDomainGetSecurityLabelList`).
    public func securityLabels() async throws -> [DomainSecurityLabel] {
        try await call { d throws(LibvirtError) in
            var list: UnsafeMutablePointer<virSecurityLabel>?
            let n = Int(try cCall("virDomainGetSecurityLabelList", virDomainGetSecurityLabelList(d, &list)))
            defer { free(list) }
            guard let base = list.map(UnsafeRawPointer.init) else { return [] }
            return (0..<n).map { Self.securityLabel(at: base + $0 * Self.securityLabelStride) }
        }
    }

    /// `struct _virSecurityLabel { char label[VIR_SECURITY_LABEL_BUFLEN]; int enforcing; }` as C lays it out.
    static let securityLabelBufferLength = 4096 + 1
    static let securityLabelEnforcingOffset = (securityLabelBufferLength + 3) & ~3
    static let securityLabelStride = securityLabelEnforcingOffset + 4

    static func securityLabel(at p: UnsafeRawPointer) -> DomainSecurityLabel {
        let label = fixedString(UnsafeRawBufferPointer(start: p, count: securityLabelBufferLength))
        return DomainSecurityLabel(label: label, enforcing: p.loadUnaligned(fromByteOffset: securityLabelEnforcingOffset, as: Int32.self) != 0)
    }

    /// SEV/TDX launch security facts (`virDomainGetLaunchSecurityInfo`: `sev-measurement`, …).
    public func launchSecurityInfo() async throws -> TypedParameters {
        try await call { d throws(LibvirtError) in
            try TypedParameterCoding.fetchAllocated("virDomainGetLaunchSecurityInfo") { p, n in virDomainGetLaunchSecurityInfo(d, p, n, 0) }
        }
    }

    /// Injects a launch secret into an SEV guest (`virDomainSetLaunchSecurityState`).
    public func setLaunchSecurityState(_ parameters: TypedParameters) async throws {
        try await call { d throws(LibvirtError) in
            try TypedParameterCoding.withEncoded(parameters) { (p, n) throws(LibvirtError) in
                try cCall("virDomainSetLaunchSecurityState", virDomainSetLaunchSecurityState(d, p, n, 0))
            }
        }
    }

    /// Messages libvirt keeps about the domain: tainting and deprecated-feature warnings
    /// (`virDomainGetMessages`).
    public func messages() async throws -> [String] {
        try await call { d throws(LibvirtError) in
            var msgs: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
            let n = Int(try cCall("virDomainGetMessages", virDomainGetMessages(d, &msgs, 0)))
            defer {
                for i in 0..<n { free(msgs?[i]) }
                free(msgs)
            }
            return (0..<n).map { msgs?[$0].map { String(cString: $0) } ?? "" }
        }
    }

    // MARK: Jobs, IOThreads, files

    /// Aborts the running job; `postcopy`: a post-copy migration too, pausing the guest
    /// (`virDomainAbortJobFlags`).
    public func abortJob(postcopy: Bool) async throws {
        let flags = postcopy ? VIR_DOMAIN_ABORT_JOB_POSTCOPY.rawValue : 0
        try await check("virDomainAbortJobFlags") { virDomainAbortJobFlags($0, flags) }
    }

    /// Sets an IOThread's polling parameters (`virDomainSetIOThreadParams`: `poll_max_ns`,
    /// `poll_grow`, `poll_shrink`, …).
    public func setIOThreadParameters(id: UInt32, _ parameters: TypedParameters, flags: ModificationImpact = .current) async throws {
        try await call { d throws(LibvirtError) in
            try TypedParameterCoding.withEncoded(parameters) { (p, n) throws(LibvirtError) in
                try cCall("virDomainSetIOThreadParams", virDomainSetIOThreadParams(d, id, p, n, flags.rawValue))
            }
        }
    }

    /// Starts the defined domain with file descriptors passed to it (`virDomainCreateWithFiles`;
    /// libvirt duplicates them, the caller keeps its own).
    public func start(passing files: [Int32], flags: StartFlags = []) async throws {
        try await call { d throws(LibvirtError) in
            var fds = files
            let rc = fds.withUnsafeMutableBufferPointer { virDomainCreateWithFiles(d, UInt32($0.count), $0.baseAddress, flags.rawValue) }
            try cCall("virDomainCreateWithFiles", rc)
        }
    }

    /// Associates file descriptors with `name` for a later `<source fdgroup='name'>` (`virDomainFDAssociate`).
    public func associateFiles(_ name: String, _ files: [Int32]) async throws {
        try await call { d throws(LibvirtError) in
            var fds = files
            let rc = fds.withUnsafeMutableBufferPointer { virDomainFDAssociate(d, name, UInt32($0.count), $0.baseAddress, 0) }
            try cCall("virDomainFDAssociate", rc)
        }
    }

    /// A connected socket to the domain's graphics console `index` (VNC/SPICE), the
    /// caller's to close (`virDomainOpenGraphicsFD`).
    public func openGraphics(index: UInt32 = 0, skipAuth: Bool = false) async throws -> Int32 {
        let flags = skipAuth ? VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH.rawValue : 0
        return try await call { d throws(LibvirtError) in try cCall("virDomainOpenGraphicsFD", virDomainOpenGraphicsFD(d, index, flags)) }
    }

    /// Hands an already connected socket to the graphics console `index` (`virDomainOpenGraphics`).
    public func openGraphics(index: UInt32 = 0, socket: Int32, skipAuth: Bool = false) async throws {
        let flags = skipAuth ? VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH.rawValue : 0
        try await check("virDomainOpenGraphics") { virDomainOpenGraphics($0, index, socket, flags) }
    }

    // MARK: Migration settings

    /// The downtime limit of live migration (`virDomainMigrateGetMaxDowntime`, ms).
    public func migrationMaxDowntime() async throws -> Duration {
        try await call { d throws(LibvirtError) in
            var ms: UInt64 = 0
            try cCall("virDomainMigrateGetMaxDowntime", virDomainMigrateGetMaxDowntime(d, &ms, 0))
            return .milliseconds(unsigned: ms)
        }
    }

    /// The migration bandwidth limit, MiB/s (`virDomainMigrateGetMaxSpeed`); `postcopy`: the post-copy phase's.
    public func migrationMaxSpeed(postcopy: Bool = false) async throws -> UInt64 {
        let flags = postcopy ? VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY.rawValue : 0
        return try await call { d throws(LibvirtError) in
            var bw: UInt = 0
            try cCall("virDomainMigrateGetMaxSpeed", virDomainMigrateGetMaxSpeed(d, &bw, flags))
            return UInt64(bw)
        }
    }

    /// The XBZRLE compression cache size (`virDomainMigrateGetCompressionCache`).
    public func migrationCompressionCache() async throws -> MemorySize {
        try await call { d throws(LibvirtError) in
            var bytes: UInt64 = 0
            try cCall("virDomainMigrateGetCompressionCache", virDomainMigrateGetCompressionCache(d, &bytes, 0))
            return MemorySize(bytes: bytes)
        }
    }

    /// Sets the XBZRLE compression cache size (`virDomainMigrateSetCompressionCache`).
    public func setMigrationCompressionCache(_ size: MemorySize) async throws {
        try await check("virDomainMigrateSetCompressionCache") { virDomainMigrateSetCompressionCache($0, size.bytes, 0) }
    }
}

extension Connection {
    /// Creates and starts a transient domain with file descriptors passed to it
    /// (`virDomainCreateXMLWithFiles`; libvirt duplicates them, the caller keeps its own).
    public func createDomain(xml: String, passing files: [Int32], flags: Domain.StartFlags = []) async throws -> Domain {
        try await call { c throws(LibvirtError) in
            var fds = files
            let d = fds.withUnsafeMutableBufferPointer { virDomainCreateXMLWithFiles(c, xml, UInt32($0.count), $0.baseAddress, flags.rawValue) }
            return Domain(adopting: try cObject("virDomainCreateXMLWithFiles", d), connection: self)
        }
    }
}
