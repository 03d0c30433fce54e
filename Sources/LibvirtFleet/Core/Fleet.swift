import Libvirt
import VirtCore

/// Many libvirt hosts as one: runs an operation on every host concurrently, each host under
/// its own deadline and at most `concurrency` hosts at a time, and reports per host `ok`,
/// `failed(error)` or `timedOut` — one hung or dead host never blocks or fails the others.
///
/// - A libvirt call cannot be cancelled once started. The fleet runs its calls on a
///   `BlockingThreadPool` of its own (concurrency + headroom threads), abandons a call past
///   its deadline, starts no new call on a host while its previous call is still stuck (the
///   next run waits for it within its own deadline, else reports `timedOut` again), and drops
///   that host's connection so the next call reconnects. Keepalive on every connection
///   (default 5 s × 3) makes libvirt fail a call to a hung daemon eventually, which gives
///   its thread back.
/// - Connections are opened on first use, kept, and reopened after a failure with
///   exponential backoff (`ReconnectPolicy`); while backing off a host fails at once.
/// - Hosts can be added and removed while operations run: a run works on the hosts present
///   when it starts; a host removed before its turn reports `FleetError.hostRemoved`.
public actor Fleet {
    /// How the fleet runs its calls.
    public struct Options: Sendable {
        /// Hosts worked on at the same time.
        public var concurrency: Int
        /// Per-host deadline of one operation (connecting included), unless a run gives its own.
        public var deadline: Duration
        /// Extra pool threads for calls stuck past their deadline (default: `concurrency`).
        public var threadHeadroom: Int?
        /// Backoff between failed connection attempts.
        public var reconnect: ReconnectPolicy
        /// `virConnectSetKeepAlive` on every connection; nil leaves libvirt's default.
        public var keepAlive: KeepAlive?
        /// Keep connections open between operations (false: open and close per operation).
        public var keepConnections: Bool

        public init(
            concurrency: Int = 16, deadline: Duration = .seconds(10), threadHeadroom: Int? = nil,
            reconnect: ReconnectPolicy = ReconnectPolicy(initialDelay: .milliseconds(500), maxDelay: .seconds(30)),
            keepAlive: KeepAlive? = KeepAlive(interval: .seconds(5), count: 3), keepConnections: Bool = true
        ) {
            self.concurrency = max(1, concurrency)
            self.deadline = deadline
            self.threadHeadroom = threadHeadroom
            self.reconnect = reconnect
            self.keepAlive = keepAlive
            self.keepConnections = keepConnections
        }
    }

    /// A host's connection state (actor-isolated).
    private final class Slot {
        var host: FleetHost
        var connection: Connection?
        /// Set while a call runs on the host: its watcher ends when the call returns.
        var inFlight: Task<Void, Never>?
        var token = 0
        var health = FleetHostHealth()
        init(_ host: FleetHost) { self.host = host }
    }

    public nonisolated let options: Options
    /// The fleet's own threads for its libvirt calls.
    public nonisolated let pool: BlockingThreadPool
    /// Host facts kept between inventories (see `FleetHostFactsCache`).
    nonisolated let factsCache = FleetHostFactsCache()
    private var slots: [String: Slot] = [:]
    private var order: [String] = []
    private var nextToken = 0
    private var isShutDown = false

    /// A fleet of `hosts` (names must be unique).
    public init(hosts: [FleetHost] = [], options: Options = Options()) throws(FleetError) {
        self.options = options
        pool = BlockingThreadPool(threadCount: options.concurrency + (options.threadHeadroom ?? options.concurrency), name: "vk-fleet")
        for h in hosts {
            guard slots[h.name] == nil else { throw .duplicateHost(h.name) }
            _ = try h.connectionURI()
            slots[h.name] = Slot(h)
            order.append(h.name)
        }
    }

    deinit { pool.shutdown() }

    /// The hosts, in the order they were added.
    public var hosts: [FleetHost] { order.compactMap { slots[$0]?.host } }

    /// Adds a host (usable by the next run).
    public func add(_ host: FleetHost) throws(FleetError) {
        guard !isShutDown else { throw .shutDown }
        guard slots[host.name] == nil else { throw .duplicateHost(host.name) }
        _ = try host.connectionURI()
        slots[host.name] = Slot(host)
        order.append(host.name)
    }

    /// Removes a host; its connection is released (a call still running on it finishes on
    /// its own reference).
    public func remove(named name: String) throws(FleetError) {
        guard slots.removeValue(forKey: name) != nil else { throw .unknownHost(name) }
        order.removeAll { $0 == name }
    }

    /// The connection health of a host (failed attempts, backoff), nil for an unknown host.
    public func health(of name: String) -> FleetHostHealth? { slots[name]?.health }

    /// True while a call (possibly abandoned past its deadline) still runs on the host.
    public func isBusy(_ name: String) -> Bool { slots[name]?.inFlight != nil }

    /// Drops every connection and stops the pool once its queued work is done. Later runs
    /// report `FleetError.shutDown` for every host.
    public func shutdown() {
        isShutDown = true
        for s in slots.values { s.connection = nil }
        pool.shutdown()
    }

    /// Runs `operation` on every host (or on `names`), at most `options.concurrency` at a time,
    /// each under `deadline` (default `options.deadline`), and returns every host's outcome
    /// in fleet order. Never throws: failures and timeouts are per host.
    public func run<T: Sendable>(
        on names: [String]? = nil, deadline: Duration? = nil,
        _ operation: @escaping @Sendable (Connection, FleetHost) async throws -> T
    ) async -> FleetRunReport<T> {
        let started = ContinuousClock.now
        let targets = names ?? order
        let deadline = deadline ?? options.deadline
        var outcomes = [FleetHostOutcome<T>?](repeating: nil, count: targets.count)
        await withTaskGroup(of: (Int, FleetHostOutcome<T>).self) { group in
            var next = 0
            func launch() {
                let i = next
                let name = targets[i]
                next += 1
                group.addTask { (i, await self.runOne(name, deadline: deadline, operation)) }
            }
            while next < min(options.concurrency, targets.count) { launch() }
            while let (i, outcome) = await group.next() {
                outcomes[i] = outcome
                if next < targets.count { launch() }
            }
        }
        return FleetRunReport(outcomes: outcomes.compactMap { $0 }, elapsed: started.duration(to: .now))
    }

    // MARK: - One host

    private enum Begin<T: Sendable> {
        case refused(FleetHost, any Error)
        case busy(Task<Void, Never>)
        case started(FleetHost, Task<(Connection, T), any Error>, token: Int)
    }

    /// Why a host call failed: while connecting (counts for backoff) or in the operation.
    private struct ConnectFailure: Error { var underlying: any Error }
    private struct OperationFailure: Error { var underlying: any Error; var connectionAlive: Bool }

    private nonisolated func runOne<T: Sendable>(
        _ name: String, deadline: Duration, _ operation: @escaping @Sendable (Connection, FleetHost) async throws -> T
    ) async -> FleetHostOutcome<T> {
        let start = ContinuousClock.now
        let end = start + deadline
        let placeholder = FleetHost(name: name, uri: "")
        while true {
            switch await begin(name, operation) {
            case .refused(let host, let error):
                return FleetHostOutcome(host: host, result: .failed(error), elapsed: start.duration(to: .now))
            case .busy(let previous):
                // The previous call on this host is still stuck: wait for it within this
                // run's deadline, never start a second one beside it.
                switch await awaitResult(of: Task { await previous.value }, until: end) {
                case .finished: continue
                case .timedOut:
                    let host = await self.host(named: name) ?? placeholder
                    return FleetHostOutcome(host: host, result: .timedOut, elapsed: start.duration(to: .now))
                case .cancelled:
                    return FleetHostOutcome(host: placeholder, result: .failed(CancellationError()), elapsed: start.duration(to: .now))
                }
            case .started(let host, let task, let token):
                let outcome = await awaitResult(of: task, until: end)
                let result: FleetHostResult<T> = await settle(name, token: token, outcome)
                return FleetHostOutcome(host: host, result: result, elapsed: start.duration(to: .now))
            }
        }
    }

    /// The host named `name`, if it is in the fleet.
    public func host(named name: String) -> FleetHost? { slots[name]?.host }

    private func begin<T: Sendable>(_ name: String, _ operation: @escaping @Sendable (Connection, FleetHost) async throws -> T) -> Begin<T> {
        guard let slot = slots[name] else {
            return .refused(FleetHost(name: name, uri: ""), isShutDown ? FleetError.shutDown : FleetError.hostRemoved(name))
        }
        if isShutDown { return .refused(slot.host, FleetError.shutDown) }
        if let previous = slot.inFlight { return .busy(previous) }
        let existing = slot.connection
        if existing == nil, let refusal = slot.health.refusal(at: .now) { return .refused(slot.host, refusal) }
        let host = slot.host
        let uri: String
        do { uri = try host.connectionURI() } catch { return .refused(host, error) }
        let pool = self.pool
        let keepAlive = options.keepAlive
        // Runs on the fleet's pool (task executor preference): the operation's libvirt calls
        // run in place on that thread, one thread per host call, none on Swift's cooperative pool.
        let task = Task(executorPreference: pool) { () async throws -> (Connection, T) in
            let conn: Connection
            if let existing {
                conn = existing
            } else {
                do {
                    conn = try await Connection.open(uri, flags: host.readOnly ? .readOnly : [], pool: pool)
                } catch {
                    throw ConnectFailure(underlying: error)
                }
                if let keepAlive { _ = try? await conn.setKeepAlive(keepAlive) }
            }
            do {
                return (conn, try await operation(conn, host))
            } catch {
                throw OperationFailure(underlying: error, connectionAlive: await conn.isAlive())
            }
        }
        nextToken += 1
        let token = nextToken
        slot.token = token
        slot.inFlight = Task { [weak self] in
            _ = await task.result
            await self?.callReturned(name, token: token)
        }
        return .started(host, task, token: token)
    }

    private func callReturned(_ name: String, token: Int) {
        guard let slot = slots[name], slot.token == token else { return }
        slot.inFlight = nil
    }

    private func settle<T: Sendable>(_ name: String, token: Int, _ outcome: DeadlineOutcome<(Connection, T)>) -> FleetHostResult<T> {
        let slot = slots[name].flatMap { $0.token == token ? $0 : nil }
        switch outcome {
        case .finished(.success(let (conn, value))):
            slot?.inFlight = nil
            slot?.health.recordSuccess()
            slot?.connection = options.keepConnections && !isShutDown ? conn : nil
            return .ok(value)
        case .finished(.failure(let error as ConnectFailure)):
            slot?.inFlight = nil
            slot?.connection = nil
            slot?.health.recordFailure(error.underlying, at: .now, policy: options.reconnect)
            return .failed(error.underlying)
        case .finished(.failure(let error as OperationFailure)):
            slot?.inFlight = nil
            if !error.connectionAlive || !options.keepConnections { slot?.connection = nil }
            return .failed(error.underlying)
        case .finished(.failure(let error)):
            slot?.inFlight = nil
            return .failed(error)
        case .timedOut:
            // Abandoned: the call keeps its own connection reference; the host gets a new one.
            slot?.connection = nil
            return .timedOut
        case .cancelled:
            return .failed(CancellationError())
        }
    }
}
