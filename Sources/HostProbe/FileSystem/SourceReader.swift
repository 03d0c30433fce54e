#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import VirtCore

struct Errno: Error { var code: Int32 }

/// `O_PATH` (Linux, `<fcntl.h>` under `_GNU_SOURCE`, so not imported by Glibc): an fd
/// usable as an `openat` base that needs only search permission. 010000000 on every
/// architecture Swift runs on (x86_64, aarch64, armv7, riscv64, ppc64le, s390x).
private let oPath: Int32 = 0o10000000

/// One directory entry from ``SourceReader/list(_:)``.
struct DirEntry: Hashable {
    enum Kind: Hashable { case directory, symlink, file, other }
    var name: String
    var kind: Kind
}

/// What a capture must reproduce: every file read, every link followed, every directory
/// listed and every device node looked at, by their resolved virtual paths.
struct ReadRecord {
    var files: Set<String> = []
    var links: [String: String] = [:]
    var directories: Set<String> = []
    var deviceNodes: Set<String> = []
}

/// Reads files under a ``ProbeRoot`` with one `open`/`read`/`close` per file (plain libc,
/// no Foundation) and resolves symlinks itself, component by component with `readlink`,
/// so they never leave the root. Resolved directories are cached: a probe of a 256-CPU
/// tree resolves `/sys/devices/system/cpu` once, not once per file.
///
/// Not thread-safe: one reader belongs to one probe run on one thread.
final class SourceReader {
    let root: ProbeRoot
    /// Kernel resolution is already confined to `/` on the live root; resolve ourselves
    /// only when needed (another root, binds, or a capture that must see the links).
    private let fastPath: Bool
    private var record: ReadRecord?
    private var resolvedDirs: [String: String] = ["/": "/"]
    private var failedDirs: [String: ReadFailure] = [:]
    private var linkDepth = 0
    /// Reused for every file (grown up to the largest file's bound, never beyond).
    private var buffer = RootedFileReader.Buffer()
    private let sortedBinds: [ProbeRoot.Bind]

    init(root: ProbeRoot, recording: Bool = false) {
        self.root = root
        self.fastPath = root.isLive && !recording
        self.record = recording ? ReadRecord() : nil
        self.sortedBinds = root.binds.sorted { $0.virtualPath.count > $1.virtualPath.count }
    }

    deinit {
        for (_, fd) in dirFDs { close(fd) }
    }

    /// A few recently used directories held open, so a file in them is opened
    /// with `openat(dirfd, name)`: the kernel walks one component instead of the whole
    /// host path (a fixture under /tmp is 10+ components deep; per-CPU files come in runs
    /// of ten from the same directory). Bounded so a 1000-CPU tree cannot exhaust fds.
    private var dirFDs: [String: Int32] = [:]
    /// The directory of the last file read: virtual path, physical path, open fd (if any).
    /// Cleared whenever that fd is closed.
    private var lastDir: (virtual: String, physical: String, fd: Int32?)?
    private var dirOrder: [String] = []
    private static let maxDirFDs = 16

    private func dirFD(_ physical: String) -> Int32? {
        if let fd = dirFDs[physical] {
            // Least recently used goes first: `/sys/devices/system/cpu` stays open across
            // the whole per-CPU loop instead of being reopened every 16 directories.
            if dirOrder.last != physical, let i = dirOrder.lastIndex(of: physical) {
                dirOrder.remove(at: i)
                dirOrder.append(physical)
            }
            return fd
        }
        // Relative to the parent when it is open (a short walk), else by the full host path.
        let parent = Self.parentOf(physical)
        let fd = physical != "/" && sortedBinds.isEmpty ? dirFDs[parent].map {
            openat($0, String(Self.lastName(physical)), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        } ?? open(hostPath(physical), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            : open(hostPath(physical), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        keepDirFD(physical, fd)
        return fd
    }

    private func keepDirFD(_ physical: String, _ fd: Int32) {
        if let old = dirFDs[physical] { closeDirFD(old); dirOrder.removeAll { $0 == physical } }
        if dirOrder.count >= Self.maxDirFDs {
            let old = dirOrder.removeFirst()
            if let ofd = dirFDs.removeValue(forKey: old) { closeDirFD(ofd) }
        }
        dirFDs[physical] = fd
        dirOrder.append(physical)
    }

    private func closeDirFD(_ fd: Int32) {
        if lastDir?.fd == fd { lastDir = nil }
        close(fd)
    }

    var recorded: ReadRecord? { record }

    // MARK: Paths

    /// The host path that shows virtual path `v` (already normalized and resolved).
    func hostPath(_ v: String) -> String {
        for b in sortedBinds where v == b.virtualPath || v.hasPrefix(b.virtualPath + "/") {
            return b.hostPath + v.dropFirst(b.virtualPath.count)
        }
        if root.path == "/" { return v }
        return v == "/" ? root.path : root.path + v
    }

    private static func join(_ dir: String, _ name: some StringProtocol) -> String {
        dir == "/" ? "/" + name : dir + "/" + name
    }

    /// The directory part of normalized `v` without copying it (`/` for top-level names).
    private static func parentPart(_ v: String) -> Substring {
        guard let slash = v.utf8.lastIndex(of: UInt8(ascii: "/")), slash != v.startIndex else { return "/" }
        return v[..<slash]
    }

    private static func parentOf(_ v: String) -> String {
        guard let slash = v.utf8.lastIndex(of: UInt8(ascii: "/")), slash != v.startIndex else { return "/" }
        return String(v[..<slash])
    }

    private static func lastName(_ v: String) -> Substring {
        guard let slash = v.utf8.lastIndex(of: UInt8(ascii: "/")) else { return v[...] }
        return v[v.index(after: slash)...]
    }

    static func normalized(_ v: String) -> String { ProbeRoot.normalize(v) }

    /// Fully resolves virtual path `v` (every component, links followed inside the root).
    func resolve(_ v: String) throws(ReadFailure) -> String {
        let n = Self.normalized(v)
        if fastPath { return n }
        return try resolveDir(n)
    }

    /// `v` is normalized (absolute, no `.`/`..`); the result is physical (no links).
    private func resolveDir(_ v: String) throws(ReadFailure) -> String {
        if let hit = resolvedDirs[v] { return hit }
        // A path that failed once fails again within one probe: `cpuN/cpufreq` is looked
        // up twice per CPU on hosts without cpufreq, `cpuN/cache` once per reader.
        if let failure = failedDirs[v] { throw failure }
        do {
            let parent = try resolveDir(Self.parentOf(v))
            let r = try resolveChild(parent, Self.lastName(v))
            resolvedDirs[v] = r
            return r
        } catch {
            failedDirs[v] = error
            throw error
        }
    }

    /// Resolves `name` inside the physical directory `parent`.
    private func resolveChild(_ parent: String, _ name: Substring) throws(ReadFailure) -> String {
        if name.isEmpty || name == "." { return parent }
        if name == ".." { return Self.parentOf(parent) }
        let candidate = Self.join(parent, name)
        if let hit = resolvedDirs[candidate] { return hit }
        // Bind points and the virtual directories above them exist whatever the host has.
        if sortedBinds.contains(where: { $0.virtualPath == candidate || $0.virtualPath.hasPrefix(candidate + "/") }) {
            resolvedDirs[candidate] = candidate
            return candidate
        }
        // The common case is a real directory: opening it relative to its parent with
        // O_NOFOLLOW proves it is not a link (one syscall instead of a failing `readlink`
        // plus a later open), and the fd is kept for the files read inside it.
        if sortedBinds.isEmpty, let pfd = dirFD(parent) {
            // O_PATH: needs search permission only, like the `readlink` it replaces.
            let fd = openat(pfd, String(name), oPath | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd >= 0 {
                keepDirFD(candidate, fd)
                resolvedDirs[candidate] = candidate
                return candidate
            }
            let e = errno
            if e == ENOENT { throw ReadFailure.missing }
            // ENOTDIR/ELOOP (a link or a file) and anything else: `readlink` tells which.
        }
        switch readLinkRaw(hostPath(candidate)) {
        case .success(let target):
            record?.links[candidate] = target
            linkDepth += 1
            defer { linkDepth -= 1 }
            if linkDepth > 40 { throw .symlinkLoop }
            var cur = target.hasPrefix("/") ? "/" : parent
            for comp in target.split(separator: "/", omittingEmptySubsequences: true) {
                cur = try resolveChild(cur, comp)
            }
            resolvedDirs[candidate] = cur
            return cur
        case .failure(let e):
            if e.code == EINVAL {
                resolvedDirs[candidate] = candidate
                return candidate
            }
            throw ReadFailure.fromErrno(e.code)
        }
    }

    private func readLinkRaw(_ host: String) -> Result<String, Errno> {
        do { return .success(try RootedFileReader.readLink(host)) } catch { return .failure(Errno(code: error.errno)) }
    }

    // MARK: Reading

    /// The per-file bound: a sysfs/procfs attribute is small; the tables that grow with the
    /// machine (`/proc/cpuinfo`, `/proc/stat`, the mount tables) get `Bound.table`.
    static func limit(for v: String) -> Int {
        guard v.hasPrefix("/proc/") else { return RootedFileReader.Bound.attribute }
        switch v {
        case "/proc/cpuinfo", "/proc/stat", "/proc/mounts", "/proc/self/mountinfo", "/proc/interrupts", "/proc/swaps":
            return RootedFileReader.Bound.table
        default:
            return RootedFileReader.Bound.attribute
        }
    }

    /// The whole content of the file at virtual path `v`; invalid UTF-8 kept as `\xNN`.
    func read(_ v: String) -> Result<String, ReadFailure> {
        withBytes(v) { RootedFileReader.decodeEscapingInvalidUTF8($0) }
    }

    /// Opens `name` (relative to `dir` when given) with the bounded reader's checks.
    private func openChecked(_ name: String, in dir: Int32?, followFinalLink: Bool = false) -> Result<(fd: Int32, size: Int), ReadFailure> {
        do { return .success(try RootedFileReader.openSizedForReading(name, relativeTo: dir, followFinalLink: followFinalLink)) }
        catch { return .failure(ReadFailure(error)) }
    }

    /// Reads into the internal buffer and returns the byte count; `withBytes` hands them out.
    private func readBytes(_ v: String) -> Result<Int, ReadFailure> {
        let host: String
        var resolved = v
        if fastPath {
            host = v
        } else {
            do {
                let n = Self.normalized(v)
                let name = Self.lastName(n)
                if n != "/", !name.isEmpty, name != "..", name != "." {
                    // Per-CPU and per-node files come in runs from one directory: compare
                    // with the last one instead of hashing the path into two dictionaries.
                    let parentV = Self.parentPart(n)
                    let parent: String
                    let dfd: Int32?
                    if let last = lastDir, parentV == last.virtual {
                        (parent, dfd) = (last.physical, last.fd)
                    } else {
                        let pv = String(parentV)
                        parent = try resolveDir(pv)
                        // Bind mount points are files of their own: open them by full path.
                        dfd = sortedBinds.isEmpty ? dirFD(parent) : nil
                        lastDir = (pv, parent, dfd)
                    }
                    // Try the file itself without following: the common case is one syscall.
                    // A link (ELOOP) takes the resolving path below.
                    let opened = dfd.map { openChecked(String(name), in: $0) } ?? openChecked(hostPath(Self.join(parent, name)), in: nil)
                    switch opened {
                    case .success(let file): return finishRead(file, record == nil ? "" : Self.join(parent, name), limit: Self.limit(for: n))
                    case .failure(.symlinkLoop): break   // a link: resolved below
                    case .failure(let f): return .failure(f)
                    }
                }
                resolved = try resolveDir(n)
            } catch {
                return .failure(error)
            }
            host = hostPath(resolved)
        }
        // The live root's own links (`/proc/mounts` → `self/mounts`) are the kernel's to follow.
        switch openChecked(host, in: nil, followFinalLink: fastPath) {
        case .success(let file): return finishRead(file, resolved, limit: Self.limit(for: resolved))
        case .failure(let f): return .failure(f)
        }
    }

    private func finishRead(_ file: (fd: Int32, size: Int), _ resolved: String, limit: Int) -> Result<Int, ReadFailure> {
        defer { close(file.fd) }
        do {
            let total = try RootedFileReader.readAll(file.fd, limit: limit, sizeHint: file.size, into: &buffer)
            record?.files.insert(resolved)
            return .success(total)
        } catch {
            // Do not keep a bound-sized buffer for the rest of the probe.
            if case .tooLarge = error { buffer.release() }
            return .failure(ReadFailure(error))
        }
    }

    /// The file's content without leading and trailing ASCII whitespace: one sysfs value.
    /// Trailing NUL bytes go too, as the kernel's own consumers ignore them: hwloc's archives
    /// hold sysfs files ending in `\n\0` (`0-31\n\0`). A NUL anywhere else stays, and the
    /// value's parser rejects it.
    func readTrimmed(_ v: String) -> Result<String, ReadFailure> {
        withBytes(v) { buf in
            var s = 0, e = buf.count
            func blank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D }
            while e > s, blank(buf[e - 1]) || buf[e - 1] == 0 { e -= 1 }
            while s < e, blank(buf[s]) { s += 1 }
            return RootedFileReader.decodeEscapingInvalidUTF8(UnsafeRawBufferPointer(rebasing: buf[s..<e]))
        }
    }

    /// Calls `body` with the raw bytes of the file (no String allocation; hot paths).
    func withBytes<T>(_ v: String, _ body: (UnsafeRawBufferPointer) -> T) -> Result<T, ReadFailure> {
        switch readBytes(v) {
        case .success(let n): return .success(body(UnsafeRawBufferPointer(buffer.bytes(n))))
        case .failure(let f): return .failure(f)
        }
    }

    /// The target text of the symlink at `v` (e.g. `../../../bus/pci/drivers/virtio-pci`).
    func readLink(_ v: String) -> Result<String, ReadFailure> {
        let n = Self.normalized(v)
        let resolved: String
        if fastPath {
            resolved = n
        } else {
            do {
                let parent = try resolveDir(Self.parentOf(n))
                resolved = Self.join(parent, Self.lastName(n))
            } catch {
                return .failure(error)
            }
        }
        switch readLinkRaw(hostPath(resolved)) {
        case .success(let t):
            record?.links[resolved] = t
            return .success(t)
        case .failure(let e):
            return .failure(.fromErrno(e.code))
        }
    }

    /// The entries of directory `v`, sorted by name; `.` and `..` left out.
    func list(_ v: String) -> Result<[DirEntry], ReadFailure> {
        let resolved: String
        do { resolved = try resolve(v) } catch { return .failure(error) }
        let host = hostPath(resolved)
        guard let dir = opendir(host) else { return .failure(.fromErrno(errno)) }
        defer { closedir(dir) }
        var out: [DirEntry] = []
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                RootedFileReader.decodeEscapingInvalidUTF8(raw.prefix(while: { $0 != 0 }))
            }
            if name == "." || name == ".." { continue }
            var kind: DirEntry.Kind
            switch Int32(ent.pointee.d_type) {
            case Int32(DT_DIR): kind = .directory
            case Int32(DT_LNK): kind = .symlink
            case Int32(DT_REG): kind = .file
            case Int32(DT_UNKNOWN): kind = Self.lstatKind(host + "/" + name)
            default: kind = .other
            }
            out.append(DirEntry(name: name, kind: kind))
            // A capture must reproduce what a listing shows: sub-directories and links
            // (IOMMU group members, `mq/0`) even when nothing below them is read.
            if record != nil {
                let child = Self.join(resolved, name)
                if kind == .directory { record?.directories.insert(child) }
                if kind == .symlink, case .success(let t) = readLinkRaw(host + "/" + name) { record?.links[child] = t }
            }
        }
        record?.directories.insert(resolved)
        out.sort { $0.name < $1.name }
        return .success(out)
    }

    private static func lstatKind(_ host: String) -> DirEntry.Kind {
        var st = stat()
        guard lstat(host, &st) == 0 else { return .other }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        case S_IFREG: return .file
        default: return .other
        }
    }

    /// Whether `v` exists (links followed inside the root).
    func exists(_ v: String) -> Bool {
        guard let r = try? resolve(v) else { return false }
        var st = stat()
        guard stat(hostPath(r), &st) == 0 else { return false }
        // A capture must reproduce what was found to exist.
        if record != nil {
            if st.st_mode & S_IFMT == S_IFDIR { record?.directories.insert(r) } else { record?.files.insert(r) }
        }
        return true
    }

    /// Facts about a device node such as `/dev/kvm`: whether it exists, is a character
    /// device, and whether this process may open it read-write (`access(2)`).
    func deviceNode(_ v: String) -> DeviceNode {
        guard let r = try? resolve(v) else { return DeviceNode(path: v, present: false) }
        let host = hostPath(r)
        var st = stat()
        guard stat(host, &st) == 0 else { return DeviceNode(path: v, present: false) }
        record?.deviceNodes.insert(r)
        let isChar = st.st_mode & S_IFMT == S_IFCHR
        let number = isChar ? DeviceNumber(rawDeviceNumber: UInt64(st.st_rdev)) : nil
        return DeviceNode(
            path: v, present: true,
            isCharacterDevice: isChar,
            accessible: access(host, R_OK | W_OK) == 0,
            major: number.map { Int($0.major) },
            minor: number.map { Int($0.minor) })
    }
}

/// A device node such as `/dev/kvm`, `/dev/vhost-net`, `/dev/net/tun`.
public struct DeviceNode: Sendable, Hashable, Codable {
    public var path: String
    public var present: Bool
    /// False in captured fixture trees, where device nodes are stand-in files.
    public var isCharacterDevice: Bool?
    /// `access(path, R_OK|W_OK)` for this process.
    public var accessible: Bool?
    public var major: Int?
    public var minor: Int?

    public init(path: String, present: Bool, isCharacterDevice: Bool? = nil, accessible: Bool? = nil, major: Int? = nil, minor: Int? = nil) {
        self.path = path
        self.present = present
        self.isCharacterDevice = isCharacterDevice
        self.accessible = accessible
        self.major = major
        self.minor = minor
    }
}
