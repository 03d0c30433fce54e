import CLibvirt
import CLibvirtAdmin
import Foundation
import Libvirt
import VirtCore

/// A daemon's worker pool (`virAdmServerGetThreadPoolParameters`); nil = not reported.
public struct AdminThreadPool: Hashable, Sendable {
    public var minWorkers: UInt32?
    public var maxWorkers: UInt32?
    /// Workers reserved for high-priority calls.
    public var priorityWorkers: UInt32?
    /// Idle workers now (read-only).
    public var freeWorkers: UInt32?
    /// Workers now (read-only).
    public var currentWorkers: UInt32?
    /// Calls waiting for a worker (read-only).
    public var jobQueueDepth: UInt32?
    public var raw: TypedParameters

    public init(minWorkers: UInt32? = nil, maxWorkers: UInt32? = nil, priorityWorkers: UInt32? = nil) {
        self.minWorkers = minWorkers
        self.maxWorkers = maxWorkers
        self.priorityWorkers = priorityWorkers
        raw = [:]
    }

    init(_ p: TypedParameters) {
        let u = { (k: String) in p[k]?.uint64.flatMap { UInt32(exactly: $0) } }
        minWorkers = u(VIR_THREADPOOL_WORKERS_MIN)
        maxWorkers = u(VIR_THREADPOOL_WORKERS_MAX)
        priorityWorkers = u(VIR_THREADPOOL_WORKERS_PRIORITY)
        freeWorkers = u(VIR_THREADPOOL_WORKERS_FREE)
        currentWorkers = u(VIR_THREADPOOL_WORKERS_CURRENT)
        jobQueueDepth = u(VIR_THREADPOOL_JOB_QUEUE_DEPTH)
        raw = p
    }

    /// The writable fields that are set.
    var encoded: TypedParameters {
        var p = TypedParameters()
        p[VIR_THREADPOOL_WORKERS_MIN] = minWorkers.map(TypedValue.uint)
        p[VIR_THREADPOOL_WORKERS_MAX] = maxWorkers.map(TypedValue.uint)
        p[VIR_THREADPOOL_WORKERS_PRIORITY] = priorityWorkers.map(TypedValue.uint)
        return p
    }
}

/// A server's client limits (`virAdmServerGetClientLimits`); nil = not reported.
public struct AdminClientLimits: Hashable, Sendable {
    public var maxClients: UInt32?
    /// Clients now (read-only).
    public var currentClients: UInt32?
    /// Most clients waiting for authentication.
    public var maxUnauthenticated: UInt32?
    /// Clients waiting for authentication now (read-only).
    public var currentUnauthenticated: UInt32?
    public var raw: TypedParameters

    public init(maxClients: UInt32? = nil, maxUnauthenticated: UInt32? = nil) {
        self.maxClients = maxClients
        self.maxUnauthenticated = maxUnauthenticated
        raw = [:]
    }

    init(_ p: TypedParameters) {
        let u = { (k: String) in p[k]?.uint64.flatMap { UInt32(exactly: $0) } }
        maxClients = u(VIR_SERVER_CLIENTS_MAX)
        currentClients = u(VIR_SERVER_CLIENTS_CURRENT)
        maxUnauthenticated = u(VIR_SERVER_CLIENTS_UNAUTH_MAX)
        currentUnauthenticated = u(VIR_SERVER_CLIENTS_UNAUTH_CURRENT)
        raw = p
    }

    var encoded: TypedParameters {
        var p = TypedParameters()
        p[VIR_SERVER_CLIENTS_MAX] = maxClients.map(TypedValue.uint)
        p[VIR_SERVER_CLIENTS_UNAUTH_MAX] = maxUnauthenticated.map(TypedValue.uint)
        return p
    }
}

/// How a client reached the daemon (`virClientTransport`).
public enum AdminClientTransport: CEnumMirror {
    case unix, tcp, tls, unknown(Int32)
    public static let known: [(Self, String)] = [(.unix, "unix"), (.tcp, "tcp"), (.tls, "tls")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// A handle that frees itself with its own admin free function.
/// Sendable: `@unchecked` — immutable handle; libvirt's admin objects are thread-safe.
public class AdminObject: @unchecked Sendable {
    let handle: OpaquePointer
    public let connection: AdminConnection
    private let free: @convention(c) (OpaquePointer?) -> Int32

    init(adopting handle: OpaquePointer, connection: AdminConnection, free: @escaping @convention(c) (OpaquePointer?) -> Int32) {
        self.handle = handle
        self.connection = connection
        self.free = free
    }

    deinit { _ = free(handle) }

    /// Runs `body` with the handle on the connection's pool (refused once the connection closed).
    func call<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws(LibvirtError) -> T) async throws -> T {
        try await connection.call { _ throws(LibvirtError) in try body(self.handle) }
    }
}

/// One server of a daemon (`virAdmServerPtr`): `libvirtd` (the API) or `admin`.
public final class AdminServer: AdminObject, @unchecked Sendable, CustomStringConvertible {
    init(adopting handle: OpaquePointer, connection: AdminConnection) {
        super.init(adopting: handle, connection: connection, free: virAdmServerFree)
    }

    /// The server's name (`virAdmServerGetName`; from the handle).
    public var name: String { virAdmServerGetName(handle).map { String(cString: $0) } ?? "" }
    public var description: String { name }

    /// The worker pool's sizes and load (`virAdmServerGetThreadPoolParameters`).
    public func threadPool() async throws -> AdminThreadPool {
        AdminThreadPool(try await call { s throws(LibvirtError) in
            try TypedParameterCoding.fetchAllocated("virAdmServerGetThreadPoolParameters") { p, n in virAdmServerGetThreadPoolParameters(s, p, n, 0) }
        })
    }

    /// Resizes the worker pool: the set fields only (`virAdmServerSetThreadPoolParameters`).
    public func setThreadPool(_ pool: AdminThreadPool) async throws {
        let params = pool.encoded
        try await call { s throws(LibvirtError) in
            try TypedParameterCoding.withEncoded(params) { (p, n) throws(LibvirtError) in
                try cCall("virAdmServerSetThreadPoolParameters", virAdmServerSetThreadPoolParameters(s, p, n, 0))
            }
        }
    }

    /// The connected clients (`virAdmServerListClients`).
    public func clients() async throws -> [AdminClient] {
        try await call { s throws(LibvirtError) in
            try listAll("virAdmServerListClients", s, 0, virAdmServerListClients) { AdminClient(adopting: $0, connection: self.connection) }
        }
    }

    /// A client by its ID (`virAdmServerLookupClient`); `.noClient` if none.
    public func client(id: UInt64) async throws -> AdminClient {
        try await call { s throws(LibvirtError) in
            AdminClient(adopting: try cObject("virAdmServerLookupClient", virAdmServerLookupClient(s, id, 0)), connection: self.connection)
        }
    }

    /// The client limits (`virAdmServerGetClientLimits`).
    public func clientLimits() async throws -> AdminClientLimits {
        AdminClientLimits(try await call { s throws(LibvirtError) in
            try TypedParameterCoding.fetchAllocated("virAdmServerGetClientLimits") { p, n in virAdmServerGetClientLimits(s, p, n, 0) }
        })
    }

    /// Changes the client limits: the set fields only (`virAdmServerSetClientLimits`).
    public func setClientLimits(_ limits: AdminClientLimits) async throws {
        let params = limits.encoded
        try await call { s throws(LibvirtError) in
            try TypedParameterCoding.withEncoded(params) { (p, n) throws(LibvirtError) in
                try cCall("virAdmServerSetClientLimits", virAdmServerSetClientLimits(s, p, n, 0))
            }
        }
    }

    /// Re-reads the TLS certificates and keys from disk (`virAdmServerUpdateTlsFiles`).
    public func reloadTLSFiles() async throws {
        try await call { s throws(LibvirtError) in try cCall("virAdmServerUpdateTlsFiles", virAdmServerUpdateTlsFiles(s, 0)) }
    }
}

/// One client connected to a server (`virAdmClientPtr`).
public final class AdminClient: AdminObject, @unchecked Sendable, CustomStringConvertible {
    init(adopting handle: OpaquePointer, connection: AdminConnection) {
        super.init(adopting: handle, connection: connection, free: virAdmClientFree)
    }

    /// The client's ID within its server (`virAdmClientGetID`; from the handle).
    public var id: UInt64 { virAdmClientGetID(handle) }
    /// When it connected (`virAdmClientGetTimestamp`; from the handle); nil if unknown.
    public var connectedSince: Timestamp? {
        let t = virAdmClientGetTimestamp(handle)
        return t < 0 ? nil : .seconds(sinceUnixEpoch: t)
    }
    /// How it connected (`virAdmClientGetTransport`; from the handle).
    public var transport: AdminClientTransport { AdminClientTransport(rawValue: virAdmClientGetTransport(handle)) }
    public var description: String { "client \(id) (\(transport))" }

    /// Identity facts (`virAdmClientGetInfo`: `readonly`, `unix_user_name`, `unix_process_id`, `sock_addr`, …).
    public func info() async throws -> TypedParameters {
        try await call { c throws(LibvirtError) in
            try TypedParameterCoding.fetchAllocated("virAdmClientGetInfo") { p, n in virAdmClientGetInfo(c, p, n, 0) }
        }
    }

    /// Disconnects the client (`virAdmClientClose`).
    public func disconnect() async throws {
        try await call { c throws(LibvirtError) in try cCall("virAdmClientClose", virAdmClientClose(c, 0)) }
    }
}
