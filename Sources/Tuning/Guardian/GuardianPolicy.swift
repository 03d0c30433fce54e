import Foundation
import VirtCore
import Libvirt
import DomainXML

/// Why a guest needs the guardian: the paused (or crashed) state it was found in.
///
/// States the guardian never touches (running, shut off, paused for a save, dump, snapshot,
/// start-up or shutdown, or during an active post-copy migration) have no trigger.
public enum GuardianTrigger: String, Hashable, Sendable, Codable, CaseIterable, CodingKeyRepresentable, CustomStringConvertible {
    /// Paused on a disk I/O error (`VIR_DOMAIN_PAUSED_IOERROR`): EIO, ENOSPC, …
    case ioError = "io-error"
    /// Paused by a watchdog whose action is `pause` (`VIR_DOMAIN_PAUSED_WATCHDOG`).
    case watchdog
    /// Crashed and kept (`on_crash='preserve'`): state crashed, or paused with reason crashed.
    case crashed
    /// Paused by a migration that is no longer running (`VIR_DOMAIN_PAUSED_MIGRATION`).
    case migration
    /// A post-copy migration failed (`VIR_DOMAIN_PAUSED_POSTCOPY_FAILED`): part of the
    /// guest's memory is on the other host.
    case postcopyFailed = "postcopy-failed"
    /// Paused because a libvirt API call failed (`VIR_DOMAIN_PAUSED_API_ERROR`).
    case apiError = "api-error"
    /// Paused by an operator (`virsh suspend`).
    case user
    /// Paused for a reason libvirt did not say, or one newer than this VirtKit.
    case unknown

    public var description: String { rawValue }

    /// The trigger for a domain status; nil when the guardian has nothing to do with it.
    public init?(_ status: DomainStatus) {
        switch status {
        case .paused(let reason):
            switch reason {
            case .ioError: self = .ioError
            case .watchdog: self = .watchdog
            case .crashed: self = .crashed
            case .migration: self = .migration
            case .postcopyFailed: self = .postcopyFailed
            case .apiError: self = .apiError
            case .user: self = .user
            case .unspecified, .unknown: self = .unknown
            // Transient pauses libvirt itself ends, and an active post-copy migration.
            case .save, .dump, .fromSnapshot, .shuttingDown, .snapshot, .startingUp, .postcopy: return nil
            }
        case .crashed: self = .crashed
        default: return nil
        }
    }
}

/// What the guardian does with a guest in trouble.
///
/// Text form (policy files, domain metadata): `resume`, `leave`, `destroy:80s`,
/// `resume-or-destroy:80s` (durations: `500ms`, `80s`, `5m`, `1h`, or plain seconds).
public enum GuardianAction: Hashable, Sendable, Codable, CustomStringConvertible, LosslessStringConvertible {
    /// Resume once every disk of the guest passes its health checks (checked again and again
    /// with backoff); stop resuming after too many pauses within the window.
    case resume
    /// Leave the guest paused; only record it.
    case leave
    /// Never resume; destroy the guest once it has been paused longer than the limit.
    case destroy(after: Duration)
    /// oVirt's "kill" behaviour: resume when healthy within the limit, destroy after it.
    case resumeOrDestroy(after: Duration)

    /// Whether this action may resume the guest.
    public var mayResume: Bool {
        switch self {
        case .resume, .resumeOrDestroy: true
        case .leave, .destroy: false
        }
    }

    /// The destroy limit, when the action has one.
    public var destroyLimit: Duration? {
        switch self {
        case .destroy(let d), .resumeOrDestroy(let d): d
        case .resume, .leave: nil
        }
    }

    public var description: String {
        switch self {
        case .resume: "resume"
        case .leave: "leave"
        case .destroy(let d): "destroy:\(GuardianDurationText.format(d))"
        case .resumeOrDestroy(let d): "resume-or-destroy:\(GuardianDurationText.format(d))"
        }
    }

    public init?(_ description: String) {
        try? self.init(parsing: description)
    }

    /// Parses the text form.
    public init(parsing text: String) throws(GuardianPolicyError) {
        let t = text.trimmingASCIIWhitespace()
        let parts = t.split(separator: ":", maxSplits: 1).map(String.init)
        let name = parts.first ?? ""
        switch (name, parts.count) {
        case ("resume", 1): self = .resume
        case ("leave", 1): self = .leave
        case ("destroy", 2): self = .destroy(after: try GuardianDurationText.parse(parts[1]))
        case ("resume-or-destroy", 2): self = .resumeOrDestroy(after: try GuardianDurationText.parse(parts[1]))
        case ("destroy", 1), ("resume-or-destroy", 1):
            throw GuardianPolicyError(value: text, reason: "'\(name)' needs a limit, e.g. '\(name):80s'")
        default:
            throw GuardianPolicyError(value: text, reason: "expected resume, leave, destroy:LIMIT or resume-or-destroy:LIMIT")
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        do { self = try GuardianAction(parsing: text) } catch {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A policy value that could not be read (text form of an action, a duration, a metadata
/// element, a policy file).
public struct GuardianPolicyError: Error, Hashable, Sendable, CustomStringConvertible {
    public var value: String
    public var reason: String
    public init(value: String, reason: String) {
        self.value = value
        self.reason = reason
    }
    public var description: String { "invalid guardian policy value '\(value)': \(reason)" }
}

/// Durations in policy text: `500ms`, `80s`, `5m`/`5min`, `1h`, or a plain number of seconds.
enum GuardianDurationText {
    static func parse(_ text: String) throws(GuardianPolicyError) -> Duration {
        let t = text.trimmingASCIIWhitespace()
        let digits = t.prefix { $0.isNumber || $0 == "." }
        let unit = t.dropFirst(digits.count).trimmingASCIIWhitespace()
        guard let value = Double(digits), value >= 0, value.isFinite, value <= 366 * 86_400 else {
            throw GuardianPolicyError(value: text, reason: "expected a duration such as 80s, 5m or 500ms")
        }
        let scale: Double
        switch unit {
        case "", "s", "sec", "seconds": scale = 1
        case "ms": scale = 1e-3
        case "m", "min", "minutes": scale = 60
        case "h", "hours": scale = 3600
        default: throw GuardianPolicyError(value: text, reason: "unknown unit '\(unit)' (ms, s, m, h)")
        }
        return .milliseconds(Int64((value * scale * 1000).rounded()))
    }

    static func format(_ d: Duration) -> String {
        let ms = d.inNanoseconds / 1_000_000
        if ms % 1000 != 0 { return "\(ms)ms" }
        let s = ms / 1000
        if s != 0, s % 3600 == 0 { return "\(s / 3600)h" }
        if s != 0, s % 60 == 0 { return "\(s / 60)m" }
        return "\(s)s"
    }
}

/// Exponential backoff with jitter for health checks and resume attempts.
///
/// The wait after the `n`-th failed attempt (n ≥ 1) is `initial × multiplier^(n-1)`, capped at
/// `maximum`, then shortened by up to `jitter` of itself (so the cap is never exceeded and
/// guests paused by the same outage do not check in lockstep).
public struct GuardianBackoff: Hashable, Sendable, Codable {
    public var initial: Duration
    public var multiplier: Double
    public var maximum: Duration
    /// Fraction (0…1) by which a wait may be shortened at random.
    public var jitter: Double

    /// Defaults: 2 s, doubling, capped at 60 s, up to 20 % jitter: checks at about 0, 2, 6,
    /// 14, 30, 62 s, then every ≤ 60 s — a repaired disk is noticed within a minute.
    public init(initial: Duration = .seconds(2), multiplier: Double = 2, maximum: Duration = .seconds(60), jitter: Double = 0.2) {
        self.initial = initial
        self.multiplier = max(1, multiplier)
        self.maximum = maximum
        self.jitter = min(1, max(0, jitter))
    }

    /// The wait after `failures` failed attempts; `unit` is a random number in 0..<1.
    public func delay(afterFailures failures: Int, unit: Double) -> Duration {
        let n = max(1, failures)
        var seconds = initial.inSeconds
        for _ in 1..<n {
            seconds *= multiplier
            if seconds >= maximum.inSeconds { break }
        }
        seconds = min(seconds, maximum.inSeconds)
        seconds *= 1 - jitter * min(max(unit, 0), 1)
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    enum CodingKeys: String, CodingKey { case initial, multiplier, maximum, jitter }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = GuardianBackoff()
        self.init(initial: try c.decodeGuardianDuration(.initial) ?? d.initial,
                  multiplier: try c.decodeIfPresent(Double.self, forKey: .multiplier) ?? d.multiplier,
                  maximum: try c.decodeGuardianDuration(.maximum) ?? d.maximum,
                  jitter: try c.decodeIfPresent(Double.self, forKey: .jitter) ?? d.jitter)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(GuardianDurationText.format(initial), forKey: .initial)
        try c.encode(multiplier, forKey: .multiplier)
        try c.encode(GuardianDurationText.format(maximum), forKey: .maximum)
        try c.encode(jitter, forKey: .jitter)
    }
}

/// How many pauses of one guest within a window the guardian tolerates before it stops
/// resuming that guest, leaves it paused and raises a critical finding.
public struct GuardianPauseLimit: Hashable, Sendable, Codable {
    /// The pause that reaches this count is not resumed (default 3: two resumes, then stop).
    public var pauses: Int
    /// Only pauses this recent count (default 10 minutes).
    public var window: Duration

    public init(pauses: Int = 3, window: Duration = .seconds(600)) {
        self.pauses = max(1, pauses)
        self.window = window
    }

    enum CodingKeys: String, CodingKey { case pauses, window }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = GuardianPauseLimit()
        self.init(pauses: try c.decodeIfPresent(Int.self, forKey: .pauses) ?? d.pauses,
                  window: try c.decodeGuardianDuration(.window) ?? d.window)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pauses, forKey: .pauses)
        try c.encode(GuardianDurationText.format(window), forKey: .window)
    }
}

/// Thresholds of the disk health checks.
public struct GuardianHealthThresholds: Hashable, Sendable, Codable {
    /// A file-backed disk's filesystem needs at least this much space available to
    /// unprivileged writers (`statvfs` `f_bavail`), default 256 MiB.
    public var minimumFreeSpace: MemorySize
    /// Each network check (connect, handshake, first-block read) must answer within this.
    public var networkTimeout: Duration

    public init(minimumFreeSpace: MemorySize = .mebibytes(256), networkTimeout: Duration = .seconds(5)) {
        self.minimumFreeSpace = minimumFreeSpace
        self.networkTimeout = networkTimeout
    }

    enum CodingKeys: String, CodingKey { case minimumFreeSpace, networkTimeout }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = GuardianHealthThresholds()
        var free = d.minimumFreeSpace
        if let text = try c.decodeIfPresent(String.self, forKey: .minimumFreeSpace) {
            do { free = try MemorySize(parsing: text) } catch {
                throw DecodingError.dataCorruptedError(forKey: .minimumFreeSpace, in: c, debugDescription: "\(error)")
            }
        }
        self.init(minimumFreeSpace: free, networkTimeout: try c.decodeGuardianDuration(.networkTimeout) ?? d.networkTimeout)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("\(minimumFreeSpace.bytes)b", forKey: .minimumFreeSpace)
        try c.encode(GuardianDurationText.format(networkTimeout), forKey: .networkTimeout)
    }
}

/// The guardian's policy: an action per trigger (defaults below), per-guest overrides,
/// backoff, pause limit and health thresholds. Read from JSON with `init(json:)`:
///
/// ```json
/// {"actions": {"io-error": "resume", "watchdog": "leave"},
///  "guests": {"db1": {"io-error": "resume-or-destroy:80s"}},
///  "backoff": {"initial": "2s", "maximum": "60s", "multiplier": 2, "jitter": 0.2},
///  "pauseLimit": {"pauses": 3, "window": "10m"},
///  "health": {"minimumFreeSpace": "256MiB", "networkTimeout": "5s"}}
/// ```
/// Every key is optional. A guest's own metadata element (`GuardianGuestPolicy`) wins over
/// `guests`, which wins over `actions`, which wins over the defaults.
public struct GuardianPolicy: Hashable, Sendable, Codable {
    /// Actions per trigger; triggers missing here use `defaultActions`.
    public var actions: [GuardianTrigger: GuardianAction]
    /// Overrides by guest name or UUID (lowercase, with dashes).
    public var guests: [String: [GuardianTrigger: GuardianAction]]
    public var backoff: GuardianBackoff
    public var pauseLimit: GuardianPauseLimit
    public var health: GuardianHealthThresholds

    /// The documented defaults:
    /// - `io-error` → `resume` (when healthy): vdsm's default; resuming into a failing disk only
    ///   pauses the guest again, so the health checks gate it.
    /// - `watchdog` → `leave`: the guest's OS stopped feeding its watchdog and `action='pause'`
    ///   asks for a person (or a dump); resuming would fire it again.
    /// - `crashed` → `leave`: a preserved crash is kept for a dump (`on_crash='preserve'`).
    /// - `migration` → `leave`: a source left paused by a failed migration may still have a
    ///   destination; the operator decides which side runs.
    /// - `postcopy-failed` → `leave`: memory is split between two hosts; only recovery of the
    ///   migration or destroying the guest is safe, never resume.
    /// - `api-error`, `unknown` → `leave`; `user` → `leave` (an operator's pause is theirs).
    public static let defaultActions: [GuardianTrigger: GuardianAction] = [
        .ioError: .resume, .watchdog: .leave, .crashed: .leave, .migration: .leave,
        .postcopyFailed: .leave, .apiError: .leave, .user: .leave, .unknown: .leave,
    ]

    public init(actions: [GuardianTrigger: GuardianAction] = [:], guests: [String: [GuardianTrigger: GuardianAction]] = [:],
                backoff: GuardianBackoff = GuardianBackoff(), pauseLimit: GuardianPauseLimit = GuardianPauseLimit(),
                health: GuardianHealthThresholds = GuardianHealthThresholds()) {
        self.actions = actions
        self.guests = guests
        self.backoff = backoff
        self.pauseLimit = pauseLimit
        self.health = health
    }

    /// The action for `guest` paused for `trigger`; `own` is the guest's metadata element.
    public func action(for trigger: GuardianTrigger, guest: GuardianGuest, own: GuardianGuestPolicy? = nil) -> GuardianAction {
        if let a = own?.actions[trigger] { return a }
        if let a = guests[guest.name]?[trigger] ?? guests[guest.uuid.description]?[trigger] { return a }
        return actions[trigger] ?? Self.defaultActions[trigger] ?? .leave
    }

    /// Reads a policy file (JSON; every key optional).
    public init(json: [UInt8]) throws(GuardianPolicyError) {
        do { self = try JSONDecoder().decode(GuardianPolicy.self, from: Data(json)) } catch {
            throw GuardianPolicyError(value: String(decoding: json.prefix(80), as: UTF8.self), reason: Self.describe(error))
        }
    }

    /// The policy as JSON (sorted keys), readable by `init(json:)`.
    public func jsonBytes() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(self))
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .dataCorrupted(let c)?, .typeMismatch(_, let c)?, .valueNotFound(_, let c)?, .keyNotFound(_, let c)?:
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            return (path.isEmpty ? "" : "at \(path): ") + c.debugDescription
        default: return "\(error)"
        }
    }

    enum CodingKeys: String, CodingKey { case actions, guests, backoff, pauseLimit, health }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(actions: try c.decodeIfPresent([GuardianTrigger: GuardianAction].self, forKey: .actions) ?? [:],
                  guests: try c.decodeIfPresent([String: [GuardianTrigger: GuardianAction]].self, forKey: .guests) ?? [:],
                  backoff: try c.decodeIfPresent(GuardianBackoff.self, forKey: .backoff) ?? GuardianBackoff(),
                  pauseLimit: try c.decodeIfPresent(GuardianPauseLimit.self, forKey: .pauseLimit) ?? GuardianPauseLimit(),
                  health: try c.decodeIfPresent(GuardianHealthThresholds.self, forKey: .health) ?? GuardianHealthThresholds())
    }
}

extension KeyedDecodingContainer {
    /// A duration in policy text form, nil when the key is absent.
    func decodeGuardianDuration(_ key: Key) throws -> Duration? {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        do { return try GuardianDurationText.parse(text) } catch {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: error.description)
        }
    }
}

/// A guest's own policy, from its domain metadata:
///
/// ```xml
/// <metadata>
///   <guardian xmlns="https://virtkit.dev/xmlns/guardian/1" io-error="resume-or-destroy:80s" watchdog="leave"/>
/// </metadata>
/// ```
/// One attribute per trigger (its `GuardianTrigger` raw value), holding an action's text form.
public struct GuardianGuestPolicy: Hashable, Sendable {
    /// The metadata namespace URI.
    public static let namespace = "https://virtkit.dev/xmlns/guardian/1"

    public var actions: [GuardianTrigger: GuardianAction]

    public init(actions: [GuardianTrigger: GuardianAction] = [:]) { self.actions = actions }

    /// The policy in `metadataAttributes` (the element's attributes); unknown attributes
    /// are an error, so a typo is not silently ignored.
    public init(metadataAttributes: [(name: String, value: String)]) throws(GuardianPolicyError) {
        var actions: [GuardianTrigger: GuardianAction] = [:]
        for (name, value) in metadataAttributes {
            if name == "xmlns" || name.hasPrefix("xmlns:") { continue }
            let local = name.split(separator: ":").last.map(String.init) ?? name
            guard let trigger = GuardianTrigger(rawValue: local) else {
                throw GuardianPolicyError(value: name, reason: "unknown trigger attribute (expected one of \(GuardianTrigger.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            actions[trigger] = try GuardianAction(parsing: value)
        }
        self.actions = actions
    }

    /// The policy in a domain's XML (its `<metadata>` element in `namespace`); nil when the
    /// domain has none.
    public init?(domainXML: String) throws(GuardianPolicyError) {
        let doc: LosslessXMLDocument
        do { doc = try LosslessXMLDocument(parsing: domainXML) } catch {
            throw GuardianPolicyError(value: String(domainXML.prefix(80)), reason: "domain XML does not parse: \(error)")
        }
        guard let element = doc.root.firstChild(named: "metadata")?.childElements.first(where: {
            $0.localName == "guardian" && $0.namespaceURI == Self.namespace
        }) else { return nil }
        try self.init(metadataAttributes: element.attributes)
    }
}
