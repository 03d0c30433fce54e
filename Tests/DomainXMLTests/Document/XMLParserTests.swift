import Testing
@testable import DomainXML
@testable import LosslessXML

@Suite("XML document parser")
struct XMLParserTests {
    static let sample = """
    <?xml version="1.0" encoding="UTF-8"?>
    <!-- leading comment -->
    <?virtkit hint="1"?>
    <domain type='kvm' xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0">
      <name>demo &amp; co</name>
      <description><![CDATA[a <raw> & section]]> tail</description>
      <metadata>
        <app:info xmlns:app="urn:app" app:level = "3"/>
      </metadata>
      <qemu:commandline>
        <qemu:arg value='-S'/>
      </qemu:commandline>
      <title>caf&#233; &#x1F600; &lt;x&gt; &quot;&apos;</title>
      <?pi data here?>
    </domain>
    <!-- trailing -->

    """

    @Test("all node kinds, the prolog and the epilog survive byte-identically")
    func roundTripAllKinds() throws {
        let doc = try LosslessXMLDocument(parsing: Self.sample)
        #expect(doc.serialize() == Self.sample)
        #expect(doc.serializedBytes(walkingTree: true) == Array(Self.sample.utf8))
        #expect(doc.root.name == "domain")
        #expect(doc.root.childElements.map(\.name) == ["name", "description", "metadata", "qemu:commandline", "title"])
    }

    @Test("references are decoded: predefined and numeric, in text and attributes")
    func decoding() throws {
        let doc = try LosslessXMLDocument(parsing: Self.sample)
        #expect(doc.root.firstChild(named: "name")?.text == "demo & co")
        #expect(doc.root.firstChild(named: "title")?.text == "café 😀 <x> \"'")
        #expect(doc.root.firstChild(named: "description")?.text == "a <raw> & section tail")
        let d = try LosslessXMLDocument(parsing: "<a v='&lt;&#65;&#x42;&amp;&#00000000000000000067;'/>")
        #expect(d.root.attribute("v") == "<AB&C")
    }

    @Test("attribute values are normalized and line ends in text become LF")
    func normalization() throws {
        let d = try LosslessXMLDocument(parsing: "<a v='x\ty\nz\r\nw' w='&#10;'>l1\r\nl2\rl3</a>")
        #expect(d.root.attribute("v") == "x y z w")
        #expect(d.root.attribute("w") == "\n")
        #expect(d.root.text == "l1\nl2\nl3")
        #expect(d.serialize() == "<a v='x\ty\nz\r\nw' w='&#10;'>l1\r\nl2\rl3</a>")
    }

    @Test("names, prefixes and namespaces")
    func namespaces() throws {
        let doc = try LosslessXMLDocument(parsing: Self.sample)
        let cmd = try #require(doc.root.firstChild(named: "qemu:commandline"))
        #expect(cmd.prefix == "qemu")
        #expect(cmd.localName == "commandline")
        #expect(cmd.namespaceURI == "http://libvirt.org/schemas/domain/qemu/1.0")
        #expect(cmd.firstChild(named: "qemu:arg")?.attribute("value") == "-S")
        let info = try #require(doc.root.firstChild(named: "metadata")?.firstChild(named: "app:info"))
        #expect(info.namespaceURI == "urn:app")
        #expect(info.attributeNames == ["xmlns:app", "app:level"])
        #expect(info.attribute("app:level") == "3")
        #expect(doc.root.prefix == nil && doc.root.namespaceURI == nil)
        #expect(info.parent?.name == "metadata")
        #expect(doc.root.parent == nil)
    }

    @Test("nodes lists every child in order, decoded")
    func nodeList() throws {
        let d = try LosslessXMLDocument(parsing: "<a>x<!--c--><b/><![CDATA[<d>]]><?t  data?>&lt;</a>")
        let kinds: [String] = d.root.nodes.map {
            switch $0 {
            case let .text(t): "text:\(t)"
            case let .cdata(t): "cdata:\(t)"
            case let .comment(t): "comment:\(t)"
            case let .element(e): "element:\(e.name)"
            case let .processingInstruction(t, data): "pi:\(t)|\(data)"
            }
        }
        #expect(kinds == ["text:x", "comment:c", "element:b", "cdata:<d>", "pi:t|data", "text:<"])
        #expect(d.root.text == "x<d><")
    }

    @Test("a BOM, a plain DOCTYPE and whitespace are kept; the DOCTYPE is not resolved")
    func prologPassthrough() throws {
        let text = "\u{FEFF}<?xml version='1.0'?>\n<!DOCTYPE domain SYSTEM \"http://example.invalid/x>y.dtd\">\n<domain/>\n"
        let doc = try LosslessXMLDocument(parsing: text)
        #expect(doc.serialize() == text)
        #expect(doc.root.name == "domain")
    }

    @Test("a single device element is a document of its own")
    func deviceDocument() throws {
        let disk = "<disk type='file' device='disk'>\n  <source file='/x.img'/>\n  <target dev='vda' bus='virtio'/>\n</disk>"
        let doc = try LosslessXMLDocument(parsing: disk)
        #expect(doc.root.name == "disk")
        #expect(doc.root.firstChild(named: "target")?.attribute("dev") == "vda")
        #expect(doc.serialize() == disk)
    }

    @Test("element lookup and absent values")
    func lookups() throws {
        let d = try LosslessXMLDocument(parsing: "<a><b i='1'/><c/><b i='2'></b></a>")
        #expect(d.root.children(named: "b").map { $0.attribute("i") } == ["1", "2"])
        #expect(d.root.firstChild(named: "x") == nil)
        #expect(d.root.child(named: "x", create: false) == nil)
        #expect(d.root.attribute("nope") == nil)
        #expect(d.root.firstChild(named: "c")?.text == nil)
        #expect(d.root.children(named: "b")[1].text == nil)
        #expect(try LosslessXMLDocument(parsing: "<a></a>").root.text == nil)
        #expect(try LosslessXMLDocument(parsing: "<a> </a>").root.text == " ")
    }

    @Test("elements know where they were in the input")
    func sourcePositions() throws {
        let d = try LosslessXMLDocument(parsing: "<a>\n  <b/>\n\t<c>x</c></a>")
        #expect(d.root.sourcePosition?.line == 1)
        let b = try #require(d.root.firstChild(named: "b")?.sourcePosition)
        #expect(b.line == 2 && b.column == 3 && b.offset == 6)
        let c = try #require(d.root.firstChild(named: "c")?.sourcePosition)
        #expect(c.line == 3 && c.column == 2)
        #expect(LosslessXMLElement(name: "x").sourcePosition == nil)
    }

    // MARK: Errors with positions

    @Test("mismatched tag reports both names and the position of the end tag")
    func mismatchedTag() {
        let e = parseError("<domain>\n  <name>x</nam>\n</domain>")
        #expect(e?.reason == .mismatchedTag(expected: "name", found: "nam"))
        #expect(e?.line == 2)
        #expect(e?.column == 12)
        #expect(e?.offset == 20)
    }

    @Test("malformed constructs give typed reasons with line and column", arguments: [
        ("<a b='1' b='2'/>", XMLParseError.Reason.duplicateAttribute("b"), 1, 10),
        ("<a>\n&foo;</a>", .undefinedEntity("foo"), 2, 1),
        ("<a>&#0;</a>", .invalidCharacterReference("#0"), 1, 4),
        ("<a>&#xD800;</a>", .invalidCharacterReference("#xD800"), 1, 4),
        ("<a>&#99999999999;</a>", .invalidCharacterReference("#99999999999"), 1, 4),
        ("<a>\u{01}</a>", .invalidCharacter(1), 1, 4),
        ("<a x='\u{0B}'/>", .invalidCharacter(0x0B), 1, 7),
        ("<a><!-- x -- y --></a>", .doubleHyphenInComment, 1, 11),
        ("<a>x]]>y</a>", .cdataEndInText, 1, 5),
        ("", .missingRootElement, 1, 1),
        ("  \n ", .missingRootElement, 2, 2),
        ("text<a/>", .textOutsideRootElement, 1, 1),
        ("<a/>x", .textOutsideRootElement, 1, 5),
        ("<a/><b/>", .multipleRootElements, 1, 5),
        ("<?xml version='1.0' encoding='ISO-8859-1'?><a/>", .unsupportedEncoding("ISO-8859-1"), 1, 31),
        ("<?xml encoding='UTF-8'?><a/>", .invalidXMLDeclaration, 1, 7),
        ("<a><?xml version='1.0'?></a>", .reservedProcessingInstructionTarget("xml"), 1, 4),
        ("<!DOCTYPE a [<!ELEMENT a ANY>]><a/>", .doctypeNotAllowed, 1, 13),
        ("<a><!DOCTYPE a></a>", .doctypeNotAllowed, 1, 4),
        ("<!DOCTYPE a><!DOCTYPE a><a/>", .doctypeNotAllowed, 1, 13),
        ("<a><!ENTITY x 'y'></a>", .entityDeclarationNotAllowed, 1, 4),
    ] as [(String, XMLParseError.Reason, Int, Int)])
    func reasons(input: String, reason: XMLParseError.Reason, line: Int, column: Int) {
        let e = parseError(input)
        #expect(e?.reason == reason, "\(input)")
        #expect(e?.line == line, "\(input)")
        #expect(e?.column == column, "\(input)")
    }

    @Test("unexpected characters name what was found and what was expected", arguments: [
        "<a b=1/>", "<a b/>", "<a b='1'c='2'/>", "<1a/>", "<a>< b/></a>", "<a x='<'/>", "<a/ >", "</a>", "<a></ a>",
        "<!x><a/>", "<a><!x></a>", "<a>&;</a>", "<a>& b;</a>",
    ])
    func unexpectedCharacters(input: String) {
        let e = parseError(input)
        guard case .unexpectedCharacter? = e?.reason else {
            Issue.record("\(input): \(String(describing: e))")
            return
        }
        #expect(e!.description.contains("line 1"))
    }

    @Test("errors are CustomStringConvertible with line, column and reason")
    func errorDescription() {
        let e = parseError("<a>\n  <b></c></a>")
        #expect(e?.description == "XML error at line 2, column 8 (offset 11): end tag </c> does not match <b>")
    }
}
