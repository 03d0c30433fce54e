import Foundation
import Testing
@testable import DomainXML
@testable import LosslessXML

/// The hostile fixtures that also seed the fuzzer (Tests/DomainXMLTests/Fixtures/hostile).
@Suite("XML document hostile fixtures")
struct XMLFixtureTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/hostile/\(name)").standardizedFileURL
        return try #require(FileManager.default.contents(atPath: url.path).map { [UInt8]($0) }, "missing \(url.path)")
    }

    @Test("each fixture gives its typed error, with position", arguments: [
        ("billion-laughs.xml", XMLParseError.Reason.entityDeclarationNotAllowed, 2, 2),
        ("surrogate.xml", .invalidUTF8, 1, 4),
        ("duplicate-attribute.xml", .duplicateAttribute("x"), 1, 10),
        ("truncated.xml", .unexpectedEnd, 1, 52),
    ] as [(String, XMLParseError.Reason, Int, Int)])
    func typedErrors(name: String, reason: XMLParseError.Reason, line: Int, column: Int) throws {
        let e = parseError(try Self.fixture(name))
        #expect(e?.reason == reason)
        #expect(e?.line == line)
        #expect(e?.column == column)
    }

    @Test("the all-constructs fixture parses and round-trips")
    func allConstructs() throws {
        let bytes = try Self.fixture("all-constructs.xml")
        let doc = try LosslessXMLDocument(parsing: bytes)
        #expect(doc.serializedBytes() == bytes)
        #expect(doc.serializedBytes(walkingTree: true) == bytes)
        #expect(doc.root.firstChild(named: "name")?.text == "a&bé😀")
        #expect(doc.root.firstChild(named: "qemu:commandline")?.namespaceURI == "http://libvirt.org/schemas/domain/qemu/1.0")
    }
}
