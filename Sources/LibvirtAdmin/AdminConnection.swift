import CLibvirt
import CLibvirtAdmin
import Foundation
import Libvirt
import VirtCore

// libvirt-admin (`pkg-config libvirt-admin`): the daemons' own administration interface —
// servers and their worker pools, connected clients, client limits, logging, TLS reload.
// Its errors use libvirt's thread-local error (libvirt-admin links libvirt), read on the
// pool thread in the call that failed, like every `Libvirt` call.

/// A connection to a daemon's admin socket (`virAdmConnectPtr`): `libvirtd:///system`,
/// `virtqemud:///system`, `virtproxyd:///system`, … (nil: the default daemon).
/// A process uses either `AdminConnection` or libvirt `Connection`s, not both: libvirt 9.0
/// crashes when both libraries initialize their object types (`open` refuses, typed).
/// Calls run on a `BlockingThreadPool` (default `.libvirt`); `close()` is idempotent and
/// later calls throw `.invalidConn`.
///
/// Sendable: `@unchecked` — the handle is guarded by `lock` and libvirt's admin objects are
/// thread-safe and reference-counted.
public final class AdminConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    private let lock = NSLock()
    public let pool: BlockingThreadPool

    private init(handle: OpaquePointer, pool: BlockingThreadPool) {
        self.handle = handle
        self.pool = pool
    }

    deinit {
        if let h = handle.map(AdminHandle.init) { pool.execute { _ = virAdmConnectClose(h.pointer) } }
    }

    private func takeHandle() -> AdminHandle? {
        lock.lock()
        defer { lock.unlock() }
        let h = handle
        handle = nil
        return h.map(AdminHandle.init)
    }

    /// Opens the admin socket of the daemon `uri` names (`virAdmConnectOpen`); root or the
    /// daemon's admin group only.
    public static func open(_ uri: String? = nil, pool: BlockingThreadPool = .libvirt) async throws -> AdminConnection {
        try LibvirtLibraryRole.claim(.admin)
        try LibvirtLibrary.initialize()  // libvirt's silent error handler (else errors go to stderr)
        return try await pool.run { () throws(LibvirtError) -> AdminConnection in
            try cCall("virAdmInitialize", virAdmInitialize())
            let h = try cObject("virAdmConnectOpen", virAdmConnectOpen(uri, 0))
            return AdminConnection(handle: h, pool: pool)
        }
    }

    /// Closes the connection (`virAdmConnectClose`); idempotent.
    public func close() async {
        guard let h = takeHandle() else { return }
        _ = try? await pool.run { virAdmConnectClose(h.pointer) }
    }

    /// Runs `body` with a referenced handle on a pool thread.
    func call<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws(LibvirtError) -> T) async throws -> T {
        try await pool.run { () throws(LibvirtError) -> T in
            self.lock.lock()
            guard let h = self.handle else {
                self.lock.unlock()
                throw LibvirtError(code: .invalidConn, message: "admin connection closed")
            }
            virAdmConnectRef(h)
            self.lock.unlock()
            defer { virAdmConnectClose(h) }  // drops only our reference
            return try body(h)
        }
    }

    /// The version of the libvirt-admin library in this process (`virAdmGetVersion`).
    public static func libraryVersion() throws(LibvirtError) -> Version {
        var v: UInt64 = 0
        try cCall("virAdmGetVersion", virAdmGetVersion(&v))
        return Version(encoded: v)
    }

    /// The daemon's canonical admin URI (`virAdmConnectGetURI`).
    public func uri() async throws -> String {
        try await call { h throws(LibvirtError) in try takeString("virAdmConnectGetURI", virAdmConnectGetURI(h)) }
    }

    /// The daemon's libvirt version (`virAdmConnectGetLibVersion`).
    public func daemonVersion() async throws -> Version {
        try await call { h throws(LibvirtError) in
            var v: UInt64 = 0
            try cCall("virAdmConnectGetLibVersion", virAdmConnectGetLibVersion(h, &v))
            return Version(encoded: v)
        }
    }

    /// Whether the daemon still answers (`virAdmConnectIsAlive`).
    public func isAlive() async -> Bool {
        (try? await call { h throws(LibvirtError) in try cCall("virAdmConnectIsAlive", virAdmConnectIsAlive(h)) == 1 }) ?? false
    }

    /// The daemon's servers, e.g. `admin` and `libvirtd` (`virAdmConnectListServers`).
    public func servers() async throws -> [AdminServer] {
        try await call { h throws(LibvirtError) in
            try listAll("virAdmConnectListServers", h, 0, virAdmConnectListServers) { AdminServer(adopting: $0, connection: self) }
        }
    }

    /// A server by name (`virAdmConnectLookupServer`); `.noServer` if none.
    public func server(named name: String) async throws -> AdminServer {
        try await call { h throws(LibvirtError) in
            AdminServer(adopting: try cObject("virAdmConnectLookupServer", virAdmConnectLookupServer(h, name, 0)), connection: self)
        }
    }

    /// The daemon's log outputs, e.g. `3:journald` (`virAdmConnectGetLoggingOutputs`).
    public func loggingOutputs() async throws -> String {
        try await call { h throws(LibvirtError) in
            var s: UnsafeMutablePointer<CChar>?
            try cCall("virAdmConnectGetLoggingOutputs", virAdmConnectGetLoggingOutputs(h, &s, 0))
            return try takeString("virAdmConnectGetLoggingOutputs", s)
        }
    }

    /// The daemon's log filters, e.g. `3:remote 4:event` (`virAdmConnectGetLoggingFilters`; empty: none).
    public func loggingFilters() async throws -> String {
        try await call { h throws(LibvirtError) in
            var s: UnsafeMutablePointer<CChar>?
            try cCall("virAdmConnectGetLoggingFilters", virAdmConnectGetLoggingFilters(h, &s, 0))
            return s.map { p in defer { free(p) }; return String(cString: p) } ?? ""
        }
    }

    /// Replaces the daemon's log outputs (`virAdmConnectSetLoggingOutputs`; nil: the default).
    public func setLoggingOutputs(_ outputs: String?) async throws {
        try await call { h throws(LibvirtError) in try cCall("virAdmConnectSetLoggingOutputs", virAdmConnectSetLoggingOutputs(h, outputs, 0)) }
    }

    /// Replaces the daemon's log filters (`virAdmConnectSetLoggingFilters`; nil or empty: none).
    public func setLoggingFilters(_ filters: String?) async throws {
        try await call { h throws(LibvirtError) in try cCall("virAdmConnectSetLoggingFilters", virAdmConnectSetLoggingFilters(h, filters, 0)) }
    }

    /// Sets how long the daemon stays up without clients (`virAdmConnectSetDaemonTimeout`;
    /// `.zero` disables the timeout).
    public func setDaemonTimeout(_ timeout: Duration) async throws {
        let secs = UInt32(clamping: timeout.components.seconds)
        try await call { h throws(LibvirtError) in try cCall("virAdmConnectSetDaemonTimeout", virAdmConnectSetDaemonTimeout(h, secs, 0)) }
    }

    /// Reports when the daemon closes the connection (`virAdmConnectRegisterCloseCallback`);
    /// the stream yields the `virConnectCloseReason` raw value and finishes. Needs the
    /// event loop running (`LibvirtEventLoop.shared`, started by any `Connection.open`).
    public func closeEvents() async throws -> AsyncStream<Int32> {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        let box = AdminCloseBox(continuation)
        try await call { h throws(LibvirtError) in
            let opaque = Unmanaged.passRetained(box).toOpaque()
            let rc = virAdmConnectRegisterCloseCallback(h, onAdminClose, opaque, releaseAdminCloseBox)
            if rc < 0 { Unmanaged<AdminCloseBox>.fromOpaque(opaque).release() }  // never taken
            try cCall("virAdmConnectRegisterCloseCallback", rc)
        }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            Task { try? await self.call { h throws(LibvirtError) in
                try cCall("virAdmConnectUnregisterCloseCallback", virAdmConnectUnregisterCloseCallback(h, onAdminClose))
            } }
        }
        return stream
    }
}

/// Carries the admin handle to the pool thread that closes it. `@unchecked Sendable`:
/// libvirt's admin connection is thread-safe; the box only moves the pointer value.
private struct AdminHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Sendable: immutable; the continuation is thread-safe.
private final class AdminCloseBox: Sendable {
    let continuation: AsyncStream<Int32>.Continuation
    init(_ c: AsyncStream<Int32>.Continuation) { continuation = c }
}

private let onAdminClose: @convention(c) (OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void = { _, reason, opaque in
    guard let opaque else { return }
    let box = Unmanaged<AdminCloseBox>.fromOpaque(opaque).takeUnretainedValue()
    box.continuation.yield(reason)
    box.continuation.finish()
}

private let releaseAdminCloseBox: @convention(c) (UnsafeMutableRawPointer?) -> Void = { opaque in
    guard let opaque else { return }
    Unmanaged<AdminCloseBox>.fromOpaque(opaque).takeRetainedValue().continuation.finish()
}
