import Foundation
import VirtCore
import Libvirt

/// Watches a libvirt host for guests paused on I/O errors (and other troubles) and, by
/// policy, resumes them once their storage is checked healthy, leaves them paused, or
/// destroys them after a time limit. Every decision is a typed `GuardianDecision` on
/// `decisions`.
///
/// ```swift
/// let guardian = Guardian(uri: "qemu:///system", policy: GuardianPolicy())
/// try await guardian.start()                 // scans, then follows events
/// for await d in guardian.decisions { print(d) }
/// await guardian.stop()                      // every guest stays as it is
/// ```
///
/// - Events come through `EventMonitor` (reconnecting with backoff); on start and after
///   every reconnect the guardian scans every guest's state, so a pause during a daemon
///   restart is found.
/// - The decision logic is `GuardianStateMachine` (pure); this actor only gathers inputs
///   (events, scans, health checks, call results, timers) and carries out its effects.
/// - A resume is issued only right after a passing health report, and only when a fresh
///   `virDomainGetState` still shows the pause the decision was about.
/// - `stop()` cancels timers and pending checks; no new call starts afterwards. A call
///   already in libvirt finishes (libvirt has no cancellation); its result is dropped.
public actor Guardian {
    public nonisolated let uri: String
    public nonisolated let policy: GuardianPolicy
    /// The decision records, in order. Finishes after `stop()`.
    public nonisolated let decisions: AsyncStream<GuardianDecision>

    private let continuation: AsyncStream<GuardianDecision>.Continuation
    private let reconnect: ReconnectPolicy
    private let checker: GuardianHealthChecker
    private var machine: GuardianStateMachine
    private let started = ContinuousClock.now
    private var monitor: EventMonitor?
    private var onceConnection: Connection?
    private var eventTask: Task<Void, Never>?
    private var timers: [LibvirtUUID: Task<Void, Never>] = [:]
    private var work: [Int: Task<Void, Never>] = [:]
    private var nextWork = 0
    private var stopped = false
    /// Disk errors from I/O-error events, kept until the guest's next observation.
    private var eventErrors: [LibvirtUUID: [GuardianDiskError]] = [:]
    private var counters = GuardianCounters()

    /// Calls issued so far (for status and the closing figures).
    public struct GuardianCounters: Hashable, Sendable {
        public var scans = 0
        public var healthChecks = 0
        public var resumesIssued = 0
        public var destroysIssued = 0
        public var reconnects = 0
    }

    public var statistics: GuardianCounters { counters }

    /// - Parameters:
    ///   - uri: the libvirt URI watched.
    ///   - policy: what the guardian does about paused guests.
    ///   - reconnect: how it reconnects after the daemon goes away.
    ///   - checker: the health checks (default: the policy's thresholds).
    public init(uri: String, policy: GuardianPolicy = GuardianPolicy(), reconnect: ReconnectPolicy = ReconnectPolicy(),
                checker: GuardianHealthChecker? = nil) {
        self.uri = uri
        self.policy = policy
        self.reconnect = reconnect
        self.checker = checker ?? GuardianHealthChecker(thresholds: policy.health)
        self.machine = GuardianStateMachine(policy: policy)
        (decisions, continuation) = AsyncStream<GuardianDecision>.makeStream()
    }

    // MARK: - Running

    /// Connects, subscribes to lifecycle and I/O-error events, and scans every guest.
    /// Returns once the first scan is done; the guardian then runs until `stop()`.
    public func start() async throws {
        guard monitor == nil, !stopped else { return }
        let monitor = try await EventMonitor.open(uri, policy: reconnect)
        self.monitor = monitor
        let stream = try await monitor.domainEvents(ids: [.lifecycle, .ioError])
        eventTask = Task { [weak self] in
            for await message in stream {
                guard let self else { return }
                await self.handle(message)
            }
        }
        try await scan()
    }

    /// One scan, one health check and at most one call per guest in trouble, no waiting;
    /// returns the decisions made (also yielded on `decisions`, which then finishes).
    public func runOnce() async throws -> [GuardianDecision] {
        guard monitor == nil, !stopped else { return [] }
        onceConnection = try await Connection.open(uri)
        var made: [GuardianDecision] = []
        var pending = try await scanInputs()
        while !pending.isEmpty {
            let input = pending.removeFirst()
            for effect in machine.handle(input, at: now) {
                switch effect {
                case .record(let d): made.append(publish(d))
                case .wake: break
                default: pending += await perform(effect)
                }
            }
        }
        await onceConnection?.close()
        onceConnection = nil
        stopped = true
        continuation.finish()
        return made
    }

    /// Stops watching; every guest stays as it is.
    public func stop() async {
        guard !stopped else { return }
        stopped = true
        eventTask?.cancel()
        for t in timers.values { t.cancel() }
        for t in work.values { t.cancel() }
        timers = [:]
        work = [:]
        await monitor?.shutdown()
        monitor = nil
        continuation.finish()
    }

    /// Guests the guardian is handling now.
    public var guestsInTrouble: [GuardianGuest] { machine.guestsInTrouble }

    // MARK: - Inputs

    private var now: Duration { ContinuousClock.now - started }

    private func feed(_ input: GuardianInput) {
        guard !stopped else { return }
        for effect in machine.handle(input, at: now) {
            switch effect {
            case .record(let d): _ = publish(d)
            case .wake(let guest, let after, let token):
                timers[guest.uuid]?.cancel()
                timers[guest.uuid] = Task { [weak self] in
                    try? await Task.sleep(for: after)
                    guard !Task.isCancelled else { return }
                    await self?.feed(.timer(guest, token: token))
                }
            default:
                let id = nextWork
                nextWork += 1
                work[id] = Task { [weak self] in
                    guard let self else { return }
                    let follow = await self.perform(effect)
                    await self.finishWork(id, follow)
                }
            }
        }
    }

    private func finishWork(_ id: Int, _ inputs: [GuardianInput]) {
        work[id] = nil
        for input in inputs { feed(input) }
    }

    @discardableResult
    private func publish(_ d: GuardianDecision) -> GuardianDecision {
        var d = d
        d.time = Timestamp(sinceUnixEpoch: .nanoseconds(Int64(Date().timeIntervalSince1970 * 1e9)))
        // Operators read decisions in their logs too (virtkit.tuning), not only from the stream.
        log.info("guardian decision", metadata: [
            "guest": "\(d.guest.name)", "uuid": "\(d.guest.uuid)", "action": "\(d.action)", "outcome": "\(d.outcome)",
            "reason": "\(d.reason)", "attempt": "\(d.attempt)", "pausesInWindow": "\(d.pausesInWindow)",
        ])
        continuation.yield(d)
        return d
    }

    private func handle(_ message: DomainEventMessage) async {
        switch message {
        case .event(let e):
            let uuid = e.domainUUID
            let guest = GuardianGuest(uuid: uuid, name: e.domainName)
            switch e.kind {
            case .ioError(let io):
                let kind: GuardianDiskError.Kind = io.isNoSpace ? .noSpace : .ioError
                let disk = io.devAlias.isEmpty ? io.srcPath : io.devAlias
                eventErrors[uuid, default: []].append(GuardianDiskError(disk: disk, kind: kind))
            case .lifecycle:
                // The state is the truth (events can be coalesced or lost): read it.
                for input in await observe(guest) { feed(input) }
            default: break
            }
        case .disconnected:
            feed(.disconnected)
        case .reconnected:
            counters.reconnects += 1
            feed(.reconnected)
            try? await scan()
        case .failed:
            feed(.disconnected)
        }
    }

    private func scan() async throws {
        for input in try await scanInputs() { feed(input) }
    }

    /// Every guest's state, then `.scanned`.
    private func scanInputs() async throws -> [GuardianInput] {
        counters.scans += 1
        let conn = try await connection()
        var inputs: [GuardianInput] = []
        var present = Set<LibvirtUUID>()
        for domain in try await conn.listAllDomains() {
            let uuid = domain.uuid
            present.insert(uuid)
            inputs += await observe(GuardianGuest(uuid: uuid, name: domain.name), domain: domain)
        }
        inputs.append(.scanned(present: present))
        return inputs
    }

    /// The guest's state with its own policy and disk errors (read only when it is in trouble).
    private func observe(_ guest: GuardianGuest, domain known: Domain? = nil) async -> [GuardianInput] {
        let domain: Domain
        do {
            if let known { domain = known } else { domain = try await lookUp(guest) }
        } catch let e as LibvirtError where e.code == .noDomain {
            return [.gone(guest)]
        } catch {
            return []
        }
        guard let status = try? await domain.state() else { return [] }
        var own: GuardianGuestPolicy?
        var errors = eventErrors.removeValue(forKey: guest.uuid) ?? []
        if GuardianTrigger(status) != nil {
            if let xml = try? await domain.xmlDescription() {
                do { own = try GuardianGuestPolicy(domainXML: xml) } catch {
                    // A broken metadata element must not silently change the policy: record it.
                    _ = publish(GuardianDecision(guest: guest, trigger: GuardianTrigger(status), policy: nil, action: .observe, outcome: .none,
                                                 reason: "ignored the guest's guardian metadata: \(error)", elapsed: now))
                }
            }
            if let reported = try? await domain.diskErrors() {
                for r in reported where r.error != .none {
                    let e = GuardianDiskError(disk: r.disk, kind: r.error == .noSpace ? .noSpace : .ioError)
                    if !errors.contains(e) { errors.append(e) }
                }
            }
        }
        return [.observed(guest, status, own: own, diskErrors: errors)]
    }

    // MARK: - Effects

    private func connection() async throws -> Connection {
        if let monitor { return await monitor.connection }
        if let onceConnection { return onceConnection }
        throw LibvirtError(code: .invalidConn, message: "the guardian is not running")
    }

    private func lookUp(_ guest: GuardianGuest) async throws -> Domain {
        try await connection().domain(uuid: guest.uuid)
    }

    /// Carries out one effect; returns the inputs that report its result.
    private func perform(_ effect: GuardianEffect) async -> [GuardianInput] {
        switch effect {
        case .checkHealth(let guest):
            counters.healthChecks += 1
            let report: GuardianHealthReport
            do {
                let xml = try await lookUp(guest).xmlDescription()
                let layers = try GuardianDiskLayer.layers(domainXML: xml)
                report = await checker.check(layers)
            } catch {
                report = GuardianHealthReport(checks: [GuardianCheck(disk: "-", subject: guest.name, kind: .serverAnswers, status: .failed,
                                                                     detail: "could not read the guest's disks: \(error)")])
            }
            return [.healthChecked(guest, report)]
        case .resume(let guest, let expecting):
            return await call(.resume, on: guest) { domain in
                let status = try await domain.state()
                guard GuardianTrigger(status) == expecting else {
                    return [.actionFinished(guest, .resume, error: "not resumed: the guest is \(status) now"), .observed(guest, status)]
                }
                return nil
            }
        case .destroy(let guest):
            return await call(.destroy, on: guest) { _ in nil }
        case .wake, .record:
            return []
        }
    }

    /// Looks the guest up, lets `precheck` veto (returning the inputs to send instead), then
    /// issues the call unless the guardian stopped meanwhile.
    private func call(_ action: GuardianActionTaken, on guest: GuardianGuest,
                      precheck: (Domain) async throws -> [GuardianInput]?) async -> [GuardianInput] {
        do {
            let domain = try await lookUp(guest)
            if let veto = try await precheck(domain) { return veto }
            guard !stopped, !Task.isCancelled else { return [] }
            if action == .resume {
                counters.resumesIssued += 1
                try await domain.resume()
            } else {
                counters.destroysIssued += 1
                try await domain.destroy()
            }
            return [.actionFinished(guest, action, error: nil)]
        } catch {
            return [.actionFinished(guest, action, error: "\(error)")]
        }
    }
}
