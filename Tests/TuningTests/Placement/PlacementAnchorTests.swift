import Foundation
import Libvirt
import Testing
import Tuning
import VirtCore

/// The anchors' published test cases (Nova's test_hardware.py, the kubelet's
/// cpu_assignment_test.go, KubeVirt's vCPU tests), written from their descriptions in
/// /work/shared/research/placement-export.md: the same inputs, and what our result must
/// satisfy. Where our objective differs from the anchor's answer the test says so.
@Suite struct PlacementAnchorTests {
    func guest(_ vcpus: Int, name: String = "g", thread: PlacementThreadPolicy = .prefer, emulator: EmulatorThreadsPolicy = .share,
               cells: Int? = nil, memoryMiB: UInt64 = 1024) -> GuestPlacementRequest {
        GuestPlacementRequest(name: name, vcpus: vcpus, memory: .mebibytes(memoryMiB), threadPolicy: thread,
                              emulatorThreads: emulator, numaNodes: cells)
    }

    func pins(_ p: GuestPlacement?) -> [Int] { p?.vcpuPins.compactMap(\.min) ?? [] }

    func plan(_ host: HostTopology, _ guests: [GuestPlacementRequest], reserved: CPUSet = [], occupancy: PlacementOccupancy = .empty) throws -> PlacementPlan {
        let request = PlacementRequest(reservedCPUs: reserved, guests: guests)
        let plan = try PlacementPlanner(host: host, occupancy: occupancy).plan(request)
        let broken = PlanRules.violations(of: plan, request: request, host: host, occupancy: occupancy)
        #expect(broken.isEmpty, "\(broken)")
        return plan
    }

    // MARK: Nova test_hardware.py

    @Test func novaNoSiblingFitsWithUsage() throws {
        // pCPUs 0-3 without siblings, 1 pinned; 3 vCPUs → {0:0, 1:2, 2:3}.
        let p = try plan(TestHosts.singletons([0, 1, 2, 3]), [guest(3)], occupancy: TestHosts.pinned([1]))
        #expect(pins(p.placement(named: "g")) == [0, 2, 3])
    }

    @Test func novaSiblingsFitWithUsage() throws {
        // Sibling sets {0-3}{4-7}, {1,2,5,6} pinned; 4 vCPUs → {0,3,4,7}.
        let host = TestHosts.make([[[0, 1, 2, 3], [4, 5, 6, 7]]])
        let p = try plan(host, [guest(4)], occupancy: TestHosts.pinned([1, 2, 5, 6]))
        #expect(pins(p.placement(named: "g")) == [0, 3, 4, 7])
    }

    @Test func novaSiblingsFitSingleCore() throws {
        let host = TestHosts.make([[[0, 1, 2, 3], [4, 5, 6, 7]]])
        let p = try plan(host, [guest(4)])
        #expect(pins(p.placement(named: "g")) == [0, 1, 2, 3])
        #expect(p.placement(named: "g")?.topology == PlannedCPUTopology(sockets: 1, cores: 1, threads: 4))
    }

    @Test func novaRequireTooFewSiblings() throws {
        let host = TestHosts.make([[[0, 4], [1, 5], [2, 6], [3, 7]]])
        let p = try plan(host, [guest(4, thread: .require)], occupancy: TestHosts.pinned([0, 1, 2]))
        #expect(p.unplaced.first?.reason == .notEnoughWholeCores(needed: 4, policy: .require))
    }

    @Test func novaRequireNoSiblings() throws {
        let p = try plan(TestHosts.singletons(Array(0..<8)), [guest(4, thread: .require)])
        #expect(p.unplaced.first?.reason == .noSiblingThreads)
    }

    @Test func novaInstanceTooLarge() throws {
        #expect(throws: PlacementRequestError.self) { try plan(TestHosts.singletons([0, 1, 2]), [guest(4)]) }
    }

    @Test func novaEmulatorIsolateOverTwoNodes() throws {
        // Cells {0,1},{2,3}; two 1-vCPU cells and an isolated emulator: both cells and the
        // emulator fit, the emulator beside no vCPU.
        let p = try plan(TestHosts.make([[[0], [1]], [[2], [3]]]), [guest(2, emulator: .isolate, cells: 2)])
        let g = try #require(p.placement(named: "g"))
        #expect(g.emulatorPin.count == 1 && g.emulatorPin.isDisjoint(with: g.vcpuCPUs))
    }

    @Test func novaAsymmetricHostEmulatorIsolate() throws {
        // pCPUs {1,2,3} (0 kept for the host), siblings {1}{2,3}; 2 vCPUs + isolated emulator
        // → vCPUs on 2,3, emulator on 1.
        let host = TestHosts.make([[[0], [1], [2, 3]]])
        let p = try plan(host, [guest(2, emulator: .isolate)], reserved: [0])
        let g = try #require(p.placement(named: "g"))
        #expect(pins(g) == [2, 3])
        #expect(g.emulatorPin == [1])
    }

    @Test func novaBarelyFitOverThreeNodes() throws {
        // 3 nodes × 4 CPUs; {0},{4,5,6},{10,11} pinned; 2 cells × 2 vCPUs → nodes 0 and 2.
        let host = TestHosts.make([[[0], [1], [2], [3]], [[4], [5], [6], [7]], [[8], [9], [10], [11]]])
        let p = try plan(host, [guest(4, cells: 2)], occupancy: TestHosts.pinned([0, 4, 5, 6, 10, 11]))
        #expect(p.placement(named: "g")?.memoryNodes == [0, 2])
    }

    // MARK: Nova's defects (W2–W7) must not exist here

    @Test func w1BatchBeatsOneAtATime() throws {
        // Two 4-CPU nodes; guests of 2, 2 and 4 vCPUs arrive in that order. Spreading first fit
        // puts the two small ones on different nodes and has no node left for the big one; the
        // batch places all three.
        let host = TestHosts.make([[[0], [1], [2], [3]], [[4], [5], [6], [7]]])
        let p = try plan(host, [guest(2, name: "a"), guest(2, name: "b"), guest(4, name: "c")])
        #expect(p.placements.map(\.name) == ["a", "b", "c"])
        #expect(p.placement(named: "a")?.memoryNodes == p.placement(named: "b")?.memoryNodes)
    }

    @Test func replacedGuestsOwnPinsAreNotOccupancy() throws {
        let host = TestHosts.singletons([0, 1])
        let occupancy = PlacementOccupancy(guests: [.init(name: "g", vcpuPins: [[0], [1]])])
        #expect(try plan(host, [guest(2)], occupancy: occupancy).placements.isEmpty)
        #expect(try plan(host, [guest(2)], occupancy: occupancy.excluding(["g"])).placements.count == 1)
    }

    @Test func w2NoPinsFromAnotherNode() throws {
        // Three multi-cell guests over three nodes that each fit different node sets (the fit
        // cache case): every cell's CPUs lie on its own node and no CPU is given twice.
        let host = TestHosts.make([[[0], [1], [2], [3]], [[4], [5], [6], [7]], [[8], [9], [10], [11]]])
        let p = try plan(host, [guest(4, name: "g0", cells: 2), guest(4, name: "g1", cells: 2), guest(2, name: "g2")])
        #expect(p.placements.count == 3)
        for g in p.placements {
            for cell in g.cells {
                let nodeCPUs = host.node(cell.hostNode)!.cpus
                #expect(cell.vcpus.allSatisfy { g.vcpuPins[$0].isSubset(of: nodeCPUs) })
            }
        }
    }

    @Test func w3WholeCoresThenRemainder() throws {
        // Cores {0,4}{1,5}{2,6}{3,7}; CPUs 0 and 1 held. 5 vCPUs: both whole cores full plus one
        // thread on a partly used core (Nova drops to 1 thread per core, or to the flat fallback).
        let host = TestHosts.make([[[0, 4], [1, 5], [2, 6], [3, 7]]])
        let p = try plan(host, [guest(5)], occupancy: TestHosts.pinned([0, 1]))
        let used = CPUSet(pins(p.placement(named: "g")))
        #expect(used.isSuperset(of: [2, 6, 3, 7]))
        #expect(used.intersection([4, 5]).count == 1)
    }

    @Test func w3OddCountLeavesOtherCoresWhole() throws {
        // 5 vCPUs on an empty 4-core SMT-2 node: three cores touched, one core left whole.
        let host = TestHosts.make([[[0, 4], [1, 5], [2, 6], [3, 7]]])
        let p = try plan(host, [guest(5)])
        #expect(p.score.wholeCoresFree == 1)
    }

    @Test func w4IsolateOnSMTHost() throws {
        // bug 1889633: 2 isolate vCPUs on an HT host with CPUs {0,1,4,5} kept for shared use.
        let host = TestHosts.make([[[0, 4], [1, 5], [2, 6], [3, 7]]])
        let p = try plan(host, [guest(2, thread: .isolate)], reserved: [0, 1, 4, 5])
        let g = try #require(p.placement(named: "g"))
        #expect(pins(g) == [2, 3])
        #expect(g.blockedCPUs == [6, 7])
    }

    @Test func w5EmulatorNotForcedOntoCellZerosNode() throws {
        // multi_nodes_isolate_exceeded: cells {0,1},{2,3}, cell 0 with 2 vCPUs, cell 1 with 1,
        // isolated emulator. Nova fails (cell 0's node has no room); here the emulator goes to
        // the other cell's node.
        let p = try plan(TestHosts.make([[[0], [1]], [[2], [3]]]), [guest(3, emulator: .isolate, cells: 2)])
        let g = try #require(p.placement(named: "g"))
        #expect(g.cells[0].vcpus.count == 2)
        let emulatorNode = g.emulatorPin.min.map { $0 < 2 ? 0 : 1 }
        #expect(emulatorNode == g.cells[1].hostNode)
    }

    @Test func w5EmulatorNeverBesideAnotherGuestsVCPU() throws {
        // isolate_w_isolate_thread_alloc_usage: siblings {0,1}{2,3}{4,5}, 0 pinned, 2 isolate
        // vCPUs + isolated emulator. Nova reserves 1, the sibling of the other guest's vCPU 0.
        let host = TestHosts.make([[[0, 1], [2, 3], [4, 5]]])
        let p = try plan(host, [guest(2, thread: .isolate, emulator: .isolate)], occupancy: TestHosts.pinned([0]))
        #expect(p.placements.isEmpty)
        #expect(p.unplaced.first?.reason == .noEmulatorCPU)
        // With a free core left the emulator gets it, not CPU 1.
        let wider = TestHosts.make([[[0, 1], [2, 3], [4, 5], [6, 7]]])
        let q = try plan(wider, [guest(2, thread: .isolate, emulator: .isolate)], occupancy: TestHosts.pinned([0]))
        let g = try #require(q.placement(named: "g"))
        #expect(!g.emulatorPin.contains(1))
    }

    @Test func w6IOThreadsStayOnTheirCellsNode() throws {
        let host = TestHosts.make([[[0], [1], [2], [3]], [[4], [5], [6], [7]]])
        var g = guest(4, cells: 2)
        g.iothreads = 2
        let p = try plan(host, [g])
        let placed = try #require(p.placement(named: "g"))
        for (i, pin) in placed.iothreadPins.enumerated() {
            #expect(pin.isSubset(of: host.node(placed.cells[i].hostNode)!.cpus))
        }
    }

    @Test func w7TopologyFollowsThePins() throws {
        let smt = TestHosts.make([[[0, 4], [1, 5], [2, 6], [3, 7]]])
        #expect(try plan(smt, [guest(4, thread: .require)]).placement(named: "g")?.topology == PlannedCPUTopology(sockets: 1, cores: 2, threads: 2))
        #expect(try plan(smt, [guest(2, thread: .isolate)]).placement(named: "g")?.topology == PlannedCPUTopology(sockets: 1, cores: 2, threads: 1))
        // 5 vCPUs: two full cores and one lone thread: no uniform thread count, so threads = 1.
        #expect(try plan(smt, [guest(5)]).placement(named: "g")?.topology == PlannedCPUTopology(sockets: 1, cores: 5, threads: 1))
        #expect(try plan(TestHosts.singletons(Array(0..<4)), [guest(4)]).placement(named: "g")?.topology.threads == 1)
    }

    // MARK: KubeVirt

    @Test func kubevirtMemorySplitFollowsVCPUs() throws {
        // KubeVirt splits memory equally; here 3 vCPUs over 2 cells is 2:1.
        let host = TestHosts.make([[[0], [1], [2], [3]], [[4], [5], [6], [7]]])
        let g = try #require(try plan(host, [guest(3, cells: 2, memoryMiB: 3072)]).placement(named: "g"))
        #expect(g.cells.map(\.memory) == [.mebibytes(2048), .mebibytes(1024)])
        #expect(g.cells.map(\.vcpus) == [[0, 1], [2]])
    }

    @Test func kubevirtNotEnoughCores() throws {
        // 12 one-thread vCPUs on 11 free CPUs → not placed.
        let p = try plan(TestHosts.singletons(Array(0..<12)), [guest(12, thread: .isolate)], occupancy: TestHosts.pinned([11]))
        #expect(p.placements.isEmpty)
    }

    @Test func kubevirtStrictCellBoundaries() throws {
        // Two cells with one 3-thread core each; 6 vCPUs as 3 cores × 2 threads does not fit
        // one node, and fits two guest cells.
        let host = TestHosts.make([[[1, 7, 0]], [[6, 2, 8]]])
        #expect(try plan(host, [guest(6, thread: .require)]).placements.isEmpty)
        let g = try #require(try plan(host, [guest(6, thread: .require, cells: 2)]).placement(named: "g"))
        #expect(g.memoryNodes == [0, 1])
        #expect(g.topology == PlannedCPUTopology(sockets: 2, cores: 1, threads: 3))
    }

    // MARK: kubelet cpu_assignment_test.go (static policy, packed)

    /// SingleHT: 8 CPUs, siblings (i, i+4).
    var singleHT: HostTopology { TestHosts.make([[[0, 4], [1, 5], [2, 6], [3, 7]]]) }
    /// DualHT: socket 0 = {0,2,4,6,8,10}, pairs (0,6)(2,8)(4,10) / (1,7)(3,9)(5,11); one node.
    var dualHT: HostTopology {
        var cpus: [HostTopology.CPU] = []
        for (socket, pairs) in [[[0, 6], [2, 8], [4, 10]], [[1, 7], [3, 9], [5, 11]]].enumerated() {
            for (c, pair) in pairs.enumerated() {
                for t in pair { cpus.append(.init(id: t, package: socket, core: c, node: 0, threadSiblings: CPUSet(pair))) }
            }
        }
        return HostTopology(cpus: cpus, nodes: [.init(id: 0, cpus: CPUSet(0..<12), memory: .gibibytes(64))])
    }

    @Test func kubeletSingleHTWholeCore() throws {
        #expect(CPUSet(pins(try plan(singleHT, [guest(2)]).placement(named: "g"))) == [0, 4])
    }

    @Test func kubeletSingleHTBestFitThread() throws {
        // Free {1,3,5,6,7}: one CPU → 6 (the lone free thread; whole cores stay whole).
        let p = try plan(singleHT, [guest(1)], occupancy: TestHosts.pinned([0, 2, 4]))
        #expect(pins(p.placement(named: "g")) == [6])
    }

    @Test func kubeletSingleHTWholeFreeCore() throws {
        // Free {0,1,2,3,6}: two CPUs → the whole core {2,6}.
        let p = try plan(singleHT, [guest(2)], occupancy: TestHosts.pinned([4, 5, 7]))
        #expect(CPUSet(pins(p.placement(named: "g"))) == [2, 6])
    }

    @Test func kubeletSingleHTTooMany() throws {
        let p = try plan(singleHT, [guest(5)], occupancy: TestHosts.pinned([1, 3, 5, 7]))
        #expect(p.unplaced.first?.reason == .notEnoughCPUs(needed: 5))
    }

    @Test func kubeletDualHTWholeSocket() throws {
        #expect(CPUSet(pins(try plan(dualHT, [guest(6)]).placement(named: "g"))) == [0, 2, 4, 6, 8, 10])
    }

    @Test func kubeletDualHTPackedEight() throws {
        #expect(CPUSet(pins(try plan(dualHT, [guest(8)]).placement(named: "g"))) == [0, 6, 2, 8, 4, 10, 1, 7])
    }

    @Test func kubeletDualHTOneCPUKeepsCoresWhole() throws {
        // Free {1-5,7-11}: the kubelet answers {2}, breaking a whole core; the lone thread 6 is
        // taken here (most whole cores left free).
        let p = try plan(dualHT, [guest(1)], occupancy: TestHosts.pinned([0]))
        #expect(pins(p.placement(named: "g")) == [6])
    }

    /// MultiNUMA: 80 CPUs, node n = 10n…10n+9 and their siblings +40; nodes 0-1 socket 0.
    var multiNUMA: HostTopology {
        TestHosts.make((0..<4).map { n in (0..<10).map { [10 * n + $0, 10 * n + $0 + 40] } }, packageOfNode: [0, 0, 1, 1])
    }

    @Test func kubeletMultiNUMAOneNode() throws {
        #expect(CPUSet(pins(try plan(multiNUMA, [guest(20)]).placement(named: "g"))) == CPUSet(Array(0...9) + Array(40...49)))
    }

    @Test func kubeletMultiNUMAAcrossNodes() throws {
        // 40 CPUs: one node cannot hold them; as two guest cells they take two whole nodes.
        #expect(try plan(multiNUMA, [guest(40)]).placements.isEmpty)
        let g = try #require(try plan(multiNUMA, [guest(40, cells: 2)]).placement(named: "g"))
        #expect(g.cells.allSatisfy { cell in CPUSet(cell.vcpus.map { g.vcpuPins[$0].min! }) == multiNUMA.node(cell.hostNode)!.cpus })
    }

    @Test func kubeletMultiNUMASkipsBrokenNode() throws {
        // Free 1-39,41-79; 60 CPUs as three cells → nodes 1-3 (10-39,50-79).
        let p = try plan(multiNUMA, [guest(60, cells: 3)], occupancy: TestHosts.pinned([0, 40]))
        #expect(CPUSet(pins(p.placement(named: "g"))) == CPUSet(Array(10...39) + Array(50...79)))
    }

    // MARK: Request errors

    @Test func badRequestsAreTypedErrors() throws {
        let host = singleHT
        #expect(throws: PlacementRequestError(guest: "g", reason: .zeroVCPUs)) { try plan(host, [guest(0)]) }
        #expect(throws: PlacementRequestError(guest: "g", reason: .moreVCPUsThanHostCPUs(vcpus: 9, hostCPUs: 8))) { try plan(host, [guest(9)]) }
        #expect(throws: PlacementRequestError(guest: "g", reason: .duplicateName)) { try plan(host, [guest(1), guest(1)]) }
        var shared = guest(1, emulator: .isolate)
        shared.cpuPolicy = .shared
        #expect(throws: PlacementRequestError(guest: "g", reason: .emulatorIsolationNeedsDedicatedCPUs)) { try plan(host, [shared]) }
    }

    @Test func hugepagesComeFromTheCellsNode() throws {
        let pools = [HostTopology.PagePool(pageSize: .mebibytes(2), total: 512, free: 512)]
        let host = TestHosts.make([[[0], [1], [2]], [[3], [4], [5]]], pagePools: pools)
        var g = guest(2, memoryMiB: 1024)
        g.hugepageSize = .mebibytes(2)
        // Two 1 GiB guests use both nodes' pools; a third does not fit.
        var h = g; h.name = "h"
        var i = g; i.name = "i"; i.vcpus = 1
        let p = try plan(host, [g, h, i])
        #expect(p.placements.count == 2)
        #expect(p.unplaced.first?.reason == .notEnoughHugepages(pageSize: .mebibytes(2), pages: 512))
        #expect(p.placement(named: "g")?.domainXMLFragments.memoryBacking?.contains("2048") == true)
    }

    @Test func requiredPCIAffinityPinsTheNode() throws {
        let host = TestHosts.make([[[0], [1]], [[2], [3]]], pci: [.init(address: "0000:81:00.0", node: 1)])
        var g = guest(2)
        g.pciDevices = [PCIDeviceRequest(address: "0000:81:00.0", affinity: .required)]
        #expect(try plan(host, [g]).placement(named: "g")?.memoryNodes == [1])
        var h = guest(2, name: "h")
        h.pciDevices = g.pciDevices
        let both = try plan(host, [g, h])
        #expect(both.unplaced.map(\.reason) == [.pciDeviceTaken("0000:81:00.0")])
    }
}

/// Huge page pools grown from free node memory, planned and applied (to a test tree).
@Suite struct HugepagePoolGrowthTests {
    let host = TestHosts.make([[[0], [1]], [[2], [3]]], memoryMiB: 4096,
                              pagePools: [HostTopology.PagePool(pageSize: .mebibytes(2), total: 0, free: 0)])
    var guest: GuestPlacementRequest {
        GuestPlacementRequest(name: "hp", vcpus: 2, memory: .gibibytes(1), hugepageSize: .mebibytes(2))
    }

    @Test func growthIsPlannedOnlyWhenAllowed() throws {
        let refused = try PlacementPlanner(host: host).plan(PlacementRequest(guests: [guest]))
        #expect(refused.unplaced.first?.reason == .notEnoughHugepages(pageSize: .mebibytes(2), pages: 512))
        #expect(refused.hugepagePoolGrowth.isEmpty)
        let grown = try PlacementPlanner(host: host, growHugepagePools: true).plan(PlacementRequest(guests: [guest]))
        let p = try #require(grown.placements.first)
        #expect(grown.hugepagePoolGrowth == [HugepagePoolGrowth(node: p.cells[0].hostNode, pageSize: .mebibytes(2), pages: 512)])
        // The grown pages come out of the node's base memory: 3 GiB are left there, not 4.
        let big = GuestPlacementRequest(name: "big", vcpus: 1, memory: .mebibytes(3500))
        let both = try PlacementPlanner(host: host, growHugepagePools: true).plan(PlacementRequest(guests: [guest, big]))
        #expect(both.placements.count == 2)
        #expect(both.placement(named: "big")?.cells[0].hostNode != both.placement(named: "hp")?.cells[0].hostNode)
    }

    @Test func poolStepAppliesAndRollsBack() async throws {
        let root = NSTemporaryDirectory() + "virtkit-pool-\(UUID().uuidString)"
        let plan = try PlacementPlanner(host: host, growHugepagePools: true).plan(PlacementRequest(guests: [guest]))
        let node = try #require(plan.hugepagePoolGrowth.first).node
        let dir = root + "/sys/devices/system/node/node\(node)/hugepages/hugepages-2048kB"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "0\n".write(toFile: dir + "/nr_hugepages", atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: root) }

        let connection = try await Connection.open("test:///default")
        let steps = try await ReconfigurationPlan.placing(plan, on: connection, uri: "test:///default", scope: [.live, .config], hostRoot: root)
        #expect(steps.steps.map(\.change) == [.hugepagePool(node: node, pageSize: .mebibytes(2), before: 0, after: 512)])
        let journal = root + "/journal.json"
        let applier = ReconfigurationApplier(connection: connection, hostRoot: root)
        try await applier.apply(steps, journal: journal)
        #expect(try String(contentsOfFile: dir + "/nr_hugepages", encoding: .utf8) == "512\n")
        try await applier.rollback(journal: journal)
        #expect(try String(contentsOfFile: dir + "/nr_hugepages", encoding: .utf8) == "0\n")
        await connection.close()
    }
}
