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
///   (c) with `--migration`: on the lab (`Scripts/lab.sh status`), a qemu:///system guest on
///       the `busy` disk migrating live to host B at 1 MiB/s; both exporters are scraped back to
///       back, each from its own thread, for as long as the job runs: scrapes, median and
///       longest latency, failures, scrapes over 3 s (virtkit-exporter's default deadline).
/// Options: --fleet N (1000), --scrapes K (100), --warmup W (3), --guests M (0: skip (b)), --settle S (20: seconds the guests of (b) boot first), --migration,
///          --kumina PATH (/usr/bin/prometheus-libvirt-exporter), --exporter PATH (next to this binary).
enum ExporterBench {
    struct Options {
        var fleet = 1000
        var scrapes = 100
        var warmup = 3
        var guests = 0
        var migration = false
        var settle = 20
        var kumina = "/usr/bin/prometheus-libvirt-exporter"
        var exporter = builtProductsDirectory.appendingPathComponent("virtkit-exporter").path
    }

    struct Result {
        var name: String
        var latencies: [Double] = []
        /// virtkit-exporter only: its own `virtkit_exporter_scrape_duration_seconds` (collect +
        /// render, no HTTP), to tell the server's work from HTTP and scheduling.
        var serverSeconds: [Double] = []
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
            case "--migration": o.migration = true
            case "--settle": o.settle = Int(it.next() ?? "") ?? o.settle
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

        if o.guests > 0 { try await guestRun(o, kumina: haveKumina) }
        if o.migration { try await migrationRun(o, kumina: haveKumina) }
    }

    static func guestRun(_ o: Options, kumina haveKumina: Bool) async throws {
        let conn = try await Connection.open("qemu:///system")
        let guests = try await LibvirtBench.startGuests(conn, count: o.guests)
        defer { Task { await LibvirtBench.stopGuests(guests); await conn.close() } }
        // Past SeaBIOS's POST (~8 s here, CPU-bound): while 20 guests boot at once their QEMU
        // monitors answer slowly, and the stats groups that ask them (balloon, vcpu, block) with them.
        try await Task.sleep(for: .seconds(o.settle))
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
                if let s = scrapeDuration(response.body) { engines[e].0.serverSeconds.append(s) }
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
        for (r, _, _) in engines where !r.serverSeconds.isEmpty {
            print(String(format: "%@ own scrape duration (collect + render, no HTTP): median %.2f ms, p99 %.2f ms, max %.2f ms",
                         r.name, percentile(r.serverSeconds, 50) * 1e3, percentile(r.serverSeconds, 99) * 1e3, (r.serverSeconds.max() ?? .nan) * 1e3))
        }
        if engines.count == 2 {
            let (v, k) = (engines[0].0, engines[1].0)
            print(String(format: "kumina / VirtKit: median latency %.1fx, p99 latency %.1fx, CPU per scrape %.1fx; domains exported %d vs %d",
                         k.latency(50) / v.latency(50), k.latency(99) / v.latency(99),
                         k.cpuPerScrape / v.cpuPerScrape, v.domains, k.domains))
        }
    }

    /// (c): both exporters scraped while a guest of theirs migrates.
    static func migrationRun(_ o: Options, kumina: Bool) async throws {
        let (rc, out, err) = Lab.run(["status", "--json"])
        guard rc == 0, let lab = try? JSONDecoder().decode(Lab.self, from: Data(out.utf8)), lab.hosts.count >= 2 else {
            print("\n(c) skipped: the lab is not up (Scripts/lab.sh status: \(err.suffix(300)))")
            return
        }
        let a = try await Connection.open(lab.a.uri), b = try await Connection.open(lab.b.uri)
        let name = "virtkit-bench-exporter-mig-\(getpid())"
        defer {
            for uri in [lab.a.uri, lab.b.uri] { _ = spawnAndWait("/usr/bin/virsh", ["-c", uri, "destroy", name]) }
        }
        let guest = try await a.createDomain(xml: try await Lab.guestXML(name, disk: "busy"))
        guard await Lab.waitUntilBusy(uri: lab.a.uri, name: name) else { throw BenchError("the busy guest never ran its loop") }
        var engines: [(String, BackgroundProcess, Int)] = []
        defer { for (_, p, _) in engines { p.stop() } }
        let vkPort = freeLoopbackPort()
        engines.append(("virtkit-exporter", try BackgroundProcess(o.exporter, ["--uri", "qemu:///system", "--listen", "127.0.0.1:\(vkPort)", "--log-level", "warning"], tag: "bench-virtkit-exporter"), vkPort))
        if kumina {
            let kPort = freeLoopbackPort()
            engines.append(("prometheus-libvirt-exporter (kumina)", try BackgroundProcess(o.kumina, ["--libvirt.uri=qemu:///system", "--web.listen-address=127.0.0.1:\(kPort)"], tag: "bench-kumina"), kPort))
        }
        for (_, _, port) in engines {
            for _ in 0..<max(1, o.warmup) { _ = loopbackHTTPGet(port: port, path: "/metrics", timeout: 60) }
        }
        var opts = MigrationOptions()
        opts.live = true
        opts.migrateURI = lab.b.migrateURI
        opts.bandwidthMiBPerSecond = 1
        let running = MigrationFlag()
        let migration = Task {
            defer { running.finish() }
            return try await guest.migrate(to: .connection(b), options: opts, pollInterval: .milliseconds(50)) { s in
                if s.isActive { running.start() }
            }
        }
        while !running.started && !running.finished { try await Task.sleep(for: .milliseconds(10)) }
        let start = ContinuousClock.now
        let results = await withTaskGroup(of: (Int, [Double], Int, Int).self) { group in
            for (i, (_, _, port)) in engines.enumerated() {
                group.addTask {
                    await withCheckedContinuation { c in
                        Thread {
                            var lat: [Double] = [], failures = 0, withGuest = 0
                            while !running.finished {
                                let t0 = ContinuousClock.now
                                let r = loopbackHTTPGet(port: port, path: "/metrics", timeout: 60)
                                let dt = (ContinuousClock.now - t0).inSeconds
                                guard let r, r.status == 200 else { failures += 1; continue }
                                lat.append(dt)
                                if String(decoding: r.body, as: UTF8.self).contains("domain=\"\(name)\"") { withGuest += 1 }
                            }
                            c.resume(returning: (i, lat, failures, withGuest))
                        }.start()
                    }
                }
            }
            var out: [(Int, [Double], Int, Int)] = []
            for await r in group { out.append(r) }
            return out.sorted { $0.0 < $1.0 }
        }
        let jobTime = (ContinuousClock.now - start).inSeconds
        let result = try await migration.value
        print("\n(c) qemu:///system while \(name) migrates to host B at 1 MiB/s (job \(String(format: "%.1f", jobTime)) s, \(result.finalStats?.type == .completed ? "completed" : "not completed"))")
        print("engine                                 scrapes  median ms     max ms  failures  over 3 s  with the migrating guest")
        for (i, lat, failures, withGuest) in results {
            print(engines[i].0.padding(toLength: 38, withPad: " ", startingAt: 0) + String(format: " %7d  %9.2f  %9.2f  %8d  %8d  %d", lat.count,
                  percentile(lat, 50) * 1e3, (lat.max() ?? .nan) * 1e3, failures, lat.filter { $0 > 3 }.count, withGuest))
        }
        for (i, _, failures, _) in results where failures > 0 {
            print("\(engines[i].0) failures: its log ends with: \(engines[i].1.log.suffix(1500))")
        }
        await a.close()
        await b.close()
    }

    /// The value of `virtkit_exporter_scrape_duration_seconds` (the exposition's last line).
    static func scrapeDuration(_ body: [UInt8]) -> Double? {
        let key = Array("\nvirtkit_exporter_scrape_duration_seconds ".utf8)
        guard body.count > key.count else { return nil }
        var i = body.count - key.count
        let floor = max(0, body.count - 4096)
        while i >= floor {
            if body[i] == key[0], body[i..<i + key.count].elementsEqual(key) {
                let rest = body[(i + key.count)...].prefix { $0 != UInt8(ascii: "\n") }
                return Double(String(decoding: rest, as: UTF8.self))
            }
            i -= 1
        }
        return nil
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

/// The migration job's start and end, set from its progress callback and task.
private final class MigrationFlag: @unchecked Sendable {  // guarded by lock
    private let lock = NSLock()
    private var s = false, f = false
    func start() { lock.lock(); s = true; lock.unlock() }
    func finish() { lock.lock(); f = true; lock.unlock() }
    var started: Bool { lock.lock(); defer { lock.unlock() }; return s }
    var finished: Bool { lock.lock(); defer { lock.unlock() }; return f }
}
