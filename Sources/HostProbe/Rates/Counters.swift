#if canImport(Glibc)
import Glibc
#endif
import VirtCore

/// CPU time counters of one line of `/proc/stat`, in clock ticks (`USER_HZ`).
public struct CPUTimes: Sendable, Hashable, Codable {
    public var user: UInt64 = 0
    public var nice: UInt64 = 0
    public var system: UInt64 = 0
    public var idle: UInt64 = 0
    public var iowait: UInt64 = 0
    public var irq: UInt64 = 0
    public var softirq: UInt64 = 0
    public var steal: UInt64 = 0
    /// Already included in `user`/`nice` by the kernel; kept for reporting.
    public var guest: UInt64 = 0
    public var guestNice: UInt64 = 0

    public init() {}

    /// All time that passed (guest time is inside user/nice, so not added again).
    public var total: UInt64 { user &+ nice &+ system &+ idle &+ iowait &+ irq &+ softirq &+ steal }
}

/// `/proc/stat`.
public struct ProcStat: Sendable, Hashable, Codable {
    /// The `cpu` line.
    public var total: CPUTimes
    /// `cpuN` lines (online CPUs only; the kernel omits offline ones).
    public var cpus: [Int: CPUTimes]
    /// `ctxt`, `intr` (first number), `processes` (forks since boot).
    public var contextSwitches: UInt64?
    public var interrupts: UInt64?
    public var forks: UInt64?
    public var procsRunning: Int?
    public var procsBlocked: Int?
    public var bootTime: UInt64?

    /// Parses the text of `/proc/stat`; a line with a non-numeric counter is an error.
    public static func parse(_ text: String) -> Result<ProcStat, ReadFailure> {
        var s = ProcStat(total: CPUTimes(), cpus: [:])
        var sawCPU = false
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let key = f.first else { continue }
            if key.hasPrefix("cpu") {
                var nums: [UInt64] = []
                nums.reserveCapacity(10)
                for w in f.dropFirst() {
                    guard let v = UInt64(w) else { return .failure(.garbled("\(RootedFileReader.quote(line)): \(RootedFileReader.quote(w)) is not a counter")) }
                    nums.append(v)
                }
                guard nums.count >= 4 else { return .failure(.garbled("\(RootedFileReader.quote(line)) has \(nums.count) counters")) }
                var t = CPUTimes()
                t.user = nums[0]; t.nice = nums[1]; t.system = nums[2]; t.idle = nums[3]
                if nums.count > 4 { t.iowait = nums[4] }
                if nums.count > 5 { t.irq = nums[5] }
                if nums.count > 6 { t.softirq = nums[6] }
                if nums.count > 7 { t.steal = nums[7] }
                if nums.count > 8 { t.guest = nums[8] }
                if nums.count > 9 { t.guestNice = nums[9] }
                if key == "cpu" {
                    s.total = t
                    sawCPU = true
                } else if let id = Int(key.dropFirst(3)) {
                    s.cpus[id] = t
                }
                continue
            }
            let v = f.count > 1 ? UInt64(f[1]) : nil
            switch key {
            case "ctxt": s.contextSwitches = v
            case "intr": s.interrupts = v
            case "processes": s.forks = v
            case "procs_running": s.procsRunning = v.map(Int.init)
            case "procs_blocked": s.procsBlocked = v.map(Int.init)
            case "btime": s.bootTime = v
            default: break
            }
        }
        guard sawCPU else { return .failure(.garbled("no 'cpu' line")) }
        return .success(s)
    }
}

/// `/proc/pressure/{cpu,memory,io}`: pressure stall information.
public struct PressureCounters: Sendable, Hashable, Codable {
    public var someAvg10: Double?
    public var someTotalMicroseconds: UInt64?
    public var fullAvg10: Double?
    public var fullTotalMicroseconds: UInt64?

    public static func parse(_ text: String) -> PressureCounters {
        var p = PressureCounters()
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard let kind = f.first else { continue }
            var avg10: Double?
            var total: UInt64?
            for kv in f.dropFirst() {
                if kv.hasPrefix("avg10=") { avg10 = Double(kv.dropFirst(6)) }
                if kv.hasPrefix("total=") { total = UInt64(kv.dropFirst(6)) }
            }
            if kind == "some" { p.someAvg10 = avg10; p.someTotalMicroseconds = total }
            if kind == "full" { p.fullAvg10 = avg10; p.fullTotalMicroseconds = total }
        }
        return p
    }
}

/// One thread's counters (`/proc/PID/task/TID/{stat,status,schedstat}`).
public struct ThreadCounters: Sendable, Hashable, Codable {
    public var tid: Int
    public var name: String
    /// `R`, `S`, `D`, …
    public var state: String
    /// User and system CPU time, clock ticks.
    public var userTicks: UInt64
    public var systemTicks: UInt64
    /// CPU it last ran on (stat field 39).
    public var processor: Int?
    public var voluntarySwitches: UInt64?
    public var involuntarySwitches: UInt64?
    /// `schedstat`: time on CPU, time waiting on a run queue (ns), and timeslices run.
    public var runNanoseconds: UInt64?
    public var waitNanoseconds: UInt64?
    public var timeslices: UInt64?

    /// Parses `/proc/PID/task/TID/stat` (the name may hold spaces and parentheses).
    static func parseStat(_ text: String, tid: Int) -> ThreadCounters? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") , open < close else { return nil }
        let name = String(text[text.index(after: open)..<close])
        let f = text[text.index(after: close)...].split(separator: " ")
        // f[0] is field 3 (state): field n is f[n - 3].
        guard f.count >= 13, let ut = UInt64(f[11]), let st = UInt64(f[12]) else { return nil }
        return ThreadCounters(tid: tid, name: name, state: String(f[0]), userTicks: ut, systemTicks: st,
                              processor: f.count > 36 ? Int(f[36]) : nil)
    }
}

/// Every raw counter one sample needs, read in one pass.
struct RateCounters {
    var monotonicNanoseconds: UInt64
    var stat: ProcStat?
    var vmstat: [String: UInt64] = [:]
    var pressure: [String: PressureCounters] = [:]
    var tcp: [String: UInt64] = [:]
    var loadavg: [Double] = []
    var threads: [Int: [Int: ThreadCounters]] = [:]
    var diagnostics: [ProbeDiagnostic] = []
}

enum CounterReader {
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static let vmstatKeys: Set<String> = ["pgfault", "pgmajfault", "pswpin", "pswpout", "pgpgin", "pgpgout", "numa_hit", "numa_miss", "thp_fault_alloc"]

    /// `USER_HZ`: the unit of `/proc/stat` and `/proc/PID/stat` times (100 when unknown).
    static let ticksPerSecond: UInt64 = {
        let hz = sysconf(Int32(_SC_CLK_TCK))
        return hz > 0 ? UInt64(hz) : 100
    }()

    /// `/proc/stat`, parsed; a diagnostic when unreadable or garbled.
    static func procStat(_ ctx: ProbeContext) -> ProcStat? {
        guard let text = ctx.text("/proc/stat", "CPU counters", required: true) else { return nil }
        switch ProcStat.parse(text) {
        case .success(let s): return s
        case .failure(let f):
            ctx.note("CPU counters", "/proc/stat", f)
            return nil
        }
    }

    /// `/proc/pressure/<resource>`; nil without a diagnostic when the kernel has no PSI.
    static func pressure(_ ctx: ProbeContext, _ resource: String) -> PressureCounters? {
        ctx.text("/proc/pressure/" + resource, "\(resource) pressure").map(PressureCounters.parse)
    }

    static func read(_ ctx: ProbeContext, pids: [Int]) -> RateCounters {
        ctx.diagnostics = []
        ctx.section = .topology
        var c = RateCounters(monotonicNanoseconds: now())
        c.stat = procStat(ctx)
        ctx.section = .memory
        if let text = ctx.text("/proc/vmstat", "VM counters", required: true) {
            for line in text.split(separator: "\n") {
                guard let sp = line.firstIndex(of: " ") else { continue }
                let key = String(line[..<sp])
                if vmstatKeys.contains(key), let v = UInt64(line[line.index(after: sp)...]) { c.vmstat[key] = v }
            }
        }
        for r in ["cpu", "memory", "io"] {
            if let p = pressure(ctx, r) { c.pressure[r] = p }
        }
        ctx.section = .network
        if let text = ctx.text("/proc/net/snmp", "TCP counters") {
            // Two "Tcp:" lines: names, then values.
            let tcp = text.split(separator: "\n").filter { $0.hasPrefix("Tcp:") }
            if tcp.count >= 2 {
                let names = tcp[0].split(separator: " ").dropFirst()
                let values = tcp[1].split(separator: " ").dropFirst()
                for (n, v) in zip(names, values) { if let x = UInt64(v) { c.tcp[String(n)] = x } }
            }
        }
        ctx.section = .topology
        if let text = ctx.line("/proc/loadavg", "load average") {
            c.loadavg = text.split(separator: " ").prefix(3).compactMap { Double($0) }
        }
        for pid in pids {
            switch ProcessThreads.read(ctx, pid: pid) {
            case .success(let t): c.threads[pid] = Dictionary(t.map { ($0.tid, $0) }, uniquingKeysWith: { a, _ in a })
            case .failure(let f): ctx.note("threads of process \(pid)", "/proc/\(pid)/task", f)
            }
        }
        c.diagnostics = ctx.diagnostics
        return c
    }
}

/// Per-thread counters of a process (a QEMU PID: its vCPU, I/O and main-loop threads).
public enum ProcessThreads {
    /// Reads every thread of `pid` once (synchronous).
    public static func read(pid: Int, root: ProbeRoot = .live) -> Result<[ThreadCounters], ReadFailure> {
        read(ProbeContext(reader: SourceReader(root: root)), pid: pid)
    }

    static func read(_ ctx: ProbeContext, pid: Int) -> Result<[ThreadCounters], ReadFailure> {
        let base = "/proc/\(pid)/task"
        let entries: [DirEntry]
        switch ctx.reader.list(base) {
        case .success(let e): entries = e
        case .failure(let f): return .failure(f)
        }
        var out: [ThreadCounters] = []
        for e in entries {
            guard let tid = Int(e.name) else { continue }
            let d = base + "/" + e.name
            // Threads exit between listing and reading: skip them quietly.
            guard case .success(let stat) = ctx.reader.read(d + "/stat"),
                  var t = ThreadCounters.parseStat(stat, tid: tid) else { continue }
            if case .success(let status) = ctx.reader.read(d + "/status") {
                for line in status.split(separator: "\n") {
                    if line.hasPrefix("voluntary_ctxt_switches:") {
                        t.voluntarySwitches = UInt64(line.split(separator: "\t").last ?? "")
                    } else if line.hasPrefix("nonvoluntary_ctxt_switches:") {
                        t.involuntarySwitches = UInt64(line.split(separator: "\t").last ?? "")
                    }
                }
            }
            if case .success(let ss) = ctx.reader.read(d + "/schedstat") {
                let f = ss.split(whereSeparator: { $0 == " " || $0 == "\n" })
                if f.count >= 3 {
                    t.runNanoseconds = UInt64(f[0])
                    t.waitNanoseconds = UInt64(f[1])
                    t.timeslices = UInt64(f[2])
                }
            }
            out.append(t)
        }
        return .success(out.sorted { $0.tid < $1.tid })
    }
}
