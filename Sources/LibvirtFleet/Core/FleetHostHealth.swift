import Libvirt

/// A host's connection health: consecutive failed connection attempts and when the next one
/// is allowed (exponential backoff with `ReconnectPolicy`, the policy `EventMonitor` uses).
/// Pure value; the fleet keeps one per host.
public struct FleetHostHealth: Sendable, Hashable {
    /// Failed connection attempts since the last success.
    public private(set) var failures = 0
    /// No new attempt before this instant (nil: now is fine).
    public private(set) var retryAt: ContinuousClock.Instant?
    /// The last connection error, as text.
    public private(set) var lastError: String?

    public init() {}

    /// Records a failed connection attempt at `now`.
    public mutating func recordFailure(_ error: any Error, at now: ContinuousClock.Instant, policy: ReconnectPolicy) {
        failures += 1
        lastError = "\(error)"
        retryAt = now + policy.delay(beforeAttempt: failures)
    }

    /// Records a working connection.
    public mutating func recordSuccess() {
        failures = 0
        retryAt = nil
        lastError = nil
    }

    /// Nil when an attempt may start at `now`, else the error to report instead.
    public func refusal(at now: ContinuousClock.Instant) -> FleetError? {
        guard let retryAt, now < retryAt else { return nil }
        return .reconnectBackoff(retryIn: now.duration(to: retryAt), attempts: failures, lastError: lastError ?? "")
    }
}
