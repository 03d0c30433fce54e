import VirtCore

/// How a guest's vCPUs use host CPUs (Nova's `hw:cpu_policy`).
public enum PlacementCPUPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Each vCPU gets a host CPU of its own, shared with no other guest's vCPU.
    case dedicated
    /// vCPUs float over the host CPUs no dedicated guest holds, on the guest's node(s).
    case shared
}

/// Where a dedicated guest's vCPUs go relative to SMT siblings (Nova's `hw:cpu_thread_policy`).
public enum PlacementThreadPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Whole cores first (vCPUs on sibling threads), the remainder on free threads.
    case prefer
    /// One vCPU per core; the core's other threads stay empty. Works on SMT and non-SMT hosts.
    case isolate
    /// vCPUs on sibling threads of whole cores only; refused on hosts without SMT.
    case require
}

/// Where the guest's emulator threads run (Nova's `hw:emulator_threads_policy`).
public enum EmulatorThreadsPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// On the guest's own vCPU CPUs (dedicated) or its shared CPUs.
    case share
    /// On one extra host CPU of the guest's nodes that no vCPU uses and whose siblings hold
    /// no other guest's vCPU. Dedicated guests only.
    case isolate
}

/// How strongly a guest wants to share a NUMA node with a PCI device.
public enum PCIAffinity: String, Sendable, Hashable, Codable, CaseIterable {
    /// The device's node must be one of the guest's nodes (a device whose node the platform
    /// does not report satisfies this, as in Nova's `legacy` policy).
    case required
    /// Nodes holding the device are preferred; any node is accepted.
    case preferred
}

/// A host PCI device a guest gets, by address (`DDDD:BB:SS.F`).
public struct PCIDeviceRequest: Sendable, Hashable, Codable {
    public var address: String
    public var affinity: PCIAffinity

    public init(address: String, affinity: PCIAffinity = .required) {
        self.address = address
        self.affinity = affinity
    }
}

/// What one guest asks for.
public struct GuestPlacementRequest: Sendable, Hashable {
    /// The guest's name; unique in a batch (a live domain of that name is re-placed).
    public var name: String
    public var vcpus: Int
    public var memory: MemorySize
    public var cpuPolicy: PlacementCPUPolicy
    /// Ignored for shared guests.
    public var threadPolicy: PlacementThreadPolicy
    public var emulatorThreads: EmulatorThreadsPolicy
    /// IOThreads to pin (`<iothreads>`); 0 for none.
    public var iothreads: Int
    /// Guest NUMA cells; nil means one cell on one host node.
    public var numaNodes: Int?
    /// Back guest memory with pages of this size from the cell's node; nil for base pages.
    public var hugepageSize: MemorySize?
    public var pciDevices: [PCIDeviceRequest]

    public init(
        name: String, vcpus: Int, memory: MemorySize, cpuPolicy: PlacementCPUPolicy = .dedicated,
        threadPolicy: PlacementThreadPolicy = .prefer, emulatorThreads: EmulatorThreadsPolicy = .share,
        iothreads: Int = 0, numaNodes: Int? = nil, hugepageSize: MemorySize? = nil, pciDevices: [PCIDeviceRequest] = []
    ) {
        self.name = name
        self.vcpus = vcpus
        self.memory = memory
        self.cpuPolicy = cpuPolicy
        self.threadPolicy = threadPolicy
        self.emulatorThreads = emulatorThreads
        self.iothreads = iothreads
        self.numaNodes = numaNodes
        self.hugepageSize = hugepageSize
        self.pciDevices = pciDevices
    }

    /// Guest cells actually planned (`numaNodes`, or 1).
    public var cellCount: Int { numaNodes ?? 1 }
}

/// A batch: the guests to place and the host CPUs kept for the host.
public struct PlacementRequest: Sendable, Hashable {
    /// Host CPUs no dedicated vCPU or isolated emulator thread may use.
    public var reservedCPUs: CPUSet
    public var guests: [GuestPlacementRequest]

    public init(reservedCPUs: CPUSet = [], guests: [GuestPlacementRequest]) {
        self.reservedCPUs = reservedCPUs
        self.guests = guests
    }
}

/// Why a request cannot be planned at all (as opposed to a guest that does not fit).
public struct PlacementRequestError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: Hashable, Sendable {
        case emptyName
        case duplicateName
        case zeroVCPUs
        /// More vCPUs than the host has online CPUs.
        case moreVCPUsThanHostCPUs(vcpus: Int, hostCPUs: Int)
        case zeroMemory
        case invalidCellCount(Int)
        case cellsExceedVCPUs(cells: Int, vcpus: Int)
        /// Outside 0…`maxIOThreads`.
        case invalidIOThreads(Int)
        case emulatorIsolationNeedsDedicatedCPUs
        /// Memory that is not a whole number of pages of `pageSize` per cell.
        case memoryNotPageAligned(pageSize: MemorySize)
        case invalidPageSize(MemorySize)
        /// A key the request format does not have (JSON).
        case unknownKey(String)
        /// A value of the wrong type or spelling (JSON).
        case invalidValue(key: String, value: String, expected: String)
        case missingKey(String)
        case malformed(String)
        /// Reserved CPUs the host does not have.
        case unknownReservedCPUs(CPUSet)
    }

    /// The guest concerned; nil for batch-level problems.
    public var guest: String?
    public var reason: Reason

    public init(guest: String?, reason: Reason) {
        self.guest = guest
        self.reason = reason
    }

    public var description: String {
        let what: String
        switch reason {
        case .emptyName: what = "the guest name is empty"
        case .duplicateName: what = "the name is used by more than one guest"
        case .zeroVCPUs: what = "vcpus must be at least 1"
        case .moreVCPUsThanHostCPUs(let v, let h): what = "\(v) vCPUs is more than the host's \(h) online CPUs"
        case .zeroMemory: what = "memoryMiB must be at least 1"
        case .invalidCellCount(let n): what = "numaNodes must be at least 1 (got \(n))"
        case .cellsExceedVCPUs(let c, let v): what = "\(c) NUMA cells need at least \(c) vCPUs (got \(v))"
        case .invalidIOThreads(let n): what = "iothreads must be 0…\(PlacementRequest.maxIOThreads) (got \(n))"
        case .emulatorIsolationNeedsDedicatedCPUs: what = "emulatorThreads 'isolate' needs cpuPolicy 'dedicated'"
        case .memoryNotPageAligned(let p): what = "memory per NUMA cell is not a whole number of \(p) pages"
        case .invalidPageSize(let p): what = "hugepage size \(p) is not a power of two of at least 4 KiB"
        case .unknownKey(let k): what = "unknown key '\(k)'"
        case .invalidValue(let k, let v, let e): what = "invalid \(k) '\(v)': expected \(e)"
        case .missingKey(let k): what = "missing key '\(k)'"
        case .malformed(let m): what = m
        case .unknownReservedCPUs(let s): what = "reserved CPUs \(s.listString) are not host CPUs"
        }
        return guest.map { "guest '\($0)': \(what)" } ?? what
    }
}

extension PlacementRequest {
    /// The most IOThreads a guest may ask for (bounds what a request file can make us allocate).
    public static let maxIOThreads = 1024

    /// Checks the batch against `host`; the planner calls this first.
    public func validate(on host: HostTopology) throws(PlacementRequestError) {
        let hostCPUs = CPUSet(host.cpus.map(\.id))
        let unknown = reservedCPUs.subtracting(hostCPUs)
        if !unknown.isEmpty { throw PlacementRequestError(guest: nil, reason: .unknownReservedCPUs(unknown)) }
        let online = host.onlineCPUs.count
        var seen = Set<String>()
        for g in guests {
            func fail(_ r: PlacementRequestError.Reason) -> PlacementRequestError { PlacementRequestError(guest: g.name, reason: r) }
            if g.name.isEmpty { throw fail(.emptyName) }
            if !seen.insert(g.name).inserted { throw fail(.duplicateName) }
            if g.vcpus < 1 { throw fail(.zeroVCPUs) }
            if g.vcpus > online { throw fail(.moreVCPUsThanHostCPUs(vcpus: g.vcpus, hostCPUs: online)) }
            if g.memory.bytes < 1 << 20 { throw fail(.zeroMemory) }
            if let n = g.numaNodes {
                if n < 1 { throw fail(.invalidCellCount(n)) }
                if n > g.vcpus { throw fail(.cellsExceedVCPUs(cells: n, vcpus: g.vcpus)) }
            }
            if g.iothreads < 0 || g.iothreads > Self.maxIOThreads { throw fail(.invalidIOThreads(g.iothreads)) }
            if g.emulatorThreads == .isolate && g.cpuPolicy == .shared { throw fail(.emulatorIsolationNeedsDedicatedCPUs) }
            if let page = g.hugepageSize {
                guard page.bytes >= 4096, page.bytes & (page.bytes - 1) == 0 else { throw fail(.invalidPageSize(page)) }
                // Every cell gets a whole number of pages: the planner splits in pages.
                if g.memory.bytes % page.bytes != 0 || g.memory.bytes / page.bytes < UInt64(g.cellCount) {
                    throw fail(.memoryNotPageAligned(pageSize: page))
                }
            }
        }
    }
}
