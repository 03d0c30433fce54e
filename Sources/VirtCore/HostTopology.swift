/// What a host is made of, for placement: its CPUs with their package/die/core/thread
/// siblings, NUMA nodes with memory, distances and hugepage pools, caches and PCI devices.
///
/// One value whatever the source: HostProbe builds it from `/sys` (a live host or a captured
/// tree), the capabilities XML of a remote host gives the same value, and the placement
/// planner and the fleet layer consume it. Pure data: `Sendable`, `Codable` with stable keys.
public struct HostTopology: Sendable, Hashable, Codable {
    /// One logical CPU (a hardware thread).
    public struct CPU: Sendable, Hashable, Codable {
        /// The kernel's CPU number.
        public var id: Int
        /// Offline CPUs are listed so sets of siblings stay whole, but are never placed on.
        public var online: Bool
        /// Physical package (socket) id; nil when not reported.
        public var package: Int?
        /// Die id within the package; nil when not reported.
        public var die: Int?
        /// Core id, unique within package and die; nil when not reported.
        public var core: Int?
        /// The NUMA node the CPU belongs to; nil when not reported.
        public var node: Int?
        /// The CPUs sharing this CPU's core, itself included.
        public var threadSiblings: CPUSet

        public init(id: Int, online: Bool = true, package: Int? = nil, die: Int? = nil, core: Int? = nil, node: Int? = nil, threadSiblings: CPUSet? = nil) {
            self.id = id
            self.online = online
            self.package = package
            self.die = die
            self.core = core
            self.node = node
            self.threadSiblings = threadSiblings ?? CPUSet([id])
        }
    }

    /// A pool of huge (or base) pages of one size on one node.
    public struct PagePool: Sendable, Hashable, Codable {
        public var pageSize: MemorySize
        /// Pages in the pool.
        public var total: UInt64
        /// Pages not in use; nil when not reported (libvirt's capabilities give only totals).
        public var free: UInt64?

        public init(pageSize: MemorySize, total: UInt64, free: UInt64? = nil) {
            self.pageSize = pageSize
            self.total = total
            self.free = free
        }
    }

    /// The distance from one node to another, as in the ACPI SLIT (10 = local).
    public struct NodeDistance: Sendable, Hashable, Codable {
        public var node: Int
        public var value: Int

        public init(node: Int, value: Int) {
            self.node = node
            self.value = value
        }
    }

    /// One NUMA node.
    public struct Node: Sendable, Hashable, Codable {
        public var id: Int
        public var cpus: CPUSet
        /// Memory local to the node; nil when not reported.
        public var memory: MemorySize?
        /// Free memory at the time of reading; nil when not reported.
        public var freeMemory: MemorySize?
        /// Distances to every node (itself included); empty when not reported.
        public var distances: [NodeDistance]
        /// Page pools by size (base pages included when the source lists them).
        public var pagePools: [PagePool]

        public init(id: Int, cpus: CPUSet, memory: MemorySize? = nil, freeMemory: MemorySize? = nil, distances: [NodeDistance] = [], pagePools: [PagePool] = []) {
            self.id = id
            self.cpus = cpus
            self.memory = memory
            self.freeMemory = freeMemory
            self.distances = distances
            self.pagePools = pagePools
        }

        /// The distance to `other`, if reported.
        public func distance(to other: Int) -> Int? { distances.first { $0.node == other }?.value }

        /// The huge page pools: every pool but the base pages. libvirt's capabilities list the
        /// base page (`<pages size='4'>`) beside the huge ones; it is the smallest size listed
        /// and at most 64 KiB (4 KiB on x86).
        public var hugepagePools: [PagePool] {
            guard let base = pagePools.map(\.pageSize).min(), base <= .kibibytes(64) else { return pagePools }
            return pagePools.filter { $0.pageSize != base }
        }

        /// The pool of `pageSize` pages, if any.
        public func pagePool(of pageSize: MemorySize) -> PagePool? { pagePools.first { $0.pageSize == pageSize } }
    }

    /// A CPU cache instance and the CPUs sharing it.
    public struct Cache: Sendable, Hashable, Codable {
        public var level: Int
        /// `Unified`, `Data` or `Instruction` as sysfs writes it (libvirt: `both`, `data`,
        /// `code`); other spellings kept as read.
        public var type: String
        public var size: MemorySize?
        public var cpus: CPUSet
        /// The cache id (sysfs `id`, libvirt `<bank id>`), when reported.
        public var id: Int?

        public init(level: Int, type: String, size: MemorySize?, cpus: CPUSet, id: Int? = nil) {
            self.level = level
            self.type = type
            self.size = size
            self.cpus = cpus
            self.id = id
        }
    }

    /// A PCI device and the node it is attached to (for device-affine placement).
    public struct PCIDevice: Sendable, Hashable, Codable {
        /// `DDDD:BB:SS.F`.
        public var address: String
        /// nil when the platform does not say (sysfs `numa_node` = -1).
        public var node: Int?
        public var vendorID: UInt16?
        public var deviceID: UInt16?
        /// The PCI class code (e.g. 0x020000 for Ethernet).
        public var classCode: UInt32?

        public init(address: String, node: Int?, vendorID: UInt16? = nil, deviceID: UInt16? = nil, classCode: UInt32? = nil) {
            self.address = address
            self.node = node
            self.vendorID = vendorID
            self.deviceID = deviceID
            self.classCode = classCode
        }
    }

    /// Every CPU the host has, online or not, sorted by id.
    public var cpus: [CPU]
    /// NUMA nodes, sorted by id (one node on hosts without NUMA).
    public var nodes: [Node]
    public var caches: [Cache]
    public var pciDevices: [PCIDevice]

    public init(cpus: [CPU], nodes: [Node], caches: [Cache] = [], pciDevices: [PCIDevice] = []) {
        self.cpus = cpus.sorted { $0.id < $1.id }
        self.nodes = nodes.sorted { $0.id < $1.id }
        self.caches = caches
        self.pciDevices = pciDevices
    }

    /// The CPU with kernel number `id`.
    public func cpu(_ id: Int) -> CPU? {
        // Sorted by id and usually dense: try the direct index first.
        if id >= 0, id < cpus.count, cpus[id].id == id { return cpus[id] }
        return cpus.first { $0.id == id }
    }

    /// The node with id `id`.
    public func node(_ id: Int) -> Node? { nodes.first { $0.id == id } }

    /// Online CPUs.
    public var onlineCPUs: CPUSet { CPUSet(cpus.lazy.filter(\.online).map(\.id)) }

    /// The physical cores: each a set of sibling threads (online or not), sorted by their
    /// lowest CPU.
    public var cores: [CPUSet] {
        var seen = Set<CPUSet>()
        var out: [CPUSet] = []
        for c in cpus where seen.insert(c.threadSiblings).inserted { out.append(c.threadSiblings) }
        return out
    }
}
