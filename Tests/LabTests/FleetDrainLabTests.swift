import Foundation
import Libvirt
import LibvirtFleet
import Synchronization
import Testing
import VirtCore
import VirtKitTestSupport

/// Draining host A onto B and C (`Scripts/lab.sh up-c` adds C, over TLS) with
/// `Fleet.startDrain`. Nested in `LabScenarioTests` so its `.serialized` covers these
/// migrations too (they share the lab's daemons and migration ports). Only this test's own
/// guests are drained (`planDrain(guests:)`): others may run on A. Each migration is bounded
/// by the drain's own `migrationTimeout` (aborted past it); guests are removed from all three
/// hosts whether the test passed or not.
extension LabScenarioTests {
@Suite("Lab fleet drain", .serialized)
struct FleetDrainRuns {
    struct Hosts: Sendable {
        var lab: Lab
        var fleetHosts: [FleetHost]
    }

    /// The lab plus C; nil after a loud skip.
    static func hosts() async -> Hosts? {
        guard let lab = await Lab.shared() else { return nil }
        struct HostC: Decodable { var tlsURI: String }
        let (rc, out, err) = await Lab.runAsync(["up-c", "--json"])
        guard rc == 0, let c = try? JSONDecoder().decode(HostC.self, from: Data(out.utf8)),
              let port = URLComponents(string: c.tlsURI)?.port else {
            LiveEnvironment.unavailable("lab.sh up-c failed (rc \(rc)): \(err.suffix(400))")
            return nil
        }
        let dir = ProcessInfo.processInfo.environment["VIRTKIT_LAB_DIR"] ?? "/var/lib/virtkit-lab"
        return Hosts(lab: lab, fleetHosts: [
            FleetHost(name: "A", uri: lab.a.uri),
            FleetHost(name: "B", uri: lab.b.uri),
            FleetHost(name: "C", uri: "qemu+tls://127.0.0.1:\(port)/system", tls: .init(pkiPath: "\(dir)/pki/client")),
        ])
    }

    static func options(parallel: Int, bandwidth: UInt64? = nil) -> FleetDrainOptions {
        var o = FleetDrainOptions(parallel: parallel, migrateURIs: ["B": "tcp://127.0.0.1", "C": "tcp://127.0.0.1"],
                                  pollInterval: .milliseconds(20), migrationTimeout: .seconds(90))
        o.migration.bandwidthMiBPerSecond = bandwidth
        return o
    }

    /// Creates `names` on A (their disks, memory in MiB), runs `body`, then removes them from A, B and C.
    static func withGuests(_ names: [(name: String, disk: String, mib: Int)], _ body: @Sendable (Hosts, Fleet, [String: Connection]) async throws -> Void) async throws {
        guard let hosts = await hosts() else { return }
        var conns: [String: Connection] = [:]
        for h in hosts.fleetHosts { conns[h.name] = try await Connection.open(try h.connectionURI(), flags: []) }
        let fleet = try Fleet(hosts: hosts.fleetHosts, options: .init(concurrency: 3, deadline: .seconds(30)))
        var failure: (any Error)?
        do {
            for g in names {
                let xml = try await Lab.guestXML(g.name, disk: g.disk).replacingOccurrences(of: "<memory unit='MiB'>64</memory>", with: "<memory unit='MiB'>\(g.mib)</memory>")
                _ = try await conns["A"]!.createDomain(xml: xml)
            }
            try await body(hosts, fleet, conns)
        } catch {
            failure = error
        }
        for g in names { for c in conns.values { await destroyQuietly(c, g.name) } }
        await fleet.shutdown()
        for c in conns.values { await c.close() }
        if let failure { throw failure }
    }

    /// Records a drain's events.
    final class Events: Sendable {
        let all = Mutex<[FleetDrainEvent]>([])
        func add(_ e: FleetDrainEvent) { all.withLock { $0.append(e) } }
        var finished: [String] { all.withLock { $0.compactMap { if case .finished(let o) = $0 { o.guest } else { nil } } } }
        func progressed(_ guest: String) -> Bool {
            all.withLock { $0.contains { if case .progress(let g, _, let s) = $0 { g == guest && (s.dataProcessed ?? .zero) > .zero } else { false } } }
        }
    }

    @Test func drainingFourGuestsOffALandsEachOnItsPlannedTargetWithThePlansPins() async throws {
        let names = (0..<4).map { (name: "virtkit-lab-drain-\($0)-\(getpid())", disk: "shared", mib: 64) }
        try await Self.withGuests(names) { hosts, fleet, conns in
            let plan = try await fleet.planDrain(of: "A", onto: ["B", "C"], guests: Set(names.map(\.name)))
            try #require(plan.isComplete && plan.moves.count == 4, "plan: \(plan.moves.map { "\($0.guest)→\($0.target)" }) stuck \(plan.stuck) missing \(plan.missing)")
            let run = try await fleet.startDrain(plan, options: Self.options(parallel: 2))
            let events = Events()
            for await e in run.events { events.add(e) }
            let report = await run.report
            // Equal targets share the guests (ties go to the target holding fewer).
            print("drain: \(report.summary); targets \(plan.moves.map { "\($0.guest.prefix(19))→\($0.target)" })")
            #expect(report.isComplete && !report.cancelled, "\(report.outcomes.map { "\($0.guest): \($0.result) at \($0.location)" })")
            for move in plan.moves {
                let o = try #require(report[guest: move.guest])
                #expect(o.result.kind == "migrated" && o.location == .target && o.target == move.target, "\(o.guest): \(o.result)")
                #expect(o.finalStats?.type == .completed, "final job statistics for \(o.guest)")
                // Running on its planned target with the plan's pins; gone from A.
                let dst = try await conns[move.target]!.domain(named: move.guest)
                #expect(try await dst.state() == .running(.migrated))
                #expect(try await dst.vcpuPinning() == move.placement.vcpuPins, "\(move.guest): pins on \(move.target)")
                #expect(try await dst.emulatorPinning() == move.placement.emulatorPin)
                await #expect { _ = try await conns["A"]!.domain(named: move.guest) } throws: { ($0 as? LibvirtError)?.code == .noDomain }
            }
            let leftOnA = try await conns["A"]!.listAllDomains().map(\.name).filter { n in names.contains { $0.name == n } }
            #expect(leftOnA.isEmpty, "nothing of ours left on A: \(leftOnA)")
            // Every guest's events: started, then finished, each exactly once.
            let started = events.all.withLock { $0.compactMap { if case .started(let g, _) = $0 { g } else { nil } } }
            #expect(started.sorted() == names.map(\.name).sorted() && events.finished.sorted() == started.sorted())
            print("progress events: \(events.all.withLock { $0.count { if case .progress = $0 { true } else { false } } })")
        }
    }

    /// Bounded by construction: every guest is idle (SeaBIOS and the boot sector write its RAM
    /// once, nothing dirties it afterwards), so every migration converges, and at 1 MiB/s one
    /// takes a few seconds (64 MiB: 4.2 s measured on the lab), the window the cancel lands in.
    /// Whatever libvirt does with an abort, a watchdog destroys the test's guests after 120 s,
    /// which ends any migration still running: the test cannot hang the run. (Busy guests
    /// that dirty their RAM are not used: libvirt 9.0 once left such an aborted migration
    /// running for 12 minutes.)
    @Test func cancellingADrainLeavesEveryGuestOnAOrFullyOnItsTarget() async throws {
        let pid = getpid()
        let names = [(name: "virtkit-lab-dcancel-0-\(pid)", disk: "shared", mib: 96)]
            + (1..<4).map { (name: "virtkit-lab-dcancel-\($0)-\(pid)", disk: "shared", mib: 64) }
        try await Self.withGuests(names) { hosts, fleet, conns in
            let watchdog = Task {
                try await Task.sleep(for: .seconds(120))
                print("drain-cancel watchdog: destroying the test's guests to end their migrations")
                for g in names { for c in conns.values { await destroyQuietly(c, g.name) } }
            }
            defer { watchdog.cancel() }
            let plan = try await fleet.planDrain(of: "A", onto: ["B", "C"], guests: Set(names.map(\.name)))
            try #require(plan.moves.count == 4 && plan.moves.first?.guest == names[0].name, "largest first: \(plan.moves.map(\.guest))")
            // One at a time: when the cancel comes, one migration is in flight and two guests wait.
            let run = try await fleet.startDrain(plan, options: Self.options(parallel: 1, bandwidth: 1))
            let events = Events()
            let consumer = Task { for await e in run.events { events.add(e) } }
            // Cancel once the first guest is through and the next one is moving data (or after 60 s).
            let midway = await eventually(timeout: .seconds(60), every: .milliseconds(100)) {
                events.finished.contains(names[0].name) && names.dropFirst().contains { events.progressed($0.name) }
            }
            run.cancel()
            let report = await run.report
            await consumer.value
            print("cancelled drain (midway \(midway)): \(report.summary): \(report.outcomes.map { "\($0.guest.suffix(12)): \($0.result) at \($0.location)" })")
            #expect(report.cancelled && report.outcomes.count == 4)
            #expect(report.outcomes.contains { if case .cancelled = $0.result { true } else { false } }, "something was cancelled")
            for o in report.outcomes {
                let target = try #require(o.target)
                switch o.location {
                case .target:
                    #expect(o.result.kind == "migrated", "\(o.guest) on its target: \(o.result)")
                case .source:
                    #expect(o.result.kind == "cancelled", "\(o.guest) on A: \(o.result)")
                case .unknown(let what):
                    Issue.record("\(o.guest): neither on A nor fully on \(target): \(what)")
                }
                // Read back directly: running in exactly one place; the other host lets go of it.
                let onA = (try? await conns["A"]!.domain(named: o.guest).state())?.state == .running
                let onTarget = (try? await conns[target]!.domain(named: o.guest).state())?.state == .running
                #expect(onA != onTarget, "\(o.guest): on A \(onA), on \(target) \(onTarget)")
                if o.location == .source {
                    let released = await eventually(timeout: .seconds(30)) {
                        !((try? await conns[target]!.listAllDomains().map(\.name)) ?? [o.guest]).contains(o.guest)
                    }
                    #expect(released, "\(target) holds no half-migrated \(o.guest)")
                }
            }
            // Idle guests at 1 MiB/s: the first is through and the second in flight well within 60 s.
            #expect(midway, "the first guest moved and the next was moving data when the drain was cancelled")
            #expect(report[guest: names[0].name]?.location == .target, "the guest done before the cancel stays moved")
            #expect(report.outcomes.contains { if case .cancelled(true) = $0.result { true } else { false } }, "a migration in flight was aborted")
            #expect(report.outcomes.contains { if case .cancelled(false) = $0.result { true } else { false } }, "a guest not yet started stayed")
        }
    }

    /// Rebalancing for even memory with only this test's two guests allowed to move (the
    /// other guests on A count in its load): the plan moves them off A, its drain plans carry
    /// the moves out, and each guest runs on its planned target with the plan's pins.
    @Test func rebalancingMovesTheNamedGuestsOffTheLoadedHostAsPlanned() async throws {
        let names = (0..<2).map { (name: "virtkit-lab-rebal-\($0)-\(getpid())", disk: "shared", mib: 64) }
        try await Self.withGuests(names) { _, fleet, conns in
            let plan = try await fleet.planRebalance(.evenMemory, guests: Set(names.map(\.name)), tolerance: 0)
            print("rebalance: \(plan.moves.map { "\($0.guest.prefix(19)) \($0.source)→\($0.target)" }); loads \(plan.before.map { "\($0.host) \($0.memoryFraction)" }) → \(plan.after.map(\.memoryFraction))")
            try #require(!plan.moves.isEmpty && plan.missing.isEmpty, "moves \(plan.moves.map(\.guest)) missing \(plan.missing)")
            #expect(plan.moves.allSatisfy { $0.source == "A" && $0.target != "A" } && plan.spreadAfter < plan.spreadBefore)
            #expect(plan.drainPlans.map(\.source) == ["A"])
            for part in plan.drainPlans {
                let report = try await fleet.drain(part, options: Self.options(parallel: 2))
                #expect(report.isComplete, "\(report.outcomes.map { "\($0.guest): \($0.result) at \($0.location)" })")
            }
            for move in plan.moves {
                let dst = try await conns[move.target]!.domain(named: move.guest)
                #expect(try await dst.state() == .running(.migrated), "\(move.guest) on \(move.target)")
                #expect(try await dst.vcpuPinning() == move.placement.vcpuPins, "\(move.guest): pins on \(move.target)")
                await #expect { _ = try await conns["A"]!.domain(named: move.guest) } throws: { ($0 as? LibvirtError)?.code == .noDomain }
            }
        }
    }

    /// `virtkit fleet drain A --guest NAME` (not --dry-run) with a config naming A and B: the
    /// CLI migrates the guest and reports it on B in its JSON. Only this test's guest is named:
    /// others may run on A.
    @Test func theCLIDrainsAGuestOffAOntoB() async throws {
        let root = LiveEnvironment.packageRoot(from: #filePath)
        let cli = root.appendingPathComponent(".build/debug/virtkit").path
        guard FileManager.default.isExecutableFile(atPath: cli) else {
            LiveEnvironment.unavailable("no built CLI at \(cli) (swift build first)")
            return
        }
        let name = "virtkit-lab-dcli-\(getpid())"
        try await Self.withGuests([(name: name, disk: "shared", mib: 64)]) { hosts, _, conns in
            let config = FileManager.default.temporaryDirectory.appendingPathComponent("vk-drain-cli-\(getpid()).json")
            defer { try? FileManager.default.removeItem(at: config) }
            try """
            {"deadlineSeconds": 20, "hosts": [{"name": "A", "uri": "\(hosts.lab.a.uri)"}, {"name": "B", "uri": "\(hosts.lab.b.uri)"}]}
            """.write(to: config, atomically: true, encoding: .utf8)
            let process = try BackgroundProcess(cli, ["fleet", "drain", "A", "--config", config.path, "--guest", name,
                                                      "--migrate-uri", "B=tcp://127.0.0.1", "--migration-timeout", "90", "--json"], tag: "draincli")
            // Blocking wait on a plain thread, never on the cooperative pool.
            let status = await withCheckedContinuation { c in Thread { c.resume(returning: process.waitForExit(within: .seconds(150))) }.start() }
            if status == nil { _ = process.stop(grace: .zero) }
            #expect(status == 0, "exit status \(String(describing: status)); output: \(process.log.suffix(2000))")
            struct Out: Decodable {
                struct Outcome: Decodable { var guest: String; var target: String?; var result: String; var location: String }
                var outcomes: [Outcome]
                var complete: Bool
            }
            let log = process.log
            let json = String(log[(log.firstIndex(of: "{") ?? log.startIndex)...])
            let out = try JSONDecoder().decode(Out.self, from: Data(json.utf8))
            #expect(out.complete && out.outcomes.count == 1)
            #expect(out.outcomes.first.map { ($0.guest, $0.target, $0.result, $0.location) } ?? ("", nil, "", "") == (name, "B", "migrated", "target"))
            #expect(try await conns["B"]!.domain(named: name).state() == .running(.migrated))
            await #expect { _ = try await conns["A"]!.domain(named: name) } throws: { ($0 as? LibvirtError)?.code == .noDomain }
        }
    }
}
}
