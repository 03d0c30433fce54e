import VirtCore

// Units at the XML edge: time spans as `Duration`, "no limit" as `Limit<…>`. The XML keeps its
// own spelling (an integer in the unit libvirt documents for that element, `-1`, a sentinel);
// callers only see the typed value.

/// The unit a libvirt integer time value is written in.
public enum DurationUnit: Sendable, Hashable {
    case nanoseconds, microseconds, milliseconds, seconds, minutes, hours

    var nanosecondsPerUnit: Int64 {
        switch self {
        case .nanoseconds: 1
        case .microseconds: 1_000
        case .milliseconds: 1_000_000
        case .seconds: 1_000_000_000
        case .minutes: 60_000_000_000
        case .hours: 3_600_000_000_000
        }
    }

    /// `count` of this unit, without trapping: nil when it does not fit a `Duration`.
    public func duration(_ count: UInt64) -> Duration? {
        let perUnit = UInt64(nanosecondsPerUnit)
        if perUnit >= 1_000_000_000 {
            let (seconds, overflow) = count.multipliedReportingOverflow(by: perUnit / 1_000_000_000)
            guard !overflow, seconds <= UInt64(Int64.max) else { return nil }
            return .seconds(Int64(seconds))
        }
        let perSecond = 1_000_000_000 / perUnit
        return .seconds(Int64(count / perSecond)) + .nanoseconds(Int64(count % perSecond * perUnit))
    }

    /// `d` as a whole number of units (truncated toward zero; negative spans give nil).
    public func count(_ d: Duration) -> UInt64? {
        let (s, atto) = d.components
        guard s >= 0, atto >= 0 else { return nil }
        let perUnit = UInt64(nanosecondsPerUnit)
        let ns = UInt64(atto / 1_000_000_000)
        if perUnit >= 1_000_000_000 { return UInt64(s) / (perUnit / 1_000_000_000) }
        let (whole, overflow) = UInt64(s).multipliedReportingOverflow(by: 1_000_000_000 / perUnit)
        return overflow ? nil : whole + ns / perUnit
    }
}

extension Codec where Value == Duration {
    /// A non-negative decimal integer of `unit` (`<period>100000</period>` in µs). Values are
    /// written as whole units; a span finer than the unit is truncated.
    public static func integer(_ unit: DurationUnit, in range: ClosedRange<UInt64> = 0...UInt64.max) -> Codec<Duration> {
        Codec(decode: { text throws(ValueProblem) in
            guard let n = UInt64(text.trimmingASCIIWhitespace()), range.contains(n), let d = unit.duration(n) else {
                throw ValueProblem(.invalidInteger)
            }
            return d
        }, encode: { String(unit.count($0) ?? 0) })
    }
}

extension Codec {
    /// A CFS quota (`<quota>`, `<global_quota>`, …): microseconds, any negative value means
    /// no limit (written `-1`, as libvirt formats it).
    public static var cfsQuota: Codec<Limit<Duration>> {
        Codec<Limit<Duration>>(decode: { text throws(ValueProblem) in
            let t = text.trimmingASCIIWhitespace()
            guard let n = Int64(t) else { throw ValueProblem(.invalidInteger) }
            if n < 0 { return .unlimited }
            return .limited(.microseconds(n))
        }, encode: { limit in
            switch limit {
            case .unlimited: return "-1"
            case .limited(let d): return String(DurationUnit.microseconds.count(d) ?? 0)
            }
        })
    }
}

/// A memory limit with libvirt's `unit` attribute, where "no limit" is spelled as the value
/// `VIR_DOMAIN_MEMORY_PARAM_UNLIMITED` (2^53 − 1 KiB) or anything above it (`<hard_limit>`,
/// `<soft_limit>`, `<swap_hard_limit>`). `.unlimited` is written as that sentinel in KiB, which
/// libvirt reads back as unlimited.
public struct MemoryLimitValue: LeafKey {
    public typealias Value = Limit<MemorySize>
    /// `VIR_DOMAIN_MEMORY_PARAM_UNLIMITED`, in KiB.
    public static let unlimitedKiB: UInt64 = 9_007_199_254_740_991
    let amount: MemoryValue

    public static func child(_ name: String, unit: String = "unit", default d: MemorySize.Unit = .KiB) -> MemoryLimitValue {
        MemoryLimitValue(amount: .child(name, unit: unit, default: d))
    }

    public func register(in builder: inout SpecBuilder) {
        amount.registerPlace(in: &builder)
        builder.leaf(self)
    }

    public func raw(_ element: LosslessXMLElement) -> String? { amount.raw(element) }

    public func read(_ element: LosslessXMLElement) throws(TypedXMLError) -> Limit<MemorySize>? {
        guard let size = try amount.read(element) else { return nil }
        return size.bytes / 1024 >= Self.unlimitedKiB ? .unlimited : .limited(size)
    }

    public func write(_ value: Limit<MemorySize>?, node: ElementRef, spec: ElementSpec) {
        switch value {
        case nil: amount.write(nil, node: node, spec: spec)
        case .limited(let size)?: amount.write(size, node: node, spec: spec)
        case .unlimited?:
            // Keep an existing unlimited spelling (`unit='b'`, a larger number) as it is.
            if let e = node.element, (try? read(e)) == .unlimited { return }
            amount.write(.kibibytes(Self.unlimitedKiB), node: node, spec: spec)
        }
    }
}

extension Timestamp: XMLValue {
    /// libvirt's `SECONDS.NANOSECONDS` since the epoch (`<atime>1341933637.273190990</atime>`),
    /// or whole seconds (`<creationTime>1272917631</creationTime>`).
    public static var xmlCodec: Codec<Timestamp> {
        Codec(decode: { text throws(ValueProblem) in
            let t = text.trimmingASCIIWhitespace()
            let parts = t.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count <= 2, let seconds = Int64(parts[0]), !parts[0].hasPrefix("+") else {
                throw ValueProblem(.invalidValue("is not a time in seconds since the epoch"))
            }
            var fraction: Int64 = 0
            if parts.count == 2 {
                let digits = parts[1]
                guard (1...9).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int64(digits) else {
                    throw ValueProblem(.invalidValue("is not a time in seconds since the epoch"))
                }
                fraction = n
                for _ in digits.count..<9 { fraction *= 10 }
            }
            return Timestamp(sinceUnixEpoch: .seconds(seconds) + .nanoseconds(seconds < 0 ? -fraction : fraction))
        }, encode: { time in
            let (s, atto) = time.sinceUnixEpoch.components
            let ns = atto / 1_000_000_000
            guard ns != 0 else { return String(s) }
            let digits = String(abs(ns))
            return "\(s).\(String(repeating: "0", count: 9 - digits.count))\(digits)"
        })
    }
}

extension Codec where Value == Int {
    /// A file mode in octal (`<mode>0644</mode>`); written with a leading `0`, as libvirt does.
    public static var octal: Codec<Int> {
        Codec(decode: { text throws(ValueProblem) in
            let t = text.trimmingASCIIWhitespace()
            guard !t.isEmpty, let n = Int(t, radix: 8), n >= 0, !t.hasPrefix("+") else { throw ValueProblem(.invalidInteger) }
            return n
        }, encode: { "0" + String($0, radix: 8) })
    }
}
