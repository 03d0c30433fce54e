import Foundation
import Testing
import VirtKitTestSupport

/// The `virtkit-exporter` binary scraped by a real Prometheus server (Debian `prometheus`)
/// on loopback ports; the series are read back through Prometheus' HTTP query API.
@Suite(.serialized) struct PrometheusServerTests {
    init() { DaemonSignals.setUp() }

    @Test func prometheusScrapesEveryDomainWithHostileLabelsIntact() async throws {
        guard let prometheus = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            LiveEnvironment.unavailable("prometheus not installed (apt prometheus; Scripts/install-deps.sh)")
            return
        }
        let exe = builtProductsDirectory.appendingPathComponent("virtkit-exporter").path
        guard FileManager.default.isExecutableFile(atPath: exe) else {
            Issue.record("virtkit-exporter not built next to the tests (\(exe)); run swift build --build-tests")
            return
        }
        let (uri, path) = try TestFleet.write(count: 30, hostile: true, tag: "prom")
        defer { unlink(path) }

        let exporterPort = freeLoopbackPort()
        let exporter = try BackgroundProcess(exe, ["--uri", uri, "--listen", "127.0.0.1:\(exporterPort)", "--log-level", "debug"], tag: "exporter")
        var exporterStopped = false
        defer { if !exporterStopped { exporter.stop() } }
        let healthy = await eventually(timeout: .seconds(20), every: .milliseconds(100)) {
            loopbackHTTPGet(port: exporterPort, path: "/healthz")?.status == 200
        }
        try #require(healthy, "exporter not healthy: \(exporter.log)")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-prom-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = """
        global:
          scrape_interval: 1s
          scrape_timeout: 1s
        scrape_configs:
          - job_name: virtkit
            static_configs:
              - targets: ['127.0.0.1:\(exporterPort)']
        """
        try config.write(to: dir.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
        let promPort = freeLoopbackPort()
        let server = try BackgroundProcess(prometheus, [
            "--config.file=\(dir.path)/prometheus.yml", "--storage.tsdb.path=\(dir.path)/data",
            "--web.listen-address=127.0.0.1:\(promPort)",
        ], tag: "prometheus")
        defer { server.stop() }

        func query(_ q: String) async -> [(labels: [String: String], value: String)] {
            guard let enc = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics),
                  let (status, body) = loopbackHTTPGet(port: promPort, path: "/api/v1/query?query=" + enc), status == 200,
                  let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
                  let data = json["data"] as? [String: Any], let result = data["result"] as? [[String: Any]] else { return [] }
            return result.compactMap { r in
                guard let m = r["metric"] as? [String: String], let v = r["value"] as? [Any], v.count == 2, let s = v[1] as? String else { return nil }
                return (m, s)
            }
        }

        let scraped = await eventually(timeout: .seconds(40), every: .milliseconds(500)) {
            await query("count(libvirt_domain_state_code)").first?.value == "31"
        }
        #expect(scraped, "Prometheus never saw 31 domains; prometheus log: \(server.log.suffix(2000)) exporter log: \(exporter.log.suffix(2000))")
        #expect(await query(#"up{job="virtkit"}"#).first?.value == "1")
        #expect(await query("libvirt_up").first?.labels["host"] == uri)

        let names = Set(await query("libvirt_domain_state_code").compactMap { $0.labels["domain"] })
        #expect(names == Set((0..<30).map { "g-\($0)" } + [TestFleet.Hostile.name]))
        let info = await query("virtkit_domain_info").first { $0.labels["domain"] == TestFleet.Hostile.name }
        #expect(info?.labels["title"] == TestFleet.Hostile.title)
        let disk = await query("libvirt_domain_block_meta").first { $0.labels["domain"] == TestFleet.Hostile.name }
        #expect(disk?.labels["source_file"] == TestFleet.Hostile.diskPath)
        let paused = await query(#"libvirt_domain_state_code{domain="g-1"}"#)
        #expect(paused.map(\.value) == ["3"])
        #expect(await query("virtkit_scrape_stale").first?.value == "0")

        // Graceful shutdown on SIGTERM.
        exporterStopped = true
        #expect(exporter.stop() == 0, "exporter log: \(exporter.log.suffix(2000))")
    }
}
