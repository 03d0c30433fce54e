import CLibvirt
import Foundation
import VirtCore

/// When and how often `EventMonitor` tries to reconnect: exponential backoff from
/// `initialDelay`, multiplied by `multiplier` per attempt, capped at `maxDelay`, giving up
/// after `maxAttempts` (nil: never).
public struct ReconnectPolicy: Hashable, Sendable {
    public var initialDelay: Duration
    public var maxDelay: Duration
    public var multiplier: Double
    public var maxAttempts: Int?

    public init(initialDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(5),
                multiplier: Double = 2, maxAttempts: Int? = nil) {
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.multiplier = max(1, multiplier)
        self.maxAttempts = maxAttempts
    }

    /// The wait before attempt `n` (1-based).
    public func delay(beforeAttempt n: Int) -> Duration {
        let factor = pow(multiplier, Double(max(0, n - 1)))
        let d = initialDelay * factor
        return d > maxDelay ? maxDelay : d
    }
}

/// A connection's health as `EventMonitor` sees it.
public enum ConnectionHealthEvent: Hashable, Sendable, CustomStringConvertible {
    /// The connection closed (`virConnectRegisterCloseCallback`).
    case closed(ConnectionCloseEvent)
    /// Attempt `attempt` to reopen failed with `error`; the next one follows after `retryIn`.
    case reconnectFailed(attempt: Int, error: LibvirtError, retryIn: Duration)
    /// Reopened and every open event stream re-registered, `gap` after the close.
    case reconnected(gap: Duration, attempts: Int)
    /// The policy gave up (or there is none); the monitor is dead.
    case gaveUp(LibvirtError?)

    public var description: String {
        switch self {
        case .closed(let c): "closed (\(c.reason))"
        case .reconnectFailed(let n, let e, let d): "reconnect attempt \(n) failed: \(e); retry in \(d)"
        case .reconnected(let gap, let n): "reconnected after \(gap) (\(n) attempt\(n == 1 ? "" : "s"))"
        case .gaveUp(let e): "gave up\(e.map { ": \($0)" } ?? "")"
        }
    }
}

/// Domain event streams that survive their connection: on a close event (daemon restart,
/// keepalive timeout, socket error) it reopens the URI with the `ReconnectPolicy`'s backoff,
/// re-registers every open stream on the new connection, and tells each consumer about the
/// gap (`.disconnected`, then `.reconnected(gap:attempts:)`). Events during the gap are lost
/// (libvirt doesn't replay them), which is exactly what the gap message says.
///
/// Keepalive (`virConnectSetKeepAlive`) is set on every connection it opens, so a daemon
/// that hangs (rather than closing its socket) is noticed too.
public actor EventMonitor {
    /// The URI (re)opened.
    public let uri: String
    public let policy: ReconnectPolicy?
    public let keepAlive: KeepAlive?
    /// Connections are opened read-only (`virConnectOpenReadOnly`: enough for events and stats).
    public let readOnly: Bool
    /// The pool the monitor's connections make their calls on.
    public let pool: BlockingThreadPool
    /// The current connection (replaced after a reconnect).
    public private(set) var connection: Connection
    private var generation = 0
    private var subscriptions: [Int: Subscription] = [:]
    private var health: [Int: AsyncStream<ConnectionHealthEvent>.Continuation] = [:]
    private var nextID = 1
    private var closeToken: Int?
    private var reconnectTask: Task<Void, Never>?
    private var isShutDown = false

    private struct Subscription {
        var ids: Set<DomainEventID>
        var subscriber: EventSubscriber<DomainEvent>
        /// The hub token on `connection` (nil while re-registering failed).
        var token: Int?
    }

    private init(uri: String, policy: ReconnectPolicy?, keepAlive: KeepAlive?, readOnly: Bool, pool: BlockingThreadPool, connection: Connection) {
        self.readOnly = readOnly
        self.pool = pool
        self.uri = uri
        self.policy = policy
        self.keepAlive = keepAlive
        self.connection = connection
    }

    /// Opens `uri` and starts watching it.
    /// - Parameters:
    ///   - uri: the libvirt URI to open (and reopen after a close).
    ///   - policy: how to reconnect; nil: streams end at the first close.
    ///   - keepAlive: probe interval and unanswered count; nil leaves libvirt's default.
    ///   - readOnly: open (and reopen) read-only connections.
    ///   - pool: the thread pool for the connections' calls (a pool of its own keeps a
    ///     process's other blocked libvirt calls from delaying this monitor's).
    public static func open(
        _ uri: String, policy: ReconnectPolicy? = ReconnectPolicy(),
        keepAlive: KeepAlive? = KeepAlive(interval: .seconds(2), count: 3), readOnly: Bool = false,
        pool: BlockingThreadPool = .libvirt
    ) async throws -> EventMonitor {
        let conn = try await openConnection(uri, keepAlive: keepAlive, readOnly: readOnly, pool: pool)
        let monitor = EventMonitor(uri: uri, policy: policy, keepAlive: keepAlive, readOnly: readOnly, pool: pool, connection: conn)
        try await monitor.watch(conn)
        return monitor
    }

    private static func openConnection(_ uri: String, keepAlive: KeepAlive?, readOnly: Bool, pool: BlockingThreadPool) async throws -> Connection {
        let conn = try await Connection.open(uri, readOnly: readOnly, pool: pool)
        if let keepAlive {
            do { try await conn.setKeepAlive(keepAlive) }
            catch let e as LibvirtError where e.code == .noSupport {}  // local drivers can't lose their peer
        }
        return conn
    }

    private func watch(_ conn: Connection) async throws {
        generation += 1
        let gen = generation
        closeToken = try await conn.subscribeClose { [weak self] event in
            guard let self else { return }
            Task { await self.connectionClosed(event, generation: gen) }
        }
    }

    /// Domain events for one domain (by UUID, so it is found again after a reconnect) or all,
    /// as a stream that keeps flowing across reconnects. Ending the consumer deregisters.
    public func domainEvents(domainUUID: LibvirtUUID? = nil, ids: Set<DomainEventID> = .all) async throws -> AsyncStream<DomainEventMessage> {
        let (stream, continuation) = AsyncStream<DomainEventMessage>.makeStream()
        let subscriber = EventSubscriber<DomainEvent>(continuation, filter: domainUUID)
        if let domainUUID { _ = try await connection.domain(uuid: domainUUID) }  // fail early, typed, for an unknown domain
        let token = try await connection.subscribeEvents(DomainEventFamily.self, ids: ids, subscriber: subscriber)
        let id = nextID
        nextID += 1
        subscriptions[id] = Subscription(ids: ids, subscriber: subscriber, token: token)
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            Task { await self.unsubscribe(id) }
        }
        return stream
    }

    /// Domain events of `domain` (looked up again by UUID after a reconnect).
    public func domainEvents(for domain: Domain, ids: Set<DomainEventID> = .all) async throws -> AsyncStream<DomainEventMessage> {
        try await domainEvents(domainUUID: domain.uuid, ids: ids)
    }

    /// Connection health: closes, reconnect attempts, reconnects, giving up.
    public func healthEvents() -> AsyncStream<ConnectionHealthEvent> {
        let (stream, continuation) = AsyncStream<ConnectionHealthEvent>.makeStream()
        let id = nextID
        nextID += 1
        health[id] = continuation
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            Task { await self.removeHealth(id) }
        }
        return stream
    }

    /// Number of open event streams (for tests).
    public var subscriptionCount: Int { subscriptions.count }

    /// Ends every stream, stops reconnecting and closes the connection.
    public func shutdown() async {
        isShutDown = true
        reconnectTask?.cancel()
        let conn = connection
        for (_, s) in subscriptions {
            if let t = s.token { conn.unsubscribeEvents(t) }
            s.subscriber.continuation.finish()
        }
        for (_, h) in health { h.finish() }
        subscriptions = [:]
        health = [:]
        if let token = closeToken {
            conn.unsubscribeClose(token)
        }
        await conn.close()
    }

    private func removeHealth(_ id: Int) { health[id] = nil }

    private func unsubscribe(_ id: Int) async {
        guard let sub = subscriptions.removeValue(forKey: id), let token = sub.token else { return }
        connection.unsubscribeEvents(token)
    }

    private func broadcastHealth(_ event: ConnectionHealthEvent) {
        for (_, h) in health { h.yield(event) }
    }

    private func connectionClosed(_ event: ConnectionCloseEvent, generation gen: Int) {
        guard gen == generation, !isShutDown, reconnectTask == nil else { return }
        log.warning("connection lost", metadata: ["uri": "\(uri)", "reason": "\(event.reason)"])
        broadcastHealth(.closed(event))
        for (_, s) in subscriptions { s.subscriber.continuation.yield(.disconnected(event)) }
        guard let policy else {
            giveUp(nil)
            return
        }
        let closedAt = ContinuousClock.now
        reconnectTask = Task { await self.reconnect(policy: policy, closedAt: closedAt) }
    }

    private func giveUp(_ error: LibvirtError?) {
        log.log(level: .error, "gave up reconnecting", metadata: ["uri": "\(uri)", "error": "\(error.map { "\($0)" } ?? "no reconnect policy")"])
        broadcastHealth(.gaveUp(error))
        for (_, s) in subscriptions {
            if let t = s.token { connection.unsubscribeEvents(t) }
            if let error { s.subscriber.continuation.yield(.failed(error)) }
            s.subscriber.continuation.finish()
        }
        subscriptions = [:]
        for (_, h) in health { h.finish() }
        health = [:]
        isShutDown = true
    }

    private func reconnect(policy: ReconnectPolicy, closedAt: ContinuousClock.Instant) async {
        defer { reconnectTask = nil }
        var attempt = 0
        var lastError: LibvirtError?
        while !Task.isCancelled, !isShutDown {
            attempt += 1
            if let max = policy.maxAttempts, attempt > max { giveUp(lastError); return }
            try? await Task.sleep(for: policy.delay(beforeAttempt: attempt))
            if Task.isCancelled || isShutDown { return }
            do {
                let conn = try await Self.openConnection(uri, keepAlive: keepAlive, readOnly: readOnly, pool: pool)
                let old = connection
                // Leave the dead connection's hub (its callbacks die with it).
                for (_, s) in subscriptions { if let t = s.token { old.unsubscribeEvents(t) } }
                if let t = closeToken { old.unsubscribeClose(t) }
                connection = conn
                try await watch(conn)
                await reRegisterAll(on: conn)
                let gap = ContinuousClock.now - closedAt
                for (_, s) in subscriptions { s.subscriber.continuation.yield(.reconnected(gap: gap, attempts: attempt)) }
                broadcastHealth(.reconnected(gap: gap, attempts: attempt))
                log.info("reconnected", metadata: ["uri": "\(uri)", "gap": "\(gap)", "attempts": "\(attempt)", "streams": "\(subscriptions.count)"])
                // Dropping the dead connection disposes it, which frees its callbacks
                // (and their references to the old sinks).
                await old.close()
                return
            } catch {
                let e = (error as? LibvirtError) ?? LibvirtError(code: .internalError, message: "\(error)")
                lastError = e
                log.info("reconnect attempt failed", metadata: ["uri": "\(uri)", "attempt": "\(attempt)", "error": "\(e)"])
                broadcastHealth(.reconnectFailed(attempt: attempt, error: e, retryIn: policy.delay(beforeAttempt: attempt + 1)))
            }
        }
    }

    private func reRegisterAll(on conn: Connection) async {
        for (id, sub) in subscriptions {
            subscriptions[id]?.token = nil
            do {
                let token = try await conn.subscribeEvents(DomainEventFamily.self, ids: sub.ids, subscriber: sub.subscriber)
                if subscriptions[id] != nil {
                    subscriptions[id]?.token = token
                } else {
                    conn.unsubscribeEvents(token)  // the consumer ended meanwhile
                }
            } catch {
                let e = (error as? LibvirtError) ?? LibvirtError(code: .internalError, message: "\(error)")
                sub.subscriber.continuation.yield(.failed(e))
                sub.subscriber.continuation.finish()
                subscriptions[id] = nil
            }
        }
    }
}
