import CgroupControl
import HostProbe
import Libvirt
import LibvirtJoins
import Logging
import Tuning
import VirtCore

/// Figures of one running guest read from this machine's files, not from libvirt.
public struct GuestHostFigures: Sendable {
    /// `cpu.stat` of each of the guest's cgroups by `GuestCgroups.all` label (`top`,
    /// `emulator`, `vcpu0`, …): CPU bandwidth periods and throttling.
    public var cpu: [(cgroup: String, stats: CPUStats)] = []
    /// Pressure stall information of the guest's top cgroup (cgroup v2 / the unified
    /// hierarchy of a hybrid host; nil when the kernel has no PSI there).
    public var cpuPressure: Pressure?
    public var ioPressure: Pressure?
    public var memoryPressure: Pressure?
    /// Hugetlb memory of the QEMU process per host NUMA node (`/proc/PID/numa_maps`), read
    /// only for guests whose definition asks for hugepages.
    public var hugepageBytesPerNode: [Int: UInt64]?
}

/// Facts about the guests of a libvirt daemon that runs on this machine, read from `/sys`
/// and `/proc`: each guest's cgroups (found once per guest start through LibvirtJoins'
/// `GuestLocator`, cached by UUID and domain ID), their `cpu.stat` and PSI files, the
/// QEMU process's hugepages per node, and the host's hugepage pools per node (HostProbe).
///
/// All reads of one scrape run in one job on `BlockingThreadPool.fileIO`. Nothing here
/// talks to libvirt.
actor LocalHostReader {
    private var system: CgroupSystem?
    private var systemFailed = false
    private var located: [String: (id: Int, pid: Int32, cgroups: GuestCgroups?)] = [:]
    private let logger: Logger
    /// Where the host's own files (`/proc/stat`, `/proc/pressure`, hugepage pools) are read:
    /// `/` live, a captured tree in tests.
    let hostRoot: ProbeRoot

    init(logger: Logger, hostRoot: ProbeRoot = .live) {
        self.logger = logger
        self.hostRoot = hostRoot
    }

    /// What one scrape read from this machine's files.
    struct Figures: Sendable {
        /// Per-guest figures by cache key (guests that could not be located are missing).
        var guests: [String: GuestHostFigures] = [:]
        var hugepages: [(node: Int, pool: HugepagePool)] = []
        /// Steal, iowait and PSI totals of the host.
        var stall: HostStallCounters?
    }

    /// A running guest the collector wants figures for.
    struct Wanted: Sendable {
        var key: String
        var name: String
        var uuid: LibvirtUUID
        var id: Int
        var hugepages: Bool
    }

    /// The guests' figures, the host's hugepage pools per node and its stall counters.
    func read(_ guests: [Wanted]) async -> Figures {
        if system == nil, !systemFailed {
            do { system = try await CgroupSystem.detect() } catch {
                systemFailed = true
                logger.warning("no cgroup statistics: cgroup layout not detected", metadata: ["error": "\(error)"])
            }
        }
        // Locate guests that are new or restarted (a new domain ID); forget the rest.
        var keep: [String: (id: Int, pid: Int32, cgroups: GuestCgroups?)] = [:]
        for g in guests {
            if let l = located[g.key], l.id == g.id { keep[g.key] = l; continue }
            guard let loc = try? await GuestLocator(cgroups: system).locate(name: g.name, uuid: g.uuid, id: g.id) else { continue }
            keep[g.key] = (g.id, loc.pid, loc.cgroups)
        }
        located = keep
        let jobs = guests.compactMap { g in keep[g.key].map { (g.key, $0.pid, $0.cgroups, g.hugepages) } }
        let system = self.system
        let prober = HostProber(root: hostRoot)
        let result = try? await BlockingThreadPool.fileIO.run { () -> Figures in
            var out = Figures()
            for (key, pid, cgroups, hugepages) in jobs {
                out.guests[key] = Self.figuresSync(pid: pid, cgroups: cgroups, hugepages: hugepages, system: system)
            }
            out.hugepages = Self.hugepagePoolsSync(prober)
            out.stall = prober.stallCountersSync()
            return out
        }
        return result ?? Figures()
    }

    @available(*, noasync)
    static func figuresSync(pid: Int32, cgroups: GuestCgroups?, hugepages: Bool, system: CgroupSystem?) -> GuestHostFigures {
        var f = GuestHostFigures()
        if let cgroups, let system {
            // The top in full (its io and memory pressure too), the threads' cgroups CPU only.
            for (label, cg) in cgroups.all where label == "top" || label == "emulator" || label.hasPrefix("vcpu") {
                guard let s = try? system.statsSync(of: cg, scope: label == "top" ? .full : .cpu) else { continue }
                if let cpu = s.cpu { f.cpu.append((label, cpu)) }
                if label == "top" {
                    f.cpuPressure = s.cpuPressure
                    f.ioPressure = s.ioPressure
                    f.memoryPressure = s.memoryPressure
                }
            }
        }
        if hugepages, let text = try? RootedFileReader(root: "/").read("/proc/\(pid)/numa_maps", limit: RootedFileReader.Bound.table) {
            f.hugepageBytesPerNode = GuestMemoryPlacement(numaMaps: String(decoding: text, as: UTF8.self)).hugepageBytesPerNode
        }
        return f
    }

    /// `node/nodeN/hugepages/hugepages-*kB` of every node, through HostProbe's NUMA section.
    @available(*, noasync)
    static func hugepagePoolsSync(_ prober: HostProber) -> [(node: Int, pool: HugepagePool)] {
        guard let numa = try? prober.snapshotSync(sections: [.numa]).numa else { return [] }
        return numa.nodes.flatMap { n in n.hugepages.map { (n.id, $0) } }
    }
}
