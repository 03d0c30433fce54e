import CLibvirt
import Foundation
import VirtCore

/// A network filter (`virNWFilterPtr`): ebtables/iptables rules guest NICs reference with
/// `<filterref>`. A `LibvirtObject`; name and UUID come from the handle.
/// `LibvirtXML.NetworkFilterDefinition` reads its XML.
public final class NetworkFilter: LibvirtObject, ConnectionObject, @unchecked Sendable {
    static let kind = ObjectKind(ref: virNWFilterRef, free: virNWFilterFree)

    init(adopting handle: OpaquePointer, connection: Connection) {
        super.init(adopting: handle, connection: connection, kind: Self.kind)
    }

    /// The filter's name (`virNWFilterGetName`; from the handle).
    public var name: String { virNWFilterGetName(handle).map { String(cString: $0) } ?? "" }

    /// The filter's UUID (`virNWFilterGetUUID`; from the handle).
    public var uuid: LibvirtUUID { readUUID(handle, virNWFilterGetUUID) ?? .zero }

    override var identity: String { uuid.description }
    public override var description: String { name }

    /// The `<filter>` XML (`virNWFilterGetXMLDesc`).
    public func xmlDescription() async throws -> String {
        try await string("virNWFilterGetXMLDesc") { virNWFilterGetXMLDesc($0, 0) }
    }

    /// Removes the filter; refused while a guest NIC uses it (`virNWFilterUndefine`).
    public func undefine() async throws {
        try await check("virNWFilterUndefine") { virNWFilterUndefine($0) }
    }
}

/// A network filter bound to a port (`virNWFilterBindingPtr`): what libvirt creates for
/// each running guest NIC with a `<filterref>`. A `LibvirtObject` identified by its port device.
public final class NetworkFilterBinding: LibvirtObject, ConnectionObject, @unchecked Sendable {
    static let kind = ObjectKind(ref: virNWFilterBindingRef, free: virNWFilterBindingFree)

    init(adopting handle: OpaquePointer, connection: Connection) {
        super.init(adopting: handle, connection: connection, kind: Self.kind)
    }

    /// The host port device, e.g. `vnet0` (`virNWFilterBindingGetPortDev`; from the handle).
    public var portDevice: String { virNWFilterBindingGetPortDev(handle).map { String(cString: $0) } ?? "" }

    /// The bound filter's name (`virNWFilterBindingGetFilterName`; from the handle).
    public var filterName: String { virNWFilterBindingGetFilterName(handle).map { String(cString: $0) } ?? "" }

    override var identity: String { portDevice }
    public override var description: String { "\(portDevice) → \(filterName)" }

    /// The `<filterbinding>` XML (`virNWFilterBindingGetXMLDesc`).
    public func xmlDescription() async throws -> String {
        try await string("virNWFilterBindingGetXMLDesc") { virNWFilterBindingGetXMLDesc($0, 0) }
    }

    /// Removes the binding: the port's traffic is no longer filtered (`virNWFilterBindingDelete`).
    public func delete() async throws {
        try await check("virNWFilterBindingDelete") { virNWFilterBindingDelete($0) }
    }
}

extension Connection {
    /// All network filters (`virConnectListAllNWFilters`; where that is unsupported,
    /// `virConnectListNWFilters`, each name looked up).
    public func listAllNetworkFilters() async throws -> [NetworkFilter] {
        try await list(Self.networkFilterListing, flags: 0)
    }

    static let networkFilterListing = ObjectListing(
        "virConnectListAllNWFilters", virConnectListAllNWFilters,
        active: NameList("virConnectNumOfNWFilters", virConnectNumOfNWFilters, "virConnectListNWFilters", virConnectListNWFilters),
        lookup: virNWFilterLookupByName)

    /// A filter by name (`virNWFilterLookupByName`); `.noNwfilter` if none.
    public func networkFilter(named name: String) async throws -> NetworkFilter {
        try await lookup("virNWFilterLookupByName") { virNWFilterLookupByName($0, name) }
    }

    /// A filter by UUID (`virNWFilterLookupByUUID`); `.noNwfilter` if none.
    public func networkFilter(uuid: LibvirtUUID) async throws -> NetworkFilter {
        try await lookup("virNWFilterLookupByUUID") { virNWFilterLookupByUUID($0, uuid.bytes) }
    }

    /// A filter by its UUID as text (`virNWFilterLookupByUUIDString`); a malformed string is `.invalidArg`.
    public func networkFilter(uuidString: String) async throws -> NetworkFilter {
        try await lookup("virNWFilterLookupByUUIDString") { virNWFilterLookupByUUIDString($0, uuidString) }
    }

    /// Defines (or updates) a filter from `<filter>` XML (`virNWFilterDefineXMLFlags`;
    /// without validation, `virNWFilterDefineXML` where that is unsupported).
    public func defineNetworkFilter(xml: String, validate: Bool = false) async throws -> NetworkFilter {
        let flags = validate ? VIR_NWFILTER_DEFINE_VALIDATE.rawValue : 0
        return try await call { c throws(LibvirtError) in
            NetworkFilter(adopting: try withClassicFallback(self, { () throws(LibvirtError) in
                try cObject("virNWFilterDefineXMLFlags", virNWFilterDefineXMLFlags(c, xml, flags))
            }, classic: validate ? nil : { () throws(LibvirtError) in try cObject("virNWFilterDefineXML", virNWFilterDefineXML(c, xml)) }), connection: self)
        }
    }

    /// All filter bindings (`virConnectListAllNWFilterBindings`).
    public func listAllNetworkFilterBindings() async throws -> [NetworkFilterBinding] {
        try await list(ObjectListing("virConnectListAllNWFilterBindings", virConnectListAllNWFilterBindings), flags: 0)
    }

    /// The binding of a port device (`virNWFilterBindingLookupByPortDev`); `.noNwfilterBinding` if none.
    public func networkFilterBinding(portDevice: String) async throws -> NetworkFilterBinding {
        try await lookup("virNWFilterBindingLookupByPortDev") { virNWFilterBindingLookupByPortDev($0, portDevice) }
    }

    /// Binds a filter to a port from `<filterbinding>` XML (`virNWFilterBindingCreateXML`).
    public func createNetworkFilterBinding(xml: String, validate: Bool = false) async throws -> NetworkFilterBinding {
        let flags = validate ? VIR_NWFILTER_BINDING_CREATE_VALIDATE.rawValue : 0
        return try await lookup("virNWFilterBindingCreateXML") { virNWFilterBindingCreateXML($0, xml, flags) }
    }
}
