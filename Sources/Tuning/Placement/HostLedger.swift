import VirtCore

/// The planner's mutable account of one host: who uses each CPU, memory and pages left per
/// node. Every change is recorded so a trial or a failed guest can be undone exactly.
struct HostLedger {
    /// Guest numbers are batch indices; existing guests share `foreign`.
    static let foreign = -1

    enum Use: Equatable {
        /// Offline, reserved for the host, or on no node.
        case unavailable
        case free
        /// A dedicated vCPU (or an existing guest's narrow pin).
        case vcpu(Int)
        /// An isolated emulator thread.
        case emulator(Int)
        /// Kept empty by its guest (isolate siblings, the spare thread of a require core).
        case blocked(Int)
        /// Floated over by existing shared guests: closed to dedicated vCPUs, open to shared ones.
        case foreignShared
    }

    struct Core {
        /// Online threads, ascending.
        var threads: [Int]
        var node: Int
        /// Package and die, as one key: cores of one group share caches.
        var group: Int
    }

    struct Node {
        var id: Int
        var cores: [Int]
        var memoryFree: UInt64
        /// (page size in bytes, free pages, pages the plan adds to the pool).
        var pages: [(size: UInt64, free: UInt64, grown: UInt64)]
        /// vCPUs of shared guests floating here (existing and planned).
        var sharedLoad: Int
        var distances: [Int: Int]
        var freeCPUs: Int
        /// All cores in one package and die (no package ranking needed).
        var singleGroup = true
    }

    enum Change {
        case cpu(Int, Use)
        case memory(node: Int, bytes: UInt64)
        case pages(node: Int, index: Int, free: UInt64, grown: UInt64)
        case sharedLoad(node: Int, value: Int)
    }

    var use: [Use]
    var coreOf: [Int]
    var cores: [Core]
    var nodes: [Node]
    var journal: [Change] = []
    let hasSMT: Bool

    init(host: HostTopology, reserved: CPUSet, occupancy: PlacementOccupancy) {
        let maxID = host.cpus.map(\.id).max() ?? -1
        use = Array(repeating: .unavailable, count: maxID + 1)
        coreOf = Array(repeating: -1, count: maxID + 1)
        var nodeIndex: [Int: Int] = [:]
        nodes = []
        for n in host.nodes {
            nodeIndex[n.id] = nodes.count
            var pages: [(UInt64, UInt64, UInt64)] = []
            var hugeBytes: UInt64 = 0
            for p in n.hugepagePools {
                pages.append((p.pageSize.bytes, p.free ?? p.total, 0))
                hugeBytes &+= p.pageSize.bytes &* p.total
            }
            // Base memory: what the node has, less its huge page pools. Not reported is not 0:
            // a node of unknown size does not limit memory.
            let total = n.memory?.bytes ?? UInt64.max
            var distances: [Int: Int] = [:]
            for d in n.distances { distances[d.node] = d.value }
            nodes.append(Node(id: n.id, cores: [], memoryFree: total > hugeBytes ? total - hugeBytes : 0,
                              pages: pages, sharedLoad: 0, distances: distances, freeCPUs: 0))
        }
        func nodeOf(_ cpu: HostTopology.CPU) -> Int? {
            if let n = cpu.node, let i = nodeIndex[n] { return i }
            return host.nodes.firstIndex { $0.cpus.contains(cpu.id) }
        }
        cores = []
        var smt = false
        var coreIndex: [CPUSet: Int] = [:]
        for cpu in host.cpus where cpu.online {
            guard let n = nodeOf(cpu) else { continue }
            let key = cpu.threadSiblings.union([cpu.id])
            let ci: Int
            if let existing = coreIndex[key] {
                ci = existing
            } else {
                ci = cores.count
                coreIndex[key] = ci
                cores.append(Core(threads: [], node: n, group: (cpu.package ?? 0) * 4096 + (cpu.die ?? 0)))
                nodes[n].cores.append(ci)
            }
            cores[ci].threads.append(cpu.id)
            if let first = nodes[n].cores.first, cores[first].group != cores[ci].group { nodes[n].singleGroup = false }
            if cores[ci].threads.count > 1 { smt = true }
            coreOf[cpu.id] = ci
            if !reserved.contains(cpu.id) {
                use[cpu.id] = .free
                nodes[n].freeCPUs += 1
            }
        }
        hasSMT = smt
        let online = host.onlineCPUs
        for g in occupancy.guests {
            var pins = g.vcpuPins + g.iothreadPins
            if let e = g.emulatorPin { pins.append(e) }
            for pin in pins where !online.isSubset(of: pin) {
                for cpu in pin where cpu < use.count {
                    if pin.count == 1, use[cpu] == .free || use[cpu] == .foreignShared {
                        set(cpu, .vcpu(Self.foreign))
                    } else if use[cpu] == .free {
                        set(cpu, .foreignShared)
                    }
                }
            }
            for (nodeID, mem) in g.memoryByNode {
                guard let i = nodeIndex[nodeID] else { continue }
                nodes[i].memoryFree = nodes[i].memoryFree > mem.bytes ? nodes[i].memoryFree - mem.bytes : 0
            }
            for (nodeID, pools) in g.hugepagesByNode {
                guard let i = nodeIndex[nodeID] else { continue }
                for (size, count) in pools {
                    if let p = nodes[i].pages.firstIndex(where: { $0.size == size.bytes }), p < nodes[i].pages.count {
                        nodes[i].pages[p].free = nodes[i].pages[p].free > count ? nodes[i].pages[p].free - count : 0
                    }
                }
            }
            let sharedVCPUs = g.vcpuPins.filter { $0.count > 1 && !online.isSubset(of: $0) }
            for pin in sharedVCPUs {
                if let first = pin.first(where: { $0 < coreOf.count && coreOf[$0] >= 0 }) {
                    nodes[cores[coreOf[first]].node].sharedLoad += 1
                }
            }
        }
        journal = []
    }

    // MARK: Changes with undo

    mutating func set(_ cpu: Int, _ new: Use) {
        let old = use[cpu]
        guard old != new else { return }
        journal.append(.cpu(cpu, old))
        use[cpu] = new
        let n = cores[coreOf[cpu]].node
        if old == .free { nodes[n].freeCPUs -= 1 }
        if new == .free { nodes[n].freeCPUs += 1 }
    }

    mutating func takeMemory(node n: Int, bytes: UInt64) {
        journal.append(.memory(node: n, bytes: nodes[n].memoryFree))
        nodes[n].memoryFree -= bytes
    }

    /// Takes `count` pages; what the pool lacks is added to it from the node's base memory.
    mutating func takePages(node n: Int, index: Int, count: UInt64) {
        let pool = nodes[n].pages[index]
        journal.append(.pages(node: n, index: index, free: pool.free, grown: pool.grown))
        let fromPool = min(pool.free, count)
        nodes[n].pages[index].free -= fromPool
        if count > fromPool {
            nodes[n].pages[index].grown += count - fromPool
            takeMemory(node: n, bytes: (count - fromPool) * pool.size)
        }
    }

    mutating func addSharedLoad(node n: Int, vcpus: Int) {
        journal.append(.sharedLoad(node: n, value: nodes[n].sharedLoad))
        nodes[n].sharedLoad += vcpus
    }

    var mark: Int { journal.count }

    /// Undoes every change made after `mark`.
    mutating func rollback(to mark: Int) {
        while journal.count > mark {
            switch journal.removeLast() {
            case .cpu(let cpu, let old):
                let cur = use[cpu]
                use[cpu] = old
                let n = cores[coreOf[cpu]].node
                if cur == .free { nodes[n].freeCPUs -= 1 }
                if old == .free { nodes[n].freeCPUs += 1 }
            case .memory(let n, let bytes): nodes[n].memoryFree = bytes
            case .pages(let n, let i, let free, let grown):
                nodes[n].pages[i].free = free
                nodes[n].pages[i].grown = grown
            case .sharedLoad(let n, let v): nodes[n].sharedLoad = v
            }
        }
    }

    // MARK: Queries

    func isWhole(_ core: Int) -> Bool { cores[core].threads.allSatisfy { use[$0] == .free } }

    /// A free CPU guest `g` may put a vCPU on: no other guest's isolated emulator on its core.
    func vcpuUsable(_ cpu: Int, guest g: Int) -> Bool {
        guard use[cpu] == .free else { return false }
        for t in cores[coreOf[cpu]].threads {
            if case .emulator(let o) = use[t], o != g { return false }
        }
        return true
    }

    /// A CPU guest `g`'s isolated emulator may use: free or `g`'s own spare thread, with no
    /// other guest's vCPU on its core.
    func emulatorUsable(_ cpu: Int, guest g: Int) -> Bool {
        switch use[cpu] {
        case .free: break
        default: return false
        }
        for t in cores[coreOf[cpu]].threads {
            switch use[t] {
            case .vcpu(let o) where o != g: return false
            case .blocked(let o) where o != g: return false
            case .foreignShared: return false
            default: continue
            }
        }
        return true
    }

    /// Cores whose every online thread is free.
    var wholeCoresFree: Int { cores.indices.reduce(0) { $0 + (isWhole($1) ? 1 : 0) } }

    /// CPUs of node `n` a shared guest may float over.
    func sharedCPUs(node n: Int) -> CPUSet {
        var s = CPUSet()
        for c in nodes[n].cores {
            for t in cores[c].threads where use[t] == .free || use[t] == .foreignShared {
                // Not next to another guest's isolated emulator thread.
                if cores[c].threads.contains(where: { if case .emulator = use[$0] { return true } else { return false } }) { continue }
                s.insert(t)
            }
        }
        return s
    }

    func distance(_ a: Int, _ b: Int) -> Int {
        if a == b { return 10 }
        return nodes[a].distances[nodes[b].id] ?? 20
    }
}
