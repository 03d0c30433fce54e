/// Encodes any `Encodable` value as JSON in exactly the form of Foundation's
/// `JSONEncoder` with `[.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]` and default
/// strategies: two-space indent, `"key" : value`, keys in UTF-8 byte order, empty
/// containers as `[\n\n<indent>]`, floats without a trailing `.0`.
///
/// Why it exists: in a fresh `virtkit probe --json` process, Foundation's encoder spends
/// most of its time in first-use runtime work (dynamic casts for its Date/Data/URL/
/// dictionary special cases, each a scan of every protocol conformance in the binary);
/// this one never casts. `virtkit-bench hostprobe` measures both; the HostProbe tests
/// check byte equality with Foundation on fixture snapshots.
///
/// Differences, by design: no Date/Data/URL/Decimal special cases (they encode with their
/// own `Encodable`, like the `.deferredToDate`/`.deferredToData` strategies would; the
/// HostProbe snapshot has none), and `codingPath` is always empty.
public enum SortedPrettyJSON {
    /// The UTF-8 bytes of `value` (no trailing newline). Throws `EncodingError.invalidValue`
    /// for NaN and infinite floats, as Foundation does by default.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONTreeEncoder()
        try value.encode(to: encoder)
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16)
        write(encoder.value ?? .object(JSONObjectBox()), indent: 0, into: &out)
        return out
    }

    static func write(_ v: JSONTreeValue, indent: Int, into out: inout [UInt8]) {
        switch v {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let s): out.append(contentsOf: s.utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            out.append(0x0A)
            if a.items.isEmpty {
                out.append(0x0A)
            } else {
                for (i, item) in a.items.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")); out.append(0x0A) }
                    spaces(indent + 2, &out)
                    write(item, indent: indent + 2, into: &out)
                }
                out.append(0x0A)
            }
            spaces(indent, &out)
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            out.append(0x0A)
            if o.fields.isEmpty {
                out.append(0x0A)
            } else {
                let keys = o.fields.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                for (i, k) in keys.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")); out.append(0x0A) }
                    spaces(indent + 2, &out)
                    writeString(k, into: &out)
                    out.append(contentsOf: " : ".utf8)
                    // Keys come from `fields` itself.
                    if let value = o.fields[k] { write(value, indent: indent + 2, into: &out) }
                }
                out.append(0x0A)
            }
            spaces(indent, &out)
            out.append(UInt8(ascii: "}"))
        }
    }

    static func spaces(_ n: Int, _ out: inout [UInt8]) {
        for _ in 0..<n { out.append(0x20) }
    }

    static func writeString(_ s: String, into out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(b)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(b)
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0x08: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "f"))
            case 0x00...0x1F:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// A JSON value under construction; containers are boxes so nested containers handed out
/// by the encoder can be filled after they are attached.
enum JSONTreeValue {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array(JSONArrayBox)
    case object(JSONObjectBox)
}

final class JSONArrayBox { var items: [JSONTreeValue] = [] }
final class JSONObjectBox { var fields: [String: JSONTreeValue] = [:] }

/// Foundation's number spelling: `description`, without a trailing `.0`.
func jsonFloat<F: BinaryFloatingPoint & CustomStringConvertible>(_ f: F) throws -> JSONTreeValue {
    guard f.isFinite else {
        throw EncodingError.invalidValue(f, .init(codingPath: [], debugDescription: "Unable to encode \(f) directly in JSON."))
    }
    var s = f.description
    if s.hasSuffix(".0") { s.removeLast(2) }
    return .number(s)
}

final class JSONTreeEncoder: Encoder {
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var value: JSONTreeValue?

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object(let o)? = value { return KeyedEncodingContainer(JSONKeyed<Key>(box: o)) }
        let o = JSONObjectBox()
        value = .object(o)
        return KeyedEncodingContainer(JSONKeyed<Key>(box: o))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array(let a)? = value { return JSONUnkeyed(box: a) }
        let a = JSONArrayBox()
        value = .array(a)
        return JSONUnkeyed(box: a)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { JSONSingle(encoder: self) }

    /// Encodes a nested value; a value that encodes nothing is `{}`, as in Foundation.
    static func tree<T: Encodable>(_ v: T) throws -> JSONTreeValue {
        let e = JSONTreeEncoder()
        try v.encode(to: e)
        return e.value ?? .object(JSONObjectBox())
    }
}

struct JSONKeyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: JSONObjectBox
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) throws { box.fields[key.stringValue] = .null }
    mutating func encode(_ v: Bool, forKey key: Key) throws { box.fields[key.stringValue] = .bool(v) }
    mutating func encode(_ v: String, forKey key: Key) throws { box.fields[key.stringValue] = .string(v) }
    mutating func encode(_ v: Double, forKey key: Key) throws { box.fields[key.stringValue] = try jsonFloat(v) }
    mutating func encode(_ v: Float, forKey key: Key) throws { box.fields[key.stringValue] = try jsonFloat(v) }
    mutating func encode(_ v: Int, forKey key: Key) throws { box.fields[key.stringValue] = .number(String(v)) }
    mutating func encode(_ v: Int8, forKey key: Key) throws { box.fields[key.stringValue] = .number(String(v)) }
    mutating func encode(_ v: Int16, forKey key: Key) throws { box.fields[key.stringValue] = .number(String(v)) }
    mutating func encode(_ v: Int32, forKey key: Key) throws { box.fields[key.stringValue] = .number(String(v)) }
    mutating func encode(_ v: Int64, forKey key: Key) throws { box.fields[key.stringValue] = .number(String(v)) }
    mutating func encode(_ v: UInt, forKey key: Key) throws { box.fields[key.stringValue] = .number(String(v)) }
    mutating func encode(_ v: UInt8, forKey key: Key) throws { box.fields[key.stringValue] = .number(String(v)) }
    mutating func encode(_ v: UInt16, forKey key: Key) throws { box.fields[key.stringValue] = .number(String(v)) }
    mutating func encode(_ v: UInt32, forKey key: Key) throws { box.fields[key.stringValue] = .number(String(v)) }
    mutating func encode(_ v: UInt64, forKey key: Key) throws { box.fields[key.stringValue] = .number(String(v)) }
    mutating func encode<T: Encodable>(_ v: T, forKey key: Key) throws {
        box.fields[key.stringValue] = try JSONTreeEncoder.tree(v)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let o = JSONObjectBox()
        box.fields[key.stringValue] = .object(o)
        return KeyedEncodingContainer(JSONKeyed<NestedKey>(box: o))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let a = JSONArrayBox()
        box.fields[key.stringValue] = .array(a)
        return JSONUnkeyed(box: a)
    }

    mutating func superEncoder() -> any Encoder { JSONSuperEncoder(parent: .object(box, "super")) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { JSONSuperEncoder(parent: .object(box, key.stringValue)) }
}

struct JSONUnkeyed: UnkeyedEncodingContainer {
    let box: JSONArrayBox
    var codingPath: [any CodingKey] { [] }
    var count: Int { box.items.count }

    mutating func encodeNil() throws { box.items.append(.null) }
    mutating func encode(_ v: Bool) throws { box.items.append(.bool(v)) }
    mutating func encode(_ v: String) throws { box.items.append(.string(v)) }
    mutating func encode(_ v: Double) throws { box.items.append(try jsonFloat(v)) }
    mutating func encode(_ v: Float) throws { box.items.append(try jsonFloat(v)) }
    mutating func encode(_ v: Int) throws { box.items.append(.number(String(v))) }
    mutating func encode(_ v: Int8) throws { box.items.append(.number(String(v))) }
    mutating func encode(_ v: Int16) throws { box.items.append(.number(String(v))) }
    mutating func encode(_ v: Int32) throws { box.items.append(.number(String(v))) }
    mutating func encode(_ v: Int64) throws { box.items.append(.number(String(v))) }
    mutating func encode(_ v: UInt) throws { box.items.append(.number(String(v))) }
    mutating func encode(_ v: UInt8) throws { box.items.append(.number(String(v))) }
    mutating func encode(_ v: UInt16) throws { box.items.append(.number(String(v))) }
    mutating func encode(_ v: UInt32) throws { box.items.append(.number(String(v))) }
    mutating func encode(_ v: UInt64) throws { box.items.append(.number(String(v))) }
    mutating func encode<T: Encodable>(_ v: T) throws { box.items.append(try JSONTreeEncoder.tree(v)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let o = JSONObjectBox()
        box.items.append(.object(o))
        return KeyedEncodingContainer(JSONKeyed<NestedKey>(box: o))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let a = JSONArrayBox()
        box.items.append(.array(a))
        return JSONUnkeyed(box: a)
    }

    mutating func superEncoder() -> any Encoder {
        box.items.append(.null)
        return JSONSuperEncoder(parent: .array(box, box.items.count - 1))
    }
}

struct JSONSingle: SingleValueEncodingContainer {
    let encoder: JSONTreeEncoder
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil() throws { encoder.value = .null }
    mutating func encode(_ v: Bool) throws { encoder.value = .bool(v) }
    mutating func encode(_ v: String) throws { encoder.value = .string(v) }
    mutating func encode(_ v: Double) throws { encoder.value = try jsonFloat(v) }
    mutating func encode(_ v: Float) throws { encoder.value = try jsonFloat(v) }
    mutating func encode(_ v: Int) throws { encoder.value = .number(String(v)) }
    mutating func encode(_ v: Int8) throws { encoder.value = .number(String(v)) }
    mutating func encode(_ v: Int16) throws { encoder.value = .number(String(v)) }
    mutating func encode(_ v: Int32) throws { encoder.value = .number(String(v)) }
    mutating func encode(_ v: Int64) throws { encoder.value = .number(String(v)) }
    mutating func encode(_ v: UInt) throws { encoder.value = .number(String(v)) }
    mutating func encode(_ v: UInt8) throws { encoder.value = .number(String(v)) }
    mutating func encode(_ v: UInt16) throws { encoder.value = .number(String(v)) }
    mutating func encode(_ v: UInt32) throws { encoder.value = .number(String(v)) }
    mutating func encode(_ v: UInt64) throws { encoder.value = .number(String(v)) }
    mutating func encode<T: Encodable>(_ v: T) throws { encoder.value = try JSONTreeEncoder.tree(v) }
}

/// `superEncoder()`: a separate encoder whose result is stored into the parent slot
/// whenever it changes (encoding finishes before the parent is written out).
final class JSONSuperEncoder: Encoder {
    enum Slot { case object(JSONObjectBox, String), array(JSONArrayBox, Int) }
    let parent: Slot
    let inner = JSONTreeEncoder()
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(parent: Slot) {
        self.parent = parent
        store(.object(JSONObjectBox()))
    }

    private func store(_ v: JSONTreeValue) {
        switch parent {
        case .object(let o, let k): o.fields[k] = v
        case .array(let a, let i): a.items[i] = v
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let c = inner.container(keyedBy: type)
        if let v = inner.value { store(v) }
        return c
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let c = inner.unkeyedContainer()
        if let v = inner.value { store(v) }
        return c
    }

    /// Single values are stored as they are written.
    func singleValueContainer() -> any SingleValueEncodingContainer { JSONSuperSingle(owner: self) }

    fileprivate func storeSingle(_ body: (inout JSONSingle) throws -> Void) rethrows {
        var s = JSONSingle(encoder: inner)
        try body(&s)
        if let v = inner.value { store(v) }
    }
}

struct JSONSuperSingle: SingleValueEncodingContainer {
    let owner: JSONSuperEncoder
    var codingPath: [any CodingKey] { [] }
    mutating func encodeNil() throws { try owner.storeSingle { try $0.encodeNil() } }
    mutating func encode(_ v: Bool) throws { try owner.storeSingle { try $0.encode(v) } }
    mutating func encode(_ v: String) throws { try owner.storeSingle { try $0.encode(v) } }
    mutating func encode(_ v: Double) throws { try owner.storeSingle { try $0.encode(v) } }
    mutating func encode(_ v: Float) throws { try owner.storeSingle { try $0.encode(v) } }
    mutating func encode(_ v: Int) throws { try owner.storeSingle { try $0.encode(v) } }
    mutating func encode(_ v: Int8) throws { try owner.storeSingle { try $0.encode(v) } }
    mutating func encode(_ v: Int16) throws { try owner.storeSingle { try $0.encode(v) } }
    mutating func encode(_ v: Int32) throws { try owner.storeSingle { try $0.encode(v) } }
    mutating func encode(_ v: Int64) throws { try owner.storeSingle { try $0.encode(v) } }
    mutating func encode(_ v: UInt) throws { try owner.storeSingle { try $0.encode(v) } }
    mutating func encode(_ v: UInt8) throws { try owner.storeSingle { try $0.encode(v) } }
    mutating func encode(_ v: UInt16) throws { try owner.storeSingle { try $0.encode(v) } }
    mutating func encode(_ v: UInt32) throws { try owner.storeSingle { try $0.encode(v) } }
    mutating func encode(_ v: UInt64) throws { try owner.storeSingle { try $0.encode(v) } }
    mutating func encode<T: Encodable>(_ v: T) throws { try owner.storeSingle { try $0.encode(v) } }
}
