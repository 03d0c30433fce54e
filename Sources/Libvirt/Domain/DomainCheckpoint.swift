import CLibvirt
import Foundation
import VirtCore

/// A checkpoint of a domain (`virDomainCheckpointPtr`): the point from which an
/// incremental backup copies only what changed (QEMU keeps a dirty bitmap per disk).
/// A `LibvirtObject`; its name comes from the handle and is unique within its domain.
public final class DomainCheckpoint: LibvirtObject, @unchecked Sendable {
    static let kind = ObjectKind(ref: virDomainCheckpointRef, free: virDomainCheckpointFree)
    /// The domain the checkpoint belongs to.
    public let domain: Domain

    init(adopting handle: OpaquePointer, domain: Domain) {
        self.domain = domain
        super.init(adopting: handle, connection: domain.connection, kind: Self.kind)
    }

    /// The checkpoint's name (`virDomainCheckpointGetName`; from the handle).
    public var name: String { virDomainCheckpointGetName(handle).map { String(cString: $0) } ?? "" }

    override var identity: String { domain.uuid.description + "/" + name }
    public override var description: String { name }

    /// `virDomainCheckpointCreateFlags`.
    public struct CreateFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Restore metadata of a checkpoint whose bitmaps exist (`REDEFINE`).
        public static let redefine = Self(rawValue: VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE.rawValue)
        /// Freeze guest file systems through the agent.
        public static let quiesce = Self(rawValue: VIR_DOMAIN_CHECKPOINT_CREATE_QUIESCE.rawValue)
        /// With `.redefine`: check that the bitmaps really exist.
        public static let redefineValidate = Self(rawValue: VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE_VALIDATE.rawValue)
    }

    /// `virDomainCheckpointListFlags` (`.roots` for a domain's list, `.descendants` for children).
    public struct ListFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let roots = Self(rawValue: VIR_DOMAIN_CHECKPOINT_LIST_ROOTS.rawValue)
        public static let descendants = Self(rawValue: VIR_DOMAIN_CHECKPOINT_LIST_DESCENDANTS.rawValue)
        public static let topological = Self(rawValue: VIR_DOMAIN_CHECKPOINT_LIST_TOPOLOGICAL.rawValue)
        public static let leaves = Self(rawValue: VIR_DOMAIN_CHECKPOINT_LIST_LEAVES.rawValue)
        public static let noLeaves = Self(rawValue: VIR_DOMAIN_CHECKPOINT_LIST_NO_LEAVES.rawValue)
    }

    /// `virDomainCheckpointDeleteFlags`.
    public struct DeleteFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let children = Self(rawValue: VIR_DOMAIN_CHECKPOINT_DELETE_CHILDREN.rawValue)
        public static let metadataOnly = Self(rawValue: VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY.rawValue)
        public static let childrenOnly = Self(rawValue: VIR_DOMAIN_CHECKPOINT_DELETE_CHILDREN_ONLY.rawValue)
    }

    /// `virDomainCheckpointXMLFlags`.
    public struct XMLFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let secure = Self(rawValue: VIR_DOMAIN_CHECKPOINT_XML_SECURE.rawValue)
        /// Leave out the `<domain>` copy.
        public static let noDomain = Self(rawValue: VIR_DOMAIN_CHECKPOINT_XML_NO_DOMAIN.rawValue)
        /// Include each disk's changed-data size (`<disk size=…>`; running domains).
        public static let size = Self(rawValue: VIR_DOMAIN_CHECKPOINT_XML_SIZE.rawValue)
    }

    /// The `<domaincheckpoint>` XML (`virDomainCheckpointGetXMLDesc`); `LibvirtXML`'s
    /// checkpoint kind reads it.
    public func xmlDescription(flags: XMLFlags = []) async throws -> String {
        try await string("virDomainCheckpointGetXMLDesc") { virDomainCheckpointGetXMLDesc($0, flags.rawValue) }
    }

    /// The parent checkpoint, nil for a root (`virDomainCheckpointGetParent`;
    /// `.noDomainCheckpoint` from libvirt means "no parent" here).
    public func parent() async throws -> DomainCheckpoint? {
        try await call { c throws(LibvirtError) in
            if let p = virDomainCheckpointGetParent(c, 0) { return DomainCheckpoint(adopting: p, domain: self.domain) }
            let e = LibvirtError.takeLast(after: "virDomainCheckpointGetParent")
            if e.code == .noDomainCheckpoint { return nil }
            throw e
        }
    }

    /// The checkpoint's children (`virDomainCheckpointListAllChildren`).
    public func children(flags: ListFlags = []) async throws -> [DomainCheckpoint] {
        try await call { c throws(LibvirtError) in
            try listAll("virDomainCheckpointListAllChildren", c, flags.rawValue, virDomainCheckpointListAllChildren) { DomainCheckpoint(adopting: $0, domain: self.domain) }
        }
    }

    /// Deletes the checkpoint (its bitmaps merge into the parent's) (`virDomainCheckpointDelete`).
    public func delete(flags: DeleteFlags = []) async throws {
        try await check("virDomainCheckpointDelete") { virDomainCheckpointDelete($0, flags.rawValue) }
    }
}

extension Domain {
    /// Creates a checkpoint from a `<domaincheckpoint>` (`virDomainCheckpointCreateXML`).
    public func createCheckpoint(xml: String = "<domaincheckpoint/>", flags: DomainCheckpoint.CreateFlags = []) async throws -> DomainCheckpoint {
        try await call { d throws(LibvirtError) in
            DomainCheckpoint(adopting: try cObject("virDomainCheckpointCreateXML", virDomainCheckpointCreateXML(d, xml, flags.rawValue)), domain: self)
        }
    }

    /// The domain's checkpoints (`virDomainListAllCheckpoints`).
    public func listAllCheckpoints(flags: DomainCheckpoint.ListFlags = []) async throws -> [DomainCheckpoint] {
        try await call { d throws(LibvirtError) in
            try listAll("virDomainListAllCheckpoints", d, flags.rawValue, virDomainListAllCheckpoints) { DomainCheckpoint(adopting: $0, domain: self) }
        }
    }

    /// A checkpoint by name (`virDomainCheckpointLookupByName`); `.noDomainCheckpoint` if none.
    public func checkpoint(named name: String) async throws -> DomainCheckpoint {
        try await call { d throws(LibvirtError) in
            DomainCheckpoint(adopting: try cObject("virDomainCheckpointLookupByName", virDomainCheckpointLookupByName(d, name, 0)), domain: self)
        }
    }

    // MARK: Backup

    /// Starts a backup job from a `<domainbackup>` (push: QEMU writes the target files;
    /// pull: an NBD server exports the disks), optionally creating a checkpoint from
    /// `checkpointXML` at the same instant (`virDomainBackupBegin`). Follow it with
    /// `jobStats()`, stop it with `abortJob()`; its end comes as a `jobCompleted` /
    /// `blockJob(type: .backup)` event.
    public func beginBackup(xml: String, checkpointXML: String? = nil, reuseExternal: Bool = false) async throws {
        let flags = reuseExternal ? VIR_DOMAIN_BACKUP_BEGIN_REUSE_EXTERNAL.rawValue : 0
        try await check("virDomainBackupBegin") { virDomainBackupBegin($0, xml, checkpointXML, flags) }
    }

    /// The running backup job's `<domainbackup>` (`virDomainBackupGetXMLDesc`); `.noDomainBackup` if none.
    public func backupXML() async throws -> String {
        try await string("virDomainBackupGetXMLDesc") { virDomainBackupGetXMLDesc($0, 0) }
    }
}
