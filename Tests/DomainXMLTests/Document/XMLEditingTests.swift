import Testing
@testable import DomainXML
@testable import LosslessXML

@Suite("XML document editing and building")
struct XMLEditingTests {
    static let domain = """
    <domain type='kvm'>
      <name>vm1</name>
      <vcpu placement="static" cpuset = "0-3" >4</vcpu>
      <cputune/>
      <devices>
        <disk type='file'/>
        <!-- the NIC -->
        <interface type='user'/>
      </devices>
    </domain>

    """

    func doc() throws -> LosslessXMLDocument { try LosslessXMLDocument(parsing: Self.domain) }

    @Test("setAttribute keeps position, spacing and quote style; new attributes append")
    func setAttribute() throws {
        let d = try doc()
        let vcpu = try #require(d.root.firstChild(named: "vcpu"))
        vcpu.setAttribute("cpuset", "0-7")
        #expect(d.serialize() == Self.domain.replacingOccurrences(of: "cpuset = \"0-3\"", with: "cpuset = \"0-7\""))
        vcpu.setAttribute("current", "2")
        #expect(d.serialize().contains("<vcpu placement=\"static\" cpuset = \"0-7\" current=\"2\" >4</vcpu>"))
        vcpu.setAttribute("placement", nil)
        #expect(d.serialize().contains("<vcpu cpuset = \"0-7\" current=\"2\" >4</vcpu>"))
        #expect(vcpu.attributeNames == ["cpuset", "current"])
        #expect(vcpu.attribute("current") == "2")
        #expect(vcpu.attribute("placement") == nil)
        // Everything outside the start tag is untouched.
        let lines = d.serialize().split(separator: "\n", omittingEmptySubsequences: false)
        let orig = Self.domain.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == orig.count)
        #expect(zip(lines, orig).filter { $0 != $1 }.count == 1)
    }

    @Test("setting an attribute to its current value leaves the document unedited")
    func noOpEdit() throws {
        let d = try doc()
        d.root.setAttribute("type", "kvm")
        d.root.firstChild(named: "name")?.text = "vm1"
        #expect(d.isUnedited)
        d.root.setAttribute("type", "qemu")
        #expect(!d.isUnedited)
        #expect(d.serialize() == Self.domain.replacingOccurrences(of: "type='kvm'", with: "type='qemu'"))
    }

    @Test("attribute values are escaped for the quote in use")
    func escaping() throws {
        let d = try doc()
        d.root.firstChild(named: "vcpu")?.setAttribute("cpuset", "a\"b'c<&>\n")
        d.root.setAttribute("x", "'")
        let out = d.serialize()
        #expect(out.contains("cpuset = \"a&quot;b&apos;c&lt;&amp;&gt;&#10;\""))
        #expect(out.contains("<domain type='kvm' x='&apos;'>"))
        let re = try LosslessXMLDocument(parsing: out)
        #expect(re.root.firstChild(named: "vcpu")?.attribute("cpuset") == "a\"b'c<&>\n")
    }

    @Test("appendChild indents like the siblings")
    func appendIndentsLikeSiblings() throws {
        let d = try doc()
        let devices = try #require(d.root.firstChild(named: "devices"))
        devices.appendChild(LosslessXMLElement(name: "memballoon", attributes: [("model", "none")]))
        let expected = Self.domain.replacingOccurrences(
            of: "<interface type='user'/>\n",
            with: "<interface type='user'/>\n    <memballoon model='none'/>\n")
        #expect(d.serialize() == expected)
    }

    @Test("appendChild into a self-closing element opens it and indents one level deeper")
    func appendIntoEmpty() throws {
        let d = try doc()
        let cputune = try #require(d.root.firstChild(named: "cputune"))
        let pin = LosslessXMLElement(name: "vcpupin", attributes: [("vcpu", "0"), ("cpuset", "1")])
        cputune.appendChild(pin)
        cputune.appendChild(LosslessXMLElement(name: "emulatorpin", attributes: [("cpuset", "2-3")]))
        let expected = Self.domain.replacingOccurrences(
            of: "  <cputune/>\n",
            with: "  <cputune>\n    <vcpupin vcpu='0' cpuset='1'/>\n    <emulatorpin cpuset='2-3'/>\n  </cputune>\n")
        #expect(d.serialize() == expected)
        #expect(pin.parent === cputune)
        #expect(d.root.child(named: "cputune", create: true) === cputune)
    }

    @Test("built subtrees are indented at their position, two spaces per level")
    func builtSubtree() throws {
        let d = try doc()
        let numa = LosslessXMLElement(name: "numatune")
        let mem = LosslessXMLElement(name: "memory", attributes: [("mode", "strict"), ("nodeset", "0")])
        numa.appendChild(mem)
        numa.appendChild(LosslessXMLElement(name: "memnode", attributes: [("cellid", "0"), ("mode", "strict"), ("nodeset", "0")]))
        d.root.insertChild(numa, at: 2)
        let expected = Self.domain.replacingOccurrences(
            of: "  <cputune/>\n",
            with: "  <numatune>\n    <memory mode='strict' nodeset='0'/>\n    <memnode cellid='0' mode='strict' nodeset='0'/>\n  </numatune>\n  <cputune/>\n")
        #expect(d.serialize() == expected)
        #expect(d.root.childElements.map(\.name) == ["name", "vcpu", "numatune", "cputune", "devices"])
        // Editing inside the built subtree after insertion still formats correctly.
        mem.setAttribute("nodeset", "1")
        #expect(d.serialize() == expected.replacingOccurrences(of: "mode='strict' nodeset='0'/>\n    <memnode", with: "mode='strict' nodeset='1'/>\n    <memnode"))
    }

    @Test("removeChild drops the element and its indentation; removeFromParent detaches")
    func remove() throws {
        let d = try doc()
        let devices = try #require(d.root.firstChild(named: "devices"))
        let disk = try #require(devices.firstChild(named: "disk"))
        devices.removeChild(disk)
        #expect(d.serialize() == Self.domain.replacingOccurrences(of: "    <disk type='file'/>\n", with: ""))
        #expect(disk.parent == nil)
        #expect(disk.serialize() == "<disk type='file'/>")
        d.root.firstChild(named: "vcpu")?.removeFromParent()
        #expect(!d.serialize().contains("vcpu"))
        #expect(d.serialize().contains("  <name>vm1</name>\n  <cputune/>"))
        // Removing something that is not a child is a no-op.
        devices.removeChild(LosslessXMLElement(name: "x"))
        devices.removeChild(disk)
        #expect(try LosslessXMLDocument(parsing: d.serialize()).root.firstChild(named: "devices")?.childElements.count == 1)
    }

    @Test("moving an element re-parents it")
    func move() throws {
        let d = try doc()
        let devices = try #require(d.root.firstChild(named: "devices"))
        let iface = try #require(devices.firstChild(named: "interface"))
        d.root.appendChild(iface)
        #expect(iface.parent === d.root)
        #expect(devices.children(named: "interface").isEmpty)
        #expect(d.root.childElements.last === iface)
        let re = try LosslessXMLDocument(parsing: d.serialize())
        #expect(re.root.childElements.map(\.name) == ["name", "vcpu", "cputune", "devices", "interface"])
        #expect(d.serialize().contains("  </devices>\n  <interface type='user'/>\n</domain>"))
    }

    @Test("text set replaces content and escapes; nil empties")
    func setText() throws {
        let d = try doc()
        let name = try #require(d.root.firstChild(named: "name"))
        name.text = "a<b & c>"
        #expect(d.serialize().contains("<name>a&lt;b &amp; c&gt;</name>"))
        #expect(name.text == "a<b & c>")
        let cputune = try #require(d.root.firstChild(named: "cputune"))
        cputune.text = "x"
        #expect(d.serialize().contains("<cputune>x</cputune>"))
        let devices = try #require(d.root.firstChild(named: "devices"))
        let disk = try #require(devices.firstChild(named: "disk"))
        devices.text = nil
        #expect(disk.parent == nil)
        #expect(d.serialize().contains("<devices></devices>"))
        #expect(devices.text == nil)
    }

    @Test("builder documents use libvirt's layout")
    func builder() throws {
        let root = LosslessXMLElement(name: "domain", attributes: [("type", "kvm")])
        root.appendChild(LosslessXMLElement(name: "name", text: "new & vm"))
        root.appendChild(LosslessXMLElement(name: "memory", attributes: [("unit", "KiB")], text: "1048576"))
        let devices = root.child(named: "devices", create: true)!
        let disk = devices.appendChild(LosslessXMLElement(name: "disk", attributes: [("type", "file"), ("device", "disk")]))
        disk.appendChild(LosslessXMLElement(name: "source", attributes: [("file", "/var/lib/x.qcow2")]))
        disk.appendComment("boot -- disk")
        let d = LosslessXMLDocument(root: root)
        let expected = """
        <domain type='kvm'>
          <name>new &amp; vm</name>
          <memory unit='KiB'>1048576</memory>
          <devices>
            <disk type='file' device='disk'>
              <source file='/var/lib/x.qcow2'/>
              <!--boot - - disk-->
            </disk>
          </devices>
        </domain>

        """
        #expect(d.serialize() == expected)
        #expect(disk.serialize() == "<disk type='file' device='disk'>\n  <source file='/var/lib/x.qcow2'/>\n  <!--boot - - disk-->\n</disk>")
        let re = try LosslessXMLDocument(parsing: expected)
        #expect(LosslessXMLDocument.canonicallyEqual(d, re))
        #expect(re.root.firstChild(named: "name")?.text == "new & vm")
    }

    @Test("names that are not XML names are made well-formed")
    func sanitizing() throws {
        let e = LosslessXMLElement(name: "bad name<", attributes: [("a b", "1"), ("", "2")])
        #expect(e.serialize() == "<bad_name_ a_b='1' _='2'/>")
        #expect(try LosslessXMLDocument(parsing: e.serialize()).root.attributeNames == ["a_b", "_"])
        e.setAttribute("a b", "3")
        #expect(e.serialize() == "<bad_name_ a_b='3' _='2'/>")
    }

    @Test("element serialize on an edited subtree keeps the untouched parts")
    func elementSerialize() throws {
        let d = try doc()
        let devices = try #require(d.root.firstChild(named: "devices"))
        #expect(devices.serialize() == "<devices>\n    <disk type='file'/>\n    <!-- the NIC -->\n    <interface type='user'/>\n  </devices>")
        devices.firstChild(named: "disk")?.setAttribute("device", "cdrom")
        #expect(devices.serialize() == "<devices>\n    <disk type='file' device='cdrom'/>\n    <!-- the NIC -->\n    <interface type='user'/>\n  </devices>")
    }

    @Test("canonical form ignores attribute order and indentation, not values or text")
    func canonical() throws {
        let a = try LosslessXMLDocument(parsing: "<a x='1' y=\"2\">\n  <b>t</b>\n  <c/>\n</a>")
        let b = try LosslessXMLDocument(parsing: "<?xml version='1.0'?><a y='2'   x='1'><b>t</b><c></c></a>\n")
        let c = try LosslessXMLDocument(parsing: "<a x='1' y='3'><b>t</b><c/></a>")
        let d = try LosslessXMLDocument(parsing: "<a x='1' y='2'><b> t</b><c/></a>")
        #expect(LosslessXMLDocument.canonicallyEqual(a, b))
        #expect(!LosslessXMLDocument.canonicallyEqual(a, c))
        #expect(!LosslessXMLDocument.canonicallyEqual(a, d))
        #expect(a.canonicalForm() == "<a x=\"1\" y=\"2\"><b>t</b><c></c></a>")
        let e = try LosslessXMLDocument(parsing: "<a>x<![CDATA[<y>]]>&amp;</a>")
        #expect(e.canonicalForm() == "<a>x&lt;y&gt;&amp;</a>")
    }

    @Test("a deep built tree serializes and is released")
    func deepBuiltTree() throws {
        let root = LosslessXMLElement(name: "a")
        var cur = root
        for _ in 0..<1000 { cur = cur.appendChild(LosslessXMLElement(name: "a")) }
        let text = LosslessXMLDocument(root: root).serialize()
        var limits = XMLParseLimits()
        limits.maxDepth = 1001
        #expect(try LosslessXMLDocument(parsing: text, limits: limits).serialize() == text)
    }
}

@Suite("XML document text edge cases")
struct XMLTextEdgeTests {
    @Test("setting empty text on an empty element keeps it byte-identical")
    func emptyText() throws {
        let d = try LosslessXMLDocument(parsing: "<a>\n  <genid/>\n  <b></b>\n  <c>x</c>\n</a>")
        d.root.firstChild(named: "genid")?.text = ""
        d.root.firstChild(named: "b")?.text = nil
        #expect(d.isUnedited)
        d.root.firstChild(named: "c")?.text = ""
        #expect(d.serialize() == "<a>\n  <genid/>\n  <b></b>\n  <c></c>\n</a>")
        #expect(d.root.firstChild(named: "c")?.text == nil)
    }
}

@Suite("XML document mixed content")
struct XMLMixedContentTests {
    @Test("in mixed content, whitespace beside text is data and survives add/remove")
    func mixedContent() throws {
        let text = "<p>Hello <b>big</b> world <i>x</i></p>"
        let d = try LosslessXMLDocument(parsing: text)
        let i = try #require(d.root.firstChild(named: "i"))
        d.root.removeChild(i)
        #expect(d.serialize() == "<p>Hello <b>big</b> world </p>")
        d.root.appendChild(i)
        #expect(d.serialize() == text)
        d.root.insertChild(LosslessXMLElement(name: "u"), at: 1)
        #expect(d.serialize() == "<p>Hello <b>big</b> world <u/><i>x</i></p>")
    }
}

@Suite("XML document large edits")
struct XMLLargeEditTests {
    @Test("appending 20,000 children to parsed and built elements keeps order and layout")
    func manyChildren() throws {
        let d = try LosslessXMLDocument(parsing: "<domain>\n  <devices>\n    <disk/>\n  </devices>\n</domain>\n")
        let devices = try #require(d.root.firstChild(named: "devices"))
        let built = LosslessXMLElement(name: "devices")
        for k in 0..<20_000 {
            devices.appendChild(LosslessXMLElement(name: "hostdev", attributes: [("id", String(k))]))
            built.appendChild(LosslessXMLElement(name: "hostdev", attributes: [("id", String(k))]))
        }
        devices.insertChild(LosslessXMLElement(name: "first"), at: 0)
        devices.removeChild(devices.firstChild(named: "disk")!)
        let kids = devices.childElements
        #expect(kids.count == 20_001)
        #expect(kids[0].name == "first" && kids[1].attribute("id") == "0" && kids.last?.attribute("id") == "19999")
        let out = d.serialize()
        #expect(out.hasPrefix("<domain>\n  <devices>\n    <first/>\n    <hostdev id='0'/>\n    <hostdev id='1'/>\n"))
        #expect(out.hasSuffix("    <hostdev id='19999'/>\n  </devices>\n</domain>\n"))
        #expect(built.childElements.count == 20_000)
        #expect(try LosslessXMLDocument(parsing: LosslessXMLDocument(root: built).serialize()).root.childElements.count == 20_000)
    }
}
