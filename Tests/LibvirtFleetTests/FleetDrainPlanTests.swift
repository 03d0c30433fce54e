import Foundation
import Libvirt
@testable import LibvirtFleet
import Testing
import Tuning
import VirtCore

@Suite struct FleetDrainPlanTests {
    static func host(cpus: Int, memory: MemorySize) -> HostTopology {
        HostTopology(cpus: (0..<cpus).map { HostTopology.CPU(id: $0, core: $0, node: 0) },
                     nodes: [HostTopology.Node(id: 0, cpus: CPUSet(0..<cpus), memory: memory)])
    }

    @Test func guestsGoLargestFirstTargetsFillAndNoCPUIsGivenTwice() throws {
        let guests = (0..<4).map { GuestPlacementRequest(name: "g\($0)", vcpus: 2, memory: .gibibytes(UInt64($0 + 1)), cpuPolicy: .dedicated) }
            + [GuestPlacementRequest(name: "wide", vcpus: 6, memory: .gibibytes(1), cpuPolicy: .dedicated)]
        let targets = [("t1", Self.host(cpus: 4, memory: .gibibytes(8)), PlacementOccupancy.empty),
                       ("t2", Self.host(cpus: 4, memory: .gibibytes(8)), PlacementOccupancy(guests: [.init(name: "resident", vcpuPins: [[0], [1]])]))]
        let plan = FleetDrainPlan.plan(source: "src", guests: guests, targets: targets)
        #expect(Set(plan.moves.map(\.guest)).union(plan.stuck.map(\.guest)) == Set(guests.map(\.name)))
        // 4 + 2 free CPUs for 2-vCPU dedicated guests: three fit, "wide" (6) fits nowhere.
        #expect(plan.moves.count == 3 && !plan.isComplete)
        #expect(plan.stuck.map(\.guest).contains("wide") && plan.stuck.first { $0.guest == "wide" }?.reasons.count == 2)
        // Largest first: g3 (4 GiB) and g2 (3 GiB) are placed before the smaller ones.
        #expect(Array(plan.moves.map(\.guest).prefix(2)) == ["g3", "g2"])
        for t in ["t1", "t2"] {
            let pins = plan.moves.filter { $0.target == t }.flatMap { $0.placement.vcpuPins }
            let all = pins.reduce(into: [Int]()) { $0 += Array($1) }
            #expect(all.count == Set(all).count, "no host CPU given twice on \(t)")
            if t == "t2" { #expect(!all.contains(0) && !all.contains(1), "the resident's CPUs stay its own") }
            let mem = plan.moves.filter { $0.target == t }.reduce(UInt64(0)) { $0 + $1.placement.cells.reduce(0) { $0 + $1.memory.bytes } }
            #expect(mem <= MemorySize.gibibytes(8).bytes)
        }
    }

    @Test func equalTargetsShareTheGuests() {
        let guests = (0..<4).map { GuestPlacementRequest(name: "s\($0)", vcpus: 1, memory: .mebibytes(64), cpuPolicy: .shared) }
        let targets = ["t1", "t2"].map { ($0, Self.host(cpus: 4, memory: .gibibytes(8)), PlacementOccupancy.empty) }
        let plan = FleetDrainPlan.plan(source: "src", guests: guests, targets: targets)
        #expect(plan.isComplete && plan.moves.filter { $0.target == "t1" }.count == 2 && plan.moves.filter { $0.target == "t2" }.count == 2,
                "\(plan.moves.map { "\($0.guest)→\($0.target)" })")
    }

    @Test func drainPlanOfATestDriverHost() async throws {
        let src = try NodeFiles.node("drain-src", cpus: 8, guests: 6)
        let t1 = try NodeFiles.node("drain-t1", cpus: 8, guests: 0)
        let fleet = try Fleet(hosts: [src, t1, FleetHost(name: "drain-default", uri: "test:///default", readOnly: true)])
        let plan = try await fleet.planDrain(of: "drain-src")
        let active = (0..<6).filter { $0 % 3 != 2 }.map { "drain-src-\($0)" }
        #expect(Set(plan.moves.map(\.guest)) == Set(active) && plan.isComplete, "\(plan.stuck)")
        #expect(plan.moves.allSatisfy { $0.target != "drain-src" } && plan.missing.isEmpty)
        // Pinned guests (even ones) get dedicated CPUs; the others share.
        for m in plan.moves {
            let i = Int(m.guest.split(separator: "-").last!)!
            #expect(m.placement.cpuPolicy == (i % 2 == 0 ? .dedicated : .shared), "\(m.guest)")
        }
        await #expect(throws: FleetError.unknownHost("nope")) { try await fleet.planDrain(of: "nope") }
        await fleet.shutdown()
    }
}
