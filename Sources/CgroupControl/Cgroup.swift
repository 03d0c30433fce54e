/// One cgroup as seen across a host's hierarchies: its path in each hierarchy, keyed by
/// the hierarchy's mount point. On v2 there is one entry; on v1 a process can sit at
/// different paths per controller (libvirt puts a guest's vCPU threads in `vcpuN` for
/// cpu and cpuset but leaves memory at the guest's top).
public struct Cgroup: Hashable, Sendable, Codable {
    /// Mount point → path relative to the hierarchy root (starts with `/`).
    public var paths: [String: String]

    /// A cgroup from its per-hierarchy paths.
    public init(paths: [String: String]) { self.paths = paths }

    /// The same path in every hierarchy of `layout` (how a new cgroup is created).
    public init(path: String, in layout: CgroupLayout) {
        let p = path.hasPrefix("/") ? path : "/" + path
        var paths: [String: String] = [:]
        for h in layout.hierarchies { paths[h.mountPoint] = p }
        self.paths = paths
    }

    /// The directory serving `controller`, or nil when the cgroup has no path in that
    /// controller's hierarchy or the controller is not available.
    public func directory(for controller: Controller, in layout: CgroupLayout) -> String? {
        guard let h = layout.hierarchy(for: controller), let p = paths[h.mountPoint] else { return nil }
        return joinPath(h.mountPoint, p)
    }

    /// The directory in the v2 hierarchy (pressure files, `cpu.stat` core fields).
    public func unifiedDirectory(in layout: CgroupLayout) -> String? {
        guard let u = layout.unified, let p = paths[u.mountPoint] else { return nil }
        return joinPath(u.mountPoint, p)
    }

    /// Every directory of this cgroup, one per hierarchy it has a path in.
    public func directories(in layout: CgroupLayout) -> [String] {
        layout.hierarchies.compactMap { h in paths[h.mountPoint].map { joinPath(h.mountPoint, $0) } }
    }

    /// The child `name` in the hierarchies listed in `only` (all when nil).
    public func child(_ name: String, onlyIn only: Set<String>? = nil) -> Cgroup {
        var out: [String: String] = [:]
        for (m, p) in paths where only?.contains(m) ?? true {
            out[m] = p == "/" ? "/" + name : p + "/" + name
        }
        return Cgroup(paths: out)
    }

    /// A short form for display: the single path when every hierarchy agrees.
    public var displayPath: String {
        let distinct = Set(paths.values)
        if distinct.count == 1, let p = distinct.first { return p }
        return paths.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " ")
    }
}
