import Foundation
import Libvirt
import Testing
import VirtKitTestSupport

@Suite struct DomainTests {
    @Test func lifecycleOnTestDriver() async throws {
        let conn = try await TestNode.single()
        defer { Task { await conn.close() } }
        let dom = try await conn.domain(named: "test")
        #expect(dom.name == "test")
        #expect(try await dom.state().state == .running)
        try await dom.suspend()
        #expect(try await dom.state() == .paused(.user))
        try await dom.resume()
        #expect(try await dom.state() == .running(.unpaused))
        try await dom.destroy()
        #expect(try await dom.state() == .shutoff(.destroyed))
        #expect(try await dom.isActive() == false)
        try await dom.start()
        #expect(try await dom.state().state == .running)
        try await dom.reboot()
        #expect(try await dom.state().state == .running)
        try await dom.shutdown()
        #expect(try await dom.state() == .shutoff(.shutdown))
        // Operations that need a running domain fail with a typed error.
        do {
            try await dom.suspend()
            Issue.record("suspending a shut-off domain succeeded")
        } catch let e as LibvirtError {
            #expect(e.code == .internalError)  // the test driver's "domain 'test' not running"
            #expect(e.message.contains("not running"))
        }
    }

    @Test func transientDomainFromXML() async throws {
        let conn = try await TestNode.single()
        defer { Task { await conn.close() } }
        let name = TestGuest.uniqueName("transient")
        let dom = try await conn.createDomain(xml: TestGuest.xml(name: name, type: "test"))
        #expect(try await dom.isActive())
        #expect(try await dom.isPersistent() == false)
        #expect(try await conn.listAllDomains(flags: .transient).map(\.name) == [name])
        try await dom.destroy()
        // A destroyed transient domain is gone.
        await #expect(throws: LibvirtError.self) { _ = try await conn.domain(named: name) }
    }

    @Test func defineLookupUndefine() async throws {
        let conn = try await Connection.open("test:///default")
        defer { Task { await conn.close() } }
        let name = TestGuest.uniqueName("define")
        let dom = try await conn.defineDomain(xml: TestGuest.xml(name: name, type: "test"))
        #expect(dom.name == name)
        #expect(dom.id == nil)
        #expect(try await dom.isPersistent())
        let byUUID = try await conn.domain(uuid: dom.uuid)
        #expect(byUUID.name == name)
        let byString = try await conn.domain(uuidString: dom.uuid.description)
        #expect(byString.uuid == dom.uuid)
        let inactive = try await conn.listAllDomains(flags: .inactive).map(\.name)
        #expect(inactive.contains(name))
        try await dom.start()
        let id = try #require(try await conn.domain(named: name).id)
        #expect(try await conn.domain(id: id).name == name)
        #expect(try await conn.listAllDomains(flags: .active).map(\.name).contains(name))
        try await dom.destroy()
        try await dom.undefine()
        await #expect(throws: LibvirtError.self) { _ = try await conn.domain(named: name) }
    }

    @Test func unknownDomainAndBadXMLAreTyped() async throws {
        let conn = try await Connection.open("test:///default")
        defer { Task { await conn.close() } }
        do {
            _ = try await conn.domain(named: "no-such-domain")
            Issue.record("lookup of a missing domain succeeded")
        } catch let e as LibvirtError {
            #expect(e.code == .noDomain)
            #expect(e.level == .error)
            #expect(e.message == "Domain not found")
            #expect(e.domain == .test)
        }
        do {
            _ = try await conn.domain(uuidString: "not-a-uuid")
            Issue.record("lookup by a malformed UUID succeeded")
        } catch let e as LibvirtError {
            #expect(e.code == .invalidArg)
        }
        do {
            _ = try await conn.domain(id: 9999)
            Issue.record("lookup of a missing ID succeeded")
        } catch let e as LibvirtError {
            #expect(e.code == .noDomain)
        }
        do {
            _ = try await conn.defineDomain(xml: "<domain type='test'><name>x</name")
            Issue.record("defining malformed XML succeeded")
        } catch let e as LibvirtError {
            #expect(e.code == .xmlError || e.code == .xmlDetail)
        }
        do {
            _ = try await conn.defineDomain(xml: "<domain type='test'><memory>1024</memory></domain>")
            Issue.record("defining XML without a name succeeded")
        } catch let e as LibvirtError {
            #expect(e.code != .ok)
        }
    }

    @Test func xmlInfoAutostartControlDiskErrors() async throws {
        let conn = try await TestNode.single()
        defer { Task { await conn.close() } }
        let dom = try await conn.domain(named: "test")
        let xml = try await dom.xmlDescription()
        #expect(xml.contains("<name>test</name>"))
        let inactive = try await dom.xmlDescription(flags: [.inactive, .secure])
        #expect(inactive.contains("<domain"))
        _ = try await dom.xmlDescription(flags: .migratable)
        let info = try await dom.info()
        #expect(info.state == .running)
        #expect(info.vcpus == 2)
        #expect(info.maxMemory == .kibibytes(65_536))
        #expect(try await dom.autostart() == false)
        try await dom.setAutostart(true)
        #expect(try await dom.autostart() == true)
        #expect(try await conn.listAllDomains(flags: .autostart).map(\.name) == ["test"])
        try await dom.setAutostart(false)
        let control = try await dom.controlInfo()
        #expect(control.state == .ok)
        #expect(try await dom.diskErrors().isEmpty)
    }
}
