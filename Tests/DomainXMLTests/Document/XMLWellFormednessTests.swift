import Testing
@testable import LosslessXML

/// Issue #18: documents that are not well-formed XML 1.0 (and that libxml2 refuses) are typed
/// errors; their well-formed neighbours still parse.
@Suite("XML 1.0 well-formedness edge cases")
struct XMLWellFormednessTests {
    @Test(arguments: [
        "<?xml version='1.0x'?><a/>",
        "<?xml version='1.'?><a/>",
        "<?xml version='2.0'?><a/>",
        "<!DOCTYPE domain SYSTEM><domain/>",
        "<!DOCTYPE domain SYSTEM 'a' 'b'><domain/>",
        "<!DOCTYPE domain PUBLIC 'p'><domain/>",
        "<!DOCTYPE domain junk><domain/>",
        "<\u{B7}a/>",
        "<a\u{D7}b/>",
        "<a b\u{D7}='1'/>",
        "<?foo?bar?><a/>",
        "<a><?foo?bar?></a>",
    ])
    func refused(_ text: String) {
        #expect(parseError(text) != nil, "parsed: \(text)")
    }

    @Test(arguments: [
        "<?xml version='1.0'?><a/>",
        "<?xml version='1.1'?><a/>",
        "<!DOCTYPE domain><domain/>",
        "<!DOCTYPE domain SYSTEM 'x.dtd'><domain/>",
        "<!DOCTYPE domain PUBLIC 'p' \"x.dtd\" ><domain/>",
        "<a\u{B7}b/>",
        "<\u{E9}l\u{E8}ve/>",
        "<a x\u{300}='1'/>",
        "<?foo bar?><a/>",
        "<?foo?><a/>",
    ])
    func accepted(_ text: String) throws {
        let doc = try LosslessXMLDocument(parsing: text)
        #expect(doc.serialize() == text)
    }
}
