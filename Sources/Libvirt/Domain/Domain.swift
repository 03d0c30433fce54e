import CLibvirt
import Foundation
import VirtCore

/// A handle on one libvirt domain (`virDomainPtr`), a `LibvirtObject`: frees itself
/// (`virDomainFree`) when the last Swift reference goes.
///
/// Name, UUID and ID are read from the handle without talking to the daemon; everything
/// else runs on the connection's `BlockingThreadPool`. After `Connection.close()` every
/// call throws `.invalidConn`.
public final class Domain: LibvirtObject, ConnectionObject, @unchecked Sendable {
    static let kind = ObjectKind(ref: virDomainRef, free: virDomainFree)

    /// Adopts a handle the caller owns one reference of.
    init(adopting handle: OpaquePointer, connection: Connection) {
        super.init(adopting: handle, connection: connection, kind: Self.kind)
    }

    /// Takes a new reference on a borrowed handle (`virDomainRef`).
    package init(retaining handle: OpaquePointer, connection: Connection) {
        super.init(retaining: handle, connection: connection, kind: Self.kind)
    }

    // MARK: - Identity (local, non-blocking)

    /// The domain name (`virDomainGetName`; read from the handle, no daemon call).
    public var name: String {
        virDomainGetName(handle).map { String(cString: $0) } ?? ""
    }

    /// The domain UUID (`virDomainGetUUID`; read from the handle).
    public var uuid: LibvirtUUID {
        // The handle always carries its UUID; the all-zero value is unreachable in practice.
        readUUID(handle, virDomainGetUUID) ?? LibvirtUUID.zero
    }

    /// The hypervisor ID while running, nil when inactive (`virDomainGetID`; read from the
    /// handle, so it reflects the state when the handle was obtained). The same type
    /// `Connection.domain(id:)` takes.
    public var id: UInt32? {
        let v = virDomainGetID(handle)
        return v == UInt32.max ? nil : v
    }

    override var identity: String { uuid.description }
    public override var description: String { name }

    // MARK: - Lifecycle

    /// `virDomainCreateWithFlags` flags.
    public struct StartFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let paused = Self(rawValue: VIR_DOMAIN_START_PAUSED.rawValue)
        public static let autoDestroy = Self(rawValue: VIR_DOMAIN_START_AUTODESTROY.rawValue)
        public static let bypassCache = Self(rawValue: VIR_DOMAIN_START_BYPASS_CACHE.rawValue)
        public static let forceBoot = Self(rawValue: VIR_DOMAIN_START_FORCE_BOOT.rawValue)
        public static let validate = Self(rawValue: VIR_DOMAIN_START_VALIDATE.rawValue)
        public static let resetNVRAM = Self(rawValue: VIR_DOMAIN_START_RESET_NVRAM.rawValue)
    }

    /// `virDomainShutdownFlags` / `virDomainReboot` flags (the mechanism to use).
    public struct ShutdownFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let acpiPowerButton = Self(rawValue: VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN.rawValue)
        public static let guestAgent = Self(rawValue: VIR_DOMAIN_SHUTDOWN_GUEST_AGENT.rawValue)
        public static let initctl = Self(rawValue: VIR_DOMAIN_SHUTDOWN_INITCTL.rawValue)
        public static let signal = Self(rawValue: VIR_DOMAIN_SHUTDOWN_SIGNAL.rawValue)
        public static let paravirt = Self(rawValue: VIR_DOMAIN_SHUTDOWN_PARAVIRT.rawValue)
    }

    /// `virDomainDestroyFlags` flags.
    public struct DestroyFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `VIR_DOMAIN_DESTROY_GRACEFUL`: SIGTERM only, no SIGKILL.
        public static let graceful = Self(rawValue: VIR_DOMAIN_DESTROY_GRACEFUL.rawValue)
        /// `VIR_DOMAIN_DESTROY_REMOVE_LOGS`
        public static let removeLogs = Self(rawValue: VIR_DOMAIN_DESTROY_REMOVE_LOGS.rawValue)
    }

    /// `virDomainUndefineFlags` flags.
    public struct UndefineFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let managedSave = Self(rawValue: VIR_DOMAIN_UNDEFINE_MANAGED_SAVE.rawValue)
        public static let snapshotsMetadata = Self(rawValue: VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA.rawValue)
        public static let nvram = Self(rawValue: VIR_DOMAIN_UNDEFINE_NVRAM.rawValue)
        public static let keepNVRAM = Self(rawValue: VIR_DOMAIN_UNDEFINE_KEEP_NVRAM.rawValue)
        public static let checkpointsMetadata = Self(rawValue: VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA.rawValue)
        public static let tpm = Self(rawValue: VIR_DOMAIN_UNDEFINE_TPM.rawValue)
        public static let keepTPM = Self(rawValue: VIR_DOMAIN_UNDEFINE_KEEP_TPM.rawValue)
    }

    /// Starts a defined domain (`virDomainCreateWithFlags`; without flags, `virDomainCreate`
    /// where that is unsupported).
    public func start(flags: StartFlags = []) async throws {
        try await check("virDomainCreateWithFlags", { virDomainCreateWithFlags($0, flags.rawValue) },
                        classic: flags.isEmpty ? ("virDomainCreate", { virDomainCreate($0) }) : nil)
    }

    /// Asks the guest to shut down (`virDomainShutdownFlags`; without flags,
    /// `virDomainShutdown` where that is unsupported); returns before it has.
    public func shutdown(flags: ShutdownFlags = []) async throws {
        try await check("virDomainShutdownFlags", { virDomainShutdownFlags($0, flags.rawValue) },
                        classic: flags.isEmpty ? ("virDomainShutdown", { virDomainShutdown($0) }) : nil)
    }

    /// Asks the guest to reboot (`virDomainReboot`).
    public func reboot(flags: ShutdownFlags = []) async throws {
        try await check("virDomainReboot") { virDomainReboot($0, flags.rawValue) }
    }

    /// Stops the domain at once, like pulling the plug (`virDomainDestroyFlags`; without
    /// flags, `virDomainDestroy` where that is unsupported).
    public func destroy(flags: DestroyFlags = []) async throws {
        try await check("virDomainDestroyFlags", { virDomainDestroyFlags($0, flags.rawValue) },
                        classic: flags.isEmpty ? ("virDomainDestroy", { virDomainDestroy($0) }) : nil)
    }

    /// Pauses all vCPUs (`virDomainSuspend`); the state becomes paused (user).
    public func suspend() async throws {
        try await check("virDomainSuspend") { virDomainSuspend($0) }
    }

    /// Resumes a paused domain (`virDomainResume`).
    public func resume() async throws {
        try await check("virDomainResume") { virDomainResume($0) }
    }

    /// Removes the persistent definition (`virDomainUndefineFlags`; without flags,
    /// `virDomainUndefine` where that is unsupported). A running domain keeps running as transient.
    public func undefine(flags: UndefineFlags = []) async throws {
        try await check("virDomainUndefineFlags", { virDomainUndefineFlags($0, flags.rawValue) },
                        classic: flags.isEmpty ? ("virDomainUndefine", { virDomainUndefine($0) }) : nil)
    }

    // MARK: - Description and state

    /// `virDomainGetXMLDesc` flags (`virDomainXMLFlags`).
    public struct XMLFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `VIR_DOMAIN_XML_SECURE`: include passwords and other secrets.
        public static let secure = Self(rawValue: VIR_DOMAIN_XML_SECURE.rawValue)
        /// `VIR_DOMAIN_XML_INACTIVE`: the persistent config, not the live one.
        public static let inactive = Self(rawValue: VIR_DOMAIN_XML_INACTIVE.rawValue)
        /// `VIR_DOMAIN_XML_UPDATE_CPU`
        public static let updateCPU = Self(rawValue: VIR_DOMAIN_XML_UPDATE_CPU.rawValue)
        /// `VIR_DOMAIN_XML_MIGRATABLE`: suitable for migration.
        public static let migratable = Self(rawValue: VIR_DOMAIN_XML_MIGRATABLE.rawValue)
    }

    /// The domain XML (`virDomainGetXMLDesc`).
    public func xmlDescription(flags: XMLFlags = []) async throws -> String {
        try await string("virDomainGetXMLDesc") { virDomainGetXMLDesc($0, flags.rawValue) }
    }

    /// The state and its reason (`virDomainGetState`).
    public func state() async throws -> DomainStatus {
        try await call { d throws(LibvirtError) in
            var s: Int32 = 0, r: Int32 = 0
            try cCall("virDomainGetState", virDomainGetState(d, &s, &r, 0))
            return DomainStatus(state: s, reason: r)
        }
    }

    /// State, memory, vCPUs and CPU time (`virDomainGetInfo`).
    public func info() async throws -> DomainInfo {
        try await call { d throws(LibvirtError) in
            var i = virDomainInfo()
            try cCall("virDomainGetInfo", virDomainGetInfo(d, &i))
            return DomainInfo(
                state: DomainState(rawValue: Int32(i.state)), maxMemory: .kibibytes(UInt64(i.maxMem)),
                memory: .kibibytes(UInt64(i.memory)), vcpus: Int(i.nrVirtCpu), cpuTime: .nanoseconds(unsigned: UInt64(i.cpuTime)))
        }
    }

    /// The state of libvirt's control channel to the domain (`virDomainGetControlInfo`).
    public func controlInfo() async throws -> DomainControlInfo {
        try await call { d throws(LibvirtError) in
            var i = virDomainControlInfo()
            try cCall("virDomainGetControlInfo", virDomainGetControlInfo(d, &i, 0))
            return DomainControlInfo(
                state: .init(rawValue: Int32(bitPattern: i.state)), errorReason: .init(rawValue: Int32(bitPattern: i.details)),
                stateTime: .milliseconds(unsigned: UInt64(i.stateTime)))
        }
    }

    /// Disks with I/O errors libvirt recorded (`virDomainGetDiskErrors`); empty when none.
    public func diskErrors() async throws -> [DomainDiskError] {
        try await call { d throws(LibvirtError) in
            let n = try cCall("virDomainGetDiskErrors", virDomainGetDiskErrors(d, nil, 0, 0))
            if n == 0 { return [] }
            var errs = [virDomainDiskError](repeating: virDomainDiskError(), count: Int(n))
            let got = try cCall("virDomainGetDiskErrors", virDomainGetDiskErrors(d, &errs, UInt32(n), 0))
            return errs.prefix(Int(got)).map { e in
                defer { free(e.disk) }
                return DomainDiskError(disk: e.disk.map { String(cString: $0) } ?? "", error: .init(rawValue: e.error))
            }
        }
    }

    /// Whether the domain runs (`virDomainIsActive`).
    public func isActive() async throws -> Bool {
        try await flag("virDomainIsActive") { virDomainIsActive($0) }
    }

    /// Whether the domain has a persistent definition (`virDomainIsPersistent`).
    public func isPersistent() async throws -> Bool {
        try await flag("virDomainIsPersistent") { virDomainIsPersistent($0) }
    }

    /// Whether the domain starts with the host (`virDomainGetAutostart`).
    public func autostart() async throws -> Bool {
        try await outFlag("virDomainGetAutostart") { virDomainGetAutostart($0, $1) }
    }

    /// Sets whether the domain starts with the host (`virDomainSetAutostart`).
    public func setAutostart(_ on: Bool) async throws {
        try await check("virDomainSetAutostart") { virDomainSetAutostart($0, on ? 1 : 0) }
    }
}
