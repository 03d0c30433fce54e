#if canImport(Glibc)
import Glibc
#endif
import VirtCore

/// CPU time and bandwidth throttling, merged from v2 `cpu.stat` or v1 `cpu.stat` +
/// `cpuacct.*`. nil: not reported on this host.
public struct CPUStats: Hashable, Sendable, Codable {
    /// v2 `usage_usec`; v1 `cpuacct.usage` (ns).
    public var usage: Duration?
    /// v2 `user_usec`; v1 `cpuacct.stat` user (USER_HZ ticks).
    public var userTime: Duration?
    /// v2 `system_usec`; v1 `cpuacct.stat` system.
    public var systemTime: Duration?
    /// Enforcement periods that had runnable tasks.
    public var periods: UInt64?
    /// Periods in which the group was throttled.
    public var throttledPeriods: UInt64?
    /// v2 `throttled_usec`; v1 `throttled_time` (ns).
    public var throttledTime: Duration?
    /// `nr_bursts`.
    public var bursts: UInt64?
    /// v2 `burst_usec`; v1 `burst_time` (ns).
    public var burstTime: Duration?
    /// v1 `cpuacct.usage_percpu`, per CPU.
    public var perCPUUsage: [Duration]?
}

/// Memory use: `memory.current`/`memory.usage_in_bytes`, `memory.stat`, `memory.events`.
public struct MemoryStats: Hashable, Sendable, Codable {
    /// v2 `memory.current`; v1 `memory.usage_in_bytes`.
    public var current: MemorySize?
    public var swapCurrent: MemorySize?
    /// Every `memory.stat` key as the kernel names it, with the kernel's raw number (bytes for
    /// sizes, counts for events; v1 and v2 differ: `rss` vs `anon`).
    public var stat: [String: UInt64]
    /// `memory.events` (v2): low, high, max, oom, oom_kill, oom_group_kill.
    public var events: [String: UInt64]
    /// Times the OOM killer ran in the group (v2 `memory.events` oom_kill; v1 `memory.oom_control` oom_kill).
    public var oomKills: UInt64? { events["oom_kill"] }
    /// Times the limit was hit and reclaim failed (v2 `oom`; v1 has no equivalent).
    public var ooms: UInt64? { events["oom"] }
}

/// Per-device I/O counters.
public struct IODeviceStats: Hashable, Sendable, Codable {
    public var device: DeviceNumber
    public var bytesRead: MemorySize?
    public var bytesWritten: MemorySize?
    public var readIOs: UInt64?
    public var writeIOs: UInt64?
    public var bytesDiscarded: MemorySize?
    public var discardIOs: UInt64?
}

/// One line of a PSI file: `some avg10=0.00 avg60=0.00 avg300=0.00 total=123`.
public struct PressureLine: Hashable, Sendable, Codable {
    public var avg10: Double
    public var avg60: Double
    public var avg300: Double
    /// Total stall time.
    public var total: Duration
}

/// `cpu.pressure`, `memory.pressure` or `io.pressure` (v2 only).
public struct Pressure: Hashable, Sendable, Codable {
    public var some: PressureLine?
    public var full: PressureLine?
}

/// Every statistic of one cgroup, each file read once.
public struct CgroupStats: Hashable, Sendable, Codable {
    public var cpu: CPUStats?
    public var memory: MemoryStats?
    public var io: [IODeviceStats]?
    public var pidsCurrent: UInt64?
    public var cpuPressure: Pressure?
    public var memoryPressure: Pressure?
    public var ioPressure: Pressure?
}

/// Which statistics to read.
public enum StatsScope: Sendable {
    /// Everything (a guest's top cgroup).
    case full
    /// CPU time, throttling and CPU pressure only (vCPU and emulator children).
    case cpu
}

extension CgroupSystem {
    /// Reads the cgroup's statistics; every file at most once. Missing files are nil.
    @available(*, noasync, message: "blocking reads; use stats(of:scope:)")
    public func statsSync(of cgroup: Cgroup, scope: StatsScope = .full) throws(CgroupError) -> CgroupStats {
        try fs.withDirectoryBatch { (fs) throws(CgroupError) in try CgroupSystem(fs: fs, layout: layout).readStats(of: cgroup, scope: scope) }
    }

    private func readStats(of cgroup: Cgroup, scope: StatsScope) throws(CgroupError) -> CgroupStats {
        var s = CgroupStats()
        let unifiedDir = cgroup.unifiedDirectory(in: layout)

        // CPU: the cpu controller's cpu.stat, plus v1 cpuacct and, on hybrid hosts, the
        // v2 cpu.stat core fields (usage) when the group is in the v2 tree too.
        var cpu = CPUStats()
        var sawCPU = false
        var cpuStatDir: String?
        if let dir = cgroup.directory(for: .cpu, in: layout), let text = try optionalRead(dir + "/cpu.stat") {
            cpuStatDir = dir
            try mergeCPUStat(text, file: dir + "/cpu.stat", into: &cpu)
            sawCPU = true
        }
        if let u = unifiedDir, u != cpuStatDir, let text = try optionalRead(u + "/cpu.stat") {
            try mergeCPUStat(text, file: u + "/cpu.stat", into: &cpu)
            sawCPU = true
        }
        if layout.version(of: .cpuacct) == .v1, let dir = cgroup.directory(for: .cpuacct, in: layout) {
            if let t = try optionalRead(dir + "/cpuacct.usage"), cpu.usage == nil {
                cpu.usage = .nanoseconds(unsigned: try number(t, dir + "/cpuacct.usage"))
                sawCPU = true
            }
            if let t = try optionalRead(dir + "/cpuacct.stat") {
                let kv = try keyed(t, file: dir + "/cpuacct.stat")
                // USER_HZ ticks: whole seconds plus the remainder, so no tick count overflows.
                let hz = UInt64(max(1, sysconf(Int32(_SC_CLK_TCK))))
                func ticks(_ n: UInt64) -> Duration { .seconds(Int64(n / hz)) + .nanoseconds(Int64(n % hz * 1_000_000_000 / hz)) }
                if cpu.userTime == nil, let u = kv["user"] { cpu.userTime = ticks(u) }
                if cpu.systemTime == nil, let v = kv["system"] { cpu.systemTime = ticks(v) }
                sawCPU = true
            }
            if let t = try optionalRead(dir + "/cpuacct.usage_percpu") {
                var per: [Duration] = []
                var bad: String?
                Scan.withBytes(t) { buf in
                    _ = Scan.fields(buf, 0..<buf.count, separators: [0x20, 0x0A]) { f in
                        guard let n = Scan.uint(buf, f) else { bad = Scan.string(buf, f); return false }
                        per.append(.nanoseconds(unsigned: n))
                        return true
                    }
                }
                if let bad { throw .malformed(file: dir + "/cpuacct.usage_percpu", line: RootedFileReader.quote(bad), reason: "not a number") }
                cpu.perCPUUsage = per
            }
        }
        if sawCPU { s.cpu = cpu }
        if let u = unifiedDir { s.cpuPressure = try pressure(u + "/cpu.pressure") }
        if scope == .cpu { return s }

        if let dir = cgroup.directory(for: .memory, in: layout) {
            var m = MemoryStats(stat: [:], events: [:])
            var saw = false
            if layout.version(of: .memory) == .v2 {
                if let t = try optionalRead(dir + "/memory.current") { m.current = MemorySize(bytes: try number(t, dir + "/memory.current")); saw = true }
                if let t = try optionalRead(dir + "/memory.swap.current") { m.swapCurrent = MemorySize(bytes: try number(t, dir + "/memory.swap.current")) }
                if let t = try optionalRead(dir + "/memory.events") { m.events = try keyed(t, file: dir + "/memory.events"); saw = true }
            } else {
                if let t = try optionalRead(dir + "/memory.usage_in_bytes") { m.current = MemorySize(bytes: try number(t, dir + "/memory.usage_in_bytes")); saw = true }
                if let t = try optionalRead(dir + "/memory.oom_control") {
                    // "oom_kill_disable 0 / under_oom 0 / oom_kill N"
                    let kv = try keyed(t, file: dir + "/memory.oom_control")
                    if let k = kv["oom_kill"] { m.events["oom_kill"] = k }
                    saw = true
                }
            }
            if let t = try optionalRead(dir + "/memory.stat") { m.stat = try keyed(t, file: dir + "/memory.stat"); saw = true }
            if layout.version(of: .memory) == .v1, let swap = m.stat["swap"] { m.swapCurrent = MemorySize(bytes: swap) }
            if saw { s.memory = m }
        }
        if let u = unifiedDir { s.memoryPressure = try pressure(u + "/memory.pressure") }

        if let dir = cgroup.directory(for: .blkio, in: layout) {
            if layout.version(of: .blkio) == .v2 {
                if let t = try optionalRead(dir + "/io.stat") { s.io = try ioStatV2(t, file: dir + "/io.stat") }
            } else {
                let bytes = try optionalRead(dir + "/blkio.throttle.io_service_bytes")
                let ios = try optionalRead(dir + "/blkio.throttle.io_serviced")
                if bytes != nil || ios != nil {
                    s.io = try ioStatV1(bytes: bytes ?? "", ios: ios ?? "", file: dir + "/blkio.throttle.io_service_bytes")
                }
            }
        }
        if let u = unifiedDir { s.ioPressure = try pressure(u + "/io.pressure") }

        if let dir = cgroup.directory(for: .pids, in: layout), let t = try optionalRead(dir + "/pids.current") {
            s.pidsCurrent = try number(t, dir + "/pids.current")
        }
        return s
    }

    /// Statistics of a whole guest tree: full for the top, CPU-only for emulator, vCPUs and
    /// IOThreads. Keys are the labels of `GuestCgroups.all`.
    @available(*, noasync, message: "blocking reads; use guestStats(_:)")
    public func guestStatsSync(_ guest: GuestCgroups) throws(CgroupError) -> [String: CgroupStats] {
        // One batch for the tree: its files open relative to the top's directories.
        try fs.withDirectoryBatch { (fs) throws(CgroupError) in
            let sys = CgroupSystem(fs: fs, layout: layout)
            var out: [String: CgroupStats] = [:]
            for (label, cg) in guest.all {
                out[label] = try sys.readStats(of: cg, scope: label == "top" ? .full : .cpu)
            }
            return out
        }
    }

    // MARK: parsing helpers

    func optionalRead(_ file: String) throws(CgroupError) -> String? {
        do { return try fs.readIfPresent(file) } catch { throw .io(error) }
    }

    private func number(_ t: String, _ file: String) throws(CgroupError) -> UInt64 {
        let parsed: UInt64? = Scan.withBytes(t) { buf in Scan.uint(buf, Scan.trimmed(buf, 0..<buf.count)) }
        if let parsed { return parsed }
        let v = t.trimmingASCIIWhitespace()
        // Digits that do not fit are a range problem, anything else a syntax one.
        if !v.isEmpty, v.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            throw .outOfRange(file: file, value: RootedFileReader.quote(v), reason: "beyond 2^64-1")
        }
        throw .malformed(file: file, line: v, reason: "not a number")
    }

    /// `key value` lines (cpu.stat, memory.stat, memory.events…), each passed to `body`.
    func forEachKeyed(_ text: String, file: String, _ body: (String, UInt64) -> Void) throws(CgroupError) {
        var bad: String?
        Scan.withBytes(text) { buf in
            Scan.lines(buf) { line in
                guard let sp = line.first(where: { buf[$0] == 0x20 }), sp > line.lowerBound,
                      let v = Scan.uint(buf, (sp + 1)..<line.upperBound) else {
                    bad = Scan.string(buf, line)
                    return false
                }
                body(Scan.string(buf, line.lowerBound..<sp), v)
                return true
            }
        }
        if let bad { throw .malformed(file: file, line: bad, reason: "expected 'key number'") }
    }

    /// `key value` lines as a dictionary.
    func keyed(_ text: String, file: String) throws(CgroupError) -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        out.reserveCapacity(64)
        try forEachKeyed(text, file: file) { out[$0] = $1 }
        return out
    }

    /// Merges a v1 or v2 cpu.stat into `c`, keeping fields already set (the cpu
    /// controller's file is read first). No dictionary: this runs for every vCPU.
    private func mergeCPUStat(_ text: String, file: String, into c: inout CPUStats) throws(CgroupError) {
        var got = CPUStats()
        try forEachKeyed(text, file: file) { key, v in
            switch key {
            case "usage_usec": got.usage = .microseconds(unsigned: v)
            case "user_usec": got.userTime = .microseconds(unsigned: v)
            case "system_usec": got.systemTime = .microseconds(unsigned: v)
            case "nr_periods": got.periods = v
            case "nr_throttled": got.throttledPeriods = v
            case "throttled_usec": got.throttledTime = .microseconds(unsigned: v)
            case "throttled_time": got.throttledTime = .nanoseconds(unsigned: v)   // v1: ns
            case "nr_bursts": got.bursts = v
            case "burst_usec": got.burstTime = .microseconds(unsigned: v)
            case "burst_time": got.burstTime = .nanoseconds(unsigned: v)          // v1: ns
            default: break
            }
        }
        c.usage = c.usage ?? got.usage
        c.userTime = c.userTime ?? got.userTime
        c.systemTime = c.systemTime ?? got.systemTime
        // The throttling counters come from the cpu controller; the v2 core cpu.stat of a
        // hybrid host has them only when the v2 cpu controller is enabled.
        c.periods = c.periods ?? got.periods
        c.throttledPeriods = c.throttledPeriods ?? got.throttledPeriods
        c.throttledTime = c.throttledTime ?? got.throttledTime
        c.bursts = c.bursts ?? got.bursts
        c.burstTime = c.burstTime ?? got.burstTime
    }

    func pressure(_ file: String) throws(CgroupError) -> Pressure? {
        guard let text = try optionalRead(file) else { return nil }
        var bad: String?
        let p: Pressure = Scan.withBytes(text) { buf in
            var p = Pressure()
            Scan.lines(buf) { line in
                // "some avg10=0.00 avg60=0.00 avg300=0.00 total=123"; parsed in place, no
                // allocation (a pressure file is read for every vCPU).
                var kind: UInt8 = 0
                var a10: Double?, a60: Double?, a300: Double?, total: UInt64?
                var tokenStart = line.lowerBound
                var index = 0
                for j in line.lowerBound...line.upperBound where j == line.upperBound || buf[j] == 0x20 {
                    let tok = tokenStart..<j
                    tokenStart = j + 1
                    if tok.isEmpty { continue }
                    defer { index += 1 }
                    if index == 0 { kind = buf[tok.lowerBound]; continue }
                    guard let eq = tok.first(where: { buf[$0] == 0x3D }) else { continue }
                    let key = tok.lowerBound..<eq, v = (eq + 1)..<tok.upperBound
                    if Scan.equals(buf, key, "avg10") { a10 = Scan.decimal(buf, v) }
                    else if Scan.equals(buf, key, "avg60") { a60 = Scan.decimal(buf, v) }
                    else if Scan.equals(buf, key, "avg300") { a300 = Scan.decimal(buf, v) }
                    else if Scan.equals(buf, key, "total") { total = Scan.uint(buf, v) }
                }
                guard let a10, let a60, let a300, let total else {
                    bad = Scan.string(buf, line)
                    return false
                }
                let pl = PressureLine(avg10: a10, avg60: a60, avg300: a300, total: .microseconds(unsigned: total))
                if kind == UInt8(ascii: "s") { p.some = pl } else if kind == UInt8(ascii: "f") { p.full = pl }
                return true
            }
            return p
        }
        if let bad { throw .malformed(file: file, line: bad, reason: "expected 'some|full avg10= avg60= avg300= total='") }
        return p
    }

    func ioStatV2(_ text: String, file: String) throws(CgroupError) -> [IODeviceStats] {
        var out: [IODeviceStats] = []
        var bad: (line: String, reason: String)?
        Scan.withBytes(text) { buf in
            Scan.lines(buf) { line in
                // "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N"; unknown keys skipped.
                var d: IODeviceStats?
                let complete = Scan.fields(buf, line, separators: [0x20]) { f in
                    guard var dev = d else {
                        guard let number = DeviceNumber(utf8: UnsafeBufferPointer(rebasing: buf[f])) else {
                            bad = (Scan.string(buf, line), "expected 'MAJ:MIN key=value…'")
                            return false
                        }
                        d = IODeviceStats(device: number)
                        return true
                    }
                    guard let eq = f.first(where: { buf[$0] == 0x3D }), eq > f.lowerBound, let v = Scan.uint(buf, (eq + 1)..<f.upperBound) else {
                        bad = (Scan.string(buf, line), "bad '\(Scan.string(buf, f))'")
                        return false
                    }
                    let key = f.lowerBound..<eq
                    if Scan.equals(buf, key, "rbytes") { dev.bytesRead = MemorySize(bytes: v) }
                    else if Scan.equals(buf, key, "wbytes") { dev.bytesWritten = MemorySize(bytes: v) }
                    else if Scan.equals(buf, key, "rios") { dev.readIOs = v }
                    else if Scan.equals(buf, key, "wios") { dev.writeIOs = v }
                    else if Scan.equals(buf, key, "dbytes") { dev.bytesDiscarded = MemorySize(bytes: v) }
                    else if Scan.equals(buf, key, "dios") { dev.discardIOs = v }
                    d = dev
                    return true
                }
                guard complete else { return false }
                guard let d else {
                    bad = (Scan.string(buf, line), "expected 'MAJ:MIN key=value…'")
                    return false
                }
                out.append(d)
                return true
            }
        }
        if let bad { throw .malformed(file: file, line: bad.line, reason: bad.reason) }
        return out
    }

    func ioStatV1(bytes: String, ios: String, file: String) throws(CgroupError) -> [IODeviceStats] {
        var byDev: [DeviceNumber: IODeviceStats] = [:]
        var bad: String?
        func parse(_ text: String, _ isBytes: Bool) {
            Scan.withBytes(text) { buf in
                Scan.lines(buf) { line in
                    // "MAJ:MIN Op N" lines, then "Total N".
                    var f: [Range<Int>] = []
                    _ = Scan.fields(buf, line, separators: [0x20]) { f.append($0); return f.count <= 3 }
                    if f.count == 2, Scan.equals(buf, f[0], "Total") { return true }
                    guard f.count == 3, let dev = DeviceNumber(utf8: UnsafeBufferPointer(rebasing: buf[f[0]])),
                          let v = Scan.uint(buf, f[2]) else {
                        bad = Scan.string(buf, line)
                        return false
                    }
                    var d = byDev[dev] ?? IODeviceStats(device: dev)
                    let op = f[1]
                    switch isBytes {
                    case true where Scan.equals(buf, op, "Read"): d.bytesRead = MemorySize(bytes: v)
                    case true where Scan.equals(buf, op, "Write"): d.bytesWritten = MemorySize(bytes: v)
                    case true where Scan.equals(buf, op, "Discard"): d.bytesDiscarded = MemorySize(bytes: v)
                    case false where Scan.equals(buf, op, "Read"): d.readIOs = v
                    case false where Scan.equals(buf, op, "Write"): d.writeIOs = v
                    case false where Scan.equals(buf, op, "Discard"): d.discardIOs = v
                    default: break
                    }
                    byDev[dev] = d
                    return true
                }
            }
        }
        parse(bytes, true)
        if bad == nil { parse(ios, false) }
        if let bad { throw .malformed(file: file, line: bad, reason: "expected 'MAJ:MIN Op N'") }
        return byDev.values.sorted { $0.device < $1.device }
    }
}

extension IODeviceStats {
    init(device: DeviceNumber) { self.device = device }
}
