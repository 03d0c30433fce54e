import Libvirt
import VirtCore

/// One guest as the fleet inventory sees it.
public struct FleetGuest: Sendable, Hashable, Codable {
    public var name: String
    public var uuid: String
    /// `DomainState.key`: `running`, `paused`, `shutoff`, …
    public var state: String
    /// The reason, as `virsh domstate --reason` prints it.
    public var reason: String
    /// Has a QEMU process (running, blocked, paused, in shutdown, pmsuspended).
    public var isActive: Bool
    public var vcpus: Int?
    public var maxVCPUs: Int?
    /// Current memory (balloon), nil when not reported.
    public var memory: MemorySize?
    public var maxMemory: MemorySize?
    /// Each vCPU's allowed host CPUs, read for active guests only (nil for inactive ones).
    public var vcpuPins: [CPUSet]?
    public var emulatorPin: CPUSet?
    /// `numatune` memory nodes and mode (`strict`, `preferred`, `interleave`, `restrictive`), active guests only.
    public var memoryNodes: NodeSet?
    public var memoryMode: String?

    public init(
        name: String, uuid: String, state: String, reason: String, isActive: Bool, vcpus: Int? = nil, maxVCPUs: Int? = nil,
        memory: MemorySize? = nil, maxMemory: MemorySize? = nil, vcpuPins: [CPUSet]? = nil, emulatorPin: CPUSet? = nil,
        memoryNodes: NodeSet? = nil, memoryMode: String? = nil
    ) {
        self.name = name
        self.uuid = uuid
        self.state = state
        self.reason = reason
        self.isActive = isActive
        self.vcpus = vcpus
        self.maxVCPUs = maxVCPUs
        self.memory = memory
        self.maxMemory = maxMemory
        self.vcpuPins = vcpuPins
        self.emulatorPin = emulatorPin
        self.memoryNodes = memoryNodes
        self.memoryMode = memoryMode
    }
}

/// What the active guests of a host hold: the input a placement planner subtracts.
public struct FleetHostOccupancy: Sendable, Hashable, Codable {
    public var activeGuests: Int
    /// vCPUs and memory of the active guests.
    public var vcpus: Int
    public var memory: MemorySize
    /// Host CPU → vCPUs pinned to a set containing it that is narrower than all online CPUs.
    public var pinnedVCPUsByCPU: [Int: Int]
    /// vCPUs allowed on every online CPU (or with no pin information).
    public var floatingVCPUs: Int
    /// Host node → memory bound there by `numatune` (a guest bound to several nodes counts
    /// an even share on each: libvirt does not report the split).
    public var memoryByNode: [Int: MemorySize]
    /// Memory of active guests with no node binding.
    public var unboundMemory: MemorySize

    public init(activeGuests: Int = 0, vcpus: Int = 0, memory: MemorySize = MemorySize(bytes: 0), pinnedVCPUsByCPU: [Int: Int] = [:],
                floatingVCPUs: Int = 0, memoryByNode: [Int: MemorySize] = [:], unboundMemory: MemorySize = MemorySize(bytes: 0)) {
        self.activeGuests = activeGuests
        self.vcpus = vcpus
        self.memory = memory
        self.pinnedVCPUsByCPU = pinnedVCPUsByCPU
        self.floatingVCPUs = floatingVCPUs
        self.memoryByNode = memoryByNode
        self.unboundMemory = unboundMemory
    }

    /// The occupancy of `guests` on a host with `onlineCPUs` (pure).
    public init(guests: [FleetGuest], onlineCPUs: CPUSet) {
        self.init()
        for g in guests where g.isActive {
            activeGuests += 1
            let count = g.vcpus ?? g.vcpuPins?.count ?? 0
            vcpus += count
            let mem = g.memory ?? g.maxMemory ?? MemorySize(bytes: 0)
            memory = memory + mem
            for i in 0..<count {
                guard let pin = g.vcpuPins?[safe: i], !pin.isEmpty, !onlineCPUs.isSubset(of: pin) else {
                    floatingVCPUs += 1
                    continue
                }
                for cpu in pin { pinnedVCPUsByCPU[cpu, default: 0] += 1 }
            }
            let binding = ["strict", "preferred", "restrictive", "interleave"].contains(g.memoryMode ?? "")
            if binding, let nodes = g.memoryNodes, !nodes.isEmpty {
                let share = MemorySize(bytes: mem.bytes / UInt64(nodes.count))
                for n in nodes { memoryByNode[n] = (memoryByNode[n] ?? MemorySize(bytes: 0)) + share }
            } else {
                unboundMemory = unboundMemory + mem
            }
        }
    }
}

extension Array {
    fileprivate subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}

/// One host's inventory: topology, free memory per cell, page pools, guests, occupancy.
public struct FleetHostInventory: Sendable, Hashable, Codable {
    /// Where the topology came from: the capabilities XML, or `virNodeGetInfo` when the
    /// capabilities list no NUMA cells (libvirt's test driver with a node file).
    public enum TopologySource: String, Sendable, Hashable, Codable {
        case capabilities, nodeInfo
    }

    public var host: String
    public var uri: String
    public var hostname: String?
    public var nodeInfo: HostNodeInfo
    /// Nodes carry `freeMemory` (`virNodeGetCellsFreeMemory`) and page pools (capabilities).
    public var topology: HostTopology
    public var topologySource: TopologySource
    public var guests: [FleetGuest]
    public var occupancy: FleetHostOccupancy
    /// Facts that could not be read without failing the host (e.g. a guest that vanished).
    public var warnings: [String]

    public init(host: String, uri: String, hostname: String?, nodeInfo: HostNodeInfo, topology: HostTopology, topologySource: TopologySource,
                guests: [FleetGuest], occupancy: FleetHostOccupancy, warnings: [String] = []) {
        self.host = host
        self.uri = uri
        self.hostname = hostname
        self.nodeInfo = nodeInfo
        self.topology = topology
        self.topologySource = topologySource
        self.guests = guests
        self.occupancy = occupancy
        self.warnings = warnings
    }

    /// Free memory per NUMA node (node id → free), from `topology`.
    public var freeMemoryByNode: [Int: MemorySize] {
        Dictionary(uniqueKeysWithValues: topology.nodes.compactMap { n in n.freeMemory.map { (n.id, $0) } })
    }
}

/// The inventory of a fleet: the hosts that answered and what happened to the others.
public struct FleetInventory: Sendable, Codable {
    /// A host without an inventory: `failed` with the error, or `timedOut`.
    public struct Missing: Sendable, Hashable, Codable {
        public var host: String
        public var uri: String
        public var result: String
        public var error: String?

        /// The hosts of `outcomes` that did not answer.
        public static func list<T: Sendable>(_ outcomes: [FleetHostOutcome<T>]) -> [Missing] {
            outcomes.compactMap { o in
                o.result.isOK ? nil : Missing(host: o.host.name, uri: o.host.uri, result: o.result.kind, error: o.result.error.map { "\($0)" })
            }
        }
    }

    public var hosts: [FleetHostInventory]
    public var missing: [Missing]
    public var summary: FleetRunSummary

    public init(_ report: FleetRunReport<FleetHostInventory>) {
        hosts = report.values.map(\.value)
        missing = Missing.list(report.outcomes)
        summary = report.summary
    }
}
