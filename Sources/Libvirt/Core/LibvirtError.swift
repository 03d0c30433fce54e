import CLibvirt

/// The one error type of the Libvirt module: a copy of libvirt's `virError`
/// (`virGetLastError`), taken on the same thread, in the same synchronous call that failed.
///
/// Codes and domains are raw-value structs so values from a newer libvirt are kept as
/// they are (`Code(rawValue: 123)`), never lost and never a crash.
public struct LibvirtError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `virErrorNumber`: what went wrong (`VIR_ERR_NO_DOMAIN`, …).
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public var description: String { cName ?? "VIR_ERR_\(rawValue)" }
    }

    /// `virErrorDomain`: which part of libvirt raised it (`VIR_FROM_QEMU`, …).
    public struct Domain: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public var description: String { cName ?? "VIR_FROM_\(rawValue)" }
    }

    /// `virErrorLevel`.
    public enum Level: CEnumMirror {
        case none, warning, error
        case unknown(Int32)
        public static let known: [(Self, String)] = [(.none, "none"), (.warning, "warning"), (.error, "error")]
        public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
        public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
    }

    public var code: Code
    public var domain: Domain
    /// libvirt's human-readable message (`virError.message`).
    public var message: String
    public var level: Level
    /// The C function that failed (`virConnectOpenAuth`, …), or nil for an error VirtKit
    /// raised itself before calling libvirt (a closed connection, an argument out of range).
    public var function: String?

    public init(code: Code, domain: Domain = .none, message: String, level: Level = .error, function: String? = nil) {
        self.code = code
        self.domain = domain
        self.message = message
        self.level = level
        self.function = function
    }

    public var description: String { message.isEmpty ? "libvirt error \(code)" : message }

    /// Takes this thread's last libvirt error: a copy of it (`virCopyLastError`, freed with
    /// `virResetError`), then clears it (`virResetLastError`), as libvirt-go-module does.
    /// Must run on the thread that made the failing call; `call` names it for the rare case
    /// where libvirt failed without setting an error.
    package static func takeLast(after call: StaticString) -> LibvirtError {
        let function = "\(call)"
        var e = virError()
        defer { virResetError(&e); virResetLastError() }
        // The copy's code: VIR_ERR_OK (0) when no error was set.
        guard virCopyLastError(&e) > 0 else {
            return LibvirtError(code: .internalError, message: "\(call) failed without reporting a libvirt error", function: function)
        }
        let message = e.message.map { String(cString: $0) } ?? "\(call) failed"
        return LibvirtError(
            code: Code(rawValue: e.code), domain: Domain(rawValue: e.domain),
            message: message, level: Level(rawValue: Int32(bitPattern: e.level.rawValue)), function: function)
    }

    /// The error VirtKit raises itself for a connection that was closed with `Connection.close()`.
    static func connectionClosed() -> LibvirtError {
        LibvirtError(code: .invalidConn, domain: .none, message: "the libvirt connection is closed")
    }

    /// A value libvirt returned that VirtKit can't represent (bad UTF-8, out of range, …).
    static func badValue(_ what: String) -> LibvirtError {
        LibvirtError(code: .internalError, domain: .none, message: what)
    }
}
