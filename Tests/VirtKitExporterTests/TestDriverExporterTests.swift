import Foundation
import Libvirt
import Testing
import VirtKitTestSupport
@testable import VirtKitExporter

/// The exporter library on libvirt's embedded test driver: no HTTP, no daemon.
@Suite struct TestDriverExporterTests {
    init() { DaemonSignals.setUp() }

    @Test func everyDomainIsExportedAndHostileNamesSurviveTheScrape() async throws {
        let (uri, path) = try TestFleet.write(count: 50, hostile: true)
        defer { unlink(path) }
        let exporter = MetricsExporter(uris: [uri])
        let body = await exporter.metrics()
        await exporter.shutdown()
        let text = String(decoding: body, as: UTF8.self)
        let parsed = try ParsedExposition(text)

        #expect(parsed.values("libvirt_up").map(\.value) == [1])
        let states = parsed.values("libvirt_domain_state_code")
        let names = Set(states.compactMap { $0.labels["domain"] })
        #expect(names == Set((0..<50).map { "g-\($0)" } + [TestFleet.Hostile.name]))
        #expect(states.count == 51)
        for s in states where s.labels["domain"] != TestFleet.Hostile.name {
            let i = Int(s.labels["domain"]!.dropFirst(2))!
            #expect(s.value == Double([1, 3, 5, 6, 7][i % 5]), "\(s.labels)")
            #expect(s.labels["host"] == uri)
            #expect(s.labels["uuid"]?.count == 36)
        }
        let info = parsed.values("virtkit_domain_info").first { $0.labels["domain"] == TestFleet.Hostile.name }
        #expect(info?.labels["title"] == TestFleet.Hostile.title)
        let disk = parsed.values("libvirt_domain_block_meta").first { $0.labels["domain"] == TestFleet.Hostile.name }
        #expect(disk?.labels["source_file"] == TestFleet.Hostile.diskPath)
        #expect(disk?.labels["target_device"] == "vda")
        let nic = parsed.values("libvirt_domain_interface_meta").first { $0.labels["domain"] == TestFleet.Hostile.name }
        #expect(nic?.labels["source_bridge"] == #"br "0""#)
        // Definition facts fill in what the test driver's stats lack.
        let vcpus = parsed.values("libvirt_domain_info_virtual_cpus").first { $0.labels["domain"] == "g-4" }
        #expect(vcpus?.value == 2)
        #expect(parsed.values("virtkit_domain_state").first { $0.labels["domain"] == "g-1" }?.labels["state"] == "paused")
        #expect(parsed.types["libvirt_domain_info_cpu_time_seconds_total"] == nil || parsed.types["libvirt_domain_info_cpu_time_seconds_total"] == "counter")

        try promtoolAccepts(text)
    }

    @Test func definitionsAreReadOncePerUUID() async throws {
        let (uri, path) = try TestFleet.write(count: 20, tag: "cache")
        defer { unlink(path) }
        let collector = HostCollector(uri: uri)
        let first = await collector.scrape(deadline: .now + .seconds(10))
        #expect(first.up && !first.stale)
        #expect(await collector.definitionReads == 20)
        #expect(await collector.cachedDefinitions == 20)
        for _ in 0..<3 {
            let again = await collector.scrape(deadline: .now + .seconds(10))
            #expect(again.domains.count == 20 && !again.stale)
        }
        #expect(await collector.definitionReads == 20, "no event, no XML read")
        await collector.shutdown()
    }

    @Test func aHostThatDoesNotAnswerIsReportedStaleAndTheRestIsServed() async throws {
        let (uri, path) = try TestFleet.write(count: 10, tag: "deadline")
        defer { unlink(path) }
        let silent = try SilentLibvirtSocket()
        let silentURI = "qemu+unix:///system?socket=\(silent.path)"
        // The silent daemon never answers: without the deadline a scrape would never end, so a
        // bound well above the deadline (the test process is busy beside it) still proves it.
        let exporter = MetricsExporter(uris: [uri, silentURI], deadline: .seconds(2))
        for round in 0..<3 {
            let start = ContinuousClock.now
            let hosts = await exporter.scrape()
            let elapsed = ContinuousClock.now - start
            #expect(elapsed < .seconds(15), "round \(round): \(elapsed)")
            let good = try #require(hosts.first { $0.uri == uri })
            let hung = try #require(hosts.first { $0.uri == silentURI })
            #expect(good.up && !good.stale && good.domains.count == 10)
            #expect(!hung.up && hung.stale && hung.domains.isEmpty)
            let text = String(decoding: ExpositionRenderer.render(hosts), as: UTF8.self)
            let parsed = try ParsedExposition(text)
            #expect(parsed.values("virtkit_scrape_stale").first { $0.labels["host"] == silentURI }?.value == 1)
            #expect(parsed.values("libvirt_up").first { $0.labels["host"] == silentURI }?.value == 0)
            #expect(parsed.values("libvirt_domain_state_code").count == 10)
        }
        #expect(silent.connections == 1, "one call in flight, joined by later scrapes, not one per scrape")
        silent.shutdown()  // the daemon "goes away": the stuck open fails
        #expect(await eventually(timeout: .seconds(10)) {
            let h = await exporter.collectors[1].health
            return !h.up && h.error != nil && h.error != "no answer yet"
        })
        await exporter.shutdown()
    }
}

func promtoolAccepts(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    guard let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        LiveEnvironment.unavailable("promtool not installed (apt prometheus); exposition not checked by it", sourceLocation: sourceLocation)
        return
    }
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-exposition-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).txt").path
    try text.write(toFile: file, atomically: true, encoding: .utf8)
    defer { unlink(file) }
    let (status, out, err) = spawnAndWait("/bin/sh", ["-c", "\(promtool) check metrics < '\(file)'"])
    #expect(status == 0, "promtool check metrics: \(out)\(err)", sourceLocation: sourceLocation)
}
