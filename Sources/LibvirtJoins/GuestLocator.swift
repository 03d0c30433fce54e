#if canImport(Glibc)
import Glibc
#endif
import CgroupControl
import Libvirt
import VirtCore

/// Finds where running guests live on this host (`GuestLocation`): the QEMU process by the
/// guest's UUID (QEMU's `-uuid` argument, so it needs no root-only PID file and cannot pick a
/// namesake), its threads by the names QEMU gives them, its cgroups through CgroupControl, and
/// the NUMA node of every CPU from sysfs.
///
/// `root` is `/` for the live host, or a directory holding `proc/` and `sys/` trees (tests).
/// All file reads run on `BlockingThreadPool.fileIO`.
public struct GuestLocator: Sendable {
    public var root: String
    /// The cgroup system to find guests' cgroups in; nil = detect it under `root` when needed.
    public var cgroups: CgroupSystem?

    public init(root: String = "/", cgroups: CgroupSystem? = nil) {
        self.root = root.hasSuffix("/") ? root : root + "/"
        self.cgroups = cgroups
    }

    /// Locates a running libvirt domain (its name, UUID and ID are read from the handle).
    public func locate(_ domain: Domain) async throws -> GuestLocation {
        guard let id = domain.id else { throw GuestLocationError(domain: domain.name, reason: .notRunning) }
        guard let uuid = LibvirtUUID("\(domain.uuid)") else { throw GuestLocationError(domain: domain.name, reason: .notRunning) }
        return try await locate(name: domain.name, uuid: uuid, id: Int(id))
    }

    /// Locates the guest with this identity without asking libvirt.
    public func locate(name: String, uuid: LibvirtUUID, id: Int) async throws -> GuestLocation {
        let me = self
        return try await BlockingThreadPool.fileIO.run { () throws(GuestLocationError) -> GuestLocation in
            try me.locateSync(name: name, uuid: uuid, id: id)
        }
    }

    /// The blocking form of `locate(name:uuid:id:)`, for scripts and fixture tests.
    @available(*, noasync, message: "reads /proc and /sys; use locate(name:uuid:id:)")
    public func locateSync(name: String, uuid: LibvirtUUID, id: Int) throws(GuestLocationError) -> GuestLocation {
        try locateBlockingImpl(name: name, uuid: uuid, id: id)
    }

    private func locateBlockingImpl(name: String, uuid: LibvirtUUID, id: Int) throws(GuestLocationError) -> GuestLocation {
        guard let pid = qemuPID(name: name, uuid: uuid) else {
            throw GuestLocationError(domain: name, reason: .noProcess(procRoot: root))
        }
        var threads: [GuestLocation.GuestThread] = []
        for tid in numericEntries(of: "proc/\(pid)/task") {
            let task = "proc/\(pid)/task/\(tid)"
            guard let comm = readText(task + "/comm") else { continue }  // the thread ended meanwhile
            threads.append(.init(
                tid: tid, role: GuestThreadRole(comm: comm),
                lastCPU: readText(task + "/stat").flatMap(Self.lastCPU(stat:)),
                affinity: readText(task + "/status").flatMap(Self.allowedCPUs(status:))))
        }
        threads.sort { $0.tid < $1.tid }
        var cgroups: GuestCgroups?
        var note: String?
        do {
            let system = try self.cgroups ?? CgroupSystem.detectSync(root: root)
            cgroups = try system.guestSync(pid: pid)
        } catch {
            note = "cgroups not found: \(error)"
        }
        return GuestLocation(name: name, uuid: uuid, id: id, pid: pid, threads: threads, cgroups: cgroups,
                             cgroupNote: note, hostNodeOfCPU: nodeOfCPU())
    }

    // MARK: Finding the process

    /// The QEMU process of the guest: libvirt's PID file when readable and its process has the
    /// UUID, else the process whose command line carries `-uuid UUID`.
    func qemuPID(name: String, uuid: LibvirtUUID) -> Int32? {
        if !name.contains("/"), let text = readText("run/libvirt/qemu/\(name).pid"),
           let pid = Int32(text.trimmingASCIIWhitespace()), pid > 0,
           let cmd = readBytes("proc/\(pid)/cmdline", limit: 1 << 20), Self.commandLine(cmd, hasUUID: uuid) {
            return pid
        }
        for pid in numericEntries(of: "proc") {
            guard let cmd = readBytes("proc/\(pid)/cmdline", limit: 1 << 20), Self.commandLine(cmd, hasUUID: uuid) else { continue }
            return pid
        }
        return nil
    }

    /// True when a NUL-separated command line has the argument pair `-uuid UUID`.
    static func commandLine(_ bytes: [UInt8], hasUUID uuid: LibvirtUUID) -> Bool {
        let args = bytes.split(separator: 0, omittingEmptySubsequences: false)
        for (i, a) in args.enumerated() where i + 1 < args.count && a.elementsEqual("-uuid".utf8) {
            if LibvirtUUID(String(decoding: args[i + 1], as: UTF8.self)) == uuid { return true }
        }
        return false
    }

    // MARK: Per-thread facts (pure parsers, tested on fixtures)

    /// Field 39 (`processor`) of `/proc/PID/task/TID/stat`: the CPU the thread last ran on.
    /// Fields are counted after the `comm` field's closing parenthesis, which may itself
    /// contain spaces and parentheses.
    static func lastCPU(stat: String) -> Int? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // After ')' the first field is #3 (state); #39 is at offset 36.
        guard fields.count > 36, let cpu = Int(fields[36]), cpu >= 0 else { return nil }
        return cpu
    }

    /// `Cpus_allowed_list` of `/proc/PID/task/TID/status`.
    static func allowedCPUs(status: String) -> CPUSet? {
        for line in status.split(separator: "\n") where line.hasPrefix("Cpus_allowed_list:") {
            return try? CPUSet(parsing: line.dropFirst("Cpus_allowed_list:".count).trimmingASCIIWhitespace())
        }
        return nil
    }

    /// CPU → node from `sys/devices/system/node/nodeN/cpulist`.
    func nodeOfCPU() -> [Int: Int] {
        var out: [Int: Int] = [:]
        for entry in entries(of: "sys/devices/system/node") where entry.hasPrefix("node") {
            guard let node = Int(entry.dropFirst(4)), let list = readText("sys/devices/system/node/\(entry)/cpulist"),
                  let cpus = try? CPUSet(parsing: list.trimmingASCIIWhitespace()) else { continue }
            for cpu in cpus { out[cpu] = node }
        }
        return out
    }

    // MARK: Files (bounded reads confined to `root`, VirtCore's RootedFileReader)

    private var reader: RootedFileReader { RootedFileReader(root: root) }

    private func readBytes(_ relative: String, limit: Int = 64 << 10) -> [UInt8]? {
        try? reader.read("/" + relative, limit: limit)
    }

    private func readText(_ relative: String) -> String? {
        try? reader.readString("/" + relative)
    }

    private func entries(of relative: String) -> [String] {
        guard let host = try? reader.hostPath("/" + relative), let dir = opendir(host) else { return [] }
        defer { closedir(dir) }
        var out: [String] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { out.append(name) }
        }
        return out
    }

    private func numericEntries(of relative: String) -> [Int32] {
        entries(of: relative).compactMap { Int32($0) }.filter { $0 > 0 }.sorted()
    }
}

extension Domain {
    /// Where this running guest lives on the host (`GuestLocator().locate(self)`).
    public func location(locator: GuestLocator = GuestLocator()) async throws -> GuestLocation {
        try await locator.locate(self)
    }
}
