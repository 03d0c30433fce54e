import Foundation
import HostProbe
import Testing
import Tuning
import VirtCore
import VirtKitTestSupport

/// Small hand-built hosts, written as the anchors' test descriptions give them.
enum TestHosts {
    /// `nodes[n]` lists node n's cores, each core its CPU ids (its sibling threads).
    static func make(
        _ nodes: [[[Int]]], memoryMiB: UInt64 = 65_536, packageOfNode: [Int]? = nil, offline: Set<Int> = [],
        pagePools: [HostTopology.PagePool] = [], distance: (Int, Int) -> Int = { $0 == $1 ? 10 : 20 },
        pci: [HostTopology.PCIDevice] = []
    ) -> HostTopology {
        var cpus: [HostTopology.CPU] = []
        var topoNodes: [HostTopology.Node] = []
        for (n, cores) in nodes.enumerated() {
            for (c, threads) in cores.enumerated() {
                for t in threads {
                    cpus.append(HostTopology.CPU(id: t, online: !offline.contains(t), package: packageOfNode?[n] ?? 0,
                                                 core: n * 1000 + c, node: n, threadSiblings: CPUSet(threads)))
                }
            }
            topoNodes.append(HostTopology.Node(
                id: n, cpus: CPUSet(cores.flatMap { $0 }), memory: .mebibytes(memoryMiB),
                distances: nodes.indices.map { HostTopology.NodeDistance(node: $0, value: distance(n, $0)) },
                pagePools: pagePools))
        }
        return HostTopology(cpus: cpus, nodes: topoNodes, pciDevices: pci)
    }

    /// One node of single-thread cores with these CPU ids.
    static func singletons(_ ids: [Int], memoryMiB: UInt64 = 65_536) -> HostTopology {
        make([ids.map { [$0] }], memoryMiB: memoryMiB)
    }

    /// An occupancy holding `cpus` as one existing guest's dedicated vCPUs.
    static func pinned(_ cpus: [Int]) -> PlacementOccupancy {
        PlacementOccupancy(guests: [.init(name: "existing", vcpuPins: cpus.map { CPUSet([$0]) })])
    }
}

/// The hwloc corpus machines as placement hosts (probed by HostProbe from the extracted trees).
enum CorpusHosts {
    struct Host: Sendable {
        var name: String
        var topology: HostTopology
    }

    /// nil when the corpus is missing (after the loud skip). Probed once per test process.
    static func all() throws -> [Host]? {
        guard HwlocArchives.folder() != nil else { return nil }
        return try loaded.get()
    }

    private static let loaded = Result<[Host], Error> {
        guard let folder = HwlocArchives.folder() else { return [] }
        return try HwlocArchives.names(in: folder).compactMap { name in
            let root = try HwlocArchives.root(of: name, in: folder)
            let snapshot = try HostProber(rootPath: root).snapshotSync(sections: [.topology, .numa, .memory, .pci])
            return snapshot.hostTopology.map { Host(name: name, topology: $0) }
        }
    }

    static func named(_ name: String) throws -> HostTopology? {
        try all()?.first { $0.name == name }?.topology
    }
}

enum RandomBatches {
    /// A valid random batch for `host`: policies, cells, huge pages and devices drawn from what
    /// the host has.
    static func make(for host: HostTopology, seed: UInt64, guests: Int? = nil) -> PlacementRequest {
        var rng = SeededGenerator(seed: seed)
        let online = host.onlineCPUs.ids
        let nodeCount = host.nodes.filter { !$0.cpus.isEmpty }.count
        let pageSizes = Set(host.nodes.flatMap { $0.pagePools.filter { $0.pageSize.bytes > 4096 }.map(\.pageSize) }).sorted()
        var reserved = CPUSet()
        if online.count > 2, Bool.random(using: &rng) { reserved.insert(online[0]) }
        let count = guests ?? Int.random(in: 1...max(2, online.count / 2), using: &rng)
        var list: [GuestPlacementRequest] = []
        for i in 0..<count {
            let shared = Int.random(in: 0..<5, using: &rng) == 0
            let vcpus = Int.random(in: 1...max(1, min(online.count, online.count / max(1, nodeCount) + 2)), using: &rng)
            var g = GuestPlacementRequest(name: "g\(i)", vcpus: vcpus, memory: .mebibytes(UInt64(Int.random(in: 1...8, using: &rng)) * 256))
            g.cpuPolicy = shared ? .shared : .dedicated
            g.threadPolicy = PlacementThreadPolicy.allCases.randomElement(using: &rng)!
            if !shared, Int.random(in: 0..<3, using: &rng) == 0 { g.emulatorThreads = .isolate }
            g.iothreads = Int.random(in: 0...2, using: &rng)
            if nodeCount > 1, Int.random(in: 0..<4, using: &rng) == 0 {
                g.numaNodes = Int.random(in: 1...min(nodeCount, vcpus, 4), using: &rng)
            }
            if let page = pageSizes.randomElement(using: &rng), Int.random(in: 0..<4, using: &rng) == 0 {
                g.hugepageSize = page
                let pages = UInt64(Int.random(in: 1...4, using: &rng) * g.cellCount)
                g.memory = MemorySize(bytes: page.bytes * pages)
            }
            if let dev = host.pciDevices.randomElement(using: &rng), Int.random(in: 0..<8, using: &rng) == 0 {
                g.pciDevices = [PCIDeviceRequest(address: dev.address, affinity: Bool.random(using: &rng) ? .required : .preferred)]
            }
            list.append(g)
        }
        return PlacementRequest(reservedCPUs: reserved, guests: list)
    }
}

/// Every rule of issue #12 a plan must keep; returns the violations (empty = all kept).
enum PlanRules {
    static func violations(
        of plan: PlacementPlan, request: PlacementRequest, host: HostTopology, occupancy: PlacementOccupancy = .empty
    ) -> [String] {
        var out: [String] = []
        let online = host.onlineCPUs
        let byName = Dictionary(uniqueKeysWithValues: request.guests.map { ($0.name, $0) })
        func node(of cpu: Int) -> Int? { host.cpu(cpu)?.node ?? host.nodes.first { $0.cpus.contains(cpu) }?.id }
        func siblings(_ cpu: Int) -> CPUSet { host.cpu(cpu)?.threadSiblings ?? [cpu] }
        // Existing dedicated vCPUs.
        var dedicatedOwner: [Int: String] = [:]
        for g in occupancy.guests { for pin in g.vcpuPins where pin.count == 1 { dedicatedOwner[pin.min!] = g.name } }
        var emulatorOwner: [Int: String] = [:]
        var memoryOnNode: [Int: UInt64] = [:]
        var pagesOnNode: [Int: [MemorySize: UInt64]] = [:]
        if plan.placements.count + plan.unplaced.count != request.guests.count { out.append("guests lost: \(plan.placements.count)+\(plan.unplaced.count) != \(request.guests.count)") }
        for p in plan.placements {
            guard let r = byName[p.name] else { out.append("\(p.name): not requested"); continue }
            let tag = p.name
            if p.vcpuPins.count != r.vcpus { out.append("\(tag): \(p.vcpuPins.count) pins for \(r.vcpus) vCPUs") }
            // Offline CPUs never used.
            for pin in p.vcpuPins + p.iothreadPins + [p.emulatorPin] where !pin.isSubset(of: online) {
                out.append("\(tag): pin \(pin) includes offline CPUs")
            }
            if p.topology.vcpus != r.vcpus { out.append("\(tag): topology \(p.topology) is not \(r.vcpus) vCPUs") }
            // Cells: memory sums up, split by vCPUs, CPUs and memory on one node.
            let cellMemory = p.cells.reduce(UInt64(0)) { $0 + $1.memory.bytes }
            if cellMemory != r.memory.bytes { out.append("\(tag): cells hold \(cellMemory) bytes, asked \(r.memory.bytes)") }
            if p.cells.count != r.cellCount { out.append("\(tag): \(p.cells.count) cells, asked \(r.cellCount)") }
            let granule = r.hugepageSize?.bytes ?? (1 << 20)
            for cell in p.cells {
                let ideal = Double(r.memory.bytes) * Double(cell.vcpus.count) / Double(r.vcpus)
                if abs(Double(cell.memory.bytes) - ideal) > Double(granule) * Double(p.cells.count) {
                    out.append("\(tag): cell \(cell.id) memory \(cell.memory) not proportional to \(cell.vcpus.count)/\(r.vcpus) vCPUs")
                }
                for v in cell.vcpus {
                    guard v < p.vcpuPins.count else { out.append("\(tag): cell vCPU \(v) out of range"); continue }
                    for cpu in p.vcpuPins[v] where node(of: cpu) != cell.hostNode {
                        out.append("\(tag): vCPU \(v) on CPU \(cpu) outside cell \(cell.id)'s node \(cell.hostNode)")
                    }
                }
                if let page = r.hugepageSize {
                    pagesOnNode[cell.hostNode, default: [:]][page, default: 0] += cell.memory.bytes / page.bytes
                    if cell.memory.bytes % page.bytes != 0 { out.append("\(tag): cell \(cell.id) not whole pages") }
                } else {
                    memoryOnNode[cell.hostNode, default: 0] += cell.memory.bytes
                }
            }
            if Set(p.cells.map(\.hostNode)).count != p.cells.count { out.append("\(tag): two cells on one host node") }
            if p.memoryNodes != NodeSet(p.cells.map(\.hostNode)) { out.append("\(tag): memory nodes \(p.memoryNodes) are not the cells' nodes") }
            if r.numaNodes == nil && p.hostNodes.count != 1 { out.append("\(tag): no cell count asked but on \(p.hostNodes.count) nodes") }
            guard r.cpuPolicy == .dedicated else { continue }
            // Dedicated: one CPU per vCPU, never twice, never reserved.
            for (v, pin) in p.vcpuPins.enumerated() {
                guard pin.count == 1, let cpu = pin.min else { out.append("\(tag): vCPU \(v) pin \(pin) is not one CPU"); continue }
                if let other = dedicatedOwner[cpu] { out.append("\(tag): CPU \(cpu) also given to \(other)") }
                dedicatedOwner[cpu] = tag
                if request.reservedCPUs.contains(cpu) { out.append("\(tag): reserved CPU \(cpu) used") }
            }
            let mine = p.vcpuCPUs
            switch r.threadPolicy {
            case .isolate:
                var cores = Set<CPUSet>()
                for cpu in mine where !cores.insert(siblings(cpu)).inserted { out.append("\(tag): isolate put two vCPUs on core \(siblings(cpu))") }
            case .require:
                // Sibling threads of whole cores: every core used is the guest's alone, and only
                // one core per cell (its remainder) is not full.
                for cell in p.cells {
                    let cellCPUs = CPUSet(cell.vcpus.compactMap { p.vcpuPins[$0].min })
                    var partial = 0
                    for core in Set(cellCPUs.map(siblings)) {
                        if core.count < 2 { out.append("\(tag): require on a core without siblings") }
                        if core.intersection(cellCPUs).count < core.intersection(online).count { partial += 1 }
                    }
                    if partial > 1 { out.append("\(tag): require left \(partial) cores of cell \(cell.id) partly used") }
                }
            case .prefer: break
            }
            if r.emulatorThreads == .isolate {
                if p.emulatorPin.count != 1 { out.append("\(tag): isolated emulator pin \(p.emulatorPin)") }
                if let e = p.emulatorPin.min {
                    emulatorOwner[e] = tag
                    if request.reservedCPUs.contains(e) { out.append("\(tag): emulator on reserved CPU \(e)") }
                    if let n = node(of: e), !p.cells.contains(where: { $0.hostNode == n }) { out.append("\(tag): emulator off the guest's nodes") }
                }
            }
        }
        // Across guests: isolated emulators disjoint from every vCPU and not beside another
        // guest's vCPU; isolate cores and require spares empty of other guests.
        for (e, owner) in emulatorOwner {
            if let v = dedicatedOwner[e] { out.append("emulator CPU \(e) of \(owner) is also vCPU of \(v)") }
            for s in siblings(e) where s != e {
                if let v = dedicatedOwner[s], v != owner { out.append("emulator CPU \(e) of \(owner) is a sibling of \(v)'s vCPU \(s)") }
            }
        }
        for p in plan.placements {
            guard let r = byName[p.name], r.cpuPolicy == .dedicated else { continue }
            for cpu in p.vcpuCPUs {
                for s in siblings(cpu) where s != cpu {
                    let other = dedicatedOwner[s] ?? emulatorOwner[s]
                    if r.threadPolicy == .isolate, let other { out.append("\(p.name): isolate core of CPU \(cpu) also holds \(other)'s CPU \(s)") }
                    if r.threadPolicy == .require, let other, other != p.name { out.append("\(p.name): require core of CPU \(cpu) shared with \(other)") }
                }
            }
        }
        // Capacity per node.
        for n in host.nodes {
            let huge = n.pagePools.filter { $0.pageSize.bytes > 4096 }.reduce(UInt64(0)) { $0 + $1.pageSize.bytes * $1.total }
            // A node of unknown size (not reported) does not limit memory.
            let base = n.memory.map { $0.bytes > huge ? $0.bytes - huge : 0 } ?? .max
            if let used = memoryOnNode[n.id], used > base { out.append("node \(n.id): \(used) bytes placed, \(base) available") }
            for (size, pages) in pagesOnNode[n.id] ?? [:] {
                let free = n.pagePool(of: size).map { $0.free ?? $0.total } ?? 0
                if pages > free { out.append("node \(n.id): \(pages) \(size) pages placed, \(free) free") }
            }
        }
        return out
    }
}

/// The `virtkit` binary `swift build --build-tests` made, and request files for it.
enum BuiltCLI {
    /// Its path, or nil after a loud skip (a failure under VIRTKIT_REQUIRE_LIVE=1).
    static func path() -> String? {
        let binary = LiveEnvironment.packageRoot().appendingPathComponent(".build/debug/virtkit").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            LiveEnvironment.unavailable("\(binary) is not built (swift build --build-tests)")
            return nil
        }
        return binary
    }

    /// A temporary request file holding `json`.
    static func requestFile(_ json: String) throws -> String {
        let path = NSTemporaryDirectory() + "virtkit-plan-\(UUID().uuidString).json"
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}
