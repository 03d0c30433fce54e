import VirtCore

/// A cgroup controller, by its v1 name (`blkio`, not `io`). Unknown names are kept.
public struct Controller: Hashable, Sendable, Codable, RawRepresentable, CustomStringConvertible, Comparable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue == "io" ? "blkio" : rawValue }
    public init(_ name: String) { self.init(rawValue: name) }

    public static let cpu = Controller("cpu")
    public static let cpuacct = Controller("cpuacct")
    public static let cpuset = Controller("cpuset")
    public static let memory = Controller("memory")
    public static let devices = Controller("devices")
    public static let freezer = Controller("freezer")
    public static let blkio = Controller("blkio")
    public static let netCls = Controller("net_cls")
    public static let netPrio = Controller("net_prio")
    public static let perfEvent = Controller("perf_event")
    public static let hugetlb = Controller("hugetlb")
    public static let pids = Controller("pids")
    public static let rdma = Controller("rdma")
    public static let misc = Controller("misc")

    /// The name in cgroup v2's `cgroup.controllers` (`io` for `blkio`).
    public var v2Name: String { rawValue == "blkio" ? "io" : rawValue }
    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// v1-only controllers: never listed in a v2 `cgroup.controllers` (their v2 roles are
    /// core features: cpu.stat, BPF device filters, cgroup.freeze).
    static let v1Only: Set<String> = ["cpuacct", "devices", "freezer", "net_cls", "net_prio", "perf_event"]
}

/// cgroup v1 (legacy, one hierarchy per controller group) or v2 (unified).
public enum CgroupVersion: String, Hashable, Sendable, Codable {
    case v1, v2
}

/// One line of /proc/self/mountinfo or /proc/mounts.
public struct MountEntry: Hashable, Sendable, Codable {
    /// The mounted device or file-system name.
    public var source: String
    /// Where it is mounted.
    public var mountPoint: String
    /// `cgroup`, `cgroup2`, `tmpfs`…
    public var fsType: String
    /// For mountinfo the super-block options (where cgroup controllers are listed); for
    /// /proc/mounts the single option list.
    public var options: [String]
    /// The directory of the file system mounted here (mountinfo field 4); `/` from /proc/mounts.
    public var root: String

    /// Parses /proc/PID/mountinfo (`proc(5)`): `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL…] - TYPE SOURCE SUPEROPTS`.
    public static func parseMountinfo(_ text: String) -> [MountEntry] {
        var out: [MountEntry] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard f.count >= 7, let dash = f.firstIndex(of: "-"), dash >= 6, dash + 2 < f.count else { continue }
            let superOpts = dash + 3 < f.count ? f[dash + 3] : ""
            out.append(MountEntry(source: unescapeOctal(f[dash + 2]), mountPoint: unescapeOctal(f[4]),
                                  fsType: f[dash + 1], options: superOpts.split(separator: ",").map(String.init),
                                  root: unescapeOctal(f[3])))
        }
        return out
    }

    /// Parses /proc/mounts (`fstab(5)` format): `SOURCE MOUNTPOINT TYPE OPTS FREQ PASSNO`.
    public static func parseMounts(_ text: String) -> [MountEntry] {
        var out: [MountEntry] = []
        for line in text.split(separator: "\n") {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard f.count >= 4, !f[0].hasPrefix("#") else { continue }
            out.append(MountEntry(source: unescapeOctal(f[0]), mountPoint: unescapeOctal(f[1]), fsType: f[2],
                                  options: f[3].split(separator: ",").map(String.init), root: "/"))
        }
        return out
    }

    /// The kernel writes space, tab, newline and backslash in paths as `\040`-style octal.
    static func unescapeOctal(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var bytes: [UInt8] = []
        let u = Array(s.utf8)
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "\\"), i + 4 <= u.count {
                let digits = u[(i + 1)..<(i + 4)]
                if digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x37 }) {
                    let v = digits.reduce(0) { $0 * 8 + Int($1 - 0x30) }
                    if v < 256 { bytes.append(UInt8(v)); i += 4; continue }
                }
            }
            bytes.append(u[i]); i += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// One row of /proc/cgroups: `subsys_name hierarchy num_cgroups enabled`.
public struct ControllerInfo: Hashable, Sendable, Codable {
    /// The controller name, as /proc/cgroups spells it.
    public var name: String
    /// The v1 hierarchy ID, 0 when the controller is not bound to a v1 hierarchy (so it is
    /// on v2, or unused).
    public var hierarchy: Int
    /// How many cgroups use it.
    public var cgroups: Int
    /// False when disabled on the kernel command line (`cgroup_disable=`).
    public var enabled: Bool

    /// Parses /proc/cgroups; malformed rows are skipped.
    public static func parse(_ text: String) -> [ControllerInfo] {
        var out: [ControllerInfo] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard f.count >= 4, let h = Int(f[1]), let n = Int(f[2]), let e = Int(f[3]) else { continue }
            out.append(ControllerInfo(name: String(f[0]), hierarchy: h, cgroups: n, enabled: e != 0))
        }
        return out
    }
}

/// One mounted cgroup hierarchy.
public struct CgroupHierarchy: Hashable, Sendable, Codable {
    /// v1 or v2.
    public var version: CgroupVersion
    /// Where it is mounted (a host path; `CgroupFS` adds the root).
    public var mountPoint: String
    /// The cgroup mounted there (mountinfo's root; `/` unless a sub-tree is bind-mounted).
    public var root: String
    /// v1: the controllers in the mount options; v2: `cgroup.controllers` of the root.
    public var controllers: [Controller]
    /// A named v1 hierarchy (`name=systemd` → `systemd`).
    public var name: String?

    /// True for a v1 hierarchy with resource controllers (not just a name).
    public var hasControllers: Bool { !controllers.isEmpty }
}

/// How cgroups are mounted on a host.
public enum LayoutKind: String, Hashable, Sendable, Codable {
    /// Only v1 hierarchies (possibly named ones such as `name=systemd`).
    case v1
    /// Only the v2 unified hierarchy.
    case v2
    /// v1 controllers plus a v2 hierarchy (systemd's `/sys/fs/cgroup/unified`).
    case hybrid
}

/// The cgroup hierarchies of a host, detected from /proc/self/mountinfo (or /proc/mounts)
/// and /proc/cgroups.
public struct CgroupLayout: Hashable, Sendable, Codable {
    /// v1, v2 or hybrid.
    public var kind: LayoutKind
    /// v1 hierarchies in mount order (the last mount of a controller wins, as bind mounts repeat them).
    public var v1: [CgroupHierarchy]
    /// The v2 hierarchy, when mounted.
    public var unified: CgroupHierarchy?
    /// /proc/cgroups.
    public var controllerTable: [ControllerInfo]

    /// Reads /proc/self/mountinfo (falling back to /proc/mounts), /proc/cgroups and the v2
    /// root's `cgroup.controllers` under `fs.root`.
    @available(*, noasync, message: "blocking reads; use CgroupSystem.detect(root:)")
    public static func detect(fs: CgroupFS) throws(CgroupError) -> CgroupLayout {
        // A missing or unreadable table falls back as before; a refused one (a FIFO, a device,
        // a file beyond the bound) is an error, not a silent "no cgroups".
        func table(_ path: String) throws(CgroupError) -> String? {
            do { return try fs.readIfPresent(path, limit: RootedFileReader.Bound.table) } catch {
                if error.refusal != nil { throw .io(error) }
                return nil
            }
        }
        let mountinfo = try table("/proc/self/mountinfo")
        let mounts = mountinfo == nil ? try table("/proc/mounts") : nil
        let procCgroups = try table("/proc/cgroups")
        return try parse(mountinfo: mountinfo, mounts: mounts, procCgroups: procCgroups, root: fs.root) { mount in
            (try? fs.readIfPresent(mount + "/cgroup.controllers")) ?? nil
        }
    }

    /// Builds the layout from the texts of the three files. `unifiedControllers` returns the
    /// v2 mount's `cgroup.controllers`, or nil when it cannot be read; then the controllers
    /// /proc/cgroups shows in no v1 hierarchy are taken as the v2 ones.
    ///
    /// Linear in the number of mounts: each v1 hierarchy is keyed by its controllers and
    /// name, and only the last v2 mount's controllers are read.
    public static func parse(mountinfo: String?, mounts: String?, procCgroups: String?, root: String = "",
                             unifiedControllers: (String) -> String? = { _ in nil }) throws(CgroupError) -> CgroupLayout {
        let entries: [MountEntry]
        if let mountinfo { entries = MountEntry.parseMountinfo(mountinfo) }
        else if let mounts { entries = MountEntry.parseMounts(mounts) }
        else { entries = [] }
        let table = procCgroups.map(ControllerInfo.parse) ?? []

        struct Key: Hashable { var controllers: [Controller]; var name: String? }
        // A later mount of the same hierarchy (bind mount) replaces the earlier one and takes
        // its place in mount order.
        var latest: [Key: (order: Int, hierarchy: CgroupHierarchy)] = [:]
        var unifiedEntry: MountEntry?
        for (i, e) in entries.enumerated() {
            switch e.fsType {
            case "cgroup":
                var controllers: [Controller] = []
                var name: String?
                for o in e.options {
                    if o.hasPrefix("name=") { name = String(o.dropFirst(5)); continue }
                    if knownV1Options.contains(o) || o.contains("=") { continue }
                    controllers.append(Controller(o))
                }
                controllers.sort()
                let h = CgroupHierarchy(version: .v1, mountPoint: e.mountPoint, root: e.root, controllers: controllers, name: name)
                latest[Key(controllers: controllers, name: name)] = (i, h)
            case "cgroup2":
                unifiedEntry = e
            default:
                continue
            }
        }
        let v1 = latest.values.sorted { $0.order < $1.order }.map(\.hierarchy)
        var unified: CgroupHierarchy?
        if let e = unifiedEntry {
            var controllers: [Controller]
            if let text = unifiedControllers(e.mountPoint) {
                controllers = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { Controller(String($0)) }
            } else {
                controllers = table.filter { $0.hierarchy == 0 && $0.enabled && !Controller.v1Only.contains($0.name) }
                    .map { Controller($0.name) }
            }
            unified = CgroupHierarchy(version: .v2, mountPoint: e.mountPoint, root: e.root,
                                      controllers: controllers.sorted(), name: nil)
        }
        if v1.isEmpty && unified == nil { throw .noCgroupsMounted(root: root) }
        let kind: LayoutKind = unified == nil ? .v1 : (v1.isEmpty ? .v2 : .hybrid)
        return CgroupLayout(kind: kind, v1: v1, unified: unified, controllerTable: table)
    }

    /// Mount options of a cgroup v1 mount that are not controller names.
    static let knownV1Options: Set<String> = [
        "rw", "ro", "nosuid", "nodev", "noexec", "relatime", "noatime", "nodiratime", "strictatime",
        "lazytime", "sync", "async", "dirsync", "mand", "nomand", "xattr", "noprefix", "clone_children",
        "cpuset_v2_mode", "none", "all", "seclabel", "silent", "defaults", "favordynmods", "nofavordynmods",
    ]

    /// The hierarchy a controller is used through: its v1 mount, else v2 when the
    /// controller is enabled there.
    public func hierarchy(for controller: Controller) -> CgroupHierarchy? {
        if let h = v1.last(where: { $0.controllers.contains(controller) }) { return h }
        if let u = unified, u.controllers.contains(controller) { return u }
        return nil
    }

    /// The version a controller is used through, when available.
    public func version(of controller: Controller) -> CgroupVersion? { hierarchy(for: controller)?.version }

    /// The named v1 hierarchy `name` (e.g. `systemd`).
    public func namedHierarchy(_ name: String) -> CgroupHierarchy? { v1.last { $0.name == name } }

    /// Every hierarchy, v1 first.
    public var hierarchies: [CgroupHierarchy] { v1 + (unified.map { [$0] } ?? []) }

    /// Every controller usable through some hierarchy, sorted.
    public var availableControllers: [Controller] {
        Array(Set(hierarchies.flatMap(\.controllers))).sorted()
    }
}

// MARK: - libvirt's view

extension CgroupLayout {
    /// libvirt's controller list (`virCgroupController`), in its order.
    public static let libvirtControllers = ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer",
                                            "blkio", "net_cls", "perf_event", "name=systemd"]

    /// The controller → mount point map libvirt's cgroup code builds (`virCgroupDetectMounts`
    /// then the per-backend controller detection), one entry per `libvirtControllers` name
    /// plus `unified`; nil where libvirt has no mount.
    ///
    /// Rules, as libvirt 9.0 applies them: every `cgroup` mount whose options list the
    /// controller sets its mount point, the last one winning; the v2 hierarchy is used only
    /// when its `cgroup.controllers` is not empty, and then it claims `cpu`, `cpuset`,
    /// `memory`, `blkio` (`io`) when listed, plus `cpuacct` (v2's `cpu.stat`) and `devices`
    /// (BPF filters), whose v1 mounts libvirt then ignores. A layout with nothing but named
    /// hierarchies is an error.
    public func libvirtMounts() throws(CgroupError) -> [(controller: String, mountPoint: String?)] {
        var mounts: [String: String] = [:]
        for h in v1 {
            for c in Self.libvirtControllers {
                if c == "name=systemd" ? h.name == "systemd" : h.controllers.contains(Controller(c)) {
                    mounts[c] = h.mountPoint
                }
            }
        }
        var unifiedMount: String?
        if let u = unified, !u.controllers.isEmpty {
            unifiedMount = u.mountPoint
            var claimed: Set<String> = ["cpuacct", "devices"]
            for c in ["cpu", "cpuset", "memory", "blkio"] where u.controllers.contains(Controller(c)) { claimed.insert(c) }
            for c in claimed { mounts[c] = nil }
        }
        if unifiedMount == nil && mounts.keys.allSatisfy({ $0 == "name=systemd" }) {
            throw mounts.isEmpty && v1.isEmpty && unified == nil ? .noCgroupsMounted(root: "") : .noResourceControllers
        }
        return Self.libvirtControllers.map { ($0, mounts[$0]) } + [("unified", unifiedMount)]
    }
}
