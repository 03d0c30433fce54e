#if canImport(Glibc)
import Glibc
#endif
import VirtCore

/// The logical CPUs of the host and what they share (`/sys/devices/system/cpu`,
/// `/proc/cpuinfo`). JSON key `topology`.
public struct HostCPUTopology: Sendable, Hashable, Codable {
    /// Every CPU with a `cpuN` directory, ascending.
    public var cpus: [LogicalCPU]
    /// `cpu/possible`, `cpu/present`, `cpu/online`, `cpu/offline` as the kernel lists them.
    public var possible: CPUSet?
    public var present: CPUSet?
    public var online: CPUSet
    public var offline: CPUSet?
    /// `cpu/isolated` (`isolcpus=`) and `cpu/nohz_full` (`nohz_full=`): CPUs kept free for vCPUs.
    public var isolated: CPUSet?
    public var nohzFull: CPUSet?
    /// `cpu/smt/active`: SMT siblings running.
    public var smtActive: Bool?
    /// The CPUs and nodes this process's cpuset allows (`/proc/self/cpuset` + cgroup
    /// mount), as hwloc restricts its view; nil when there is no cpuset restriction info.
    public var allowedCPUs: CPUSet?
    public var cpusetPath: String?
    /// `/proc/cpuinfo` summary.
    public var cpuinfo: CPUInfo?

    /// Packages (sockets) with at least one online CPU.
    public var packageCount: Int { Set(cpus.filter(\.online).compactMap(\.package)).count }
    /// Physical cores with an online CPU: distinct thread-sibling sets (what hwloc calls a
    /// Core), or distinct (package, die, core id) when siblings are unknown.
    public var coreCount: Int {
        Set(cpus.filter(\.online).map { c in
            c.threadSiblings.map { "s" + $0.intersection(online).listString } ?? "\(c.package ?? -1)/\(c.die ?? -1)/\(c.core ?? c.id)"
        }).count
    }
    public func cpu(_ id: Int) -> LogicalCPU? {
        // `cpus` is sorted by id; most hosts number densely.
        if id >= 0, id < cpus.count, cpus[id].id == id { return cpus[id] }
        return cpus.first { $0.id == id }
    }
}

/// One logical CPU (`/sys/devices/system/cpu/cpuN`).
public struct LogicalCPU: Sendable, Hashable, Codable {
    public var id: Int
    /// `cpuN/online`; CPUs without that file (cpu0 on most kernels) are online when
    /// listed in `cpu/online` or when that file is absent too.
    public var online: Bool
    /// `topology/physical_package_id` (nil when the kernel reports -1 or the file is absent).
    public var package: Int?
    /// `topology/die_id` (kernel ≥ 5.2).
    public var die: Int?
    /// `topology/cluster_id` (kernel ≥ 5.16; ARM clusters, Intel L2 clusters).
    public var cluster: Int?
    /// `topology/core_id` (unique within a package only).
    public var core: Int?
    /// NUMA node holding this CPU (`node/nodeN/cpulist`).
    public var node: Int?
    /// `topology/thread_siblings_list`: hyperthreads of this core.
    public var threadSiblings: CPUSet?
    /// `topology/core_siblings_list` (`package_cpus_list`): CPUs in this package.
    public var coreSiblings: CPUSet?
    /// `cache/indexK`, L1d first.
    public var caches: [HostCPUCache]
    /// `cpufreq/…` when the CPU has a cpufreq policy.
    public var cpufreq: CPUFreq?

    public init(id: Int, online: Bool) {
        self.id = id
        self.online = online
        self.caches = []
    }
}

/// One cache a CPU uses (`cpuN/cache/indexK`).
public struct HostCPUCache: Sendable, Hashable, Codable {
    public var level: Int?
    /// `Data`, `Instruction`, `Unified` (other values kept as written).
    public var type: String?
    public var size: MemorySize?
    public var sharedCPUs: CPUSet?
    public var lineSize: Int?
    public var ways: Int?
    /// `id`: the cache instance id within its level (kernel ≥ 4.14).
    public var id: Int?
}

/// `cpuN/cpufreq`: the frequency policy of a CPU.
public struct CPUFreq: Sendable, Hashable, Codable {
    public var governor: String?
    public var driver: String?
    public var minKHz: UInt64?
    public var maxKHz: UInt64?
    public var currentKHz: UInt64?
    public var hardwareMinKHz: UInt64?
    public var hardwareMaxKHz: UInt64?
    /// `energy_performance_preference` (intel_pstate/amd-pstate active mode).
    public var energyPerformancePreference: String?
}

/// What `/proc/cpuinfo` says about the processors.
public struct CPUInfo: Sendable, Hashable, Codable {
    /// `x86`, `arm`, `ia64`, `ppc`, `s390`, … or `.other("…")` guessed from the keys.
    public var architecture: String
    public var vendor: String?
    public var modelName: String?
    public var family: String?
    public var model: String?
    public var stepping: String?
    /// The first frequency cpuinfo reports (x86 `cpu MHz`, POWER `clock`, s390
    /// `cpu MHz dynamic`), as libvirt reads it.
    public var mhz: Double?
    /// `processor` blocks (CPUs the kernel lists, online ones).
    public var processorCount: Int
    /// Union of the `flags`/`Features` words of every processor, sorted.
    public var flags: [String]
    /// `vmx` (Intel VT-x) or `svm` (AMD-V) in the flags.
    public var hardwareVirtualization: String?
    /// `hypervisor` flag: this host is itself a guest (nested virtualization).
    public var runsUnderHypervisor: Bool

    public func hasFlag(_ f: String) -> Bool { flags.contains(f) }
}

extension HostProber {
    static let cpuDir = "/sys/devices/system/cpu"
    static let nodeDir = "/sys/devices/system/node"

    /// NUMA nodes and their CPUs from `node/nodeN/cpulist` (or `cpumap`, or the `cpuN`
    /// entries in the node directory on the oldest kernels). Nil without a node directory.
    static func readNodeCPUs(_ ctx: ProbeContext) -> [(id: Int, cpus: CPUSet)]? {
        let entries: [DirEntry]
        switch ctx.reader.list(nodeDir) {
        case .success(let e): entries = e
        case .failure(.missing): return nil
        case .failure(let f):
            // A node directory that is there but cannot be read (a link loop, no permission)
            // is not a non-NUMA kernel: say so instead of inventing node 0 silently.
            ctx.note("NUMA nodes", nodeDir, f)
            return nil
        }
        var out: [(Int, CPUSet)] = []
        for e in entries {
            guard let id = numberedName(e.name, prefix: "node") else { continue }
            let dir = nodeDir + "/" + e.name
            var cpus: CPUSet?
            switch ctx.reader.readTrimmed(dir + "/cpulist") {
            case .success(let s):
                do { cpus = try CPUSet(parsing: s, allowEmpty: true) } catch {
                    ctx.note("NUMA node \(id) CPUs", dir + "/cpulist", .garbled(error.description))
                }
            case .failure(.missing):
                switch ctx.reader.readTrimmed(dir + "/cpumap") {
                case .success(let s):
                    cpus = parseHexMask(s)
                    if cpus == nil { ctx.note("NUMA node \(id) CPUs", dir + "/cpumap", .garbled("'\(s.prefix(40))' is not a hex CPU mask")) }
                case .failure(.missing):
                    cpus = CPUSet(ctx.list(dir, "NUMA node \(id) directory").compactMap { numberedName($0.name, prefix: "cpu") })
                case .failure(let f):
                    ctx.note("NUMA node \(id) CPUs", dir + "/cpumap", f)
                }
            case .failure(let f):
                ctx.note("NUMA node \(id) CPUs", dir + "/cpulist", f)
            }
            out.append((id, cpus ?? CPUSet()))
        }
        out.sort { $0.0 < $1.0 }
        return out
    }

    static func probeTopology(_ ctx: ProbeContext, nodeCPUs: [(id: Int, cpus: CPUSet)]?) -> HostCPUTopology {
        let d = cpuDir
        let entries = ctx.list(d, "CPU directory", required: true)
        let ids = entries.compactMap { numberedName($0.name, prefix: "cpu") }.sorted()
        let onlineFile = ctx.cpuList(d + "/online", "online CPUs")
        var topo = HostCPUTopology(cpus: [], online: CPUSet())
        topo.possible = ctx.cpuList(d + "/possible", "possible CPUs")
        topo.present = ctx.cpuList(d + "/present", "present CPUs")
        topo.offline = ctx.cpuList(d + "/offline", "offline CPUs")
        topo.isolated = ctx.cpuList(d + "/isolated", "isolated CPUs")
        topo.nohzFull = ctx.cpuList(d + "/nohz_full", "nohz_full CPUs")
        if let smt = ctx.line(d + "/smt/active", "SMT active") { topo.smtActive = smt == "1" }

        var nodeOf: [Int: Int] = [:]
        for (node, cpus) in nodeCPUs ?? [] { for c in cpus where nodeOf[c] == nil { nodeOf[c] = node } }

        var online = CPUSet()
        topo.cpus.reserveCapacity(ids.count)
        for id in ids {
            let cd = d + "/cpu\(id)"
            var isOnline: Bool
            if let onlineFile {
                isOnline = onlineFile.contains(id)
            } else if let v = ctx.line(cd + "/online", "CPU \(id) online") {
                // Some old kernels leave the file empty for online CPUs (hwloc's 128ia64 archive).
                isOnline = v != "0"
            } else {
                isOnline = true
            }
            var cpu = LogicalCPU(id: id, online: isOnline)
            let t = cd + "/topology"
            if let p = ctx.int(t + "/physical_package_id", "CPU \(id) package id"), p >= 0 { cpu.package = p }
            if let v = ctx.int(t + "/die_id", "CPU \(id) die id"), v >= 0 { cpu.die = v }
            if let v = ctx.int(t + "/cluster_id", "CPU \(id) cluster id"), v >= 0 { cpu.cluster = v }
            if let v = ctx.int(t + "/core_id", "CPU \(id) core id"), v >= 0 { cpu.core = v }
            cpu.threadSiblings = ctx.cpuListOrMask(t, anyOf: ["thread_siblings", "core_cpus"], "CPU \(id) thread siblings")
            cpu.coreSiblings = ctx.cpuListOrMask(t, anyOf: ["core_siblings", "package_cpus"], "CPU \(id) core siblings")
            cpu.node = nodeOf[id]
            if isOnline {
                cpu.caches = probeCaches(ctx, cd + "/cache", cpu: id)
                cpu.cpufreq = probeCPUFreq(ctx, cd + "/cpufreq", cpu: id)
            }
            if isOnline { online.insert(id) }
            topo.cpus.append(cpu)
        }
        topo.online = onlineFile ?? online
        topo.cpuinfo = probeCPUInfo(ctx)
        (topo.allowedCPUs, _, topo.cpusetPath) = probeCpuset(ctx)
        return topo
    }

    static func probeCaches(_ ctx: ProbeContext, _ dir: String, cpu: Int) -> [HostCPUCache] {
        guard case .success(let entries) = ctx.reader.list(dir) else { return [] }
        var out: [HostCPUCache] = []
        for e in entries where numberedName(e.name, prefix: "index") != nil {
            let id = dir + "/" + e.name
            var c = HostCPUCache()
            let what = "CPU \(cpu) cache \(e.name)"
            c.level = ctx.int(id + "/level", what + " level")
            c.type = ctx.line(id + "/type", what + " type")
            if let s = ctx.line(id + "/size", what + " size") {
                // "32K", "1024K", "8M"
                if let size = try? MemorySize(parsing: s, defaultUnit: .KiB) { c.size = size } else {
                    ctx.note(what + " size", id + "/size", .garbled("\(RootedFileReader.quote(s)) is not a size"))
                }
            }
            c.sharedCPUs = ctx.cpuListOrMask(id, "shared_cpu", what + " shared CPUs")
            if c.sharedCPUs == nil { c.sharedCPUs = ctx.cpuMask(id + "/shared_cpu_map", what + " shared CPUs") }
            c.lineSize = ctx.int(id + "/coherency_line_size", what + " line size")
            c.ways = ctx.int(id + "/ways_of_associativity", what + " ways")
            c.id = ctx.int(id + "/id", what + " id")
            out.append(c)
        }
        return out
    }

    static func probeCPUFreq(_ ctx: ProbeContext, _ dir: String, cpu: Int) -> CPUFreq? {
        // One read decides whether the policy exists at all (VMs and fixtures have none).
        let governor: String?
        switch ctx.reader.read(dir + "/scaling_governor") {
        case .success(let s): governor = s.trimmingASCIIWhitespace()
        case .failure(.missing):
            guard ctx.reader.exists(dir) else { return nil }
            governor = nil
        case .failure(let f):
            ctx.note("CPU \(cpu) cpufreq governor", dir + "/scaling_governor", f)
            governor = nil
        }
        var f = CPUFreq()
        let what = "CPU \(cpu) cpufreq"
        f.governor = governor
        f.driver = ctx.line(dir + "/scaling_driver", what + " driver")
        f.minKHz = ctx.uint64(dir + "/scaling_min_freq", what + " min")
        f.maxKHz = ctx.uint64(dir + "/scaling_max_freq", what + " max")
        f.currentKHz = ctx.uint64(dir + "/scaling_cur_freq", what + " current")
        f.hardwareMinKHz = ctx.uint64(dir + "/cpuinfo_min_freq", what + " hardware min")
        f.hardwareMaxKHz = ctx.uint64(dir + "/cpuinfo_max_freq", what + " hardware max")
        f.energyPerformancePreference = ctx.line(dir + "/energy_performance_preference", what + " EPP")
        return f
    }

    /// Parses `/proc/cpuinfo` (all architectures' spellings).
    static func probeCPUInfo(_ ctx: ProbeContext) -> CPUInfo? {
        guard let text = ctx.text("/proc/cpuinfo", "CPU model and flags", required: true) else { return nil }
        return parseCPUInfo(text)
    }

    /// Parses the text of `/proc/cpuinfo`. Works on bytes: a 256-CPU host has ~5000 lines,
    /// and only the first block's keys, the flags and the first frequency matter.
    public static func parseCPUInfo(_ text: String) -> CPUInfo {
        var first: [String: String] = [:]
        var flags = Set<String>()
        var processors = 0
        var mhz: Double?
        var lastFlags: [UInt8] = []
        var copy = text
        copy.withUTF8 { buf in
            func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }
            func equals(_ lit: StaticString, _ s: Int, _ e: Int) -> Bool {
                lit.utf8CodeUnitCount == e - s && memcmp(lit.utf8Start, buf.baseAddress! + s, e - s) == 0
            }
            func string(_ s: Int, _ e: Int) -> String { String(decoding: UnsafeBufferPointer(rebasing: buf[s..<e]), as: UTF8.self) }
            var i = 0
            let n = buf.count
            var inFirstBlock = true
            while i < n {
                var eol = i
                while eol < n, buf[eol] != 0x0A { eol += 1 }
                defer { i = eol + 1 }
                if eol == i { if processors > 0 { inFirstBlock = false }; continue }
                var colon = i
                while colon < eol, buf[colon] != UInt8(ascii: ":") { colon += 1 }
                guard colon < eol else { continue }
                var ks = i, ke = colon
                while ks < ke, isSpace(buf[ks]) { ks += 1 }
                while ke > ks, isSpace(buf[ke - 1]) { ke -= 1 }
                var vs = colon + 1, ve = eol
                while vs < ve, isSpace(buf[vs]) { vs += 1 }
                while ve > vs, isSpace(buf[ve - 1]) { ve -= 1 }
                if equals("processor", ks, ke) {
                    processors += 1
                    if processors > 1 { inFirstBlock = false }
                } else if equals("flags", ks, ke) || equals("Features", ks, ke) || equals("features", ks, ke) {
                    // Every CPU usually repeats the same line: compare bytes before splitting.
                    let same = ve > vs && lastFlags.count == ve - vs
                        && lastFlags.withUnsafeBufferPointer { old in old.baseAddress.map { memcmp($0, buf.baseAddress! + vs, ve - vs) == 0 } ?? false }
                    if !same {
                        lastFlags = Array(buf[vs..<ve])
                        for w in string(vs, ve).split(separator: " ") { flags.insert(String(w)) }
                    }
                } else if mhz == nil, equals("cpu MHz", ks, ke) || equals("clock", ks, ke) || equals("cpu MHz dynamic", ks, ke) {
                    // POWER writes "3690.000000MHz".
                    var e = vs
                    while e < ve, buf[e] == UInt8(ascii: ".") || (buf[e] >= 0x30 && buf[e] <= 0x39) { e += 1 }
                    mhz = Double(string(vs, e))
                }
                if inFirstBlock {
                    let key = string(ks, ke)
                    if first[key] == nil { first[key] = string(vs, ve) }
                }
            }
        }
        let arch: String
        if first["vendor_id"] == "IBM/S390" || first["vendor_id"]?.hasPrefix("IBM/S390") == true {
            arch = "s390"
        } else if first["arch"] == "IA-64" || first["family"] == "Itanium 2" || first["family"]?.hasPrefix("Itanium") == true {
            arch = "ia64"
        } else if first["vendor_id"] != nil || flags.contains("fpu") && first["cpu family"] != nil {
            arch = "x86"
        } else if first["CPU implementer"] != nil || first["CPU architecture"] != nil {
            arch = "arm"
        } else if let cpu = first["cpu"], cpu.hasPrefix("POWER") || cpu.hasPrefix("PPC") || cpu.contains("Cell") || first["platform"] != nil {
            arch = "ppc"
        } else if first["cpu"] == "PA-RISC" || first["cpu family"]?.hasPrefix("PA-RISC") == true {
            arch = "parisc"
        } else {
            arch = "unknown"
        }
        var info = CPUInfo(architecture: arch, processorCount: processors, flags: flags.sorted(), runsUnderHypervisor: flags.contains("hypervisor"))
        info.vendor = first["vendor_id"] ?? first["vendor"] ?? first["CPU implementer"]
        info.modelName = first["model name"] ?? first["cpu model"] ?? first["cpu"] ?? first["Processor"]
        info.family = first["cpu family"] ?? first["family"]
        info.model = first["model"]
        info.stepping = first["stepping"]
        info.mhz = mhz
        info.hardwareVirtualization = flags.contains("vmx") ? "vmx" : flags.contains("svm") ? "svm" : (arch == "s390" && flags.contains("sie") ? "sie" : nil)
        return info
    }

    /// The cpuset this process is confined to, found as hwloc does: the path from
    /// `/proc/self/cgroup` (cgroup v2 `0::` line or the v1 `cpuset` line) or
    /// `/proc/self/cpuset`, joined to the cgroup2 / cgroup-cpuset / legacy `cpuset` mount
    /// from `/proc/mounts`.
    static func probeCpuset(_ ctx: ProbeContext) -> (CPUSet?, NodeSet?, String?) {
        guard let mounts = ctx.text("/proc/mounts", "mount table") else { return (nil, nil, nil) }
        var path: String?
        var v2 = false
        if let cg = ctx.text("/proc/self/cgroup", "process cgroups") {
            for line in cg.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                guard parts.count == 3 else { continue }
                if parts[1].split(separator: ",").contains("cpuset") { path = String(parts[2]); v2 = false; break }
                if parts[0] == "0", parts[1].isEmpty { path = String(parts[2]); v2 = true }
            }
        }
        if path == nil, let p = ctx.line("/proc/self/cpuset", "process cpuset") { path = p }
        guard let path else { return (nil, nil, nil) }
        // Mount points: cgroup2, cgroup with the cpuset option, or the legacy cpuset fs.
        var cgroup2: String?, cgroup1: String?, legacy: String?
        for line in mounts.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count >= 4 else { continue }
            let mnt = String(f[1]).replacingOctalEscapes()
            let opts = f[3].split(separator: ",")
            switch f[2] {
            case "cgroup2": if cgroup2 == nil { cgroup2 = mnt }
            // `noprefix` cpuset cgroups name their files `cpus`/`mems`, like the legacy fs.
            case "cgroup" where opts.contains("cpuset") && opts.contains("noprefix"): legacy = mnt
            case "cgroup" where opts.contains("cpuset"): cgroup1 = mnt
            case "cpuset": legacy = mnt
            default: break
            }
        }
        let sub = path == "/" ? "" : path
        var files: [(cpus: String, mems: String)] = []
        if let cgroup1, !v2 {
            // hwloc reads the configured v1 sets, not `cpuset.effective_*`.
            files.append(("\(cgroup1)\(sub)/cpuset.cpus", "\(cgroup1)\(sub)/cpuset.mems"))
        }
        if let legacy { files.append(("\(legacy)\(sub)/cpus", "\(legacy)\(sub)/mems")) }
        if let cgroup2 { files.append(("\(cgroup2)\(sub)/cpuset.cpus.effective", "\(cgroup2)\(sub)/cpuset.mems.effective")) }
        for (c, m) in files {
            guard case .success(let cs) = ctx.reader.read(c) else { continue }
            let cpus = try? CPUSet(parsing: cs.trimmingASCIIWhitespace(), allowEmpty: true)
            var mems: NodeSet?
            if case .success(let ms) = ctx.reader.read(m) {
                mems = try? NodeSet(parsing: ms.trimmingASCIIWhitespace(), allowEmpty: true)
            }
            if cpus == nil { ctx.note("process cpuset CPUs", c, .garbled("not a CPU list")) }
            return (cpus, mems, path)
        }
        return (nil, nil, path)
    }
}

extension String {
    /// `/proc/mounts` writes spaces in paths as `\040`.
    func replacingOctalEscapes() -> String {
        guard contains("\\") else { return self }
        var out = [UInt8]()
        let b = Array(utf8)
        var i = 0
        while i < b.count {
            if b[i] == 0x5C, i + 3 < b.count, let v = UInt8(String(decoding: b[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(v)
                i += 4
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
