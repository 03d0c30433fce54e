import VirtCore

/// What one host gave back for one fleet operation.
public enum FleetHostResult<Value: Sendable>: Sendable {
    /// The operation finished within the deadline.
    case ok(Value)
    /// It failed: the connection could not be opened, the host is backing off, or the
    /// operation threw (`LibvirtError`, `FleetError`, or the operation's own error).
    case failed(any Error)
    /// It did not finish within the per-host deadline. The call was abandoned (libvirt calls
    /// cannot be cancelled): the fleet starts no new call on the host until it returns, and
    /// reconnects then.
    case timedOut

    public var value: Value? { if case .ok(let v) = self { v } else { nil } }
    public var error: (any Error)? { if case .failed(let e) = self { e } else { nil } }
    public var isOK: Bool { if case .ok = self { true } else { false } }
    public var isTimedOut: Bool { if case .timedOut = self { true } else { false } }

    /// `ok`, `failed` or `timedOut` (stable keys for JSON and logs).
    public var kind: String {
        switch self {
        case .ok: "ok"
        case .failed: "failed"
        case .timedOut: "timedOut"
        }
    }

    /// The same outcome with the value transformed.
    public func map<T: Sendable>(_ transform: (Value) throws -> T) -> FleetHostResult<T> {
        switch self {
        case .ok(let v):
            do { return .ok(try transform(v)) } catch { return .failed(error) }
        case .failed(let e): return .failed(e)
        case .timedOut: return .timedOut
        }
    }
}

/// One host's result with how long it took (from the call's start on that host, waiting for
/// a slot under the concurrency limit excluded).
public struct FleetHostOutcome<Value: Sendable>: Sendable {
    public var host: FleetHost
    public var result: FleetHostResult<Value>
    public var elapsed: Duration

    public init(host: FleetHost, result: FleetHostResult<Value>, elapsed: Duration) {
        self.host = host
        self.result = result
        self.elapsed = elapsed
    }
}

/// The results of one operation over the fleet, in the fleet's host order.
public struct FleetRunReport<Value: Sendable>: Sendable {
    public var outcomes: [FleetHostOutcome<Value>]
    /// Wall time of the whole run.
    public var elapsed: Duration

    public init(outcomes: [FleetHostOutcome<Value>], elapsed: Duration) {
        self.outcomes = outcomes
        self.elapsed = elapsed
    }

    /// The outcome of the host named `name`.
    public subscript(host name: String) -> FleetHostOutcome<Value>? { outcomes.first { $0.host.name == name } }

    /// The values of the hosts that answered, with their host.
    public var values: [(host: FleetHost, value: Value)] {
        outcomes.compactMap { o in o.result.value.map { (o.host, $0) } }
    }

    public var summary: FleetRunSummary { FleetRunSummary(outcomes.map { ($0.host.name, $0.result.kind, $0.elapsed) }, elapsed: elapsed) }
}

/// Counts and extremes of a run: what a caller logs or alerts on.
public struct FleetRunSummary: Sendable, Hashable, Codable, CustomStringConvertible {
    public var hosts: Int
    public var ok: Int
    public var failed: Int
    public var timedOut: Int
    /// The slowest host that answered, and its time.
    public var slowestOK: String?
    public var slowestOKElapsed: Duration?
    public var elapsed: Duration

    /// Aggregates `(host, kind, elapsed)` triples (`kind` as `FleetHostResult.kind`).
    public init(_ entries: [(host: String, kind: String, elapsed: Duration)], elapsed: Duration) {
        hosts = entries.count
        ok = entries.count { $0.kind == "ok" }
        failed = entries.count { $0.kind == "failed" }
        timedOut = entries.count { $0.kind == "timedOut" }
        let slowest = entries.filter { $0.kind == "ok" }.max { $0.elapsed < $1.elapsed }
        slowestOK = slowest?.host
        slowestOKElapsed = slowest?.elapsed
        self.elapsed = elapsed
    }

    public var description: String {
        var s = "\(hosts) hosts: \(ok) ok, \(failed) failed, \(timedOut) timed out in \(elapsed.humanReadable)"
        if let h = slowestOK, let d = slowestOKElapsed { s += "; slowest \(h) \(d.humanReadable)" }
        return s
    }
}
