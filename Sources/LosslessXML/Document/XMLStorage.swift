// Internal storage of the lossless document model: the original bytes, source spans,
// character classes, and the decode/escape helpers shared by parser, tree and serializer.

/// The original document bytes plus the flat table of attribute spans of every parsed element.
/// Elements keep a strong reference so their spans stay valid even after the document is gone
/// (an element can outlive or move out of its document).
final class SourceStorage {
    let bytes: [UInt8]
    /// The attribute spans of every parsed element, then the parsed tree as flat tables: one
    /// record per element (document order, root first) and the child lists. Element objects
    /// are made from them on first access (`LosslessXMLElement.Content.unread`), so parsing
    /// allocates no object per element. All three live in one allocation owned here.
    private(set) var attrs = UnsafeBufferPointer<AttrSpan>(start: nil, count: 0)
    private(set) var records = UnsafeBufferPointer<ElementRecord>(start: nil, count: 0)
    private(set) var children = UnsafeBufferPointer<ChildRecord>(start: nil, count: 0)
    private var tables: UnsafeMutableRawPointer?

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    deinit { tables?.deallocate() }

    /// Copies the parser's tables into one exact-size allocation.
    func adopt(attrs a: [AttrSpan], records r: [ElementRecord], children c: [ChildRecord]) {
        func end<T>(_ offset: Int, _ count: Int, _: T.Type) -> Int { offset + count * MemoryLayout<T>.stride }
        let recordsAt = end(0, a.count, AttrSpan.self)
        let childrenAt = end(recordsAt, r.count, ElementRecord.self)
        let total = end(childrenAt, c.count, ChildRecord.self)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(total, 1), alignment: 8)
        tables?.deallocate()
        tables = raw
        func place<T>(_ source: [T], at offset: Int) -> UnsafeBufferPointer<T> {
            let typed = (raw + offset).bindMemory(to: T.self, capacity: source.count)
            source.withUnsafeBufferPointer { if let b = $0.baseAddress { typed.initialize(from: b, count: $0.count) } }
            return UnsafeBufferPointer(start: typed, count: source.count)
        }
        attrs = place(a, at: 0)
        records = place(r, at: recordsAt)
        children = place(c, at: childrenAt)
    }
}

/// One parsed element as offsets into the source bytes (see `LosslessXMLElement`'s fields).
struct ElementRecord: BitwiseCopyable {
    var start: UInt32
    var nameEnd: UInt32
    var startTagEnd: UInt32
    var endTagStart: UInt32
    var end: UInt32
    var attrFirst: UInt32
    var attrCount: UInt32
    /// The element's child list: `children[childFirst ..< childFirst + childCount]`.
    var childFirst: UInt32 = 0
    var childCount: UInt32 = 0
    var selfClosing: Bool

    init(start: UInt32, nameEnd: UInt32, startTagEnd: UInt32, attrFirst: UInt32, attrCount: UInt32, selfClosing: Bool) {
        self.start = start
        self.nameEnd = nameEnd
        self.startTagEnd = startTagEnd
        self.endTagStart = startTagEnd
        self.end = startTagEnd
        self.attrFirst = attrFirst
        self.attrCount = attrCount
        self.selfClosing = selfClosing
    }
}

/// One parsed child node: an element (`a` = its record index) or a span `a..<b` of the whole
/// construct (markers included), as in `NodeStorage`.
struct ChildRecord: BitwiseCopyable {
    enum Kind: UInt8, BitwiseCopyable { case element, text, cdata, comment, pi }
    var kind: Kind
    var a: UInt32
    var b: UInt32

    init(_ kind: Kind, _ a: UInt32, _ b: UInt32) {
        self.kind = kind
        self.a = a
        self.b = b
    }

    /// The node in tree form (not for elements: those become objects, see `materialize`).
    var spanNode: NodeStorage {
        switch kind {
        case .element, .text: .text(a, b)
        case .cdata: .cdata(a, b)
        case .comment: .comment(a, b)
        case .pi: .pi(a, b)
        }
    }
}

/// One attribute as written: `rawStart` is the whitespace before the name, so
/// `bytes[rawStart..<valueEnd+1]` reproduces it exactly (including `=` spacing and quotes).
struct AttrSpan {
    var rawStart: UInt32
    var nameStart: UInt32
    var nameEnd: UInt32
    var valueStart: UInt32
    var valueEnd: UInt32
}

/// A new text node (set through `LosslessXMLElement.text`): stored decoded, escaped on output.
final class NewText {
    let value: String
    init(_ value: String) { self.value = value }
}

/// A child node. Parsed leaves are byte spans into the owning element's `SourceStorage`
/// (whole construct, markers included); nothing is copied or decoded until asked.
enum NodeStorage {
    case element(LosslessXMLElement)
    case text(UInt32, UInt32)
    case cdata(UInt32, UInt32)
    case comment(UInt32, UInt32)
    case pi(UInt32, UInt32)
    case newText(NewText)
    /// A new comment (content as given; `--` is made safe on output).
    case newComment(NewText)
}

/// Character classes for the byte-oriented scanner.
enum CharClass {
    static let nameStart: UInt8 = 0x01
    static let nameChar: UInt8 = 0x02
    /// Bytes that stop a character-data scan: `<`, `&`, `>` (for `]]>`), CR and C0 controls.
    static let textStop: UInt8 = 0x04
    /// Bytes that stop an attribute-value scan: quotes, `<`, `&`, TAB/LF/CR and C0 controls.
    static let attrStop: UInt8 = 0x08
    static let space: UInt8 = 0x10

    static let table: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 256)
        for b in 0..<256 {
            var c: UInt8 = 0
            let isLetter = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            if isLetter || b == 0x5F || b == 0x3A || b >= 0x80 { c |= nameStart | nameChar }
            if (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x2E { c |= nameChar }
            if b < 0x20 && b != 0x09 && b != 0x0A { c |= textStop }
            if b == 0x3C || b == 0x26 || b == 0x3E { c |= textStop }
            if b < 0x20 || b == 0x22 || b == 0x27 || b == 0x3C || b == 0x26 { c |= attrStop }
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { c |= space }
            t[b] = c
        }
        return t
    }()
}

@inline(__always) func isXMLSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D }

/// True when `c` is a Char of XML 1.0 (production [2]).
@inline(__always) func isXMLChar(_ c: UInt32) -> Bool {
    switch c {
    case 0x9, 0xA, 0xD: true
    case 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
    default: false
    }
}

/// Resolves a validated reference body (between `&` and `;`) to a scalar; nil if invalid.
func resolveReference(_ p: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> UInt32? {
    let len = e - s
    guard len > 0 else { return nil }
    if p[s] == 0x23 { // '#'
        var i = s + 1
        var hex = false
        if i < e && p[i] == 0x78 { hex = true; i += 1 }
        guard i < e else { return nil }
        var v: UInt32 = 0
        while i < e {
            let b = p[i]
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x61...0x66 where hex: d = UInt32(b - 0x61 + 10)
            case 0x41...0x46 where hex: d = UInt32(b - 0x41 + 10)
            default: return nil
            }
            v = v * (hex ? 16 : 10) + d
            if v > 0x10FFFF { return nil }
            i += 1
        }
        return isXMLChar(v) ? v : nil
    }
    switch len {
    case 2 where p[s] == 0x6C && p[s + 1] == 0x74: return 0x3C // lt
    case 2 where p[s] == 0x67 && p[s + 1] == 0x74: return 0x3E // gt
    case 3 where p[s] == 0x61 && p[s + 1] == 0x6D && p[s + 2] == 0x70: return 0x26 // amp
    case 4 where p[s] == 0x61 && p[s + 1] == 0x70 && p[s + 2] == 0x6F && p[s + 3] == 0x73: return 0x27 // apos
    case 4 where p[s] == 0x71 && p[s + 1] == 0x75 && p[s + 2] == 0x6F && p[s + 3] == 0x74: return 0x22 // quot
    default: return nil
    }
}

@inline(__always) func appendScalar(_ v: UInt32, to out: inout [UInt8]) {
    if v < 0x80 {
        out.append(UInt8(v))
    } else if v < 0x800 {
        out.append(UInt8(0xC0 | (v >> 6))); out.append(UInt8(0x80 | (v & 0x3F)))
    } else if v < 0x10000 {
        out.append(UInt8(0xE0 | (v >> 12))); out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
        out.append(UInt8(0x80 | (v & 0x3F)))
    } else {
        out.append(UInt8(0xF0 | (v >> 18))); out.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
        out.append(UInt8(0x80 | ((v >> 6) & 0x3F))); out.append(UInt8(0x80 | (v & 0x3F)))
    }
}

/// Decodes parsed character data or an attribute value: references resolved, line ends
/// normalized (XML 1.0 §2.11), and for attributes TAB/LF/CR turned into spaces (§3.3.3).
func decodeSpan(_ bytes: [UInt8], _ s: Int, _ e: Int, attribute: Bool) -> String {
    bytes.withUnsafeBufferPointer { buf -> String in
        guard let p = buf.baseAddress, s < e else { return "" }
        var needs = false
        for i in s..<e {
            let b = p[i]
            if b == 0x26 || b == 0x0D || (attribute && (b == 0x09 || b == 0x0A)) { needs = true; break }
        }
        if !needs { return String(decoding: UnsafeBufferPointer(start: p + s, count: e - s), as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(e - s)
        var i = s
        while i < e {
            let b = p[i]
            if b == 0x26 {
                var j = i + 1
                while j < e && p[j] != 0x3B { j += 1 }
                if j < e, let v = resolveReference(p, i + 1, j) {
                    appendScalar(v, to: &out)
                    i = j + 1
                    continue
                }
                out.append(b) // unreachable for parsed input (validated); keep bytes as written
            } else if b == 0x0D {
                out.append(attribute ? 0x20 : 0x0A)
                if i + 1 < e && p[i + 1] == 0x0A { i += 1 }
            } else if attribute && (b == 0x09 || b == 0x0A) {
                out.append(0x20)
            } else {
                out.append(b)
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Escapes character data for output (`&`, `<`, `>`, CR kept as a reference so it round-trips).
func appendEscapedText(_ s: String, to out: inout [UInt8]) {
    for b in s.utf8 {
        switch b {
        case 0x26: out.append(contentsOf: [0x26, 0x61, 0x6D, 0x70, 0x3B]) // &amp;
        case 0x3C: out.append(contentsOf: [0x26, 0x6C, 0x74, 0x3B]) // &lt;
        case 0x3E: out.append(contentsOf: [0x26, 0x67, 0x74, 0x3B]) // &gt;
        case 0x0D: out.append(contentsOf: Array("&#13;".utf8))
        default: out.append(b)
        }
    }
}

/// Escapes an attribute value for output, like libvirt's virBufferEscapeString (both quote
/// kinds escaped); TAB/LF/CR as character references so the decoded value survives.
func appendEscapedAttribute(_ s: String, to out: inout [UInt8]) {
    for b in s.utf8 {
        switch b {
        case 0x26: out.append(contentsOf: [0x26, 0x61, 0x6D, 0x70, 0x3B])
        case 0x3C: out.append(contentsOf: [0x26, 0x6C, 0x74, 0x3B])
        case 0x3E: out.append(contentsOf: [0x26, 0x67, 0x74, 0x3B])
        case 0x22: out.append(contentsOf: Array("&quot;".utf8))
        case 0x27: out.append(contentsOf: Array("&apos;".utf8))
        case 0x09: out.append(contentsOf: Array("&#9;".utf8))
        case 0x0A: out.append(contentsOf: Array("&#10;".utf8))
        case 0x0D: out.append(contentsOf: Array("&#13;".utf8))
        default: out.append(b)
        }
    }
}

/// Makes `name` a well-formed XML name (names come from API callers, not from parsed input):
/// bytes that cannot appear in a name become `_`, an empty name becomes `_`.
func sanitizedName(_ name: String) -> [UInt8] {
    var bytes = Array(name.utf8)
    if bytes.isEmpty { return [0x5F] }
    let t = CharClass.table
    for i in bytes.indices {
        let cls = t[Int(bytes[i])]
        let ok = i == 0 ? (cls & CharClass.nameStart) != 0 : (cls & CharClass.nameChar) != 0
        if !ok { bytes[i] = 0x5F }
    }
    return bytes
}

/// Byte-wise equality of `bytes[s..<e]` and `name`'s UTF-8.
@inline(__always) func spanEquals(_ bytes: [UInt8], _ s: Int, _ e: Int, _ name: String) -> Bool {
    var name = name
    return name.withUTF8 { q -> Bool in
        guard q.count == e - s else { return false }
        return bytes.withUnsafeBufferPointer { b -> Bool in
            guard let bp = b.baseAddress, let qp = q.baseAddress else { return q.count == 0 }
            return memcmpBytes(bp + s, qp, q.count)
        }
    }
}

@inline(__always) func memcmpBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var i = 0
    while i < n {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}

@inline(__always) func isWhitespaceOnly(_ bytes: [UInt8], _ s: Int, _ e: Int) -> Bool {
    var i = s
    while i < e {
        if !isXMLSpace(bytes[i]) { return false }
        i += 1
    }
    return true
}
