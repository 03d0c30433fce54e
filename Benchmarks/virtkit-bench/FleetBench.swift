import CLibvirt
import Foundation
import Libvirt
import LibvirtFleet
import VirtCore

/// `virtkit-bench fleet`: fleet inventory at scale and on the lab.
///
/// (a) simulation: H test-driver hosts (one `test:///PATH` node file each, G guests each)
///     inventoried with bounded concurrency, for H = 125, 250, 500, 1000 (up to --hosts):
///     time of the first inventory (connects included) and of a second one (connections
///     kept), RSS after each size and the process's peak RSS; how both grow with H. The
///     reference in the same run is the same inventory with concurrency 1 (serial).
///     Goal: 1,000 hosts × 50 guests in under 10 s.
/// (b) lab (when `lab.sh up` and `up-c` ran): each of A, B, C inventoried alone vs the three
///     as one fleet, interleaved round by round (median of K rounds); goal: fleet ≤ 1.2 × the
///     slowest single host.
///
/// Options: --hosts H (1000), --guests G (50), --concurrency N (16), --iterations K (21),
///          --skip-sim, --skip-lab
enum FleetBench {
    struct Options {
        var hosts = 1000
        var guests = 50
        var concurrency = 16
        var iterations = 21
        var skipSim = false
        var skipLab = false
    }

    static func run(arguments: [String]) async throws {
        var o = Options()
        var it = arguments.makeIterator()
        while let a = it.next() {
            switch a {
            case "--hosts": o.hosts = Int(it.next() ?? "") ?? o.hosts
            case "--guests": o.guests = Int(it.next() ?? "") ?? o.guests
            case "--concurrency": o.concurrency = Int(it.next() ?? "") ?? o.concurrency
            case "--iterations": o.iterations = max(1, Int(it.next() ?? "") ?? o.iterations)
            case "--skip-sim": o.skipSim = true
            case "--skip-lab": o.skipLab = true
            default: throw BenchError("unknown option \(a)")
            }
        }
        if !o.skipSim { try await simulation(o) }
        if !o.skipLab { try await lab(o) }
    }

    // MARK: (a) simulation

    static func simulation(_ o: Options) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-bench-fleet-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let xml = LibvirtBench.fleetXML(o.guests)
        for i in 0..<o.hosts { try xml.write(to: dir.appendingPathComponent("node-\(i).xml"), atomically: false, encoding: .utf8) }
        func hosts(_ n: Int) -> [FleetHost] {
            (0..<n).map { FleetHost(name: "sim-\($0)", uri: "test://\(dir.path)/node-\($0).xml", readOnly: true) }
        }
        print("(a) \(o.hosts) test-driver hosts × \(o.guests) guests, concurrency \(o.concurrency) (RSS at start \(mib(DomainXMLBench.currentRSS())))")

        // Reference: serial (concurrency 1) on the smallest size.
        let small = min(125, o.hosts)
        let serial = try await timeInventory(hosts(small), concurrency: 1, expect: o.guests)
        let bounded = try await timeInventory(hosts(small), concurrency: o.concurrency, expect: o.guests)
        print(String(format: "  %d hosts: serial %.2f s, concurrency %d %.2f s (%.2fx the serial time)",
                     small, serial.cold, o.concurrency, bounded.cold, bounded.cold / serial.cold))

        print("  hosts   first(s)  CPU(s)  connect(s)  its CPU(s)  again(s)  per host(ms)  RSS after  peak RSS")
        var sizes = [125, 250, 500, 1000].filter { $0 < o.hosts } + [o.hosts]
        sizes = Array(Set(sizes)).sorted()
        print("  (first: connect + inventory, CPU = this process's CPU time in it — the test driver parses each node file in-process; connect: the open part of it; again: kept connections)")
        var rows: [(Int, Double, Int)] = []
        var lastCPU = 0.0, lastConnectCPU = 0.0
        for n in sizes {
            let r = try await timeInventory(hosts(n), concurrency: o.concurrency, expect: o.guests)
            let rss = r.rssAfter
            rows.append((n, r.cold, rss))
            lastCPU = r.coldCPU
            lastConnectCPU = r.connectCPU
            print(String(format: "  %5d  %8.2f  %6.2f  %10.2f  %10.2f  %8.2f  %12.2f  ", n, r.cold, r.coldCPU, r.connect, r.connectCPU, r.warm, r.cold / Double(n) * 1000)
                + "\(mib(rss).padding(toLength: 9, withPad: " ", startingAt: 0))  \(mib(DomainXMLBench.peakRSSKiB() * 1024))")
        }
        if let first = rows.first, let last = rows.last, last.0 > first.0 {
            let k = Double(last.0) / Double(first.0)
            print(String(format: "  growth %dx hosts: time %.2fx, RSS %.2fx", Int(k), last.1 / first.1, Double(last.2) / Double(max(1, first.2))))
        }
        if let last = rows.last, last.0 >= 1000 {
            print(String(format: "  goal: %d hosts in %.2f s (< 10 s) — ", last.0, last.1) + (last.1 < 10 ? "met" : "NOT met"))
        }
        // Reference: libvirt alone opening (and closing) the same node files with the C API,
        // serially — the test driver's in-process parse of each file, which no client avoids.
        if let last = rows.last {
            try LibvirtLibrary.initialize()
            let t0 = ContinuousClock.now, cpu0 = processCPUSeconds()
            for i in 0..<last.0 {
                guard let c = virConnectOpenReadOnly("test://\(dir.path)/node-\(i).xml") else { throw BenchError("virConnectOpenReadOnly node-\(i) failed") }
                virConnectClose(c)
            }
            let wall = t0.duration(to: .now).inSeconds, cpu = processCPUSeconds() - cpu0
            print(String(format: "  reference, libvirt alone: virConnectOpen + close of the %d node files, serial: %.2f s wall, %.2f s CPU; ", last.0, wall, cpu)
                + String(format: "the fleet's first inventory took %.2fx that CPU (its connect phase %.2fx): libvirt's own open is %.0f %% of it", lastCPU / cpu, lastConnectCPU / cpu, cpu / lastCPU * 100))
            let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
            print(String(format: "  floor on this machine: that CPU over %.0f cores = %.2f s when the cores are free; this run got %.2f cores (CPU / wall)", cores, lastCPU / cores, lastCPU / last.1)
                  + " (load average now \(loadAverage()); with sched autogroup a session's threads share one slot against other sessions, so more threads do not add CPU)")
        }
    }

    struct Timing {
        var cold: Double
        var warm: Double
        var coldCPU: Double
        var rssAfter: Int
        /// The first inventory split: connecting (the test driver parses the node file in
        /// `virConnectOpen`) and the inventory on the fresh connections.
        var connect: Double
        var connectCPU: Double
    }

    /// Inventories `hosts` twice (connect, inventory, then inventory on kept connections).
    static func timeInventory(_ hosts: [FleetHost], concurrency: Int, expect guests: Int) async throws -> Timing {
        let fleet = try Fleet(hosts: hosts, options: .init(concurrency: concurrency, deadline: .seconds(60)))
        var t0 = ContinuousClock.now
        let cpu0 = processCPUSeconds()
        // Connecting alone first (a no-op on each host), so its share of the first inventory shows.
        let opened = await fleet.run { _, _ in true }
        let connect = t0.duration(to: .now).inSeconds
        let connectCPU = processCPUSeconds() - cpu0
        guard opened.values.count == hosts.count else { throw BenchError("connect: \(opened.summary)") }
        let first = await fleet.inventory()
        let cold = t0.duration(to: .now).inSeconds
        let coldCPU = processCPUSeconds() - cpu0
        t0 = .now
        let again = await fleet.inventory()
        let warm = t0.duration(to: .now).inSeconds
        let rss = DomainXMLBench.currentRSS()
        for inv in [first, again] {
            guard inv.missing.isEmpty, inv.hosts.allSatisfy({ $0.guests.count == guests }) else {
                throw BenchError("inventory incomplete: \(inv.summary); first missing \(inv.missing.first.map { "\($0.host): \($0.error ?? $0.result)" } ?? "-")")
            }
        }
        await fleet.shutdown()
        return Timing(cold: cold, warm: warm, coldCPU: coldCPU, rssAfter: rss, connect: connect, connectCPU: connectCPU)
    }

    // MARK: (b) lab

    static func lab(_ o: Options) async throws {
        let labDir = ProcessInfo.processInfo.environment["VIRTKIT_LAB_DIR"] ?? "/var/lib/virtkit-lab"
        let hosts = [
            FleetHost(name: "A", uri: "qemu+unix:///system?socket=\(labDir)/hosta/run/libvirt-sock", readOnly: true),
            FleetHost(name: "B", uri: "qemu+unix:///system?socket=\(labDir)/hostb/run/libvirt-sock", readOnly: true),
            FleetHost(name: "C", uri: "qemu+tls://127.0.0.1:16516/system", readOnly: true, tls: .init(pkiPath: "\(labDir)/pki/client")),
        ]
        let probe = try Fleet(hosts: hosts, options: .init(deadline: .seconds(10)))
        let check = await probe.inventory()
        await probe.shutdown()
        guard check.missing.isEmpty else {
            print("(b) lab: skipped — not every host answers (Scripts/lab.sh up && Scripts/lab.sh up-c): \(check.missing.map { "\($0.host) \($0.result)" })")
            return
        }
        print("(b) lab A, B, C (C over TLS), \(o.iterations) interleaved rounds (A, B, C, fleet), connections kept between runs")
        // CPU of this process and the three daemons per run: when it approaches the cores the
        // machine can give, hosts cannot overlap, whatever the client does.
        let daemons = ["/run/libvirtd.pid", "\(labDir)/hostb/libvirtd.pid", "\(labDir)/hostc/libvirtd.pid"].compactMap { path in
            (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        // Interleaved: each round inventories A alone, B alone, C alone and the three as one
        // fleet, one after the other, so single hosts and the fleet are measured under the
        // same load (the machine is shared; measured in separate phases, a load swing between
        // phases shows up as a fleet overhead that is not the fleet's).
        let sets = hosts.map { [$0] } + [hosts]
        let fleets = try sets.map { try Fleet(hosts: $0, options: .init(concurrency: $0.count, deadline: .seconds(20))) }
        for f in fleets { _ = await f.inventory() }  // connect, fill the caches
        var samples = [[Double]](repeating: [], count: sets.count)
        var clientCPU = [Double](repeating: 0, count: sets.count)
        var daemonCPU = [Double](repeating: 0, count: sets.count)
        for _ in 0..<o.iterations {
            for (i, f) in fleets.enumerated() {
                let cpu0 = processCPUSeconds(), d0 = daemons.map(cpuSeconds(pid:))
                let t0 = ContinuousClock.now
                let inv = await f.inventory()
                samples[i].append(t0.duration(to: .now).inSeconds)
                clientCPU[i] += processCPUSeconds() - cpu0
                daemonCPU[i] += zip(daemons.map(cpuSeconds(pid:)), d0).reduce(0) { $0 + $1.0 - $1.1 }
                guard inv.missing.isEmpty else { throw BenchError("lab inventory incomplete: \(inv.summary)") }
            }
        }
        for f in fleets { await f.shutdown() }
        let n = Double(o.iterations)
        var singles: [(String, Double)] = []
        for (i, h) in hosts.enumerated() {
            singles.append((h.name, median(samples[i])))
            print("  \(h.name) alone: " + String(format: "%.2f ms (CPU per run: client %.2f ms, daemons %.2f ms)", median(samples[i]) * 1000, clientCPU[i] / n * 1000, daemonCPU[i] / n * 1000))
        }
        let all = (wall: median(samples[3]), clientCPU: clientCPU[3] / n, daemonCPU: daemonCPU[3] / n)
        let slowest = singles.max { $0.1 < $1.1 }!
        print(String(format: "  fleet of 3: %.2f ms = %.2fx the slowest single host ", all.wall * 1000, all.wall / slowest.1)
            + "(\(slowest.0)) — goal ≤ 1.2x: " + (all.wall / slowest.1 <= 1.2 ? "met" : "NOT met"))
        print(String(format: "  CPU per fleet run: client %.2f ms + daemons %.2f ms = %.2f cores busy over the run; sum of the single-host medians %.2f ms; ",
                     all.clientCPU * 1000, all.daemonCPU * 1000, (all.clientCPU + all.daemonCPU) / all.wall,
                     singles.reduce(0) { $0 + $1.1 } * 1000) + "load average \(loadAverage())")
    }

    /// utime + stime of a process (/proc/PID/stat), seconds; 0 when unreadable.
    static func cpuSeconds(pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return 0 }
        let f = stat[stat.index(after: close)...].split(separator: " ")
        guard f.count > 13, let u = Double(f[11]), let s = Double(f[12]) else { return 0 }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    }

    static func mib(_ bytes: Int) -> String { String(format: "%.0f MiB", Double(bytes) / 1_048_576) }
}

