import CLibvirt
import Foundation
import VirtCore

/// One mounted guest file system (`virDomainFSInfo`, from the guest agent).
public struct GuestFileSystem: Hashable, Sendable {
    public var mountPoint: String
    /// The guest's device name (`sda1`).
    public var name: String
    /// `ext4`, `xfs`, …
    public var type: String
    /// The domain's disk aliases backing it.
    public var diskAliases: [String]
}

/// One guest network interface and its addresses (`virDomainInterface`).
public struct GuestInterfaceAddresses: Hashable, Sendable {
    public struct Address: Hashable, Sendable {
        /// `virIPAddrType`: IPv4 or IPv6.
        public var isIPv6: Bool
        public var address: String
        public var prefix: UInt32
    }
    public var name: String
    /// MAC address; nil when the source does not report one.
    public var mac: String?
    public var addresses: [Address]
}

/// Where `Domain.interfaceAddresses` reads from (`virDomainInterfaceAddressesSource`).
public enum InterfaceAddressSource: CEnumMirror {
    /// The DHCP leases of libvirt's own networks.
    case lease
    /// The guest agent.
    case agent
    /// The host's ARP table.
    case arp
    case unknown(Int32)
    public static let known: [(Self, String)] = [(.lease, "lease"), (.agent, "agent"), (.arp, "arp")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virDomainGuestInfoTypes`: which parts `Domain.guestInfo` asks the agent for.
public struct GuestInfoTypes: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let users = Self(rawValue: VIR_DOMAIN_GUEST_INFO_USERS.rawValue)
    public static let os = Self(rawValue: VIR_DOMAIN_GUEST_INFO_OS.rawValue)
    public static let timezone = Self(rawValue: VIR_DOMAIN_GUEST_INFO_TIMEZONE.rawValue)
    public static let hostname = Self(rawValue: VIR_DOMAIN_GUEST_INFO_HOSTNAME.rawValue)
    public static let filesystem = Self(rawValue: VIR_DOMAIN_GUEST_INFO_FILESYSTEM.rawValue)
    public static let disks = Self(rawValue: VIR_DOMAIN_GUEST_INFO_DISKS.rawValue)
    public static let interfaces = Self(rawValue: VIR_DOMAIN_GUEST_INFO_INTERFACES.rawValue)
}

/// What the guest agent reports (`virDomainGetGuestInfo`): the common keys typed, every
/// key in `raw` (`user.N.name`, `fs.N.…`, `disk.N.…`, `if.N.…` by index).
public struct GuestInfo: Hashable, Sendable {
    public var hostname: String?
    public var osID: String?
    public var osName: String?
    public var osPrettyName: String?
    public var osVersion: String?
    public var kernelRelease: String?
    public var machine: String?
    public var timezoneName: String?
    /// Offset from UTC.
    public var timezoneOffset: Duration?
    public var userCount: Int?
    public var fileSystemCount: Int?
    public var diskCount: Int?
    public var interfaceCount: Int?
    public var raw: TypedParameters

    init(_ p: TypedParameters) {
        hostname = p["hostname"]?.string
        osID = p["os.id"]?.string
        osName = p["os.name"]?.string
        osPrettyName = p["os.pretty-name"]?.string
        osVersion = p["os.version"]?.string
        kernelRelease = p["os.kernel-release"]?.string
        machine = p["os.machine"]?.string
        timezoneName = p["timezone.name"]?.string
        timezoneOffset = p["timezone.offset"]?.int64.map { .seconds($0) }
        userCount = p["user.count"]?.uint64.flatMap { Int(exactly: $0) }
        fileSystemCount = p["fs.count"]?.uint64.flatMap { Int(exactly: $0) }
        diskCount = p["disk.count"]?.uint64.flatMap { Int(exactly: $0) }
        interfaceCount = p["if.count"]?.uint64.flatMap { Int(exactly: $0) }
        raw = p
    }
}

extension LibvirtError {
    /// The call needed the guest agent and there is none to talk to: not configured
    /// (no `org.qemu.guest_agent.0` channel), not connected, or not answering
    /// (`VIR_ERR_AGENT_UNRESPONSIVE`, or QEMU's `VIR_ERR_ARGUMENT_UNSUPPORTED` /
    /// `VIR_ERR_OPERATION_UNSUPPORTED` naming the agent).
    public var isAgentUnavailable: Bool {
        if code == .agentUnresponsive { return true }
        guard code == .argumentUnsupported || code == .operationUnsupported || code == .operationInvalid else { return false }
        return message.localizedCaseInsensitiveContains("guest agent")
    }
}

extension Domain {
    /// Asks the guest agent for `types` (`virDomainGetGuestInfo`; empty: everything it has).
    public func guestInfo(_ types: GuestInfoTypes = []) async throws -> GuestInfo {
        GuestInfo(try await call { d throws(LibvirtError) in
            try TypedParameterCoding.fetchAllocated("virDomainGetGuestInfo") { p, n in virDomainGetGuestInfo(d, types.rawValue, p, n, 0) }
        })
    }

    /// The guest's mounted file systems, from the agent (`virDomainGetFSInfo`).
    public func fileSystems() async throws -> [GuestFileSystem] {
        try await call { d throws(LibvirtError) in
            var info: UnsafeMutablePointer<virDomainFSInfoPtr?>?
            let n = Int(try cCall("virDomainGetFSInfo", virDomainGetFSInfo(d, &info, 0)))
            defer {
                for i in 0..<n { virDomainFSInfoFree(info?[i]) }
                free(info)
            }
            let s = { (p: UnsafeMutablePointer<CChar>?) in p.map { String(cString: $0) } ?? "" }
            return (0..<n).compactMap { i in
                info?[i].map { f in
                    GuestFileSystem(mountPoint: s(f.pointee.mountpoint), name: s(f.pointee.name), type: s(f.pointee.fstype),
                                    diskAliases: (0..<Int(f.pointee.ndevAlias)).map { s(f.pointee.devAlias?[$0]) })
                }
            }
        }
    }

    /// The guest's interfaces and IP addresses from `source` (`virDomainInterfaceAddresses`).
    public func interfaceAddresses(source: InterfaceAddressSource = .lease) async throws -> [GuestInterfaceAddresses] {
        let src = UInt32(bitPattern: source.rawValue)
        return try await call { d throws(LibvirtError) in
            var ifaces: UnsafeMutablePointer<virDomainInterfacePtr?>?
            let n = Int(try cCall("virDomainInterfaceAddresses", virDomainInterfaceAddresses(d, &ifaces, src, 0)))
            defer {
                for i in 0..<n { virDomainInterfaceFree(ifaces?[i]) }
                free(ifaces)
            }
            return (0..<n).compactMap { i in
                ifaces?[i].map { f in
                    let addrs = (0..<Int(f.pointee.naddrs)).compactMap { j -> GuestInterfaceAddresses.Address? in
                        guard let a = f.pointee.addrs?[j] else { return nil }
                        return .init(isIPv6: a.type == Int32(VIR_IP_ADDR_TYPE_IPV6.rawValue),
                                     address: a.addr.map { String(cString: $0) } ?? "", prefix: a.prefix)
                    }
                    return GuestInterfaceAddresses(name: f.pointee.name.map { String(cString: $0) } ?? "",
                                                   mac: f.pointee.hwaddr.map { String(cString: $0) }, addresses: addrs)
                }
            }
        }
    }

    /// Sets a guest user's password through the agent (`virDomainSetUserPassword`);
    /// `encrypted`: `password` is already crypt()ed.
    public func setUserPassword(user: String, password: String, encrypted: Bool = false) async throws {
        let flags = encrypted ? VIR_DOMAIN_PASSWORD_ENCRYPTED.rawValue : 0
        try await check("virDomainSetUserPassword") { virDomainSetUserPassword($0, user, password, flags) }
    }

    /// The guest's clock, through the agent (`virDomainGetTime`).
    public func guestTime() async throws -> Timestamp {
        try await call { d throws(LibvirtError) in
            var s: Int64 = 0
            var ns: UInt32 = 0
            try cCall("virDomainGetTime", virDomainGetTime(d, &s, &ns, 0))
            return Timestamp(sinceUnixEpoch: .seconds(s) + .nanoseconds(Int64(ns)))
        }
    }

    /// Sets the guest's clock to `time`, or with nil re-reads the RTC into the guest's
    /// system clock (`virDomainSetTime` with `VIR_DOMAIN_TIME_SYNC`).
    public func setGuestTime(_ time: Timestamp?) async throws {
        // Duration's components: whole seconds (floor) and attoseconds in 0..<1 s.
        let c = time?.sinceUnixEpoch.components ?? (seconds: 0, attoseconds: 0)
        let s = c.seconds, ns = UInt32(c.attoseconds / 1_000_000_000)
        let flags = time == nil ? VIR_DOMAIN_TIME_SYNC.rawValue : 0
        try await check("virDomainSetTime") { virDomainSetTime($0, s, ns, flags) }
    }

    /// Freezes guest file systems (all when `mountPoints` is empty) for a consistent
    /// snapshot; returns how many (`virDomainFSFreeze`). Thaw with `thawFileSystems`.
    @discardableResult
    public func freezeFileSystems(_ mountPoints: [String] = []) async throws -> Int {
        try await call { d throws(LibvirtError) in
            Int(try Self.withCStrings(mountPoints) { (p, n) throws(LibvirtError) in
                try cCall("virDomainFSFreeze", virDomainFSFreeze(d, p, n, 0))
            })
        }
    }

    /// Thaws frozen guest file systems; returns how many (`virDomainFSThaw`).
    @discardableResult
    public func thawFileSystems(_ mountPoints: [String] = []) async throws -> Int {
        try await call { d throws(LibvirtError) in
            Int(try Self.withCStrings(mountPoints) { (p, n) throws(LibvirtError) in
                try cCall("virDomainFSThaw", virDomainFSThaw(d, p, n, 0))
            })
        }
    }

    /// Discards unused blocks of a guest file system (nil: all), ranges shorter than
    /// `minimum` skipped (`virDomainFSTrim`).
    public func trimFileSystem(mountPoint: String? = nil, minimum: MemorySize = MemorySize(bytes: 0)) async throws {
        try await check("virDomainFSTrim") { virDomainFSTrim($0, mountPoint, minimum.bytes, 0) }
    }

    /// `virDomainGetHostnameFlags`: where `guestHostname` asks.
    public enum HostnameSource: Hashable, Sendable {
        /// The driver's default (QEMU: the agent).
        case any, agent, lease
    }

    /// The guest's host name (`virDomainGetHostname`).
    public func guestHostname(source: HostnameSource = .any) async throws -> String {
        let flags: UInt32 = switch source {
        case .any: 0
        case .agent: VIR_DOMAIN_GET_HOSTNAME_AGENT.rawValue
        case .lease: VIR_DOMAIN_GET_HOSTNAME_LEASE.rawValue
        }
        return try await string("virDomainGetHostname") { virDomainGetHostname($0, flags) }
    }

    /// Which guest vCPUs are online and may be offlined, as the agent sees them
    /// (`virDomainGetGuestVcpus`: `vcpus`, `online`, `offlinable` as CPU lists).
    public func guestVCPUs() async throws -> (vcpus: CPUSet?, online: CPUSet?, offlinable: CPUSet?, raw: TypedParameters) {
        let p = try await call { d throws(LibvirtError) in
            var params: UnsafeMutablePointer<virTypedParameter>?
            var n: UInt32 = 0
            try cCall("virDomainGetGuestVcpus", virDomainGetGuestVcpus(d, &params, &n, 0))
            defer { virTypedParamsFree(params, Int32(n)) }
            return TypedParameterCoding.decode(params, count: Int(n))
        }
        let set = { (k: String) in p[k]?.string.flatMap { try? CPUSet(parsing: $0) } }
        return (set("vcpus"), set("online"), set("offlinable"), p)
    }

    /// Onlines or offlines guest vCPUs through the agent (`virDomainSetGuestVcpus`).
    public func setGuestVCPUs(_ cpus: CPUSet, online: Bool) async throws {
        let map = cpus.description
        try await check("virDomainSetGuestVcpus") { virDomainSetGuestVcpus($0, map, online ? 1 : 0, 0) }
    }

    /// Hot(un)plugs individual vCPUs by ID (`virDomainSetVcpu`).
    public func setVCPUs(_ cpus: CPUSet, enabled: Bool, flags: ModificationImpact = .current) async throws {
        let map = cpus.description
        try await check("virDomainSetVcpu") { virDomainSetVcpu($0, map, enabled ? 1 : 0, flags.rawValue) }
    }

    /// How long libvirt waits for the agent (`virDomainAgentSetResponseTimeout`): nil
    /// blocks forever, `.zero` does not wait; else whole seconds.
    public func setAgentResponseTimeout(_ timeout: Duration?) async throws {
        let secs: Int32 = timeout.map { Int32(clamping: $0.components.seconds) } ?? VIR_DOMAIN_AGENT_RESPONSE_TIMEOUT_BLOCK.rawValue
        try await check("virDomainAgentSetResponseTimeout") { virDomainAgentSetResponseTimeout($0, secs, 0) }
    }

    /// A guest user's `authorized_keys` lines, through the agent (`virDomainAuthorizedSSHKeysGet`).
    public func authorizedSSHKeys(user: String) async throws -> [String] {
        try await call { d throws(LibvirtError) in
            var keys: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
            let n = Int(try cCall("virDomainAuthorizedSSHKeysGet", virDomainAuthorizedSSHKeysGet(d, user, &keys, 0)))
            defer {
                for i in 0..<n { free(keys?[i]) }
                free(keys)
            }
            return (0..<n).map { keys?[$0].map { String(cString: $0) } ?? "" }
        }
    }

    /// How `setAuthorizedSSHKeys` changes the file.
    public enum SSHKeysChange: Hashable, Sendable {
        case replace, append, remove
    }

    /// Replaces, appends to or removes from a guest user's `authorized_keys`
    /// (`virDomainAuthorizedSSHKeysSet`).
    public func setAuthorizedSSHKeys(user: String, _ keys: [String], change: SSHKeysChange = .replace) async throws {
        let flags: UInt32 = switch change {
        case .replace: 0
        case .append: VIR_DOMAIN_AUTHORIZED_SSH_KEYS_SET_APPEND.rawValue
        case .remove: VIR_DOMAIN_AUTHORIZED_SSH_KEYS_SET_REMOVE.rawValue
        }
        try await call { d throws(LibvirtError) in
            _ = try Self.withCStrings(keys) { (p, n) throws(LibvirtError) in
                try cCall("virDomainAuthorizedSSHKeysSet", virDomainAuthorizedSSHKeysSet(d, user, p, n, flags))
            }
        }
    }

    /// Passes `strings` as a C `const char **` and its count (NULL for none).
    static func withCStrings<T>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>?, UInt32) throws(LibvirtError) -> T) throws(LibvirtError) -> T {
        let copies = strings.map { UnsafePointer(strdup($0)) }
        defer { copies.forEach { free(UnsafeMutableRawPointer(mutating: $0)) } }
        var array = copies
        if array.isEmpty { return try body(nil, 0) }
        let result: Result<T, LibvirtError> = array.withUnsafeMutableBufferPointer { b in
            do throws(LibvirtError) { return .success(try body(b.baseAddress, UInt32(b.count))) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
