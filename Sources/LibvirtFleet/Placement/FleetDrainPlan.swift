import Libvirt
import Tuning
import VirtCore

/// Where every active guest of a host would go if the host were drained: each guest planned
/// by `PlacementPlanner` on the other hosts, largest first, each target's occupancy growing
/// with the guests already given to it. `Fleet.startDrain(_:options:)` carries it out.
public struct FleetDrainPlan: Sendable {
    /// One guest's destination and its placement there.
    public struct Move: Sendable {
        public var guest: String
        public var target: String
        public var placement: GuestPlacement
        /// The target's NUMA nodes (a plan using all of them binds no memory).
        public var targetNodes: NodeSet

        public init(guest: String, target: String, placement: GuestPlacement, targetNodes: NodeSet) {
            self.guest = guest
            self.target = target
            self.placement = placement
            self.targetNodes = targetNodes
        }
    }

    /// A guest no target can take, with each target's reason.
    public struct Stuck: Sendable, Hashable, Codable {
        public var guest: String
        public var reasons: [String]
    }

    public var source: String
    public var moves: [Move]
    public var stuck: [Stuck]
    /// Targets that did not answer (`failed` / `timedOut`).
    public var missing: [FleetInventory.Missing]

    /// Every guest has a target.
    public var isComplete: Bool { stuck.isEmpty }

    /// Plans `guests` onto `targets` (pure). Guests are taken largest memory first; each goes
    /// to the target whose plan scores best (on a tie, the one holding fewer guests), and then
    /// holds its CPUs and memory there.
    public static func plan(source: String, guests: [GuestPlacementRequest], targets: [(name: String, topology: HostTopology, occupancy: PlacementOccupancy)],
                            sharedCPUAllocationRatio: Int = 4) -> FleetDrainPlan {
        var occupancy = targets.map(\.occupancy)
        var moves: [Move] = []
        var stuck: [Stuck] = []
        for guest in guests.sorted(by: { ($0.memory, $0.vcpus) > ($1.memory, $1.vcpus) }) {
            var best: (index: Int, plan: PlacementPlan, placement: GuestPlacement)?
            var reasons: [String] = []
            for (i, t) in targets.enumerated() {
                let planner = PlacementPlanner(host: t.topology, occupancy: occupancy[i], sharedCPUAllocationRatio: sharedCPUAllocationRatio)
                do {
                    let plan = try planner.plan(PlacementRequest(guests: [guest]))
                    if let p = plan.placement(named: guest.name) {
                        // Equal scores: the target holding fewer guests, so a drain spreads.
                        if let b = best {
                            let tie = !(b.plan.score < plan.score) && !(plan.score < b.plan.score)
                            if b.plan.score < plan.score || (tie && occupancy[i].guests.count < occupancy[b.index].guests.count) { best = (i, plan, p) }
                        } else {
                            best = (i, plan, p)
                        }
                    } else {
                        reasons.append("\(t.name): \(plan.unplaced.first.map { "\($0.reason)" } ?? "not placed")")
                    }
                } catch {
                    reasons.append("\(t.name): \(error)")
                }
            }
            guard let best else {
                stuck.append(Stuck(guest: guest.name, reasons: reasons))
                continue
            }
            moves.append(Move(guest: guest.name, target: targets[best.index].name, placement: best.placement,
                              targetNodes: NodeSet(targets[best.index].topology.nodes.map(\.id))))
            occupancy[best.index].guests.append(PlacementOccupancy.Guest(placement: best.placement))
        }
        return FleetDrainPlan(source: source, moves: moves, stuck: stuck, missing: [])
    }
}

extension PlacementOccupancy.Guest {
    /// What a planned guest will hold: its pins and its cells' memory per host node.
    init(placement p: GuestPlacement) {
        var byNode: [Int: MemorySize] = [:]
        for c in p.cells { byNode[c.hostNode] = (byNode[c.hostNode] ?? MemorySize(bytes: 0)) + c.memory }
        self.init(name: p.name, vcpuPins: p.vcpuPins, emulatorPin: p.emulatorPin, iothreadPins: p.iothreadPins, memoryByNode: byNode)
    }
}

extension GuestPlacementRequest {
    /// The request that re-places a running guest: its vCPUs and memory, dedicated CPUs when
    /// it is pinned, its guest NUMA cell count and huge page size.
    public init(migrating g: GuestMigrationFacts) {
        self.init(name: g.name, vcpus: g.vcpus, memory: g.memory, cpuPolicy: g.pinned ? .dedicated : .shared,
                  numaNodes: g.numaCells.isEmpty ? nil : g.numaCells.count,
                  hugepageSize: g.usesHugepages ? (g.hugepageSize ?? .mebibytes(2)) : nil)
    }
}

extension Fleet {
    /// The drain plan of host `source` onto the other hosts (or `targets`): the source's
    /// active guests (or those of them named in `guests`) from their live definitions, each
    /// target's topology and occupancy.
    public func planDrain(of source: String, onto targets: [String]? = nil, guests only: Set<String>? = nil) async throws -> FleetDrainPlan {
        for name in [source] + (targets ?? []) where host(named: name) == nil { throw FleetError.unknownHost(name) }
        let src = await run(on: [source]) { conn, _ -> [GuestMigrationFacts] in
            var facts: [GuestMigrationFacts] = []
            for d in try await conn.listAllDomains(flags: .active) where only?.contains(d.name) ?? true { facts.append(try GuestMigrationFacts(domainXML: try await d.xmlDescription())) }
            return facts
        }
        guard let outcome = src.outcomes.first else { throw FleetError.unknownHost(source) }
        let guests: [GuestMigrationFacts]
        switch outcome.result {
        case .ok(let g): guests = g
        case .failed(let e): throw e
        case .timedOut: throw FleetError.sourceTimedOut(source)
        }
        let names = targets ?? hosts.map(\.name).filter { $0 != source }
        let cache = factsCache
        let report = await run(on: names) { conn, host -> (HostTopology, PlacementOccupancy) in
            (try await FleetHostInventory.currentTopology(of: host, over: conn, cache: cache),
             try await PlacementOccupancy.gather(from: conn))
        }
        var plan = FleetDrainPlan.plan(source: source, guests: guests.map(GuestPlacementRequest.init(migrating:)),
                                       targets: report.values.map { ($0.host.name, $0.value.0, $0.value.1) })
        plan.missing = FleetInventory.Missing.list(report.outcomes)
        return plan
    }
}
