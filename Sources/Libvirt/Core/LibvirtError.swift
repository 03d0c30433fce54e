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
    public enum Level: Hashable, Sendable {
        case none, warning, error
        case unknown(Int32)
        public init(rawValue: Int32) {
            switch rawValue {
            case 0: self = .none
            case 1: self = .warning
            case 2: self = .error
            default: self = .unknown(rawValue)
            }
        }
    }

    public var code: Code
    public var domain: Domain
    /// libvirt's human-readable message (`virError.message`).
    public var message: String
    public var level: Level

    public init(code: Code, domain: Domain = .none, message: String, level: Level = .error) {
        self.code = code
        self.domain = domain
        self.message = message
        self.level = level
    }

    public var description: String { message.isEmpty ? "libvirt error \(code)" : message }

    /// Reads and clears this thread's last libvirt error (`virGetLastError` + `virResetLastError`).
    /// Must run on the thread that made the failing call; `call` names it for the rare case
    /// where libvirt failed without setting an error.
    static func takeLast(after call: StaticString) -> LibvirtError {
        guard let err = virGetLastError() else {
            return LibvirtError(code: .internalError, message: "\(call) failed without reporting a libvirt error")
        }
        let e = err.pointee
        let message = e.message.map { String(cString: $0) } ?? "\(call) failed"
        let result = LibvirtError(
            code: Code(rawValue: e.code), domain: Domain(rawValue: e.domain),
            message: message, level: Level(rawValue: Int32(bitPattern: e.level.rawValue)))
        virResetLastError()
        return result
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
