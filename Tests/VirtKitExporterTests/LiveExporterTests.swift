import Foundation
import Libvirt
import Testing
import VirtKitTestSupport
@testable import VirtKitExporter

/// The exporter library on the real `qemu:///system` daemon.
@Suite(.serialized) struct LiveExporterTests {
    init() { DaemonSignals.setUp() }

    static func open() async -> Connection? {
        do { return try await Connection.open("qemu:///system") } catch {
            LiveEnvironment.unavailable("qemu:///system: \(error)")
            return nil
        }
    }

    @Test func aRedefinedDomainIsReadAgainAfterItsEventAndAnUndefinedOneLeaves() async throws {
        guard let conn = await Self.open() else { return }
        defer { Task { await conn.close() } }
        let name = TestGuest.uniqueName("exporter")
        let fixedUUID = "<uuid>\(UUID().uuidString.lowercased())</uuid>"  // a redefinition keeps it
        let first = TestGuest.xml(name: name, extraDomain: fixedUUID + "<title>first \"one\"</title>")
        let dom = try await conn.defineDomain(xml: first)
        do {
            try await Self.followRedefinition(conn, dom, name: name, fixedUUID: fixedUUID)
        } catch {
            try? await dom.undefine()  // awaited: a Task in a defer may never run before exit
            throw error
        }
    }

    static func followRedefinition(_ conn: Connection, _ dom: Domain, name: String, fixedUUID: String) async throws {
        let uuid = HostCollector.key(dom.uuid)

        let collector = HostCollector(uri: "qemu:///system", findingsInterval: nil)
        func title() async -> String? {
            let s = await collector.scrape(deadline: .now + .seconds(10))
            return s.domains.first { $0.metadata.uuid == uuid }?.metadata.title
        }
        #expect(await title() == "first \"one\"")
        let reads = await collector.definitionReads
        #expect(await title() == "first \"one\"")
        #expect(await collector.definitionReads == reads, "no event, no read")

        _ = try await conn.defineDomain(xml: TestGuest.xml(name: name, extraDomain: fixedUUID + "<title>second</title>"))
        #expect(await eventually(timeout: .seconds(10)) { await title() == "second" })
        #expect(await collector.definitionReads == reads + 1, "only the redefined domain is read again")

        try await dom.undefine()
        #expect(await eventually(timeout: .seconds(10)) {
            await collector.scrape(deadline: .now + .seconds(10)).domains.allSatisfy { $0.metadata.uuid != uuid }
        })
        await collector.shutdown()
    }

    @Test func aDiskPathWithANewlineAndQuotesSurvivesTheBlockStatisticsAndSkippedGroupsAreRefilled() async throws {
        guard let conn = await Self.open() else { return }
        defer { Task { await conn.close() } }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-exporter-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("disk \"q\" \\ line1\nline2.qcow2").path
        let (status, _, err) = spawnAndWait("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", path, "16M"])
        guard status == 0 else {
            LiveEnvironment.unavailable("qemu-img create failed: \(err)")
            return
        }
        let xmlPath = TestGuest.escape(path).replacingOccurrences(of: "\n", with: "&#10;")
        let disk = "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='\(xmlPath)'/><target dev='vda' bus='virtio'/></disk>"
        let dom = try await conn.createDomain(xml: TestGuest.xml(name: TestGuest.uniqueName("exporter-disk"), extraDevices: disk))
        let exporter = MetricsExporter(uris: ["qemu:///system"], findingsInterval: nil)
        // NOWAIT: while another client's query holds the new guest's monitor, libvirt skips its
        // block group, and a first scrape has no earlier values to serve: scrape until it answers.
        var text = ""
        let domainUUID = HostCollector.key(dom.uuid)
        _ = await eventually(timeout: .seconds(20), every: .milliseconds(200)) {
            text = String(decoding: await exporter.metrics(), as: UTF8.self)
            return (try? ParsedExposition(text))?.values("libvirt_domain_block_stats_read_bytes_total").contains { $0.labels["uuid"] == domainUUID } == true
        }
        await exporter.shutdown()
        // NOWAIT: groups libvirt skips for a busy guest are served from the previous scrape.
        let record = try #require(try await conn.domainStats([dom], groups: [.state, .balloon, .block, .vcpu]).first)
        var skipped = record
        skipped.balloon = nil
        skipped.blocks = []
        skipped.blockCount = nil  // a skipped group has no count; `block.count=0` is an answer
        skipped.vcpu = nil
        let copied = HostCollector.fillSkippedGroups(&skipped, from: record)
        try? await dom.destroy()
        #expect(copied && record.balloon != nil && !record.blocks.isEmpty)
        #expect(skipped.balloon == record.balloon && skipped.blocks == record.blocks && skipped.vcpu == record.vcpu)
        // Answered with no disks (`block.count=0`): nothing old is served.
        var answered = record
        answered.blocks = []
        answered.blockCount = 0
        #expect(!HostCollector.fillSkippedGroups(&answered, from: record) && answered.blocks.isEmpty)
        skipped.state = .shutoff(.destroyed)
        skipped.balloon = nil
        #expect(!HostCollector.fillSkippedGroups(&skipped, from: record), "a stopped guest gets no old values")
        let parsed = try ParsedExposition(text)
        let uuid = HostCollector.key(dom.uuid)
        let reads = parsed.values("libvirt_domain_block_stats_read_bytes_total").filter { $0.labels["uuid"] == uuid }
        #expect(reads.map { $0.labels["source_file"] } == [path])
        #expect(reads.first?.labels["target_device"] == "vda")
        // The active-domain groups (asked apart from the state group) reached the guest.
        for family in ["libvirt_domain_info_cpu_time_seconds_total", "libvirt_domain_vcpu_time_seconds_total", "libvirt_domain_info_memory_usage_bytes"] {
            #expect(parsed.values(family).contains { $0.labels["uuid"] == uuid }, "\(family)")
        }
        #expect(parsed.values("libvirt_domain_state_code").first { $0.labels["uuid"] == uuid }?.value == 1)
        #expect(parsed.values("virtkit_domain_state").first { $0.labels["uuid"] == uuid }?.labels["reason"] == "booted")
        try promtoolAccepts(text)
    }
}
