#if canImport(Glibc)
import Glibc
#endif
import VirtCore

/// The entry point: a host's cgroup layout and the file system it lives in.
///
/// Every operation that touches files is `async` and runs on `BlockingThreadPool.fileIO`,
/// never on Swift's cooperative pool. Each has a synchronous variant named `…Sync`
/// (`@available(*, noasync)`) for scripts and fixture tests.
public struct CgroupSystem: Sendable {
    public let fs: CgroupFS
    public let layout: CgroupLayout

    public init(fs: CgroupFS, layout: CgroupLayout) {
        self.fs = fs
        self.layout = layout
    }

    /// Detects the layout of the host under `root` (see `CgroupLayout.detect`).
    public static func detect(root: String = "/", counter: ReadCounter? = nil) async throws(CgroupError) -> CgroupSystem {
        try await offload { () throws(CgroupError) in try detectSync(root: root, counter: counter) }
    }

    /// `detect(root:counter:)` on the calling thread.
    @available(*, noasync, message: "blocking reads; use detect(root:counter:)")
    public static func detectSync(root: String = "/", counter: ReadCounter? = nil) throws(CgroupError) -> CgroupSystem {
        let fs = CgroupFS(root: root, counter: counter)
        return CgroupSystem(fs: fs, layout: try CgroupLayout.detect(fs: fs))
    }

    // MARK: Cgroups and processes

    /// A cgroup at the same `path` in every hierarchy.
    public func cgroup(_ path: String) -> Cgroup { Cgroup(path: path, in: layout) }

    /// The cgroups of process `pid` (/proc/PID/cgroup).
    public func cgroup(ofProcess pid: Int32) async throws(CgroupError) -> Cgroup {
        try await run { s throws(CgroupError) in try s.cgroupSync(ofProcess: pid) }
    }

    @available(*, noasync, message: "blocking read; use cgroup(ofProcess:)")
    public func cgroupSync(ofProcess pid: Int32) throws(CgroupError) -> Cgroup {
        try ProcessCgroups.of(pid: pid, fs: fs).cgroup(in: layout)
    }

    /// Creates the cgroup in every hierarchy where it has a path (`mkdir(2)`); on failure the
    /// directories already made are removed again. On v1 cpuset, the new group's
    /// `cpuset.cpus`/`cpuset.mems` start empty, so they are copied from the parent
    /// (`cgroup.clone_children` semantics) — a task cannot join an empty cpuset.
    public func create(_ cgroup: Cgroup) async throws(CgroupError) {
        try await run { s throws(CgroupError) in try s.createSync(cgroup) }
    }

    @available(*, noasync, message: "blocking mkdir; use create(_:)")
    public func createSync(_ cgroup: Cgroup) throws(CgroupError) {
        try enableV2Controllers(above: cgroup)
        var made: [String] = []
        for dir in cgroup.directories(in: layout) where !fs.isDirectory(dir) {
            do { try fs.makeDirectory(dir) } catch {
                for d in made.reversed() { try? fs.removeDirectory(d) }
                throw .io(error)
            }
            made.append(dir)
        }
        if layout.version(of: .cpuset) == .v1, let dir = cgroup.directory(for: .cpuset, in: layout), made.contains(dir),
           let slash = dir.lastIndex(of: "/") {
            let parent = String(dir[..<slash])
            for file in ["cpuset.cpus", "cpuset.mems"] {
                do {
                    let value = try fs.read(parent + "/" + file).trimmingASCIIWhitespace()
                    if !value.isEmpty { try fs.write(dir + "/" + file, value) }
                } catch {
                    for d in made.reversed() { try? fs.removeDirectory(d) }
                    throw .io(error)
                }
            }
        }
    }

    /// On v2 a child only gets a controller's files when its parent lists the controller in
    /// `cgroup.subtree_control` (libvirt's `virCgroupV2EnableController` does the same).
    /// Enables, in the new cgroup's parent, the knob controllers (cpu, cpuset, memory, io,
    /// pids) that are used through v2 and that the parent has but does not yet pass down.
    @available(*, noasync)
    func enableV2Controllers(above cgroup: Cgroup) throws(CgroupError) {
        guard let dir = cgroup.unifiedDirectory(in: layout), !fs.isDirectory(dir),
              let slash = dir.lastIndex(of: "/") else { return }
        let parent = String(dir[..<slash])
        guard let available = try optionalRead(parent + "/cgroup.controllers"),
              let enabled = try optionalRead(parent + "/cgroup.subtree_control") else { return }
        let have = Swift.Set(enabled.split(whereSeparator: { $0 == " " || $0 == "\n" }))
        // Only the controllers CgroupControl has knobs for, and only where they are used through v2.
        let wanted: [Controller] = [.cpu, .cpuset, .memory, .blkio, .pids].filter { layout.version(of: $0) == .v2 }
        let wantedNames = Swift.Set(wanted.map(\.v2Name))
        let missing = available.split(whereSeparator: { $0 == " " || $0 == "\n" })
            .filter { !have.contains($0) && wantedNames.contains(String($0)) }
        if missing.isEmpty { return }
        let value = missing.map { "+" + $0 }.joined(separator: " ")
        do { try fs.write(parent + "/cgroup.subtree_control", value) } catch { throw .io(error) }
    }

    /// Removes the cgroup from every hierarchy (`rmdir(2)`; it must have no tasks and no
    /// children). Directories already gone are skipped; the first other failure is thrown
    /// after trying all.
    public func remove(_ cgroup: Cgroup) async throws(CgroupError) {
        try await run { s throws(CgroupError) in try s.removeSync(cgroup) }
    }

    @available(*, noasync, message: "blocking rmdir; use remove(_:)")
    public func removeSync(_ cgroup: Cgroup) throws(CgroupError) {
        var first: CgroupIOError?
        for dir in cgroup.directories(in: layout) where fs.isDirectory(dir) {
            do { try fs.removeDirectory(dir) } catch { if first == nil { first = error } }
        }
        if let first { throw .io(first) }
    }

    /// Moves process `pid` (all its threads on v1: `cgroup.procs`) into `cgroup` in every hierarchy.
    public func move(pid: Int32, into cgroup: Cgroup) async throws(CgroupError) {
        try await run { s throws(CgroupError) in try s.moveSync(pid: pid, into: cgroup) }
    }

    @available(*, noasync, message: "blocking write; use move(pid:into:)")
    public func moveSync(pid: Int32, into cgroup: Cgroup) throws(CgroupError) {
        for dir in cgroup.directories(in: layout) {
            do { try fs.write(dir + "/cgroup.procs", "\(pid)") } catch { throw .io(error) }
        }
    }

    /// The PIDs in the cgroup's `cgroup.procs` for `controller`'s hierarchy.
    public func processes(in cgroup: Cgroup, controller: Controller = .cpu) async throws(CgroupError) -> [Int32] {
        try await run { s throws(CgroupError) in try s.processesSync(in: cgroup, controller: controller) }
    }

    @available(*, noasync, message: "blocking read; use processes(in:controller:)")
    public func processesSync(in cgroup: Cgroup, controller: Controller = .cpu) throws(CgroupError) -> [Int32] {
        guard let dir = cgroup.directory(for: controller, in: layout) ?? cgroup.directories(in: layout).first else {
            throw .controllerUnavailable(controller.rawValue)
        }
        let text: String
        do { text = try fs.read(dir + "/cgroup.procs", limit: RootedFileReader.Bound.table) } catch { throw .io(error) }
        var pids: [Int32] = []
        for line in text.split(separator: "\n") {
            guard let pid = Int32(line), pid > 0 else {
                throw .malformed(file: dir + "/cgroup.procs", line: String(line.prefix(40)), reason: "not a PID")
            }
            pids.append(pid)
        }
        return pids
    }

    // MARK: Guests

    /// The guest tree of the QEMU process `pid` (authoritative).
    public func guest(pid: Int32) async throws(CgroupError) -> GuestCgroups {
        try await run { s throws(CgroupError) in try s.guestSync(pid: pid) }
    }

    @available(*, noasync, message: "blocking reads; use guest(pid:)")
    public func guestSync(pid: Int32) throws(CgroupError) -> GuestCgroups {
        try GuestCgroups.find(pid: pid, layout: layout, fs: fs)
    }

    /// True when libvirt would register guests as systemd scopes: systemd runs the host
    /// (PID 1, or `/run/systemd/system`) *and* systemd-machined is there to register with
    /// (libvirt's `virSystemdHasMachined`; it asks D-Bus, we look for machined's state
    /// directory or its binary). Without machined, libvirt falls back to `machine/…` names.
    public func hostHasSystemd() async -> Bool {
        (try? await run { s in s.hostHasSystemdSync() }) ?? false
    }

    @available(*, noasync, message: "blocking reads; use hostHasSystemd()")
    public func hostHasSystemdSync() -> Bool {
        let comm = ((try? fs.readIfPresent("/proc/1/comm")) ?? nil)?.trimmingASCIIWhitespace()
        guard comm == "systemd" || fs.isDirectory("/run/systemd/system") else { return false }
        return fs.isDirectory("/run/systemd/machines")
            || fs.exists("/usr/lib/systemd/systemd-machined")
            || fs.exists("/lib/systemd/systemd-machined")
    }

    /// Whether `path` (a host path under the root) is a directory, e.g. a predicted cgroup.
    public func isDirectory(_ path: String) async -> Bool {
        (try? await run { s in s.fs.isDirectory(path) }) ?? false
    }

    // MARK: Async forms of the statistics and knob calls

    /// Applies `changes` to `cgroup` as one transaction (see `applySync(_:to:dryRun:)`).
    @discardableResult
    public func apply(_ changes: [CgroupChange], to cgroup: Cgroup, dryRun: Bool = false) async throws(CgroupError) -> [PlannedWrite] {
        try await run { s throws(CgroupError) in try s.applySync(changes, to: cgroup, dryRun: dryRun) }
    }
    /// Validates `changes` and plans their writes (see `planSync(_:for:)`).
    public func plan(_ changes: [CgroupChange], for cgroup: Cgroup) async throws(CgroupError) -> [PlannedWrite] {
        try await run { s throws(CgroupError) in try s.planSync(changes, for: cgroup) }
    }
    /// The cgroup's knobs (see `settingsSync(of:)`).
    public func settings(of cgroup: Cgroup) async throws(CgroupError) -> CgroupSettings {
        try await run { s throws(CgroupError) in try s.settingsSync(of: cgroup) }
    }
    /// The cgroup's statistics (see `statsSync(of:scope:)`).
    public func stats(of cgroup: Cgroup, scope: StatsScope = .full) async throws(CgroupError) -> CgroupStats {
        try await run { s throws(CgroupError) in try s.statsSync(of: cgroup, scope: scope) }
    }
    /// Statistics of a whole guest tree (see `guestStatsSync(_:)`).
    public func guestStats(_ guest: GuestCgroups) async throws(CgroupError) -> [String: CgroupStats] {
        try await run { s throws(CgroupError) in try s.guestStatsSync(guest) }
    }

    private func run<T: Sendable>(_ work: @escaping @Sendable (CgroupSystem) throws(CgroupError) -> T) async throws(CgroupError) -> T {
        let me = self
        return try await Self.offload { () throws(CgroupError) in try work(me) }
    }

    /// Runs blocking work on `BlockingThreadPool.fileIO` and resumes the caller with its result.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () throws(CgroupError) -> T) async throws(CgroupError) -> T {
        do {
            return try await BlockingThreadPool.fileIO.run(work)
        } catch let e as CgroupError {
            throw e
        } catch {
            throw .cancelled
        }
    }
}
