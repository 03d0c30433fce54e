import Testing
@testable import DomainXML
@testable import LosslessXML
import VirtKitTestSupport

/// Hostile and broken input: every case must end in a typed error (or a correct parse),
/// never a crash, a hang or unbounded memory.
@Suite("XML document hostile input", .offCooperativePool)
struct XMLHostileInputTests {
    static let sampleDoc = """
    <?xml version="1.0"?>
    <domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
      <name>t&amp;st</name>
      <!-- c -->
      <memory unit="KiB">1048576</memory>
      <description><![CDATA[x]]></description>
      <devices>
        <disk type='file' device='disk'><source file='/a b.img'/></disk>
        <?pi x?>
      </devices>
      <qemu:commandline><qemu:arg value='&#233;'/></qemu:commandline>
    </domain>

    """

    @Test("nesting deeper than the limit fails with depthLimitExceeded (100k levels, no stack overflow)")
    func deepNesting() {
        let depth = 100_000
        let text = String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth)
        let e = parseError(text)
        #expect(e?.reason == .depthLimitExceeded(256))
        #expect(e?.offset == 256 * 3)
        // Exactly at the limit is fine; one more is not.
        let ok = String(repeating: "<a>", count: 256) + String(repeating: "</a>", count: 256)
        #expect(parseError(ok) == nil)
        let selfClosing = String(repeating: "<a>", count: 256) + "<b/>" + String(repeating: "</a>", count: 256)
        #expect(parseError(selfClosing)?.reason == .depthLimitExceeded(256))
        var custom = XMLParseLimits()
        custom.maxDepth = 10
        #expect(parseError(String(repeating: "<a>", count: 11), limits: custom)?.reason == .depthLimitExceeded(10))
        // A huge requested depth is clamped to the hard ceiling.
        custom.maxDepth = Int.max
        #expect(parseError(text, limits: custom)?.reason == .depthLimitExceeded(XMLParseLimits.hardMaxDepth))
    }

    @Test("a 16 MiB attribute value parses in linear time and decodes exactly")
    func hugeAttribute() throws {
        let big = String(repeating: "x&amp;", count: 16 << 18) // 6 bytes × 4 Mi
        let doc = try LosslessXMLDocument(parsing: "<a v='\(big)'/>")
        #expect(doc.root.attribute("v")?.utf8.count == 2 * (16 << 18))
        #expect(doc.serializedBytes().count == big.utf8.count + 9)
    }

    @Test("size, attribute-count and name-length limits")
    func limits() {
        var l = XMLParseLimits()
        l.maxDocumentBytes = 100
        #expect(parseError("<a>" + String(repeating: " ", count: 100) + "</a>", limits: l)?.reason == .sizeLimitExceeded(100))
        l = XMLParseLimits()
        l.maxAttributes = 3
        #expect(parseError("<a a='1' b='2' c='3'/>", limits: l) == nil)
        #expect(parseError("<a a='1' b='2' c='3' d='4'/>", limits: l)?.reason == .attributeLimitExceeded(3))
        l = XMLParseLimits()
        l.maxNameLength = 8
        #expect(parseError("<abcdefgh/>", limits: l) == nil)
        #expect(parseError("<abcdefghi/>", limits: l)?.reason == .nameTooLong(8))
        #expect(parseError("<a abcdefghi='1'/>", limits: l)?.reason == .nameTooLong(8))
    }

    @Test("attribute floods: 4096 distinct attributes parse, a duplicate among them is found")
    func attributeFlood() throws {
        let attrs = (0..<4096).map { " a\($0)='\($0)'" }.joined()
        let doc = try LosslessXMLDocument(parsing: "<a\(attrs)/>")
        #expect(doc.root.attributeNames.count == 4096)
        #expect(doc.root.attribute("a4095") == "4095")
        let fewer = (0..<4000).map { " a\($0)='\($0)'" }.joined()
        #expect(parseError("<a\(fewer) a17='x'/>")?.reason == .duplicateAttribute("a17"))
        #expect(parseError("<a\(attrs) b='1'/>")?.reason == .attributeLimitExceeded(4096))
    }

    @Test("entity declarations and billion laughs are refused without expansion")
    func billionLaughs() {
        let lol = """
        <?xml version="1.0"?>
        <!DOCTYPE lolz [
         <!ENTITY lol "lol">
         <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
         <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
        ]>
        <lolz>&lol3;</lolz>
        """
        let e = parseError(lol)
        #expect(e?.reason == .entityDeclarationNotAllowed)
        #expect(e?.line == 3)
        #expect(e?.column == 2)
        let xxe = "<!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><d>&x;</d>"
        #expect(parseError(xxe)?.reason == .entityDeclarationNotAllowed)
        #expect(parseError("<d>&x;</d>")?.reason == .undefinedEntity("x"))
        #expect(parseError("<!DOCTYPE d SYSTEM 'file:///etc/passwd'><d>&x;</d>")?.reason == .undefinedEntity("x"))
        let pe = "<!DOCTYPE d [<!ENTITY % p SYSTEM 'http://x/'> %p;]><d/>"
        #expect(parseError(pe)?.reason == .entityDeclarationNotAllowed)
    }

    @Test("invalid UTF-8 is a typed error at the offending byte", arguments: [
        ([0xC0, 0x80], "overlong NUL"),
        ([0xE0, 0x80, 0x80], "overlong 3-byte"),
        ([0xED, 0xA0, 0x80], "UTF-16 surrogate"),
        ([0xF4, 0x90, 0x80, 0x80], "above U+10FFFF"),
        ([0xF8, 0x88, 0x80, 0x80, 0x80], "5-byte form"),
        ([0x80], "lone continuation"),
        ([0xC3], "truncated sequence at the end"),
        ([0xE2, 0x82, 0x41], "bad continuation"),
        ([0xFF], "0xFF"),
    ] as [([UInt8], String)])
    func invalidUTF8(bad: [UInt8], label: String) {
        for (prefix, suffix) in [("<a>\n  x", "</a>"), ("<a v='", "'/>"), ("<", "/>")] {
            let bytes = Array(prefix.utf8) + bad + Array(suffix.utf8)
            let e = parseError(bytes)
            #expect(e?.reason == .invalidUTF8, "\(label) in \(prefix)")
            #expect(e?.offset == prefix.utf8.count, "\(label) in \(prefix)")
        }
        #expect(parseError([0x3C, 0x61, 0x3E, 0xEF, 0xBF, 0xBF, 0x3C, 0x2F, 0x61, 0x3E])?.reason == .invalidCharacter(0xFFFF))
    }

    @Test("valid multi-byte UTF-8 in names, attributes and text")
    func validUTF8() throws {
        let text = "<données clé='värde 日本 😀'>texte é 😀</données>"
        let doc = try LosslessXMLDocument(parsing: text)
        #expect(doc.root.name == "données")
        #expect(doc.root.attribute("clé") == "värde 日本 😀")
        #expect(doc.root.text == "texte é 😀")
        #expect(doc.serialize() == text)
    }

    @Test("every truncation of a sample document is a typed error at or before the cut")
    func truncationAtEveryPrefix() {
        let bytes = Array(Self.sampleDoc.utf8)
        // The whole document parses; the root element ends at the closing '>'.
        #expect(parseOrNil(bytes) != nil)
        let rootEnd = bytes.count - 1 // trailing newline
        var errors = 0
        for cut in 0..<rootEnd {
            let prefix = Array(bytes[..<cut])
            guard let e = parseError(prefix) else {
                Issue.record("prefix of \(cut) bytes parsed")
                continue
            }
            #expect(e.offset <= cut)
            #expect(e.line >= 1 && e.column >= 1)
            // Cuts inside the root report truncation at the end of input.
            if cut > 23 && !(prefix.last.map { $0 >= 0x80 } ?? false) {
                #expect(e.reason == .unexpectedEnd, "cut at \(cut): \(e)")
                #expect(e.offset == cut)
            }
            errors += 1
        }
        #expect(errors == rootEnd)
    }

    @Test("truncated corpus documents: every prefix ends in a typed error")
    func truncationOfCorpusDocument() throws {
        guard let corpus = DocCorpus.load() else { return }
        var cuts = 0
        for (name, bytes) in corpus.prefix(3) {
            let end = (bytes.lastIndex(of: 0x3E) ?? bytes.count)
            for cut in stride(from: 0, to: end, by: 1) {
                #expect(parseError(Array(bytes[..<cut])) != nil, "\(name) cut at \(cut) parsed")
                cuts += 1
            }
        }
        // Three documents of a few hundred bytes at least: an empty corpus cuts nothing.
        #expect(cuts > 600)
    }

    @Test("random byte mutations of a sample never crash and round-trip when they parse")
    func mutations() {
        var rng = SplitMix64(seed: 0x5EED)
        let base = Array(Self.sampleDoc.utf8)
        let alphabet: [UInt8] = Array("<>/='\"&;#x![]-?: \n\tabcCDATA".utf8) + [0x00, 0x80, 0xC3, 0xFF]
        var parsed = 0
        for _ in 0..<20_000 {
            var b = base
            for _ in 0..<Int(rng.next() % 4 + 1) {
                let pos = Int(rng.next() % UInt64(b.count))
                switch rng.next() % 3 {
                case 0: b[pos] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: b.remove(at: pos)
                default: b.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: pos)
                }
            }
            if let doc = parseOrNil(b) {
                parsed += 1
                #expect(doc.serializedBytes() == b)
                #expect(doc.serializedBytes(walkingTree: true) == b)
                _ = doc.canonicalForm()
            }
        }
        #expect(parsed > 100)
    }
}

/// Small deterministic PRNG for reproducible mutation tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
