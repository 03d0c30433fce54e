import VirtCore
import HostProbe
import Libvirt

/// Everything the diagnosis rules look at, as one `Sendable` value: read live by
/// ``DiagnosisGatherer``, or assembled by hand (fixture trees, domain XML files, recorded
/// statistics) in tests.
public struct DiagnosisInput: Sendable {
    /// The host's name, for finding subjects.
    public var hostName: String?
    /// `/sys` and `/proc` facts (all sections); nil skips the host rules that need it.
    public var host: HostSnapshot?
    /// Host rates over the sampling window (`/proc/stat`, vmstat, PSI, TCP, guest threads);
    /// nil when nothing was sampled.
    public var hostRates: RateSample?
    /// The guests: every defined domain, running or not.
    public var guests: [GuestFacts]

    public init(hostName: String? = nil, host: HostSnapshot? = nil, hostRates: RateSample? = nil, guests: [GuestFacts] = []) {
        self.hostName = hostName
        self.host = host
        self.hostRates = hostRates
        self.guests = guests
    }

    /// Guests whose QEMU process exists (running, paused, …).
    public var activeGuests: [GuestFacts] { guests.filter(\.isActive) }
}

/// One guest: its identity, state, definition facts and (when sampled) its figures over the window.
public struct GuestFacts: Sendable {
    public var reference: GuestReference
    /// libvirt state and reason (`virDomainGetState`); nil when unknown.
    public var status: DomainStatus?
    /// Facts copied out of the domain XML (the live XML for running guests).
    public var definition: GuestDefinitionFacts
    /// The QEMU process ID while the guest runs.
    public var pid: Int?
    /// Figures over the sampling window; nil when not sampled.
    public var window: GuestWindow?
    /// Where the guest's memory lives (`/proc/PID/numa_maps`); nil when not read.
    public var memoryPlacement: GuestMemoryPlacement?
    /// Set when the guest is paused: what libvirt and the storage say about it.
    public var pause: PausedGuestFacts?

    public init(reference: GuestReference, status: DomainStatus? = nil, definition: GuestDefinitionFacts,
                pid: Int? = nil, window: GuestWindow? = nil, memoryPlacement: GuestMemoryPlacement? = nil,
                pause: PausedGuestFacts? = nil) {
        self.reference = reference
        self.status = status
        self.definition = definition
        self.pid = pid
        self.window = window
        self.memoryPlacement = memoryPlacement
        self.pause = pause
    }

    /// Running, paused, blocked, …: anything but shut off / crashed / unknown.
    public var isActive: Bool { status?.hasProcess ?? false }
}

extension DomainStatus {
    /// Running, blocked, paused, shutting down or PM-suspended: the QEMU process exists.
    var hasProcess: Bool {
        switch state {
        case .running, .blocked, .paused, .shutdown, .pmSuspended: true
        default: false
        }
    }
}

/// Counters of one guest turned into rates over one window.
public struct GuestWindow: Sendable, Hashable {
    public var duration: Duration
    public var vcpus: [VCPUFigures]
    /// CPU bandwidth throttling of the guest's cgroups over the window (the worst of the
    /// guest's top cgroup and its vCPU cgroups); nil when cgroups were not read.
    public var throttling: CPUThrottling?
    /// Disk requests per second, by target.
    public var diskIOPS: [String: Double]

    public init(duration: Duration, vcpus: [VCPUFigures] = [], throttling: CPUThrottling? = nil, diskIOPS: [String: Double] = [:]) {
        self.duration = duration
        self.vcpus = vcpus
        self.throttling = throttling
        self.diskIOPS = diskIOPS
    }
}

/// One vCPU over the window.
public struct VCPUFigures: Sendable, Hashable {
    public var index: Int
    /// Time its thread waited on a run queue (`vcpu.N.delay`, equal to the guest's steal time).
    public var delay: Duration?
    /// Time it ran (`vcpu.N.time`).
    public var runTime: Duration?
    /// Where `delay` came from (`virConnectGetAllDomainStats vcpu.0.delay` or `/proc/PID/task/TID/schedstat`).
    public var delaySource: String
    /// Its host thread and the host CPU it last ran on.
    public var threadID: Int?
    public var hostCPU: Int?
    /// The host CPUs it may run on.
    public var affinity: CPUSet?

    public init(index: Int, delay: Duration?, runTime: Duration? = nil, delaySource: String,
                threadID: Int? = nil, hostCPU: Int? = nil, affinity: CPUSet? = nil) {
        self.index = index
        self.delay = delay
        self.runTime = runTime
        self.delaySource = delaySource
        self.threadID = threadID
        self.hostCPU = hostCPU
        self.affinity = affinity
    }
}

/// Deltas of `cpu.stat`'s `nr_periods` / `nr_throttled` / `throttled_usec` over the window.
public struct CPUThrottling: Sendable, Hashable {
    /// The cgroup they were read from.
    public var cgroup: String
    public var periods: UInt64
    public var throttledPeriods: UInt64
    public var throttledTime: Duration?
    /// `cpu.max` quota and period of that cgroup, when limited.
    public var quota: Duration?
    public var period: Duration?

    public init(cgroup: String, periods: UInt64, throttledPeriods: UInt64, throttledTime: Duration? = nil,
                quota: Duration? = nil, period: Duration? = nil) {
        self.cgroup = cgroup
        self.periods = periods
        self.throttledPeriods = throttledPeriods
        self.throttledTime = throttledTime
        self.quota = quota
        self.period = period
    }

    public var throttledFraction: Double? { periods > 0 ? Double(throttledPeriods) / Double(periods) : nil }
}

/// Resident guest memory per host NUMA node, from `/proc/PID/numa_maps`.
public struct GuestMemoryPlacement: Sendable, Hashable {
    /// Resident bytes per host node.
    public var bytesPerNode: [Int: UInt64]
    /// The hugetlb part of `bytesPerNode` (mappings marked `huge`), per host node.
    public var hugepageBytesPerNode: [Int: UInt64]
    public init(bytesPerNode: [Int: UInt64], hugepageBytesPerNode: [Int: UInt64] = [:]) {
        self.bytesPerNode = bytesPerNode
        self.hugepageBytesPerNode = hugepageBytesPerNode
    }
    public var total: UInt64 { bytesPerNode.values.reduce(0, +) }
}

/// What is known about a paused guest.
public struct PausedGuestFacts: Sendable, Hashable {
    /// `virDomainGetDiskErrors`.
    public var diskErrors: [DiskErrorReport]
    /// I/O-error events a watcher saw for this guest.
    public var ioErrors: [IOErrorReport]
    /// When the guest paused, when a watcher saw it.
    public var pausedSince: ContinuousClock.Instant?
    /// Per disk target: free space of the backing file system, or whether the network
    /// server answered.
    public var storage: [String: StorageHealth]

    public init(diskErrors: [DiskErrorReport] = [], ioErrors: [IOErrorReport] = [],
                pausedSince: ContinuousClock.Instant? = nil, storage: [String: StorageHealth] = [:]) {
        self.diskErrors = diskErrors
        self.ioErrors = ioErrors
        self.pausedSince = pausedSince
        self.storage = storage
    }
}

/// One disk error libvirt recorded (`virDomainGetDiskErrors`).
public struct DiskErrorReport: Sendable, Hashable {
    /// The disk's target (`vda`) as libvirt reports it.
    public var disk: String
    public var error: DomainDiskError.Code
    public init(disk: String, error: DomainDiskError.Code) {
        self.disk = disk
        self.error = error
    }
    public init(_ e: DomainDiskError) { self.init(disk: e.disk, error: e.error) }
}

/// One I/O-error event (`VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON`).
public struct IOErrorReport: Sendable, Hashable {
    /// Device alias (`virtio-disk0`) and source path as the event names them.
    public var alias: String
    public var sourcePath: String
    /// QEMU's reason: `eio`, `enospc`, `eperm`, or empty.
    public var reason: String
    public init(alias: String, sourcePath: String, reason: String) {
        self.alias = alias
        self.sourcePath = sourcePath
        self.reason = reason
    }
    public init(_ e: IOErrorEvent) { self.init(alias: e.devAlias, sourcePath: e.srcPath, reason: e.reason) }
}

/// The health of one disk's backing storage, as measured.
public enum StorageHealth: Sendable, Hashable {
    /// A file's file system (`statvfs`): bytes free to unprivileged users and its size.
    case fileSystem(path: String, available: MemorySize, size: MemorySize)
    /// A network server (`host:port`): whether a TCP connection opened within the timeout.
    case server(address: String, answers: Bool, detail: String?)
    /// Could not be checked.
    case unknown(String)
}
