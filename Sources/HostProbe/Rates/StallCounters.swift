import VirtCore

/// The host's cumulative "work that waited" counters at one moment, as an exporter serves
/// them: steal and iowait time of all CPUs (the `cpu` line of `/proc/stat`) and the
/// pressure stall totals of `/proc/pressure/{cpu,io,memory}`. Counters, not rates: a
/// monitoring system takes the rate.
public struct HostStallCounters: Sendable, Hashable, Codable {
    /// The all-CPU `cpu` line of `/proc/stat` in clock ticks (nil: unreadable, see
    /// `diagnostics`).
    public var cpu: CPUTimes?
    /// Clock ticks per second (`USER_HZ`, from `sysconf(_SC_CLK_TCK)` of this machine).
    public var ticksPerSecond: UInt64
    /// nil when the kernel has no PSI (`CONFIG_PSI` off, or `psi=0`).
    public var cpuPressure: PressureCounters?
    public var ioPressure: PressureCounters?
    public var memoryPressure: PressureCounters?
    /// Sources that could not be used (a missing `/proc/pressure` is not one).
    public var diagnostics: [ProbeDiagnostic]

    public init(cpu: CPUTimes?, ticksPerSecond: UInt64, cpuPressure: PressureCounters? = nil,
                ioPressure: PressureCounters? = nil, memoryPressure: PressureCounters? = nil,
                diagnostics: [ProbeDiagnostic] = []) {
        self.cpu = cpu
        self.ticksPerSecond = max(1, ticksPerSecond)
        self.cpuPressure = cpuPressure
        self.ioPressure = ioPressure
        self.memoryPressure = memoryPressure
        self.diagnostics = diagnostics
    }

    /// Time the hypervisor ran something else while this host's CPUs wanted to run, all CPUs.
    public var steal: Duration? { cpu.map { duration(ticks: $0.steal) } }
    /// Time CPUs were idle with I/O outstanding, all CPUs.
    public var iowait: Duration? { cpu.map { duration(ticks: $0.iowait) } }

    /// `ticks` clock ticks as a span (exact to the nanosecond for any `USER_HZ` dividing 10⁹).
    public func duration(ticks: UInt64) -> Duration {
        .seconds(Int64(ticks / ticksPerSecond)) + .nanoseconds(unsigned: (ticks % ticksPerSecond) * 1_000_000_000 / ticksPerSecond)
    }

    /// `cpu`, `io`, `memory` with their counters, for the resources the kernel reports.
    public var pressures: [(resource: String, counters: PressureCounters)] {
        [("cpu", cpuPressure), ("io", ioPressure), ("memory", memoryPressure)].compactMap { r, p in p.map { (r, $0) } }
    }
}

extension PressureCounters {
    /// Total time at least one task stalled on the resource (`some … total=`).
    public var someTotal: Duration? { someTotalMicroseconds.map { .microseconds(unsigned: $0) } }
    /// Total time all non-idle tasks stalled on it (`full … total=`).
    public var fullTotal: Duration? { fullTotalMicroseconds.map { .microseconds(unsigned: $0) } }
}

extension HostProber {
    /// Reads ``HostStallCounters`` under the probe root on the calling thread.
    @available(*, noasync, message: "blocking reads; use stallCounters()")
    public func stallCountersSync() -> HostStallCounters {
        let ctx = ProbeContext(reader: SourceReader(root: root))
        ctx.section = .topology
        let cpu = CounterReader.procStat(ctx)?.total
        ctx.section = .memory
        func pressure(_ r: String) -> PressureCounters? { CounterReader.pressure(ctx, r) }
        return HostStallCounters(cpu: cpu, ticksPerSecond: CounterReader.ticksPerSecond,
                                 cpuPressure: pressure("cpu"), ioPressure: pressure("io"), memoryPressure: pressure("memory"),
                                 diagnostics: ctx.diagnostics)
    }

    /// Reads ``HostStallCounters`` on `BlockingThreadPool.fileIO` (three small procfs files
    /// and `/proc/stat`); nil only when the task is cancelled before the read starts.
    public func stallCounters() async -> HostStallCounters? {
        let probe = self
        return try? await BlockingThreadPool.fileIO.run { probe.stallCountersSync() }
    }
}
