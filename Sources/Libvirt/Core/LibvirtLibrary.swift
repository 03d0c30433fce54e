import CLibvirt

/// Process-wide libvirt set-up: `virInitialize` once, and libvirt's default error
/// printing to stderr replaced (`virSetErrorFunc`): every error is captured as a
/// `LibvirtError` instead, and logged at debug level on `virtkit.libvirt`. Called by `Connection.open` and every other
/// entry point; call it yourself before using libvirt's C API directly.
///
/// Why it matters: libvirt keeps its last error in a pthread key created by
/// `virInitialize`. Any libvirt call before that (even `virTypedParamsAdd*`, which resets
/// the error) uses key 0 — which belongs to someone else (GLib's slice allocator) — and
/// corrupts that memory.
public enum LibvirtLibrary {
    private static let initResult: LibvirtError? = {
        // Without a handler libvirt writes each error to stderr (virDefaultErrorFunc). The
        // error is still stored thread-locally for the failing call to take.
        virSetErrorFunc(nil, { _, error in
            guard let e = error?.pointee else { return }
            log.debug("libvirt reported an error", metadata: [
                "code": "\(LibvirtError.Code(rawValue: e.code))", "domain": "\(LibvirtError.Domain(rawValue: e.domain))",
                "message": "\(e.message.map { String(cString: $0) } ?? "")",
            ])
        })
        if virInitialize() < 0 { return LibvirtError.takeLast(after: "virInitialize") }
        return nil
    }()

    /// Initializes libvirt once (`virInitialize`, `virSetErrorFunc`); later calls are free.
    public static func initialize() throws(LibvirtError) {
        if let initResult { throw initResult }
    }

    /// The version of the libvirt library this process runs (`virGetVersion`).
    public static func version() throws(LibvirtError) -> Version {
        try initialize()
        var lib: UInt = 0
        guard virGetVersion(&lib, nil, nil) == 0 else { throw LibvirtError.takeLast(after: "virGetVersion") }
        return Version(encoded: UInt64(lib))
    }
}

/// A libvirt version number, decoded from libvirt's `major * 1,000,000 + minor * 1,000 + release`.
public struct Version: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var release: Int

    public init(major: Int, minor: Int, release: Int) {
        self.major = major
        self.minor = minor
        self.release = release
    }

    /// Decodes libvirt's packed form (e.g. 9000000 → 9.0.0).
    public init(encoded: UInt64) {
        major = Int(encoded / 1_000_000)
        minor = Int(encoded / 1_000 % 1_000)
        release = Int(encoded % 1_000)
    }

    /// libvirt's packed form.
    public var encoded: UInt64 { UInt64(major) * 1_000_000 + UInt64(minor) * 1_000 + UInt64(release) }
    public var description: String { "\(major).\(minor).\(release)" }
    public static func < (a: Self, b: Self) -> Bool { a.encoded < b.encoded }
}
