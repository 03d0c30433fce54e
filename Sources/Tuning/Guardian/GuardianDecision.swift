import Foundation
import VirtCore

/// A guest as the guardian knows it: by UUID (stable across reconnects and renames) and name.
public struct GuardianGuest: Hashable, Sendable, Codable, CustomStringConvertible {
    public var uuid: LibvirtUUID
    public var name: String
    public init(uuid: LibvirtUUID, name: String) {
        self.uuid = uuid
        self.name = name
    }
    public var description: String { name }
}

/// A disk error as libvirt or QEMU reported it (`virDomainGetDiskErrors`, I/O-error event).
public struct GuardianDiskError: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable, Codable {
        /// ENOSPC: no space left on the device.
        case noSpace = "ENOSPC"
        /// Any other I/O error (EIO, …).
        case ioError = "EIO"
    }
    /// The disk: target (`vda`), alias or source path, as reported.
    public var disk: String
    public var kind: Kind
    public init(disk: String, kind: Kind) {
        self.disk = disk
        self.kind = kind
    }
    public var description: String { "\(disk): \(kind.rawValue)" }
}

/// One health check of one layer of one disk.
public struct GuardianCheck: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable, Codable {
        /// The filesystem holding a file-backed layer has at least the threshold available.
        case freeSpace = "free-space"
        /// A test block was written, synced, read back and removed in the image's directory.
        case testWrite = "test-write"
        /// The first block of a (read-only) file or block-device layer was read.
        case firstBlockRead = "first-block-read"
        /// The storage server accepted a connection (and, for NBD, the handshake).
        case serverAnswers = "server-answers"
        /// The first block of a network disk was read through its protocol.
        case networkRead = "network-read"
    }
    public enum Status: String, Hashable, Sendable, Codable {
        case passed, failed
        /// Could not be checked here (e.g. RBD without a reader); does not block a resume
        /// when another check of the same layer passed.
        case unverified
    }
    public var disk: String
    /// What was checked: a path, `nbd://host:port/export`, …
    public var subject: String
    public var kind: Kind
    public var status: Status
    /// What was measured or the error, for people.
    public var detail: String
    /// Available bytes, for `.freeSpace`.
    public var available: MemorySize?
    /// How long the check took.
    public var duration: Duration?

    public init(disk: String, subject: String, kind: Kind, status: Status, detail: String,
                available: MemorySize? = nil, duration: Duration? = nil) {
        self.disk = disk
        self.subject = subject
        self.kind = kind
        self.status = status
        self.detail = detail
        self.available = available
        self.duration = duration
    }

    public var description: String { "\(disk) \(kind.rawValue) \(subject): \(status.rawValue) (\(detail))" }

    enum CodingKeys: String, CodingKey { case disk, subject, kind, status, detail, availableBytes, durationSeconds }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(disk: try c.decode(String.self, forKey: .disk), subject: try c.decode(String.self, forKey: .subject),
                  kind: try c.decode(Kind.self, forKey: .kind), status: try c.decode(Status.self, forKey: .status),
                  detail: try c.decode(String.self, forKey: .detail),
                  available: try c.decodeIfPresent(UInt64.self, forKey: .availableBytes).map(MemorySize.init(bytes:)),
                  duration: try c.decodeIfPresent(Double.self, forKey: .durationSeconds).map(Duration.guardianSeconds))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(disk, forKey: .disk)
        try c.encode(subject, forKey: .subject)
        try c.encode(kind, forKey: .kind)
        try c.encode(status, forKey: .status)
        try c.encode(detail, forKey: .detail)
        try c.encodeIfPresent(available?.bytes, forKey: .availableBytes)
        try c.encodeIfPresent(duration?.inSeconds, forKey: .durationSeconds)
    }
}

/// The result of checking every disk of a guest.
public struct GuardianHealthReport: Hashable, Sendable, Codable {
    public var checks: [GuardianCheck]
    public init(checks: [GuardianCheck]) { self.checks = checks }

    /// Healthy: nothing failed, and every checked subject had at least one check that passed
    /// (an `unverified` check alone is not evidence). A guest without disks is healthy.
    public var isHealthy: Bool {
        if checks.contains(where: { $0.status == .failed }) { return false }
        let subjects = Set(checks.map(\.subject))
        return subjects.allSatisfy { s in checks.contains { $0.subject == s && $0.status == .passed } }
    }

    /// The failed checks.
    public var failures: [GuardianCheck] { checks.filter { $0.status == .failed } }
}

/// What the guardian did (or decided not to do) about a guest.
public enum GuardianActionTaken: String, Hashable, Sendable, Codable {
    /// Started watching a guest in trouble (its policy is in the record).
    case observe
    /// Ran the health checks; they failed, the next attempt is scheduled.
    case wait
    /// Issued `virDomainResume`.
    case resume
    /// Issued `virDomainDestroy`.
    case destroy
    /// Left the guest paused by policy.
    case leave
    /// Stopped resuming the guest after too many pauses; it stays paused (critical finding).
    case giveUp = "give-up"
    /// Someone else resumed, destroyed or changed the guest: the guardian stops caring.
    case handOff = "hand-off"
}

/// How it ended.
public enum GuardianOutcome: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Next attempt after this wait.
    case scheduled(retryIn: Duration)
    /// The call was issued; its result follows in another record.
    case issued
    case succeeded
    case failed(String)
    /// Nothing to do (left paused, handed off, given up).
    case none

    public var description: String {
        switch self {
        case .scheduled(let d): "retry in \(d.humanReadable)"
        case .issued: "issued"
        case .succeeded: "succeeded"
        case .failed(let e): "failed: \(e)"
        case .none: "-"
        }
    }

    enum CodingKeys: String, CodingKey { case result, retryInSeconds, error }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .result) {
        case "scheduled": self = .scheduled(retryIn: .guardianSeconds(try c.decode(Double.self, forKey: .retryInSeconds)))
        case "issued": self = .issued
        case "succeeded": self = .succeeded
        case "failed": self = .failed(try c.decode(String.self, forKey: .error))
        default: self = .none
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .scheduled(let d):
            try c.encode("scheduled", forKey: .result)
            try c.encode(d.inSeconds, forKey: .retryInSeconds)
        case .issued: try c.encode("issued", forKey: .result)
        case .succeeded: try c.encode("succeeded", forKey: .result)
        case .failed(let e):
            try c.encode("failed", forKey: .result)
            try c.encode(e, forKey: .error)
        case .none: try c.encode("none", forKey: .result)
        }
    }
}

/// A critical condition the guardian raises (today: it gave up resuming a guest).
///
/// Shaped like the diagnosis findings (stable id, severity, subject, evidence, remedy) so it can
/// be reported next to them; `GuardianAlert.findingID` is the id.
public struct GuardianAlert: Hashable, Sendable, Codable {
    /// `guest.paused.resume-limit`: paused too often within the window; left paused.
    public static let findingID = "guest.paused.resume-limit"
    public var id: String
    public var severity: String
    public var guest: GuardianGuest
    public var explanation: String
    public var evidence: [String]
    public var remedy: String
}

/// One decision of the guardian: which guest, why, what was checked, what it did, and how
/// that ended. The guardian's `decisions` stream yields these in order.
public struct GuardianDecision: Hashable, Sendable, Codable, CustomStringConvertible {
    public var guest: GuardianGuest
    /// Why the guest is in trouble (nil for records about a guest that left trouble).
    public var trigger: GuardianTrigger?
    /// The policy action in force for this guest and trigger.
    public var policy: GuardianAction?
    public var action: GuardianActionTaken
    public var outcome: GuardianOutcome
    /// The health checks this decision rests on (for `wait` and `resume`).
    public var checks: [GuardianCheck]
    /// Disk errors reported for the pause (libvirt's disk errors, the I/O-error event).
    public var diskErrors: [GuardianDiskError]
    /// Pauses of this guest within the pause-limit window, this one included.
    public var pausesInWindow: Int
    /// Failed attempts in this episode so far.
    public var attempt: Int
    /// Why, in words.
    public var reason: String
    /// Set on `giveUp`.
    public var alert: GuardianAlert?
    /// Time since the guardian started (monotonic).
    public var elapsed: Duration
    /// Wall-clock time (set by the live guardian; nil from the bare state machine).
    public var time: Timestamp?

    public var description: String {
        var s = "\(guest.name): \(action.rawValue)"
        if let trigger { s += " [\(trigger)]" }
        s += " — \(reason)"
        if case .none = outcome {} else { s += " (\(outcome))" }
        return s
    }

    enum CodingKeys: String, CodingKey {
        case guest, trigger, policy, action, outcome, checks, diskErrors, pausesInWindow, attempt, reason, alert, elapsedSeconds, time
    }

    public init(guest: GuardianGuest, trigger: GuardianTrigger?, policy: GuardianAction?, action: GuardianActionTaken,
                outcome: GuardianOutcome, checks: [GuardianCheck] = [], diskErrors: [GuardianDiskError] = [],
                pausesInWindow: Int = 0, attempt: Int = 0, reason: String, alert: GuardianAlert? = nil,
                elapsed: Duration, time: Timestamp? = nil) {
        self.guest = guest
        self.trigger = trigger
        self.policy = policy
        self.action = action
        self.outcome = outcome
        self.checks = checks
        self.diskErrors = diskErrors
        self.pausesInWindow = pausesInWindow
        self.attempt = attempt
        self.reason = reason
        self.alert = alert
        self.elapsed = elapsed
        self.time = time
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(guest: try c.decode(GuardianGuest.self, forKey: .guest),
                  trigger: try c.decodeIfPresent(GuardianTrigger.self, forKey: .trigger),
                  policy: try c.decodeIfPresent(GuardianAction.self, forKey: .policy),
                  action: try c.decode(GuardianActionTaken.self, forKey: .action),
                  outcome: try c.decode(GuardianOutcome.self, forKey: .outcome),
                  checks: try c.decodeIfPresent([GuardianCheck].self, forKey: .checks) ?? [],
                  diskErrors: try c.decodeIfPresent([GuardianDiskError].self, forKey: .diskErrors) ?? [],
                  pausesInWindow: try c.decodeIfPresent(Int.self, forKey: .pausesInWindow) ?? 0,
                  attempt: try c.decodeIfPresent(Int.self, forKey: .attempt) ?? 0,
                  reason: try c.decode(String.self, forKey: .reason),
                  alert: try c.decodeIfPresent(GuardianAlert.self, forKey: .alert),
                  elapsed: .guardianSeconds(try c.decode(Double.self, forKey: .elapsedSeconds)),
                  time: try c.decodeIfPresent(Timestamp.self, forKey: .time))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(guest, forKey: .guest)
        try c.encodeIfPresent(trigger, forKey: .trigger)
        try c.encodeIfPresent(policy, forKey: .policy)
        try c.encode(action, forKey: .action)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(checks, forKey: .checks)
        try c.encode(diskErrors, forKey: .diskErrors)
        try c.encode(pausesInWindow, forKey: .pausesInWindow)
        try c.encode(attempt, forKey: .attempt)
        try c.encode(reason, forKey: .reason)
        try c.encodeIfPresent(alert, forKey: .alert)
        try c.encode(elapsed.inSeconds, forKey: .elapsedSeconds)
        try c.encodeIfPresent(time, forKey: .time)
    }
}

extension GuardianDecision {
    /// One compact JSON line (sorted keys, no trailing newline): the `--json` output.
    public func jsonLine() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Reads a record written by `jsonLine()`.
    public init(jsonLine: Data) throws {
        self = try JSONDecoder().decode(GuardianDecision.self, from: jsonLine)
    }
}

extension Duration {
    /// Seconds read back from JSON, rounded to whole microseconds (what the records keep).
    static func guardianSeconds(_ s: Double) -> Duration {
        guard s.isFinite, abs(s) < 1e12 else { return .zero }
        return .microseconds(Int64((s * 1e6).rounded()))
    }
}
