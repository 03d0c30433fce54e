#if canImport(Glibc)
import Glibc
#endif
import VirtCore

/// One file write a change needs, with how to check it and how to undo it.
public struct PlannedWrite: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Host path of the control file.
    public var file: String
    /// What is written, as the kernel wants it.
    public var value: String
    /// The change it implements (`cpu quota 50000/100000`).
    public var change: String
    var check: ReadBack
    var restore: Restore

    public var description: String { "\(file) <- '\(value)'  (\(change))" }

    enum CodingKeys: String, CodingKey { case file, value, change }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        file = try c.decode(String.self, forKey: .file)
        value = try c.decode(String.self, forKey: .value)
        change = try c.decode(String.self, forKey: .change)
        check = .exact
        restore = .wholeFile
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(file, forKey: .file)
        try c.encode(value, forKey: .value)
        try c.encode(change, forKey: .change)
    }
    init(file: String, value: String, change: String, check: ReadBack, restore: Restore = .wholeFile) {
        self.file = file; self.value = value; self.change = change; self.check = check; self.restore = restore
    }
}

/// How a written value shows when read back.
enum ReadBack: Hashable, Sendable {
    /// The trimmed file equals the written value.
    case exact
    /// A v1 byte limit: the kernel rounds down to whole pages; `-1` reads back as a huge number.
    case bytesV1(UInt64?)
    /// A v2 byte limit: rounded down to whole pages, `max` stays `max`.
    case bytesV2(Limit<MemorySize>)
    /// An ID list compared as a set (the kernel prints ranges its own way).
    case idList(String)
    /// `cpu.max`: quota, and the period when it was written.
    case cpuMax(quota: Int64?, period: Int64?)
    /// `io.weight`: the `default` line.
    case ioWeightDefault(Int)
    /// `io.max`: the device's line has these key=value pairs.
    case ioMax(DeviceNumber, [String: String])
    /// v1 `blkio.throttle.*_device`: the device's value (0 = no line).
    case v1Device(DeviceNumber, UInt64)
    /// `cpuset.cpus.partition`: exactly the state written; the kernel appends a reason
    /// (`root invalid (…)`) when it accepted the write but cannot honour it.
    case partition(String)

    func matches(_ raw: String) -> Bool {
        let t = raw.trimmingASCIIWhitespace()
        let page = UInt64(max(1, sysconf(Int32(_SC_PAGESIZE))))
        switch self {
        case .exact:
            return true  // compared against the written value by the caller
        case .bytesV1(let want):
            guard let got = UInt64(t) else { return false }
            guard let want else { return got >= UInt64(Int64.max) - page }
            return got == want || got == want / page * page
        case .bytesV2(let want):
            switch want {
            case .unlimited: return t == "max"
            case .limited(let m): let v = m.bytes; guard let got = UInt64(t) else { return false }; return got == v || got == v / page * page
            }
        case .idList(let want):
            return (try? CPUSet(parsing: t, allowEmpty: true)) == (try? CPUSet(parsing: want, allowEmpty: true))
        case .cpuMax(let quota, let period):
            let f = t.split(separator: " ")
            guard f.count == 2, let p = Int64(f[1]) else { return false }
            let q: Int64? = f[0] == "max" ? nil : Int64(f[0])
            if f[0] != "max" && q == nil { return false }
            return q == quota && (period == nil || period == p)
        case .ioWeightDefault(let w):
            return t.split(separator: "\n").contains { $0.trimmingASCIIWhitespace() == "default \(w)" }
        case .ioMax(let dev, let want):
            guard let line = t.split(separator: "\n").first(where: { $0.hasPrefix("\(dev) ") }) else {
                return want.values.allSatisfy { $0 == "max" }
            }
            var have: [String: String] = [:]
            for kv in line.split(separator: " ").dropFirst() {
                let p = kv.split(separator: "=", maxSplits: 1)
                if p.count == 2 { have[String(p[0])] = String(p[1]) }
            }
            return want.allSatisfy { have[$0.key] == $0.value }
        case .v1Device(let dev, let want):
            let line = t.split(separator: "\n").first { $0.hasPrefix("\(dev) ") }
            let got = line.flatMap { UInt64($0.split(separator: " ").last ?? "") } ?? 0
            return got == want
        case .partition(let want):
            return t == want
        }
    }
}

/// How the earlier value of a file is written back.
enum Restore: Hashable, Sendable {
    /// The whole (trimmed) earlier content.
    case wholeFile
    /// The earlier first word (`cpuset.cpus.partition` appends a reason to invalid states).
    case firstWord
    /// `io.weight`: the earlier `default N` line.
    case ioWeightDefault
    /// `io.max`: the device's earlier line, or all `max` when it had none.
    case ioMaxDevice(DeviceNumber)
    /// v1 `blkio.throttle.*_device`: `MAJ:MIN old`, or `MAJ:MIN 0` to remove.
    case v1Device(DeviceNumber)

    func value(from raw: String) -> String {
        let t = raw.trimmingASCIIWhitespace()
        switch self {
        case .wholeFile:
            // An empty cpuset list is written back as a newline (a zero-byte write is a no-op).
            return t.isEmpty ? "\n" : t
        case .firstWord:
            return String(t.split(separator: " ").first ?? "member")
        case .ioWeightDefault:
            let line = t.split(separator: "\n").first { $0.hasPrefix("default ") }
            return line.map(String.init) ?? "default 100"
        case .ioMaxDevice(let dev):
            if let line = t.split(separator: "\n").first(where: { $0.hasPrefix("\(dev) ") }) { return String(line) }
            return "\(dev) rbps=max wbps=max riops=max wiops=max"
        case .v1Device(let dev):
            if let line = t.split(separator: "\n").first(where: { $0.hasPrefix("\(dev) ") }) { return String(line) }
            return "\(dev) 0"
        }
    }
}

extension CgroupSystem {
    /// Applies `changes` to `cgroup` as one transaction.
    ///
    /// Every change is validated first (nothing is written when one is invalid). Then, for
    /// each planned write: the file's current value is saved, the new value written, and
    /// read back. If a write fails or reads back differently, the writes already done are
    /// restored in reverse order and `CgroupError.transactionFailed` says which file,
    /// which value, the errno (EACCES, EINVAL, EBUSY…) and what the restore did.
    ///
    /// With `dryRun` the planned writes are returned and nothing is written.
    @discardableResult
    @available(*, noasync, message: "blocking writes; use apply(_:to:dryRun:)")
    public func applySync(_ changes: [CgroupChange], to cgroup: Cgroup, dryRun: Bool = false) throws(CgroupError) -> [PlannedWrite] {
        let writes = try planSync(changes, for: cgroup)
        if dryRun { return writes }
        var done: [(file: String, restore: String)] = []

        func rollback(_ write: PlannedWrite, _ reason: CgroupError.Reason) -> CgroupError {
            var restored: [String] = []
            var failures: [CgroupIOError] = []
            for (file, value) in done.reversed() {
                do { try fs.write(file, value); restored.append(file) } catch { failures.append(error) }
            }
            return .transactionFailed(TransactionFailure(failedWrite: write, reason: reason, restored: restored,
                                                         restoreErrors: failures))
        }

        for w in writes {
            let old: String
            do { old = try fs.read(w.file) } catch { throw rollback(w, .io(error)) }
            do { try fs.write(w.file, w.value) } catch { throw rollback(w, .io(error)) }
            done.append((w.file, w.restore.value(from: old)))
            let back: String
            do { back = try fs.read(w.file) } catch { throw rollback(w, .io(error)) }
            let ok = w.check == .exact ? back.trimmingASCIIWhitespace() == w.value.trimmingASCIIWhitespace() : w.check.matches(back)
            if !ok {
                throw rollback(w, .readBackMismatch(file: w.file, wrote: w.value, read: back.trimmingASCIIWhitespace()))
            }
        }
        return writes
    }

    /// Validates `changes` and turns them into file writes for this host's cgroup versions,
    /// in the order they must happen. Reads only what validation needs (the parent's
    /// effective cpuset, the current v1 memory limit for memsw).
    @available(*, noasync, message: "blocking reads; use plan(_:for:)")
    public func planSync(_ changes: [CgroupChange], for cgroup: Cgroup) throws(CgroupError) -> [PlannedWrite] {
        var out: [PlannedWrite] = []
        var memsw: PlannedWrite?
        var newV1MemoryLimit: UInt64??   // nil: not changed here; .some(nil): unlimited
        for change in changes {
            switch change {
            case .cpuWeight(let w):
                guard LibvirtRanges.cpuWeight.contains(w) else {
                    throw .invalidValue(knob: change.knob, value: "\(w)", reason: "must be within \(LibvirtRanges.cpuWeight)")
                }
                let (dir, v) = try directory(.cpu, cgroup)
                if v == .v2 {
                    out.append(PlannedWrite(file: dir + "/cpu.weight", value: "\(w)", change: change.description, check: .exact))
                } else {
                    out.append(PlannedWrite(file: dir + "/cpu.shares", value: "\(CPUWeightConversion.shares(fromWeight: w) ?? 1024)",
                                            change: change.description, check: .exact))
                }
            case .cpuShares(let s):
                guard LibvirtRanges.cpuShares.contains(s) else {
                    throw .invalidValue(knob: change.knob, value: "\(s)", reason: "must be within \(LibvirtRanges.cpuShares)")
                }
                let (dir, v) = try directory(.cpu, cgroup)
                if v == .v2 {
                    out.append(PlannedWrite(file: dir + "/cpu.weight", value: "\(CPUWeightConversion.weight(fromShares: s) ?? 100)",
                                            change: change.description, check: .exact))
                } else {
                    out.append(PlannedWrite(file: dir + "/cpu.shares", value: "\(s)", change: change.description, check: .exact))
                }
            case .cpuBandwidth(let quota, let periodDuration):
                var q: Int64?
                if case .limited(let d) = quota {
                    q = try microseconds(d, within: LibvirtRanges.cpuQuota, knob: change.knob)
                }
                let period = try periodDuration.map { (d: Duration) throws(CgroupError) -> Int64 in
                    try microseconds(d, within: LibvirtRanges.cpuPeriod, knob: "cpu period")
                }
                let (dir, v) = try directory(.cpu, cgroup)
                if v == .v2 {
                    let value = (q.map(String.init) ?? "max") + (period.map { " \($0)" } ?? "")
                    out.append(PlannedWrite(file: dir + "/cpu.max", value: value, change: change.description,
                                            check: .cpuMax(quota: q, period: period)))
                } else {
                    if let p = period {
                        out.append(PlannedWrite(file: dir + "/cpu.cfs_period_us", value: "\(p)", change: change.description, check: .exact))
                    }
                    out.append(PlannedWrite(file: dir + "/cpu.cfs_quota_us", value: q.map(String.init) ?? "-1",
                                            change: change.description, check: .exact))
                }
            case .cpuBurst(let burst):
                let b = try microseconds(burst, within: .zero...LibvirtRanges.cpuQuota.upperBound, knob: change.knob)
                let (dir, v) = try directory(.cpu, cgroup)
                out.append(PlannedWrite(file: dir + (v == .v2 ? "/cpu.max.burst" : "/cpu.cfs_burst_us"), value: "\(b)",
                                        change: change.description, check: .exact))
            case .cpusetCPUs(let cpus):
                out.append(try cpusetWrite(cpus, file: "cpuset.cpus", v1: "cpuset.effective_cpus", v2: "cpuset.cpus.effective", change, cgroup))
            case .cpusetMems(let mems):
                out.append(try cpusetWrite(mems, file: "cpuset.mems", v1: "cpuset.effective_mems", v2: "cpuset.mems.effective", change, cgroup))
            case .cpusetPartition(let p):
                let (dir, v) = try directory(.cpuset, cgroup)
                guard v == .v2 else { throw .unsupported(knob: change.knob, version: v) }
                if case .other(let s) = p { throw .invalidValue(knob: change.knob, value: s, reason: "must be member, root or isolated") }
                out.append(PlannedWrite(file: dir + "/cpuset.cpus.partition", value: p.rawValue, change: change.description,
                                        check: .partition(p.rawValue), restore: .firstWord))
            case .memoryMax(let l), .memoryHigh(let l), .memoryLow(let l), .memoryMin(let l):
                try validateBytes(l, change)
                let (dir, v) = try directory(.memory, cgroup)
                if v == .v2 {
                    let file = switch change { case .memoryMax: "memory.max"; case .memoryHigh: "memory.high"
                                               case .memoryLow: "memory.low"; default: "memory.min" }
                    out.append(PlannedWrite(file: dir + "/" + file, value: l.cgroupText(\.bytes), change: change.description, check: .bytesV2(l)))
                } else {
                    let file: String
                    switch change {
                    case .memoryMax: file = "memory.limit_in_bytes"
                    case .memoryHigh: file = "memory.soft_limit_in_bytes"
                    default: throw .unsupported(knob: change.knob, version: .v1)
                    }
                    let n = l.value?.bytes
                    if case .memoryMax = change { newV1MemoryLimit = .some(n) }
                    out.append(PlannedWrite(file: dir + "/" + file, value: n.map(String.init) ?? "-1", change: change.description,
                                            check: .bytesV1(n)))
                }
            case .swapMax(let l):
                try validateBytes(l, change)
                let (dir, v) = try directory(.memory, cgroup)
                if v == .v2 {
                    guard fs.exists(dir + "/memory.swap.max") else { throw .controllerUnavailable("memory.swap.max (no swap accounting)") }
                    out.append(PlannedWrite(file: dir + "/memory.swap.max", value: l.cgroupText(\.bytes), change: change.description, check: .bytesV2(l)))
                } else {
                    guard fs.exists(dir + "/memory.memsw.limit_in_bytes") else {
                        throw .controllerUnavailable("memory.memsw.limit_in_bytes (swap accounting is off)")
                    }
                    // memsw is memory + swap; it is written after the loop, once the memory max is known.
                    memsw = PlannedWrite(file: dir + "/memory.memsw.limit_in_bytes", value: l.cgroupText(\.bytes), change: change.description, check: .exact)
                }
            case .ioWeight(let w):
                let (dir, v) = try directory(.blkio, cgroup)
                if v == .v2 {
                    guard LibvirtRanges.ioWeightV2.contains(w) else {
                        throw .invalidValue(knob: change.knob, value: "\(w)", reason: "must be within \(LibvirtRanges.ioWeightV2) on cgroup v2")
                    }
                    if fs.exists(dir + "/io.weight") {
                        out.append(PlannedWrite(file: dir + "/io.weight", value: "default \(w)", change: change.description,
                                                check: .ioWeightDefault(w), restore: .ioWeightDefault))
                    } else if fs.exists(dir + "/io.bfq.weight") {
                        out.append(PlannedWrite(file: dir + "/io.bfq.weight", value: "default \(w)", change: change.description,
                                                check: .ioWeightDefault(w), restore: .ioWeightDefault))
                    } else {
                        throw .controllerUnavailable("io.weight (no I/O cost model or BFQ scheduler)")
                    }
                } else {
                    guard LibvirtRanges.blkioWeightV1.contains(w) else {
                        throw .invalidValue(knob: change.knob, value: "\(w)", reason: "must be within \(LibvirtRanges.blkioWeightV1) on cgroup v1")
                    }
                    let file = fs.exists(dir + "/blkio.weight") ? "blkio.weight" : "blkio.bfq.weight"
                    guard fs.exists(dir + "/" + file) else { throw .controllerUnavailable("blkio.weight (no proportional I/O scheduler)") }
                    out.append(PlannedWrite(file: dir + "/" + file, value: "\(w)", change: change.description, check: .exact))
                }
            case .ioLimit(let dev, let limits):
                let fields = limits.fields
                if fields.isEmpty { throw .invalidValue(knob: change.knob, value: dev.description, reason: "no limit given") }
                let (dir, v) = try directory(.blkio, cgroup)
                if v == .v2 {
                    let value = "\(dev) " + fields.map { "\($0.key)=\($0.value.cgroupText { $0 })" }.joined(separator: " ")
                    out.append(PlannedWrite(file: dir + "/io.max", value: value, change: change.description,
                                            check: .ioMax(dev, Dictionary(fields.map { ($0.key, $0.value.cgroupText { $0 }) }, uniquingKeysWith: { $1 })),
                                            restore: .ioMaxDevice(dev)))
                } else {
                    for f in fields {
                        // v1 spells "no limit" 0.
                        let n: UInt64 = f.value.value ?? 0
                        out.append(PlannedWrite(file: dir + "/" + f.v1File, value: "\(dev) \(n)", change: change.description,
                                                check: .v1Device(dev, n), restore: .v1Device(dev)))
                    }
                }
            case .pidsMax(let l):
                if case .limited(let n) = l, n < 0 || n > LibvirtRanges.pidsMax {
                    throw .invalidValue(knob: change.knob, value: "\(n)", reason: "must be within 0...\(LibvirtRanges.pidsMax) (the kernel's PID_MAX_LIMIT)")
                }
                let (dir, _) = try directory(.pids, cgroup)
                out.append(PlannedWrite(file: dir + "/pids.max", value: l.cgroupText { UInt64($0) }, change: change.description, check: .exact))
            }
        }
        if var m = memsw {
            // v1 memsw = memory limit + swap; both unlimited when either is.
            let dir = String(m.file.dropLast("/memory.memsw.limit_in_bytes".count))
            let memLimit: UInt64?
            if let planned = newV1MemoryLimit { memLimit = planned }
            else { memLimit = try currentV1Bytes(dir + "/memory.limit_in_bytes") }
            let swap = Limit<UInt64>(cgroupText: m.value)
            var total: UInt64? = nil
            if let memLimit, case .limited(let s)? = swap { total = memLimit.addingReportingOverflow(s).overflow ? nil : memLimit + s }
            m.value = total.map(String.init) ?? "-1"
            m.check = .bytesV1(total)
            // The kernel requires limit <= memsw at every step: raise memsw first, lower it last.
            let currentMemsw = try currentV1Bytes(m.file)
            if let idx = out.firstIndex(where: { $0.file.hasSuffix("/memory.limit_in_bytes") }),
               (newV1MemoryLimit ?? nil).map({ $0 > (currentMemsw ?? UInt64.max) }) ?? true {
                out.insert(m, at: idx)
            } else {
                out.append(m)
            }
        }
        return out
    }

    /// `cpuset.cpus` / `cpuset.mems`: non-empty and within the parent's effective set.
    private func cpusetWrite<K: IDSetKind>(_ ids: IDSet<K>, file: String, v1: String, v2: String, _ change: CgroupChange,
                                           _ cgroup: Cgroup) throws(CgroupError) -> PlannedWrite {
        let (dir, _) = try directory(.cpuset, cgroup)
        if ids.isEmpty { throw .invalidValue(knob: change.knob, value: "", reason: "an empty \(K.noun) set leaves the tasks nothing to use") }
        if let parent = try parentEffective(dir, v1: v1, v2: v2) {
            let allowed = IDSet<K>(parent.ids)
            if !ids.isSubset(of: allowed) {
                throw .invalidValue(knob: change.knob, value: ids.listString,
                                    reason: "\(K.noun)s \(ids.subtracting(allowed).listString) are not in the parent's effective set \(allowed.listString)")
            }
        }
        return PlannedWrite(file: dir + "/" + file, value: ids.listString, change: change.description, check: .idList(ids.listString))
    }

    private func validateBytes(_ l: Limit<MemorySize>, _ change: CgroupChange) throws(CgroupError) {
        if case .limited(let n) = l, n > LibvirtRanges.memoryMax {
            throw .invalidValue(knob: change.knob, value: "\(n.bytes)", reason: "exceeds libvirt's maximum of \(LibvirtRanges.memoryMax.bytes) bytes")
        }
    }

    /// A span as the whole microseconds cgroup files take, within `range`.
    private func microseconds(_ d: Duration, within range: ClosedRange<Duration>, knob: String) throws(CgroupError) -> Int64 {
        guard let us = d.exactMicroseconds else {
            throw .invalidValue(knob: knob, value: "\(d)", reason: "must be a whole number of microseconds")
        }
        guard range.contains(d) else {
            throw .invalidValue(knob: knob, value: "\(us) µs",
                                reason: "must be within \(range.lowerBound.exactMicroseconds ?? 0)...\(range.upperBound.exactMicroseconds ?? 0) µs")
        }
        return us
    }

    /// The controller's directory for `cgroup` and its version; a typed error when absent.
    func directory(_ c: Controller, _ cgroup: Cgroup) throws(CgroupError) -> (String, CgroupVersion) {
        guard let h = layout.hierarchy(for: c) else { throw .controllerUnavailable(c.rawValue) }
        guard let dir = cgroup.directory(for: c, in: layout) else { throw .controllerUnavailable("\(c.rawValue) (the cgroup has no path in its hierarchy)") }
        return (dir, h.version)
    }

    /// The parent's effective CPU (or node) list, nil at the hierarchy root or when unreadable.
    private func parentEffective(_ dir: String, v1: String, v2: String) throws(CgroupError) -> CPUSet? {
        guard let slash = dir.lastIndex(of: "/") else { return nil }
        let parent = String(dir[..<slash])
        guard layout.hierarchies.contains(where: { parent == $0.mountPoint || parent.hasPrefix($0.mountPoint + "/") }),
              !layout.hierarchies.contains(where: { $0.mountPoint == dir }) else { return nil }
        let text = (try? fs.readIfPresent(parent + "/" + v2)) ?? nil
        guard let raw = text ?? ((try? fs.readIfPresent(parent + "/" + v1)) ?? nil) else { return nil }
        return try? CPUSet(parsing: raw.trimmingASCIIWhitespace(), allowEmpty: true)
    }

    private func currentV1Bytes(_ file: String) throws(CgroupError) -> UInt64? {
        let raw: String
        do { raw = try fs.read(file) } catch { throw .io(error) }
        let t = raw.trimmingASCIIWhitespace()
        guard let n = UInt64(t) else {
            if t == "-1" { return nil }
            throw .malformed(file: file, line: t, reason: "not a byte count")
        }
        // v1 prints "unlimited" as PAGE_COUNTER_MAX pages, just under Int64.max.
        return n >= UInt64(Int64.max) - 1 << 20 ? nil : n
    }
}
