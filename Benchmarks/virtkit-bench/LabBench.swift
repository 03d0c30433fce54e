import Foundation
import Libvirt
import VirtCore
import VirtKitTestSupport

/// `virtkit-bench lab`: on the two-host lab (`Scripts/lab.sh up` first),
///   (1) event latency: suspend/resume call start → lifecycle event at the consumer
///       (VirtKit's AsyncStream) vs python3-libvirt (default event impl on a thread,
///       callback → queue) on the same guest, same run; median and p99;
///   (2) live migration of a small idle guest A → B → A: wall time and the final stats'
///       downtime, VirtKit `migrate(to:)` vs `virsh migrate --live` (downtime from
///       `virsh domjobinfo --completed` on the destination), alternating, same run.
/// Options: --events N (200), --migrations M (5 round trips each), --lab PATH (Scripts/lab.sh),
///          --python PATH (/usr/bin/python3).
enum LabBench {
    struct LabHost { var name: String; var uri: String; var migrateURI: String }

    static func run(arguments: [String]) async throws {
        var events = 200, migrations = 5
        var script = FileManager.default.currentDirectoryPath + "/Scripts/lab.sh"
        var python = "/usr/bin/python3"
        var it = arguments.makeIterator()
        while let a = it.next() {
            switch a {
            case "--events": events = Int(it.next() ?? "") ?? events
            case "--migrations": migrations = Int(it.next() ?? "") ?? migrations
            case "--lab": script = it.next() ?? script
            case "--python": python = it.next() ?? python
            default: throw LabBenchError("unknown option \(a)")
            }
        }
        let (a, b) = try labHosts(script)
        report("lab bench — host A \(a.name), host B \(b.name)")
        let connA = try await Connection.open(a.uri)
        let connB = try await Connection.open(b.uri)
        let name = "virtkit-lab-bench-\(getpid())"
        let xml = try shell("/bin/bash", [script, "xml", name, "shared"]).out
        let guest = try await connA.createDomain(xml: xml)
        defer { _ = try? shell("/usr/bin/virsh", ["-c", a.uri, "destroy", name]); _ = try? shell("/usr/bin/virsh", ["-c", b.uri, "destroy", name]) }
        try await Task.sleep(for: .seconds(3))

        // (1) Event latency. The consumer is its own task (as in an application), so its
        // receive time isn't held back by the caller waiting for the RPC's reply. Two
        // consumers, alternating per round: a task on the default executor, and one that
        // prefers the event loop as its executor (resumed on the loop thread, no hand-off).
        // Four rounds, each running the three consumers one after the other on the same guest
        // (the host's load moves over a run: interleaving spreads it over all three).
        var lat: [Double] = [], atCallback: [Double] = [], callReturn: [Double] = [], latLoop: [Double] = [], loopCallback: [Double] = []
        var py: [Double] = []
        var flip = false
        let rounds = 4
        for _ in 0..<rounds {
            for executor in [nil, LibvirtEventLoop.shared] as [LibvirtEventLoop?] {
                let stream = try await connA.domainEvents(for: guest, .lifecycle)
                let arrivals = ArrivalLog()
                let consume: @Sendable () async -> Void = {
                    for await m in stream {
                        if case .event(let e) = m, case .lifecycle = e.kind { arrivals.add(ContinuousClock.now, callback: e.received) }
                    }
                }
                let consumer = executor.map { Task(executorPreference: $0) { await consume() } } ?? Task { await consume() }
                // The caller runs on the libvirt pool as its executor, so suspend/resume start
                // in place (no hop from Swift's cooperative pool to a pool thread before the C
                // call), as python3-libvirt's calls do: t0 is right before the C call.
                try await withTaskExecutorPreference(connA.pool) {
                    for i in 0..<(events / rounds + 5) {
                        let before = arrivals.count
                        let t0 = ContinuousClock.now
                        if flip { try await guest.resume() } else { try await guest.suspend() }
                        flip.toggle()
                        let returned = ContinuousClock.now
                        while arrivals.count == before { try await Task.sleep(for: .microseconds(200)) }
                        let (arrived, callback) = arrivals.last
                        if i >= 5 {  // 5 warm-up events per block
                            if executor == nil {
                                lat.append((arrived - t0).inSeconds)
                                atCallback.append((callback - t0).inSeconds)
                                callReturn.append((returned - t0).inSeconds)
                            } else {
                                latLoop.append((arrived - t0).inSeconds)
                                loopCallback.append((callback - t0).inSeconds)
                            }
                        }
                    }
                }
                consumer.cancel()
            }
            if try await guest.state().state == .paused { try await guest.resume() }
            flip = false
            py += try pythonLatency(python, uri: a.uri, name: name, count: events / rounds)
        }
        report("(1) event latency, suspend/resume call → lifecycle event at the consumer, \(events) events")
        report(String(format: "    VirtKit AsyncStream     median %7.3f ms   p99 %7.3f ms", percentile(lat, 50) * 1e3, percentile(lat, 99) * 1e3))
        report(String(format: "      (C callback ran median %.3f ms; the suspend/resume call returned median %.3f ms)", percentile(atCallback, 50) * 1e3, percentile(callReturn, 50) * 1e3))
        report(String(format: "    VirtKit on event loop   median %7.3f ms   p99 %7.3f ms   (Task(executorPreference: LibvirtEventLoop.shared))", percentile(latLoop, 50) * 1e3, percentile(latLoop, 99) * 1e3))
        report(String(format: "      (C callback ran median %.3f ms)", percentile(loopCallback, 50) * 1e3))
        report(String(format: "    python3-libvirt         median %7.3f ms   p99 %7.3f ms", percentile(py, 50) * 1e3, percentile(py, 99) * 1e3))
        report(String(format: "    ratio VirtKit/python    median %.2f×   p99 %.2f×", percentile(lat, 50) / percentile(py, 50), percentile(lat, 99) / percentile(py, 99)))
        report(String(format: "    ratio loop/python       median %.2f×   p99 %.2f×", percentile(latLoop, 50) / percentile(py, 50), percentile(latLoop, 99) / percentile(py, 99)))

        // (2) Live migration A → B → A, alternating tools.
        if migrations == 0 { await connA.close(); await connB.close(); return }
        var vkWall: [Double] = [], vkDown: [Double] = [], vsWall: [Double] = [], vsDown: [Double] = []
        var options = MigrationOptions()
        options.live = true
        options.migrateURI = b.migrateURI
        // Each round: VirtKit A→B, virsh B→A, virsh A→B, VirtKit B→A (the guest ends on A).
        for _ in 0..<migrations {
            for (from, to, toConn, tool) in [(a, b, connB, "vk"), (b, a, connA, "virsh"), (a, b, connB, "virsh"), (b, a, connA, "vk")] {
                let t0 = ContinuousClock.now
                if tool == "vk" {
                    let d = try await (from.uri == a.uri ? connA : connB).domain(named: name)
                    let r = try await d.migrate(to: .connection(toConn), options: options)
                    vkWall.append((ContinuousClock.now - t0).inSeconds)
                    if let dt = r.finalStats?.downtime { vkDown.append(dt.inSeconds) }
                } else {
                    _ = try shell("/usr/bin/virsh", ["-c", from.uri, "migrate", "--live", name, to.uri, to.migrateURI])
                    vsWall.append((ContinuousClock.now - t0).inSeconds)
                    let info = try shell("/usr/bin/virsh", ["-c", to.uri, "domjobinfo", "--completed", name]).out
                    if let ms = info.split(separator: "\n").first(where: { $0.hasPrefix("Total downtime:") })?
                        .split(separator: " ").compactMap({ Double($0) }).first {
                        vsDown.append(ms / 1e3)
                    }
                }
            }
        }
        report("(2) live migration, idle 64 MiB guest, \(vkWall.count) migrations per tool (A→B and B→A, alternating)")
        report(String(format: "    VirtKit migrate(to:)    wall median %7.1f ms   downtime median %6.1f ms", percentile(vkWall, 50) * 1e3, percentile(vkDown, 50) * 1e3))
        report(String(format: "    virsh migrate --live    wall median %7.1f ms   downtime median %6.1f ms", percentile(vsWall, 50) * 1e3, percentile(vsDown, 50) * 1e3))
        report(String(format: "    ratio VirtKit/virsh     wall %.2f×   downtime %.2f×", percentile(vkWall, 50) / percentile(vsWall, 50), percentile(vkDown, 50) / max(1e-9, percentile(vsDown, 50))))
        await connA.close()
        await connB.close()
    }

    static func labHosts(_ script: String) throws -> (LabHost, LabHost) {
        let r = try shell("/bin/bash", [script, "status", "--json"])
        guard r.status == 0,
              let obj = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any],
              let hosts = obj["hosts"] as? [[String: Any]], hosts.count == 2 else {
            throw LabBenchError("the lab is not up (run Scripts/lab.sh up): \(r.err)")
        }
        func host(_ h: [String: Any]) -> LabHost {
            LabHost(name: h["name"] as? String ?? "?", uri: h["uri"] as? String ?? "", migrateURI: h["migrateURI"] as? String ?? "tcp://127.0.0.1")
        }
        return (host(hosts[0]), host(hosts[1]))
    }

    /// python3-libvirt's event latency, timed inside Python: suspend/resume; the consumer is
    /// the callback itself (run by virEventRunDefaultImpl on the loop thread), which records
    /// the time it ran.
    static func pythonLatency(_ python: String, uri: String, name: String, count: Int) throws -> [Double] {
        let code = """
        import libvirt, threading, time, queue, sys
        libvirt.virEventRegisterDefaultImpl()
        def loop():
            while True: libvirt.virEventRunDefaultImpl()
        threading.Thread(target=loop, daemon=True).start()
        c = libvirt.open(sys.argv[1]); d = c.lookupByName(sys.argv[2]); q = queue.Queue()
        c.domainEventRegisterAny(d, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lambda *a: q.put(time.monotonic()), None)
        out = []
        for i in range(int(sys.argv[3]) + 10):
            t0 = time.monotonic()
            (d.suspend if i % 2 == 0 else d.resume)()
            t1 = q.get(timeout=10)
            if i >= 10: out.append(t1 - t0)
        if d.state()[0] == libvirt.VIR_DOMAIN_PAUSED: d.resume()
        print(" ".join(repr(x) for x in out))
        """
        let r = try shell(python, ["-c", code, uri, name, "\(count)"])
        guard r.status == 0 else { throw LabBenchError("python3-libvirt run failed: \(r.err)") }
        return r.out.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    @discardableResult
    static func shell(_ exe: String, _ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let r = spawnAndWait(exe, args)
        if exe.hasSuffix("virsh"), r.0 != 0, !args.contains("destroy") { throw LabBenchError("virsh \(args.joined(separator: " ")): \(r.2)") }
        return r
    }

    static func report(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

struct LabBenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}


/// Arrival times recorded by the consumer task. `@unchecked Sendable`: guarded by `lock`.
private final class ArrivalLog: @unchecked Sendable {
    private let lock = NSLock()
    private var times: [(ContinuousClock.Instant, ContinuousClock.Instant)] = []
    func add(_ t: ContinuousClock.Instant, callback: ContinuousClock.Instant) { lock.lock(); times.append((t, callback)); lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return times.count }
    var last: (ContinuousClock.Instant, ContinuousClock.Instant) { lock.lock(); defer { lock.unlock() }; return times[times.count - 1] }
}
