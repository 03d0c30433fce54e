import CLibvirt
import Foundation
import VirtCore

/// `virDomainSaveRestoreFlags`: for save, restore and managed save.
public struct SaveRestoreFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Avoid the host's file cache (O_DIRECT).
    public static let bypassCache = Self(rawValue: VIR_DOMAIN_SAVE_BYPASS_CACHE.rawValue)
    /// Run the guest after restoring (or mark the image so), overriding what was saved.
    public static let running = Self(rawValue: VIR_DOMAIN_SAVE_RUNNING.rawValue)
    /// Leave the guest paused after restoring.
    public static let paused = Self(rawValue: VIR_DOMAIN_SAVE_PAUSED.rawValue)
    /// Reset the NVRAM to its template on restore.
    public static let resetNVRAM = Self(rawValue: VIR_DOMAIN_SAVE_RESET_NVRAM.rawValue)
}

/// `virDomainCoreDumpFormat`.
public enum CoreDumpFormat: CEnumMirror {
    case raw, kdumpZlib, kdumpLZO, kdumpSnappy, windowsDump, unknown(Int32)
    public static let known: [(Self, String)] = [(.raw, "raw"), (.kdumpZlib, "kdump-zlib"), (.kdumpLZO, "kdump-lzo"),
                                                 (.kdumpSnappy, "kdump-snappy"), (.windowsDump, "win-dmp")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

extension Domain {
    /// `virDomainCoreDumpFlags`.
    public struct CoreDumpFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Destroy the guest after the dump.
        public static let crash = Self(rawValue: VIR_DUMP_CRASH.rawValue)
        /// Dump while the guest keeps running.
        public static let live = Self(rawValue: VIR_DUMP_LIVE.rawValue)
        public static let bypassCache = Self(rawValue: VIR_DUMP_BYPASS_CACHE.rawValue)
        /// Reset the guest after the dump.
        public static let reset = Self(rawValue: VIR_DUMP_RESET.rawValue)
        /// Guest memory only (ELF, or the `format` given), not QEMU's whole state.
        public static let memoryOnly = Self(rawValue: VIR_DUMP_MEMORY_ONLY.rawValue)
    }

    // MARK: Save to a file

    /// Saves the running guest's memory to `path` and stops it (`virDomainSave` without
    /// `xml` and flags, else `virDomainSaveFlags`); `xml` replaces the domain XML stored in
    /// the image (only host-side changes, e.g. disk paths). `Connection.restore(from:)`
    /// brings it back.
    public func save(to path: String, xml: String? = nil, flags: SaveRestoreFlags = []) async throws {
        if xml == nil && flags.isEmpty {
            try await check("virDomainSave") { virDomainSave($0, path) }
        } else {
            try await check("virDomainSaveFlags") { virDomainSaveFlags($0, path, xml, flags.rawValue) }
        }
    }

    /// Saves with typed parameters (`virDomainSaveParams`: `VIR_DOMAIN_SAVE_PARAM_FILE`
    /// `file`, `dxml`); `file` nil means the managed-save location.
    public func save(parameters: TypedParameters, flags: SaveRestoreFlags = []) async throws {
        try await call { d throws(LibvirtError) in
            try TypedParameterCoding.withEncoded(parameters) { (p, n) throws(LibvirtError) in
                try cCall("virDomainSaveParams", virDomainSaveParams(d, p, n, flags.rawValue))
            }
        }
    }

    // MARK: Managed save

    /// Saves the guest to libvirt's own location and stops it; the next `start()` restores
    /// it (`virDomainManagedSave`).
    public func managedSave(flags: SaveRestoreFlags = []) async throws {
        try await check("virDomainManagedSave") { virDomainManagedSave($0, flags.rawValue) }
    }

    /// Whether a managed-save image exists (`virDomainHasManagedSaveImage`).
    public func hasManagedSaveImage() async throws -> Bool {
        try await flag("virDomainHasManagedSaveImage") { virDomainHasManagedSaveImage($0, 0) }
    }

    /// Deletes the managed-save image: the next start boots afresh (`virDomainManagedSaveRemove`).
    public func removeManagedSaveImage() async throws {
        try await check("virDomainManagedSaveRemove") { virDomainManagedSaveRemove($0, 0) }
    }

    /// The domain XML stored in the managed-save image (`virDomainManagedSaveGetXMLDesc`).
    public func managedSaveXML(secure: Bool = false) async throws -> String {
        let flags = secure ? VIR_DOMAIN_SAVE_IMAGE_XML_SECURE.rawValue : 0
        return try await string("virDomainManagedSaveGetXMLDesc") { virDomainManagedSaveGetXMLDesc($0, flags) }
    }

    /// Replaces the domain XML in the managed-save image (host-side changes only);
    /// `.running`/`.paused` change the state restored (`virDomainManagedSaveDefineXML`).
    /// `xml` is required: libvirtd 9.0 crashes on a NULL one (pass `managedSaveXML()` to
    /// change only the state).
    public func defineManagedSaveXML(_ xml: String, flags: SaveRestoreFlags = []) async throws {
        try await check("virDomainManagedSaveDefineXML") { virDomainManagedSaveDefineXML($0, xml, flags.rawValue) }
    }

    // MARK: Core dump

    /// Dumps the guest's memory to `path` (`virDomainCoreDump` for the default format,
    /// `virDomainCoreDumpWithFormat` otherwise; kdump formats need `.memoryOnly`).
    public func coreDump(to path: String, format: CoreDumpFormat? = nil, flags: CoreDumpFlags = []) async throws {
        if let format {
            let f = UInt32(bitPattern: format.rawValue)
            try await check("virDomainCoreDumpWithFormat") { virDomainCoreDumpWithFormat($0, path, f, flags.rawValue) }
        } else {
            try await check("virDomainCoreDump") { virDomainCoreDump($0, path, flags.rawValue) }
        }
    }
}

extension Connection {
    /// Restores a guest saved with `Domain.save(to:)` and runs it (`virDomainRestore`
    /// without `xml` and flags, else `virDomainRestoreFlags`); `xml` replaces the saved
    /// domain XML (host-side changes only).
    public func restore(from path: String, xml: String? = nil, flags: SaveRestoreFlags = []) async throws {
        if xml == nil && flags.isEmpty {
            try await call { c throws(LibvirtError) in try cCall("virDomainRestore", virDomainRestore(c, path)) }
        } else {
            try await call { c throws(LibvirtError) in try cCall("virDomainRestoreFlags", virDomainRestoreFlags(c, path, xml, flags.rawValue)) }
        }
    }

    /// Restores with typed parameters (`virDomainRestoreParams`; `file`, `dxml`).
    public func restore(parameters: TypedParameters, flags: SaveRestoreFlags = []) async throws {
        try await call { c throws(LibvirtError) in
            try TypedParameterCoding.withEncoded(parameters) { (p, n) throws(LibvirtError) in
                try cCall("virDomainRestoreParams", virDomainRestoreParams(c, p, n, flags.rawValue))
            }
        }
    }

    /// The domain XML stored in a save image (`virDomainSaveImageGetXMLDesc`).
    public func saveImageXML(path: String, secure: Bool = false) async throws -> String {
        let flags = secure ? VIR_DOMAIN_SAVE_IMAGE_XML_SECURE.rawValue : 0
        return try await call { c throws(LibvirtError) in
            try takeString("virDomainSaveImageGetXMLDesc", virDomainSaveImageGetXMLDesc(c, path, flags))
        }
    }

    /// Replaces the domain XML in a save image; `.running`/`.paused` change the state
    /// restored (`virDomainSaveImageDefineXML`).
    public func defineSaveImageXML(path: String, xml: String, flags: SaveRestoreFlags = []) async throws {
        try await call { c throws(LibvirtError) in
            try cCall("virDomainSaveImageDefineXML", virDomainSaveImageDefineXML(c, path, xml, flags.rawValue))
        }
    }
}
