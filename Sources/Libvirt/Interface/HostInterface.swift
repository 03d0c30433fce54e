import CLibvirt
import Foundation
import VirtCore

/// A host network interface as libvirt's interface driver (netcf / udev) manages it
/// (`virInterfacePtr`): physical NICs, bridges, bonds, VLANs. A `LibvirtObject`; name and
/// MAC come from the handle. `LibvirtXML.HostInterfaceDefinition` reads its XML.
public final class HostInterface: LibvirtObject, ConnectionObject, @unchecked Sendable {
    static let kind = ObjectKind(ref: virInterfaceRef, free: virInterfaceFree)

    init(adopting handle: OpaquePointer, connection: Connection) {
        super.init(adopting: handle, connection: connection, kind: Self.kind)
    }

    /// The interface's name, e.g. `eth0` (`virInterfaceGetName`; from the handle).
    public var name: String { virInterfaceGetName(handle).map { String(cString: $0) } ?? "" }

    /// The MAC address (`virInterfaceGetMACString`; from the handle); nil when it has none.
    public var mac: String? { virInterfaceGetMACString(handle).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } }

    override var identity: String { name }
    public override var description: String { name }

    /// The interface XML (`virInterfaceGetXMLDesc`); `inactive`: the definition, not the live state.
    public func xmlDescription(inactive: Bool = false) async throws -> String {
        let flags = inactive ? VIR_INTERFACE_XML_INACTIVE.rawValue : 0
        return try await string("virInterfaceGetXMLDesc") { virInterfaceGetXMLDesc($0, flags) }
    }

    /// Brings the interface up (`virInterfaceCreate`).
    public func start() async throws {
        try await check("virInterfaceCreate") { virInterfaceCreate($0, 0) }
    }

    /// Takes the interface down (`virInterfaceDestroy`).
    public func destroy() async throws {
        try await check("virInterfaceDestroy") { virInterfaceDestroy($0, 0) }
    }

    /// Removes the definition (`virInterfaceUndefine`).
    public func undefine() async throws {
        try await check("virInterfaceUndefine") { virInterfaceUndefine($0) }
    }

    /// Whether it is up (`virInterfaceIsActive`).
    public func isActive() async throws -> Bool {
        try await flag("virInterfaceIsActive") { virInterfaceIsActive($0) }
    }
}

extension Connection {
    /// `virConnectListAllInterfacesFlags`.
    public struct InterfaceListFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let active = Self(rawValue: VIR_CONNECT_LIST_INTERFACES_ACTIVE.rawValue)
        public static let inactive = Self(rawValue: VIR_CONNECT_LIST_INTERFACES_INACTIVE.rawValue)
    }

    /// Host interfaces matching `flags` (`virConnectListAllInterfaces`; empty: all; where that
    /// is unsupported, `virConnectListInterfaces` and `virConnectListDefinedInterfaces`, each
    /// name looked up).
    public func listAllInterfaces(flags: InterfaceListFlags = []) async throws -> [HostInterface] {
        try await list(Self.interfaceListing, flags: flags.rawValue)
    }

    static let interfaceListing = ObjectListing(
        "virConnectListAllInterfaces", virConnectListAllInterfaces,
        active: NameList("virConnectNumOfInterfaces", virConnectNumOfInterfaces, "virConnectListInterfaces", virConnectListInterfaces),
        inactive: NameList("virConnectNumOfDefinedInterfaces", virConnectNumOfDefinedInterfaces, "virConnectListDefinedInterfaces", virConnectListDefinedInterfaces),
        activeFlag: InterfaceListFlags.active.rawValue, inactiveFlag: InterfaceListFlags.inactive.rawValue, lookup: virInterfaceLookupByName)

    /// An interface by name (`virInterfaceLookupByName`); `.noInterface` if none.
    public func hostInterface(named name: String) async throws -> HostInterface {
        try await lookup("virInterfaceLookupByName") { virInterfaceLookupByName($0, name) }
    }

    /// An interface by MAC address (`virInterfaceLookupByMACString`); `.noInterface` if none.
    public func hostInterface(mac: String) async throws -> HostInterface {
        try await lookup("virInterfaceLookupByMACString") { virInterfaceLookupByMACString($0, mac) }
    }

    /// Defines (or redefines) an interface from XML, inactive (`virInterfaceDefineXML`).
    public func defineInterface(xml: String, validate: Bool = false) async throws -> HostInterface {
        let flags = validate ? VIR_INTERFACE_DEFINE_VALIDATE.rawValue : 0
        return try await lookup("virInterfaceDefineXML") { virInterfaceDefineXML($0, xml, flags) }
    }

    /// Starts a transaction over interface changes: `commitInterfaceChanges()` keeps them,
    /// `rollbackInterfaceChanges()` restores the configuration saved here (`virInterfaceChangeBegin`).
    public func beginInterfaceChanges() async throws {
        try await call { c throws(LibvirtError) in try cCall("virInterfaceChangeBegin", virInterfaceChangeBegin(c, 0)) }
    }

    /// Keeps the changes since `beginInterfaceChanges()` (`virInterfaceChangeCommit`).
    public func commitInterfaceChanges() async throws {
        try await call { c throws(LibvirtError) in try cCall("virInterfaceChangeCommit", virInterfaceChangeCommit(c, 0)) }
    }

    /// Restores the configuration saved by `beginInterfaceChanges()` (`virInterfaceChangeRollback`).
    public func rollbackInterfaceChanges() async throws {
        try await call { c throws(LibvirtError) in try cCall("virInterfaceChangeRollback", virInterfaceChangeRollback(c, 0)) }
    }
}
