import VirtCore

/// The guest CPU topology a placement implies: `sockets × dies × cores × threads = vCPUs`,
/// with `threads > 1` only when every guest core's vCPUs sit on sibling threads of one host core.
public struct PlannedCPUTopology: Sendable, Hashable, Codable {
    public var sockets: Int
    public var dies: Int
    public var cores: Int
    public var threads: Int

    public init(sockets: Int, dies: Int = 1, cores: Int, threads: Int) {
        self.sockets = sockets
        self.dies = dies
        self.cores = cores
        self.threads = threads
    }

    public var vcpus: Int { sockets * dies * cores * threads }
}

/// One guest NUMA cell: its vCPUs, its memory and the host node holding both.
public struct GuestCellPlacement: Sendable, Hashable {
    public var id: Int
    public var vcpus: CPUSet
    public var memory: MemorySize
    public var hostNode: Int

    public init(id: Int, vcpus: CPUSet, memory: MemorySize, hostNode: Int) {
        self.id = id
        self.vcpus = vcpus
        self.memory = memory
        self.hostNode = hostNode
    }
}

/// Where one guest goes.
public struct GuestPlacement: Sendable, Hashable {
    public var name: String
    public var cpuPolicy: PlacementCPUPolicy
    /// Each vCPU's host CPUs, by vCPU number: one CPU for dedicated guests, the shared CPUs of
    /// its cell's node for shared guests.
    public var vcpuPins: [CPUSet]
    public var emulatorPin: CPUSet
    /// IOThread `i + 1`'s host CPUs.
    public var iothreadPins: [CPUSet]
    /// Nodes holding the guest's memory (`mode='strict'`).
    public var memoryNodes: NodeSet
    public var cells: [GuestCellPlacement]
    public var topology: PlannedCPUTopology
    public var hugepageSize: MemorySize?
    /// CPUs this guest keeps empty (siblings of `isolate` vCPUs, the spare thread of a
    /// `require` core): no other guest may use them.
    public var blockedCPUs: CPUSet
    /// PCI devices the guest gets.
    public var pciDevices: [String]

    public init(
        name: String, cpuPolicy: PlacementCPUPolicy, vcpuPins: [CPUSet], emulatorPin: CPUSet, iothreadPins: [CPUSet],
        memoryNodes: NodeSet, cells: [GuestCellPlacement], topology: PlannedCPUTopology, hugepageSize: MemorySize?,
        blockedCPUs: CPUSet = [], pciDevices: [String] = []
    ) {
        self.name = name
        self.cpuPolicy = cpuPolicy
        self.vcpuPins = vcpuPins
        self.emulatorPin = emulatorPin
        self.iothreadPins = iothreadPins
        self.memoryNodes = memoryNodes
        self.cells = cells
        self.topology = topology
        self.hugepageSize = hugepageSize
        self.blockedCPUs = blockedCPUs
        self.pciDevices = pciDevices
    }

    /// All host CPUs the vCPUs may run on.
    public var vcpuCPUs: CPUSet { vcpuPins.reduce(into: CPUSet()) { $0.formUnion($1) } }

    /// The host nodes the guest touches (cells, memory, emulator).
    public var hostNodes: NodeSet { NodeSet(cells.map(\.hostNode)).union(memoryNodes) }
}

/// Why a guest was not placed.
public enum PlacementFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// No node has enough usable CPUs for one of the guest's cells.
    case notEnoughCPUs(needed: Int)
    /// `isolate`/`require` need this many whole free cores on one node.
    case notEnoughWholeCores(needed: Int, policy: PlacementThreadPolicy)
    /// `require` on a host whose cores have one thread.
    case noSiblingThreads
    /// No node with the CPUs also has the memory.
    case notEnoughMemory(needed: MemorySize)
    /// No node with the CPUs has enough free pages of this size.
    case notEnoughHugepages(pageSize: MemorySize, pages: UInt64)
    /// The guest asks for more cells than the host has usable nodes.
    case notEnoughNodes(needed: Int, available: Int)
    /// No CPU for an isolated emulator thread on the guest's nodes.
    case noEmulatorCPU
    case unknownPCIDevice(String)
    case pciDeviceTaken(String)
    /// The device's node cannot hold the guest (`required` affinity).
    case pciAffinityUnsatisfiable(String)
    /// Only shared guests: no node has a CPU left outside dedicated guests and reservations.
    case noSharedCPUs

    public var description: String {
        switch self {
        case .notEnoughCPUs(let n): "no NUMA node has \(n) free CPUs for a guest cell"
        case .notEnoughWholeCores(let n, let p): "no NUMA node has \(n) whole free cores for thread policy '\(p.rawValue)'"
        case .noSiblingThreads: "thread policy 'require' needs SMT cores; this host's cores have one thread"
        case .notEnoughMemory(let m): "no NUMA node with the CPUs has \(m) of memory free"
        case .notEnoughHugepages(let s, let n): "no NUMA node with the CPUs has \(n) free \(s) pages"
        case .notEnoughNodes(let n, let a): "\(n) NUMA cells asked but only \(a) host nodes can hold a cell"
        case .noEmulatorCPU: "no CPU left on the guest's nodes for its isolated emulator threads"
        case .unknownPCIDevice(let a): "PCI device \(a) is not on this host"
        case .pciDeviceTaken(let a): "PCI device \(a) is already assigned"
        case .pciAffinityUnsatisfiable(let a): "cannot place the guest on the NUMA node of PCI device \(a)"
        case .noSharedCPUs: "no NUMA node has CPUs left for shared guests"
        }
    }
}

public struct UnplacedGuest: Sendable, Hashable {
    public var name: String
    public var reason: PlacementFailure

    public init(name: String, reason: PlacementFailure) {
        self.name = name
        self.reason = reason
    }
}

/// How good a plan is, in the planner's objective order (earlier fields dominate).
public struct PlacementScore: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Guests placed (more is better).
    public var placed: Int
    /// Σ over placed guests of (host nodes touched − 1) (fewer is better).
    public var nodesCrossed: Int
    /// Cores whose every online thread is free after the plan (more is better).
    public var wholeCoresFree: Int
    /// Σ over nodes of (free CPUs − mean)², scaled by nodes² to stay integral (less is better).
    public var imbalance: Int

    public init(placed: Int, nodesCrossed: Int, wholeCoresFree: Int, imbalance: Int) {
        self.placed = placed
        self.nodesCrossed = nodesCrossed
        self.wholeCoresFree = wholeCoresFree
        self.imbalance = imbalance
    }

    /// `a < b` when `b` is the better plan.
    public static func < (a: Self, b: Self) -> Bool {
        if a.placed != b.placed { return a.placed < b.placed }
        if a.nodesCrossed != b.nodesCrossed { return a.nodesCrossed > b.nodesCrossed }
        if a.wholeCoresFree != b.wholeCoresFree { return a.wholeCoresFree < b.wholeCoresFree }
        return a.imbalance > b.imbalance
    }

    public var description: String {
        "placed \(placed), nodes crossed \(nodesCrossed), whole cores free \(wholeCoresFree), imbalance \(imbalance)"
    }
}

/// Pages a plan adds to one node's huge page pool (`PlacementPlanner.growHugepagePools`).
public struct HugepagePoolGrowth: Sendable, Hashable, Codable {
    public var node: Int
    public var pageSize: MemorySize
    public var pages: UInt64

    public init(node: Int, pageSize: MemorySize, pages: UInt64) {
        self.node = node
        self.pageSize = pageSize
        self.pages = pages
    }
}

/// The planner's answer for a batch: placements in request order, then the guests left out.
public struct PlacementPlan: Sendable, Hashable {
    public var placements: [GuestPlacement]
    public var unplaced: [UnplacedGuest]
    public var score: PlacementScore
    /// Huge page pools to grow before the guests start; empty unless the planner may grow them.
    public var hugepagePoolGrowth: [HugepagePoolGrowth]

    public init(placements: [GuestPlacement], unplaced: [UnplacedGuest], score: PlacementScore, hugepagePoolGrowth: [HugepagePoolGrowth] = []) {
        self.placements = placements
        self.unplaced = unplaced
        self.score = score
        self.hugepagePoolGrowth = hugepagePoolGrowth
    }

    public func placement(named name: String) -> GuestPlacement? { placements.first { $0.name == name } }
}
