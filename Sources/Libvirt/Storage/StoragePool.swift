import CLibvirt
import Foundation
import VirtCore

/// `virStoragePoolState`.
public enum StoragePoolState: CEnumMirror {
    case inactive, building, running, degraded, inaccessible
    case unknown(Int32)
    public static let known: [(Self, String)] = [
        (.inactive, "inactive"), (.building, "building"), (.running, "running"), (.degraded, "degraded"), (.inaccessible, "inaccessible"),
    ]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// A pool's state and sizes (`virStoragePoolInfo`, from `virStoragePoolGetInfo`).
public struct StoragePoolInfo: Hashable, Sendable {
    public var state: StoragePoolState
    /// Logical size.
    public var capacity: MemorySize
    /// Space used by volumes.
    public var allocation: MemorySize
    /// Space free for new volumes.
    public var available: MemorySize
}

/// A storage pool (`virStoragePoolPtr`): a directory, LVM volume group, iSCSI target, … that
/// holds `StorageVolume`s. A `LibvirtObject`; name and UUID are read from the handle.
public final class StoragePool: LibvirtObject, ConnectionObject, @unchecked Sendable {
    static let kind = ObjectKind(ref: virStoragePoolRef, free: virStoragePoolFree)

    init(adopting handle: OpaquePointer, connection: Connection) {
        super.init(adopting: handle, connection: connection, kind: Self.kind)
    }

    init(retaining handle: OpaquePointer, connection: Connection) {
        super.init(retaining: handle, connection: connection, kind: Self.kind)
    }

    /// The pool's name (`virStoragePoolGetName`; from the handle).
    public var name: String { virStoragePoolGetName(handle).map { String(cString: $0) } ?? "" }

    /// The pool's UUID (`virStoragePoolGetUUID`; from the handle).
    public var uuid: LibvirtUUID { readUUID(handle, virStoragePoolGetUUID) ?? .zero }

    override var identity: String { uuid.description }
    public override var description: String { name }

    /// `virStoragePoolBuildFlags`.
    public struct BuildFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let repair = Self(rawValue: VIR_STORAGE_POOL_BUILD_REPAIR.rawValue)
        public static let resize = Self(rawValue: VIR_STORAGE_POOL_BUILD_RESIZE.rawValue)
        public static let noOverwrite = Self(rawValue: VIR_STORAGE_POOL_BUILD_NO_OVERWRITE.rawValue)
        public static let overwrite = Self(rawValue: VIR_STORAGE_POOL_BUILD_OVERWRITE.rawValue)
    }

    /// `virStoragePoolCreateFlags` (for `start` and `Connection.createStoragePool`).
    public struct StartFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let build = Self(rawValue: VIR_STORAGE_POOL_CREATE_WITH_BUILD.rawValue)
        public static let buildOverwrite = Self(rawValue: VIR_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE.rawValue)
        public static let buildNoOverwrite = Self(rawValue: VIR_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE.rawValue)
    }

    /// `virStoragePoolDeleteFlags`.
    public struct DeleteFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `VIR_STORAGE_POOL_DELETE_ZEROED`: clear the data too.
        public static let zeroed = Self(rawValue: VIR_STORAGE_POOL_DELETE_ZEROED.rawValue)
    }

    // MARK: - Lifecycle

    /// Builds the pool's underlying storage (`virStoragePoolBuild`): makes the directory,
    /// formats the disk, …
    public func build(flags: BuildFlags = []) async throws {
        try await check("virStoragePoolBuild") { virStoragePoolBuild($0, flags.rawValue) }
    }

    /// Starts a defined pool (`virStoragePoolCreate`).
    public func start(flags: StartFlags = []) async throws {
        try await check("virStoragePoolCreate") { virStoragePoolCreate($0, flags.rawValue) }
    }

    /// Stops the pool (`virStoragePoolDestroy`); its data stays.
    public func destroy() async throws {
        try await check("virStoragePoolDestroy") { virStoragePoolDestroy($0) }
    }

    /// Removes the persistent definition of an inactive pool (`virStoragePoolUndefine`).
    public func undefine() async throws {
        try await check("virStoragePoolUndefine") { virStoragePoolUndefine($0) }
    }

    /// Deletes the pool's underlying storage (`virStoragePoolDelete`); the pool must be inactive.
    public func delete(flags: DeleteFlags = []) async throws {
        try await check("virStoragePoolDelete") { virStoragePoolDelete($0, flags.rawValue) }
    }

    /// Rescans the pool's volumes (`virStoragePoolRefresh`).
    public func refresh() async throws {
        try await check("virStoragePoolRefresh") { virStoragePoolRefresh($0, 0) }
    }

    // MARK: - State

    /// State and sizes (`virStoragePoolGetInfo`).
    public func info() async throws -> StoragePoolInfo {
        try await call { p throws(LibvirtError) in
            var i = virStoragePoolInfo()
            try cCall("virStoragePoolGetInfo", virStoragePoolGetInfo(p, &i))
            return StoragePoolInfo(
                state: StoragePoolState(rawValue: Int32(i.state)), capacity: MemorySize(bytes: i.capacity),
                allocation: MemorySize(bytes: i.allocation), available: MemorySize(bytes: i.available))
        }
    }

    /// Whether the pool runs (`virStoragePoolIsActive`).
    public func isActive() async throws -> Bool {
        try await flag("virStoragePoolIsActive") { virStoragePoolIsActive($0) }
    }

    /// Whether the pool has a persistent definition (`virStoragePoolIsPersistent`).
    public func isPersistent() async throws -> Bool {
        try await flag("virStoragePoolIsPersistent") { virStoragePoolIsPersistent($0) }
    }

    /// Whether the pool starts with the host (`virStoragePoolGetAutostart`).
    public func autostart() async throws -> Bool {
        try await outFlag("virStoragePoolGetAutostart") { virStoragePoolGetAutostart($0, $1) }
    }

    /// Sets whether the pool starts with the host (`virStoragePoolSetAutostart`).
    public func setAutostart(_ on: Bool) async throws {
        try await check("virStoragePoolSetAutostart") { virStoragePoolSetAutostart($0, on ? 1 : 0) }
    }

    /// The pool XML (`virStoragePoolGetXMLDesc`); `inactive`: the persistent definition.
    public func xmlDescription(inactive: Bool = false) async throws -> String {
        let flags = inactive ? VIR_STORAGE_XML_INACTIVE.rawValue : 0
        return try await string("virStoragePoolGetXMLDesc") { virStoragePoolGetXMLDesc($0, flags) }
    }

    // MARK: - Volumes

    static let volumeListing = ObjectListing(
        "virStoragePoolListAllVolumes", virStoragePoolListAllVolumes,
        active: NameList("virStoragePoolNumOfVolumes", virStoragePoolNumOfVolumes, "virStoragePoolListVolumes", virStoragePoolListVolumes),
        lookup: virStorageVolLookupByName)

    /// The pool's volumes (`virStoragePoolListAllVolumes`).
    public func listAllVolumes() async throws -> [StorageVolume] {
        try await call { p throws(LibvirtError) in
            try Self.volumeListing.handles(p, flags: 0, on: self.connection).map { StorageVolume(adopting: $0, connection: self.connection) }
        }
    }

    /// Number of volumes (`virStoragePoolNumOfVolumes`).
    public func volumeCount() async throws -> Int {
        try await call { p throws(LibvirtError) in Int(try cCall("virStoragePoolNumOfVolumes", virStoragePoolNumOfVolumes(p))) }
    }

    /// A volume of this pool by name (`virStorageVolLookupByName`); `.noStorageVol` if none.
    public func volume(named name: String) async throws -> StorageVolume {
        try await call { p throws(LibvirtError) in
            StorageVolume(adopting: try cObject("virStorageVolLookupByName", virStorageVolLookupByName(p, name)), connection: self.connection)
        }
    }

    /// Creates a volume from XML (`virStorageVolCreateXML`).
    public func createVolume(xml: String, flags: StorageVolume.CreateFlags = []) async throws -> StorageVolume {
        try await call { p throws(LibvirtError) in
            StorageVolume(adopting: try cObject("virStorageVolCreateXML", virStorageVolCreateXML(p, xml, flags.rawValue)), connection: self.connection)
        }
    }

    /// Creates a volume from XML, its content cloned from `source` (`virStorageVolCreateXMLFrom`;
    /// `source` may be in another pool of the same connection).
    public func createVolume(xml: String, cloning source: StorageVolume, flags: StorageVolume.CreateFlags = []) async throws -> StorageVolume {
        try await call { p throws(LibvirtError) in
            let v = try cObject("virStorageVolCreateXMLFrom", virStorageVolCreateXMLFrom(p, xml, source.handle, flags.rawValue))
            return StorageVolume(adopting: v, connection: self.connection)
        }
    }
}

extension Connection {
    /// `virConnectListAllStoragePoolsFlags` (groups ANDed, flags in a group ORed; none = all).
    public struct StoragePoolListFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let active = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE.rawValue)
        public static let inactive = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE.rawValue)
        public static let persistent = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_PERSISTENT.rawValue)
        public static let transient = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_TRANSIENT.rawValue)
        public static let autostart = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART.rawValue)
        public static let noAutostart = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_NO_AUTOSTART.rawValue)
        public static let dir = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_DIR.rawValue)
        public static let fs = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_FS.rawValue)
        public static let netfs = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_NETFS.rawValue)
        public static let logical = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_LOGICAL.rawValue)
        public static let disk = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_DISK.rawValue)
        public static let iscsi = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_ISCSI.rawValue)
        public static let scsi = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_SCSI.rawValue)
        public static let mpath = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_MPATH.rawValue)
        public static let rbd = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_RBD.rawValue)
        public static let sheepdog = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_SHEEPDOG.rawValue)
        public static let gluster = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_GLUSTER.rawValue)
        public static let zfs = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_ZFS.rawValue)
        public static let vstorage = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_VSTORAGE.rawValue)
        public static let iscsiDirect = Self(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_ISCSI_DIRECT.rawValue)
    }

    /// Storage pools matching `flags` (`virConnectListAllStoragePools`; where that is
    /// unsupported and `flags` ask for no more than active/inactive,
    /// `virConnectListStoragePools` and `virConnectListDefinedStoragePools`, each name looked up).
    public func listAllStoragePools(flags: StoragePoolListFlags = []) async throws -> [StoragePool] {
        try await list(Self.storagePoolListing, flags: flags.rawValue)
    }

    static let storagePoolListing = ObjectListing(
        "virConnectListAllStoragePools", virConnectListAllStoragePools,
        active: NameList("virConnectNumOfStoragePools", virConnectNumOfStoragePools, "virConnectListStoragePools", virConnectListStoragePools),
        inactive: NameList("virConnectNumOfDefinedStoragePools", virConnectNumOfDefinedStoragePools,
                           "virConnectListDefinedStoragePools", virConnectListDefinedStoragePools),
        activeFlag: StoragePoolListFlags.active.rawValue, inactiveFlag: StoragePoolListFlags.inactive.rawValue, lookup: virStoragePoolLookupByName)

    /// A pool by its UUID as text (`virStoragePoolLookupByUUIDString`); a malformed string is `.invalidArg`.
    public func storagePool(uuidString: String) async throws -> StoragePool {
        try await lookup("virStoragePoolLookupByUUIDString") { virStoragePoolLookupByUUIDString($0, uuidString) }
    }

    /// A pool by name (`virStoragePoolLookupByName`); `.noStoragePool` if none.
    public func storagePool(named name: String) async throws -> StoragePool {
        try await lookup("virStoragePoolLookupByName") { virStoragePoolLookupByName($0, name) }
    }

    /// A pool by UUID (`virStoragePoolLookupByUUID`).
    public func storagePool(uuid: LibvirtUUID) async throws -> StoragePool {
        try await lookup("virStoragePoolLookupByUUID") { virStoragePoolLookupByUUID($0, uuid.bytes) }
    }

    /// The pool holding `volume` (`virStoragePoolLookupByVolume`).
    public func storagePool(of volume: StorageVolume) async throws -> StoragePool {
        try await lookup("virStoragePoolLookupByVolume") { _ in virStoragePoolLookupByVolume(volume.handle) }
    }

    /// Defines a persistent, inactive pool from XML (`virStoragePoolDefineXML`).
    public func defineStoragePool(xml: String, validate: Bool = false) async throws -> StoragePool {
        let flags = validate ? VIR_STORAGE_POOL_DEFINE_VALIDATE.rawValue : 0
        return try await lookup("virStoragePoolDefineXML") { virStoragePoolDefineXML($0, xml, flags) }
    }

    /// Creates and starts a transient pool from XML (`virStoragePoolCreateXML`).
    public func createStoragePool(xml: String, flags: StoragePool.StartFlags = []) async throws -> StoragePool {
        try await lookup("virStoragePoolCreateXML") { virStoragePoolCreateXML($0, xml, flags.rawValue) }
    }

    /// The storage pool types and formats the driver supports, as XML
    /// (`virConnectGetStoragePoolCapabilities`).
    public func storagePoolCapabilitiesXML() async throws -> String {
        try await call { c throws(LibvirtError) in
            try takeString("virConnectGetStoragePoolCapabilities", virConnectGetStoragePoolCapabilities(c, 0))
        }
    }

    /// A volume by its key (`virStorageVolLookupByKey`), unique on the host.
    public func storageVolume(key: String) async throws -> StorageVolume {
        try await lookup("virStorageVolLookupByKey") { virStorageVolLookupByKey($0, key) }
    }

    /// A volume by its path on the host (`virStorageVolLookupByPath`).
    public func storageVolume(path: String) async throws -> StorageVolume {
        try await lookup("virStorageVolLookupByPath") { virStorageVolLookupByPath($0, path) }
    }
}
