import VirtCore
import Libvirt

/// What the guardian learned: the input of `GuardianStateMachine.handle(_:at:)`.
public enum GuardianInput: Hashable, Sendable {
    /// A guest's current state, from an event or a scan, with its own policy (domain
    /// metadata) and the disk errors reported for it.
    case observed(GuardianGuest, DomainStatus, own: GuardianGuestPolicy? = nil, diskErrors: [GuardianDiskError] = [])
    /// The guest no longer exists (undefined, or a transient guest that stopped).
    case gone(GuardianGuest)
    /// A full scan finished; these guests exist. Episodes of every other guest end.
    case scanned(present: Set<LibvirtUUID>)
    /// The health checks asked for by `.checkHealth` finished.
    case healthChecked(GuardianGuest, GuardianHealthReport)
    /// A `.resume` or `.destroy` finished; `error` is nil on success.
    case actionFinished(GuardianGuest, GuardianActionTaken, error: String?)
    /// The wake-up asked for by `.wake` with this token is due.
    case timer(GuardianGuest, token: Int)
    /// The connection to the daemon closed: no actions until `.reconnected`.
    case disconnected
    /// The connection is back (the caller rescans right after).
    case reconnected
}

/// What the caller must do: the output of `GuardianStateMachine.handle(_:at:)`.
public enum GuardianEffect: Hashable, Sendable {
    /// Run the health checks of every disk of the guest, then send `.healthChecked`.
    case checkHealth(GuardianGuest)
    /// Resume the guest if it is still paused for `expecting`, then send `.actionFinished`
    /// (with an error, and an `.observed` of its state, when it no longer is).
    case resume(GuardianGuest, expecting: GuardianTrigger)
    /// Destroy the guest, then send `.actionFinished`.
    case destroy(GuardianGuest)
    /// Send `.timer(guest, token:)` after `after` (a later wake replaces an earlier one).
    case wake(GuardianGuest, after: Duration, token: Int)
    /// Publish the decision.
    case record(GuardianDecision)
}

/// The guardian's decisions as a pure function: inputs (observations, check results, action
/// results, timers) in, effects (checks, resume/destroy calls, wake-ups, decision records) out.
/// No I/O, no clock: time is `at` (monotonic, since the guardian started), jitter from the
/// generator, so every path is testable without a host.
///
/// Rules it keeps:
/// - at most one check or action in flight per guest (checking, resuming, destroying are
///   phases; nothing new starts until the result comes back);
/// - a resume is issued only right after a health report that passed;
/// - a guest resumed, destroyed or otherwise changed by someone else is handed off and left alone;
/// - the pause that reaches `pauseLimit.pauses` within `pauseLimit.window` is not resumed:
///   the guest stays paused and a critical alert is raised.
public struct GuardianStateMachine: Sendable {
    public let policy: GuardianPolicy

    enum Phase: Hashable, Sendable {
        /// Nothing in flight; maybe a wake-up pending.
        case idle
        case checking
        /// `running` becomes true once the guest was seen running (our resume took effect);
        /// `repaused` when it paused again before the call returned.
        case resuming(running: Bool, repaused: Bool)
        case destroying
    }

    struct Episode: Sendable {
        var guest: GuardianGuest
        var trigger: GuardianTrigger
        var action: GuardianAction
        var pausedAt: Duration
        var pausesInWindow: Int
        /// False for `leave`, `destroy` and after giving up.
        var mayResume: Bool
        var failures = 0
        var phase: Phase = .idle
        var diskErrors: [GuardianDiskError]
        var wakeToken: Int?
        /// A wake-up that came while disconnected, to run on reconnect.
        var deferred = false
        /// The first check waits for a call of an earlier, ended episode to return.
        var awaitingOrphan = false
        var deadline: Duration? { action.destroyLimit.map { pausedAt + $0 } }
    }

    private var episodes: [LibvirtUUID: Episode] = [:]
    /// Pause times per guest (user pauses excluded), pruned to the window.
    private var pauses: [LibvirtUUID: [Duration]] = [:]
    /// Checks and calls still running for episodes that ended (handed off): their results
    /// are dropped, and nothing new starts on that guest until they are back.
    private var orphans: [LibvirtUUID: Int] = [:]
    private var nextToken = 1
    private var connected = true
    private var random: any RandomNumberGenerator & Sendable

    /// - Parameters:
    ///   - policy: what the guardian does about paused guests.
    ///   - random: the jitter's source (tests pass a seeded generator).
    public init(policy: GuardianPolicy = GuardianPolicy(), random: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()) {
        self.policy = policy
        self.random = random
    }

    /// Guests the machine is handling now (for status output and tests).
    public var guestsInTrouble: [GuardianGuest] { episodes.values.map(\.guest).sorted { $0.name < $1.name } }

    /// Whether a check or action is in flight for the guest.
    public func isBusy(_ uuid: LibvirtUUID) -> Bool {
        if orphans[uuid] != nil { return true }
        guard let e = episodes[uuid] else { return false }
        return e.phase != .idle
    }

    // MARK: - Input

    public mutating func handle(_ input: GuardianInput, at now: Duration) -> [GuardianEffect] {
        switch input {
        case .observed(let guest, let status, let own, let errors):
            return observed(guest, status, own: own, errors: errors, now: now)
        case .gone(let guest):
            // Our own destroy of a transient guest makes it vanish before the call returns.
            guard episodes[guest.uuid]?.phase != .destroying else { return [] }
            return left(guest, because: "the guest no longer exists", now: now)
        case .scanned(let present):
            var out: [GuardianEffect] = []
            for e in episodes.values.sorted(by: { $0.guest.name < $1.guest.name })
            where !present.contains(e.guest.uuid) && e.phase != .destroying {
                out += left(e.guest, because: "the guest no longer exists", now: now)
            }
            return out
        case .healthChecked(let guest, _) where orphans[guest.uuid] != nil,
             .actionFinished(let guest, _, _) where orphans[guest.uuid] != nil:
            return orphanReturned(guest.uuid, now: now)
        case .healthChecked(let guest, let report):
            return checked(guest, report, now: now)
        case .actionFinished(let guest, let action, let error):
            return finished(guest, action, error: error, now: now)
        case .timer(let guest, let token):
            guard var e = episodes[guest.uuid], e.wakeToken == token, e.phase == .idle else { return [] }
            e.wakeToken = nil
            guard connected else {
                e.deferred = true
                episodes[guest.uuid] = e
                return []
            }
            episodes[guest.uuid] = e
            return due(guest.uuid, now: now)
        case .disconnected:
            connected = false
            return []
        case .reconnected:
            connected = true
            var out: [GuardianEffect] = []
            for (uuid, e) in episodes.sorted(by: { $0.value.guest.name < $1.value.guest.name }) where e.deferred {
                episodes[uuid]?.deferred = false
                out += due(uuid, now: now)
            }
            return out
        }
    }

    // MARK: - Observations

    private mutating func observed(_ guest: GuardianGuest, _ status: DomainStatus, own: GuardianGuestPolicy?,
                                   errors: [GuardianDiskError], now: Duration) -> [GuardianEffect] {
        let trigger = GuardianTrigger(status)
        guard var e = episodes[guest.uuid] else {
            guard let trigger else { return [] }
            return begin(guest, trigger, own: own, errors: errors, now: now)
        }
        switch (e.phase, trigger) {
        case (.resuming(_, let repaused), nil) where status.state == .running:
            e.phase = .resuming(running: true, repaused: repaused)
            episodes[guest.uuid] = e
            return []
        case (.resuming(true, _), let t?) where t == e.trigger:
            // Paused again after our resume took effect, before the call returned.
            e.phase = .resuming(running: true, repaused: true)
            episodes[guest.uuid] = e
            return []
        case (.destroying, nil):
            return []  // our destroy taking effect; its result follows
        case (_, let t?) where t == e.trigger:
            // The same pause seen again (a scan after an event, a rescan after a reconnect).
            if !errors.isEmpty { e.diskErrors = errors }
            episodes[guest.uuid] = e
            return []
        case (_, let t?):
            var out = left(guest, because: "its state changed to \(status) by someone else", now: now)
            out += begin(guest, t, own: own, errors: errors, now: now)
            return out
        case (_, nil):
            let why = status.state == .running ? "resumed by someone else" : "its state changed to \(status) by someone else"
            return left(guest, because: why, now: now)
        }
    }

    /// A new pause episode.
    private mutating func begin(_ guest: GuardianGuest, _ trigger: GuardianTrigger, own: GuardianGuestPolicy?,
                                errors: [GuardianDiskError], now: Duration) -> [GuardianEffect] {
        let action = policy.action(for: trigger, guest: guest, own: own)
        var history = (pauses[guest.uuid] ?? []).filter { now - $0 < policy.pauseLimit.window }
        if trigger != .user { history.append(now) }
        pauses[guest.uuid] = history
        var e = Episode(guest: guest, trigger: trigger, action: action, pausedAt: now, pausesInWindow: history.count,
                        mayResume: action.mayResume, diskErrors: errors)
        var out: [GuardianEffect] = []
        if action.mayResume, history.count >= policy.pauseLimit.pauses {
            e.mayResume = false
            let alert = Self.alert(e, policy: policy)
            out.append(.record(decision(e, .giveUp, .none, reason: alert.explanation, alert: alert, now: now)))
        } else {
            switch action {
            case .leave:
                out.append(.record(decision(e, .leave, .none, reason: Self.leaveReason(trigger), now: now)))
            case .destroy(let limit):
                out.append(.record(decision(e, .observe, .scheduled(retryIn: limit),
                                            reason: "policy destroy: destroyed once paused longer than \(limit.humanReadable)", now: now)))
            case .resume, .resumeOrDestroy:
                let limitText = action.destroyLimit.map { "; destroyed if still paused after \($0.humanReadable)" } ?? ""
                out.append(.record(decision(e, .observe, .none, reason: "paused (\(trigger)); checking its disks before resuming\(limitText)", now: now)))
                if orphans[guest.uuid] != nil {
                    e.awaitingOrphan = true
                } else {
                    e.phase = .checking
                    out.append(.checkHealth(guest))
                }
            }
        }
        if e.phase == .idle, let deadline = e.deadline {
            out.append(schedule(&e, after: max(.zero, deadline - now)))
        }
        episodes[guest.uuid] = e
        return out
    }

    /// The episode ends because someone else changed the guest (or it vanished).
    private mutating func left(_ guest: GuardianGuest, because why: String, now: Duration) -> [GuardianEffect] {
        guard let e = episodes.removeValue(forKey: guest.uuid) else { return [] }
        if e.phase != .idle { orphans[guest.uuid, default: 0] += 1 }
        return [.record(decision(e, .handOff, .none, reason: why, now: now))]
    }

    // MARK: - Results

    private mutating func checked(_ guest: GuardianGuest, _ report: GuardianHealthReport, now: Duration) -> [GuardianEffect] {
        guard var e = episodes[guest.uuid], e.phase == .checking else { return [] }
        if report.isHealthy, connected, e.mayResume {
            e.phase = .resuming(running: false, repaused: false)
            episodes[guest.uuid] = e
            return [.record(decision(e, .resume, .issued, checks: report.checks,
                                     reason: "every disk passed its checks (\(report.checks.count))", now: now)),
                    .resume(guest, expecting: e.trigger)]
        }
        e.phase = .idle
        e.failures += 1
        var delay = policy.backoff.delay(afterFailures: e.failures, unit: jitterUnit())
        if let deadline = e.deadline { delay = min(delay, max(.zero, deadline - now)) }
        let why: String
        if !report.isHealthy {
            let failed = report.failures.map { "\($0.disk) \($0.kind.rawValue): \($0.detail)" }
            why = failed.isEmpty ? "no check could verify the disks" : "disks not healthy: " + failed.joined(separator: "; ")
        } else {
            why = "disks healthy, but the connection is down"
        }
        let out: [GuardianEffect] = [.record(decision(e, .wait, .scheduled(retryIn: delay), checks: report.checks, reason: why, now: now)),
                                     schedule(&e, after: delay)]
        episodes[guest.uuid] = e
        return out
    }

    private mutating func finished(_ guest: GuardianGuest, _ action: GuardianActionTaken, error: String?, now: Duration) -> [GuardianEffect] {
        guard var e = episodes[guest.uuid] else { return [] }
        switch (e.phase, action) {
        case (.resuming(_, let repaused), .resume):
            if let error { return retry(&e, after: .resume, error, reason: "resume failed; retrying after a new check", now: now) }
            episodes[guest.uuid] = nil
            var out: [GuardianEffect] = [.record(decision(e, .resume, .succeeded, reason: "resumed after \((now - e.pausedAt).humanReadable) paused", now: now))]
            if repaused {
                out += begin(guest, e.trigger, own: nil, errors: [], now: now)
            }
            return out
        case (.destroying, .destroy):
            if let error { return retry(&e, after: .destroy, error, reason: "destroy failed; retrying", now: now) }
            episodes[guest.uuid] = nil
            return [.record(decision(e, .destroy, .succeeded, reason: "destroyed after \((now - e.pausedAt).humanReadable) paused", now: now))]
        default:
            return []
        }
    }

    /// A call failed: record it and try again after the backoff.
    private mutating func retry(_ e: inout Episode, after action: GuardianActionTaken, _ error: String, reason: String, now: Duration) -> [GuardianEffect] {
        e.phase = .idle
        e.failures += 1
        let delay = policy.backoff.delay(afterFailures: e.failures, unit: jitterUnit())
        let out: [GuardianEffect] = [.record(decision(e, action, .failed(error), reason: reason, now: now)), schedule(&e, after: delay)]
        episodes[e.guest.uuid] = e
        return out
    }

    private mutating func jitterUnit() -> Double { Double.random(in: 0..<1, using: &random) }

    /// A check or call of an ended episode returned: drop it; start what waited for it.
    private mutating func orphanReturned(_ uuid: LibvirtUUID, now: Duration) -> [GuardianEffect] {
        let left = (orphans[uuid] ?? 1) - 1
        orphans[uuid] = left > 0 ? left : nil
        guard left == 0, var e = episodes[uuid], e.awaitingOrphan else { return [] }
        e.awaitingOrphan = false
        episodes[uuid] = e
        guard connected else {
            episodes[uuid]?.deferred = true
            return []
        }
        return due(uuid, now: now)
    }

    /// A wake-up is due: destroy past the deadline, else check again.
    private mutating func due(_ uuid: LibvirtUUID, now: Duration) -> [GuardianEffect] {
        guard var e = episodes[uuid], e.phase == .idle else { return [] }
        if orphans[uuid] != nil {
            episodes[uuid]?.awaitingOrphan = true
            return []
        }
        if let deadline = e.deadline, now >= deadline {
            e.phase = .destroying
            episodes[uuid] = e
            let limit = e.action.destroyLimit ?? .zero
            return [.record(decision(e, .destroy, .issued,
                                     reason: "paused for \((now - e.pausedAt).humanReadable), longer than the policy's limit of \(limit.humanReadable) (\(e.action))",
                                     now: now)),
                    .destroy(e.guest)]
        }
        guard e.mayResume else { return [] }
        e.phase = .checking
        episodes[uuid] = e
        return [.checkHealth(e.guest)]
    }

    // MARK: - Helpers

    private mutating func schedule(_ e: inout Episode, after delay: Duration) -> GuardianEffect {
        let token = nextToken
        nextToken += 1
        e.wakeToken = token
        return .wake(e.guest, after: delay, token: token)
    }

    private func decision(_ e: Episode, _ action: GuardianActionTaken, _ outcome: GuardianOutcome,
                          checks: [GuardianCheck] = [], reason: String, alert: GuardianAlert? = nil, now: Duration) -> GuardianDecision {
        GuardianDecision(guest: e.guest, trigger: e.trigger, policy: e.action, action: action, outcome: outcome, checks: checks,
                         diskErrors: e.diskErrors, pausesInWindow: e.pausesInWindow, attempt: e.failures, reason: reason,
                         alert: alert, elapsed: now)
    }

    static func leaveReason(_ t: GuardianTrigger) -> String {
        switch t {
        case .ioError: "policy leave: I/O-error pauses of this guest are left to the operator"
        case .watchdog: "watchdog pause: the guest's OS stopped feeding its watchdog; left paused for inspection (resuming would fire it again)"
        case .crashed: "crashed guest kept for a dump (on_crash=preserve); left as it is"
        case .migration: "paused by a migration that is no longer running; the operator decides which host runs it"
        case .postcopyFailed: "post-copy migration failed: memory is split between hosts; never resumed (recover the migration or destroy)"
        case .apiError: "paused after a failed libvirt call; left to the operator"
        case .user: "paused by an operator; left alone"
        case .unknown: "paused for an unknown reason; left alone"
        }
    }

    static func alert(_ e: Episode, policy: GuardianPolicy) -> GuardianAlert {
        let limit = policy.pauseLimit
        return GuardianAlert(
            id: GuardianAlert.findingID, severity: "critical", guest: e.guest,
            explanation: "\(e.guest.name) paused \(e.pausesInWindow) times (\(e.trigger)) within \(limit.window.humanReadable): the guardian stops resuming it and leaves it paused",
            evidence: ["pauses in window: \(e.pausesInWindow) (limit \(limit.pauses) per \(limit.window.humanReadable))",
                       "trigger: \(e.trigger)"] + e.diskErrors.map { "disk error: \($0)" },
            remedy: "repair the storage for good (or move the guest), then resume it by hand (virsh resume \(e.guest.name)) or destroy it")
    }
}
