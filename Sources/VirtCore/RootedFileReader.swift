#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The kind of file system object found where a file was expected.
public enum RootedFileKind: String, Sendable, Hashable, Codable, CustomStringConvertible {
    case regular, directory, symlink, fifo, characterDevice, blockDevice, socket, unknown

    /// From `stat`'s `st_mode`.
    public init(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        case S_IFLNK: self = .symlink
        case S_IFIFO: self = .fifo
        case S_IFCHR: self = .characterDevice
        case S_IFBLK: self = .blockDevice
        case S_IFSOCK: self = .socket
        default: self = .unknown
        }
    }

    public var description: String {
        switch self {
        case .regular: "regular file"
        case .directory: "directory"
        case .symlink: "symbolic link"
        case .fifo: "FIFO"
        case .characterDevice: "character device"
        case .blockDevice: "block device"
        case .socket: "socket"
        case .unknown: "unknown file type"
        }
    }
}

/// Why a file under a root could not be read.
public enum RootedReadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A system call failed (`ENOENT`, `EACCES`, `ELOOP` for a link loop, …).
    case system(errno: Int32)
    /// The file holds more than `limit` bytes (the per-file bound of its kind).
    case tooLarge(limit: Int)
    /// Not a regular file (a FIFO, a device node, a directory, …): never opened for reading
    /// in a way that could block, never read.
    case notARegularFile(RootedFileKind)

    /// The errno closest to the failure (`EFBIG` for too large, `EINVAL` for a wrong file type).
    public var errno: Int32 {
        switch self {
        case .system(let e): e
        case .tooLarge: EFBIG
        case .notARegularFile(let k): k == .directory ? EISDIR : EINVAL
        }
    }

    public var description: String {
        switch self {
        case .system(let e): String(cString: strerror(e))
        case .tooLarge(let limit): "larger than the \(limit)-byte limit for this file"
        case .notARegularFile(let kind): "not a regular file (\(kind))"
        }
    }
}

/// Reads files under a root directory the way HostProbe and CgroupControl need on input they
/// do not control (captured trees, fixtures, another program's cgroup files):
///
/// - **Rooted**: every path, and every symlink met on the way, resolves *inside* `root`: an
///   absolute link target restarts at the root and `..` stops there (like `openat2`'s
///   `RESOLVE_IN_ROOT`), so no path or link can reach a file outside it. On the live root `/`
///   the kernel's own resolution is already confined and is used as is.
/// - **Never blocks on a special file**: opened with `O_NONBLOCK` (a FIFO without a writer
///   opens at once), then `fstat` on the descriptor: anything but a regular file (procfs and
///   sysfs attributes are regular files) is refused before a byte is read.
/// - **Bounded**: reads at most `limit` bytes; a larger file is `.tooLarge`, so neither memory
///   nor time grows with a hostile file's size.
///
/// Resolved directories are cached (a lock-protected dictionary), so a walk costs one
/// `lstat` per new component, not per file. Sendable: the cache is behind a `Mutex`.
public struct RootedFileReader: Sendable {
    /// The host directory standing for `/` (no trailing slash; `/` for the live root).
    public let root: String
    private let cache: DirectoryCache

    /// Bounds for files HostProbe and CgroupControl read, by kind.
    public enum Bound {
        /// A sysfs or cgroup attribute (the kernel caps most at one page).
        public static let attribute = 1 << 20
        /// A procfs table that grows with the machine (`/proc/cpuinfo`, `/proc/stat`,
        /// mountinfo, `cgroup.procs`): 64 MiB is ~400 000 mounts or 40 000 CPUs.
        public static let table = 64 << 20
    }

    public init(root: String) {
        var r = root
        while r.count > 1, r.hasSuffix("/") { r.removeLast() }
        self.root = r.isEmpty ? "/" : r
        self.cache = DirectoryCache()
    }

    /// True for the real `/`: the kernel's resolution is used.
    public var isLive: Bool { root == "/" }

    /// `/a/./b//c/../d` → `/a/b/d` (lexical; `..` clamps at `/`).
    public static func normalize(_ path: String) -> String {
        var out: [Substring] = []
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." { _ = out.popLast(); continue }
            out.append(c)
        }
        return "/" + out.joined(separator: "/")
    }

    /// The host path showing the virtual path `path`, with every symlink resolved inside the
    /// root. A missing last component is allowed (the caller's `open`/`mkdir` reports it).
    public func hostPath(_ path: String) throws(RootedReadError) -> String {
        if isLive { return Self.normalize(path) }
        return host(try resolve(path))
    }

    /// The resolved virtual path (no links, no `.`/`..`) of `path`.
    public func resolve(_ path: String) throws(RootedReadError) -> String {
        let n = Self.normalize(path)
        if isLive || n == "/" { return n }
        let slash = n.utf8.lastIndex(of: UInt8(ascii: "/"))!
        let parent = slash == n.startIndex ? "/" : String(n[..<slash])
        let name = String(n[n.index(after: slash)...])
        let dir = try resolveDirectory(parent)
        var links = 0
        return try walk(from: dir, components: [name], links: &links, lastMayBeMissing: true)
    }

    private func host(_ virtual: String) -> String { virtual == "/" ? root : root + virtual }

    private func resolveDirectory(_ v: String) throws(RootedReadError) -> String {
        if v == "/" { return "/" }
        if let hit = cache.get(v) { return hit }
        var links = 0
        let comps = v.split(separator: "/").map(String.init)
        let r = try walk(from: "/", components: comps, links: &links, lastMayBeMissing: false)
        cache.set(v, r)
        return r
    }

    /// Walks `components` from the resolved directory `start`, following links inside the root.
    private func walk(from start: String, components: [String], links: inout Int, lastMayBeMissing: Bool) throws(RootedReadError) -> String {
        var done: [Substring] = start == "/" ? [] : start.split(separator: "/")
        var todo = Array(components.reversed())
        while let c = todo.popLast() {
            if c.isEmpty || c == "." { continue }
            if c == ".." { _ = done.popLast(); continue }
            let candidate = "/" + (done + [Substring(c)]).joined(separator: "/")
            var st = stat()
            if lstat(host(candidate), &st) != 0 {
                let e = errno
                if e == ENOENT, todo.isEmpty, lastMayBeMissing { return candidate }
                throw .system(errno: e)
            }
            if st.st_mode & S_IFMT == S_IFLNK {
                links += 1
                if links > 40 { throw .system(errno: ELOOP) }
                let target = try Self.readLink(host(candidate))
                if target.hasPrefix("/") { done = [] }
                todo.append(contentsOf: target.split(separator: "/").map(String.init).reversed())
            } else {
                if !todo.isEmpty, st.st_mode & S_IFMT != S_IFDIR { throw .system(errno: ENOTDIR) }
                done.append(Substring(c))
            }
        }
        return "/" + done.joined(separator: "/")
    }

    /// The target of the symlink at host path `host`.
    public static func readLink(_ host: String) throws(RootedReadError) -> String {
        var buf = [UInt8](repeating: 0, count: 4097)
        let n = buf.withUnsafeMutableBytes { readlink(host, $0.baseAddress!.assumingMemoryBound(to: CChar.self), 4096) }
        if n < 0 { throw .system(errno: errno) }
        return decodeEscapingInvalidUTF8(buf[0..<n])
    }

    /// The whole file at virtual path `path`, at most `limit` bytes.
    public func read(_ path: String, limit: Int = Bound.attribute) throws(RootedReadError) -> [UInt8] {
        let fd = try openConfined(path)
        defer { close(fd) }
        var bytes: [UInt8] = []
        let n = try Self.readAll(fd, limit: limit, into: &bytes)
        bytes.removeSubrange(n...)
        return bytes
    }

    /// Opens the file at virtual path `path` for reading, confined to the root. The hot path
    /// (thousands of cgroup and sysfs files per pass): the parent directory comes from the
    /// cache and the last component is opened with `O_NOFOLLOW`; only when that component is
    /// a link (`ELOOP`) does the full in-root walk run.
    private func openConfined(_ path: String) throws(RootedReadError) -> Int32 {
        if isLive { return try Self.openForReading(Self.normalize(path), followFinalLink: true) }
        let n = Self.normalize(path)
        if n != "/" {
            let slash = n.utf8.lastIndex(of: UInt8(ascii: "/"))!
            let parent = slash == n.startIndex ? "/" : String(n[..<slash])
            let dir = try resolveDirectory(parent)
            let candidate = (dir == "/" ? "" : dir) + String(n[slash...])
            do {
                return try Self.openForReading(host(candidate), followFinalLink: false)
            } catch {
                guard case .system(errno: ELOOP) = error else { throw error }
            }
        }
        return try Self.openForReading(try hostPath(path), followFinalLink: false)
    }

    /// The file as text; bytes that are not UTF-8 are kept as `\xNN` escapes.
    public func readString(_ path: String, limit: Int = Bound.attribute) throws(RootedReadError) -> String {
        Self.decodeEscapingInvalidUTF8(try read(path, limit: limit))
    }

    /// Opens `path` (relative to `directory` when given) read-only and non-blocking — without
    /// following a final symlink unless `followFinalLink` (the live root, where the kernel's
    /// resolution is the confinement) — and checks that it is a regular file.
    public static func openForReading(_ path: String, relativeTo directory: Int32? = nil, followFinalLink: Bool = false) throws(RootedReadError) -> Int32 {
        let flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | (followFinalLink ? 0 : O_NOFOLLOW)
        let fd = directory.map { openat($0, path, flags) } ?? open(path, flags)
        if fd < 0 { throw .system(errno: errno) }
        var st = stat()
        if fstat(fd, &st) != 0 { let e = errno; close(fd); throw .system(errno: e) }
        let kind = RootedFileKind(mode: st.st_mode)
        if kind != .regular { close(fd); throw .notARegularFile(kind) }
        return fd
    }

    /// Reads `fd` to its end into `buffer` (grown as needed, its size never more than
    /// `limit` + 1) and returns the byte count; more than `limit` bytes is `.tooLarge`, so a
    /// hostile file costs at most `limit` + 1 bytes of memory and reading.
    public static func readAll(_ fd: Int32, limit: Int, into buffer: inout [UInt8]) throws(RootedReadError) -> Int {
        var total = 0
        // Most files read here are one sysfs/cgroup value: start small, grow 4x.
        if buffer.isEmpty { buffer = [UInt8](repeating: 0, count: min(4096, limit + 1)) }
        while true {
            if total == buffer.count {
                if total > limit { throw .tooLarge(limit: limit) }
                // One zero-filled block appended (a memset and a memcpy, also in debug builds).
                buffer.append(contentsOf: [UInt8](repeating: 0, count: min(buffer.count * 3, limit + 1 - buffer.count)))
            }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + total, $0.count - total) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .system(errno: errno)
            }
            if n == 0 { return total }
            total += n
            if total > limit { throw .tooLarge(limit: limit) }
        }
    }

    /// Text from external bytes: valid UTF-8 as is; every byte of an invalid sequence as the
    /// four characters `\xNN`, so nothing is dropped or replaced silently.
    public static func decodeEscapingInvalidUTF8<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        var out = ""
        var pending: [UInt8] = []
        var i = bytes.startIndex
        func flush() {
            // Decode the longest valid prefix repeatedly; escape one byte where it fails.
            var start = 0
            while start < pending.count {
                var end = pending.count
                while end > start, String(validating: pending[start..<end], as: UTF8.self) == nil { end -= 1 }
                if end > start {
                    out += String(decoding: pending[start..<end], as: UTF8.self)
                    start = end
                } else {
                    out += "\\x" + String(pending[start], radix: 16, uppercase: false).leftPadded(2)
                    start += 1
                }
            }
            pending.removeAll(keepingCapacity: true)
        }
        while i != bytes.endIndex {
            pending.append(bytes[i])
            // Flush at ASCII boundaries so the prefix search stays within one short run.
            if bytes[i] < 0x80 || pending.count >= 64 { flush() }
            i = bytes.index(after: i)
        }
        flush()
        return out
    }

    /// At most `max` characters of external text for a diagnostic: `'abc…' (N bytes)`.
    public static func quote(_ text: some StringProtocol, max: Int = 40) -> String {
        let n = text.utf8.count
        if text.count <= max { return "'\(text)'" }
        return "'\(text.prefix(max))…' (\(n) bytes)"
    }
}

extension String {
    fileprivate func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}

/// Resolved directories of one reader (shared by its copies).
private final class DirectoryCache: Sendable {
    private let map = Mutex<[String: String]>([:])
    func get(_ k: String) -> String? { map.withLock { $0[k] } }
    func set(_ k: String, _ v: String) { map.withLock { m in if m.count < 4096 { m[k] = v } } }
}
