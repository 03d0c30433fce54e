import VirtCore

/// Every number a rule compares against. Defaults come from the sources each rule cites
/// (see Documentation/Tuning.md); override any of them per call.
public struct DiagnosisThresholds: Sendable, Hashable, Codable {
    /// `host.overcommit.vcpu`: vCPUs of active guests per physical core (RHEL: ≤ 10 per core;
    /// the warning level 3).
    public var vcpusPerCoreWarning: Double = 3
    public var vcpusPerCoreCritical: Double = 10
    /// `host.swappiness`: tuned `virtual-host` (via `throughput-performance`) sets 10.
    public var maxSwappiness: Int = 10
    /// `host.memory.swapping`: swap-in + swap-out pages per second over the window.
    public var swapPagesPerSecond: Double = 1
    /// `guest.vcpu.contention`: run-queue delay as a fraction of wall time (netdata / Scout:
    /// steal > 10 %; glances: critical above 20 %).
    public var vcpuDelayWarning: Double = 0.10
    public var vcpuDelayCritical: Double = 0.20
    /// `guest.cpu.throttled`: throttled periods / periods.
    public var throttledPeriodsWarning: Double = 0.20
    /// `host.iowait`: share of CPU time in iowait, percent (netdata warns above 40, the issue at 30).
    public var iowaitPercent: Double = 30
    /// `host.context-switches`: per CPU per second.
    public var contextSwitchesPerCPU: Double = 5_000
    /// `host.psi.cpu`: CPU pressure `some`, percent of the window.
    public var cpuPressurePercent: Double = 10
    /// `host.tcp.retransmits`: segments per second.
    public var tcpRetransmitsPerSecond: Double = 5
    /// `guest.numa.remote-memory`: resident guest memory off the nodes of its vCPUs.
    public var remoteMemoryFraction: Double = 0.10
    /// `guest.disk.iothreads`: requests per second on one virtio disk without an IOThread.
    public var diskIOPSWithoutIOThread: Double = 1_000
    /// `guest.memory.no-hugepages`: guests at least this large should use huge pages.
    public var largeGuestMemory: MemorySize = .gibibytes(16)

    public init() {}

    /// The defaults with the named values replaced (`name=value` pairs, the property names
    /// above), as the CLI's `--threshold` takes them. Unknown names or bad numbers are an error.
    public init(overrides: [String: String]) throws(DiagnosisThresholdError) {
        self.init()
        for (name, text) in overrides.sorted(by: { $0.key < $1.key }) {
            guard let v = Double(text), v.isFinite, v >= 0 else { throw .badValue(name: name, value: text) }
            switch name {
            case "vcpusPerCoreWarning": vcpusPerCoreWarning = v
            case "vcpusPerCoreCritical": vcpusPerCoreCritical = v
            case "maxSwappiness": maxSwappiness = Int(v)
            case "swapPagesPerSecond": swapPagesPerSecond = v
            case "vcpuDelayWarning": vcpuDelayWarning = v
            case "vcpuDelayCritical": vcpuDelayCritical = v
            case "throttledPeriodsWarning": throttledPeriodsWarning = v
            case "iowaitPercent": iowaitPercent = v
            case "contextSwitchesPerCPU": contextSwitchesPerCPU = v
            case "cpuPressurePercent": cpuPressurePercent = v
            case "tcpRetransmitsPerSecond": tcpRetransmitsPerSecond = v
            case "remoteMemoryFraction": remoteMemoryFraction = v
            case "diskIOPSWithoutIOThread": diskIOPSWithoutIOThread = v
            case "largeGuestMemoryGiB": largeGuestMemory = .gibibytes(UInt64(v))
            default: throw .unknownName(name)
            }
        }
    }
}

/// A threshold override that could not be applied.
public enum DiagnosisThresholdError: Error, Hashable, Sendable, CustomStringConvertible {
    case unknownName(String)
    case badValue(name: String, value: String)
    public var description: String {
        switch self {
        case .unknownName(let n): "unknown threshold '\(n)'"
        case .badValue(let n, let v): "threshold \(n): '\(v)' is not a non-negative number"
        }
    }
}
