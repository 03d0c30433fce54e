import Foundation
import Libvirt
import VirtKitTestSupport

/// `virtkit-bench exporter`: the `virtkit-exporter` binary vs Debian's
/// `prometheus-libvirt-exporter` (kumina's libvirt_exporter), both started here on the same
/// libvirt URI and scraped over HTTP in the same run, alternating which goes first:
///   (a) a test-driver fleet of N domains (`LibvirtBench.fleetXML`),
///   (b) with `--guests M`: qemu:///system with M small diskless guests started here.
/// Reports median and p99 scrape latency (HTTP GET to the last byte), exporter CPU time per
/// scrape (`/proc/PID/stat` over all scrapes), and the distinct domains each exported.
/// Options: --fleet N (1000), --scrapes K (100), --warmup W (3), --guests M (0: skip (b)),
///          --kumina PATH (/usr/bin/prometheus-libvirt-exporter), --exporter PATH (next to this binary).
enum ExporterBench {
    struct Options {
        var fleet = 1000
        var scrapes = 100
        var warmup = 3
        var guests = 0
        var kumina = "/usr/bin/prometheus-libvirt-exporter"
        var exporter = builtProductsDirectory.appendingPathComponent("virtkit-exporter").path
    }

    struct Result {
        var name: String
        var latencies: [Double] = []
        var cpuPerScrape = Double.nan
        var domains = 0
        var bytes = 0
        var failures = 0
        /// The `p`-th percentile of the scrape latencies (Statistics.swift's definition).
        func latency(_ p: Double) -> Double { percentile(latencies, p) }
    }

    static func run(arguments: [String]) async throws {
        var o = Options()
        var it = arguments.makeIterator()
        while let a = it.next() {
            switch a {
            case "--fleet": o.fleet = Int(it.next() ?? "") ?? o.fleet
            case "--scrapes": o.scrapes = max(1, Int(it.next() ?? "") ?? o.scrapes)
            case "--warmup": o.warmup = Int(it.next() ?? "") ?? o.warmup
            case "--guests": o.guests = Int(it.next() ?? "") ?? o.guests
            case "--kumina": o.kumina = it.next() ?? o.kumina
            case "--exporter": o.exporter = it.next() ?? o.exporter
            default: throw BenchError("unknown option \(a)")
            }
        }
        guard FileManager.default.isExecutableFile(atPath: o.exporter) else {
            throw BenchError("\(o.exporter) not found: swift build -c release --product virtkit-exporter")
        }
        let haveKumina = FileManager.default.isExecutableFile(atPath: o.kumina)
        if !haveKumina { print("reference \(o.kumina) missing (apt prometheus-libvirt-exporter): VirtKit alone") }
        print("exporter bench — \(o.scrapes) scrapes each after \(o.warmup) warm-up, alternating order")

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-bench-exporter-\(getpid()).xml").path
        try LibvirtBench.fleetXML(o.fleet).write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        try compare("(a) test driver, \(o.fleet) domains", uri: "test://\(path)", o, kumina: haveKumina)

        guard o.guests > 0 else { return }
        let conn = try await Connection.open("qemu:///system")
        let guests = try await LibvirtBench.startGuests(conn, count: o.guests)
        defer { Task { await LibvirtBench.stopGuests(guests); await conn.close() } }
        try await Task.sleep(for: .seconds(5))  // past firmware start-up
        try compare("(b) qemu:///system, \(try await conn.listAllDomains().count) domains (\(guests.count) started here)",
                    uri: "qemu:///system", o, kumina: haveKumina)
        await LibvirtBench.stopGuests(guests)
    }

    static func compare(_ title: String, uri: String, _ o: Options, kumina: Bool) throws {
        print("\n\(title)")
        var engines: [(Result, BackgroundProcess, Int)] = []
        defer { for (_, p, _) in engines { p.stop() } }
        let vkPort = freeLoopbackPort()
        engines.append((Result(name: "virtkit-exporter"),
                        try BackgroundProcess(o.exporter, ["--uri", uri, "--listen", "127.0.0.1:\(vkPort)", "--log-level", "warning"], tag: "bench-virtkit-exporter"), vkPort))
        if kumina {
            let kPort = freeLoopbackPort()
            engines.append((Result(name: "prometheus-libvirt-exporter (kumina)"),
                            try BackgroundProcess(o.kumina, ["--libvirt.uri=\(uri)", "--web.listen-address=127.0.0.1:\(kPort)"], tag: "bench-kumina"), kPort))
        }
        for (r, p, port) in engines {
            let deadline = ContinuousClock.now + .seconds(30)
            while loopbackHTTPGet(port: port, path: "/metrics", timeout: 30)?.status != 200 {
                guard ContinuousClock.now < deadline else { throw BenchError("\(r.name) never answered: \(p.log.suffix(1000))") }
                usleep(100_000)
            }
            for _ in 0..<o.warmup { _ = loopbackHTTPGet(port: port, path: "/metrics", timeout: 60) }
        }
        let cpu0 = engines.map { $0.1.cpuSeconds ?? .nan }
        for i in 0..<o.scrapes {
            for k in 0..<engines.count {
                let e = (k + i) % engines.count  // rotate who goes first
                let start = ContinuousClock.now
                let response = loopbackHTTPGet(port: engines[e].2, path: "/metrics", timeout: 60)
                let dt = (ContinuousClock.now - start).inSeconds
                guard let response, response.status == 200 else { engines[e].0.failures += 1; continue }
                engines[e].0.latencies.append(dt)
                if i == o.scrapes - 1 {
                    engines[e].0.domains = distinctDomains(response.body)
                    engines[e].0.bytes = response.body.count
                }
            }
        }
        for k in engines.indices {
            engines[k].0.cpuPerScrape = ((engines[k].1.cpuSeconds ?? .nan) - cpu0[k]) / Double(o.scrapes)
        }
        print("engine                                 median ms     p99 ms   CPU ms/scrape  domains   KiB  failures")
        for (r, _, _) in engines {
            print(r.name.padding(toLength: 38, withPad: " ", startingAt: 0) + String(format: " %9.2f  %9.2f  %13.2f  %7d  %5d  %d", r.latency(50) * 1e3,
                         r.latency(99) * 1e3, r.cpuPerScrape * 1e3, r.domains, r.bytes / 1024, r.failures))
        }
        if engines.count == 2 {
            let (v, k) = (engines[0].0, engines[1].0)
            print(String(format: "kumina / VirtKit: median latency %.1fx, p99 latency %.1fx, CPU per scrape %.1fx; domains exported %d vs %d",
                         k.latency(50) / v.latency(50), k.latency(99) / v.latency(99),
                         k.cpuPerScrape / v.cpuPerScrape, v.domains, k.domains))
        }
    }

    /// Distinct values of the `domain` label in an exposition.
    static func distinctDomains(_ body: [UInt8]) -> Int {
        var names = Set<ArraySlice<UInt8>>()
        let key = Array(#"domain=""#.utf8)
        var i = 0
        while i + key.count < body.count {
            if body[i] == key[0], body[i..<i + key.count].elementsEqual(key), i == 0 || body[i - 1] == UInt8(ascii: "{") || body[i - 1] == UInt8(ascii: ",") {
                var j = i + key.count
                while j < body.count, body[j] != UInt8(ascii: "\"") { j += body[j] == UInt8(ascii: "\\") ? 2 : 1 }
                names.insert(body[(i + key.count)..<min(j, body.count)])
                i = j
            }
            i += 1
        }
        return names.count
    }
}
