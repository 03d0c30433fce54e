#if canImport(Glibc)
import Glibc
#endif
import VirtCore

/// Everything HostProbe knows about a host at one moment. Sections not asked for are nil.
public struct HostSnapshot: Sendable, Hashable, Codable {
    /// The root the snapshot was read under (`/` for the live host).
    public var root: String
    public var topology: HostCPUTopology?
    public var numa: NUMAInfo?
    public var memory: MemoryInfo?
    public var sysctls: SysctlInfo?
    public var kvm: KVMReadiness?
    public var pci: PCIInfo?
    public var block: BlockInfo?
    public var network: NetworkInfo?
    /// Sources that could not be used, in reading order.
    public var diagnostics: [ProbeDiagnostic]

    public init(root: String) {
        self.root = root
        self.diagnostics = []
    }

    public func diagnostics(for section: ProbeSection) -> [ProbeDiagnostic] {
        diagnostics.filter { $0.section == section }
    }
}

/// Why a root cannot be probed at all (a root that is there but lacks single files only
/// gives diagnostics).
public enum HostProbeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The root directory does not exist.
    case rootMissing(String)
    /// The root is not a directory.
    case rootNotADirectory(String)
    /// The root has no `sys/` directory: not a host tree.
    case rootHasNoSys(String)
    /// The root is one of the in-repo fixture trees used in place: its symlinks live in the
    /// manifest next to it and are missing from the tree, so every linked value would read
    /// wrong. Materialise it first (`FixtureTree.materialize`, see HostProbe.md).
    case fixtureNotMaterialized(manifest: String)
    /// The task was cancelled before the probe started.
    case cancelled

    public var description: String {
        switch self {
        case .rootMissing(let p): "root \(p) does not exist"
        case .rootNotADirectory(let p): "root \(p) is not a directory"
        case .rootHasNoSys(let p): "root \(p) has no sys/ directory: not a host tree"
        case .fixtureNotMaterialized(let m): "fixture tree used in place: its symlinks are listed in \(m); materialise it first (FixtureTree.materialize, see HostProbe.md)"
        case .cancelled: "cancelled before the probe started"
        }
    }
}

/// Reads a host's facts from `/sys` and `/proc` under a ``ProbeRoot``.
///
/// `snapshot` runs on `BlockingThreadPool.fileIO`, never on Swift's cooperative pool;
/// `snapshotSync` (`noasync`) does the same plain `open`/`read`/`close` calls on the
/// calling thread.
public struct HostProber: Sendable {
    public var root: ProbeRoot
    /// Extra sysctls (dotted names) to read besides ``Sysctl/virtualizationSet``; missing
    /// ones become diagnostics.
    public var extraSysctls: [String]

    public init(root: ProbeRoot = .live, extraSysctls: [String] = []) {
        self.root = root
        self.extraSysctls = extraSysctls
    }

    /// A probe of the directory `path` (a captured or extracted tree).
    public init(rootPath: String) { self.init(root: ProbeRoot(path: rootPath)) }

    /// Probes `sections` now, on the calling thread.
    @available(*, noasync, message: "blocking reads; use snapshot(sections:)")
    public func snapshotSync(sections: Set<ProbeSection> = Set(ProbeSection.allCases)) throws(HostProbeError) -> HostSnapshot {
        try run(SourceReader(root: root), sections: sections)
    }

    /// Probes `sections` on `BlockingThreadPool.fileIO` and returns the snapshot.
    public func snapshot(sections: Set<ProbeSection> = Set(ProbeSection.allCases)) async throws(HostProbeError) -> HostSnapshot {
        let probe = self
        do {
            return try await BlockingThreadPool.fileIO.run { () throws(HostProbeError) in try probe.snapshotSync(sections: sections) }
        } catch let e as HostProbeError {
            throw e
        } catch {
            throw .cancelled
        }
    }

    /// A root that does not exist, is not a directory or has no `sys/` is an error, not an
    /// empty host with a made-up node 0. Binds count: a bind at `/sys/…` provides `sys/`.
    func checkRoot(_ reader: SourceReader) throws(HostProbeError) {
        if root.isLive { return }
        if root.binds.contains(where: { $0.virtualPath == "/sys" || $0.virtualPath.hasPrefix("/sys/") }) { return }
        var st = stat()
        guard stat(root.path, &st) == 0 else { throw .rootMissing(root.path) }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw .rootNotADirectory(root.path) }
        guard reader.exists("/sys") else { throw .rootHasNoSys(root.path) }
        let manifest = root.path + ".symlinks"
        if let first = Self.firstManifestLink(manifest), lstat(root.path + first, &st) != 0 {
            throw .fixtureNotMaterialized(manifest: manifest)
        }
    }

    /// The first link path (`/sys/…`) of a fixture manifest (`path<TAB>target` lines), if any.
    static func firstManifestLink(_ manifest: String) -> String? {
        guard access(manifest, F_OK) == 0, let text = try? RootedFileReader(root: "/").readString(manifest) else { return nil }
        return text.split(separator: "\n").lazy.compactMap { $0.split(separator: "\t", maxSplits: 1).first.map(String.init) }.first
    }

    func run(_ reader: SourceReader, sections: Set<ProbeSection>) throws(HostProbeError) -> HostSnapshot {
        try checkRoot(reader)
        let ctx = ProbeContext(reader: reader)
        var snap = HostSnapshot(root: root.path)
        var nodeCPUs: [(id: Int, cpus: CPUSet)]?
        if sections.contains(.topology) || sections.contains(.numa) {
            ctx.section = .numa
            nodeCPUs = Self.readNodeCPUs(ctx)
        }
        if sections.contains(.topology) {
            ctx.section = .topology
            snap.topology = Self.probeTopology(ctx, nodeCPUs: nodeCPUs)
            // Non-NUMA kernel: every CPU is on the synthesized node 0.
            if nodeCPUs == nil, var t = snap.topology {
                for i in t.cpus.indices { t.cpus[i].node = 0 }
                snap.topology = t
            }
        }
        if sections.contains(.numa) {
            ctx.section = .numa
            let topo = snap.topology
            var numa = Self.probeNUMA(ctx, nodeCPUs: nodeCPUs) {
                if let topo { return topo.online }
                return ctx.cpuList(Self.cpuDir + "/online", "online CPUs") ?? CPUSet()
            }
            if sections.contains(.topology) {
                numa.allowedNodes = Self.probeCpuset(ctx).1
            }
            snap.numa = numa
        }
        if sections.contains(.memory) {
            ctx.section = .memory
            snap.memory = Self.probeMemory(ctx)
        }
        if sections.contains(.sysctls) {
            ctx.section = .sysctls
            snap.sysctls = Self.probeSysctls(ctx, extra: extraSysctls)
        }
        if sections.contains(.kvm) {
            ctx.section = .kvm
            var flags = snap.topology?.cpuinfo?.flags
            if flags == nil, case .success(let text) = reader.read("/proc/cpuinfo") { flags = Self.parseCPUInfo(text).flags }
            snap.kvm = Self.probeKVM(ctx, cpuFlags: flags)
        }
        if sections.contains(.pci) {
            ctx.section = .pci
            snap.pci = Self.probePCI(ctx)
        }
        if sections.contains(.block) {
            ctx.section = .block
            snap.block = Self.probeBlock(ctx)
        }
        if sections.contains(.network) {
            ctx.section = .network
            snap.network = Self.probeNetwork(ctx)
        }
        snap.diagnostics = ctx.diagnostics
        return snap
    }
}

extension HostSnapshot {
    /// libvirt's node info for this snapshot; needs the `topology` and `numa` sections.
    public var hostNodeInfo: HostNodeInfo? {
        guard let topo = topology, let numa else { return nil }
        let present = topo.present ?? CPUSet(topo.cpus.map(\.id))
        let online = topo.online
        let isS390 = topo.cpuinfo?.architecture == "s390"
        var offline = 0

        func parse(_ nodeCPUs: CPUSet) -> (cpus: Int, sockets: Int, cores: Int, threads: Int) {
            var sockets = Set<Int>()
            var coresBySocket: [Int: Set<Int>] = [:]
            var threads = 0
            var processors = 0
            for id in nodeCPUs where present.contains(id) {
                guard online.contains(id) else { offline += 1; continue }
                processors += 1
                let cpu = topo.cpu(id)
                let sock = cpu?.package ?? 0
                sockets.insert(sock)
                coresBySocket[sock, default: []].insert(isS390 ? id : (cpu?.core ?? 0))
                threads = max(threads, cpu?.threadSiblings.map { $0.count } ?? 1)
            }
            return (processors, sockets.count, coresBySocket.values.map(\.count).max() ?? 0, threads)
        }

        // A frequency no machine has (or NaN) from a hostile cpuinfo reads as unknown, 0.
        let mhz = topo.cpuinfo?.mhz.flatMap { $0.isFinite && $0 >= 0 && $0 < 1e9 ? Int($0) : nil } ?? 0
        var info = HostNodeInfo(cpus: 0, mhz: mhz, nodes: 0, sockets: 0, cores: 0, threads: 0)
        if !numa.synthesized {
            for node in numa.nodes {
                info.nodes += 1
                let r = parse(node.cpus)
                info.cpus += r.cpus
                info.sockets = max(info.sockets, r.sockets)
                info.cores = max(info.cores, r.cores)
                info.threads = max(info.threads, r.threads)
            }
        }
        if info.cpus == 0 || info.nodes == 0 {
            offline = 0
            let r = parse(CPUSet(topo.cpus.map(\.id)))
            info = HostNodeInfo(cpus: r.cpus, mhz: info.mhz, nodes: 1, sockets: r.sockets, cores: r.cores, threads: r.threads)
        }
        if info.maxCPUs != info.cpus + offline {
            info.nodes = 1
            info.sockets = 1
            info.cores = info.cpus + offline
            info.threads = 1
        }
        return info
    }
}
