import DomainXML
import Libvirt
import LibvirtJoins
import Testing
import VirtCore

/// Domain ↔ DomainXML on libvirt's test driver (real libvirt code, no daemon).
/// Each test defines its own domain: test:///default's state is shared by the whole process.
@Suite struct DefinitionJoinTests {
    static func ownDomain(_ conn: Connection, _ tag: String) async throws -> Domain {
        let name = "vk-joins-\(tag)-\(UInt32.random(in: 0...UInt32.max))"
        return try await conn.defineDomain(xml: """
            <domain type='test'><name>\(name)</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
              <os><type>hvm</type></os><!-- kept --><metadata><x:y xmlns:x='urn:x'>z</x:y></metadata></domain>
            """)
    }

    @Test func editAndRedefineKeepsUnknownXMLAndNoOpEditsDefineNothing() async throws {
        let conn = try await Connection.open("test:///default")
        let dom = try await Self.ownDomain(conn, "edit")
        let persistent = try await dom.definition(.persistent)
        #expect(try persistent.name.value == dom.name)

        let edit = try await conn.editDefinition(of: dom) { def in
            def.title.set("edited by VirtKit")
        }
        #expect(edit.changed)
        #expect(!edit.before.contains("edited by VirtKit") && edit.after.contains("edited by VirtKit"))
        let reread = try await dom.definition(.persistent)
        #expect(try reread.title.value == "edited by VirtKit")
        #expect(edit.after.contains("<x:y xmlns:x=\"urn:x\">z</x:y>") || edit.after.contains("<x:y xmlns:x='urn:x'>z</x:y>"))

        let none = try await conn.editDefinition(of: dom) { _ in }
        #expect(!none.changed)
        try await dom.undefine()
        await conn.close()
    }

    @Test func invalidEditsAreRejectedBeforeLibvirtSeesThem() async throws {
        let conn = try await Connection.open("test:///default")
        let dom = try await Self.ownDomain(conn, "invalid")
        let before = try await dom.xmlDescription(flags: .inactive)
        await #expect(throws: DomainDefinitionRejected.self) {
            try await conn.editDefinition(of: dom) { def in
                // A vCPU count libvirt refuses, written as raw text under the typed view.
                def.element?.child(named: "vcpu", create: false)?.text = "many"
            }
        }
        #expect(try await dom.xmlDescription(flags: .inactive) == before)
        try await dom.undefine()
        await conn.close()
    }
}
