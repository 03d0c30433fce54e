#if canImport(Glibc)
import Glibc
#endif
import VirtCore

/// CPU time split in percent of the interval (of one CPU, or of all CPUs together).
public struct CPUUsage: Sendable, Hashable, Codable {
    /// nil for the all-CPU total.
    public var cpu: Int?
    public var user: Double
    public var nice: Double
    public var system: Double
    public var idle: Double
    public var iowait: Double
    public var irq: Double
    public var softirq: Double
    /// Time the hypervisor ran someone else while this (guest) host wanted the CPU.
    public var steal: Double
    public var guest: Double
    /// 100 − idle − iowait.
    public var busy: Double

    static func between(_ a: CPUTimes, _ b: CPUTimes, cpu: Int?) -> CPUUsage {
        let total = Double(b.total &- a.total)
        func pct(_ x: UInt64, _ y: UInt64) -> Double { total > 0 && y >= x ? Double(y - x) * 100 / total : 0 }
        let idle = pct(a.idle, b.idle), io = pct(a.iowait, b.iowait)
        return CPUUsage(cpu: cpu, user: pct(a.user, b.user), nice: pct(a.nice, b.nice), system: pct(a.system, b.system),
                        idle: idle, iowait: io, irq: pct(a.irq, b.irq), softirq: pct(a.softirq, b.softirq),
                        steal: pct(a.steal, b.steal), guest: pct(a.guest &+ a.guestNice, b.guest &+ b.guestNice),
                        busy: total > 0 ? max(0, 100 - idle - io) : 0)
    }
}

/// Pressure stall of one resource over the interval.
public struct PressureRate: Sendable, Hashable, Codable {
    /// Percent of the interval some (all, for `full`) runnable tasks were stalled.
    public var somePercent: Double?
    public var fullPercent: Double?
    /// The kernel's own 10-second averages.
    public var someAvg10: Double?
    public var fullAvg10: Double?
}

/// One thread's activity over the interval.
public struct ThreadRate: Sendable, Hashable, Codable {
    public var pid: Int
    public var tid: Int
    public var name: String
    public var state: String
    /// CPU time in percent of one CPU.
    public var cpuPercent: Double
    public var userPercent: Double
    public var systemPercent: Double
    public var processor: Int?
    public var voluntarySwitchesPerSecond: Double?
    public var involuntarySwitchesPerSecond: Double?
    /// Time spent runnable but waiting for a CPU, milliseconds per second (schedstat):
    /// a vCPU thread with a high value is what makes a guest console lag.
    public var runQueueWaitMsPerSecond: Double?
}

/// The host's activity between two reads of its counters.
public struct RateSample: Sendable, Hashable, Codable {
    /// Seconds between the two reads.
    public var interval: Double
    public var total: CPUUsage?
    public var perCPU: [CPUUsage]
    public var contextSwitchesPerSecond: Double?
    public var interruptsPerSecond: Double?
    public var forksPerSecond: Double?
    /// Instantaneous `procs_running` / `procs_blocked` at the end of the interval.
    public var running: Int?
    public var blocked: Int?
    /// `/proc/loadavg` 1, 5, 15 minutes.
    public var loadAverage: [Double]
    /// `/proc/vmstat` deltas.
    public var pageFaultsPerSecond: Double?
    public var majorFaultsPerSecond: Double?
    public var swapInPagesPerSecond: Double?
    public var swapOutPagesPerSecond: Double?
    /// `cpu`, `memory`, `io` pressure.
    public var pressure: [String: PressureRate]
    /// `/proc/net/snmp` Tcp RetransSegs and OutSegs deltas.
    public var tcpRetransmitsPerSecond: Double?
    public var tcpOutSegmentsPerSecond: Double?
    /// Per-thread activity of the sampled processes.
    public var threads: [ThreadRate]
    /// Sources that failed in this sample.
    public var diagnostics: [ProbeDiagnostic]

    static func between(_ a: RateCounters, _ b: RateCounters, ticksPerSecond: Double) -> RateSample {
        let dt = max(Double(b.monotonicNanoseconds &- a.monotonicNanoseconds) / 1e9, 1e-9)
        func rate(_ x: UInt64?, _ y: UInt64?) -> Double? {
            guard let x, let y, y >= x else { return nil }
            return Double(y - x) / dt
        }
        var s = RateSample(interval: dt, perCPU: [], loadAverage: b.loadavg, pressure: [:], threads: [], diagnostics: b.diagnostics)
        if let sa = a.stat, let sb = b.stat {
            s.total = CPUUsage.between(sa.total, sb.total, cpu: nil)
            // CPUs hot-plugged during the interval have no baseline and are left out.
            s.perCPU = sb.cpus.sorted { $0.key < $1.key }.compactMap { id, now in
                sa.cpus[id].map { CPUUsage.between($0, now, cpu: id) }
            }
            s.contextSwitchesPerSecond = rate(sa.contextSwitches, sb.contextSwitches)
            s.interruptsPerSecond = rate(sa.interrupts, sb.interrupts)
            s.forksPerSecond = rate(sa.forks, sb.forks)
            s.running = sb.procsRunning
            s.blocked = sb.procsBlocked
        }
        s.pageFaultsPerSecond = rate(a.vmstat["pgfault"], b.vmstat["pgfault"])
        s.majorFaultsPerSecond = rate(a.vmstat["pgmajfault"], b.vmstat["pgmajfault"])
        s.swapInPagesPerSecond = rate(a.vmstat["pswpin"], b.vmstat["pswpin"])
        s.swapOutPagesPerSecond = rate(a.vmstat["pswpout"], b.vmstat["pswpout"])
        for (r, pb) in b.pressure {
            let pa = a.pressure[r]
            // total= is microseconds stalled: Δµs / (Δs · 10⁶) · 100.
            s.pressure[r] = PressureRate(
                somePercent: rate(pa?.someTotalMicroseconds, pb.someTotalMicroseconds).map { $0 / 1e4 },
                fullPercent: rate(pa?.fullTotalMicroseconds, pb.fullTotalMicroseconds).map { $0 / 1e4 },
                someAvg10: pb.someAvg10, fullAvg10: pb.fullAvg10)
        }
        s.tcpRetransmitsPerSecond = rate(a.tcp["RetransSegs"], b.tcp["RetransSegs"])
        s.tcpOutSegmentsPerSecond = rate(a.tcp["OutSegs"], b.tcp["OutSegs"])
        for (pid, threads) in b.threads.sorted(by: { $0.key < $1.key }) {
            for (tid, tb) in threads.sorted(by: { $0.key < $1.key }) {
                // A thread born during the interval has no baseline; it shows up next time.
                guard let ta = a.threads[pid]?[tid] else { continue }
                let u = Double(tb.userTicks &- ta.userTicks) / ticksPerSecond / dt * 100
                let sy = Double(tb.systemTicks &- ta.systemTicks) / ticksPerSecond / dt * 100
                s.threads.append(ThreadRate(
                    pid: pid, tid: tid, name: tb.name, state: tb.state, cpuPercent: u + sy, userPercent: u, systemPercent: sy,
                    processor: tb.processor,
                    voluntarySwitchesPerSecond: rate(ta.voluntarySwitches, tb.voluntarySwitches),
                    involuntarySwitchesPerSecond: rate(ta.involuntarySwitches, tb.involuntarySwitches),
                    runQueueWaitMsPerSecond: rate(ta.waitNanoseconds, tb.waitNanoseconds).map { $0 / 1e6 }))
            }
        }
        return s
    }
}

/// The sampler's reader and previous counters.
///
/// `@unchecked Sendable`: one sampling task owns it and touches it only from inside its
/// `BlockingThreadPool.fileIO` jobs, which it awaits one after another, so no two accesses
/// ever overlap.
private final class SamplerState: @unchecked Sendable {
    let ctx: ProbeContext
    let pids: [Int]
    var previous: RateCounters?
    let ticks: Double

    init(root: ProbeRoot, pids: [Int]) {
        ctx = ProbeContext(reader: SourceReader(root: root))
        self.pids = pids
        ticks = Double(CounterReader.ticksPerSecond)
    }

    /// Reads the counters; the delta to the previous read, from the second call on.
    func tick() -> RateSample? {
        let now = CounterReader.read(ctx, pids: pids)
        defer { previous = now }
        return previous.map { RateSample.between($0, now, ticksPerSecond: ticks) }
    }
}

extension HostProber {
    /// Live rates every `interval` (at least 1 ms): each element is the delta between two
    /// reads of `/proc/stat`, `/proc/vmstat`, `/proc/pressure/*`, `/proc/net/snmp`,
    /// `/proc/loadavg` and, for each PID in `processes`, `/proc/PID/task/*/{stat,status,schedstat}`.
    ///
    /// The first element arrives after one interval. Reads run on `BlockingThreadPool.fileIO`,
    /// never on the cooperative pool; the ticks follow a `ContinuousClock` deadline, so they do
    /// not drift by the read time. The stream ends when the consumer stops iterating.
    public func sample(every interval: Duration, processes: [Int] = []) -> AsyncStream<RateSample> {
        let state = SamplerState(root: root, pids: processes)
        let step = max(interval, .milliseconds(1))
        return AsyncStream(bufferingPolicy: .bufferingNewest(16)) { cont in
            let task = Task {
                let clock = ContinuousClock()
                var next = clock.now
                while !Task.isCancelled {
                    let sample: RateSample?
                    do { sample = try await BlockingThreadPool.fileIO.run { state.tick() } } catch { break }
                    if let sample { cont.yield(sample) }
                    next += step
                    // After a stall (a busy host, a suspended process) skip the missed ticks
                    // instead of sampling them back to back: a rate over a few µs is noise.
                    let now = clock.now
                    if next < now { next = now + step }
                    do { try await Task.sleep(until: next, clock: clock) } catch { break }
                }
                cont.finish()
            }
            cont.onTermination = { _ in task.cancel() }
        }
    }

    /// Reads the counters twice, `interval` apart, on the file-I/O pool and returns the delta.
    public func sampleOnce(over interval: Duration, processes: [Int] = []) async -> RateSample? {
        for await s in sample(every: interval, processes: processes) { return s }
        return nil
    }
}
