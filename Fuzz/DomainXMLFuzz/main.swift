// libFuzzer entry for the XML modules: the LosslessXML document layer and, for every libvirt
// document kind (domain, capabilities, network, pool, …), its typed views. Built by
// Scripts/fuzz-domainxml.sh against VirtCore, LosslessXML, DomainXML and LibvirtXML compiled
// with the fuzzer and ASan (outside Sources/, so SwiftPM never builds it). A crash, an ASan
// report or a trap here is a finding: the parser must either throw a typed error or produce
// a tree that serializes back to exactly the input bytes, whose canonical form is stable,
// whose typed read-write pass changes nothing, and that survives an edit and re-parses.
@testable import LosslessXML
import DomainXML
import LibvirtXML

@_cdecl("LLVMFuzzerTestOneInput")
public func domainXMLFuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let doc: LosslessXMLDocument
    do {
        doc = try LosslessXMLDocument(parsing: bytes)
    } catch {
        // Typed error: the position must lie inside the input (or at its end).
        precondition(error.offset >= 0 && error.offset <= bytes.count && error.line >= 1 && error.column >= 1,
                     "error position out of range: \(error)")
        return 0
    }
    precondition(doc.serializedBytes() == bytes, "unedited serialize is not byte-identical")
    precondition(doc.serializedBytes(walkingTree: true) == bytes, "node-by-node serialize is not byte-identical")
    // Read every value through the public API.
    var stack = [doc.root]
    var count = 0
    while let e = stack.popLast(), count < 10_000 {
        count += 1
        _ = e.name; _ = e.localName; _ = e.prefix; _ = e.text; _ = e.nodes
        for n in e.attributeNames { _ = e.attribute(n) }
        stack.append(contentsOf: e.childElements)
    }
    let canonical = doc.canonicalForm()
    guard let reparsed = try? LosslessXMLDocument(parsing: canonical) else {
        preconditionFailure("canonical form does not parse")
    }
    precondition(reparsed.canonicalForm() == canonical, "canonical form is not stable")
    typedPass(doc, bytes: bytes, canonical: canonical)
    // Edit: the result must parse again and carry the edit; the rest stays canonical-equal.
    let targetIsRoot = doc.root.childElements.isEmpty
    let target = doc.root.childElements.first ?? doc.root
    // One more attribute must stay within the default attribute limit to re-parse.
    guard target.attributeNames.count < XMLParseLimits.default.maxAttributes else { return 0 }
    target.setAttribute("fuzz", "<&'\"\n>")
    // Only the start tag of `target` may differ from the input.
    let afterAttr = doc.serializedBytes()
    let s = Int(target.start), e = Int(target.startTagEnd)
    precondition(afterAttr.count >= s + (bytes.count - e) && Array(afterAttr[..<s]) == Array(bytes[..<s])
                 && Array(afterAttr[(afterAttr.count - (bytes.count - e))...]) == Array(bytes[e...]),
                 "attribute edit changed bytes outside the start tag")
    let hadContent = target.storedNodes.contains { target.whitespace($0) == nil }
    let child = target.appendChild(LosslessXMLElement(name: "fuzzchild", attributes: [("a", "1")], text: "t&"))
    if hadContent {
        // Appending then removing is exactly undone when the element had content to align to.
        target.removeChild(child)
        precondition(doc.serializedBytes() == afterAttr, "append + remove is not the identity")
        target.appendChild(child)
    }
    let edited = doc.serializedBytes()
    guard let re = try? LosslessXMLDocument(parsing: edited) else {
        preconditionFailure("edited document does not parse")
    }
    let reTarget = targetIsRoot ? re.root : re.root.childElements.first
    precondition(reTarget?.attribute("fuzz") == "<&'\"\n>", "edited attribute lost")
    precondition(reTarget?.children(named: "fuzzchild").last?.text == "t&", "appended child lost")
    return 0
}

/// The typed layer on whatever kind the root names (domain, network, pool, …; `<domain>` goes
/// through DomainDefinition): validate, coverage and the read-write pass must not trap, and
/// writing every readable value back must leave the canonical form and the bytes unchanged.
func typedPass(_ doc: LosslessXMLDocument, bytes: [UInt8], canonical: String) {
    guard let view = LibvirtDocumentKind.typedView(of: doc) else { return }
    _ = view.validate()
    _ = view.coverage()
    _ = view.rewriteModeledProperties()
    precondition(doc.canonicalForm() == canonical, "typed read-write changed the canonical form")
    precondition(doc.serializedBytes() == bytes, "typed read-write changed the bytes")
    if let capabilities = view as? HostCapabilities { _ = try? capabilities.hostTopology() }
}
