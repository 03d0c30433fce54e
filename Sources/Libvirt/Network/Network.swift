import CLibvirt
import Foundation
import VirtCore

/// A virtual network (`virNetworkPtr`). A `LibvirtObject`; name and UUID come from the handle.
public final class Network: LibvirtObject, ConnectionObject, @unchecked Sendable {
    static let kind = ObjectKind(ref: virNetworkRef, free: virNetworkFree)

    init(adopting handle: OpaquePointer, connection: Connection) {
        super.init(adopting: handle, connection: connection, kind: Self.kind)
    }

    /// The network's name (`virNetworkGetName`; from the handle).
    public var name: String { virNetworkGetName(handle).map { String(cString: $0) } ?? "" }

    /// The network's UUID (`virNetworkGetUUID`; from the handle).
    public var uuid: LibvirtUUID { readUUID(handle, virNetworkGetUUID) ?? .zero }

    override var identity: String { uuid.description }
    public override var description: String { name }

    /// Starts a defined network (`virNetworkCreate`).
    public func start() async throws {
        try await check("virNetworkCreate") { virNetworkCreate($0) }
    }

    /// Stops the network (`virNetworkDestroy`).
    public func destroy() async throws {
        try await check("virNetworkDestroy") { virNetworkDestroy($0) }
    }

    /// Removes the persistent definition (`virNetworkUndefine`).
    public func undefine() async throws {
        try await check("virNetworkUndefine") { virNetworkUndefine($0) }
    }

    /// Whether it runs (`virNetworkIsActive`).
    public func isActive() async throws -> Bool {
        try await flag("virNetworkIsActive") { virNetworkIsActive($0) }
    }

    /// Whether it has a persistent definition (`virNetworkIsPersistent`).
    public func isPersistent() async throws -> Bool {
        try await flag("virNetworkIsPersistent") { virNetworkIsPersistent($0) }
    }

    /// Whether it starts with the host (`virNetworkGetAutostart`).
    public func autostart() async throws -> Bool {
        try await outFlag("virNetworkGetAutostart") { virNetworkGetAutostart($0, $1) }
    }

    /// Sets whether it starts with the host (`virNetworkSetAutostart`).
    public func setAutostart(_ on: Bool) async throws {
        try await check("virNetworkSetAutostart") { virNetworkSetAutostart($0, on ? 1 : 0) }
    }

    /// The network XML (`virNetworkGetXMLDesc`); `inactive`: the persistent definition.
    public func xmlDescription(inactive: Bool = false) async throws -> String {
        let flags = inactive ? VIR_NETWORK_XML_INACTIVE.rawValue : 0
        return try await string("virNetworkGetXMLDesc") { virNetworkGetXMLDesc($0, flags) }
    }

    /// The host bridge the network uses (`virNetworkGetBridgeName`).
    public func bridgeName() async throws -> String {
        try await string("virNetworkGetBridgeName") { virNetworkGetBridgeName($0) }
    }

    /// `virNetworkUpdateCommand`.
    public enum UpdateCommand: CEnumMirror {
        case none, modify, delete, addLast, addFirst
        case unknown(Int32)
        public static let known: [(Self, String)] = [(.none, "none"), (.modify, "modify"), (.delete, "delete"), (.addLast, "add-last"), (.addFirst, "add-first")]
        public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
        public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
    }

    /// `virNetworkUpdateSection`: which part of the definition an update changes.
    public enum UpdateSection: CEnumMirror {
        case none, bridge, domain, ip, ipDHCPHost, ipDHCPRange, forward, forwardInterface, forwardPF, portGroup, dnsHost, dnsTXT, dnsSRV
        case unknown(Int32)
        public static let known: [(Self, String)] = [
            (.none, "none"), (.bridge, "bridge"), (.domain, "domain"), (.ip, "ip"), (.ipDHCPHost, "ip-dhcp-host"),
            (.ipDHCPRange, "ip-dhcp-range"), (.forward, "forward"), (.forwardInterface, "forward-interface"), (.forwardPF, "forward-pf"),
            (.portGroup, "portgroup"), (.dnsHost, "dns-host"), (.dnsTXT, "dns-txt"), (.dnsSRV, "dns-srv"),
        ]
        public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
        public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
    }

    /// Changes one section of the definition in place (`virNetworkUpdate`), e.g. adds a DHCP
    /// host: `update(.addLast, .ipDHCPHost, xml: "<host mac='…' ip='…'/>", flags: [.live, .config])`.
    /// - Parameters:
    ///   - command: add, delete or modify (first or last among the siblings).
    ///   - section: which part of the definition the XML replaces or extends.
    ///   - xml: the element to add, delete or modify.
    ///   - parentIndex: which `<ip>` (or other parent) element; nil: the first.
    ///   - flags: the running network, its persistent definition, or both.
    public func update(_ command: UpdateCommand, _ section: UpdateSection, xml: String, parentIndex: Int? = nil,
                       flags: ModificationImpact = .current) async throws {
        guard let cmd = UInt32(exactly: command.rawValue), let sec = UInt32(exactly: section.rawValue) else {
            throw LibvirtError(code: .invalidArg, message: "network update \(command) \(section) out of range")
        }
        let index = Int32(clamping: parentIndex ?? -1)
        try await check("virNetworkUpdate") { virNetworkUpdate($0, cmd, sec, index, xml, flags.rawValue) }
    }

    /// The DHCP leases the network's dnsmasq handed out, all or for one MAC address
    /// (`virNetworkGetDHCPLeases`).
    public func dhcpLeases(mac: String? = nil) async throws -> [NetworkDHCPLease] {
        try await call { n throws(LibvirtError) in
            var leases: UnsafeMutablePointer<virNetworkDHCPLeasePtr?>?
            let count = try cCall("virNetworkGetDHCPLeases", virNetworkGetDHCPLeases(n, mac, &leases, 0))
            defer {
                for i in 0..<Int(count) { virNetworkDHCPLeaseFree(leases?[i]) }
                free(leases)
            }
            return (0..<Int(count)).compactMap { i in leases?[i].map { NetworkDHCPLease($0.pointee) } }
        }
    }

    /// The network's ports (`virNetworkListAllPorts`).
    public func listAllPorts() async throws -> [NetworkPort] {
        try await call { n throws(LibvirtError) in
            try listAll("virNetworkListAllPorts", n, 0, virNetworkListAllPorts) { NetworkPort(adopting: $0, connection: self.connection) }
        }
    }

    /// A port by UUID (`virNetworkPortLookupByUUID`).
    public func port(uuid: LibvirtUUID) async throws -> NetworkPort {
        try await call { n throws(LibvirtError) in
            NetworkPort(adopting: try cObject("virNetworkPortLookupByUUID", virNetworkPortLookupByUUID(n, uuid.bytes)), connection: self.connection)
        }
    }

    /// A port by its UUID as text (`virNetworkPortLookupByUUIDString`); a malformed string is `.invalidArg`.
    public func port(uuidString: String) async throws -> NetworkPort {
        try await call { n throws(LibvirtError) in
            NetworkPort(adopting: try cObject("virNetworkPortLookupByUUIDString", virNetworkPortLookupByUUIDString(n, uuidString)), connection: self.connection)
        }
    }

    /// Creates a port from XML (`virNetworkPortCreateXML`).
    public func createPort(xml: String) async throws -> NetworkPort {
        try await call { n throws(LibvirtError) in
            NetworkPort(adopting: try cObject("virNetworkPortCreateXML", virNetworkPortCreateXML(n, xml, 0)), connection: self.connection)
        }
    }
}

/// One DHCP lease (`virNetworkDHCPLease`).
public struct NetworkDHCPLease: Hashable, Sendable {
    /// The host-side interface (the network's bridge).
    public var interface: String
    /// When the lease runs out.
    public var expiry: Timestamp
    /// `virIPAddrType`: 0 IPv4, 1 IPv6.
    public var isIPv6: Bool
    public var mac: String?
    public var iaid: String?
    public var ipAddress: String
    public var prefix: Int
    public var hostname: String?
    public var clientID: String?

    init(_ l: virNetworkDHCPLease) {
        func s(_ p: UnsafeMutablePointer<CChar>?) -> String? { p.map { String(cString: $0) } }
        interface = s(l.iface) ?? ""
        expiry = .seconds(sinceUnixEpoch: l.expirytime)
        isIPv6 = l.type == Int32(VIR_IP_ADDR_TYPE_IPV6.rawValue)
        mac = s(l.mac)
        iaid = s(l.iaid)
        ipAddress = s(l.ipaddr) ?? ""
        prefix = Int(l.prefix)
        hostname = s(l.hostname)
        clientID = s(l.clientid)
    }
}

/// A port of a virtual network (`virNetworkPortPtr`): a guest interface's attachment.
public final class NetworkPort: LibvirtObject, @unchecked Sendable {
    static let kind = ObjectKind(ref: virNetworkPortRef, free: virNetworkPortFree)

    init(adopting handle: OpaquePointer, connection: Connection) {
        super.init(adopting: handle, connection: connection, kind: Self.kind)
    }

    /// The port's UUID (`virNetworkPortGetUUID`; from the handle).
    public var uuid: LibvirtUUID { readUUID(handle, virNetworkPortGetUUID) ?? .zero }

    override var identity: String { uuid.description }

    /// The port XML (`virNetworkPortGetXMLDesc`).
    public func xmlDescription() async throws -> String {
        try await string("virNetworkPortGetXMLDesc") { virNetworkPortGetXMLDesc($0, 0) }
    }

    /// Deletes the port (`virNetworkPortDelete`).
    public func delete() async throws {
        try await check("virNetworkPortDelete") { virNetworkPortDelete($0, 0) }
    }
}

extension Connection {
    /// `virConnectListAllNetworksFlags`.
    public struct NetworkListFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let active = Self(rawValue: VIR_CONNECT_LIST_NETWORKS_ACTIVE.rawValue)
        public static let inactive = Self(rawValue: VIR_CONNECT_LIST_NETWORKS_INACTIVE.rawValue)
        public static let persistent = Self(rawValue: VIR_CONNECT_LIST_NETWORKS_PERSISTENT.rawValue)
        public static let transient = Self(rawValue: VIR_CONNECT_LIST_NETWORKS_TRANSIENT.rawValue)
        public static let autostart = Self(rawValue: VIR_CONNECT_LIST_NETWORKS_AUTOSTART.rawValue)
        public static let noAutostart = Self(rawValue: VIR_CONNECT_LIST_NETWORKS_NO_AUTOSTART.rawValue)
    }

    /// Networks matching `flags` (`virConnectListAllNetworks`; where that is unsupported and
    /// `flags` ask for no more than active/inactive, `virConnectListNetworks` and
    /// `virConnectListDefinedNetworks`, each name looked up).
    public func listAllNetworks(flags: NetworkListFlags = []) async throws -> [Network] {
        try await list(Self.networkListing, flags: flags.rawValue)
    }

    static let networkListing = ObjectListing(
        "virConnectListAllNetworks", virConnectListAllNetworks,
        active: NameList("virConnectNumOfNetworks", virConnectNumOfNetworks, "virConnectListNetworks", virConnectListNetworks),
        inactive: NameList("virConnectNumOfDefinedNetworks", virConnectNumOfDefinedNetworks, "virConnectListDefinedNetworks", virConnectListDefinedNetworks),
        activeFlag: NetworkListFlags.active.rawValue, inactiveFlag: NetworkListFlags.inactive.rawValue, lookup: virNetworkLookupByName)

    /// A network by name (`virNetworkLookupByName`); `.noNetwork` if none.
    public func network(named name: String) async throws -> Network {
        try await lookup("virNetworkLookupByName") { virNetworkLookupByName($0, name) }
    }

    /// A network by UUID (`virNetworkLookupByUUID`).
    public func network(uuid: LibvirtUUID) async throws -> Network {
        try await lookup("virNetworkLookupByUUID") { virNetworkLookupByUUID($0, uuid.bytes) }
    }

    /// A network by its UUID as text (`virNetworkLookupByUUIDString`); a malformed string is `.invalidArg`.
    public func network(uuidString: String) async throws -> Network {
        try await lookup("virNetworkLookupByUUIDString") { virNetworkLookupByUUIDString($0, uuidString) }
    }

    /// Defines a persistent, inactive network from XML (`virNetworkDefineXMLFlags`; without
    /// validation, `virNetworkDefineXML` where that is unsupported).
    public func defineNetwork(xml: String, validate: Bool = false) async throws -> Network {
        let flags = validate ? VIR_NETWORK_DEFINE_VALIDATE.rawValue : 0
        return try await call { c throws(LibvirtError) in
            Network(adopting: try withClassicFallback(self, { () throws(LibvirtError) in
                try cObject("virNetworkDefineXMLFlags", virNetworkDefineXMLFlags(c, xml, flags))
            }, classic: validate ? nil : { () throws(LibvirtError) in try cObject("virNetworkDefineXML", virNetworkDefineXML(c, xml)) }), connection: self)
        }
    }

    /// Creates and starts a transient network from XML (`virNetworkCreateXMLFlags`; without
    /// validation, `virNetworkCreateXML` where that is unsupported).
    public func createNetwork(xml: String, validate: Bool = false) async throws -> Network {
        let flags = validate ? VIR_NETWORK_CREATE_VALIDATE.rawValue : 0
        return try await call { c throws(LibvirtError) in
            Network(adopting: try withClassicFallback(self, { () throws(LibvirtError) in
                try cObject("virNetworkCreateXMLFlags", virNetworkCreateXMLFlags(c, xml, flags))
            }, classic: validate ? nil : { () throws(LibvirtError) in try cObject("virNetworkCreateXML", virNetworkCreateXML(c, xml)) }), connection: self)
        }
    }
}
