import VirtCore

/// What the guests already on a host hold: the planner never gives it to a new guest.
public struct PlacementOccupancy: Sendable, Hashable {
    /// One guest already running or defined on the host.
    public struct Guest: Sendable, Hashable {
        public var name: String
        /// Each vCPU's allowed host CPUs. A pin covering every online CPU (an unpinned
        /// vCPU) holds nothing; any narrower pin holds all of its CPUs.
        public var vcpuPins: [CPUSet]
        /// The emulator pin; nil or all online CPUs when unpinned.
        public var emulatorPin: CPUSet?
        public var iothreadPins: [CPUSet]
        /// Memory bound to each host node (`numatune` strict/preferred nodes).
        public var memoryByNode: [Int: MemorySize]
        /// Huge pages held per host node: node → (page size, pages).
        public var hugepagesByNode: [Int: [MemorySize: UInt64]]

        public init(
            name: String, vcpuPins: [CPUSet] = [], emulatorPin: CPUSet? = nil, iothreadPins: [CPUSet] = [],
            memoryByNode: [Int: MemorySize] = [:], hugepagesByNode: [Int: [MemorySize: UInt64]] = [:]
        ) {
            self.name = name
            self.vcpuPins = vcpuPins
            self.emulatorPin = emulatorPin
            self.iothreadPins = iothreadPins
            self.memoryByNode = memoryByNode
            self.hugepagesByNode = hugepagesByNode
        }
    }

    public var guests: [Guest]
    /// PCI devices already given to guests (addresses).
    public var assignedPCIDevices: Set<String>

    public init(guests: [Guest] = [], assignedPCIDevices: Set<String> = []) {
        self.guests = guests
        self.assignedPCIDevices = assignedPCIDevices
    }

    public static let empty = PlacementOccupancy()

    /// The occupancy without the guests named in `names` (they are being re-placed).
    public func excluding(_ names: Set<String>) -> PlacementOccupancy {
        var copy = self
        copy.guests.removeAll { names.contains($0.name) }
        return copy
    }
}
