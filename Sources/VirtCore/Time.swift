// Time in VirtKit's public API: `Duration` for spans (libvirt's ns/ms, cgroup µs and kernel
// jiffies are converted at the module's edge), `Timestamp` for wall-clock points.

extension Duration {
    /// A span of `n` nanoseconds from an unsigned kernel or libvirt counter (no trap above
    /// `Int64.max`).
    public static func nanoseconds(unsigned n: UInt64) -> Duration {
        .seconds(Int64(n / 1_000_000_000)) + .nanoseconds(Int64(n % 1_000_000_000))
    }

    /// A span of `n` microseconds from an unsigned counter (cgroup `usage_usec`, …).
    public static func microseconds(unsigned n: UInt64) -> Duration {
        .seconds(Int64(n / 1_000_000)) + .microseconds(Int64(n % 1_000_000))
    }

    /// A span of `n` milliseconds from an unsigned counter.
    public static func milliseconds(unsigned n: UInt64) -> Duration {
        .seconds(Int64(n / 1_000)) + .milliseconds(Int64(n % 1_000))
    }

    /// The span in seconds, as a `Double` (for rates and printing).
    public var inSeconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }

    /// The span in milliseconds, as a `Double`.
    public var inMilliseconds: Double { inSeconds * 1_000 }

    /// Whole nanoseconds, clamped to `Int64`'s range (C APIs that take ns).
    public var inNanoseconds: Int64 {
        let (s, atto) = components
        let (ns, o1) = s.multipliedReportingOverflow(by: 1_000_000_000)
        let (sum, o2) = ns.addingReportingOverflow(atto / 1_000_000_000)
        if o1 || o2 { return s < 0 ? .min : .max }
        return sum
    }

    /// For people: three significant figures in the largest fitting unit (`1.2 ms`, `37 µs`,
    /// `2.50 s`, `3 min 20 s`, `1 h 5 min`).
    public var humanReadable: String {
        let seconds = inSeconds
        let a = abs(seconds)
        let sign = seconds < 0 ? "-" : ""
        if a == 0 { return "0 s" }
        if a >= 3600 {
            let total = Int64(a.rounded())
            return "\(sign)\(total / 3600) h \((total % 3600) / 60) min"
        }
        if a >= 60 {
            let total = Int64(a.rounded())
            return "\(sign)\(total / 60) min \(total % 60) s"
        }
        if a >= 1 { return sign + significant(a) + " s" }
        if a >= 1e-3 { return sign + significant(a * 1e3) + " ms" }
        if a >= 1e-6 { return sign + significant(a * 1e6) + " µs" }
        return sign + significant(a * 1e9) + " ns"
    }
}

/// Three significant figures without Foundation's formatter: 1.23, 12.3, 123.
func significant(_ x: Double) -> String {
    let decimals = x >= 100 ? 0 : x >= 10 ? 1 : 2
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (x * scale).rounded()
    // Rounding can carry into the next magnitude (9.999 → 10.00): print it with fewer decimals.
    if decimals > 0, scaled >= 1000 * scale / 10 { return significant(scaled / scale) }
    let whole = Int64(scaled / scale)
    guard decimals > 0 else { return String(whole) }
    var frac = String(Int64(scaled) - whole * Int64(scale))
    while frac.count < decimals { frac = "0" + frac }
    return "\(whole).\(frac)"
}

/// A wall-clock point in time: the span since the Unix epoch (UTC), as libvirt and the kernel
/// report creation times, event times and job start times.
///
/// Encodes as a number of seconds since the epoch (fractional), the stable form JSON readers expect.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var sinceUnixEpoch: Duration

    public init(sinceUnixEpoch: Duration) { self.sinceUnixEpoch = sinceUnixEpoch }

    /// From whole seconds since the epoch (libvirt `creationTime`, …).
    public static func seconds(sinceUnixEpoch s: Int64) -> Timestamp { Timestamp(sinceUnixEpoch: .seconds(s)) }

    /// From milliseconds since the epoch (libvirt job and event times).
    public static func milliseconds(sinceUnixEpoch ms: Int64) -> Timestamp { Timestamp(sinceUnixEpoch: .milliseconds(ms)) }

    public static func < (a: Self, b: Self) -> Bool { a.sinceUnixEpoch < b.sinceUnixEpoch }

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(Double.self)
        sinceUnixEpoch = .seconds(s)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(sinceUnixEpoch.inSeconds)
    }

    /// ISO 8601 in UTC with milliseconds: `2026-12-06T21:24:34.123Z`.
    public var description: String {
        let (secs, atto) = sinceUnixEpoch.components
        var days = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let rem = secs - days * 86_400
        // Civil-from-days (Howard Hinnant's algorithm, public domain description).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let ms = atto / 1_000_000_000_000_000
        let msText = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
        return "\(y)-\(two(m))-\(two(d))T\(two(rem / 3600)):\(two(rem % 3600 / 60)):\(two(rem % 60)).\(msText)Z"
    }
}
