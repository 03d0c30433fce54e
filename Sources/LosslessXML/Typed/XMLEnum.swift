/// A libvirt enumeration: the spellings libvirt documents, plus `.other(raw)` for anything else,
/// so an unknown (newer, or hypervisor-specific) value is kept rather than rejected or lost.
///
/// Conformers list `known` once; `rawValue`, parsing, equality and hashing come from it.
/// A spelling is the value: decoding always yields the named case (`"none"` → `.disabled`), and
/// `.other("none") == .disabled` (equality and hashing go by spelling), so a value built from
/// text elsewhere compares as libvirt would. `switch` still matches cases structurally: build
/// values from text with `init(rawValue:)`, which never returns `.other` for a known spelling.
public protocol XMLEnum: XMLValue, Hashable, Sendable, CustomStringConvertible {
    /// Every documented case with its XML spelling.
    static var known: [(Self, String)] { get }
    static func other(_ raw: String) -> Self
}

// The case a value holds, without `==` (which is defined by spelling and so cannot be used to
// find the spelling): the runtime's case-name lookup, the one `print` uses for enums. It
// returns a pointer into the type's metadata, stable per case, so pointers compare cases.
@_silgen_name("swift_EnumCaseName")
private func enumCaseName<T>(_ value: T) -> UnsafePointer<CChar>?

private func isOtherCase(_ name: UnsafePointer<CChar>?) -> Bool {
    guard let name else { return false }
    return strcmpASCII(name, "other")
}

/// `strcmp(a, b) == 0` for an ASCII literal `b`, without importing libc.
private func strcmpASCII(_ a: UnsafePointer<CChar>, _ b: StaticString) -> Bool {
    let bytes = UnsafeBufferPointer(start: b.utf8Start, count: b.utf8CodeUnitCount)
    for (i, c) in bytes.enumerated() where UInt8(bitPattern: a[i]) != c { return false }
    return a[bytes.count] == 0
}

extension XMLEnum {
    public init(rawValue: String) {
        self = Self.known.first { $0.1 == rawValue }?.0 ?? .other(rawValue)
    }

    public var rawValue: String {
        let name = enumCaseName(self)
        if isOtherCase(name) {
            // `.other(String)`: its payload is the raw text.
            return Mirror(reflecting: self).children.first?.value as? String ?? ""
        }
        if let name {
            for (value, spelling) in Self.known where enumCaseName(value) == name { return spelling }
        }
        return ""
    }

    /// False for a spelling this version of the typed layer does not know.
    public var isKnown: Bool {
        let spelling = rawValue
        return Self.known.contains { $0.1 == spelling }
    }

    public var description: String { rawValue }

    /// Equal when spelled the same: `.other("none") == .disabled` when `.disabled` is `none`.
    public static func == (a: Self, b: Self) -> Bool {
        let x = enumCaseName(a), y = enumCaseName(b)
        if x == y, !isOtherCase(x) { return true }   // same named case: no string work
        return a.rawValue == b.rawValue
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    public static var xmlCodec: Codec<Self> {
        Codec(decode: { Self(rawValue: $0) }, encode: { $0.rawValue })
    }
}
