import ArgumentParser
import Foundation
import HostProbe
import Libvirt
import struct LibvirtXML.HostCapabilities
import Tuning
import VirtCore

/// `virtkit plan`: NUMA- and SMT-aware placement of a batch of guests (issue #12).
///
/// `--root DIR` plans on a captured host with no occupancy; `--uri URI` plans on this host
/// with its running guests as occupancy (a requested guest that already exists is re-placed:
/// its own pins do not count) and `--apply` applies the plan to those domains.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan vCPU, emulator, IOThread and memory placement for a batch of guests."
    )

    @Option(name: .long, help: "Plan on a captured host tree (its /sys and /proc) with no guests.")
    var root: String?
    @Option(name: .long, help: "Plan on this host, with the running guests of this libvirt URI as occupancy.")
    var uri: String?
    @Option(name: .long, help: "The request file (JSON).")
    var request: String
    @OptionGroup var output: OutputOptions
    @Flag(name: .long, help: "Let huge page pools grow from free node memory when their free pages fall short.")
    var growHugepages = false
    @Flag(name: .long, help: "Apply the plan to the existing domains it names (with --uri).")
    var apply = false
    @Flag(name: .long, help: "With --apply: change the running guests (default: --live and --config).")
    var live = false
    @Flag(name: .long, help: "With --apply: change the persistent definitions.")
    var config = false
    @Flag(name: .long, help: "With --apply: print each change (before → after, definition diff) and change nothing.")
    var dryRun = false
    @Option(name: .long, help: "With --apply: the journal file (default: ./virtkit-plan-<time>.journal.json).")
    var journal: String?

    func validate() throws {
        if (root == nil) == (uri == nil) { throw ValidationError("give exactly one of --root DIR and --uri URI") }
        if apply && uri == nil { throw ValidationError("--apply needs --uri") }
        if !apply && (live || config || dryRun || journal != nil) { throw ValidationError("--live, --config, --dry-run and --journal go with --apply") }
    }

    func run() async throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: request)) } catch {
            throw CLIError("cannot read \(request): \(error.localizedDescription)")
        }
        let batch: PlacementRequest
        do { batch = try PlacementRequest(json: data) } catch { throw CLIError("\(request): \(error)") }

        let host: HostTopology
        var occupancy = PlacementOccupancy.empty
        if let root {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
                throw CLIError("--root \(root) is not a directory")
            }
            host = try await Self.topology(root: root)
        } else {
            let connection = try await Connection.open(uri, readOnly: !apply)
            // A local daemon's host is this one: /sys has free memory and free pages. A remote
            // host's topology, and the test driver's own host, come from the capabilities (totals only).
            if let uri, let r = uri.range(of: "://"), !uri[r.upperBound...].hasPrefix("/") || uri.hasPrefix("test:") {
                do {
                    host = try HostCapabilities(parsing: try await connection.capabilitiesXML()).hostTopology()
                } catch { throw CLIError("capabilities of \(uri): \(error)") }
            } else {
                host = try await Self.topology(root: "/")
            }
            occupancy = try await PlacementOccupancy.gather(from: connection, excluding: Set(batch.guests.map(\.name)))
            if apply {
                let plan: PlacementPlan
                do { plan = try PlacementPlanner(host: host, occupancy: occupancy, growHugepagePools: growHugepages).plan(batch) } catch { throw CLIError("\(request): \(error)") }
                try await applyPlan(plan, connection: connection, uri: uri ?? "")
                await connection.close()
                return
            }
            await connection.close()
        }
        let plan: PlacementPlan
        do { plan = try PlacementPlanner(host: host, occupancy: occupancy, growHugepagePools: growHugepages).plan(batch) } catch { throw CLIError("\(request): \(error)") }
        if output.json {
            try printJSON(PlacementReport(plan))
        } else {
            print(Self.render(plan), terminator: "")
        }
    }

    func applyPlan(_ plan: PlacementPlan, connection: Connection, uri: String) async throws {
        if let u = plan.unplaced.first { throw CLIError("\(u.name) could not be placed: \(u.reason); nothing applied") }
        var scope: ReconfigurationScope = []
        if live { scope.insert(.live) }
        if config { scope.insert(.config) }
        if scope.isEmpty { scope = [.live, .config] }
        let steps: ReconfigurationPlan
        do { steps = try await ReconfigurationPlan.placing(plan, on: connection, uri: uri, scope: scope) } catch { throw CLIError("\(error)") }
        if dryRun {
            print(steps.steps.isEmpty ? "nothing to change" : steps.dryRunDescription, terminator: "")
            return
        }
        _ = try await applyReconfiguration(steps, connection: connection, journal: journal ?? "virtkit-plan-\(Int(Date().timeIntervalSince1970)).journal.json")
    }

    static func topology(root: String) async throws -> HostTopology {
        let snapshot = try await HostProber(rootPath: root).snapshot(sections: [.topology, .numa, .memory, .pci])
        guard let topology = snapshot.hostTopology else {
            throw CLIError("no CPU topology under \(root) (is it a /sys + /proc tree?)")
        }
        return topology
    }

    static func render(_ plan: PlacementPlan) -> String {
        var out = ""
        for p in plan.placements {
            let pins = p.vcpuPins.enumerated().map { "\($0.offset)→\($0.element.listString)" }.joined(separator: " ")
            out += "\(p.name): \(p.cpuPolicy.rawValue), nodes \(p.memoryNodes.listString), topology \(p.topology.sockets)s×\(p.topology.cores)c×\(p.topology.threads)t\n"
            out += "  vCPUs     \(pins)\n"
            out += "  emulator  \(p.emulatorPin.listString)\n"
            for (i, pin) in p.iothreadPins.enumerated() { out += "  iothread\(i + 1) \(pin.listString)\n" }
            for c in p.cells { out += "  cell \(c.id)    vCPUs \(c.vcpus.listString), \(c.memory) on node \(c.hostNode)\n" }
        }
        for u in plan.unplaced { out += "\(u.name): not placed: \(u.reason)\n" }
        for g in plan.hugepagePoolGrowth { out += "node \(g.node): grow the \(g.pageSize) huge page pool by \(g.pages) pages\n" }
        out += "score: \(plan.score)\n"
        return out
    }
}
