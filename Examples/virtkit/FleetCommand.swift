import ArgumentParser
import Foundation
import Libvirt
import LibvirtFleet
import Tuning
import VirtCore

/// `virtkit fleet …`: many libvirt hosts as one.
struct FleetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet", abstract: "Work on many libvirt hosts at once (per-host deadline, bounded concurrency).",
        subcommands: [FleetInventoryCommand.self, FleetPlaceCommand.self, FleetPreflightCommand.self, FleetDrainCommand.self, FleetRebalanceCommand.self])
}

/// The hosts of a fleet command: `--host URI…` and/or `--config FILE`.
struct FleetHostOptions: ParsableArguments {
    @Option(name: .customLong("host"), help: "A libvirt URI (repeatable).")
    var hosts: [String] = []

    @Option(name: .long, help: "A JSON fleet config file (hosts with TLS/SSH settings, concurrency, deadline).")
    var config: String?

    @Option(name: .long, help: "Per-host deadline in seconds (default: the config's, else 10).")
    var deadline: Double?

    @Option(name: .long, help: "Hosts worked on at the same time (default: the config's, else 16).")
    var concurrency: Int?

    /// `readOnly`: hosts given with `--host` open read-only (a drain needs read-write).
    func makeFleet(readOnly: Bool = true) throws -> Fleet {
        var hostList: [FleetHost] = []
        var options = Fleet.Options()
        if let config {
            let c = try FleetConfiguration.load(path: config)
            hostList = c.hosts
            options = c.options(over: options)
        }
        hostList += hosts.map { FleetHost(uri: $0, readOnly: readOnly) }
        guard !hostList.isEmpty else { throw CLIError("no hosts: give --host URI (repeatable) or --config FILE") }
        if let deadline {
            guard deadline > 0, deadline.isFinite else { throw CLIError("--deadline must be a positive number of seconds") }
            options.deadline = .milliseconds(Int64(deadline * 1000))
        }
        if let concurrency {
            guard concurrency >= 1 else { throw CLIError("--concurrency must be at least 1") }
            options.concurrency = concurrency
        }
        return try Fleet(hosts: hostList, options: options)
    }
}

/// `virtkit fleet inventory`: topology, free memory, page pools, guests and occupancy per host.
struct FleetInventoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory", abstract: "Inventory every host: NUMA cells, free memory, hugepages, guests with state, size and pins.")

    @OptionGroup var fleetHosts: FleetHostOptions
    @OptionGroup var output: OutputOptions

    @Flag(name: .long, help: "List every guest (text output).")
    var guests = false

    func run() async throws {
        let fleet = try fleetHosts.makeFleet()
        let inv = await fleet.inventory()
        await fleet.shutdown()
        if output.json { return try printJSON(inv) }
        for h in inv.hosts {
            let o = h.occupancy
            print("\(h.host)  \(h.hostname ?? "?")  \(h.nodeInfo.cpus) CPUs, \(h.nodeInfo.memory?.humanReadable ?? "?")  "
                + "\(h.guests.count) guests (\(o.activeGuests) active: \(o.vcpus) vCPUs, \(o.memory.humanReadable))")
            for n in h.topology.nodes {
                let pages = n.pagePools.filter { $0.pageSize > .kibibytes(4) && $0.total > 0 }
                    .map { "\($0.total)×\($0.pageSize.humanReadable)" }.joined(separator: ", ")
                print("  node \(n.id)  CPUs \(n.cpus)  memory \(n.memory?.humanReadable ?? "?")  free \(n.freeMemory?.humanReadable ?? "?")"
                    + (pages.isEmpty ? "" : "  hugepages \(pages)"))
            }
            if guests {
                for g in h.guests {
                    let pins = g.vcpuPins.map { $0.map(\.description).joined(separator: " ") } ?? "?"
                    print("    \(g.name)  \(g.state) (\(g.reason))  \(g.vcpus.map(String.init) ?? "?") vCPUs  \(g.memory?.humanReadable ?? "?")  pins [\(pins)]")
                }
            }
            for w in h.warnings { print("  warning: \(w)") }
        }
        for m in inv.missing { print("\(m.host)  \(m.result)\(m.error.map { ": \($0)" } ?? "")") }
        print(inv.summary)
        if !inv.missing.isEmpty { throw ExitCode(1) }
    }
}

/// `virtkit fleet preflight DOMAIN --from URI --to URI`: can the guest move there?
struct FleetPreflightCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preflight",
        abstract: "Check a live migration before doing it: destination, memory per NUMA cell, hugepages, disks (copy-storage and its size), devices, networks, TLS.")

    @Argument(help: "The guest on the source host (name, UUID or ID).")
    var domain: String

    @Option(name: .long, help: "The source host's libvirt URI.")
    var from: String

    @Option(name: .long, help: "The destination host's libvirt URI.")
    var to: String

    @Flag(name: .long, help: "The migration will use TLS.")
    var tls = false

    @Option(name: .long, help: "Per-host deadline in seconds.")
    var deadline: Double = 20

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let report = try await migrationPreflight(domain, from: from, to: to, tls: tls, deadline: deadline)
        if output.json { return try printJSON(report) }
        printPreflight(report, from: from, to: to)
        if !report.canMigrate { throw ExitCode(1) }
    }
}

/// The preflight of `domain` (name, UUID or ID on `from`) to `to`, for `fleet preflight` and
/// `doctor --migrate-to`: a fleet of the two hosts, read-only.
func migrationPreflight(_ domain: String, from: String, to: String, tls: Bool, deadline: Double) async throws -> FleetPreflightReport {
    guard deadline > 0, deadline.isFinite else { throw CLIError("--deadline must be a positive number of seconds") }
    // The hosts are named by their URIs, which the findings then quote.
    let source = from, destination = to == from ? to + " (destination)" : to
    let fleet = try Fleet(hosts: [FleetHost(name: source, uri: from, readOnly: true), FleetHost(name: destination, uri: to, readOnly: true)],
                          options: .init(concurrency: 2, deadline: .milliseconds(Int64(deadline * 1000))))
    let outcome: Result<FleetPreflightReport, any Error>
    do {
        // The preflight looks the guest up by name on both sides: resolve a UUID or ID first.
        let named = await fleet.run(on: [source]) { conn, _ in try await lookupDomain(domain, in: conn).name }
        switch named.outcomes.first?.result {
        case .ok(let name)?: outcome = .success(try await fleet.preflight(guest: name, from: source, to: destination, tls: tls))
        case .failed(let e)?: throw e
        case .timedOut?, nil: throw FleetError.sourceTimedOut(from)
        }
    } catch {
        outcome = .failure(error)
    }
    await fleet.shutdown()
    switch outcome {
    case .success(let report): return report
    case .failure(let e as LibvirtError): throw CLIError("\(domain) on \(from): \(e.message) [\(e.code)]")
    case .failure(let e): throw CLIError("\(domain) on \(from): \(e)")
    }
}

/// A line per check (verdict, check, summary) with its evidence, then the conclusion.
func printPreflight(_ report: FleetPreflightReport, from: String, to: String) {
    print("\(report.guest): \(from) → \(to)")
    for f in report.findings {
        print("  \(f.verdict.rawValue.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0)) \(f.check): \(f.summary)")
        for e in f.evidence { print("             \(e)") }
    }
    print(report.canMigrate ? "no blocker found\(report.worst == .pass ? "" : " (see the warnings and unknowns)")" : "blocked")
}

/// `virtkit fleet place --host URI… --request FILE.json`: the best host for new guests.
struct FleetPlaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "place", abstract: "Run the placement planner on every host for a request; print each host's plan and the best host.")

    @OptionGroup var fleetHosts: FleetHostOptions

    @Option(name: .long, help: "The request file (JSON, as for `virtkit plan`).")
    var request: String

    @OptionGroup var output: OutputOptions

    struct Report: Encodable {
        struct Host: Encodable {
            var host: String
            var placed: Int
            var score: String
            var plan: PlacementReport
        }
        var best: String?
        var hosts: [Host]
        var missing: [FleetInventory.Missing]
    }

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: request) else { throw CLIError("cannot read \(request)") }
        let req = try PlacementRequest(json: data)
        let fleet = try fleetHosts.makeFleet()
        let placement = await fleet.place(req)
        await fleet.shutdown()
        let report = Report(best: placement.best?.host,
                            hosts: placement.candidates.map { .init(host: $0.host, placed: $0.plan.score.placed, score: "\($0.plan.score)", plan: PlacementReport($0.plan)) },
                            missing: placement.missing)
        if output.json { return try printJSON(report) }
        for c in placement.candidates {
            print("\(c.host)  \(c.plan.score)")
            for u in c.plan.unplaced { print("  unplaced \(u.name): \(u.reason)") }
        }
        for m in placement.missing { print("\(m.host)  \(m.result)\(m.error.map { ": \($0)" } ?? "")") }
        if let best = placement.best {
            print("best: \(best.host)")
            for p in best.plan.placements {
                print("  \(p.name): vCPUs \(p.vcpuPins.map(\.description).joined(separator: " ")), memory nodes \(p.memoryNodes)")
            }
        } else {
            print("no host places every guest")
            throw ExitCode(1)
        }
    }
}

/// `virtkit fleet drain HOST --host URI… [--dry-run] [--parallel N]`: plan, then live-migrate
/// every running guest of HOST to the other hosts (Ctrl-C cancels: running migrations are
/// aborted, their guests stay on HOST).
struct FleetDrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain", abstract: "Move every running guest off a host onto the others by live migration (--dry-run: the plan only).")

    @Argument(help: "The host to drain: its name in the config file, or its URI.")
    var source: String

    @OptionGroup var fleetHosts: FleetHostOptions

    @Flag(name: .long, help: "Print the plan without migrating.")
    var dryRun = false

    @Option(name: .customLong("guest"), help: "Move only this running guest (repeatable; default: every running guest).")
    var guests: [String] = []

    @OptionGroup var migration: DrainRunOptions

    @OptionGroup var output: OutputOptions

    struct Report: Encodable {
        struct Move: Encodable { var guest: String; var target: String; var vcpuPins: [CPUSet]; var memoryNodes: NodeSet }
        var source: String
        var moves: [Move]
        var stuck: [FleetDrainPlan.Stuck]
        var missing: [FleetInventory.Missing]
    }

    struct Outcome: Encodable {
        var guest: String
        var target: String?
        var result: String
        var error: String?
        var location: String
        var elapsedSeconds: Double
        var downtimeSeconds: Double?

        static func list(_ report: FleetDrainReport) -> [Outcome] {
            report.outcomes.map { o in
                Outcome(guest: o.guest, target: o.target, result: o.result.kind, error: { if case .failed(let e) = o.result { "\(e)" } else { nil } }(),
                        location: "\(o.location)", elapsedSeconds: o.elapsed.inSeconds, downtimeSeconds: o.finalStats?.downtime?.inSeconds)
            }
        }
    }

    struct DrainReport: Encodable {
        var plan: Report
        var outcomes: [Outcome]
        var cancelled: Bool
        var complete: Bool
        var elapsedSeconds: Double
    }

    func run() async throws {
        let options = try migration.options()
        let fleet = try fleetHosts.makeFleet(readOnly: dryRun)
        let plan: FleetDrainPlan
        do { plan = try await fleet.planDrain(of: source, guests: guests.isEmpty ? nil : Set(guests)) } catch {
            await fleet.shutdown()
            throw CLIError("\(source): \(error)")
        }
        let planReport = Report(source: plan.source, moves: plan.moves.map { .init(guest: $0.guest, target: $0.target, vcpuPins: $0.placement.vcpuPins, memoryNodes: $0.placement.memoryNodes) },
                                stuck: plan.stuck, missing: plan.missing)
        if dryRun {
            await fleet.shutdown()
            if output.json { return try printJSON(planReport) }
            printPlan(plan)
            if !plan.isComplete { throw ExitCode(1) }
            return
        }
        if !output.json { printPlan(plan) }
        let report: FleetDrainReport
        do { report = try await carryOutDrain(plan, on: fleet, options: options, json: output.json) } catch {
            await fleet.shutdown()
            throw CLIError("\(error)")
        }
        await fleet.shutdown()
        if output.json {
            try printJSON(DrainReport(plan: planReport, outcomes: Outcome.list(report), cancelled: report.cancelled, complete: report.isComplete, elapsedSeconds: report.elapsed.inSeconds))
        } else {
            print(report.summary)
        }
        if !report.isComplete { throw ExitCode(1) }
    }

    private func printPlan(_ plan: FleetDrainPlan) {
        for m in plan.moves {
            print("\(m.guest) → \(m.target)  vCPUs \(m.placement.vcpuPins.map(\.description).joined(separator: " "))  memory nodes \(m.placement.memoryNodes)")
        }
        for s in plan.stuck { print("\(s.guest): no target — \(s.reasons.joined(separator: "; "))") }
        for m in plan.missing { print("target \(m.host) \(m.result)\(m.error.map { ": \($0)" } ?? "")") }
    }
}

/// How `fleet drain` and `fleet rebalance` migrate.
struct DrainRunOptions: ParsableArguments {
    @Option(name: .long, help: "Live migrations at the same time (default 2).")
    var parallel: Int = 2

    @Option(name: .customLong("migrate-uri"), help: "TARGET=URI: where QEMU sends a target's migration data, e.g. B=tcp://10.0.0.2 (repeatable).")
    var migrateURIs: [String] = []

    @Option(name: .long, help: "Abort a migration still running after this many seconds.")
    var migrationTimeout: Double?

    func options() throws -> FleetDrainOptions {
        guard parallel >= 1 else { throw CLIError("--parallel must be at least 1") }
        var uris: [String: String] = [:]
        for entry in migrateURIs {
            guard let eq = entry.firstIndex(of: "="), eq != entry.startIndex else { throw CLIError("--migrate-uri wants TARGET=URI, got '\(entry)'") }
            uris[String(entry[..<eq])] = String(entry[entry.index(after: eq)...])
        }
        if let t = migrationTimeout, !(t > 0 && t.isFinite) { throw CLIError("--migration-timeout must be a positive number of seconds") }
        var options = FleetDrainOptions(parallel: parallel, migrateURIs: uris)
        options.migrationTimeout = migrationTimeout.map { .milliseconds(Int64($0 * 1000)) }
        return options
    }
}

/// Carries out a drain plan: a line per guest as it starts, every 10 % of its progress and
/// when it ends (text output); Ctrl-C cancels it (running migrations are aborted).
func carryOutDrain(_ plan: FleetDrainPlan, on fleet: Fleet, options: FleetDrainOptions, json: Bool) async throws -> FleetDrainReport {
    let drain = try await fleet.startDrain(plan, options: options)
    // Ctrl-C cancels the drain (aborting the running migrations) instead of killing the process.
    signal(SIGINT, SIG_IGN)
    let interrupt = DispatchSource.makeSignalSource(signal: SIGINT)
    interrupt.setEventHandler { drain.cancel() }
    interrupt.resume()
    var shown: [String: Int] = [:]
    let bar = ProgressBar(json: json)
    for await event in drain.events where !json {
        switch event {
        case .started(let g, let t):
            bar.clear()
            print("\(g) → \(t): started")
        case .progress(let g, let t, let stats):
            guard let p = stats.progress else { continue }
            // On a terminal, one bar redrawn for the latest guest's progress; piped, one
            // line per 10 % step.
            if bar.enabled {
                bar.draw(fraction: p, detail: stats.memoryBytesPerSecond.map { "\(MemorySize(bytes: $0).humanReadable)/s" } ?? "", prefix: "\(g) → \(t) ")
                continue
            }
            let step = Int(p * 10)
            if step > shown[g, default: -1] {
                shown[g] = step
                print("\(g) → \(t): \(Int(p * 100)) %" + (stats.memoryBytesPerSecond.map { ", \(MemorySize(bytes: $0).humanReadable)/s" } ?? ""))
            }
        case .finished(let o):
            bar.clear()
            print("\(o.guest) → \(o.target ?? "-"): \(o.result), now on the \(o.location) (\(o.elapsed.humanReadable))"
                  + (o.finalStats?.downtime.map { ", downtime \($0.humanReadable)" } ?? ""))
        }
    }
    let report = await drain.report
    interrupt.cancel()
    signal(SIGINT, SIG_DFL)
    return report
}

/// `virtkit fleet rebalance --host URI… [--objective memory|cpu | --free-node HOST:NODE] [--dry-run]`.
struct FleetRebalanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebalance",
        abstract: "Move running guests across the hosts by live migration toward an objective: even memory, even CPU, or free a NUMA node (--dry-run: the plan only).",
        discussion: "Each move is planned on its target like a drain (NUMA fit, pins); the moves run as one drain per source host. Exit status 1 unless every planned guest moved (with --dry-run: when a guest the objective wants moved has no target).")

    @OptionGroup var fleetHosts: FleetHostOptions

    @Option(name: .long, help: "memory (even memory occupancy) or cpu (even vCPUs per CPU).")
    var objective: String = "memory"

    @Option(name: .customLong("free-node"), help: "HOST:NODE: move the guests using this NUMA node of this host to other hosts (instead of --objective).")
    var freeNode: String?

    @Option(name: .long, help: "Stop when the largest and smallest occupancy differ by at most this fraction (default 0.05).")
    var tolerance: Double = 0.05

    @Option(name: .long, help: "At most this many moves (default 32).")
    var maxMoves: Int = 32

    @Flag(name: .long, help: "Print the plan without migrating.")
    var dryRun = false

    @OptionGroup var migration: DrainRunOptions
    @OptionGroup var output: OutputOptions

    struct Report: Encodable {
        struct Move: Encodable { var guest: String; var source: String; var target: String; var vcpuPins: [CPUSet]; var memoryNodes: NodeSet }
        var objective: String
        var spreadBefore: Double
        var spreadAfter: Double
        var before: [FleetHostLoad]
        var after: [FleetHostLoad]
        var moves: [Move]
        var stuck: [FleetDrainPlan.Stuck]
        var missing: [FleetInventory.Missing]
    }

    struct Drain: Encodable {
        var source: String
        var outcomes: [FleetDrainCommand.Outcome]
        var cancelled: Bool
        var complete: Bool
    }

    struct RunReport: Encodable {
        var plan: Report
        var drains: [Drain]
        var complete: Bool
    }

    func goal() throws -> FleetRebalanceObjective {
        if let freeNode {
            guard let colon = freeNode.lastIndex(of: ":"), let node = Int(freeNode[freeNode.index(after: colon)...]), node >= 0, colon != freeNode.startIndex else {
                throw CLIError("--free-node wants HOST:NODE, got '\(freeNode)'")
            }
            return .freeNode(host: String(freeNode[..<colon]), node: node)
        }
        switch objective {
        case "memory": return .evenMemory
        case "cpu": return .evenCPU
        default: throw CLIError("--objective wants memory or cpu, got '\(objective)'")
        }
    }

    func run() async throws {
        let goal = try goal()
        guard tolerance >= 0, tolerance.isFinite else { throw CLIError("--tolerance must be a fraction >= 0") }
        guard maxMoves >= 0 else { throw CLIError("--max-moves must be >= 0") }
        let options = try migration.options()
        let fleet = try fleetHosts.makeFleet(readOnly: dryRun)
        let plan: FleetRebalancePlan
        do { plan = try await fleet.planRebalance(goal, tolerance: tolerance, maxMoves: maxMoves) } catch {
            await fleet.shutdown()
            throw CLIError("\(error)")
        }
        let report = Report(objective: "\(goal)", spreadBefore: plan.spreadBefore, spreadAfter: plan.spreadAfter, before: plan.before, after: plan.after,
                            moves: plan.moves.map { .init(guest: $0.guest, source: $0.source, target: $0.target, vcpuPins: $0.placement.vcpuPins, memoryNodes: $0.placement.memoryNodes) },
                            stuck: plan.stuck, missing: plan.missing)
        if dryRun {
            await fleet.shutdown()
            if output.json { return try printJSON(report) }
            printPlan(plan)
            if !plan.isComplete { throw ExitCode(1) }
            return
        }
        if !output.json { printPlan(plan) }
        var drains: [Drain] = []
        for part in plan.drainPlans {
            let done: FleetDrainReport
            do { done = try await carryOutDrain(part, on: fleet, options: options, json: output.json) } catch {
                await fleet.shutdown()
                throw CLIError("\(error)")
            }
            if !output.json { print("\(part.source): \(done.summary)") }
            drains.append(Drain(source: part.source, outcomes: FleetDrainCommand.Outcome.list(done), cancelled: done.cancelled, complete: done.isComplete))
            if done.cancelled { break }
        }
        await fleet.shutdown()
        let complete = plan.isComplete && drains.count == plan.drainPlans.count && drains.allSatisfy(\.complete)
        if output.json { try printJSON(RunReport(plan: report, drains: drains, complete: complete)) }
        if !complete { throw ExitCode(1) }
    }

    private func printPlan(_ plan: FleetRebalancePlan) {
        func percent(_ x: Double) -> String { String(format: "%.1f %%", x * 100) }
        print("objective: \(plan.objective)" + (plan.moves.isEmpty && plan.stuck.isEmpty ? " — nothing to move" : "")
              + { if case .freeNode = plan.objective { "" } else { "; spread \(percent(plan.spreadBefore)) → \(percent(plan.spreadAfter))" } }())
        for (b, a) in zip(plan.before, plan.after) {
            print("  \(b.host): memory \(percent(b.memoryFraction)) → \(percent(a.memoryFraction)), vCPUs/CPU \(percent(b.cpuFraction)) → \(percent(a.cpuFraction)), guests \(b.guests) → \(a.guests)")
        }
        for m in plan.moves {
            print("\(m.guest): \(m.source) → \(m.target)  vCPUs \(m.placement.vcpuPins.map(\.description).joined(separator: " "))  memory nodes \(m.placement.memoryNodes)")
        }
        for s in plan.stuck { print("\(s.guest): no target — \(s.reasons.joined(separator: "; "))") }
        for m in plan.missing { print("host \(m.host) \(m.result)\(m.error.map { ": \($0)" } ?? "")") }
    }
}
