import Foundation
import LosslessXML
import Testing
import VirtKitTestSupport
@testable import virtkit

/// `virtkit host`: the report checked against the documents read without the typed views,
/// and the built binary run on a test-driver node file of our own.
@Suite struct HostCommandTests {
    /// Elements at `path` (names from the root's children down), read generically.
    static func elements(_ doc: LosslessXMLDocument, _ path: [String]) -> [LosslessXMLElement] {
        var level = [doc.root]
        for name in path { level = level.flatMap { $0.children(named: name) } }
        return level
    }

    @Test func reportAgreesWithLibvirtsCapabilitiesDocuments() throws {
        guard let dir = LiveEnvironment.corpus("libvirt-9.0.0/xml/capabilities") else { return }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".xml") }.sorted()
        #expect(files.count >= 4)
        var cellsSeen = 0
        for f in files {
            let xml = try String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8)
            let r = try HostCommand.report(capabilitiesXML: xml, domainCapabilitiesXML: nil)
            let doc = try LosslessXMLDocument(parsing: xml)
            #expect(r.hostUUID == Self.elements(doc, ["host", "uuid"]).first?.text, "\(f)")
            #expect(r.cpu.arch == Self.elements(doc, ["host", "cpu", "arch"]).first?.text, "\(f)")
            #expect(r.cpu.features == Self.elements(doc, ["host", "cpu", "feature"]).compactMap { $0.attribute("name") }, "\(f)")
            #expect(r.migrationTransports == Self.elements(doc, ["host", "migration_features", "uri_transports", "uri_transport"]).compactMap(\.text), "\(f)")
            #expect(r.securityModels == Self.elements(doc, ["host", "secmodel", "model"]).compactMap(\.text), "\(f)")
            let guests = Self.elements(doc, ["guest"])
            #expect(r.guests.count == guests.count, "\(f)")
            for (g, e) in zip(r.guests, guests) {
                #expect(g.osType == e.firstChild(named: "os_type")?.text)
                #expect(g.machines.count == (e.firstChild(named: "arch")?.children(named: "machine").count ?? 0))
            }
            let cells = Self.elements(doc, ["host", "topology", "cells", "cell"])
            let cellCPUs = cells.flatMap { $0.firstChild(named: "cpus")?.children(named: "cpu") ?? [] }
            #expect((r.topology?.nodes.count ?? 0) == cells.count, "\(f)")
            #expect((r.topology?.cpus.count ?? 0) == cellCPUs.count, "\(f)")
            // The topology lists CPUs by id; the document by cell.
            let byID = Dictionary(cellCPUs.map { ($0.attribute("id") ?? "", $0) }, uniquingKeysWith: { a, _ in a })
            for cpu in r.topology?.cpus ?? [] {
                let e = byID[String(cpu.id)]
                #expect(e != nil, "\(f): cpu \(cpu.id)")
                #expect(cpu.core.map(String.init) == e?.attribute("core_id"), "\(f): cpu \(cpu.id)")
                #expect(cpu.package.map(String.init) == e?.attribute("socket_id"), "\(f): cpu \(cpu.id)")
            }
            cellsSeen += cells.count
            #expect(r.problems.isEmpty, "\(f): \(r.problems)")
        }
        #expect(cellsSeen > 0)
    }

    @Test func domainCapabilitiesFeaturesAgreeWithTheDocuments() throws {
        guard let dir = LiveEnvironment.corpus("libvirt-9.0.0/xml/domaincaps") else { return }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".xml") }.sorted()
        #expect(files.count >= 10)
        var withHostModel = 0
        for f in files {
            let xml = try String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8)
            let d = try HostCommand.domainFeatures(xml)
            let doc = try LosslessXMLDocument(parsing: xml)
            #expect(d.emulator == Self.elements(doc, ["path"]).first?.text, "\(f)")
            #expect(d.maxVCPUs.map(String.init) == Self.elements(doc, ["vcpu"]).first?.attribute("max"), "\(f)")
            let modes = Self.elements(doc, ["cpu", "mode"])
            #expect(d.cpuModes.count == Set(modes.compactMap { $0.attribute("name") }).count, "\(f)")
            let custom = modes.first { $0.attribute("name") == "custom" }
            let usable = custom?.children(named: "model").filter { $0.attribute("usable") == "yes" }.compactMap(\.text) ?? []
            #expect(d.usableModels == usable, "\(f)")
            let buses = Self.elements(doc, ["devices", "disk", "enum"]).first { $0.attribute("name") == "bus" }
            #expect(d.diskBuses == (buses?.children(named: "value").compactMap(\.text) ?? []), "\(f)")
            if d.hostModel != nil { withHostModel += 1 }
        }
        #expect(withHostModel > 0)
    }

    /// The built binary on a test-driver node file: `--json` decodes to a report whose node
    /// info is the node file's, and the text form prints the same host.
    @Test func builtBinaryReportsATestDriverNode() async throws {
        let binary = LiveEnvironment.packageRoot().appendingPathComponent(".build/debug/virtkit").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            LiveEnvironment.unavailable("\(binary) is not built (swift build --build-tests)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vk-host-\(getpid())-\(Int.random(in: 0...1_000_000))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let node = dir.appendingPathComponent("node.xml").path
        let cpus = Int.random(in: 2...12) * 2
        try """
        <node>
        <cpu><mhz>2345</mhz><model>x86_64</model><active>\(cpus)</active><nodes>1</nodes><sockets>1</sockets><cores>\(cpus / 2)</cores><threads>2</threads></cpu>
        <memory>8388608</memory>
        </node>
        """.write(toFile: node, atomically: true, encoding: .utf8)
        let uri = "test://" + node
        let (rc, out, err) = await Self.run(binary, ["host", "--uri", uri, "--json"])
        #expect(rc == 0, "\(err)")
        let r = try JSONDecoder().decode(HostCommand.Report.self, from: Data(out.utf8))
        #expect(r.nodeCPUs == cpus)
        #expect(r.nodeMHz == 2345)
        #expect(r.nodeMemoryKiB == 8_388_608)
        #expect(r.cpu.arch != nil)
        #expect(!r.guests.isEmpty)
        // The test driver has no domain capabilities: reported, not fatal.
        #expect(r.domainCapabilities == nil && r.problems.contains { $0.hasPrefix("domain capabilities") })
        let (rc2, text, _) = await Self.run(binary, ["host", "--uri", uri])
        #expect(rc2 == 0)
        #expect(text.contains("\(cpus) CPUs @ 2345 MHz"))
    }

    /// Runs the binary on a plain thread (it blocks), awaited.
    static func run(_ binary: String, _ args: [String]) async -> (Int32, String, String) {
        await withCheckedContinuation { c in
            Thread { c.resume(returning: spawnAndWait(binary, args)) }.start()
        }
    }
}
