import Testing
@testable import DomainXML
@testable import LosslessXML
import VirtKitTestSupport

/// Conformance over the 1,070 documents of libvirt 9.0.0's domain XML test suite
/// ($VIRTKIT_CORPUS/libvirt-9.0.0/domainxml), used in place.
@Suite("XML document corpus conformance", .offCooperativePool)
struct XMLCorpusConformanceTests {
    @Test("every corpus document parses and round-trips byte-identically (block and node-by-node)")
    func corpusRoundTrip() throws {
        guard let corpus = DocCorpus.load() else { return }
        #expect(corpus.count >= 1000, "expected the full corpus, found \(corpus.count) files")
        var parsed = 0, identical = 0, walked = 0
        for (name, bytes) in corpus {
            let doc: LosslessXMLDocument
            do { doc = try LosslessXMLDocument(parsing: bytes) } catch {
                Issue.record("\(name): \(error)")
                continue
            }
            parsed += 1
            if doc.serializedBytes() == bytes && doc.serialize() == bytes.utf8String { identical += 1 } else {
                Issue.record("\(name): serialize() is not byte-identical")
            }
            // Emitting every tag, text and comment from its own span must also reproduce the
            // input exactly: the tree accounts for every byte.
            if doc.serializedBytes(walkingTree: true) == bytes { walked += 1 } else {
                Issue.record("\(name): node-by-node serialization is not byte-identical")
            }
        }
        #expect(parsed == corpus.count)
        #expect(identical == corpus.count)
        #expect(walked == corpus.count)
    }

    @Test("each corpus element alone parses as a document and round-trips")
    func elementsAsDocuments() throws {
        guard let corpus = DocCorpus.load() else { return }
        var checked = 0
        for (name, bytes) in corpus.prefix(200) {
            guard let doc = parseOrNil(bytes) else { Issue.record("\(name) did not parse"); continue }
            for device in doc.root.firstChild(named: "devices")?.childElements ?? [] {
                let xml = device.serialize()
                let alone = try LosslessXMLDocument(parsing: xml)
                #expect(alone.serialize() == xml)
                #expect(alone.root.name == device.name)
                #expect(alone.root.attributeNames == device.attributeNames)
                checked += 1
            }
        }
        #expect(checked > 1000)
    }

    @Test("decoded values agree with the reference decoder for every attribute and text in the corpus")
    func decodedValuesAreSane() throws {
        guard let corpus = DocCorpus.load() else { return }
        var attributes = 0
        for (name, bytes) in corpus {
            guard let doc = parseOrNil(bytes) else { Issue.record("\(name) did not parse"); continue }
            for e in allElements(doc.root) {
                attributes += e.attributeNames.count
                for a in e.attributeNames {
                    guard let v = e.attribute(a) else { Issue.record("\(name): \(e.name)@\(a) lost"); continue }
                    #expect(!v.contains("&amp;") && !v.contains("&apos;") && !v.contains("&quot;"), "\(name): \(a)=\(v) not decoded")
                }
                if let t = e.text { #expect(!t.contains("&amp;") && !t.contains("&lt;"), "\(name): text not decoded") }
            }
        }
        // The corpus holds 37,155 attributes: a pass over an empty or truncated corpus fails.
        #expect(attributes > 35_000)
    }

    @Test("corpus documents are canonically equal to themselves and to a re-indented copy")
    func canonicalSelfEquality() throws {
        guard let corpus = DocCorpus.load() else { return }
        var compared = 0
        for (name, bytes) in corpus {
            guard let doc = parseOrNil(bytes) else { Issue.record("\(name) did not parse"); continue }
            // Same document with every indentation collapsed and attributes reversed must be equal.
            let flat = LosslessXMLElement(name: doc.root.name)
            copy(doc.root, into: flat)
            let rebuilt = try LosslessXMLDocument(parsing: LosslessXMLDocument(root: flat).serialize())
            #expect(LosslessXMLDocument.canonicallyEqual(doc, rebuilt), "\(name): rebuilt copy is not canonically equal")
            compared += 1
        }
        #expect(compared == corpus.count)
    }

    /// Deep copy through the public builder API with attributes in reverse order and
    /// whitespace-only text dropped when the element has element children.
    func copy(_ from: LosslessXMLElement, into to: LosslessXMLElement) {
        for (n, v) in from.attributes.reversed() { to.setAttribute(n, v) }
        let hasElements = !from.childElements.isEmpty
        if !hasElements {
            if let t = from.text { to.text = t }
            return
        }
        for node in from.nodes {
            if case let .element(c) = node {
                let nc = LosslessXMLElement(name: c.name)
                copy(c, into: nc)
                to.appendChild(nc)
            } else if case let .comment(c) = node {
                to.appendComment(c)
            }
        }
    }

    @Test("setting an attribute on a corpus document changes only that start tag")
    func editAttributeIsLocal() throws {
        guard let corpus = DocCorpus.load() else { return }
        var edits = 0
        for (name, bytes) in corpus {
            guard let doc = parseOrNil(bytes) else { Issue.record("\(name) did not parse"); continue }
            let elements = allElements(doc.root)
            // Deterministic pick: an element with attributes (or the root), varying per file.
            let withAttrs = elements.filter { !$0.attributeNames.isEmpty }
            guard !withAttrs.isEmpty else { continue }
            let target = withAttrs[bytes.count % withAttrs.count]
            let attr = target.attributeNames[0]
            target.setAttribute(attr, "v<&>'\"")
            let out = doc.serializedBytes()
            // Expected: original bytes with only the value of that attribute replaced (escaped,
            // same quote) — every other byte, including the rest of the start tag, unchanged.
            let spans = doc.root.storage.attrs
            let span = spans[Int(target.attrFirst)]
            let q = bytes[Int(span.valueEnd)]
            #expect(q == 0x27 || q == 0x22)
            let expected = Array(bytes[..<Int(span.valueStart)]) + Array("v&lt;&amp;&gt;&apos;&quot;".utf8) + Array(bytes[Int(span.valueEnd)...])
            #expect(out == expected, "\(name): attribute edit changed more than the value")
            #expect(try LosslessXMLDocument(parsing: out).serializedBytes() == out)
            #expect(try LosslessXMLDocument(parsing: out).root.children(named: "devices").count == doc.root.children(named: "devices").count)
            // Round-trip of the edited value through a re-parse.
            let re = try LosslessXMLDocument(parsing: out)
            let reTarget = allElements(re.root)[elements.firstIndex { $0 === target }!]
            #expect(reTarget.attribute(attr) == "v<&>'\"")
            edits += 1
        }
        #expect(edits > 1000)
    }

    @Test("appending and removing a device on corpus documents touches only that region")
    func addRemoveChildIsLocal() throws {
        guard let corpus = DocCorpus.load() else { return }
        var checked = 0
        for (name, bytes) in corpus {
            guard let doc = parseOrNil(bytes), let devices = doc.root.firstChild(named: "devices") else { continue }
            let kids = devices.childElements
            guard let last = kids.last, kids.count >= 2 else { continue }
            // Append: inserted right after the last device, with the whitespace that precedes it.
            let ns = devices.storedNodes
            guard let li = ns.firstIndex(where: { if case let .element(e) = $0 { e === last } else { false } }),
                  li > 0, case let .text(ws0, ws1) = ns[li - 1] else { continue }
            let ws = Array(bytes[Int(ws0)..<Int(ws1)])
            let rng = LosslessXMLElement(name: "rng", attributes: [("model", "virtio")])
            rng.appendChild(LosslessXMLElement(name: "backend", attributes: [("model", "random")], text: "/dev/urandom"))
            devices.appendChild(rng)
            let indent = Array(ws[(ws.lastIndex(of: 0x0A)! + 1)...]).utf8String
            let inserted = ws.utf8String + "<rng model='virtio'>\n\(indent)  <backend model='random'>/dev/urandom</backend>\n\(indent)</rng>"
            let expectedAdd = Array(bytes[..<Int(last.end)]) + Array(inserted.utf8) + Array(bytes[Int(last.end)...])
            #expect(doc.serializedBytes() == expectedAdd, "\(name): append changed more than the inserted device")
            // Remove the first device: its element and the indentation before it disappear.
            devices.removeChild(rng)
            #expect(doc.serializedBytes() == bytes, "\(name): append+remove is not the original")
            let first = kids[0]
            let fi = devices.storedNodes.firstIndex(where: { if case let .element(e) = $0 { e === first } else { false } })!
            guard fi > 0, case let .text(fws, _) = devices.storedNodes[fi - 1] else { continue }
            devices.removeChild(first)
            let expectedRemove = Array(bytes[..<Int(fws)]) + Array(bytes[Int(first.end)...])
            #expect(doc.serializedBytes() == expectedRemove, "\(name): remove changed more than the device")
            #expect(first.parent == nil)
            #expect(try LosslessXMLDocument(parsing: doc.serializedBytes()).root.firstChild(named: "devices")!.childElements.count == kids.count - 1)
            checked += 1
        }
        #expect(checked > 500)
    }
}
