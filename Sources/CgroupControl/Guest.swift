/// A libvirt guest's cgroups: the top one (libvirt's `global_*` tunables) and the
/// children libvirt creates for each vCPU, the emulator threads and each IOThread.
public struct GuestCgroups: Hashable, Sendable, Codable {
    /// How the tree was found.
    public enum Source: Hashable, Sendable, Codable {
        /// From /proc/PID/cgroup of the QEMU process: authoritative.
        case process(pid: Int32)
        /// From libvirt's naming rules: what libvirt would create.
        case predicted
    }

    /// Whether the tree came from the QEMU PID or was predicted.
    public var source: Source
    /// The guest's own cgroup (libvirt's `global_*` tunables).
    public var top: Cgroup
    /// QEMU's non-vCPU threads (`emulator_*` tunables).
    public var emulator: Cgroup?
    /// vCPU index → cgroup, sorted by index.
    public var vcpus: [Int: Cgroup]
    /// IOThread ID → cgroup.
    public var iothreads: [Int: Cgroup]

    /// Every cgroup of the tree with a label (`top`, `emulator`, `vcpu0`, `iothread1`…).
    public var all: [(label: String, cgroup: Cgroup)] {
        var out: [(String, Cgroup)] = [("top", top)]
        if let emulator { out.append(("emulator", emulator)) }
        for (i, c) in vcpus.sorted(by: { $0.key < $1.key }) { out.append(("vcpu\(i)", c)) }
        for (i, c) in iothreads.sorted(by: { $0.key < $1.key }) { out.append(("iothread\(i)", c)) }
        return out
    }

    /// The per-thread child kinds libvirt creates.
    enum Child: Equatable {
        case emulator, vcpu(Int), iothread(Int)
        init?(_ name: String) {
            if name == "emulator" { self = .emulator; return }
            if name.hasPrefix("vcpu"), let n = Int(name.dropFirst(4)), n >= 0 { self = .vcpu(n); return }
            if name.hasPrefix("iothread"), let n = Int(name.dropFirst(8)), n >= 0 { self = .iothread(n); return }
            return nil
        }
    }

    /// Finds the tree from the QEMU process's /proc/PID/cgroup.
    ///
    /// QEMU's main thread sits in `TOP/emulator` in the hierarchies where libvirt made
    /// per-thread children (cpu, cpuset, v2) and in `TOP` elsewhere. TOP is taken from the
    /// `emulator` path; a hierarchy where the process is outside TOP (libvirt did not
    /// use that controller, e.g. v1 cpuacct when v2 is in use) gets no path, so nothing
    /// is ever read from a cgroup that is not the guest's. Children are listed from the
    /// directories of TOP.
    @available(*, noasync, message: "blocking reads; use CgroupSystem.guest(pid:)")
    public static func find(pid: Int32, layout: CgroupLayout, fs: CgroupFS) throws(CgroupError) -> GuestCgroups {
        let proc = try ProcessCgroups.of(pid: pid, fs: fs)
        var byMount: [String: String] = [:]
        for h in layout.hierarchies { if let p = proc.path(in: h) { byMount[h.mountPoint] = p } }

        let emulatorPaths = byMount.values.filter { $0.hasSuffix("/emulator") }
        let topPath: String
        if let e = emulatorPaths.first {
            topPath = String(e.dropLast("/emulator".count))
        } else if let longest = byMount.values.max(by: { $0.count < $1.count }), longest != "/" {
            topPath = longest
        } else {
            throw .notAGuest(pid: pid, reason: "it is in the root cgroup of every hierarchy")
        }
        guard topPath != "", topPath != "/" else { throw .notAGuest(pid: pid, reason: "no guest cgroup above 'emulator'") }

        var topPaths: [String: String] = [:]
        for (mount, p) in byMount where p == topPath || p.hasPrefix(topPath + "/") { topPaths[mount] = topPath }
        let top = Cgroup(paths: topPaths)

        var emulatorMounts: Set<String> = []
        var vcpuMounts: [Int: Set<String>] = [:]
        var iothreadMounts: [Int: Set<String>] = [:]
        for (mount, p) in topPaths {
            let dir = joinPath(mount, p)
            let names: [String]
            do { names = try fs.subdirectories(dir) } catch { continue }
            for n in names {
                switch Child(n) {
                case .emulator: emulatorMounts.insert(mount)
                case .vcpu(let i): vcpuMounts[i, default: []].insert(mount)
                case .iothread(let i): iothreadMounts[i, default: []].insert(mount)
                case nil: continue
                }
            }
        }
        return GuestCgroups(
            source: .process(pid: pid), top: top,
            emulator: emulatorMounts.isEmpty ? nil : top.child("emulator", onlyIn: emulatorMounts),
            vcpus: vcpuMounts.reduce(into: [:]) { $0[$1.key] = top.child("vcpu\($1.key)", onlyIn: $1.value) },
            iothreads: iothreadMounts.reduce(into: [:]) { $0[$1.key] = top.child("iothread\($1.key)", onlyIn: $1.value) })
    }

    /// Predicts the tree from libvirt's naming rules (see `LibvirtNaming.guestTopPath`).
    /// Per-thread children exist where libvirt makes them: the cpu, cpuacct and cpuset
    /// hierarchies on v1, the single hierarchy on v2; the top exists in every hierarchy.
    public static func predict(driver: String = "qemu", id: Int, name: String, vcpus: Int, iothreads: [Int] = [],
                               systemd: Bool, partition: String = "/machine", layout: CgroupLayout) -> GuestCgroups {
        let path = LibvirtNaming.guestTopPath(driver: driver, id: id, name: name, systemd: systemd, partition: partition,
                                              controllers: layout.controllerTable.map(\.name))
        let top = Cgroup(path: path, in: layout)
        var threadMounts: Set<String> = []
        for h in layout.hierarchies {
            if h.version == .v2 || h.controllers.contains(where: { [.cpu, .cpuacct, .cpuset].contains($0) }) {
                threadMounts.insert(h.mountPoint)
            }
        }
        return GuestCgroups(
            source: .predicted, top: top,
            emulator: top.child("emulator", onlyIn: threadMounts),
            vcpus: Dictionary(uniqueKeysWithValues: (0..<max(0, vcpus)).map { ($0, top.child("vcpu\($0)", onlyIn: threadMounts)) }),
            iothreads: iothreads.reduce(into: [:]) { $0[$1] = top.child("iothread\($1)", onlyIn: threadMounts) })
    }
}
