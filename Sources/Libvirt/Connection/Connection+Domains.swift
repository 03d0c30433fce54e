import CLibvirt
import Foundation
import VirtCore

extension Connection {
    /// Which domains `listAllDomains` returns (`virConnectListAllDomainsFlags`). Flags in
    /// one group (e.g. active/inactive) are ORed; groups are ANDed; no flag = all.
    public struct DomainListFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let active = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_ACTIVE.rawValue)
        public static let inactive = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_INACTIVE.rawValue)
        public static let persistent = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_PERSISTENT.rawValue)
        public static let transient = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_TRANSIENT.rawValue)
        public static let running = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_RUNNING.rawValue)
        public static let paused = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_PAUSED.rawValue)
        public static let shutoff = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_SHUTOFF.rawValue)
        /// Any other state (blocked, in shutdown, crashed, pmsuspended, no state).
        public static let other = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_OTHER.rawValue)
        public static let managedSave = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE.rawValue)
        public static let noManagedSave = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE.rawValue)
        public static let autostart = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_AUTOSTART.rawValue)
        public static let noAutostart = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART.rawValue)
        public static let hasSnapshot = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT.rawValue)
        public static let noSnapshot = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT.rawValue)
        public static let hasCheckpoint = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT.rawValue)
        public static let noCheckpoint = Self(rawValue: VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT.rawValue)
    }

    /// `virDomainDefineXMLFlags` flags.
    public struct DefineFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `VIR_DOMAIN_DEFINE_VALIDATE`: validate against the schema.
        public static let validate = Self(rawValue: VIR_DOMAIN_DEFINE_VALIDATE.rawValue)
    }

    /// All domains matching `flags` (`virConnectListAllDomains`), each an owned handle.
    /// Where that call is unsupported and `flags` ask for no more than active/inactive: the
    /// running domains' IDs (`virConnectListDomains`) and the inactive ones' names
    /// (`virConnectListDefinedDomains`), each looked up.
    public func listAllDomains(flags: DomainListFlags = []) async throws -> [Domain] {
        try await call { c throws(LibvirtError) in
            let classic = ClassicListing(activeFlag: DomainListFlags.active.rawValue, inactiveFlag: DomainListFlags.inactive.rawValue, active: { () throws(LibvirtError) in
                let n = try cCall("virConnectNumOfDomains", virConnectNumOfDomains(c))
                var ids = [Int32](repeating: 0, count: Int(n))
                let got = n == 0 ? 0 : Int(try cCall("virConnectListDomains", virConnectListDomains(c, &ids, n)))
                return lookupEach(Array(ids.prefix(got))) { virDomainLookupByID(c, $0) }
            }, inactive: { () throws(LibvirtError) in
                lookupEach(try classicNames("virConnectNumOfDefinedDomains", { virConnectNumOfDefinedDomains(c) },
                                            "virConnectListDefinedDomains", { virConnectListDefinedDomains(c, $0, $1) })) { virDomainLookupByName(c, $0) }
            })
            return try listAll("virConnectListAllDomains", c, flags.rawValue, virConnectListAllDomains, on: self, classic: classic) { Domain(adopting: $0, connection: self) }
        }
    }

    /// Looks a domain up by name (`virDomainLookupByName`); `.noDomain` if there is none.
    public func domain(named name: String) async throws -> Domain {
        try await lookup("virDomainLookupByName") { virDomainLookupByName($0, name) }
    }

    /// Looks a domain up by UUID (`virDomainLookupByUUID`).
    public func domain(uuid: LibvirtUUID) async throws -> Domain {
        try await lookup("virDomainLookupByUUID") { virDomainLookupByUUID($0, uuid.bytes) }
    }

    /// Looks a domain up by its UUID string (`virDomainLookupByUUIDString`); a malformed
    /// string gives `.invalidArg`.
    public func domain(uuidString: String) async throws -> Domain {
        try await lookup("virDomainLookupByUUIDString") { virDomainLookupByUUIDString($0, uuidString) }
    }

    /// Looks a running domain up by hypervisor ID (`virDomainLookupByID`); the same type as
    /// `Domain.id`. An ID above `Int32.max` (libvirt's C type) is `.invalidArg`.
    public func domain(id: UInt32) async throws -> Domain {
        guard let cID = Int32(exactly: id) else { throw LibvirtError(code: .invalidArg, message: "domain ID \(id) out of range") }
        return try await lookup("virDomainLookupByID") { virDomainLookupByID($0, cID) }
    }

    /// Defines (or redefines) a persistent domain from XML (`virDomainDefineXMLFlags`;
    /// without flags, `virDomainDefineXML` where that is unsupported).
    public func defineDomain(xml: String, flags: DefineFlags = []) async throws -> Domain {
        try await call { c throws(LibvirtError) in
            Domain(adopting: try withClassicFallback(self, { () throws(LibvirtError) in
                try cObject("virDomainDefineXMLFlags", virDomainDefineXMLFlags(c, xml, flags.rawValue))
            }, classic: flags.isEmpty ? { () throws(LibvirtError) in try cObject("virDomainDefineXML", virDomainDefineXML(c, xml)) } : nil), connection: self)
        }
    }

    /// Creates and starts a transient domain from XML (`virDomainCreateXML`).
    public func createDomain(xml: String, flags: Domain.StartFlags = []) async throws -> Domain {
        try await lookup("virDomainCreateXML") { virDomainCreateXML($0, xml, flags.rawValue) }
    }

    /// Number of running domains (`virConnectNumOfDomains`) and defined inactive ones
    /// (`virConnectNumOfDefinedDomains`).
    public func domainCounts() async throws -> (active: Int, inactive: Int) {
        try await call { c throws(LibvirtError) in
            (Int(try cCall("virConnectNumOfDomains", virConnectNumOfDomains(c))),
             Int(try cCall("virConnectNumOfDefinedDomains", virConnectNumOfDefinedDomains(c))))
        }
    }
}
