import CLibvirt
import Foundation

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
    public func listAllDomains(flags: DomainListFlags = []) async throws -> [Domain] {
        try await call { c throws(LibvirtError) in
            var list: UnsafeMutablePointer<OpaquePointer?>?
            let n = virConnectListAllDomains(c, &list, flags.rawValue)
            guard n >= 0 else { throw LibvirtError.takeLast(after: "virConnectListAllDomains") }
            defer { free(list) }
            guard let list else { return [] }
            var out: [Domain] = []
            out.reserveCapacity(Int(n))
            for i in 0..<Int(n) {
                if let d = list[i] { out.append(Domain(adopting: d, connection: self)) }
            }
            return out
        }
    }

    /// Looks a domain up by name (`virDomainLookupByName`); `.noDomain` if there is none.
    public func domain(named name: String) async throws -> Domain {
        try await call { c throws(LibvirtError) in
            guard let d = virDomainLookupByName(c, name) else { throw LibvirtError.takeLast(after: "virDomainLookupByName") }
            return Domain(adopting: d, connection: self)
        }
    }

    /// Looks a domain up by UUID (`virDomainLookupByUUID`).
    public func domain(uuid: UUID) async throws -> Domain {
        try await call { c throws(LibvirtError) in
            var u = uuid.uuid
            let d = withUnsafeBytes(of: &u) { raw in
                virDomainLookupByUUID(c, raw.bindMemory(to: UInt8.self).baseAddress)
            }
            guard let d else { throw LibvirtError.takeLast(after: "virDomainLookupByUUID") }
            return Domain(adopting: d, connection: self)
        }
    }

    /// Looks a domain up by its UUID string (`virDomainLookupByUUIDString`); a malformed
    /// string gives `.invalidArg`.
    public func domain(uuidString: String) async throws -> Domain {
        try await call { c throws(LibvirtError) in
            guard let d = virDomainLookupByUUIDString(c, uuidString) else { throw LibvirtError.takeLast(after: "virDomainLookupByUUIDString") }
            return Domain(adopting: d, connection: self)
        }
    }

    /// Looks a running domain up by hypervisor ID (`virDomainLookupByID`).
    public func domain(id: Int32) async throws -> Domain {
        try await call { c throws(LibvirtError) in
            guard let d = virDomainLookupByID(c, id) else { throw LibvirtError.takeLast(after: "virDomainLookupByID") }
            return Domain(adopting: d, connection: self)
        }
    }

    /// Defines (or redefines) a persistent domain from XML (`virDomainDefineXMLFlags`).
    public func defineDomain(xml: String, flags: DefineFlags = []) async throws -> Domain {
        try await call { c throws(LibvirtError) in
            guard let d = virDomainDefineXMLFlags(c, xml, flags.rawValue) else { throw LibvirtError.takeLast(after: "virDomainDefineXMLFlags") }
            return Domain(adopting: d, connection: self)
        }
    }

    /// Creates and starts a transient domain from XML (`virDomainCreateXML`).
    public func createDomain(xml: String, flags: Domain.StartFlags = []) async throws -> Domain {
        try await call { c throws(LibvirtError) in
            guard let d = virDomainCreateXML(c, xml, flags.rawValue) else { throw LibvirtError.takeLast(after: "virDomainCreateXML") }
            return Domain(adopting: d, connection: self)
        }
    }

    /// Number of running domains (`virConnectNumOfDomains`) and defined inactive ones
    /// (`virConnectNumOfDefinedDomains`).
    public func domainCounts() async throws -> (active: Int, inactive: Int) {
        try await call { c throws(LibvirtError) in
            let a = virConnectNumOfDomains(c)
            guard a >= 0 else { throw LibvirtError.takeLast(after: "virConnectNumOfDomains") }
            let i = virConnectNumOfDefinedDomains(c)
            guard i >= 0 else { throw LibvirtError.takeLast(after: "virConnectNumOfDefinedDomains") }
            return (Int(a), Int(i))
        }
    }
}
