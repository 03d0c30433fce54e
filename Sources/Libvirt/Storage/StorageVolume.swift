import CLibvirt
import Foundation
import VirtCore

/// `virStorageVolType`.
public enum StorageVolumeType: CEnumMirror {
    case file, block, dir, network, netdir, ploop
    case unknown(Int32)
    public static let known: [(Self, String)] = [
        (.file, "file"), (.block, "block"), (.dir, "dir"), (.network, "network"), (.netdir, "netdir"), (.ploop, "ploop"),
    ]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// A volume's type and sizes (`virStorageVolInfo`, from `virStorageVolGetInfoFlags`).
public struct StorageVolumeInfo: Hashable, Sendable {
    public var type: StorageVolumeType
    /// Logical size (what a guest sees).
    public var capacity: MemorySize
    /// Host storage in use (or, with `physical: true`, the host size of the file/device).
    public var allocation: MemorySize
}

/// `virStorageVolWipeAlgorithm`.
public enum StorageVolumeWipeAlgorithm: CEnumMirror {
    case zero, nnsa, dod, bsi, gutmann, schneier, pfitzner7, pfitzner33, random, trim
    case unknown(Int32)
    public static let known: [(Self, String)] = [
        (.zero, "zero"), (.nnsa, "nnsa"), (.dod, "dod"), (.bsi, "bsi"), (.gutmann, "gutmann"), (.schneier, "schneier"),
        (.pfitzner7, "pfitzner7"), (.pfitzner33, "pfitzner33"), (.random, "random"), (.trim, "trim"),
    ]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// A storage volume (`virStorageVolPtr`): a file, LV, LUN, … in a `StoragePool`. A
/// `LibvirtObject`; name and key come from the handle (the key is unique on the host).
public final class StorageVolume: LibvirtObject, ConnectionObject, @unchecked Sendable {
    static let kind = ObjectKind(ref: virStorageVolRef, free: virStorageVolFree)

    init(adopting handle: OpaquePointer, connection: Connection) {
        super.init(adopting: handle, connection: connection, kind: Self.kind)
    }

    /// The volume's name within its pool (`virStorageVolGetName`; from the handle).
    public var name: String { virStorageVolGetName(handle).map { String(cString: $0) } ?? "" }

    /// The volume's key, unique on the host (`virStorageVolGetKey`; from the handle).
    public var key: String { virStorageVolGetKey(handle).map { String(cString: $0) } ?? "" }

    override var identity: String { key }
    public override var description: String { name }

    /// `virStorageVolCreateFlags`.
    public struct CreateFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA`: preallocate qcow2 metadata only.
        public static let preallocateMetadata = Self(rawValue: VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA.rawValue)
        /// `VIR_STORAGE_VOL_CREATE_REFLINK`: clone with a copy-on-write reflink.
        public static let reflink = Self(rawValue: VIR_STORAGE_VOL_CREATE_REFLINK.rawValue)
        /// `VIR_STORAGE_VOL_CREATE_VALIDATE`: validate the XML against the schema.
        public static let validate = Self(rawValue: VIR_STORAGE_VOL_CREATE_VALIDATE.rawValue)
    }

    /// `virStorageVolResizeFlags`.
    public struct ResizeFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `VIR_STORAGE_VOL_RESIZE_ALLOCATE`: allocate the new space too.
        public static let allocate = Self(rawValue: VIR_STORAGE_VOL_RESIZE_ALLOCATE.rawValue)
        /// `VIR_STORAGE_VOL_RESIZE_DELTA`: the size is added to the current one.
        public static let delta = Self(rawValue: VIR_STORAGE_VOL_RESIZE_DELTA.rawValue)
        /// `VIR_STORAGE_VOL_RESIZE_SHRINK`: allow making it smaller.
        public static let shrink = Self(rawValue: VIR_STORAGE_VOL_RESIZE_SHRINK.rawValue)
    }

    /// `virStorageVolDeleteFlags`.
    public struct DeleteFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `VIR_STORAGE_VOL_DELETE_ZEROED`: clear the data first.
        public static let zeroed = Self(rawValue: VIR_STORAGE_VOL_DELETE_ZEROED.rawValue)
        /// `VIR_STORAGE_VOL_DELETE_WITH_SNAPSHOTS`: also delete its snapshots.
        public static let withSnapshots = Self(rawValue: VIR_STORAGE_VOL_DELETE_WITH_SNAPSHOTS.rawValue)
    }

    /// The volume's path on the host (`virStorageVolGetPath`).
    public func path() async throws -> String {
        try await string("virStorageVolGetPath") { virStorageVolGetPath($0) }
    }

    /// Type and sizes (`virStorageVolGetInfo`); `physical`: report the host size of the file or
    /// device as `allocation` (`virStorageVolGetInfoFlags` with `VIR_STORAGE_VOL_GET_PHYSICAL`).
    public func info(physical: Bool = false) async throws -> StorageVolumeInfo {
        try await call { v throws(LibvirtError) in
            var i = virStorageVolInfo()
            if physical {
                try cCall("virStorageVolGetInfoFlags", virStorageVolGetInfoFlags(v, &i, VIR_STORAGE_VOL_GET_PHYSICAL.rawValue))
            } else {
                try cCall("virStorageVolGetInfo", virStorageVolGetInfo(v, &i))
            }
            return StorageVolumeInfo(type: StorageVolumeType(rawValue: i.type), capacity: MemorySize(bytes: i.capacity),
                                     allocation: MemorySize(bytes: i.allocation))
        }
    }

    /// The volume XML (`virStorageVolGetXMLDesc`).
    public func xmlDescription() async throws -> String {
        try await string("virStorageVolGetXMLDesc") { virStorageVolGetXMLDesc($0, 0) }
    }

    /// Deletes the volume and its data (`virStorageVolDelete`).
    public func delete(flags: DeleteFlags = []) async throws {
        try await check("virStorageVolDelete") { virStorageVolDelete($0, flags.rawValue) }
    }

    /// Overwrites the volume's data (`virStorageVolWipePattern`; `.zero` is `virStorageVolWipe`'s default).
    public func wipe(_ algorithm: StorageVolumeWipeAlgorithm = .zero) async throws {
        guard let raw = UInt32(exactly: algorithm.rawValue) else {
            throw LibvirtError(code: .invalidArg, message: "wipe algorithm \(algorithm) out of range")
        }
        try await check("virStorageVolWipePattern", { virStorageVolWipePattern($0, raw, 0) },
                        classic: algorithm == .zero ? ("virStorageVolWipe", { virStorageVolWipe($0, 0) }) : nil)
    }

    /// Changes the volume's capacity (`virStorageVolResize`).
    public func resize(to capacity: MemorySize, flags: ResizeFlags = []) async throws {
        let bytes = capacity.bytes
        try await check("virStorageVolResize") { virStorageVolResize($0, bytes, flags.rawValue) }
    }

    /// The pool this volume is in (`virStoragePoolLookupByVolume`).
    public func pool() async throws -> StoragePool {
        try await connection.storagePool(of: self)
    }
}
