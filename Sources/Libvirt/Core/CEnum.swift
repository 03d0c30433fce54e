/// The one shape of a C enum in VirtKit's API: built from the C value with
/// `init(rawValue:)` (never fails: a value from a newer libvirt is kept as `.unknown(raw)`)
/// and turned back with `rawValue`. Flag sets are `OptionSet`s over the C `UInt32` bits.
public protocol CEnum: Hashable, Sendable, CustomStringConvertible {
    /// Decodes a C value; an unknown one is kept, never lost.
    init(rawValue: Int32)
    /// The C value (`.unknown(raw)` gives back `raw`).
    var rawValue: Int32 { get }
}

/// A `CEnum` written as a table: the known cases with their printed names, in C order from
/// `firstRaw`, and `.unknown(raw)` for anything else. `init(rawValue:)`, `rawValue` and
/// `description` come from the table; the coverage check compares `known` with libvirt's
/// API description.
public protocol CEnumMirror: CEnum {
    /// The known cases with their printed names, in C order.
    static var known: [(Self, String)] { get }
    /// The C value of `known[0]`.
    static var firstRaw: Int32 { get }
    /// Wraps a value that isn't known.
    static func unknownValue(_ raw: Int32) -> Self
    /// The raw value of an `.unknown(raw)` case, nil for a known one.
    var unknownRaw: Int32? { get }
}

extension CEnumMirror {
    public static var firstRaw: Int32 { 0 }

    public init(rawValue: Int32) {
        let i = Int(rawValue) - Int(Self.firstRaw)
        self = (i >= 0 && i < Self.known.count) ? Self.known[i].0 : Self.unknownValue(rawValue)
    }

    public var rawValue: Int32 {
        if let r = unknownRaw { return r }
        return Int32(Self.known.firstIndex(where: { $0.0 == self }) ?? 0) + Self.firstRaw
    }

    public var description: String {
        if let r = unknownRaw { return "unknown(\(r))" }
        return Self.known.first(where: { $0.0 == self })?.1 ?? "unknown"
    }
}
