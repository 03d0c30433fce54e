import CLibvirt
import Foundation
import Libvirt

/// `virtkit-bench libvirt`: all-domain stats fully decoded to typed records (VirtKit,
/// through its thread pool) vs python3-libvirt's `getAllDomainStats()` and vs the raw C
/// calls alone (`virConnectGetAllDomainStats` + `virDomainStatsRecordListFree`, no
/// decode), in the same run, on the same URI and stats groups:
///   (a) a test-driver fleet of N domains (state group; the test driver has no other),
///   (b) qemu:///system with M small diskless guests started here and destroyed after.
/// Options: --fleet N (1000), --guests M (20), --iterations K (60; live: K/12, at least 3), --rounds R (9),
///          --skip-live, --python PATH (/usr/bin/python3).
enum LibvirtBench {
    struct Options {
        var fleet = 1000
        var guests = 20
        var fleetIterations = 60
        var liveIterations = 5
        var rounds = 9
        var skipLive = false
        var python = "/usr/bin/python3"
    }

    static func run(arguments: [String]) async throws {
        var o = Options()
        var it = arguments.makeIterator()
        while let a = it.next() {
            switch a {
            case "--fleet": o.fleet = Int(it.next() ?? "") ?? o.fleet
            case "--guests": o.guests = Int(it.next() ?? "") ?? o.guests
            case "--iterations":
                let n = Int(it.next() ?? "") ?? o.fleetIterations
                o.fleetIterations = n
                o.liveIterations = max(3, n / 12)
            case "--rounds": o.rounds = Int(it.next() ?? "") ?? o.rounds
            case "--skip-live": o.skipLive = true
            case "--python": o.python = it.next() ?? o.python
            default: throw BenchError("unknown option \(a)")
            }
        }
        say("libvirt bench — \(try LibvirtLibrary.version()), VirtKit pool \(LibvirtThreadPool.shared.threadCount) threads")

        // (a) test-driver fleet
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-bench-fleet-\(getpid()).xml").path
        try fleetXML(o.fleet).write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        try await compare(
            title: "(a) test driver, \(o.fleet) domains, state group", uri: "test://\(path)",
            groups: .state, iterations: o.fleetIterations, rounds: o.rounds, python: o.python, expect: o.fleet)

        // (b) real daemon
        if o.skipLive { return }
        let conn: Connection
        do { conn = try await Connection.open("qemu:///system") } catch {
            say("(b) SKIPPED: cannot open qemu:///system: \(error)")
            return
        }
        let guests = try await startGuests(conn, count: o.guests)
        do {
            let total = try await conn.listAllDomains(flags: .active).count
            let groups: DomainStatsGroups = [.state, .cpuTotal, .balloon, .vcpu, .interface, .block, .perf]
            try await compare(
                title: "(b) qemu:///system, \(guests.count) bench guests (\(total) running), all groups", uri: "qemu:///system",
                groups: groups, iterations: o.liveIterations, rounds: o.rounds, python: o.python, expect: nil)
        } catch {
            await stopGuests(guests)
            throw error
        }
        await stopGuests(guests)
        await conn.close()
    }

    // MARK: Measurement

    static func compare(title: String, uri: String, groups: DomainStatsGroups, iterations: Int, rounds: Int, python: String, expect: Int?) async throws {
        say("\n\(title)")
        let conn = try await Connection.open(uri)
        guard let raw = virConnectOpen(uri) else { throw BenchError("virConnectOpen(\(uri)) failed") }
        defer { virConnectClose(raw) }
        // Warm up and check both see the same domains.
        let warm = try await conn.allDomainStats(groups: groups)
        if let expect, warm.count != expect { throw BenchError("expected \(expect) records, got \(warm.count)") }
        let fields = warm.reduce(0) { $0 + fieldCount($1) }
        say("  \(warm.count) records, \(fields) typed fields + \(warm.reduce(0) { $0 + $1.extra.count }) extra fields per call")

        var cS: [Sample] = [], swS: [Sample] = [], hS: [Sample] = [], pyS: [Sample] = []
        for _ in 0..<rounds {
            cS.append(try rawC(raw, groups: groups, iterations: iterations))
            swS.append(try await typed(conn, groups: groups, iterations: iterations, handles: false))
            hS.append(try await typed(conn, groups: groups, iterations: iterations, handles: true))
            pyS.append(try pythonTime(python, uri: uri, groups: groups, iterations: iterations))
        }
        await conn.close()
        // The host is shared and noisy (other builds): rounds interleave the three engines
        // and each engine's best round counts. Process CPU time (CLOCK_PROCESS_CPUTIME_ID /
        // time.process_time) is immune to preemption and measures the client's own work —
        // the figure for the in-process test driver; wall time includes the daemon's work —
        // the figure for qemu:///system.
        for (label, key) in [("wall", \Sample.wall), ("client CPU", \Sample.cpu)] {
            let c = cS.map { $0[keyPath: key] }, w = swS.map { $0[keyPath: key] }, p = pyS.map { $0[keyPath: key] }
            let h = hS.map { $0[keyPath: key] }
            let cb = c.min() ?? 0, wb = w.min() ?? 0, pb = p.min() ?? 0, hb = h.min() ?? 0
            func ms(_ t: Double) -> String { String(format: "%8.3f ms", t * 1e3) }
            func list(_ xs: [Double]) -> String { xs.map { String(format: "%.2f", $0 * 1e3) }.joined(separator: " ") }
            say("  [\(label) time per call]")
            say("    raw C (no decode)      best \(ms(cb))  median \(ms(median(c)))  rounds: \(list(c))")
            say("    VirtKit typed records  best \(ms(wb))  median \(ms(median(w)))  rounds: \(list(w))")
            say("    … with Domain handles  best \(ms(hb))  median \(ms(median(h)))  rounds: \(list(h))")
            say("    python3-libvirt dicts  best \(ms(pb))  median \(ms(median(p)))  rounds: \(list(p))")
            say(String(format: "    ratios (best): VirtKit/raw C = %.3fx (goal ≤ 1.2x) · Python/VirtKit = %.2fx (goal ≥ 1x) · Python/raw C = %.2fx", wb / cb, pb / wb, pb / cb))
            say(String(format: "    with handles (best): VirtKit/raw C = %.3fx · Python/VirtKit = %.2fx", hb / cb, pb / hb))
        }
    }

    /// Seconds per call: elapsed and this process's CPU time.
    struct Sample {
        var wall: Double
        var cpu: Double
    }

    static func clocks() -> (wall: Double, cpu: Double) {
        var w = timespec(), c = timespec()
        clock_gettime(CLOCK_MONOTONIC, &w)
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c)
        return (Double(w.tv_sec) + Double(w.tv_nsec) / 1e9, Double(c.tv_sec) + Double(c.tv_nsec) / 1e9)
    }

    static func sample(since start: (wall: Double, cpu: Double), iterations: Int) -> Sample {
        let end = clocks()
        return Sample(wall: (end.wall - start.wall) / Double(iterations), cpu: (end.cpu - start.cpu) / Double(iterations))
    }

    static func fieldCount(_ s: DomainStats) -> Int {
        var n = s.state == nil ? 0 : 2
        if let c = s.cpu { n += [c.time, c.user, c.system].compactMap { $0 }.count }
        if s.balloon != nil { n += 1 }
        n += (s.vcpu?.entries.count ?? 0) * 4 + s.interfaces.count * 9 + s.blocks.count * 10 + s.perf.count
        return n
    }

    /// The raw C pair, on the calling thread.
    static func rawC(_ c: OpaquePointer, groups: DomainStatsGroups, iterations: Int) throws -> Sample {
        let start = clocks()
        for _ in 0..<iterations {
            var records: UnsafeMutablePointer<virDomainStatsRecordPtr?>?
            guard virConnectGetAllDomainStats(c, groups.rawValue, &records, 0) >= 0 else { throw BenchError("virConnectGetAllDomainStats failed") }
            virDomainStatsRecordListFree(records)
        }
        return sample(since: start, iterations: iterations)
    }

    /// VirtKit's async, fully decoded API (records dropped each iteration, freeing the handles).
    static func typed(_ conn: Connection, groups: DomainStatsGroups, iterations: Int, handles: Bool) async throws -> Sample {
        var sink = 0
        let start = clocks()
        for _ in 0..<iterations {
            let s = try await conn.allDomainStats(groups: groups, handles: handles)
            sink &+= s.count
        }
        let result = sample(since: start, iterations: iterations)
        if sink == -1 { say("\(sink)") }
        return result
    }

    /// python3-libvirt, timed inside Python (interpreter start excluded).
    static func pythonTime(_ python: String, uri: String, groups: DomainStatsGroups, iterations: Int) throws -> Sample {
        let script = """
        import libvirt, sys, time
        libvirt.registerErrorHandler(lambda *a: None, None)
        c = libvirt.open(sys.argv[1]); g = int(sys.argv[2]); n = int(sys.argv[3])
        c.getAllDomainStats(g, 0)
        t = time.perf_counter(); u = time.process_time()
        for _ in range(n): r = c.getAllDomainStats(g, 0)
        print((time.perf_counter() - t) / n, (time.process_time() - u) / n)
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", script, uri, String(groups.rawValue), String(iterations)]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let parts = String(decoding: data, as: UTF8.self).split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard p.terminationStatus == 0, parts.count == 2 else {
            throw BenchError("python3-libvirt run failed (status \(p.terminationStatus)); is python3-libvirt installed for \(python)?")
        }
        return Sample(wall: parts[0], cpu: parts[1])
    }

    // MARK: Fixtures

    /// A test-driver node with `n` domains cycling through running, paused, shut off, crashed, pmsuspended.
    static func fleetXML(_ n: Int) -> String {
        var xml = "<node>\n<cpu><mhz>2400</mhz><model>x86_64</model><active>8</active><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>2</threads></cpu>\n<memory>16777216</memory>\n"
        let states = [1, 3, 5, 6, 7]
        for i in 0..<n {
            xml += "<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'><name>bench-\(i)</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os><test:runstate>\(states[i % states.count])</test:runstate></domain>\n"
        }
        return xml + "</node>\n"
    }

    /// Starts `count` transient 64 MiB diskless guests; stops the ones started if one fails.
    static func startGuests(_ conn: Connection, count: Int) async throws -> [Domain] {
        let kvm = access("/dev/kvm", R_OK | W_OK) == 0
        var started: [Domain] = []
        for i in 0..<count {
            let xml = """
            <domain type='\(kvm ? "kvm" : "qemu")'><name>virtkit-bench-\(getpid())-\(i)</name>
            <memory unit='MiB'>64</memory><vcpu>1</vcpu>
            <os><type arch='x86_64' machine='pc'>hvm</type></os>
            <devices><console type='pty'/><memballoon model='virtio'/></devices></domain>
            """
            do {
                started.append(try await conn.createDomain(xml: xml))
            } catch {
                await stopGuests(started)
                throw error
            }
        }
        say("\nstarted \(started.count) bench guests (\(kvm ? "kvm" : "tcg"))")
        return started
    }

    static func stopGuests(_ guests: [Domain]) async {
        for d in guests { try? await d.destroy() }
        if !guests.isEmpty { say("destroyed \(guests.count) bench guests") }
    }
}

/// Writes a line unbuffered (progress shows even when piped).
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
