import DomainXML
import Libvirt
import Tuning
import VirtCore

/// What a rebalance aims at.
public enum FleetRebalanceObjective: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Even memory occupancy: the running guests' memory over each host's memory.
    case evenMemory
    /// Even CPU occupancy: the running guests' vCPUs over each host's CPUs.
    case evenCPU
    /// Move every running guest that uses NUMA node `node` of `host` (a vCPU, emulator or
    /// IOThread pinned to its CPUs, or memory bound to it) to other hosts.
    case freeNode(host: String, node: Int)

    public var description: String {
        switch self {
        case .evenMemory: "even memory"
        case .evenCPU: "even CPU"
        case .freeNode(let h, let n): "free node \(n) of \(h)"
        }
    }
}

/// One host's load as the rebalance sees it.
public struct FleetHostLoad: Sendable, Hashable, Codable {
    public var host: String
    /// Running guests' memory over the host's memory (0…, over 1 when overcommitted).
    public var memoryFraction: Double
    /// Running guests' vCPUs over the host's CPUs.
    public var cpuFraction: Double
    public var guests: Int
}

/// A host as input to the rebalance planner: its topology, occupancy and running guests.
public struct FleetRebalanceHost: Sendable {
    public var name: String
    public var topology: HostTopology
    public var occupancy: PlacementOccupancy
    /// The running guests (their sizes count in the host's load).
    public var guests: [GuestPlacementRequest]
    /// Guests among them that must stay where they are.
    public var immovable: Set<String>

    public init(name: String, topology: HostTopology, occupancy: PlacementOccupancy, guests: [GuestPlacementRequest], immovable: Set<String> = []) {
        self.name = name
        self.topology = topology
        self.occupancy = occupancy
        self.guests = guests
        self.immovable = immovable
    }

    var memoryCapacity: UInt64 { topology.nodes.reduce(0) { $0 + ($1.memory?.bytes ?? 0) } }
    var cpuCapacity: Int { topology.cpus.count }
    var usedMemory: UInt64 { guests.reduce(0) { $0 + $1.memory.bytes } }
    var usedVCPUs: Int { guests.reduce(0) { $0 + $1.vcpus } }

    var load: FleetHostLoad {
        FleetHostLoad(host: name, memoryFraction: memoryCapacity == 0 ? 0 : Double(usedMemory) / Double(memoryCapacity),
                      cpuFraction: cpuCapacity == 0 ? 0 : Double(usedVCPUs) / Double(cpuCapacity), guests: guests.count)
    }
}

/// Live migrations across the fleet that move it toward an objective: the drain's
/// machinery (each move planned by `PlacementPlanner` on its target, the target's occupancy
/// growing with it) with moves chosen for the objective. `drainPlans` groups the moves per
/// source for `Fleet.startDrain`.
public struct FleetRebalancePlan: Sendable {
    public struct Move: Sendable {
        public var guest: String
        public var source: String
        public var target: String
        public var placement: GuestPlacement
        public var targetNodes: NodeSet
    }

    public var objective: FleetRebalanceObjective
    /// In the order they were chosen (each one improves the objective).
    public var moves: [Move]
    /// Guests the objective wants moved that no host can take (`freeNode`).
    public var stuck: [FleetDrainPlan.Stuck]
    /// Per host, before and after the moves (fleet order).
    public var before: [FleetHostLoad]
    public var after: [FleetHostLoad]
    /// Hosts that did not answer (`failed` / `timedOut`): not part of the plan.
    public var missing: [FleetInventory.Missing]

    /// Largest minus smallest fraction of the objective's resource over the hosts (0 for `freeNode`).
    /// (The planner lowers the fractions' variance; it reports this spread.)
    public static func spread(_ loads: [FleetHostLoad], _ objective: FleetRebalanceObjective) -> Double {
        let values: [Double]
        switch objective {
        case .evenMemory: values = loads.map(\.memoryFraction)
        case .evenCPU: values = loads.map(\.cpuFraction)
        case .freeNode: return 0
        }
        guard let hi = values.max(), let lo = values.min() else { return 0 }
        return hi - lo
    }

    public var spreadBefore: Double { Self.spread(before, objective) }
    public var spreadAfter: Double { Self.spread(after, objective) }
    /// Nothing the objective wants is left undone (no stuck guest).
    public var isComplete: Bool { stuck.isEmpty }

    /// The moves as one drain plan per source host (sources in fleet order of their first move).
    public var drainPlans: [FleetDrainPlan] {
        var order: [String] = []
        var bySource: [String: [FleetDrainPlan.Move]] = [:]
        for m in moves {
            if bySource[m.source] == nil { order.append(m.source) }
            bySource[m.source, default: []].append(FleetDrainPlan.Move(guest: m.guest, target: m.target, placement: m.placement, targetNodes: m.targetNodes))
        }
        return order.map { FleetDrainPlan(source: $0, moves: bySource[$0] ?? [], stuck: [], missing: []) }
    }

    /// Plans the moves (pure). `evenMemory` / `evenCPU`: greedily, while the spread is above
    /// `tolerance` and fewer than `maxMoves`, the move that lowers the variance of the hosts'
    /// fractions most and that the target's planner places (the smallest guest on equal
    /// results), from one of the `candidateHosts` most loaded hosts to one of the as many
    /// least loaded and holding no guest of the same name; a guest moves at most once, so no
    /// guest goes back and forth. `freeNode`: the guests using the node are drained to the
    /// other hosts (`FleetDrainPlan.plan`).
    public static func plan(_ objective: FleetRebalanceObjective, hosts: [FleetRebalanceHost], tolerance: Double = 0.05, maxMoves: Int = 32,
                            candidateHosts: Int = 16, sharedCPUAllocationRatio: Int = 4) -> FleetRebalancePlan {
        var hosts = hosts
        let before = hosts.map(\.load)
        if case .freeNode(let source, let node) = objective {
            guard let s = hosts.firstIndex(where: { $0.name == source }) else {
                return FleetRebalancePlan(objective: objective, moves: [], stuck: [], before: before, after: before, missing: [])
            }
            let users = Set(guestsUsing(node: node, of: hosts[s])).subtracting(hosts[s].immovable)
            let drain = FleetDrainPlan.plan(source: source, guests: hosts[s].guests.filter { users.contains($0.name) },
                                            targets: hosts.filter { $0.name != source }.map { ($0.name, $0.topology, $0.occupancy) },
                                            sharedCPUAllocationRatio: sharedCPUAllocationRatio)
            var moves: [Move] = []
            for m in drain.moves {
                guard let t = hosts.firstIndex(where: { $0.name == m.target }), let g = hosts[s].guests.first(where: { $0.name == m.guest }) else { continue }
                hosts[s].guests.removeAll { $0.name == m.guest }
                hosts[t].guests.append(g)
                moves.append(Move(guest: m.guest, source: source, target: m.target, placement: m.placement, targetNodes: m.targetNodes))
            }
            return FleetRebalancePlan(objective: objective, moves: moves, stuck: drain.stuck, before: before, after: hosts.map(\.load), missing: [])
        }

        func size(_ g: GuestPlacementRequest) -> Double {
            if case .evenCPU = objective { return Double(g.vcpus) } else { return Double(g.memory.bytes) }
        }
        func capacity(_ h: FleetRebalanceHost) -> Double {
            if case .evenCPU = objective { return Double(h.cpuCapacity) } else { return Double(h.memoryCapacity) }
        }
        func fraction(_ h: FleetRebalanceHost) -> Double {
            let c = capacity(h)
            return c == 0 ? 0 : h.guests.reduce(0) { $0 + size($1) } / c
        }
        var moved = Set<String>()
        var moves: [Move] = []
        let usable = hosts.indices.filter { capacity(hosts[$0]) > 0 }
        let n = Double(usable.count)
        while moves.count < maxMoves {
            var f: [Int: Double] = [:]
            for i in usable { f[i] = fraction(hosts[i]) }
            let values = usable.compactMap { f[$0] }
            guard let hi = values.max(), let lo = values.min(), hi - lo > tolerance else { break }
            // The variance of the fractions is what each move lowers: unlike the spread it also
            // falls when several hosts share the largest load. A move changes two fractions, so
            // its variance follows from the sums in O(1); sources are the most loaded hosts,
            // targets the least loaded (`candidateHosts` each), so a large fleet stays cheap.
            let sum = values.reduce(0, +), squares = values.reduce(0) { $0 + $1 * $1 }
            let variance = squares / n - (sum / n) * (sum / n)
            let order = usable.sorted { (f[$0] ?? 0, hosts[$1].name) > (f[$1] ?? 0, hosts[$0].name) }
            let targets = Array(order.reversed().prefix(candidateHosts))
            // A host already running a guest of the same name cannot take another (libvirt refuses it).
            var names: [Int: Set<String>] = [:]
            for t in targets { names[t] = Set(hosts[t].guests.map(\.name)) }
            var candidates: [(variance: Double, size: Double, guest: GuestPlacementRequest, source: Int, target: Int)] = []
            for s in order.prefix(candidateHosts) {
                for g in hosts[s].guests where !moved.contains(g.name) && !hosts[s].immovable.contains(g.name) {
                    for t in targets where t != s && names[t]?.contains(g.name) != true {
                        let fs = f[s] ?? 0, ft = f[t] ?? 0
                        let a = size(g) / capacity(hosts[s]), b = size(g) / capacity(hosts[t])
                        let sum2 = sum - a + b, squares2 = squares - 2 * fs * a + a * a + 2 * ft * b + b * b
                        let v = squares2 / n - (sum2 / n) * (sum2 / n)
                        if v < variance - 1e-12 { candidates.append((v, size(g), g, s, t)) }
                    }
                }
            }
            candidates.sort { ($0.variance, $0.size, $0.guest.name, hosts[$0.target].name) < ($1.variance, $1.size, $1.guest.name, hosts[$1.target].name) }
            var chosen: Move?
            for c in candidates {
                let planner = PlacementPlanner(host: hosts[c.target].topology, occupancy: hosts[c.target].occupancy, sharedCPUAllocationRatio: sharedCPUAllocationRatio)
                guard let plan = try? planner.plan(PlacementRequest(guests: [c.guest])), let p = plan.placement(named: c.guest.name) else { continue }
                chosen = Move(guest: c.guest.name, source: hosts[c.source].name, target: hosts[c.target].name, placement: p,
                              targetNodes: NodeSet(hosts[c.target].topology.nodes.map(\.id)))
                hosts[c.source].guests.removeAll { $0.name == c.guest.name }
                hosts[c.source].occupancy = hosts[c.source].occupancy.excluding([c.guest.name])
                hosts[c.target].guests.append(c.guest)
                hosts[c.target].occupancy.guests.append(PlacementOccupancy.Guest(placement: p))
                break
            }
            guard let chosen else { break }
            moved.insert(chosen.guest)
            moves.append(chosen)
        }
        return FleetRebalancePlan(objective: objective, moves: moves, stuck: [], before: before, after: hosts.map(\.load), missing: [])
    }

    /// The running guests of `host` that use NUMA node `node`: a vCPU, emulator or IOThread
    /// pin inside the node's CPUs (a pin covering every CPU of the host floats and uses no
    /// node), or memory bound to the node.
    public static func guestsUsing(node: Int, of host: FleetRebalanceHost) -> [String] {
        guard let cpus = host.topology.nodes.first(where: { $0.id == node })?.cpus else { return [] }
        let all = CPUSet(host.topology.cpus.map(\.id))
        return host.occupancy.guests.filter { g in
            let pins = g.vcpuPins + g.iothreadPins + (g.emulatorPin.map { [$0] } ?? [])
            let pinned = pins.contains { !all.isSubset(of: $0) && !$0.isDisjoint(with: cpus) }
            return pinned || g.memoryByNode[node].map { $0.bytes > 0 } == true
        }.map(\.name).filter { name in host.guests.contains { $0.name == name } }
    }
}

extension Fleet {
    /// The rebalance plan for `objective` over every host (or `hosts`): each host's topology,
    /// occupancy and running guests (from their live definitions), then
    /// `FleetRebalancePlan.plan`; only the guests named in `guests` move when it is given (the
    /// others still count in their host's load). Hosts that fail or time out are left out (`missing`).
    public func planRebalance(_ objective: FleetRebalanceObjective, hosts names: [String]? = nil, guests only: Set<String>? = nil,
                              tolerance: Double = 0.05, maxMoves: Int = 32) async throws -> FleetRebalancePlan {
        for name in names ?? [] where host(named: name) == nil { throw FleetError.unknownHost(name) }
        if case .freeNode(let h, _) = objective, host(named: h) == nil { throw FleetError.unknownHost(h) }
        let cache = factsCache
        var list = names ?? hosts.map(\.name)
        if case .freeNode(let h, _) = objective, !list.contains(h) { list.append(h) }  // the host to relieve is always part of it
        let report = await run(on: list) { conn, host -> FleetRebalanceHost in
            // One read of each running guest's live definition gives its request and what it holds.
            var guests: [GuestPlacementRequest] = []
            var occupancy = PlacementOccupancy()
            for d in try await conn.listAllDomains(flags: .active) {
                let xml: String
                do { xml = try await d.xmlDescription() } catch let e as LibvirtError where e.code == .noDomain { continue }  // gone since the listing
                guests.append(GuestPlacementRequest(migrating: try GuestMigrationFacts(domainXML: xml)))
                if let definition = try? DomainDefinition(parsing: xml) { occupancy.guests.append(PlacementOccupancy.Guest(definition: definition)) }
            }
            return FleetRebalanceHost(name: host.name, topology: try await FleetHostInventory.currentTopology(of: host, over: conn, cache: cache),
                                      occupancy: occupancy, guests: guests,
                                      immovable: only.map { o in Set(guests.map(\.name).filter { !o.contains($0) }) } ?? [])
        }
        if case .freeNode(let h, _) = objective, let o = report.outcomes.first(where: { $0.host.name == h }) {
            switch o.result {
            case .ok: break
            case .failed(let e): throw e
            case .timedOut: throw FleetError.sourceTimedOut(h)
            }
        }
        var plan = FleetRebalancePlan.plan(objective, hosts: report.values.map(\.value), tolerance: tolerance, maxMoves: maxMoves)
        plan.missing = FleetInventory.Missing.list(report.outcomes)
        return plan
    }
}
