import CLibvirt
import Foundation
import VirtCore

/// A snapshot of a domain (`virDomainSnapshotPtr`). A `LibvirtObject`; its name comes from
/// the handle and is unique within its domain.
public final class DomainSnapshot: LibvirtObject, @unchecked Sendable {
    static let kind = ObjectKind(ref: virDomainSnapshotRef, free: virDomainSnapshotFree)
    /// The domain the snapshot belongs to.
    public let domain: Domain

    init(adopting handle: OpaquePointer, domain: Domain) {
        self.domain = domain
        super.init(adopting: handle, connection: domain.connection, kind: Self.kind)
    }

    /// The snapshot's name (`virDomainSnapshotGetName`; from the handle).
    public var name: String { virDomainSnapshotGetName(handle).map { String(cString: $0) } ?? "" }

    override var identity: String { domain.uuid.description + "/" + name }
    public override var description: String { name }

    /// `virDomainSnapshotCreateFlags`.
    public struct CreateFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Restore or alter metadata of an existing snapshot (`REDEFINE`).
        public static let redefine = Self(rawValue: VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE.rawValue)
        /// Make it the current snapshot (with `.redefine`).
        public static let current = Self(rawValue: VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT.rawValue)
        /// Keep no libvirt metadata.
        public static let noMetadata = Self(rawValue: VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA.rawValue)
        /// Stop the domain after the snapshot.
        public static let halt = Self(rawValue: VIR_DOMAIN_SNAPSHOT_CREATE_HALT.rawValue)
        /// Disks only, no memory state.
        public static let diskOnly = Self(rawValue: VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY.rawValue)
        /// Reuse existing external files.
        public static let reuseExternal = Self(rawValue: VIR_DOMAIN_SNAPSHOT_CREATE_REUSE_EXT.rawValue)
        /// Freeze guest file systems through the agent.
        public static let quiesce = Self(rawValue: VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE.rawValue)
        /// All disks at once or none.
        public static let atomic = Self(rawValue: VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC.rawValue)
        /// Take it while the guest runs (memory state at the end).
        public static let live = Self(rawValue: VIR_DOMAIN_SNAPSHOT_CREATE_LIVE.rawValue)
        /// Validate the XML against the schema.
        public static let validate = Self(rawValue: VIR_DOMAIN_SNAPSHOT_CREATE_VALIDATE.rawValue)
    }

    /// `virDomainSnapshotListFlags` (groups ANDed, flags in a group ORed).
    public struct ListFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// For a snapshot's children: all descendants, not just direct ones.
        public static let descendants = Self(rawValue: VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS.rawValue)
        /// For a domain's list: only roots (no parent).
        public static let roots = Self(rawValue: VIR_DOMAIN_SNAPSHOT_LIST_ROOTS.rawValue)
        /// In topological order (parents before children).
        public static let topological = Self(rawValue: VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL.rawValue)
        public static let leaves = Self(rawValue: VIR_DOMAIN_SNAPSHOT_LIST_LEAVES.rawValue)
        public static let noLeaves = Self(rawValue: VIR_DOMAIN_SNAPSHOT_LIST_NO_LEAVES.rawValue)
        public static let metadata = Self(rawValue: VIR_DOMAIN_SNAPSHOT_LIST_METADATA.rawValue)
        public static let noMetadata = Self(rawValue: VIR_DOMAIN_SNAPSHOT_LIST_NO_METADATA.rawValue)
        public static let inactive = Self(rawValue: VIR_DOMAIN_SNAPSHOT_LIST_INACTIVE.rawValue)
        public static let active = Self(rawValue: VIR_DOMAIN_SNAPSHOT_LIST_ACTIVE.rawValue)
        public static let diskOnly = Self(rawValue: VIR_DOMAIN_SNAPSHOT_LIST_DISK_ONLY.rawValue)
        public static let `internal` = Self(rawValue: VIR_DOMAIN_SNAPSHOT_LIST_INTERNAL.rawValue)
        public static let external = Self(rawValue: VIR_DOMAIN_SNAPSHOT_LIST_EXTERNAL.rawValue)
    }

    /// `virDomainSnapshotRevertFlags`.
    public struct RevertFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Run the domain after reverting.
        public static let running = Self(rawValue: VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING.rawValue)
        /// Leave it paused after reverting.
        public static let paused = Self(rawValue: VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED.rawValue)
        /// Allow risky reverts.
        public static let force = Self(rawValue: VIR_DOMAIN_SNAPSHOT_REVERT_FORCE.rawValue)
        /// Reset the NVRAM to its template.
        public static let resetNVRAM = Self(rawValue: VIR_DOMAIN_SNAPSHOT_REVERT_RESET_NVRAM.rawValue)
    }

    /// `virDomainSnapshotDeleteFlags`.
    public struct DeleteFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Also delete the children.
        public static let children = Self(rawValue: VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN.rawValue)
        /// Delete only libvirt's metadata.
        public static let metadataOnly = Self(rawValue: VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY.rawValue)
        /// Delete only the children.
        public static let childrenOnly = Self(rawValue: VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY.rawValue)
    }

    /// The snapshot XML (`virDomainSnapshotGetXMLDesc`).
    public func xmlDescription(secure: Bool = false) async throws -> String {
        let flags = secure ? VIR_DOMAIN_SNAPSHOT_XML_SECURE.rawValue : 0
        return try await string("virDomainSnapshotGetXMLDesc") { virDomainSnapshotGetXMLDesc($0, flags) }
    }

    /// The parent snapshot, nil for a root (`virDomainSnapshotGetParent`; `.noDomainSnapshot`
    /// from libvirt means "no parent" and is not an error here).
    public func parent() async throws -> DomainSnapshot? {
        try await call { s throws(LibvirtError) in
            if let p = virDomainSnapshotGetParent(s, 0) { return DomainSnapshot(adopting: p, domain: self.domain) }
            let e = LibvirtError.takeLast(after: "virDomainSnapshotGetParent")
            if e.code == .noDomainSnapshot { return nil }
            throw e
        }
    }

    /// The snapshot's children (`virDomainSnapshotListAllChildren`); `.descendants` for all levels.
    public func children(flags: ListFlags = []) async throws -> [DomainSnapshot] {
        try await call { s throws(LibvirtError) in
            // Classic: the children's names, each looked up on the domain. The classic calls
            // take the same filter flags, so all of them select this one list.
            let classic = ClassicListing(activeFlag: flags.rawValue, active: { () throws(LibvirtError) in
                let d = self.domain.handle
                return lookupEach(try classicNames("virDomainSnapshotNumChildren", { virDomainSnapshotNumChildren(s, flags.rawValue) },
                                                   "virDomainSnapshotListChildrenNames", { virDomainSnapshotListChildrenNames(s, $0, $1, flags.rawValue) })) {
                    virDomainSnapshotLookupByName(d, $0, 0)
                }
            })
            return try listAll("virDomainSnapshotListAllChildren", s, flags.rawValue, virDomainSnapshotListAllChildren, on: self.connection, classic: classic) {
                DomainSnapshot(adopting: $0, domain: self.domain)
            }
        }
    }

    /// Whether this is the domain's current snapshot (`virDomainSnapshotIsCurrent`).
    public func isCurrent() async throws -> Bool {
        try await flag("virDomainSnapshotIsCurrent") { virDomainSnapshotIsCurrent($0, 0) }
    }

    /// Whether libvirt keeps metadata for it (`virDomainSnapshotHasMetadata`).
    public func hasMetadata() async throws -> Bool {
        try await flag("virDomainSnapshotHasMetadata") { virDomainSnapshotHasMetadata($0, 0) }
    }

    /// Reverts the domain to this snapshot (`virDomainRevertToSnapshot`).
    public func revert(flags: RevertFlags = []) async throws {
        try await check("virDomainRevertToSnapshot") { virDomainRevertToSnapshot($0, flags.rawValue) }
    }

    /// Deletes the snapshot (`virDomainSnapshotDelete`).
    public func delete(flags: DeleteFlags = []) async throws {
        try await check("virDomainSnapshotDelete") { virDomainSnapshotDelete($0, flags.rawValue) }
    }
}

extension Domain {
    /// Takes a snapshot (`virDomainSnapshotCreateXML`); `xml` is a `<domainsnapshot>`
    /// (empty `<domainsnapshot/>`: libvirt names it by time and picks the defaults).
    public func createSnapshot(xml: String = "<domainsnapshot/>", flags: DomainSnapshot.CreateFlags = []) async throws -> DomainSnapshot {
        try await call { d throws(LibvirtError) in
            DomainSnapshot(adopting: try cObject("virDomainSnapshotCreateXML", virDomainSnapshotCreateXML(d, xml, flags.rawValue)), domain: self)
        }
    }

    /// The domain's snapshots (`virDomainListAllSnapshots`).
    public func listAllSnapshots(flags: DomainSnapshot.ListFlags = []) async throws -> [DomainSnapshot] {
        try await call { d throws(LibvirtError) in
            // Classic: the names, each looked up (the classic calls take the same filter flags).
            let classic = ClassicListing(activeFlag: flags.rawValue, active: { () throws(LibvirtError) in
                lookupEach(try classicNames("virDomainSnapshotNum", { virDomainSnapshotNum(d, flags.rawValue) },
                                            "virDomainSnapshotListNames", { virDomainSnapshotListNames(d, $0, $1, flags.rawValue) })) {
                    virDomainSnapshotLookupByName(d, $0, 0)
                }
            })
            return try listAll("virDomainListAllSnapshots", d, flags.rawValue, virDomainListAllSnapshots, on: self.connection, classic: classic) {
                DomainSnapshot(adopting: $0, domain: self)
            }
        }
    }

    /// A snapshot by name (`virDomainSnapshotLookupByName`); `.noDomainSnapshot` if none.
    public func snapshot(named name: String) async throws -> DomainSnapshot {
        try await call { d throws(LibvirtError) in
            DomainSnapshot(adopting: try cObject("virDomainSnapshotLookupByName", virDomainSnapshotLookupByName(d, name, 0)), domain: self)
        }
    }

    /// The current snapshot, nil when there is none (`virDomainHasCurrentSnapshot`,
    /// `virDomainSnapshotCurrent`).
    public func currentSnapshot() async throws -> DomainSnapshot? {
        try await call { d throws(LibvirtError) in
            guard try cFlag("virDomainHasCurrentSnapshot", virDomainHasCurrentSnapshot(d, 0)) else { return nil }
            return DomainSnapshot(adopting: try cObject("virDomainSnapshotCurrent", virDomainSnapshotCurrent(d, 0)), domain: self)
        }
    }
}
