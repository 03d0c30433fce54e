/// One line of /proc/PID/cgroup: `ID:CONTROLLERS:PATH` (`cgroups(7)`).
public struct ProcessCgroupEntry: Hashable, Sendable, Codable {
    /// The hierarchy ID (0 for v2).
    public var hierarchyID: Int
    /// The controllers of a v1 hierarchy (empty for v2).
    public var controllers: [Controller]
    /// A named v1 hierarchy (`name=systemd` → `systemd`).
    public var name: String?
    /// The cgroup path relative to the hierarchy root, starting with `/`.
    public var path: String

    /// True for the v2 line (`0::/path`).
    public var isUnified: Bool { hierarchyID == 0 && controllers.isEmpty && name == nil }
}

/// A process's cgroup membership, from /proc/PID/cgroup.
public struct ProcessCgroups: Hashable, Sendable, Codable {
    /// One entry per line of the file.
    public var entries: [ProcessCgroupEntry]

    /// Parses the text of /proc/PID/cgroup; malformed lines are an error (the kernel never
    /// writes them, so they mean the wrong file).
    public static func parse(_ text: String, file: String = "/proc/self/cgroup") throws(CgroupError) -> ProcessCgroups {
        var entries: [ProcessCgroupEntry] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            // The path may itself contain ':', so split only the first two.
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let id = Int(parts[0]), parts[2].hasPrefix("/") else {
                throw .malformed(file: file, line: String(line), reason: "expected ID:CONTROLLERS:/PATH")
            }
            var controllers: [Controller] = []
            var name: String?
            for c in parts[1].split(separator: ",") {
                if c.hasPrefix("name=") { name = String(c.dropFirst(5)) } else { controllers.append(Controller(String(c))) }
            }
            entries.append(ProcessCgroupEntry(hierarchyID: id, controllers: controllers.sorted(), name: name,
                                              path: String(parts[2])))
        }
        return ProcessCgroups(entries: entries)
    }

    /// Reads /proc/PID/cgroup under `fs.root`.
    @available(*, noasync, message: "blocking read; use CgroupSystem.cgroup(ofProcess:)")
    public static func of(pid: Int32, fs: CgroupFS) throws(CgroupError) -> ProcessCgroups {
        let file = "/proc/\(pid)/cgroup"
        let text: String
        do { text = try fs.read(file) } catch {
            if error.errno.code == ENOENT || error.errno.code == ESRCH { throw .processNotFound(pid: pid) }
            throw .io(error)
        }
        let parsed = try parse(text, file: file)
        if parsed.entries.isEmpty { throw .processNotFound(pid: pid) }
        return parsed
    }

    /// The path in the v1 hierarchy holding `controller`.
    public func path(for controller: Controller) -> String? {
        entries.first { $0.controllers.contains(controller) }?.path
    }

    /// The v2 path (`0::/…`).
    public var unifiedPath: String? { entries.first { $0.isUnified }?.path }

    /// The path in the named hierarchy `name`.
    public func path(named name: String) -> String? { entries.first { $0.name == name }?.path }

    /// The same membership as a `Cgroup`: each hierarchy of `layout` mapped to the process's path.
    public func cgroup(in layout: CgroupLayout) -> Cgroup {
        var paths: [String: String] = [:]
        for h in layout.hierarchies {
            if let p = path(in: h) { paths[h.mountPoint] = p }
        }
        return Cgroup(paths: paths)
    }

    /// The process's path in hierarchy `h`, relative to what is mounted there.
    public func path(in h: CgroupHierarchy) -> String? {
        let raw: String?
        if h.version == .v2 { raw = unifiedPath }
        else if let name = h.name, h.controllers.isEmpty { raw = path(named: name) }
        else { raw = entries.first { !$0.controllers.isEmpty && $0.controllers == h.controllers }?.path
                 ?? h.controllers.first.flatMap { path(for: $0) } }
        guard var p = raw else { return nil }
        // A bind-mounted sub-tree: the mount shows the cgroup `h.root` at its top.
        if h.root != "/", p.hasPrefix(h.root) {
            p = String(p.dropFirst(h.root.count))
            if p.isEmpty { p = "/" }
        }
        return p
    }
}

#if canImport(Glibc)
import Glibc
#endif
