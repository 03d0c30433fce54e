// The document: prolog, root element, epilog; parsing entry points, serialization and the
// canonical form used for "same document modulo attribute order and indentation".
//
// Design (why it is lossless and fast):
// - The parser (XMLParser.swift) makes one pass over the UTF-8 bytes after a vectorized UTF-8
//   check, and records the tree in flat tables (one record per element, the child lists, the
//   attributes; one allocation per document). Names, attributes, text, comments, CDATA and
//   PIs are 32-bit byte spans into the original bytes. LosslessXMLElement objects are made
//   from the records when a caller first looks at an element's children (each once, so
//   identity is stable), and Strings only when a caller asks for a value. Nothing is
//   validated or tokenized later: a document that parsed is fully checked.
// - Serialization copies spans. Every element tracks whether its start tag, its child list,
//   or something below it was edited; clean subtrees are emitted as one block of original
//   bytes, edited start tags keep untouched attributes verbatim, and new nodes are escaped
//   and indented like their siblings (libvirt's 2-space style for built subtrees).
// - Limits (XMLParseLimits) bound depth, size, attributes and names; entities other than the
//   five predefined ones and character references are refused, never expanded or fetched.

/// A lossless XML document (libvirt domain XML, or a single device element on its own).
///
/// Parsing keeps every byte: an unedited document serializes byte-identical to its input; an
/// edited one re-emits only the edited elements' tags and child lists, everything else is
/// copied from the original bytes. No libxml2: the parser is pure Swift over UTF-8 bytes.
///
/// A DOCTYPE without internal subset is kept verbatim and never fetched; an internal subset or
/// any `<!ENTITY` is refused (`XMLParseError.Reason.doctypeNotAllowed` /
/// `.entityDeclarationNotAllowed`), so entities are never expanded.
public final class LosslessXMLDocument {
    let storage: SourceStorage?
    /// Offsets of the root element in `storage` (prolog before, epilog after).
    let rootStart: Int
    let rootEnd: Int

    /// The root element.
    public let root: LosslessXMLElement

    /// Parses UTF-8 text.
    public convenience init(parsing text: String, limits: XMLParseLimits = .default) throws(XMLParseError) {
        try self.init(parsing: Array(text.utf8), limits: limits)
    }

    /// Parses UTF-8 bytes (a BOM is allowed and kept).
    public init(parsing bytes: [UInt8], limits: XMLParseLimits = .default) throws(XMLParseError) {
        let storage = SourceStorage(bytes: bytes)
        let r = try XMLParser.parse(storage, limits: limits)
        self.storage = storage
        self.root = LosslessXMLElement(record: 0, in: storage)
        self.rootStart = r.rootStart
        self.rootEnd = r.rootEnd
    }

    /// A new document around `root`, serialized with libvirt's 2-space indentation and a
    /// trailing newline (as `virsh dumpxml` prints it).
    public init(root: LosslessXMLElement) {
        self.storage = nil
        self.root = root
        self.rootStart = 0
        self.rootEnd = 0
    }

    /// True when nothing in the tree was edited since parsing (always false for built documents).
    public var isUnedited: Bool {
        storage != nil && root.isParsed && !root.flags.contains(.subtreeDirty) && root._parent == nil
    }

    /// The document as UTF-8 text; byte-identical to the input when unedited.
    public func serialize() -> String {
        String(decoding: serializedBytes(), as: UTF8.self)
    }

    /// The document as UTF-8 bytes; byte-identical to the input when unedited.
    public func serializedBytes() -> [UInt8] {
        if let storage, isUnedited { return storage.bytes }
        return serializedBytes(walkingTree: false)
    }

    /// Serializes node by node. With `walkingTree: true` even unedited elements are emitted
    /// tag by tag and text by text from their spans instead of as one block — this checks that
    /// the tree covers every input byte and measures the serializer itself (benchmarks, fuzzing).
    public func serializedBytes(walkingTree: Bool) -> [UInt8] {
        var out: [UInt8] = []
        guard let storage else {
            root.write(into: &out, indent: [], walk: walkingTree)
            out.append(0x0A)
            return out
        }
        out.reserveCapacity(storage.bytes.count + 64)
        out.append(contentsOf: storage.bytes[0..<rootStart])
        root.write(into: &out, indent: [], walk: walkingTree)
        out.append(contentsOf: storage.bytes[rootEnd...])
        return out
    }

    // MARK: Canonical form

    /// A canonical rendering of the root element for comparing documents: attributes sorted by
    /// name and written with double quotes, references decoded and re-escaped uniformly, text
    /// and CDATA merged, whitespace-only text dropped where an element has element children
    /// (indentation), empty elements written as `<a></a>`. Comments and PIs are kept; the prolog
    /// (XML declaration, DOCTYPE) is not part of it.
    public func canonicalForm() -> String {
        var out: [UInt8] = []
        Self.canonical(root, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// True when both documents have the same canonical form.
    public static func canonicallyEqual(_ a: LosslessXMLDocument, _ b: LosslessXMLDocument) -> Bool {
        var x: [UInt8] = [], y: [UInt8] = []
        canonical(a.root, into: &x)
        canonical(b.root, into: &y)
        return x == y
    }

    static func canonical(_ e: LosslessXMLElement, into out: inout [UInt8]) {
        let qname = Array(e.storage.bytes[Int(e.start) + 1..<Int(e.nameEnd)])
        out.append(0x3C)
        out.append(contentsOf: qname)
        let attrs = e.attributes
            .map { (name: Array($0.name.utf8), value: $0.value) }
            .sorted { $0.name.lexicographicallyPrecedes($1.name) }
        for a in attrs {
            out.append(0x20)
            out.append(contentsOf: a.name)
            out.append(contentsOf: [0x3D, 0x22])
            appendEscapedAttribute(a.value, to: &out)
            out.append(0x22)
        }
        out.append(0x3E)
        let nodes = e.nodes
        let hasElements = nodes.contains { if case .element = $0 { true } else { false } }
        var run = ""
        var inRun = false
        func flush(_ out: inout [UInt8]) {
            if inRun && !(hasElements && run.utf8.allSatisfy(isXMLSpace)) { appendEscapedText(run, to: &out) }
            run = ""
            inRun = false
        }
        for node in nodes {
            switch node {
            case let .text(t), let .cdata(t):
                run += t
                inRun = true
            case let .element(c):
                flush(&out)
                canonical(c, into: &out)
            case let .comment(c):
                flush(&out)
                out.append(contentsOf: Array("<!--".utf8)); out.append(contentsOf: c.utf8); out.append(contentsOf: Array("-->".utf8))
            case let .processingInstruction(target, data):
                flush(&out)
                out.append(contentsOf: [0x3C, 0x3F]); out.append(contentsOf: target.utf8)
                if !data.isEmpty { out.append(0x20); out.append(contentsOf: data.utf8) }
                out.append(contentsOf: [0x3F, 0x3E])
            }
        }
        flush(&out)
        out.append(contentsOf: [0x3C, 0x2F])
        out.append(contentsOf: qname)
        out.append(0x3E)
    }
}
