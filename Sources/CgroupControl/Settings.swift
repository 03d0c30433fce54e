import VirtCore

/// Per-device I/O limits as read back (`io.max` / `blkio.throttle.*_device`).
public struct IODeviceLimits: Hashable, Sendable, Codable {
    /// The device (`MAJ:MIN`).
    public var device: DeviceNumber
    /// Its limits; nil fields have no limit line.
    public var limits: IOLimits
}

/// The current values of a cgroup's knobs, in the same vocabulary as `CgroupChange`.
/// nil: the file does not exist here (controller absent, or not on this version).
public struct CgroupSettings: Hashable, Sendable, Codable {
    /// v2 `cpu.weight`, or v1 `cpu.shares` converted (see `CPUWeightConversion`).
    public var cpuWeight: Int?
    /// v1 `cpu.shares` as written.
    public var cpuShares: Int?
    /// v2 `cpu.max` first field; v1 `cpu.cfs_quota_us` (-1 = unlimited).
    public var cpuQuota: Limit<Duration>?
    /// v2 `cpu.max` second field; v1 `cpu.cfs_period_us`.
    public var cpuPeriod: Duration?
    /// v2 `cpu.max.burst`; v1 `cpu.cfs_burst_us`.
    public var cpuBurst: Duration?
    /// `cpuset.cpus` (empty: inherit, on v2).
    public var cpusetCPUs: CPUSet?
    /// v2 `cpuset.cpus.effective`; v1 `cpuset.effective_cpus`.
    public var cpusetCPUsEffective: CPUSet?
    /// `cpuset.mems`.
    public var cpusetMems: NodeSet?
    /// v2 `cpuset.mems.effective`; v1 `cpuset.effective_mems`.
    public var cpusetMemsEffective: NodeSet?
    /// v2 `cpuset.cpus.partition`.
    public var cpusetPartition: CpusetPartition?
    /// v2 `memory.max`; v1 `memory.limit_in_bytes`.
    public var memoryMax: Limit<MemorySize>?
    /// v2 `memory.high`; v1 `memory.soft_limit_in_bytes`.
    public var memoryHigh: Limit<MemorySize>?
    /// v2 `memory.low`.
    public var memoryLow: Limit<MemorySize>?
    /// v2 `memory.min`.
    public var memoryMin: Limit<MemorySize>?
    /// Swap alone (v2 `memory.swap.max`; v1 memsw − memory limit).
    public var swapMax: Limit<MemorySize>?
    /// v2 `io.weight` (or `io.bfq.weight`) default; v1 `blkio.weight` (or `blkio.bfq.weight`).
    public var ioWeight: Int?
    /// v2 `io.max`; v1 `blkio.throttle.{read,write}_{bps,iops}_device`.
    public var ioLimits: [IODeviceLimits]?
    /// `pids.max`.
    public var pidsMax: Limit<Int>?
}

extension CgroupSystem {
    /// Reads every knob `CgroupChange` can set.
    @available(*, noasync, message: "blocking reads; use settings(of:)")
    public func settingsSync(of cgroup: Cgroup) throws(CgroupError) -> CgroupSettings {
        var s = CgroupSettings()
        let cpuDir = cgroup.directory(for: .cpu, in: layout)
        func text(_ dir: String?, _ file: String) throws(CgroupError) -> String? {
            guard let dir else { return nil }
            return try optionalRead(dir + "/" + file)?.trimmingASCIIWhitespace()
        }
        func int(_ dir: String?, _ file: String) throws(CgroupError) -> Int64? {
            guard let t = try text(dir, file) else { return nil }
            guard let n = Int64(t) else {
                throw .malformed(file: (dir ?? "") + "/" + file, line: RootedFileReader.quote(t), reason: "not a number in Int64's range")
            }
            return n
        }
        func limitV2(_ dir: String?, _ file: String) throws(CgroupError) -> Limit<UInt64>? {
            guard let t = try text(dir, file) else { return nil }
            guard let l = Limit<UInt64>(cgroupText: t) else {
                throw .malformed(file: (dir ?? "") + "/" + file, line: RootedFileReader.quote(t), reason: "not 'max' or a number")
            }
            return l
        }
        func bytesV2(_ dir: String?, _ file: String) throws(CgroupError) -> Limit<MemorySize>? {
            try limitV2(dir, file).map { l in l.value.map { .limited(MemorySize(bytes: $0)) } ?? .unlimited }
        }
        func bytesV1(_ dir: String?, _ file: String) throws(CgroupError) -> Limit<MemorySize>? {
            guard let n = try int(dir, file) else { return nil }
            // "Unlimited" is PAGE_COUNTER_MAX pages: within a MiB of Int64.max.
            return n < 0 || n >= Int64.max - (1 << 20) ? .unlimited : .limited(MemorySize(bytes: UInt64(n)))
        }
        func micros(_ n: Int64, _ file: String) throws(CgroupError) -> Duration {
            guard n >= 0 else { throw .outOfRange(file: (cpuDir ?? "") + "/" + file, value: "\(n)", reason: "a negative time") }
            return .microseconds(n)
        }

        if layout.version(of: .cpu) == .v2 {
            s.cpuWeight = try int(cpuDir, "cpu.weight").map { Int($0) }
            if let t = try text(cpuDir, "cpu.max") {
                let f = t.split(separator: " ")
                guard f.count == 2, let p = Int64(f[1]) else {
                    throw .malformed(file: (cpuDir ?? "") + "/cpu.max", line: RootedFileReader.quote(t), reason: "expected 'QUOTA PERIOD'")
                }
                if f[0] == "max" { s.cpuQuota = .unlimited }
                else if let q = Int64(f[0]) { s.cpuQuota = .limited(try micros(q, "cpu.max")) }
                else { throw .malformed(file: (cpuDir ?? "") + "/cpu.max", line: RootedFileReader.quote(t), reason: "bad quota") }
                s.cpuPeriod = try micros(p, "cpu.max")
            }
            s.cpuBurst = try int(cpuDir, "cpu.max.burst").map { (n: Int64) throws(CgroupError) in try micros(n, "cpu.max.burst") }
        } else if cpuDir != nil {
            if let shares = try int(cpuDir, "cpu.shares") {
                guard let weight = Int(exactly: shares).flatMap(CPUWeightConversion.weight(fromShares:)) else {
                    throw .outOfRange(file: (cpuDir ?? "") + "/cpu.shares", value: RootedFileReader.quote("\(shares)"),
                                      reason: "outside the kernel's range 2...262144")
                }
                s.cpuShares = Int(shares)
                s.cpuWeight = weight
            }
            if let q = try int(cpuDir, "cpu.cfs_quota_us") { s.cpuQuota = q < 0 ? .unlimited : .limited(.microseconds(q)) }
            s.cpuPeriod = try int(cpuDir, "cpu.cfs_period_us").map { (n: Int64) throws(CgroupError) in try micros(n, "cpu.cfs_period_us") }
            s.cpuBurst = try int(cpuDir, "cpu.cfs_burst_us").map { (n: Int64) throws(CgroupError) in try micros(n, "cpu.cfs_burst_us") }
        }

        let cpusetDir = cgroup.directory(for: .cpuset, in: layout)
        func ids(_ file: String) throws(CgroupError) -> CPUSet? {
            guard let t = try text(cpusetDir, file) else { return nil }
            do { return try CPUSet(parsing: t, allowEmpty: true) } catch {
                throw .malformed(file: (cpusetDir ?? "") + "/" + file, line: t, reason: error.description)
            }
        }
        s.cpusetCPUs = try ids("cpuset.cpus")
        s.cpusetMems = try ids("cpuset.mems").map { NodeSet($0.ids) }
        if layout.version(of: .cpuset) == .v2 {
            s.cpusetCPUsEffective = try ids("cpuset.cpus.effective")
            s.cpusetMemsEffective = try ids("cpuset.mems.effective").map { NodeSet($0.ids) }
            s.cpusetPartition = try text(cpusetDir, "cpuset.cpus.partition").map { CpusetPartition(rawValue: String($0.split(separator: " ").first ?? "")) }
        } else {
            s.cpusetCPUsEffective = try ids("cpuset.effective_cpus")
            s.cpusetMemsEffective = try ids("cpuset.effective_mems").map { NodeSet($0.ids) }
        }

        let memDir = cgroup.directory(for: .memory, in: layout)
        if layout.version(of: .memory) == .v2 {
            s.memoryMax = try bytesV2(memDir, "memory.max")
            s.memoryHigh = try bytesV2(memDir, "memory.high")
            s.memoryLow = try bytesV2(memDir, "memory.low")
            s.memoryMin = try bytesV2(memDir, "memory.min")
            s.swapMax = try bytesV2(memDir, "memory.swap.max")
        } else if memDir != nil {
            s.memoryMax = try bytesV1(memDir, "memory.limit_in_bytes")
            s.memoryHigh = try bytesV1(memDir, "memory.soft_limit_in_bytes")
            if let memsw = try bytesV1(memDir, "memory.memsw.limit_in_bytes") {
                switch (memsw, s.memoryMax) {
                case (.limited(let total), .limited(let mem)?): s.swapMax = .limited(MemorySize(bytes: total >= mem ? total.bytes - mem.bytes : 0))
                default: s.swapMax = .unlimited
                }
            }
        }

        let ioDir = cgroup.directory(for: .blkio, in: layout)
        if layout.version(of: .blkio) == .v2 {
            let weightText = try text(ioDir, "io.weight")
            let bfqText = weightText == nil ? try text(ioDir, "io.bfq.weight") : nil
            if let t = weightText ?? bfqText,
               let line = t.split(separator: "\n").first(where: { $0.hasPrefix("default ") }) {
                s.ioWeight = Int(line.split(separator: " ").last ?? "")
            }
            if let t = try text(ioDir, "io.max") {
                var out: [IODeviceLimits] = []
                for line in t.split(separator: "\n") {
                    let f = line.split(separator: " ")
                    guard let first = f.first, let dev = DeviceNumber(String(first)) else {
                        throw .malformed(file: (ioDir ?? "") + "/io.max", line: String(line), reason: "expected 'MAJ:MIN key=value…'")
                    }
                    var l = IOLimits()
                    for kv in f.dropFirst() {
                        let p = kv.split(separator: "=", maxSplits: 1)
                        guard p.count == 2, let v = Limit<UInt64>(cgroupText: String(p[1])) else { continue }
                        switch p[0] {
                        case "rbps": l.readBytesPerSecond = v
                        case "wbps": l.writeBytesPerSecond = v
                        case "riops": l.readIOPS = v
                        case "wiops": l.writeIOPS = v
                        default: continue
                        }
                    }
                    out.append(IODeviceLimits(device: dev, limits: l))
                }
                s.ioLimits = out
            }
        } else if ioDir != nil {
            let w1 = try int(ioDir, "blkio.weight")
            let w2 = w1 == nil ? try int(ioDir, "blkio.bfq.weight") : nil
            if let w = w1 ?? w2 { s.ioWeight = Int(w) }
            var byDev: [DeviceNumber: IOLimits] = [:]
            var saw = false
            for (file, key) in [("blkio.throttle.read_bps_device", \IOLimits.readBytesPerSecond),
                                ("blkio.throttle.write_bps_device", \IOLimits.writeBytesPerSecond),
                                ("blkio.throttle.read_iops_device", \IOLimits.readIOPS),
                                ("blkio.throttle.write_iops_device", \IOLimits.writeIOPS)] {
                guard let t = try text(ioDir, file) else { continue }
                saw = true
                for line in t.split(separator: "\n") {
                    let f = line.split(separator: " ")
                    guard f.count == 2, let dev = DeviceNumber(String(f[0])), let v = UInt64(f[1]) else {
                        throw .malformed(file: (ioDir ?? "") + "/" + file, line: String(line), reason: "expected 'MAJ:MIN N'")
                    }
                    byDev[dev, default: IOLimits()][keyPath: key] = .limited(v)
                }
            }
            if saw { s.ioLimits = byDev.sorted { $0.key < $1.key }.map { IODeviceLimits(device: $0.key, limits: $0.value) } }
        }

        let pidsDir = cgroup.directory(for: .pids, in: layout)
        if let l = try limitV2(pidsDir, "pids.max") {
            guard let n = l.value.map({ Int(exactly: $0) }) else { s.pidsMax = .unlimited; return s }
            guard let n else { throw .outOfRange(file: (pidsDir ?? "") + "/pids.max", value: "\(l)", reason: "beyond Int's range") }
            s.pidsMax = .limited(n)
        }
        return s
    }
}
