import VirtCore

/// How one typed property converts between its XML text and a Swift value.
///
/// `decode` is strict (libvirt's own parser is the reference); `encode` writes the form libvirt
/// itself formats. Keys never re-spell a value that did not change (see `LeafKey.write`).
public struct Codec<Value: Equatable>: Sendable {
    public let decode: @Sendable (String) throws(ValueProblem) -> Value
    public let encode: @Sendable (Value) -> String

    public init(decode: @escaping @Sendable (String) throws(ValueProblem) -> Value,
                encode: @escaping @Sendable (Value) -> String) {
        self.decode = decode
        self.encode = encode
    }
}

/// A type with a default XML codec, so keys can be declared as `Attr<Int>("index")`.
public protocol XMLValue: Equatable {
    static var xmlCodec: Codec<Self> { get }
}

extension String: XMLValue {
    public static var xmlCodec: Codec<String> { Codec(decode: { $0 }, encode: { $0 }) }
}

extension Int: XMLValue {
    /// Decimal, optional sign, leading blanks ignored (libvirt's `virStrToLong_i`, base 10:
    /// `strtol` skips leading whitespace, anything after the digits is an error).
    public static var xmlCodec: Codec<Int> {
        Codec(decode: { text throws(ValueProblem) in
            guard let n = Int(text.droppingLeadingASCIIWhitespace()) else { throw ValueProblem(.invalidInteger) }
            return n
        }, encode: { String($0) })
    }
}

extension UInt64: XMLValue {
    /// Decimal, unsigned (libvirt's `virStrToLong_ullp`: no sign allowed; leading blanks only).
    public static var xmlCodec: Codec<UInt64> {
        Codec(decode: { text throws(ValueProblem) in
            let t = text.droppingLeadingASCIIWhitespace()
            guard !t.hasPrefix("-"), let n = UInt64(t) else { throw ValueProblem(.invalidInteger) }
            return n
        }, encode: { String($0) })
    }
}

extension Bool: XMLValue {
    /// `yes`/`no`, libvirt's `virTristateBool`.
    public static var xmlCodec: Codec<Bool> { .yesNo }
}

extension Codec where Value == Bool {
    /// `yes` / `no` (most boolean attributes).
    public static var yesNo: Codec<Bool> { words(true: "yes", false: "no") }
    /// `on` / `off` (`virTristateSwitch`: driver options, feature states).
    public static var onOff: Codec<Bool> { words(true: "on", false: "off") }

    static func words(true t: String, false f: String) -> Codec<Bool> {
        Codec(decode: { text throws(ValueProblem) in
            if text == t { return true }
            if text == f { return false }
            throw ValueProblem(.invalidBoolean(accepted: [t, f]))
        }, encode: { $0 ? t : f })
    }
}

extension Codec where Value == Int {
    /// Unsigned integers in C's base-0 syntax (`0x1f` hex, leading `0` octal, else decimal), as
    /// libvirt parses device addresses; new values are written as `0x` + `digits` hex digits.
    public static func address(hexDigits digits: Int?) -> Codec<Int> {
        Codec(decode: { text throws(ValueProblem) in
            let t = text.trimmingASCIIWhitespace()
            let parsed: Int?
            if t.hasPrefix("0x") || t.hasPrefix("0X") {
                parsed = Int(t.dropFirst(2), radix: 16)
            } else if t.count > 1, t.hasPrefix("0") {
                parsed = Int(t.dropFirst(), radix: 8)
            } else {
                parsed = Int(t)
            }
            guard let n = parsed, n >= 0, !t.hasPrefix("+") else { throw ValueProblem(.invalidInteger) }
            return n
        }, encode: { n in
            guard let digits else { return String(n) }
            let hex = String(n, radix: 16)
            return "0x" + String(repeating: "0", count: max(0, digits - hex.count)) + hex
        })
    }

    /// A decimal integer that must lie in `range` (e.g. queue counts ≥ 1); leading blanks only.
    public static func decimal(in range: ClosedRange<Int>) -> Codec<Int> {
        Codec(decode: { text throws(ValueProblem) in
            guard let n = Int(text.droppingLeadingASCIIWhitespace()), range.contains(n) else {
                throw ValueProblem(.invalidInteger)
            }
            return n
        }, encode: { String($0) })
    }
}

extension IDSet: XMLValue {
    /// The largest ID a domain CPU or node set may name: libvirt parses them with
    /// `VIR_DOMAIN_CPUMASK_LEN` (16384) bits.
    public static var maxDomainID: Int { 16_383 }

    /// libvirt's bitmap list syntax (`0-3,^2,8`), `virBitmapParse` with
    /// `VIR_DOMAIN_CPUMASK_LEN` bits: IDs up to 16383, blanks around items and one trailing
    /// comma allowed (`0,`). A list that excludes everything it includes (`0,^0`) is rejected,
    /// as libvirt rejects an all-clear bitmap.
    public static var xmlCodec: Codec<IDSet<Kind>> { bitmap(maxID: maxDomainID) }

    /// The same syntax with IDs up to `maxID`.
    public static func bitmap(maxID: Int) -> Codec<IDSet<Kind>> {
        Codec(decode: { text throws(ValueProblem) in
            var list = Substring(text.trimmingASCIIWhitespace())
            if list.hasSuffix(","), !list.hasSuffix(",,") { list = list.dropLast() }
            let set: IDSet<Kind>
            do throws(IDSetParseError) { set = try IDSet(parsing: String(list)) } catch {
                throw ValueProblem(.invalidIDSet(error.description))
            }
            guard !set.isEmpty else { throw ValueProblem(.invalidIDSet("invalid ID list '\(text)': no \(Kind.noun) left")) }
            if let last = set.max, last > maxID {
                throw ValueProblem(.invalidIDSet("invalid ID list '\(text)': \(Kind.noun) \(last) is above \(maxID)"))
            }
            return set
        }, encode: { $0.listString })
    }
}

extension StringProtocol {
    /// Without the blanks `strtol` skips: libvirt's integers allow leading, not trailing, space.
    func droppingLeadingASCIIWhitespace() -> SubSequence {
        drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" }
    }
}

/// UUIDs in XML (`<uuid>`, `secret=`) are VirtCore's `LibvirtUUID`.
extension LibvirtUUID: XMLValue {
    public static var xmlCodec: Codec<LibvirtUUID> {
        Codec(decode: { text throws(ValueProblem) in
            guard let u = LibvirtUUID(text) else { throw ValueProblem(.invalidUUID) }
            return u
        }, encode: { $0.description })
    }
}
