import Libvirt
import Synchronization
import VirtCore

/// How a drain carries out its plan.
public struct FleetDrainOptions: Sendable {
    /// Live migrations running at the same time (at least 1).
    public var parallel: Int
    /// The options of every migration (default: live, persistent on the target, the source's
    /// definition removed — the guest moves for good). `migrateURI` and `destinationXML` are
    /// set per guest.
    public var migration: MigrationOptions
    /// Per target host name: where QEMU sends the data (`VIR_MIGRATE_PARAM_URI`, e.g.
    /// `tcp://10.0.0.2`), for targets whose hostname does not resolve from the source.
    public var migrateURIs: [String: String]
    /// Migrate with the plan's pins and memory nodes in the destination XML.
    public var applyPlacement: Bool
    /// How often each migration's job statistics are read (progress events).
    public var pollInterval: Duration
    /// A migration still running after this long is aborted (`virDomainAbortJob`); nil: no limit.
    public var migrationTimeout: Duration?

    public init(parallel: Int = 2, migration: MigrationOptions = FleetDrainOptions.defaultMigration, migrateURIs: [String: String] = [:],
                applyPlacement: Bool = true, pollInterval: Duration = .milliseconds(500), migrationTimeout: Duration? = nil) {
        self.parallel = max(1, parallel)
        self.migration = migration
        self.migrateURIs = migrateURIs
        self.applyPlacement = applyPlacement
        self.pollInterval = pollInterval
        self.migrationTimeout = migrationTimeout
    }

    /// Live, defined on the target, undefined on the source.
    public static var defaultMigration: MigrationOptions {
        var o = MigrationOptions()
        o.live = true
        o.persistOnDestination = true
        o.undefineSource = true
        return o
    }
}

/// Where a guest runs after its part of a drain, as read back from both hosts.
public enum FleetDrainGuestLocation: Sendable, Hashable, CustomStringConvertible {
    /// Running on the source (not moved, or its migration was rolled back).
    case source
    /// Running on its target and no longer active on the source.
    case target
    /// Neither, or both, or a host did not answer: what was seen.
    case unknown(String)

    public var description: String {
        switch self {
        case .source: "source"
        case .target: "target"
        case .unknown(let what): "unknown (\(what))"
        }
    }
}

/// How one guest's migration ended.
public enum FleetDrainGuestResult: Sendable, CustomStringConvertible {
    /// The migration completed.
    case migrated
    /// The migration (or the step before it: connecting, reading the definition) failed
    /// with this error; libvirt rolled it back.
    case failed(any Error)
    /// Still running after `FleetDrainOptions.migrationTimeout`: aborted.
    case timedOut(Duration)
    /// The drain was cancelled: before this guest's migration started (`inFlight` false), or
    /// while it ran (aborted with `virDomainAbortJob`).
    case cancelled(inFlight: Bool)
    /// The plan has no target for the guest (each target's reason).
    case noTarget([String])

    /// `migrated`, `failed`, `timedOut`, `cancelled`, `noTarget` (stable keys for JSON and logs).
    public var kind: String {
        switch self {
        case .migrated: "migrated"
        case .failed: "failed"
        case .timedOut: "timedOut"
        case .cancelled: "cancelled"
        case .noTarget: "noTarget"
        }
    }

    public var description: String {
        switch self {
        case .migrated: "migrated"
        case .failed(let e): "failed: \(e)"
        case .timedOut(let d): "aborted after \(d.humanReadable)"
        case .cancelled(let inFlight): inFlight ? "cancelled (migration aborted)" : "cancelled (not started)"
        case .noTarget(let reasons): "no target: " + reasons.joined(separator: "; ")
        }
    }
}

/// One guest's part of a drain.
public struct FleetDrainGuestOutcome: Sendable {
    public var guest: String
    /// The planned target (nil for a guest without one).
    public var target: String?
    public var result: FleetDrainGuestResult
    /// Where the guest runs now, read back after the migration ended.
    public var location: FleetDrainGuestLocation
    /// From the start of this guest's migration (zero when it did not start).
    public var elapsed: Duration
    /// The last job statistics seen while it ran, and libvirt's final ones (real downtime).
    public var lastProgress: JobStats?
    public var finalStats: JobStats?
}

/// What a running drain reports, in order for each guest: `started`, `progress`…, `finished`;
/// a guest that never started (cancelled before its turn, or without a target) gets `finished` only.
public enum FleetDrainEvent: Sendable {
    case started(guest: String, target: String)
    /// The migration's job statistics (`JobStats.progress` is the fraction done).
    case progress(guest: String, target: String, stats: JobStats)
    case finished(FleetDrainGuestOutcome)
}

/// The outcome of a drain: every guest of the plan, moves first in plan order, then the
/// guests without a target.
public struct FleetDrainReport: Sendable {
    public var source: String
    public var outcomes: [FleetDrainGuestOutcome]
    /// The drain was cancelled before every migration had ended.
    public var cancelled: Bool
    public var elapsed: Duration

    /// Every guest migrated and runs on its target: the source holds none of them.
    public var isComplete: Bool { outcomes.allSatisfy { $0.result.kind == "migrated" && $0.location == .target } }

    public subscript(guest name: String) -> FleetDrainGuestOutcome? { outcomes.first { $0.guest == name } }

    /// "4 guests: 3 migrated, 1 cancelled in 12.4 s".
    public var summary: String {
        var counts: [String: Int] = [:]
        for o in outcomes { counts[o.result.kind, default: 0] += 1 }
        let parts = ["migrated", "failed", "timedOut", "cancelled", "noTarget"].compactMap { k in counts[k].map { "\($0) \(k)" } }
        return "\(outcomes.count) guests: \(parts.isEmpty ? "none" : parts.joined(separator: ", ")) in \(elapsed.humanReadable)"
            + (cancelled ? " (cancelled)" : "")
    }
}

/// A drain in progress (`Fleet.startDrain`): its events, cancel, and the final report.
///
/// Cancelling starts no further migration and aborts the running ones (`virDomainAbortJob`,
/// libvirt rolls them back and the guest keeps running on the source); a migration that
/// completed before its abort took is reported `migrated`. Every outcome's `location` is
/// read back from both hosts.
public final class FleetDrainRun: Sendable {
    /// The drain's events (one consumer). Ends after the last guest's `finished`.
    public let events: AsyncStream<FleetDrainEvent>
    private let task: Task<FleetDrainReport, Never>

    init(_ execute: @escaping @Sendable (@escaping @Sendable (FleetDrainEvent) -> Void) async -> FleetDrainReport) {
        let (stream, continuation) = AsyncStream<FleetDrainEvent>.makeStream()
        events = stream
        task = Task {
            let report = await execute { continuation.yield($0) }
            continuation.finish()
            return report
        }
    }

    /// Cancels the drain (returns at once; `report` waits for the aborts to be rolled back).
    public func cancel() { task.cancel() }

    /// The report, once every migration has ended.
    public var report: FleetDrainReport { get async { await task.value } }
}

extension Fleet {
    /// Starts carrying out `plan`: live migrations of its moves, at most `options.parallel`
    /// at a time, each guest to its planned target (with the plan's pins, unless
    /// `applyPlacement` is off). The drain opens its own read-write connections to the source
    /// and the targets (each open under the fleet's deadline) and its own threads, so long
    /// migrations hold none of the fleet's.
    public func startDrain(_ plan: FleetDrainPlan, options: FleetDrainOptions = FleetDrainOptions()) throws(FleetError) -> FleetDrainRun {
        guard let source = host(named: plan.source) else { throw .unknownHost(plan.source) }
        var targets: [String: FleetHost] = [:]
        for m in plan.moves where targets[m.target] == nil {
            guard let t = host(named: m.target) else { throw .unknownHost(m.target) }
            targets[m.target] = t
        }
        for h in [source] + targets.values where h.readOnly { throw .readOnlyHost(h.name) }
        let executor = FleetDrainExecutor(plan: plan, source: source, targets: targets, options: options,
                                          connectDeadline: self.options.deadline, keepAlive: self.options.keepAlive)
        return FleetDrainRun { emit in await executor.run(emit: emit) }
    }

    /// Carries out `plan` and returns its report; cancelling the calling task cancels the
    /// drain (see `FleetDrainRun`). `onEvent` gets the progress events.
    public func drain(_ plan: FleetDrainPlan, options: FleetDrainOptions = FleetDrainOptions(),
                      onEvent: (@Sendable (FleetDrainEvent) -> Void)? = nil) async throws(FleetError) -> FleetDrainReport {
        let run = try startDrain(plan, options: options)
        let consumer = Task { for await e in run.events { onEvent?(e) } }
        let report = await withTaskCancellationHandler { await run.report } onCancel: { run.cancel() }
        await consumer.value
        return report
    }
}

/// Carries out one drain plan.
struct FleetDrainExecutor: Sendable {
    var plan: FleetDrainPlan
    var source: FleetHost
    var targets: [String: FleetHost]
    var options: FleetDrainOptions
    var connectDeadline: Duration
    var keepAlive: KeepAlive?

    func run(emit: @escaping @Sendable (FleetDrainEvent) -> Void) async -> FleetDrainReport {
        let started = ContinuousClock.now
        // The migration call holds a thread for its whole length; the poller and the
        // abort requests need one beside it.
        let pool = BlockingThreadPool(threadCount: options.parallel * 3 + targets.count + 2, name: "vk-drain")
        let connections = DrainConnections(hosts: [source] + Array(targets.values), pool: pool, deadline: connectDeadline, keepAlive: keepAlive)
        var outcomes = [FleetDrainGuestOutcome?](repeating: nil, count: plan.moves.count)
        await withTaskGroup(of: (Int, FleetDrainGuestOutcome).self) { group in
            var next = 0
            func launch() {
                let i = next
                next += 1
                let move = plan.moves[i]
                group.addTask { (i, await migrate(move, connections: connections, emit: emit)) }
            }
            while next < min(options.parallel, plan.moves.count), !Task.isCancelled { launch() }
            while let (i, outcome) = await group.next() {
                outcomes[i] = outcome
                if next < plan.moves.count, !Task.isCancelled { launch() }
            }
        }
        let cancelled = outcomes.contains { $0 == nil }
        for (i, move) in plan.moves.enumerated() where outcomes[i] == nil {
            // Never started: the guest is where it was; read back to say so.
            let location = await Self.locate(move.guest, source: source.name, target: move.target, connections: connections)
            let o = FleetDrainGuestOutcome(guest: move.guest, target: move.target, result: .cancelled(inFlight: false), location: location, elapsed: .zero)
            emit(.finished(o))
            outcomes[i] = o
        }
        var all = outcomes.compactMap { $0 }
        for s in plan.stuck {
            let o = FleetDrainGuestOutcome(guest: s.guest, target: nil, result: .noTarget(s.reasons), location: .source, elapsed: .zero)
            emit(.finished(o))
            all.append(o)
        }
        await connections.closeAll()
        pool.shutdown()
        let wasCancelled = cancelled || all.contains { if case .cancelled = $0.result { true } else { false } }
        return FleetDrainReport(source: plan.source, outcomes: all, cancelled: wasCancelled, elapsed: started.duration(to: .now))
    }

    /// One guest: its destination XML, the migration with progress, the read-back.
    private func migrate(_ move: FleetDrainPlan.Move, connections: DrainConnections,
                         emit: @escaping @Sendable (FleetDrainEvent) -> Void) async -> FleetDrainGuestOutcome {
        let start = ContinuousClock.now
        let watch = MigrationWatch()
        var inFlight = false
        var result: FleetDrainGuestResult
        var final: JobStats?
        emit(.started(guest: move.guest, target: move.target))
        do {
            let src = try await connections.connection(source.name)
            let dst = try await connections.connection(move.target)
            let domain = try await src.domain(named: move.guest)
            var opts = options.migration
            if let uri = options.migrateURIs[move.target] { opts.migrateURI = uri }
            if options.applyPlacement {
                opts.destinationXML = try move.destinationXML(from: try await domain.xmlDescription(flags: [.migratable, .secure]))
            }
            try Task.checkCancellation()
            inFlight = true
            let interval = options.pollInterval
            let migrationOptions = opts
            // Unstructured so that cancelling it (drain cancel or timeout) goes through
            // `migrate`'s own abort-and-wait-for-rollback; awaited to the end either way.
            let migration = Task {
                try await domain.migrate(to: .connection(dst), options: migrationOptions, pollInterval: interval) { stats in
                    watch.last.withLock { $0 = stats }
                    emit(.progress(guest: move.guest, target: move.target, stats: stats))
                }
            }
            let timer = options.migrationTimeout.map { limit in
                Task {
                    try await Task.sleep(for: limit)
                    watch.timedOut.store(true, ordering: .sequentiallyConsistent)
                    migration.cancel()
                }
            }
            defer { timer?.cancel() }
            let outcome = await withTaskCancellationHandler { await migration.result } onCancel: { migration.cancel() }
            final = try outcome.get().finalStats
            result = .migrated
        } catch is CancellationError {
            if watch.timedOut.load(ordering: .sequentiallyConsistent), let limit = options.migrationTimeout {
                result = .timedOut(limit)
            } else {
                result = .cancelled(inFlight: inFlight)
            }
        } catch {
            result = .failed(error)
        }
        let location = await Self.locate(move.guest, source: source.name, target: move.target, connections: connections)
        // An abort that came after libvirt had finished does not undo the migration.
        if location == .target, result.kind != "migrated", result.kind != "failed" { result = .migrated }
        let outcome = FleetDrainGuestOutcome(guest: move.guest, target: move.target, result: result, location: location,
                                             elapsed: start.duration(to: .now), lastProgress: watch.last.withLock { $0 }, finalStats: final)
        emit(.finished(outcome))
        return outcome
    }

    /// Where `guest` runs: asked of both hosts, outside the drain's cancellation (a
    /// cancelled task's queued libvirt calls would not run).
    static func locate(_ guest: String, source: String, target: String, connections: DrainConnections) async -> FleetDrainGuestLocation {
        await Task {
            func probe(_ host: String) async -> String {
                do {
                    let conn = try await connections.connection(host)
                    let status = try await conn.domain(named: guest).state()
                    return status.state.key
                } catch let e as LibvirtError where e.code == .noDomain {
                    return "absent"
                } catch {
                    return "error: \(error)"
                }
            }
            async let s = probe(source)
            async let t = probe(target)
            return FleetDrainGuestLocation(source: await s, target: await t)
        }.value
    }
}

/// The drain's own read-write connections, opened on first use under the connect deadline
/// and opened again when found dead (a daemon restarted during a long drain).
actor DrainConnections {
    private let hosts: [String: FleetHost]
    private let pool: BlockingThreadPool
    private let deadline: Duration
    private let keepAlive: KeepAlive?
    private var open: [String: Connection] = [:]
    private var opening: [String: Task<Connection, any Error>] = [:]

    init(hosts: [FleetHost], pool: BlockingThreadPool, deadline: Duration, keepAlive: KeepAlive?) {
        self.hosts = Dictionary(hosts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.pool = pool
        self.deadline = deadline
        self.keepAlive = keepAlive
    }

    /// A live connection to `name` (one open at a time per host; concurrent callers share it).
    func connection(_ name: String) async throws -> Connection {
        if let c = open[name] {
            if await c.isAlive() { return c }
            if open[name] === c { open[name] = nil }
        }
        if let pending = opening[name] { return try await pending.value }
        guard let host = hosts[name] else { throw FleetError.unknownHost(name) }
        let (pool, deadline, keepAlive) = (self.pool, self.deadline, self.keepAlive)
        let task = Task<Connection, any Error> {
            let attempt = Task(executorPreference: pool) { () async throws -> Connection in
                let conn = try await Connection.open(try host.connectionURI(), flags: [], pool: pool)
                if let keepAlive { _ = try? await conn.setKeepAlive(keepAlive) }
                return conn
            }
            switch await awaitResult(of: attempt, until: .now + deadline) {
            case .finished(let r): return try r.get()
            case .timedOut: throw FleetDrainError.connectTimedOut(host: name, after: deadline)
            case .cancelled: throw CancellationError()
            }
        }
        opening[name] = task
        defer { opening[name] = nil }
        // Unstructured: a caller's cancellation does not end the shared open.
        let conn = try await task.value
        open[name] = conn
        try Task.checkCancellation()
        return conn
    }

    func closeAll() async {
        for c in open.values { await c.close() }
        open = [:]
    }
}

/// What a migration's progress callback and timeout timer leave for its outcome.
private final class MigrationWatch: Sendable {
    let last = Mutex<JobStats?>(nil)
    let timedOut = Atomic<Bool>(false)
}

extension FleetDrainGuestLocation {
    /// From what each host said of the guest: `absent`, a `DomainState.key`, `error: …`, `no connection`.
    /// `.target` only when the source no longer holds it (gone or shut off); `.source` while
    /// the source holds it and the target does not run it (an incoming domain being torn
    /// down is paused).
    init(source: String, target: String) {
        let sourceLetGo = ["absent", "shutoff", "crashed"].contains(source)
        let sourceHolds = ["running", "paused", "blocked", "pmsuspended", "shutdown"].contains(source)
        if sourceLetGo && ["running", "paused", "blocked", "pmsuspended"].contains(target) {
            self = .target
        } else if sourceHolds && target != "running" && (target == "absent" || target == "paused" || target == "shutoff") {
            self = .source
        } else {
            self = .unknown("source: \(source), target: \(target)")
        }
    }
}

/// Why a drain could not migrate a guest (libvirt's own failures stay `LibvirtError`s).
public enum FleetDrainError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Opening the connection did not finish within the fleet's deadline.
    case connectTimedOut(host: String, after: Duration)

    public var description: String {
        switch self {
        case .connectTimedOut(let h, let d): "connecting to '\(h)' took longer than \(d.humanReadable)"
        }
    }
}
