import VirtCore

/// NUMA nodes (`/sys/devices/system/node`). JSON key `numa`.
public struct NUMAInfo: Sendable, Hashable, Codable {
    public var nodes: [NUMANode]
    /// True when the kernel exposes no `node` directory (non-NUMA kernel): one node 0
    /// holds every CPU and `/proc/meminfo`'s memory, as hwloc and libvirt present it.
    public var synthesized: Bool
    /// `node/online`, `node/possible`, `node/has_memory`, `node/has_cpu`.
    public var online: NodeSet?
    public var possible: NodeSet?
    public var withMemory: NodeSet?
    public var withCPUs: NodeSet?
    /// Nodes this process's cpuset allows (`cpuset.mems`), when known.
    public var allowedNodes: NodeSet?

    public func node(_ id: Int) -> NUMANode? { nodes.first { $0.id == id } }
}

/// One NUMA node.
public struct NUMANode: Sendable, Hashable, Codable {
    public var id: Int
    public var cpus: CPUSet
    /// `nodeN/meminfo` MemTotal / MemFree / MemUsed.
    public var memTotal: MemorySize?
    public var memFree: MemorySize?
    public var memUsed: MemorySize?
    /// `nodeN/distance`: the SLIT row, one entry per node in id order.
    public var distances: [Int]
    /// `nodeN/hugepages/hugepages-<size>kB`, ascending size.
    public var hugepages: [HugepagePool]
    /// For a CPU-less node (CXL, NVDIMM, HBM memory tiers): the CPUs it is local to, found
    /// as hwloc does — the CPUs of its best CPU initiators (`nodeN/access1/initiators`,
    /// ACPI HMAT), else of the CPU nodes at the smallest SLIT distance.
    public var localCPUs: CPUSet?
}

/// A hugepage pool of one page size (global `/sys/kernel/mm/hugepages` or per node).
public struct HugepagePool: Sendable, Hashable, Codable {
    /// The page size (`hugepages-<size>kB`).
    public var size: MemorySize
    /// `nr_hugepages`
    public var total: UInt64?
    /// `free_hugepages`
    public var free: UInt64?
    /// `resv_hugepages` (global pools only): promised to mappings but not yet faulted.
    public var reserved: UInt64?
    /// `surplus_hugepages`
    public var surplus: UInt64?
    /// `nr_overcommit_hugepages` (global pools only).
    public var overcommit: UInt64?
}

/// Host memory: `/proc/meminfo`, hugepages, THP, KSM, swap, zswap. JSON key `memory`.
public struct MemoryInfo: Sendable, Hashable, Codable {
    /// Every `/proc/meminfo` line as the kernel writes it (a mirror): KiB for `kB` lines,
    /// counts for `HugePages_*`. The typed accessors below convert.
    public var meminfo: [String: UInt64]
    public var hugepages: [HugepagePool]
    /// `Hugepagesize` from meminfo: the size `vm.nr_hugepages` allocates.
    public var defaultHugepageSize: MemorySize?
    public var transparentHugepages: TransparentHugepages?
    public var ksm: KSMInfo?
    public var swaps: [SwapArea]
    public var zswap: ZswapInfo?

    public var total: MemorySize? { kib("MemTotal") }
    public var available: MemorySize? { kib("MemAvailable") }
    public var swapTotal: MemorySize? { kib("SwapTotal") }
    public var swapFree: MemorySize? { kib("SwapFree") }
    /// A `kB` line; nil when absent or beyond 2^64 bytes (`probeMemory` notes that).
    func kib(_ key: String) -> MemorySize? { meminfo[key].flatMap(MemorySize.exactKiB) }
}

/// A `[bracketed]` choice from sysfs: `always [madvise] never`.
public struct SysfsChoice: Sendable, Hashable, Codable, CustomStringConvertible {
    public var active: String?
    public var available: [String]
    public var description: String { active ?? "?" }

    public init(parsing text: String) {
        var act: String?
        var all: [String] = []
        for w in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            if w.hasPrefix("["), w.hasSuffix("]") {
                let name = String(w.dropFirst().dropLast())
                act = name
                all.append(name)
            } else {
                all.append(String(w))
            }
        }
        self.active = act
        self.available = all
    }
}

/// `/sys/kernel/mm/transparent_hugepage`.
public struct TransparentHugepages: Sendable, Hashable, Codable {
    public var enabled: SysfsChoice?
    public var defrag: SysfsChoice?
    public var shmemEnabled: SysfsChoice?
    public var khugepagedDefrag: Bool?
    public var khugepagedPagesToScan: UInt64?
    public var khugepagedScanSleep: Duration?
    public var khugepagedFullScans: UInt64?
    public var khugepagedPagesCollapsed: UInt64?
}

/// `/sys/kernel/mm/ksm`: kernel same-page merging (guest memory deduplication).
public struct KSMInfo: Sendable, Hashable, Codable {
    /// `run`: 0 stopped, 1 running, 2 unmerge all.
    public var run: Int?
    public var pagesShared: UInt64?
    public var pagesSharing: UInt64?
    public var pagesUnshared: UInt64?
    public var pagesVolatile: UInt64?
    public var fullScans: UInt64?
    /// `merge_across_nodes`: 1 lets KSM merge pages of different NUMA nodes.
    public var mergeAcrossNodes: Int?
    /// `sleep_millisecs`.
    public var sleep: Duration?
    public var pagesToScan: UInt64?
}

/// One line of `/proc/swaps`.
public struct SwapArea: Sendable, Hashable, Codable {
    public var path: String
    public var type: String
    public var size: MemorySize?
    public var used: MemorySize?
    public var priority: Int?
}

/// `/sys/module/zswap/parameters` plus meminfo `Zswap`/`Zswapped`.
public struct ZswapInfo: Sendable, Hashable, Codable {
    public var enabled: Bool?
    public var compressor: String?
    public var zpool: String?
    public var maxPoolPercent: Int?
    /// Compressed pool size and the uncompressed size it stores (kernel ≥ 5.19).
    public var poolSize: MemorySize?
    public var storedSize: MemorySize?
}

extension HostProber {
    /// `hugepages-2048kB` → 2048.
    static func hugepageSize(_ name: String) -> UInt64? {
        guard name.hasPrefix("hugepages-"), name.hasSuffix("kB") else { return nil }
        return UInt64(name.dropFirst("hugepages-".count).dropLast(2))
    }

    static func probeHugepagePools(_ ctx: ProbeContext, _ dir: String, global: Bool, what: String) -> [HugepagePool] {
        var out: [HugepagePool] = []
        for e in ctx.list(dir, what) {
            guard let size = hugepageSize(e.name) else { continue }
            let d = dir + "/" + e.name
            let w = "\(what) \(size) KiB pages"
            guard let bytes = MemorySize.exactKiB(size) else {
                ctx.note("\(what) page size", d, .outOfRange("\(size) KiB is beyond 2^64 bytes"))
                continue
            }
            var p = HugepagePool(size: bytes)
            p.total = ctx.uint64(d + "/nr_hugepages", w + " total", required: true)
            p.free = ctx.uint64(d + "/free_hugepages", w + " free", required: true)
            p.surplus = ctx.uint64(d + "/surplus_hugepages", w + " surplus")
            if global {
                p.reserved = ctx.uint64(d + "/resv_hugepages", w + " reserved")
                p.overcommit = ctx.uint64(d + "/nr_overcommit_hugepages", w + " overcommit")
            }
            out.append(p)
        }
        return out.sorted { $0.size < $1.size }
    }

    static func probeNUMA(_ ctx: ProbeContext, nodeCPUs: [(id: Int, cpus: CPUSet)]?, onlineCPUs: () -> CPUSet) -> NUMAInfo {
        let d = nodeDir
        guard let nodeCPUs else {
            // No NUMA in sysfs: one node with everything, as hwloc and libvirt show it.
            let mem = ctx.text("/proc/meminfo", "memory size", required: true).map(parseMeminfo)
            let pools = probeHugepagePools(ctx, "/sys/kernel/mm/hugepages", global: false, what: "hugepages")
            let node = NUMANode(id: 0, cpus: onlineCPUs(), memTotal: ctx.kib(mem?["MemTotal"], "memory size", "/proc/meminfo"),
                                memFree: ctx.kib(mem?["MemFree"], "free memory", "/proc/meminfo"),
                                memUsed: nil, distances: [10], hugepages: pools)
            return NUMAInfo(nodes: [node], synthesized: true)
        }
        var info = NUMAInfo(nodes: [], synthesized: false)
        func nodeList(_ name: String) -> NodeSet? {
            guard let s = ctx.line(d + "/" + name, "NUMA \(name) nodes") else { return nil }
            do { return try NodeSet(parsing: s, allowEmpty: true) } catch {
                ctx.note("NUMA \(name) nodes", d + "/" + name, .garbled(error.description))
                return nil
            }
        }
        info.online = nodeList("online")
        info.possible = nodeList("possible")
        info.withMemory = nodeList("has_memory")
        info.withCPUs = nodeList("has_cpu")
        for (id, cpus) in nodeCPUs {
            let nd = d + "/node\(id)"
            var node = NUMANode(id: id, cpus: cpus, distances: [], hugepages: [])
            if let text = ctx.text(nd + "/meminfo", "NUMA node \(id) memory", required: true) {
                let m = parseMeminfo(text)
                node.memTotal = ctx.kib(m["MemTotal"], "NUMA node \(id) memory", nd + "/meminfo")
                node.memFree = ctx.kib(m["MemFree"], "NUMA node \(id) free memory", nd + "/meminfo")
                node.memUsed = ctx.kib(m["MemUsed"], "NUMA node \(id) used memory", nd + "/meminfo")
                if m["MemTotal"] == nil { ctx.note("NUMA node \(id) memory", nd + "/meminfo", .garbled("no MemTotal line")) }
            }
            if let s = ctx.line(nd + "/distance", "NUMA node \(id) distances", required: true) {
                let row = s.split(separator: " ").map { Int($0) }
                if row.contains(nil) {
                    ctx.note("NUMA node \(id) distances", nd + "/distance", .garbled("\(RootedFileReader.quote(s)) is not a list of integers"))
                } else {
                    node.distances = row.compactMap { $0 }
                }
            }
            node.hugepages = probeHugepagePools(ctx, nd + "/hugepages", global: false, what: "NUMA node \(id) hugepages")
            info.nodes.append(node)
        }
        let cpusByNode = Dictionary(nodeCPUs.map { ($0.id, $0.cpus) }, uniquingKeysWith: { a, _ in a })
        let ids = info.nodes.map(\.id)
        for i in info.nodes.indices where info.nodes[i].cpus.isEmpty {
            let node = info.nodes[i]
            if case .success(let entries) = ctx.reader.list(d + "/node\(node.id)/access1/initiators") {
                let local = entries.compactMap { numberedName($0.name, prefix: "node") }.reduce(CPUSet()) { $0.union(cpusByNode[$1] ?? []) }
                if !local.isEmpty { info.nodes[i].localCPUs = local; continue }
            }
            // No HMAT: the nearest nodes that have CPUs.
            guard node.distances.count == ids.count else { continue }
            let candidates = ids.indices.filter { ids[$0] != node.id && !(cpusByNode[ids[$0]] ?? []).isEmpty }
            guard let best = candidates.map({ node.distances[$0] }).min() else { continue }
            info.nodes[i].localCPUs = candidates.filter { node.distances[$0] == best }.reduce(CPUSet()) { $0.union(cpusByNode[ids[$1]] ?? []) }
        }
        return info
    }

    static func probeMemory(_ ctx: ProbeContext) -> MemoryInfo {
        let meminfo = ctx.text("/proc/meminfo", "memory counters", required: true).map(parseMeminfo) ?? [:]
        var m = MemoryInfo(meminfo: meminfo, hugepages: [], swaps: [])
        m.defaultHugepageSize = ctx.kib(meminfo["Hugepagesize"], "default hugepage size", "/proc/meminfo")
        for key in ["MemTotal", "MemAvailable", "SwapTotal", "SwapFree"] { _ = ctx.kib(meminfo[key], "meminfo \(key)", "/proc/meminfo") }
        m.hugepages = probeHugepagePools(ctx, "/sys/kernel/mm/hugepages", global: true, what: "hugepages")

        let thp = "/sys/kernel/mm/transparent_hugepage"
        if let enabled = ctx.line(thp + "/enabled", "THP mode") {
            var t = TransparentHugepages()
            t.enabled = SysfsChoice(parsing: enabled)
            t.defrag = ctx.line(thp + "/defrag", "THP defrag").map(SysfsChoice.init(parsing:))
            t.shmemEnabled = ctx.line(thp + "/shmem_enabled", "THP shmem").map(SysfsChoice.init(parsing:))
            t.khugepagedDefrag = ctx.int(thp + "/khugepaged/defrag", "khugepaged defrag").map { $0 != 0 }
            t.khugepagedPagesToScan = ctx.uint64(thp + "/khugepaged/pages_to_scan", "khugepaged pages_to_scan")
            t.khugepagedScanSleep = ctx.uint64(thp + "/khugepaged/scan_sleep_millisecs", "khugepaged scan sleep").map { .milliseconds(unsigned: $0) }
            t.khugepagedFullScans = ctx.uint64(thp + "/khugepaged/full_scans", "khugepaged full scans")
            t.khugepagedPagesCollapsed = ctx.uint64(thp + "/khugepaged/pages_collapsed", "khugepaged pages collapsed")
            m.transparentHugepages = t
        }

        let ksm = "/sys/kernel/mm/ksm"
        if let run = ctx.int(ksm + "/run", "KSM run") {
            var k = KSMInfo()
            k.run = run
            k.pagesShared = ctx.uint64(ksm + "/pages_shared", "KSM pages shared")
            k.pagesSharing = ctx.uint64(ksm + "/pages_sharing", "KSM pages sharing")
            k.pagesUnshared = ctx.uint64(ksm + "/pages_unshared", "KSM pages unshared")
            k.pagesVolatile = ctx.uint64(ksm + "/pages_volatile", "KSM pages volatile")
            k.fullScans = ctx.uint64(ksm + "/full_scans", "KSM full scans")
            k.mergeAcrossNodes = ctx.int(ksm + "/merge_across_nodes", "KSM merge across nodes")
            k.sleep = ctx.uint64(ksm + "/sleep_millisecs", "KSM sleep").map { .milliseconds(unsigned: $0) }
            k.pagesToScan = ctx.uint64(ksm + "/pages_to_scan", "KSM pages to scan")
            m.ksm = k
        }

        if let swaps = ctx.text("/proc/swaps", "swap areas") {
            for line in swaps.split(separator: "\n").dropFirst() {
                let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard f.count >= 5 else {
                    ctx.note("swap areas", "/proc/swaps", .garbled("line \(RootedFileReader.quote(line)) has \(f.count) fields"))
                    continue
                }
                m.swaps.append(SwapArea(path: String(f[0]).replacingOctalEscapes(), type: String(f[1]),
                                        size: ctx.kib(UInt64(f[2]), "swap size", "/proc/swaps"),
                                        used: ctx.kib(UInt64(f[3]), "swap used", "/proc/swaps"), priority: Int(f[4])))
            }
        }

        let zs = "/sys/module/zswap/parameters"
        if let enabled = ctx.line(zs + "/enabled", "zswap enabled") {
            var z = ZswapInfo()
            z.enabled = enabled == "Y" || enabled == "1"
            z.compressor = ctx.line(zs + "/compressor", "zswap compressor")
            z.zpool = ctx.line(zs + "/zpool", "zswap zpool")
            z.maxPoolPercent = ctx.int(zs + "/max_pool_percent", "zswap max pool percent")
            z.poolSize = m.kib("Zswap")
            z.storedSize = m.kib("Zswapped")
            m.zswap = z
        }
        return m
    }
}
