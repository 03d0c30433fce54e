import VirtCore

/// Writes the Prometheus text exposition format (version 0.0.4) into a byte buffer.
///
/// Rendered here rather than through swift-prometheus: its registry does not escape label
/// values (a `"` in a disk path breaks the whole scrape), its counters cannot be set to
/// libvirt's absolute values (only `reset()` + `increment`, which is not atomic), and it
/// keeps one object per series that would have to be registered and unregistered as domains
/// come and go. The exporter renders each scrape from one bulk snapshot instead: one pass,
/// families in a fixed order, label sets pre-escaped once per domain.
public struct ExpositionWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    private var pending: MetricFamily?
    private var currentName: [UInt8] = []

    public init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

    /// Starts a family; its `# HELP`/`# TYPE` lines are written with its first sample, so a
    /// family nobody reported is left out.
    public mutating func family(_ f: MetricFamily) {
        pending = f
        currentName = Array(f.name.utf8)
    }

    /// One sample of the current family with an escaped label list (see `LabelSet`).
    public mutating func sample(_ labels: LabelSet, value: MetricValue) {
        flushHeader()
        bytes.append(contentsOf: currentName)
        if !labels.isEmpty {
            bytes.append(UInt8(ascii: "{"))
            bytes.append(contentsOf: labels.escaped)
            bytes.append(UInt8(ascii: "}"))
        }
        bytes.append(UInt8(ascii: " "))
        value.write(into: &bytes)
        bytes.append(UInt8(ascii: "\n"))
    }

    /// One sample whose labels are `labels` followed by `extra` (escaped as they are written:
    /// no label set is built for a one-off label such as a vCPU index or a state).
    public mutating func sample(_ labels: LabelSet, _ extra: KeyValuePairs<String, String>, value: MetricValue) {
        flushHeader()
        bytes.append(contentsOf: currentName)
        bytes.append(UInt8(ascii: "{"))
        bytes.append(contentsOf: labels.escaped)
        var first = labels.isEmpty
        for (k, v) in extra {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            bytes.append(contentsOf: k.utf8)
            bytes.append(UInt8(ascii: "="))
            bytes.append(UInt8(ascii: "\""))
            LabelSet.appendEscaped(v, to: &bytes)
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        bytes.append(UInt8(ascii: " "))
        value.write(into: &bytes)
        bytes.append(UInt8(ascii: "\n"))
    }

    private mutating func flushHeader() {
        guard let f = pending else { return }
        pending = nil
        bytes.append(contentsOf: "# HELP ".utf8)
        bytes.append(contentsOf: currentName)
        bytes.append(UInt8(ascii: " "))
        for b in f.help.utf8 {  // HELP escapes `\` and newline (not `"`)
            switch b {
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            default: bytes.append(b)
            }
        }
        bytes.append(contentsOf: "\n# TYPE ".utf8)
        bytes.append(contentsOf: currentName)
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: f.type.rawValue.utf8)
        bytes.append(UInt8(ascii: "\n"))
    }
}

/// `# TYPE` of a family.
public enum MetricType: String, Sendable, CaseIterable {
    case counter, gauge
}

/// A label list, escaped once and reused for every sample of a domain or host.
public struct LabelSet: Sendable, Hashable {
    public let escaped: [UInt8]
    public var isEmpty: Bool { escaped.isEmpty }

    public init(_ pairs: KeyValuePairs<String, String>) { self.init(Array(pairs)) }

    public init(_ pairs: [(key: String, value: String)]) {
        var out: [UInt8] = []
        for (i, (k, v)) in pairs.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: k.utf8)
            out.append(contentsOf: [UInt8(ascii: "="), UInt8(ascii: "\"")])
            Self.appendEscaped(v, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        escaped = out
    }

    /// `prefix` followed by `pairs`.
    public init(_ prefix: LabelSet, _ pairs: KeyValuePairs<String, String>) {
        let tail = LabelSet(pairs)
        if prefix.isEmpty { self = tail; return }
        if tail.isEmpty { self = prefix; return }
        escaped = prefix.escaped + [UInt8(ascii: ",")] + tail.escaped
    }

    /// Label value escaping of the text format: `\` → `\\`, `"` → `\"`, newline → `\n`.
    /// Everything else (UTF-8 included) is written as is.
    public static func appendEscaped(_ value: String, to out: inout [UInt8]) {
        // Most values need no escaping: those are copied in one go.
        let copied: Bool? = value.utf8.withContiguousStorageIfAvailable { buf in
            if buf.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) { return false }
            out.append(contentsOf: buf)
            return true
        }
        if copied == true { return }
        for b in value.utf8 {
            switch b {
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            default: out.append(b)
            }
        }
    }
}

/// A sample value: exact integers are written as integers, the rest in Swift's shortest
/// round-trip form; non-finite values as `+Inf`, `-Inf`, `NaN`.
public enum MetricValue: Sendable, Equatable {
    case integer(UInt64)
    case double(Double)

    /// Nanoseconds as seconds.
    public static func seconds(nanoseconds: UInt64) -> MetricValue { .double(Double(nanoseconds) / 1e9) }

    /// A duration in seconds (nanosecond resolution, as libvirt reports them).
    public static func seconds(_ d: Duration) -> MetricValue {
        let (s, atto) = d.components
        guard s >= 0 else { return .double(Double(s) + Double(atto) / 1e18) }
        return .seconds(nanoseconds: UInt64(s) &* 1_000_000_000 &+ UInt64(atto / 1_000_000_000))
    }

    /// An amount of memory in bytes.
    public static func bytes(_ m: MemorySize) -> MetricValue { .integer(m.bytes) }

    func write(into out: inout [UInt8]) {
        switch self {
        case .integer(var v):
            if v == 0 { out.append(UInt8(ascii: "0")); return }
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                         UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var n = 0
            withUnsafeMutableBytes(of: &digits) { d in
                while v > 0 {
                    d[n] = UInt8(truncatingIfNeeded: v % 10) &+ 48
                    v /= 10
                    n += 1
                }
                for i in stride(from: n - 1, through: 0, by: -1) { out.append(d[i]) }
            }
        case .double(let d):
            if d.isNaN { out.append(contentsOf: "NaN".utf8) }
            else if d.isInfinite { out.append(contentsOf: (d > 0 ? "+Inf" : "-Inf").utf8) }
            else { out.append(contentsOf: d.description.utf8) }
        }
    }
}
