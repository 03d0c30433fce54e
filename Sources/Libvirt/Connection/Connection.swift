import CLibvirt
import VirtCore
import Foundation
import Synchronization

/// A connection to a libvirt driver (`virConnectPtr`): `qemu:///system`, `test:///default`,
/// `qemu+ssh://host/system`, …
///
/// Every call runs on a `BlockingThreadPool` thread, never on Swift's cooperative pool.
/// `close()` is explicit and idempotent; afterwards every call (also through the
/// `Domain` handles of this connection) throws `LibvirtError` with code `.invalidConn`.
/// A connection whose daemon went away answers with libvirt's own typed error.
///
/// Sendable: `@unchecked` because the only mutable state, the `virConnectPtr`, is read
/// and cleared under `lock`, and libvirt connections are thread-safe (libvirt ≥ 0.6 lets
/// any thread use a `virConnectPtr`). Each call takes its own reference
/// (`virConnectRef`) under the lock, so a concurrent `close()` never frees the handle
/// under a running call.
public final class Connection: @unchecked Sendable {
    private let lock = NSLock()
    private var handle: OpaquePointer?
    /// The threads this connection's calls (and its domains' calls) run on.
    public let pool: BlockingThreadPool
    /// The URI the connection was opened with (nil: libvirt's default); see `uri()` for the resolved one.
    public let requestedURI: String?
    /// Whether the connection was opened read-only.
    public let isReadOnly: Bool
    /// The connection's event registrations and close callback (one C registration per
    /// event ID, shared by every stream; see `EventRegistry`).
    let events = EventRegistry()
    /// Testing switch for this connection only: every call with a classic equivalent acts as
    /// if the modern call were unsupported (`withClassicFallback`), as an older daemon would.
    let modernCallsUnsupported = Atomic<Bool>(false)

    /// How to open a connection (`virConnectFlags`).
    public struct OpenFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `VIR_CONNECT_RO`: read-only.
        public static let readOnly = Self(rawValue: VIR_CONNECT_RO.rawValue)
        /// `VIR_CONNECT_NO_ALIASES`: don't resolve URI aliases.
        public static let noAliases = Self(rawValue: VIR_CONNECT_NO_ALIASES.rawValue)
    }

    private init(handle: OpaquePointer, uri: String?, readOnly: Bool, pool: BlockingThreadPool) {
        self.handle = handle
        self.requestedURI = uri
        self.isReadOnly = readOnly
        self.pool = pool
    }

    /// Opens a connection: `virConnectOpen`, or `virConnectOpenReadOnly` when `readOnly`.
    ///
    /// Initializes libvirt and starts the shared `LibvirtEventLoop` first (libvirt needs
    /// a registered loop before opening for keepalive and events).
    /// - Parameters:
    ///   - uri: the driver URI; nil lets libvirt choose (`LIBVIRT_DEFAULT_URI`, …).
    ///   - readOnly: open read-only (`virConnectOpenReadOnly`).
    ///   - pool: the threads that run this connection's calls.
    public static func open(_ uri: String?, readOnly: Bool = false, pool: BlockingThreadPool = .libvirt) async throws -> Connection {
        try await open(uri, flags: readOnly ? .readOnly : [], useAuthAPI: false, pool: pool)
    }

    /// Opens a connection with flags through `virConnectOpenAuth` without an auth callback
    /// (for URIs whose authentication needs no interaction: local sockets, SSH keys, TLS).
    public static func open(_ uri: String?, flags: OpenFlags, pool: BlockingThreadPool = .libvirt) async throws -> Connection {
        try await open(uri, flags: flags, useAuthAPI: true, pool: pool)
    }

    private static func open(_ uri: String?, flags: OpenFlags, useAuthAPI: Bool, pool: BlockingThreadPool) async throws -> Connection {
        try LibvirtLibraryRole.claim(.connections)
        try LibvirtLibrary.initialize()
        try LibvirtEventLoop.shared.start()
        let connection: Connection
        do {
            connection = try await pool.run { () throws(LibvirtError) -> Connection in
                let ptr = if useAuthAPI {
                    try cObject("virConnectOpenAuth", virConnectOpenAuth(uri, nil, flags.rawValue))
                } else if flags.contains(.readOnly) {
                    try cObject("virConnectOpenReadOnly", virConnectOpenReadOnly(uri))
                } else {
                    try cObject("virConnectOpen", virConnectOpen(uri))
                }
                return Connection(handle: ptr, uri: uri, readOnly: flags.contains(.readOnly), pool: pool)
            }
        } catch {
            log.info("connection failed", metadata: ["uri": "\(uri ?? "default")", "error": "\(error)"])
            throw error
        }
        log.info("connection opened", metadata: ["uri": "\(uri ?? "default")", "readOnly": "\(flags.contains(.readOnly))"])
        return connection
    }

    deinit {
        // The last virConnectClose of a remote connection talks to the daemon: do it on the pool.
        if let h = handle {
            let box = HandleBox(h)
            pool.execute { _ = virConnectClose(box.pointer) }
        }
    }

    /// Closes the connection (`virConnectClose`). Idempotent. Calls still running finish on
    /// their own reference; new calls throw `.invalidConn`. Domains of this connection keep
    /// libvirt's connection object alive until they are freed, but refuse calls too.
    public func close() async {
        guard let h = takeHandle() else { return }
        log.debug("connection closed", metadata: ["uri": "\(requestedURI ?? "default")"])
        let box = HandleBox(h)
        // Not `run`: the close must happen even if this task is already cancelled.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            pool.execute {
                _ = virConnectClose(box.pointer)
                done.resume()
            }
        }
    }

    private func takeHandle() -> OpaquePointer? {
        lock.lock(); defer { lock.unlock() }
        let h = handle
        handle = nil
        return h
    }

    /// True once `close()` was called.
    public var isClosed: Bool {
        lock.lock(); defer { lock.unlock() }
        return handle == nil
    }

    // MARK: - The seam

    /// Runs `body` with a referenced `virConnectPtr` on the current thread (must be a pool
    /// thread or another thread that may block). `body` must read libvirt's error itself.
    package func withHandle<T>(_ body: (OpaquePointer) throws(LibvirtError) -> T) throws(LibvirtError) -> T {
        lock.lock()
        guard let h = handle else { lock.unlock(); throw LibvirtError.connectionClosed() }
        virConnectRef(h)
        lock.unlock()
        defer { virConnectClose(h) }  // drops only our reference
        return try body(h)
    }

    /// Runs `body` with the connection handle on a pool thread.
    @discardableResult
    package func call<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws(LibvirtError) -> T) async throws -> T {
        try await pool.run { () throws(LibvirtError) -> T in try self.withHandle(body) }
    }

    /// Throws `.invalidConn` if closed (for calls through handles that hold their own reference).
    func checkOpen() throws(LibvirtError) {
        if isClosed { throw LibvirtError.connectionClosed() }
    }

    // MARK: - Identity and versions

    /// The canonical URI of the connection (`virConnectGetURI`).
    public func uri() async throws -> String {
        try await call { c throws(LibvirtError) in try takeString("virConnectGetURI", virConnectGetURI(c)) }
    }

    /// The host name of the hypervisor host (`virConnectGetHostname`).
    public func hostname() async throws -> String {
        try await call { c throws(LibvirtError) in try takeString("virConnectGetHostname", virConnectGetHostname(c)) }
    }

    /// The driver name, e.g. `QEMU` or `TEST` (`virConnectGetType`).
    public func hypervisorType() async throws -> String {
        try await call { c throws(LibvirtError) in try borrowString("virConnectGetType", virConnectGetType(c)) }
    }

    /// The libvirt version of the daemon (or of the library for embedded drivers) (`virConnectGetLibVersion`).
    public func libraryVersion() async throws -> Version {
        try await call { c throws(LibvirtError) in
            var v: UInt = 0
            try cCall("virConnectGetLibVersion", virConnectGetLibVersion(c, &v))
            return Version(encoded: UInt64(v))
        }
    }

    /// The hypervisor's version, e.g. QEMU's (`virConnectGetVersion`).
    public func hypervisorVersion() async throws -> Version {
        try await call { c throws(LibvirtError) in
            var v: UInt = 0
            try cCall("virConnectGetVersion", virConnectGetVersion(c, &v))
            return Version(encoded: UInt64(v))
        }
    }

    /// The host capabilities XML (`virConnectGetCapabilities`).
    public func capabilitiesXML() async throws -> String {
        try await call { c throws(LibvirtError) in try takeString("virConnectGetCapabilities", virConnectGetCapabilities(c)) }
    }

    /// Whether the connection is encrypted (`virConnectIsEncrypted`) and secure against
    /// eavesdropping (`virConnectIsSecure`).
    public func security() async throws -> (encrypted: Bool, secure: Bool) {
        try await call { c throws(LibvirtError) in
            (try cFlag("virConnectIsEncrypted", virConnectIsEncrypted(c)), try cFlag("virConnectIsSecure", virConnectIsSecure(c)))
        }
    }

    // MARK: - Liveness

    /// Starts keepalive probes (`virConnectSetKeepAlive`): the connection is declared dead
    /// after `count` unanswered probes sent every `interval` (whole seconds, at least 1).
    /// Needs the event loop (started by `open`). Returns false when the remote side doesn't
    /// support keepalive; throws `.noSupport` for drivers without it (e.g. the embedded test
    /// driver) and `.invalidArg` for an interval libvirt can't take.
    @discardableResult
    public func setKeepAlive(_ keepAlive: KeepAlive) async throws -> Bool {
        let seconds = keepAlive.interval.components.seconds
        guard seconds >= 1, let interval = Int32(exactly: seconds) else {
            throw LibvirtError(code: .invalidArg, message: "keepalive interval \(keepAlive.interval) is not 1 s … \(Int32.max) s")
        }
        return try await call { c throws(LibvirtError) in
            try cCall("virConnectSetKeepAlive", virConnectSetKeepAlive(c, interval, keepAlive.count)) == 0
        }
    }

    /// Whether the connection is alive (`virConnectIsAlive`); false once closed.
    public func isAlive() async -> Bool {
        (try? await call { c throws(LibvirtError) in try cFlag("virConnectIsAlive", virConnectIsAlive(c)) }) ?? false
    }
}

/// Keepalive settings (`virConnectSetKeepAlive`): a probe every `interval` (libvirt counts
/// whole seconds), the connection declared dead after `count` unanswered ones.
public struct KeepAlive: Hashable, Sendable {
    public var interval: Duration
    public var count: UInt32
    public init(interval: Duration, count: UInt32) {
        self.interval = interval
        self.count = count
    }
}

/// Carries a C handle (or none) across threads and tasks. `@unchecked Sendable`: libvirt
/// handles are thread-safe reference-counted objects; the box only moves the pointer value.
struct HandleBox: @unchecked Sendable {
    let pointer: OpaquePointer?
    init(_ pointer: OpaquePointer?) { self.pointer = pointer }
}
