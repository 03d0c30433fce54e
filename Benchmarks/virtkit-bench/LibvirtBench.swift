import CLibvirt
import VirtCore
import Foundation
import Libvirt

/// `virtkit-bench libvirt`: all-domain stats fully decoded to typed records (VirtKit,
/// through its thread pool) vs python3-libvirt's `getAllDomainStats()` and vs the raw C
/// calls alone (`virConnectGetAllDomainStats` + `virDomainStatsRecordListFree`, no
/// decode), in the same run, on the same URI and stats groups:
///   (a) a test-driver fleet of N domains (state group; the test driver has no other),
///   (b) qemu:///system with M small diskless guests (`bench-<pid>-<i>`) started here,
///       measured once they are idle, and destroyed after.
/// Each round runs every engine (in a rotated order) for K calls; the report gives medians
/// over rounds of client CPU time and wall time per call, and the three ratios. Engines:
/// raw C; raw C run on VirtKit's pool (the cost of the thread hop alone); VirtKit called
/// from a task on Swift's cooperative pool (the default: a hop per call); VirtKit from a
/// task on the pool as its task executor (calls run in place); VirtKit with a `Domain`
/// handle per record; python3-libvirt.
/// Options: --fleet N (1000), --guests M (20), --iterations K (60; live: K/6, at least 5),
///          --rounds R (15), --skip-live, --skip-fleet, --python PATH (/usr/bin/python3),
///          --idle-timeout S (300), --profile ENGINE --uri URI (one engine in a loop, for perf).
enum LibvirtBench {
    struct Options {
        var fleet = 1000
        var guests = 20
        var fleetIterations = 60
        var liveIterations = 10
        var rounds = 15
        var skipLive = false
        var skipFleet = false
        var python = "/usr/bin/python3"
        var idleTimeout = 300.0
        /// `--profile ENGINE --uri URI`: only that engine in a loop (for perf), no guests.
        var profile: Engine?
        var uri: String?
    }

    /// What is timed.
    enum Engine: String, CaseIterable {
        /// The C pair on the calling thread, nothing decoded.
        case raw
        /// The C pair run on VirtKit's pool (the thread hop alone, nothing decoded).
        case rawPool = "raw-pool"
        /// `Connection.allDomainStats()`: pool hop + typed records.
        case virtkit
        /// The same calls from a task running on VirtKit's pool as its task executor
        /// (`withTaskExecutorPreference(BlockingThreadPool.libvirt)`): no hop per call.
        case executor = "virtkit-executor"
        /// … with a `Domain` handle per record.
        case handles
        /// python3-libvirt's `getAllDomainStats()` in a subprocess (timed inside Python).
        case python
        /// Diagnostic (`--profile` only): the raw C pair from a task on the pool executor.
        case rawExecutor = "raw-executor"

        /// The engines every round runs.
        static let measured: [Engine] = [.raw, .rawPool, .virtkit, .executor, .handles, .python]

        var label: String {
            switch self {
            case .raw: "raw C (no decode)"
            case .rawPool: "raw C on VirtKit's pool"
            case .virtkit: "VirtKit typed records"
            case .executor: "VirtKit, task on pool executor"
            case .handles: "… with Domain handles"
            case .python: "python3-libvirt dicts"
            case .rawExecutor: "raw C, task on pool executor"
            }
        }
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
                o.liveIterations = max(5, n / 6)
            case "--rounds": o.rounds = Int(it.next() ?? "") ?? o.rounds
            case "--skip-live": o.skipLive = true
            case "--skip-fleet": o.skipFleet = true
            case "--idle-timeout": o.idleTimeout = Double(it.next() ?? "") ?? o.idleTimeout
            case "--python": o.python = it.next() ?? o.python
            case "--profile":
                let name = it.next() ?? ""
                guard let e = Engine(rawValue: name), e != .python else { throw BenchError("--profile takes raw, raw-pool, virtkit or handles") }
                o.profile = e
            case "--uri": o.uri = it.next()
            default: throw BenchError("unknown option \(a)")
            }
        }
        if let engine = o.profile {
            let uri = o.uri ?? "qemu:///system"
            let groups: DomainStatsGroups = uri.hasPrefix("test:") ? .state : liveGroups
            let conn = try await Connection.open(uri)
            guard let raw = virConnectOpen(uri) else { throw BenchError("virConnectOpen(\(uri)) failed") }
            defer { virConnectClose(raw) }
            let byThread0 = contextSwitchesByThread()
            let switches0 = contextSwitches()
            var ru0 = rusage()
            getrusage(RUSAGE_SELF.rawValue, &ru0)
            let s = try await measure(engine, conn: conn, raw: raw, uri: uri, groups: groups, iterations: o.fleetIterations, python: o.python)
            let switches = Double(contextSwitches() - switches0) / Double(o.fleetIterations)
            var ru1 = rusage()
            getrusage(RUSAGE_SELF.rawValue, &ru1)
            let faults = Double(ru1.ru_minflt - ru0.ru_minflt) / Double(o.fleetIterations)
            say(String(format: "%@: wall %.3f ms, client CPU %.3f ms, %.1f context switches, %.1f page faults per call", engine.rawValue, s.wall * 1e3, s.cpu * 1e3, switches, faults))
            for (t, n) in contextSwitchesByThread().sorted(by: { $0.key < $1.key }) where n - (byThread0[t] ?? 0) > 0 {
                say(String(format: "  %@: %.2f per call", t, Double(n - (byThread0[t] ?? 0)) / Double(o.fleetIterations)))
            }
            await conn.close()
            return
        }
        say("libvirt bench — \(try LibvirtLibrary.version()), VirtKit pool \(BlockingThreadPool.libvirt.threadCount) threads, \(o.rounds) rounds")

        // (a) test-driver fleet
        if !o.skipFleet {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-bench-fleet-\(getpid()).xml").path
            try fleetXML(o.fleet).write(toFile: path, atomically: true, encoding: .utf8)
            defer { unlink(path) }
            try await compare(
                title: "(a) test driver, \(o.fleet) domains, state group", uri: "test://\(path)",
                groups: .state, iterations: o.fleetIterations, rounds: o.rounds, python: o.python, expect: o.fleet)
        }

        // (b) real daemon
        if o.skipLive { return }
        let conn: Connection
        do { conn = try await Connection.open("qemu:///system") } catch {
            say("(b) SKIPPED: cannot open qemu:///system: \(error)")
            return
        }
        let guests = try await startGuests(conn, count: o.guests)
        do {
            if !guests.isEmpty { try await waitUntilIdle(conn, guests: guests, timeout: o.idleTimeout) }
            let before = try await guestCPU(conn, guests)
            let total = try await conn.listAllDomains(flags: .active).count
            try await compare(
                title: "(b) qemu:///system, \(guests.count) bench guests (\(total) domains running), all groups", uri: "qemu:///system",
                groups: liveGroups, iterations: o.liveIterations, rounds: o.rounds, python: o.python, expect: nil)
            let after = try await guestCPU(conn, guests)
            say(String(format: "  bench guests used %.1f%% of one CPU in total during the measurement (QEMU's own CPU time, all %d)",
                       100 * (after.ns - before.ns) / 1e9 / max(after.at - before.at, 1e-9), guests.count))
        } catch {
            await stopGuests(guests)
            throw error
        }
        await stopGuests(guests)
        await conn.close()
    }

    /// Every group the issue names for (b): state, cpu, balloon, vcpu, net, block, perf.
    static let liveGroups: DomainStatsGroups = [.state, .cpuTotal, .balloon, .vcpu, .interface, .block, .perf]

    // MARK: Measurement

    static func compare(title: String, uri: String, groups: DomainStatsGroups, iterations: Int, rounds: Int, python: String, expect: Int?) async throws {
        say("\n\(title)")
        let conn = try await Connection.open(uri)
        guard let raw = virConnectOpen(uri) else { throw BenchError("virConnectOpen(\(uri)) failed") }
        defer { virConnectClose(raw) }
        // Warm up and check the records are complete.
        let warm = try await conn.allDomainStats(groups: groups)
        if let expect, warm.count != expect { throw BenchError("expected \(expect) records, got \(warm.count)") }
        let fields = try await conn.allDomainStatsRaw(groups: groups).reduce(0) { $0 + $1.parameters.count }
        let untyped = warm.reduce(0) { $0 + $1.extra.count }
        say("  \(warm.count) records, \(fields) fields per call (\(fields - untyped) typed, \(untyped) in `extra`), \(iterations) calls per engine per round")

        // Rounds interleave the engines, each round in a rotated order, so slow phases of
        // this shared, noisy host (other builds, guests) hit every engine alike; medians
        // over rounds are reported. Client CPU time (CLOCK_PROCESS_CPUTIME_ID here,
        // time.process_time() in Python: every thread of the client process, so VirtKit's
        // pool thread and the awaiting task both count) is the client's own work; wall
        // time adds the daemon's.
        var samples: [Engine: [Sample]] = [:]
        let engines = Engine.measured
        for r in 0..<rounds {
            for k in 0..<engines.count {
                let e = engines[(r + k) % engines.count]
                samples[e, default: []].append(try await measure(e, conn: conn, raw: raw, uri: uri, groups: groups, iterations: iterations, python: python))
            }
        }
        await conn.close()
        func ms(_ t: Double) -> String { String(format: "%7.3f", t * 1e3) }
        for (label, key) in [("client CPU", \Sample.cpu), ("wall", \Sample.wall)] {
            say("  [\(label) time per call, ms]           median     min     max")
            for e in engines {
                let xs = (samples[e] ?? []).map { $0[keyPath: key] }
                say("    \(e.label.padding(toLength: 28, withPad: " ", startingAt: 0))  \(ms(median(xs)))  \(ms(xs.min() ?? .nan))  \(ms(xs.max() ?? .nan))")
            }
            func med(_ e: Engine) -> Double { median((samples[e] ?? []).map { $0[keyPath: key] }) }
            // Per-round ratios too: each round's engines ran back to back, so their ratio
            // cancels the slow drifts of the host.
            func paired(_ a: Engine, _ b: Engine) -> Double {
                median(zip(samples[a] ?? [], samples[b] ?? []).map { $0[keyPath: key] / $1[keyPath: key] })
            }
            let (c, v, p, h, rp, x) = (med(.raw), med(.virtkit), med(.python), med(.handles), med(.rawPool), med(.executor))
            say(String(format: "    ratios of medians: VirtKit/raw C = %.3fx (goal ≤ 1.2x) · Python/VirtKit = %.2fx (goal ≥ 1x) · Python/raw C = %.2fx",
                       v / c, p / v, p / c))
            say(String(format: "    median per-round ratios: VirtKit/raw C = %.3fx · Python/VirtKit = %.2fx · Python/raw C = %.2fx",
                       paired(.virtkit, .raw), paired(.python, .virtkit), paired(.python, .raw)))
            say(String(format: "    task on the pool executor (no hop per call): VirtKit/raw C = %.3fx (per round %.3fx) · Python/VirtKit = %.2fx (per round %.2fx)",
                       x / c, paired(.executor, .raw), p / x, paired(.python, .executor)))
            say(String(format: "    pool hop alone: raw C on pool/raw C = %.3fx · with handles: VirtKit/raw C = %.3fx, Python/VirtKit = %.2fx",
                       rp / c, h / c, p / h))
        }
    }

    static func measure(_ e: Engine, conn: Connection, raw: OpaquePointer, uri: String, groups: DomainStatsGroups, iterations: Int, python: String) async throws -> Sample {
        switch e {
        case .raw: return try rawC(raw, groups: groups, iterations: iterations)
        case .rawPool: return try await rawCOnPool(RawBox(raw), groups: groups, iterations: iterations)
        case .virtkit: return try await typed(conn, groups: groups, iterations: iterations, handles: false)
        case .handles: return try await typed(conn, groups: groups, iterations: iterations, handles: true)
        case .executor:
            // Timed from outside: the hop onto the pool and back is part of the figure.
            let start = clocks()
            let n = try await withTaskExecutorPreference(BlockingThreadPool.libvirt) {
                var sink = 0
                for _ in 0..<iterations { sink &+= try await conn.allDomainStats(groups: groups).count }
                return sink
            }
            let result = sample(since: start, iterations: iterations)
            if n == -1 { say("\(n)") }
            return result
        case .rawExecutor:
            let box = RawBox(raw)
            let start = clocks()
            try await withTaskExecutorPreference(BlockingThreadPool.libvirt) {
                for _ in 0..<iterations {
                    try await BlockingThreadPool.libvirt.run {
                        var records: UnsafeMutablePointer<virDomainStatsRecordPtr?>?
                        guard virConnectGetAllDomainStats(box.c, groups.rawValue, &records, 0) >= 0 else { throw BenchError("virConnectGetAllDomainStats failed") }
                        virDomainStatsRecordListFree(records)
                    }
                }
            }
            return sample(since: start, iterations: iterations)
        case .python: return try pythonTime(python, uri: uri, groups: groups, iterations: iterations)
        }
    }

    /// Seconds per call: elapsed and this process's CPU time.
    struct Sample {
        var wall: Double
        var cpu: Double
    }

    static func clocks() -> (wall: Double, cpu: Double) {
        var w = timespec()
        clock_gettime(CLOCK_MONOTONIC, &w)
        return (Double(w.tv_sec) + Double(w.tv_nsec) / 1e9, processCPUSeconds())
    }

    static func sample(since start: (wall: Double, cpu: Double), iterations: Int) -> Sample {
        let end = clocks()
        return Sample(wall: (end.wall - start.wall) / Double(iterations), cpu: (end.cpu - start.cpu) / Double(iterations))
    }

    /// Context switches of all this process's threads so far (/proc/self/task/*/status).
    static func contextSwitches() -> Int { contextSwitchesByThread().values.reduce(0, +) }

    /// Context switches so far per thread ("name/tid").
    static func contextSwitchesByThread() -> [String: Int] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        var out: [String: Int] = [:]
        for t in tasks {
            guard let text = try? String(contentsOfFile: "/proc/self/task/\(t)/status", encoding: .utf8) else { continue }
            var name = t, n = 0
            for line in text.split(separator: "\n") {
                if line.hasPrefix("Name:") { name = line.dropFirst(5).trimmingCharacters(in: .whitespaces) + "/" + t }
                if line.contains("ctxt_switches") { n += Int(line.split(separator: "\t").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0 }
            }
            out[name] = n
        }
        return out
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

    /// The raw C pair, each call run on VirtKit's shared pool like VirtKit's own calls.
    static func rawCOnPool(_ box: RawBox, groups: DomainStatsGroups, iterations: Int) async throws -> Sample {
        let g = groups.rawValue
        let start = clocks()
        for _ in 0..<iterations {
            try await BlockingThreadPool.libvirt.run {
                var records: UnsafeMutablePointer<virDomainStatsRecordPtr?>?
                guard virConnectGetAllDomainStats(box.c, g, &records, 0) >= 0 else { throw BenchError("virConnectGetAllDomainStats failed") }
                virDomainStatsRecordListFree(records)
            }
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

    /// Starts `count` transient 64 MiB diskless guests named `bench-<pid>-<i>`; stops the
    /// ones started if one fails. With no disk, SeaBIOS finds nothing to boot; the default
    /// would retry the boot every 60 s, `rebootTimeout='-1'` makes it wait (halted) instead.
    static func startGuests(_ conn: Connection, count: Int) async throws -> [Domain] {
        let kvm = access("/dev/kvm", R_OK | W_OK) == 0
        var started: [Domain] = []
        for i in 0..<count {
            let xml = """
            <domain type='\(kvm ? "kvm" : "qemu")'><name>bench-\(getpid())-\(i)</name>
            <memory unit='MiB'>64</memory><vcpu>1</vcpu>
            <os><type arch='x86_64' machine='pc'>hvm</type><bios rebootTimeout='-1'/></os>
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

    /// Total QEMU CPU time (`cpu.time`, ns) of `guests` and when it was read (s).
    static func guestCPU(_ conn: Connection, _ guests: [Domain]) async throws -> (ns: Double, at: Double) {
        let names = Set(guests.map(\.name))
        let stats = try await conn.allDomainStats(groups: .cpuTotal, flags: .active)
        let ns = stats.filter { names.contains($0.name) }.reduce(0.0) { $0 + ($1.cpu?.time?.inSeconds ?? 0) * 1e9 }
        return (ns, clocks().wall)
    }

    /// Waits until the guests have booted to their idle "no bootable device" state (their
    /// firmware spends seconds of CPU first): until they use less than 5 % of a CPU each
    /// on average over 3 s, or `timeout` passes (then the run goes on, saying so).
    static func waitUntilIdle(_ conn: Connection, guests: [Domain], timeout: Double) async throws {
        let start = clocks().wall
        var last = try await guestCPU(conn, guests)
        while true {
            try await Task.sleep(for: .seconds(3))
            let now = try await guestCPU(conn, guests)
            let cores = (now.ns - last.ns) / 1e9 / max(now.at - last.at, 1e-9)
            last = now
            if cores < 0.05 * Double(guests.count) {
                say(String(format: "bench guests idle after %.0f s (%.1f%% of one CPU in total)", now.at - start, cores * 100))
                return
            }
            if now.at - start > timeout {
                say(String(format: "WARNING: bench guests still use %.0f%% of one CPU after %.0f s; measuring anyway", cores * 100, now.at - start))
                return
            }
        }
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

/// A raw `virConnectPtr` for the pool closure. `@unchecked`: libvirt connections may be
/// used from any thread, and this one outlives every call made with it.
struct RawBox: @unchecked Sendable {
    let c: OpaquePointer
    init(_ c: OpaquePointer) { self.c = c }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
