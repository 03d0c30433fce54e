import Foundation
import Libvirt
import LibvirtFleet
import Testing
import Tuning
import VirtCore

/// The placement planner across test-driver hosts.
@Suite struct FleetPlacementTests {
    static func fleet() throws -> Fleet {
        try Fleet(hosts: [
            try NodeFiles.node("place-small", cpus: 8, guests: 3),  // one node, 8 CPUs, 16 GiB
            FleetHost(name: "place-default", uri: "test:///default", readOnly: true),  // 2 nodes × 8 CPUs, 2 + 4 GiB
            FleetHost(name: "place-dead", uri: "test://\(NodeFiles.folder.path)/missing.xml"),
        ])
    }

    @Test func theHostWhoseTopologyFitsIsChosenAndDeadHostsAreListed() async throws {
        let fleet = try Self.fleet()
        // 12 dedicated vCPUs over two guest cells fit only on the two-node host (the 8-CPU
        // host refuses the request; the dead host fails).
        let wide = PlacementRequest(guests: [GuestPlacementRequest(name: "wide", vcpus: 12, memory: .gibibytes(1), cpuPolicy: .dedicated, numaNodes: 2)])
        let p1 = await fleet.place(wide)
        #expect(p1.best?.host == "place-default", "\(p1.missing) \(p1.candidates.map { ($0.host, $0.plan.unplaced) })")
        let cells = try #require(p1.best?.plan.placement(named: "wide"))
        #expect(Set(cells.cells.map(\.hostNode)) == [0, 1], "one guest cell per host node")
        #expect(p1.missing.map(\.host) == ["place-small", "place-dead"] && p1.missing.allSatisfy { $0.result == "failed" })
        #expect(p1.missing[0].error?.contains("12 vCPUs") == true)

        // 8 GiB in one cell: only the 16 GiB host has the memory.
        let big = PlacementRequest(guests: [GuestPlacementRequest(name: "big", vcpus: 2, memory: .gibibytes(8))])
        let p2 = await fleet.place(big)
        #expect(p2.best?.host == "place-small")
        #expect(p2.candidates.first { $0.host == "place-default" }?.plan.unplaced.map(\.name) == ["big"])

        // Too large for every host: no best, every host says why.
        let huge = PlacementRequest(guests: [GuestPlacementRequest(name: "huge", vcpus: 64, memory: .gibibytes(64), cpuPolicy: .dedicated)])
        let p3 = await fleet.place(huge)
        #expect(p3.best == nil && p3.candidates.isEmpty && p3.missing.count == 3)
        // Fits the CPUs of the two-node host but not its memory: a candidate with the guest unplaced.
        let heavy = PlacementRequest(guests: [GuestPlacementRequest(name: "heavy", vcpus: 12, memory: .gibibytes(32), numaNodes: 2)])
        let p4 = await fleet.place(heavy)
        #expect(p4.best == nil && p4.candidates.map(\.host) == ["place-default"] && p4.candidates[0].plan.unplaced.map(\.name) == ["heavy"])
        await fleet.shutdown()
    }
}
