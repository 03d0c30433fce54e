import Foundation
import Libvirt
@testable import LibvirtFleet
import Testing
import Tuning
import VirtCore

/// The rebalance planner on fixtures (pure) and on test-driver fleets.
@Suite struct FleetRebalanceTests {
    /// A host with `nodes` NUMA nodes of `cpusPerNode` CPUs and `memoryPerNode` each.
    static func topology(nodes: Int = 1, cpusPerNode: Int, memoryPerNode: MemorySize) -> HostTopology {
        let cpus = (0..<nodes * cpusPerNode).map { HostTopology.CPU(id: $0, core: $0, node: $0 / cpusPerNode) }
        return HostTopology(cpus: cpus, nodes: (0..<nodes).map { n in
            HostTopology.Node(id: n, cpus: CPUSet((n * cpusPerNode)..<((n + 1) * cpusPerNode)), memory: memoryPerNode)
        })
    }

    static func host(_ name: String, cpus: Int = 8, memory: MemorySize = .gibibytes(8), guests: [GuestPlacementRequest]) -> FleetRebalanceHost {
        FleetRebalanceHost(name: name, topology: topology(cpusPerNode: cpus, memoryPerNode: memory),
                           occupancy: PlacementOccupancy(guests: guests.map { .init(name: $0.name) }), guests: guests)
    }

    static func guest(_ name: String, gib: UInt64, vcpus: Int = 1, policy: PlacementCPUPolicy = .shared) -> GuestPlacementRequest {
        GuestPlacementRequest(name: name, vcpus: vcpus, memory: .gibibytes(gib), cpuPolicy: policy)
    }

    /// The variance of the objective's fractions over the hosts.
    static func variance(_ loads: [FleetHostLoad], _ objective: FleetRebalanceObjective) -> Double {
        let xs = loads.map { if case .evenCPU = objective { $0.cpuFraction } else { $0.memoryFraction } }
        let mean = xs.reduce(0, +) / Double(xs.count)
        return xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count)
    }

    /// Each move lowers the variance, no guest moves twice, the loads after are the moves applied.
    static func checkInvariants(_ plan: FleetRebalancePlan, _ hosts: [FleetRebalanceHost]) {
        #expect(Set(plan.moves.map(\.guest)).count == plan.moves.count, "a guest moves at most once")
        var state = hosts
        var spread = variance(state.map(\.load), plan.objective)
        for m in plan.moves {
            guard let s = state.firstIndex(where: { $0.name == m.source }), let t = state.firstIndex(where: { $0.name == m.target }),
                  let g = state[s].guests.first(where: { $0.name == m.guest }) else {
                Issue.record("move \(m.guest) \(m.source) → \(m.target) names an unknown guest or host")
                return
            }
            state[s].guests.removeAll { $0.name == m.guest }
            state[t].guests.append(g)
            let next = variance(state.map(\.load), plan.objective)
            if case .freeNode = plan.objective {} else { #expect(next < spread, "\(m.guest) → \(m.target) lowers the variance") }
            spread = next
        }
        #expect(state.map(\.load) == plan.after)
    }

    @Test func evenMemoryMovesTheBestGuestFirstAndStopsWhenNoMoveHelps() {
        let hosts = [Self.host("h1", guests: [Self.guest("big-a", gib: 2), Self.guest("big-b", gib: 2), Self.guest("one-a", gib: 1), Self.guest("one-b", gib: 1)]),
                     Self.host("h2", guests: [Self.guest("resident", gib: 1)]),
                     Self.host("h3", guests: [])]
        let plan = FleetRebalancePlan.plan(.evenMemory, hosts: hosts)
        // 6/8, 1/8, 0: a 2 GiB guest to the empty host (2 GiB guests tie: by name), then a 1 GiB
        // one to h2 (the same variance as moving 2 GiB there: the smaller wins); then no move
        // lowers the variance.
        #expect(plan.moves.map { "\($0.guest) \($0.source)→\($0.target)" } == ["big-a h1→h3", "one-a h1→h2"])
        #expect(plan.spreadBefore == 0.75 && plan.spreadAfter == 0.125)
        #expect(plan.after.first { $0.host == "h1" }?.memoryFraction == 0.375)
        Self.checkInvariants(plan, hosts)
        // The drain plans: one per source, with the moves.
        #expect(plan.drainPlans.map(\.source) == ["h1"] && plan.drainPlans.first?.moves.map(\.guest) == ["big-a", "one-a"])

        // Tolerance and a move budget stop it earlier.
        #expect(FleetRebalancePlan.plan(.evenMemory, hosts: hosts, tolerance: 0.8).moves.isEmpty)
        #expect(FleetRebalancePlan.plan(.evenMemory, hosts: hosts, maxMoves: 1).moves.map(\.guest) == ["big-a"])
        // Two hosts share the largest load: a move still helps (no single move narrows the
        // spread of 0.5, 0.5, 0 — the variance falls).
        let tied = [Self.host("t1", guests: [Self.guest("a1", gib: 2), Self.guest("a2", gib: 2)]),
                    Self.host("t2", guests: [Self.guest("b1", gib: 2), Self.guest("b2", gib: 2)]), Self.host("t3", guests: [])]
        let untied = FleetRebalancePlan.plan(.evenMemory, hosts: tied)
        #expect(untied.moves.map { "\($0.guest)→\($0.target)" } == ["a1→t3"] && untied.spreadAfter == 0.25)
        Self.checkInvariants(untied, tied)
        // Candidate hosts: with one, only the most loaded host gives and the least loaded takes.
        let narrow = FleetRebalancePlan.plan(.evenMemory, hosts: hosts, candidateHosts: 1)
        #expect(narrow.moves.allSatisfy { $0.source == "h1" } && narrow.moves.first?.target == "h3")
        // Immovable guests count in the load but stay.
        let pinnedBig = hosts.map { h in
            var h = h
            if h.name == "h1" { h.immovable = ["big-a", "big-b"] }
            return h
        }
        let small = FleetRebalancePlan.plan(.evenMemory, hosts: pinnedBig)
        #expect(!small.moves.isEmpty && small.moves.allSatisfy { $0.guest.hasPrefix("one-") }, "\(small.moves.map(\.guest))")
        // A host already running a guest of the same name does not get another (libvirt
        // refuses it); the same fleet with another name there moves it.
        func clash(_ other: String) -> [FleetRebalanceHost] {
            [Self.host("c1", guests: [Self.guest("web", gib: 3)]), Self.host("c2", memory: .gibibytes(64), guests: [Self.guest(other, gib: 1)])]
        }
        #expect(FleetRebalancePlan.plan(.evenMemory, hosts: clash("web"), tolerance: 0).moves.isEmpty)
        #expect(FleetRebalancePlan.plan(.evenMemory, hosts: clash("api"), tolerance: 0).moves.map { "\($0.guest)→\($0.target)" } == ["web→c2"])
        // A balanced fleet needs nothing.
        let even = [Self.host("e1", guests: [Self.guest("x", gib: 2)]), Self.host("e2", guests: [Self.guest("y", gib: 2)])]
        #expect(FleetRebalancePlan.plan(.evenMemory, hosts: even, tolerance: 0).moves.isEmpty)
    }

    @Test func evenCPUGoesOnlyWhereThePlannerPlacesTheGuest() {
        // h2 is empty but has 2 CPUs: a 4-vCPU dedicated guest cannot go there; h3 (8 CPUs) takes it.
        let hosts = [Self.host("h1", guests: [Self.guest("wide", gib: 1, vcpus: 4, policy: .dedicated), Self.guest("w2", gib: 1, vcpus: 4, policy: .dedicated)]),
                     Self.host("h2", cpus: 2, guests: []),
                     Self.host("h3", cpus: 8, guests: [Self.guest("r", gib: 1, vcpus: 2)])]
        let plan = FleetRebalancePlan.plan(.evenCPU, hosts: hosts, tolerance: 0)
        let dedicated = plan.moves.filter { $0.guest.hasPrefix("w") }
        #expect(!dedicated.isEmpty && dedicated.allSatisfy { $0.target == "h3" }, "\(plan.moves.map { "\($0.guest)→\($0.target)" })")
        #expect(plan.spreadAfter < plan.spreadBefore)
        for m in dedicated { #expect(m.placement.vcpuPins.count == 4 && m.placement.cpuPolicy == .dedicated && Set(m.placement.vcpuPins).count == 4) }
        Self.checkInvariants(plan, hosts)
    }

    @Test func freeNodeMovesTheGuestsUsingItAndNamesThoseThatFitNowhere() {
        let src = FleetRebalanceHost(
            name: "src", topology: Self.topology(nodes: 2, cpusPerNode: 4, memoryPerNode: .gibibytes(8)),
            occupancy: PlacementOccupancy(guests: [
                .init(name: "pinned0", vcpuPins: [[1]]),
                .init(name: "bound0", memoryByNode: [0: .gibibytes(1)]),
                .init(name: "float", vcpuPins: [CPUSet(0..<8)]),
                .init(name: "pinned1", vcpuPins: [[5]]),
                .init(name: "huge0", vcpuPins: [[2]]),
            ]),
            guests: [Self.guest("pinned0", gib: 1, policy: .dedicated), Self.guest("bound0", gib: 1), Self.guest("float", gib: 1),
                     Self.guest("pinned1", gib: 1, policy: .dedicated), Self.guest("huge0", gib: 64, policy: .dedicated)])
        #expect(FleetRebalancePlan.guestsUsing(node: 0, of: src) == ["pinned0", "bound0", "huge0"])
        #expect(FleetRebalancePlan.guestsUsing(node: 1, of: src) == ["pinned1"])
        #expect(FleetRebalancePlan.guestsUsing(node: 7, of: src).isEmpty)
        let hosts = [src, Self.host("t1", guests: []), Self.host("t2", guests: [])]
        let plan = FleetRebalancePlan.plan(.freeNode(host: "src", node: 0), hosts: hosts)
        #expect(Set(plan.moves.map(\.guest)) == ["pinned0", "bound0"] && plan.moves.allSatisfy { $0.source == "src" && $0.target != "src" })
        #expect(plan.stuck.map(\.guest) == ["huge0"] && plan.stuck.first?.reasons.count == 2 && !plan.isComplete)
        #expect(plan.after.first { $0.host == "src" }?.guests == 3)
        Self.checkInvariants(plan, hosts)
        #expect(FleetRebalancePlan.plan(.freeNode(host: "nope", node: 0), hosts: hosts).moves.isEmpty)
    }

    @Test func rebalanceOfATestDriverFleet() async throws {
        let a = try NodeFiles.node("rb-a", cpus: 8, guests: 6)
        let b = try NodeFiles.node("rb-b", cpus: 8, guests: 0)
        let fleet = try Fleet(hosts: [a, b])
        let plan = try await fleet.planRebalance(.evenMemory, tolerance: 0)
        // Active guests of rb-a: 0 (64 MiB), 1 (128), 3 (64), 4 (128); rb-b has none.
        #expect(!plan.moves.isEmpty && plan.moves.allSatisfy { $0.source == "rb-a" && $0.target == "rb-b" }, "\(plan.moves.map(\.guest))")
        #expect(plan.spreadAfter < plan.spreadBefore && plan.missing.isEmpty)
        #expect(plan.before.map(\.guests) == [4, 0])
        #expect(Set(plan.moves.map(\.guest)).isSubset(of: ["rb-a-0", "rb-a-1", "rb-a-3", "rb-a-4"]))

        // The guests pinned into node 0 (the even active ones: vCPU 0 on CPU 0 and 4).
        let free = try await fleet.planRebalance(.freeNode(host: "rb-a", node: 0))
        #expect(Set(free.moves.map(\.guest)) == ["rb-a-0", "rb-a-4"] && free.isComplete, "\(free.moves.map(\.guest)) \(free.stuck)")
        #expect(free.drainPlans.count == 1 && free.drainPlans.first?.source == "rb-a")
        // Only the named guests move.
        let one = try await fleet.planRebalance(.evenMemory, guests: ["rb-a-3"], tolerance: 0)
        #expect(one.moves.map(\.guest) == ["rb-a-3"] && one.before.map(\.guests) == [4, 0])
        await #expect(throws: FleetError.unknownHost("nope")) { try await fleet.planRebalance(.freeNode(host: "nope", node: 0)) }
        await fleet.shutdown()
    }
}
