// The tokenizer/tree builder: one forward pass over UTF-8 bytes, iterative (no recursion,
// so depth is bounded only by the limit), building LosslessXMLElement objects whose names,
// attributes and text stay as spans into the source bytes.
//
// Accepted: XML 1.0 as libvirt writes and reads it, in UTF-8 (optional BOM, optional XML
// declaration whose encoding must be UTF-8/ASCII), elements, attributes, namespaces prefixes
// (kept as written), character data, CDATA, comments, processing instructions, the five
// predefined entities and numeric character references. A DOCTYPE without an internal subset
// is kept verbatim as passthrough (it is never fetched); a DOCTYPE with an internal subset
// and any entity declaration are refused, so no entity is ever expanded.

import Synchronization

struct XMLParser {
    let p: UnsafePointer<UInt8>
    let n: Int
    let limits: XMLParseLimits
    let maxDepth: Int
    let storage: SourceStorage
    let cls: UnsafePointer<UInt8>
    /// Attribute spans of the whole document (copied to `storage.attrs` at exact size).
    var attrs: [AttrSpan]
    /// Element records in document order (the root is record 0), copied to `storage.records`.
    var records: [ElementRecord]
    /// Every element's child list, contiguous per element, copied to `storage.children`.
    var children: [ChildRecord]
    /// Child nodes of the open elements, moved to `children` at each end tag.
    var pending: [ChildRecord]
    /// Open elements: record index and where their children start in `pending`.
    var stack: [OpenElement]
    var elementCount = 0

    struct OpenElement {
        let record: UInt32
        let mark: Int
    }

    struct Result {
        var rootStart: Int
        var rootEnd: Int
    }

    /// Parses `storage.bytes` and fills `storage.attrs`.
    static func parse(_ storage: SourceStorage, limits: XMLParseLimits) throws(XMLParseError) -> Result {
        let bytes = storage.bytes
        if bytes.count > limits.effectiveBytes {
            throw XMLParseError(reason: .sizeLimitExceeded(limits.effectiveBytes), line: 1, column: 1, offset: 0)
        }
        let outcome: Swift.Result<Result, XMLParseError> = bytes.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress, buf.count > 0 else {
                return .failure(XMLParseError(reason: .missingRootElement, line: 1, column: 1, offset: 0))
            }
            if let bad = validateUTF8(base, buf.count) {
                let reason: XMLParseError.Reason
                switch bad.problem {
                case .invalid: reason = .invalidUTF8
                case let .character(c): reason = .invalidCharacter(c)
                }
                return .failure(XMLParseError.at(bad.offset, in: base, count: buf.count, reason))
            }
            // The growable buffers come from a per-process cache: a small document then costs
            // no buffer growth at all, only its elements and one exact-size attribute table.
            let buffers = ParserBuffers.take()
            defer { ParserBuffers.give(buffers) }
            return CharClass.table.withUnsafeBufferPointer { t in
                var parser = XMLParser(p: base, n: buf.count, limits: limits, maxDepth: limits.effectiveDepth,
                                       storage: storage, cls: t.baseAddress!, attrs: [], records: [], children: [],
                                       pending: [], stack: [])
                buffers.lend(to: &parser)
                defer { buffers.lend(to: &parser) }
                do throws(XMLParseError) {
                    let r = try parser.parseDocument()
                    storage.adopt(attrs: parser.attrs, records: parser.records, children: parser.children)
                    return .success(r)
                } catch {
                    return .failure(error)
                }
            }
        }
        return try outcome.get()
    }

    // MARK: Errors

    func fail(_ offset: Int, _ reason: XMLParseError.Reason) -> XMLParseError {
        XMLParseError.at(offset, in: p, count: n, reason)
    }

    func describe(_ offset: Int) -> String {
        guard offset < n else { return "end of input" }
        let b = p[offset]
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        if b == 0x20 { return "space" }
        if b >= 0x80 {
            // Show the whole (validated) scalar.
            var e = offset + 1
            while e < n && p[e] & 0xC0 == 0x80 { e += 1 }
            return "'" + String(decoding: UnsafeBufferPointer(start: p + offset, count: e - offset), as: UTF8.self) + "'"
        }
        return "byte 0x" + String(b, radix: 16, uppercase: true)
    }

    func unexpected(_ offset: Int, _ expected: String) -> XMLParseError {
        if offset >= n { return fail(n, .unexpectedEnd) }
        let b = p[offset]
        if b < 0x20 && b != 0x09 && b != 0x0A && b != 0x0D { return fail(offset, .invalidCharacter(UInt32(b))) }
        return fail(offset, .unexpectedCharacter(found: describe(offset), expected: expected))
    }

    func string(_ s: Int, _ e: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: p + s, count: max(0, e - s)), as: UTF8.self)
    }

    // MARK: Small helpers

    @inline(__always) func skipSpace(_ i: Int) -> Int {
        var i = i
        while i < n && cls[Int(p[i])] & CharClass.space != 0 { i += 1 }
        return i
    }

    /// True when the input at `i` starts with `lit`; throws unexpectedEnd when the input ends
    /// while still matching (a truncated document reports truncation, not a wrong character).
    func matches(_ i: Int, _ lit: StaticString) throws(XMLParseError) -> Bool {
        let l = lit.utf8CodeUnitCount
        let q = lit.utf8Start
        var k = 0
        while k < l {
            if i + k >= n { throw fail(n, .unexpectedEnd) }
            if p[i + k] != q[k] { return false }
            k += 1
        }
        return true
    }

    /// Scans a Name at `i`; returns its end. ASCII goes through the class table; a non-ASCII
    /// character is decoded and checked against XML 1.0's NameStartChar/NameChar ranges
    /// (`·` U+00B7 may not start a name, `×` U+00D7 is in no name).
    @inline(__always) func scanName(_ i: Int, expected: String) throws(XMLParseError) -> Int {
        guard i < n else { throw fail(n, .unexpectedEnd) }
        var j: Int
        if p[i] < 0x80 {
            guard cls[Int(p[i])] & CharClass.nameStart != 0 else { throw unexpected(i, expected) }
            j = i + 1
        } else {
            let (c, length) = scalar(at: i)
            guard isNameStartChar(c) else { throw unexpected(i, expected) }
            j = i + length
        }
        while j < n {
            let b = p[j]
            if b < 0x80 {
                guard cls[Int(b)] & CharClass.nameChar != 0 else { break }
                j += 1
            } else {
                let (c, length) = scalar(at: j)
                guard isNameStartChar(c) || isNameOnlyChar(c) else { break }
                j += length
            }
        }
        if j - i > limits.maxNameLength { throw fail(i, .nameTooLong(limits.maxNameLength)) }
        guard j < n else { throw fail(n, .unexpectedEnd) }
        return j
    }

    /// The scalar at `i` (a non-ASCII lead byte) and its length; the input was validated as
    /// UTF-8 before parsing, so the sequence is complete.
    @inline(__always) func scalar(at i: Int) -> (UInt32, Int) {
        let b0 = UInt32(p[i])
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(p[i + 1]) & 0x3F, 2) }
        if b0 < 0xF0 { return ((b0 & 0x0F) << 12 | (UInt32(p[i + 1]) & 0x3F) << 6 | UInt32(p[i + 2]) & 0x3F, 3) }
        return ((b0 & 0x07) << 18 | (UInt32(p[i + 1]) & 0x3F) << 12 | (UInt32(p[i + 2]) & 0x3F) << 6 | UInt32(p[i + 3]) & 0x3F, 4)
    }

    /// XML 1.0 (5th ed.) NameStartChar above ASCII.
    func isNameStartChar(_ c: UInt32) -> Bool {
        switch c {
        case 0xC0...0xD6, 0xD8...0xF6, 0xF8...0x2FF, 0x370...0x37D, 0x37F...0x1FFF, 0x200C...0x200D,
             0x2070...0x218F, 0x2C00...0x2FEF, 0x3001...0xD7FF, 0xF900...0xFDCF, 0xFDF0...0xFFFD, 0x10000...0xEFFFF:
            return true
        default:
            return false
        }
    }

    /// The NameChar additions above ASCII that may not start a name.
    func isNameOnlyChar(_ c: UInt32) -> Bool {
        c == 0xB7 || (0x300...0x36F).contains(c) || (0x203F...0x2040).contains(c)
    }

    /// Validates the reference starting at `p[i] == '&'`; returns the offset after `;`.
    func checkReference(_ i: Int) throws(XMLParseError) -> Int {
        var j = i + 1
        guard j < n else { throw fail(n, .unexpectedEnd) }
        if p[j] == 0x23 { // '#'
            j += 1
            // Leading zeros are legal, so the digits are not capped here; the value is
            // (resolveReference stops at > U+10FFFF) and so is the text quoted in the error.
            while j < n && p[j] != 0x3B && (cls[Int(p[j])] & CharClass.nameChar) != 0 { j += 1 }
            guard j < n else { throw fail(n, .unexpectedEnd) }
            guard p[j] == 0x3B, resolveReference(p, i + 1, j) != nil else {
                throw fail(i, .invalidCharacterReference(string(i + 1, min(j, i + 33))))
            }
            return j + 1
        }
        let e = try scanName(j, expected: "an entity name after '&'")
        guard p[e] == 0x3B else { throw unexpected(e, "';' ending the entity reference") }
        guard resolveReference(p, j, e) != nil else { throw fail(i, .undefinedEntity(string(j, e))) }
        j = e + 1
        return j
    }

    /// Rejects C0 controls inside comments, PIs, CDATA and DOCTYPE (the only scans that do not
    /// go through the class table).
    @inline(__always) func checkControl(_ i: Int) throws(XMLParseError) {
        let b = p[i]
        if b < 0x20 && b != 0x09 && b != 0x0A && b != 0x0D { throw fail(i, .invalidCharacter(UInt32(b))) }
    }

    // MARK: Prolog / epilog

    mutating func parseDocument() throws(XMLParseError) -> Result {
        var i = 0
        if n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF { i = 3 }
        if i + 5 < n, try matches(i, "<?xml"), isXMLSpace(p[i + 5]) {
            i = try parseXMLDeclaration(i)
        }
        var sawDoctype = false
        while true {
            i = skipSpace(i)
            guard i < n else { throw fail(n, .missingRootElement) }
            guard p[i] == 0x3C else {
                try checkControl(i)
                throw fail(i, .textOutsideRootElement)
            }
            guard i + 1 < n else { throw fail(n, .unexpectedEnd) }
            let c = p[i + 1]
            if c == 0x3F { // <?
                i = try parsePI(i).end
            } else if c == 0x21 { // <!
                if try matches(i, "<!--") {
                    i = try parseComment(i)
                } else if try matches(i, "<!DOCTYPE") {
                    if sawDoctype { throw fail(i, .doctypeNotAllowed) }
                    i = try parseDoctype(i)
                    sawDoctype = true
                } else if try matches(i, "<!ENTITY") {
                    throw fail(i, .entityDeclarationNotAllowed)
                } else {
                    throw unexpected(i + 2, "'--' or 'DOCTYPE' after '<!'")
                }
            } else {
                break
            }
        }
        let rootStart = i
        let rootEnd = try parseElementTree(i)
        i = rootEnd
        while true {
            i = skipSpace(i)
            guard i < n else { break }
            guard p[i] == 0x3C else {
                try checkControl(i)
                throw fail(i, .textOutsideRootElement)
            }
            guard i + 1 < n else { throw fail(n, .unexpectedEnd) }
            let c = p[i + 1]
            if c == 0x3F {
                i = try parsePI(i).end
            } else if try matches(i, "<!--") {
                i = try parseComment(i)
            } else if c == 0x21 {
                if try matches(i, "<!DOCTYPE") { throw fail(i, .doctypeNotAllowed) }
                if try matches(i, "<!ENTITY") { throw fail(i, .entityDeclarationNotAllowed) }
                throw unexpected(i + 2, "'--' after '<!'")
            } else if cls[Int(c)] & CharClass.nameStart != 0 {
                throw fail(i, .multipleRootElements)
            } else {
                throw unexpected(i + 1, "a comment or processing instruction after the root element")
            }
        }
        return Result(rootStart: rootStart, rootEnd: rootEnd)
    }

    /// `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`; returns the offset after `?>`.
    func parseXMLDeclaration(_ start: Int) throws(XMLParseError) -> Int {
        var i = start + 5
        var seen = 0 // 1 version, 2 encoding, 3 standalone: pseudo-attributes in this order
        while true {
            let ws = i
            i = skipSpace(i)
            guard i < n else { throw fail(n, .unexpectedEnd) }
            if p[i] == 0x3F {
                guard i + 1 < n else { throw fail(n, .unexpectedEnd) }
                guard p[i + 1] == 0x3E, seen >= 1 else { throw fail(i, .invalidXMLDeclaration) }
                return i + 2
            }
            guard i > ws else { throw fail(i, .invalidXMLDeclaration) }
            let ns = i
            let ne = try scanName(i, expected: "a pseudo-attribute of the XML declaration")
            i = skipSpace(ne)
            guard i < n else { throw fail(n, .unexpectedEnd) }
            guard p[i] == 0x3D else { throw fail(i, .invalidXMLDeclaration) }
            i = skipSpace(i + 1)
            guard i < n else { throw fail(n, .unexpectedEnd) }
            let q = p[i]
            guard q == 0x22 || q == 0x27 else { throw fail(i, .invalidXMLDeclaration) }
            let vs = i + 1
            var ve = vs
            while ve < n && p[ve] != q {
                if p[ve] == 0x3C || p[ve] == 0x26 { throw fail(ve, .invalidXMLDeclaration) }
                try checkControl(ve)
                ve += 1
            }
            guard ve < n else { throw fail(n, .unexpectedEnd) }
            let name = string(ns, ne)
            let value = string(vs, ve)
            switch name {
            case "version" where seen == 0:
                // VersionNum ::= '1.' [0-9]+
                guard value.hasPrefix("1."), value.count > 2, value.utf8.dropFirst(2).allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    throw fail(vs, .invalidXMLDeclaration)
                }
                seen = 1
            case "encoding" where seen == 1:
                switch value.lowercased() {
                case "utf-8", "utf8", "us-ascii", "ascii": break
                default: throw fail(vs, .unsupportedEncoding(value))
                }
                seen = 2
            case "standalone" where seen == 1 || seen == 2:
                guard value == "yes" || value == "no" else { throw fail(vs, .invalidXMLDeclaration) }
                seen = 3
            default:
                throw fail(ns, .invalidXMLDeclaration)
            }
            i = ve + 1
        }
    }

    /// `<!DOCTYPE name (SYSTEM|PUBLIC literals)? >` kept as passthrough; an internal subset
    /// (`[`…`]`) is refused, as entity declarations only ever appear there.
    func parseDoctype(_ start: Int) throws(XMLParseError) -> Int {
        var i = start + 9
        guard i < n else { throw fail(n, .unexpectedEnd) }
        guard isXMLSpace(p[i]) else { throw unexpected(i, "whitespace after DOCTYPE") }
        i = skipSpace(i)
        i = try scanName(i, expected: "the document type name")
        // ExternalID ::= 'SYSTEM' S SystemLiteral | 'PUBLIC' S PubidLiteral S SystemLiteral
        var afterSpace = skipSpace(i)
        if afterSpace > i, try matches(afterSpace, "SYSTEM") {
            i = try literal(afterRequiredSpace: afterSpace + 6)
            afterSpace = skipSpace(i)
        } else if afterSpace > i, try matches(afterSpace, "PUBLIC") {
            i = try literal(afterRequiredSpace: afterSpace + 6)
            i = try literal(afterRequiredSpace: i)
            afterSpace = skipSpace(i)
        }
        i = afterSpace
        guard i < n else { throw fail(n, .unexpectedEnd) }
        if p[i] == 0x3E { return i + 1 }
        if p[i] == 0x5B { // '[' internal subset
            var j = i
            while j + 8 <= n {
                if p[j] == 0x3C, (try? matches(j, "<!ENTITY")) == true {
                    throw fail(j, .entityDeclarationNotAllowed)
                }
                j += 1
            }
            throw fail(i, .doctypeNotAllowed)
        }
        throw unexpected(i, "'>' or an external ID (SYSTEM/PUBLIC with quoted literals)")
    }

    /// Whitespace at `i`, then a quoted literal; returns the offset after its closing quote.
    func literal(afterRequiredSpace i: Int) throws(XMLParseError) -> Int {
        guard i < n else { throw fail(n, .unexpectedEnd) }
        guard isXMLSpace(p[i]) else { throw unexpected(i, "whitespace") }
        let q = skipSpace(i)
        guard q < n else { throw fail(n, .unexpectedEnd) }
        guard p[q] == 0x22 || p[q] == 0x27 else { throw unexpected(q, "a quoted literal") }
        var j = q + 1
        while j < n && p[j] != p[q] { try checkControl(j); j += 1 }
        guard j < n else { throw fail(n, .unexpectedEnd) }
        return j + 1
    }

    /// `<!-- … -->`; returns the offset after `-->`.
    func parseComment(_ start: Int) throws(XMLParseError) -> Int {
        var i = start + 4
        while true {
            guard i < n else { throw fail(n, .unexpectedEnd) }
            let b = p[i]
            if b == 0x2D {
                guard i + 1 < n else { throw fail(n, .unexpectedEnd) }
                if p[i + 1] == 0x2D {
                    guard i + 2 < n else { throw fail(n, .unexpectedEnd) }
                    guard p[i + 2] == 0x3E else { throw fail(i, .doubleHyphenInComment) }
                    return i + 3
                }
            } else if b < 0x20 {
                try checkControl(i)
            }
            i += 1
        }
    }

    /// `<?target data?>`; returns the end offset.
    func parsePI(_ start: Int) throws(XMLParseError) -> (end: Int, targetEnd: Int) {
        let ts = start + 2
        let te = try scanName(ts, expected: "a processing-instruction target")
        if te - ts == 3 && (p[ts] | 0x20) == 0x78 && (p[ts + 1] | 0x20) == 0x6D && (p[ts + 2] | 0x20) == 0x6C {
            throw fail(start, .reservedProcessingInstructionTarget(string(ts, te)))
        }
        var i = te
        if p[i] == 0x3F {
            // `<?foo?bar?>`: a '?' right after the target must end the PI.
            guard i + 1 < n else { throw fail(n, .unexpectedEnd) }
            guard p[i + 1] == 0x3E else { throw unexpected(i, "whitespace or '?>' after the target") }
        } else {
            guard isXMLSpace(p[i]) else { throw unexpected(i, "whitespace or '?>' after the target") }
        }
        while true {
            guard i < n else { throw fail(n, .unexpectedEnd) }
            let b = p[i]
            if b == 0x3F {
                guard i + 1 < n else { throw fail(n, .unexpectedEnd) }
                if p[i + 1] == 0x3E { return (i + 2, te) }
            } else if b < 0x20 {
                try checkControl(i)
            }
            i += 1
        }
    }

    /// `<![CDATA[ … ]]>`; returns the end offset.
    func parseCDATA(_ start: Int) throws(XMLParseError) -> Int {
        var i = start + 9
        while true {
            guard i + 2 < n else { throw fail(n, .unexpectedEnd) }
            let b = p[i]
            if b == 0x5D && p[i + 1] == 0x5D && p[i + 2] == 0x3E { return i + 3 }
            if b < 0x20 { try checkControl(i) }
            i += 1
        }
    }

    // MARK: Elements

    /// Parses the root element and everything inside it; returns it and the offset after it.
    mutating func parseElementTree(_ start: Int) throws(XMLParseError) -> Int {
        var i = try openElement(start)
        if stack.isEmpty { return i }
        while true {
            // Character data up to the next '<'.
            let textStart = i
            while i < n {
                let b = p[i]
                if cls[Int(b)] & CharClass.textStop != 0 {
                    if b == 0x3C { break }
                    if b == 0x26 {
                        i = try checkReference(i)
                        continue
                    }
                    if b == 0x3E {
                        if i - 2 >= textStart && p[i - 1] == 0x5D && p[i - 2] == 0x5D { throw fail(i - 2, .cdataEndInText) }
                    } else if b != 0x0D {
                        throw fail(i, .invalidCharacter(UInt32(b)))
                    }
                }
                i += 1
            }
            if i > textStart { pending.append(ChildRecord(.text, UInt32(textStart), UInt32(i))) }
            guard i + 1 < n else { throw fail(n, .unexpectedEnd) }
            let c = p[i + 1]
            if c == 0x2F { // </
                i = try closeElement(i)
                if stack.isEmpty { return i }
            } else if c == 0x21 { // <!
                if try matches(i, "<!--") {
                    let e = try parseComment(i)
                    pending.append(ChildRecord(.comment, UInt32(i), UInt32(e)))
                    i = e
                } else if try matches(i, "<![CDATA[") {
                    let e = try parseCDATA(i)
                    pending.append(ChildRecord(.cdata, UInt32(i), UInt32(e)))
                    i = e
                } else if try matches(i, "<!ENTITY") {
                    throw fail(i, .entityDeclarationNotAllowed)
                } else if try matches(i, "<!DOCTYPE") {
                    throw fail(i, .doctypeNotAllowed)
                } else {
                    throw unexpected(i + 2, "'--' or '[CDATA[' after '<!'")
                }
            } else if c == 0x3F { // <?
                let e = try parsePI(i).end
                pending.append(ChildRecord(.pi, UInt32(i), UInt32(e)))
                i = e
            } else {
                i = try openElement(i)
            }
        }
    }

    /// Parses a start tag at `p[s] == '<'`, creates the element, links it to the open parent
    /// and, unless self-closing, pushes it. Returns the element and the offset after the tag.
    mutating func openElement(_ s: Int) throws(XMLParseError) -> Int {
        if stack.count >= maxDepth { throw fail(s, .depthLimitExceeded(maxDepth)) }
        let nameStart = s + 1
        let nameEnd = try scanName(nameStart, expected: "an element name after '<'")
        var i = nameEnd
        let attrFirst = attrs.count
        var selfClosing = false
        while true {
            let ws = i
            while i < n && cls[Int(p[i])] & CharClass.space != 0 { i += 1 }
            guard i < n else { throw fail(n, .unexpectedEnd) }
            let b = p[i]
            if b == 0x3E { i += 1; break }
            if b == 0x2F {
                guard i + 1 < n else { throw fail(n, .unexpectedEnd) }
                guard p[i + 1] == 0x3E else { throw unexpected(i + 1, "'>' after '/'") }
                i += 2
                selfClosing = true
                break
            }
            guard i > ws else { throw unexpected(i, "whitespace, '>' or '/>'") }
            // Attribute.
            let an = i
            let ane = try scanName(i, expected: "an attribute name, '>' or '/>'")
            i = ane
            while i < n && cls[Int(p[i])] & CharClass.space != 0 { i += 1 }
            guard i < n else { throw fail(n, .unexpectedEnd) }
            guard p[i] == 0x3D else { throw unexpected(i, "'=' after the attribute name") }
            i += 1
            while i < n && cls[Int(p[i])] & CharClass.space != 0 { i += 1 }
            guard i < n else { throw fail(n, .unexpectedEnd) }
            let q = p[i]
            guard q == 0x22 || q == 0x27 else { throw unexpected(i, "a quoted attribute value") }
            i += 1
            let vs = i
            while true {
                guard i < n else { throw fail(n, .unexpectedEnd) }
                let v = p[i]
                if cls[Int(v)] & CharClass.attrStop != 0 {
                    if v == q { break }
                    if v == 0x26 { i = try checkReference(i); continue }
                    if v == 0x3C { throw unexpected(i, "no '<' inside an attribute value") }
                    if v < 0x20 && v != 0x09 && v != 0x0A && v != 0x0D { throw fail(i, .invalidCharacter(UInt32(v))) }
                }
                i += 1
            }
            let count = attrs.count - attrFirst
            if count >= limits.maxAttributes { throw fail(an, .attributeLimitExceeded(limits.maxAttributes)) }
            try checkDuplicate(an, ane, attrFirst)
            attrs.append(AttrSpan(rawStart: UInt32(ws), nameStart: UInt32(an), nameEnd: UInt32(ane),
                                  valueStart: UInt32(vs), valueEnd: UInt32(i)))
            i += 1
        }
        elementCount += 1
        if elementCount > limits.maxElements { throw fail(s, .elementLimitExceeded(limits.maxElements)) }
        let index = UInt32(records.count)
        records.append(ElementRecord(start: UInt32(s), nameEnd: UInt32(nameEnd), startTagEnd: UInt32(i),
                                     attrFirst: UInt32(attrFirst), attrCount: UInt32(attrs.count - attrFirst),
                                     selfClosing: selfClosing))
        if !stack.isEmpty { pending.append(ChildRecord(.element, index, 0)) }
        if !selfClosing { stack.append(OpenElement(record: index, mark: pending.count)) }
        return i
    }

    /// Duplicate attribute check: linear for the usual handful, hashed for attribute floods.
    mutating func checkDuplicate(_ s: Int, _ e: Int, _ first: Int) throws(XMLParseError) {
        let count = attrs.count - first
        let len = e - s
        if count <= 32 {
            var k = first
            while k < attrs.count {
                let a = attrs[k]
                if Int(a.nameEnd - a.nameStart) == len && memcmpBytes(p + Int(a.nameStart), p + s, len) {
                    throw fail(s, .duplicateAttribute(string(s, e)))
                }
                k += 1
            }
            return
        }
        // Rare path (hostile input): set of names, rebuilt per check is too slow, so hash once
        // per element lazily via a dictionary keyed by the name bytes.
        if dupFirst != first {
            dupFirst = first
            dupSet = Set(attrs[first...].map { Array(UnsafeBufferPointer(start: p + Int($0.nameStart), count: Int($0.nameEnd - $0.nameStart))) })
        }
        let key = Array(UnsafeBufferPointer(start: p + s, count: len))
        if !dupSet.insert(key).inserted { throw fail(s, .duplicateAttribute(string(s, e))) }
    }
    var dupFirst = -1
    var dupSet = Set<[UInt8]>()

    /// Parses an end tag at `p[s] == '<'`, `p[s+1] == '/'`; closes the open element.
    mutating func closeElement(_ s: Int) throws(XMLParseError) -> Int {
        guard let top = stack.last else { throw unexpected(s, "no end tag outside the root element") }
        let ns = s + 2
        let ne = try scanName(ns, expected: "an element name after '</'")
        let r = Int(top.record)
        let os = Int(records[r].start) + 1, oe = Int(records[r].nameEnd)
        guard ne - ns == oe - os, memcmpBytes(p + ns, p + os, ne - ns) else {
            throw fail(ns, .mismatchedTag(expected: string(os, oe), found: string(ns, ne)))
        }
        var i = ne
        while i < n && cls[Int(p[i])] & CharClass.space != 0 { i += 1 }
        guard i < n else { throw fail(n, .unexpectedEnd) }
        guard p[i] == 0x3E else { throw unexpected(i, "'>' ending the end tag") }
        i += 1
        let count = pending.count - top.mark
        records[r].endTagStart = UInt32(s)
        records[r].end = UInt32(i)
        records[r].childFirst = UInt32(children.count)
        records[r].childCount = UInt32(count)
        if count > 0 {
            children.append(contentsOf: pending[top.mark...])
            pending.removeLast(count)
        }
        stack.removeLast()
        return i
    }
}


/// The parser's growable buffers, kept between parses (one set cached per process, taken
/// atomically, so concurrent parses on other threads simply allocate their own). Sets that
/// grew large on a big or hostile document are dropped instead of cached, so what stays
/// held after parsing is bounded (under 1 MiB).
final class ParserBuffers {
    struct Tables {
        var attrs: [AttrSpan] = []
        var records: [ElementRecord] = []
        var children: [ChildRecord] = []
        var pending: [ChildRecord] = []
        var stack: [XMLParser.OpenElement] = []

        mutating func swap(with parser: inout XMLParser) {
            Swift.swap(&parser.attrs, &attrs)
            Swift.swap(&parser.records, &records)
            Swift.swap(&parser.children, &children)
            Swift.swap(&parser.pending, &pending)
            Swift.swap(&parser.stack, &stack)
        }

        mutating func reset() -> Bool {
            attrs.removeAll(keepingCapacity: true)
            records.removeAll(keepingCapacity: true)
            children.removeAll(keepingCapacity: true)
            pending.removeAll(keepingCapacity: true)
            stack.removeAll(keepingCapacity: true)
            return attrs.capacity <= 8192 && records.capacity <= 8192 && children.capacity <= 16384
                && pending.capacity <= 4096 && stack.capacity <= 1024
        }
    }

    /// One stored property, so lending costs one exclusivity check, not one per table.
    var tables = Tables()

    init() {
        tables.attrs.reserveCapacity(256)
        tables.records.reserveCapacity(256)
        tables.children.reserveCapacity(512)
        tables.pending.reserveCapacity(64)
        tables.stack.reserveCapacity(32)
    }

    /// Swaps the buffers into the parser (and back, on the second call).
    func lend(to parser: inout XMLParser) {
        tables.swap(with: &parser)
    }

    /// The cached set's address (0: none); an integer because raw pointers are not Sendable.
    static let cached = Atomic<UInt>(0)

    static func take() -> ParserBuffers {
        if let p = UnsafeRawPointer(bitPattern: cached.exchange(0, ordering: .acquiring)) {
            return Unmanaged<ParserBuffers>.fromOpaque(p).takeRetainedValue()
        }
        return ParserBuffers()
    }

    static func give(_ b: ParserBuffers) {
        guard b.tables.reset() else { return }
        let p = Unmanaged.passRetained(b).toOpaque()
        if !cached.compareExchange(expected: 0, desired: UInt(bitPattern: p), ordering: .releasing).exchanged {
            Unmanaged<ParserBuffers>.fromOpaque(p).release()
        }
    }
}
