#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(CVirtCoreShims)
import CVirtCoreShims
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
///   absolute link target restarts at the root and `..` stops there. On Linux 5.6+ the kernel
///   does this in the one `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` call that opens
///   the file, relative to a descriptor of the root; elsewhere (no `openat2`, or a seccomp
///   filter refusing it) the reader walks the path itself with `lstat`/`readlink` and opens
///   the last component with `O_NOFOLLOW`. On the live root `/` the kernel's own resolution
///   is already confined and is used as is.
/// - **Never blocks on a special file**: opened with `O_NONBLOCK` (a FIFO without a writer
///   opens at once), then `fstat` on the descriptor: anything but a regular file (procfs and
///   sysfs attributes are regular files) is refused before a byte is read.
/// - **Bounded**: reads at most `limit` + 1 bytes (a regular file whose size is already
///   beyond it is refused without reading); a larger file is `.tooLarge`, so neither memory
///   nor time grows with a hostile file's size. The buffer is uninitialized heap memory grown
///   in place (`realloc`), so an oversize read peaks near the bound, not at a multiple of it.
///
/// Sendable: copies share one state object (the root descriptor, opened on first use, and
/// the resolved-directory cache behind a `Mutex`).
public struct RootedFileReader: Sendable {
    /// The host directory standing for `/` (no trailing slash; `/` for the live root).
    public let root: String
    private let state: ReaderState
    /// Set inside ``withDirectoryBatch(_:)``.
    private var batch: DirectoryBatch?

    /// Bounds for files HostProbe and CgroupControl read, by kind.
    public enum Bound {
        /// A sysfs or cgroup attribute (the kernel caps most at one page).
        public static let attribute = 1 << 20
        /// A procfs table that grows with the machine (`/proc/cpuinfo`, `/proc/stat`,
        /// mountinfo, `cgroup.procs`): 64 MiB is ~400 000 mounts or 40 000 CPUs.
        public static let table = 64 << 20
    }

    public init(root: String) { self.init(root: root, kernelResolution: true) }

    /// `kernelResolution: false` always takes the walk (tests compare the two ways).
    init(root: String, kernelResolution: Bool) {
        var r = root
        while r.count > 1, r.hasSuffix("/") { r.removeLast() }
        self.root = r.isEmpty ? "/" : r
        self.state = ReaderState(root: self.root, openat2: kernelResolution)
    }

    /// True for the real `/`: the kernel's resolution is used.
    public var isLive: Bool { root == "/" }

    /// Whether files open through `openat2(RESOLVE_IN_ROOT)` (else through the walk).
    var usesKernelResolution: Bool { !isLive && state.rootDescriptor() != nil }

    /// The directories the reader's batch holds open, in the order opened (tests).
    var batchDirectories: [String] { batch?.paths ?? [] }

    /// The root's descriptor for a batch's directories (nil on the live root or without `openat2`).
    fileprivate var rootDescriptorForBatch: Int32? { isLive ? nil : state.rootDescriptor() }

    /// `/a/./b//c/../d` → `/a/b/d` (lexical; `..` clamps at `/`). A path that is already
    /// normal is returned as is (one pass over its bytes, no allocation).
    public static func normalize(_ path: String) -> String {
        if isNormalized(path) { return path }
        var out: [Substring] = []
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." { _ = out.popLast(); continue }
            out.append(c)
        }
        return "/" + out.joined(separator: "/")
    }

    /// Whether `path` is already what ``normalize(_:)`` makes of it: absolute, no empty,
    /// `.` or `..` component, no trailing slash.
    public static func isNormalized(_ path: String) -> Bool {
        var path = path
        return path.withUTF8 { bytes in
            guard bytes.first == UInt8(ascii: "/") else { return false }
            if bytes.count == 1 { return true }
            // The current component's length and how many of its bytes are dots.
            var length = 0, dots = 0
            for i in 1..<bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "/") {
                    if length == 0 || (length == dots && length <= 2) { return false }
                    length = 0
                    dots = 0
                } else {
                    length += 1
                    if b == UInt8(ascii: ".") { dots += 1 }
                }
            }
            return !(length == 0 || (length == dots && length <= 2))
        }
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
        if let hit = state.directories.get(v) { return hit }
        var links = 0
        let comps = v.split(separator: "/").map(String.init)
        let r = try walk(from: "/", components: comps, links: &links, lastMayBeMissing: false)
        state.directories.set(v, r)
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
        try withBytes(path, limit: limit) { Array($0) }
    }

    /// The file as text; bytes that are not UTF-8 are kept as `\xNN` escapes.
    public func readString(_ path: String, limit: Int = Bound.attribute) throws(RootedReadError) -> String {
        try withBytes(path, limit: limit) { Self.decodeEscapingInvalidUTF8($0) }
    }

    /// Calls `body` with the whole file at virtual path `path` (at most `limit` bytes), held
    /// in memory only for the call: parsers that want numbers, not text, skip the `String`.
    public func withBytes<T>(_ path: String, limit: Int = Bound.attribute, _ body: (UnsafeBufferPointer<UInt8>) -> T) throws(RootedReadError) -> T {
        let file = try openConfined(path)
        defer { close(file.fd) }
        var buffer = Buffer()
        let n = try Self.readAll(file.fd, limit: limit, sizeHint: file.size, into: &buffer)
        return body(buffer.bytes(n))
    }

    /// Opens the file at virtual path `path` for reading, confined to the root; the
    /// descriptor and the size `fstat` reported.
    private func openConfined(_ path: String) throws(RootedReadError) -> (fd: Int32, size: Int) {
        let n = Self.normalize(path)
        #if canImport(CVirtCoreShims)
        if let batch, let fd = try batch.open(n, reader: self) { return try Self.checkRegular(fd) }
        #endif
        if isLive { return try Self.openSizedForReading(n, followFinalLink: true) }
        #if canImport(CVirtCoreShims)
        if let rootFD = state.rootDescriptor() {
            let fd = virtkit_openat2(rootFD, n, UInt64(O_RDONLY | O_NONBLOCK | O_CLOEXEC), resolveInRoot | resolveNoMagicLinks)
            if fd >= 0 { return try Self.checkRegular(fd) }
            let e = errno
            switch e {
            case ENOSYS, EPERM:
                // No openat2, or a seccomp filter refusing it (a read-only open is never
                // EPERM on its own merits): the walk from now on.
                state.openat2Unavailable()
            case EINVAL, E2BIG, EAGAIN, EXDEV:
                break   // an old kernel's flags or a rename race: the walk below decides
            default:
                throw .system(errno: e)
            }
        }
        #endif
        // The walk: the parent directory from the cache, the last component with
        // O_NOFOLLOW; only a link there (ELOOP) takes the full in-root walk.
        if n != "/" {
            let slash = n.utf8.lastIndex(of: UInt8(ascii: "/"))!
            let parent = slash == n.startIndex ? "/" : String(n[..<slash])
            let dir = try resolveDirectory(parent)
            let candidate = (dir == "/" ? "" : dir) + String(n[slash...])
            do {
                return try Self.openSizedForReading(host(candidate), followFinalLink: false)
            } catch {
                guard case .system(errno: ELOOP) = error else { throw error }
            }
        }
        return try Self.openSizedForReading(try hostPath(n), followFinalLink: false)
    }

    /// Runs `body` with a reader whose reads share directory descriptors: the directory of
    /// the first file read outside the batch's directories is opened once (resolved like any
    /// path), and files below it open relative to it with a short walk that refuses any
    /// symlink (`openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`; a link there takes the
    /// full in-root resolution instead, so what is read is the same). For many files in a
    /// few directories: a guest's cgroup tree costs one path walk instead of one per file.
    /// The descriptors close when `body` returns; a directory replaced on disk meanwhile is
    /// not seen again within the batch (a snapshot, like a listing).
    public func withDirectoryBatch<T, E: Error>(_ body: (RootedFileReader) throws(E) -> T) throws(E) -> T {
        #if canImport(CVirtCoreShims)
        if batch != nil || (!isLive && state.rootDescriptor() == nil) { return try body(self) }
        var copy = self
        let b = DirectoryBatch()
        copy.batch = b
        defer { b.close() }
        return try body(copy)
        #else
        return try body(self)
        #endif
    }

    /// Opens `path` (relative to `directory` when given) read-only and non-blocking — without
    /// following a final symlink unless `followFinalLink` (the live root, where the kernel's
    /// resolution is the confinement) — and checks that it is a regular file.
    public static func openForReading(_ path: String, relativeTo directory: Int32? = nil, followFinalLink: Bool = false) throws(RootedReadError) -> Int32 {
        try openSizedForReading(path, relativeTo: directory, followFinalLink: followFinalLink).fd
    }

    /// ``openForReading(_:relativeTo:followFinalLink:)`` that also returns the file's size
    /// from the same `fstat` (a hint for ``readAll(_:limit:sizeHint:into:)``: 0 for most
    /// procfs and cgroupfs files).
    public static func openSizedForReading(_ path: String, relativeTo directory: Int32? = nil, followFinalLink: Bool = false) throws(RootedReadError) -> (fd: Int32, size: Int) {
        let flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | (followFinalLink ? 0 : O_NOFOLLOW)
        let fd = directory.map { openat($0, path, flags) } ?? open(path, flags)
        if fd < 0 { throw .system(errno: errno) }
        return try checkRegular(fd)
    }

    /// `fstat` on a fresh descriptor: closes it and throws unless it is a regular file.
    private static func checkRegular(_ fd: Int32) throws(RootedReadError) -> (fd: Int32, size: Int) {
        var st = stat()
        if fstat(fd, &st) != 0 { let e = errno; close(fd); throw .system(errno: e) }
        let kind = RootedFileKind(mode: st.st_mode)
        if kind != .regular { close(fd); throw .notARegularFile(kind) }
        return (fd, Int(st.st_size))
    }

    /// Memory for bounded reads: uninitialized (never zero-filled), grown in place with
    /// `realloc` (large blocks move by remapping pages, so an old and a new copy are never
    /// both alive), freed when the value ends. Reusable across files (HostProbe keeps one).
    public struct Buffer: ~Copyable {
        private var base: UnsafeMutableRawPointer?
        /// Bytes allocated.
        public private(set) var capacity = 0

        public init() {}

        deinit { free(base) }

        /// The first `count` bytes (valid until the buffer next grows, is released or ends).
        public func bytes(_ count: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(start: base?.assumingMemoryBound(to: UInt8.self), count: count)
        }

        /// Returns the memory (after an oversize read, so a bound-sized block is not kept).
        public mutating func release() {
            free(base)
            base = nil
            capacity = 0
        }

        /// At least `bytes` allocated, the bytes already read kept.
        mutating func grow(to bytes: Int) throws(RootedReadError) {
            guard bytes > capacity else { return }
            guard let p = realloc(base, bytes) else { throw .system(errno: ENOMEM) }
            base = p
            capacity = bytes
        }

        /// `read(2)` into the bytes from `offset` to the end.
        mutating func read(_ fd: Int32, at offset: Int) -> Int {
            Glibc.read(fd, base! + offset, capacity - offset)
        }
    }

    /// Reads `fd` to its end into `buffer` (grown as needed, never beyond `limit` + 1 bytes)
    /// and returns the byte count; more than `limit` bytes is `.tooLarge`, so a hostile file
    /// costs at most `limit` + 1 bytes of memory and reading. `sizeHint` is the size `fstat`
    /// reported: a regular file already larger than `limit` is refused unread, and one read
    /// that returns exactly that size, short of the space offered, is the whole file (no
    /// second `read` to see the end). 0 (procfs, cgroupfs) means unknown: read until `read`
    /// returns 0, as a short read there is one record, not the end.
    public static func readAll(_ fd: Int32, limit: Int, sizeHint: Int = 0, into buffer: inout Buffer) throws(RootedReadError) -> Int {
        // (sysfs reports every attribute as one page, whatever it holds: not a reason to refuse.)
        if sizeHint > limit, sizeHint > 4096 { throw .tooLarge(limit: limit) }
        // Most files read here are one sysfs/cgroup value: start at their size or a page, grow 4x.
        let first = min(sizeHint > 0 ? sizeHint + 1 : 4096, limit + 1)
        try buffer.grow(to: first)
        var total = 0
        while true {
            if total == buffer.capacity {
                if total > limit { throw .tooLarge(limit: limit) }
                try buffer.grow(to: min(buffer.capacity * 4, limit + 1))
            }
            let asked = buffer.capacity - total
            let n = buffer.read(fd, at: total)
            if n < 0 {
                if errno == EINTR { continue }
                throw .system(errno: errno)
            }
            if n == 0 { return total }
            total += n
            if total > limit { throw .tooLarge(limit: limit) }
            if n < asked, total == sizeHint { return total }
        }
    }

    /// Text from external bytes: valid UTF-8 as is; every byte of an invalid sequence as the
    /// four characters `\xNN`, so nothing is dropped or replaced silently.
    public static func decodeEscapingInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        // The common case (kernel text): one validating copy from contiguous memory.
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        return escapingInvalidUTF8(bytes)
    }

    /// The same, for raw bytes.
    public static func decodeEscapingInvalidUTF8(_ bytes: UnsafeRawBufferPointer) -> String {
        decodeEscapingInvalidUTF8(bytes.assumingMemoryBound(to: UInt8.self))
    }

    /// Text from external bytes: valid UTF-8 as is; every byte of an invalid sequence as the
    /// four characters `\xNN`, so nothing is dropped or replaced silently.
    public static func decodeEscapingInvalidUTF8<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        return escapingInvalidUTF8(bytes)
    }

    private static func escapingInvalidUTF8<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
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

#if canImport(CVirtCoreShims)
/// `RESOLVE_IN_ROOT` and `RESOLVE_NO_MAGICLINKS` from `<linux/openat2.h>`.
private let resolveInRoot: UInt64 = 0x10
private let resolveNoMagicLinks: UInt64 = 0x02
#endif

/// What the copies of one reader share: the root's descriptor (the base of every `openat2`,
/// opened on first use, closed with the last copy) and the resolved-directory cache.
private final class ReaderState: Sendable {
    let root: String
    let directories = DirectoryCache()
    /// -2: not opened yet; -1: the root cannot be opened (the walk reports why per file);
    /// else the descriptor, open until the last copy of the reader ends.
    private let descriptor = Atomic<Int32>(-2)
    /// Cleared when the kernel (or a seccomp filter) has no `openat2`.
    private let useOpenat2: Atomic<Bool>

    init(root: String, openat2: Bool) {
        self.root = root
        self.useOpenat2 = Atomic(openat2)
    }

    deinit {
        let fd = descriptor.load(ordering: .acquiring)
        if fd >= 0 { close(fd) }
    }

    func rootDescriptor() -> Int32? {
        guard useOpenat2.load(ordering: .relaxed) else { return nil }
        let fd = descriptor.load(ordering: .acquiring)
        if fd >= 0 { return fd }
        if fd == -1 { return nil }
        // O_PATH (Linux, 0o10000000 on every architecture; not exported by Glibc): search
        // permission only, never reads the directory.
        let opened = open(root, 0o10000000 | O_DIRECTORY | O_CLOEXEC)
        let (won, current) = descriptor.compareExchange(expected: -2, desired: opened < 0 ? -1 : opened, ordering: .acquiringAndReleasing)
        if !won, opened >= 0 { close(opened) }
        let result = won ? (opened < 0 ? -1 : opened) : current
        return result >= 0 ? result : nil
    }

    /// The kernel has no `openat2` (or a filter hides it): the walk from now on.
    func openat2Unavailable() { useOpenat2.store(false, ordering: .relaxed) }
}

extension String {
    fileprivate func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}

#if canImport(CVirtCoreShims)
/// The directories a ``RootedFileReader/withDirectoryBatch(_:)`` has open: virtual path
/// (as requested, normalized) and descriptor. Used by one task at a time; the lock keeps
/// a copy that escaped the batch from using a descriptor while it closes.
private final class DirectoryBatch: Sendable {
    private struct Bases {
        var closed = false
        var paths: [String] = []
        var fds: [Int32] = []
    }
    private let bases = Mutex(Bases())
    /// Enough for a guest's hierarchies (v1: one per controller mount).
    private static let maxDirectories = 16

    /// A descriptor for normalized `path` opened under one of the batch's directories;
    /// nil when the full resolution must decide (outside them, a link on the way, closed).
    func open(_ path: String, reader: RootedFileReader) throws(RootedReadError) -> Int32? {
        let result: Result<Int32?, RootedReadError> = bases.withLock { b in
            if b.closed { return .success(nil) }
            let count = path.utf8.count
            var index = b.paths.firstIndex { Self.isBelow(path, count, $0) }
            if index == nil, b.paths.count < Self.maxDirectories {
                // A new directory: the file's own, resolved the way the reader resolves paths.
                guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")), slash != path.utf8.startIndex else { return .success(nil) }
                let dir = String(path[..<slash])
                let fd: Int32
                if reader.isLive {
                    fd = Glibc.open(dir, 0o10000000 | O_DIRECTORY | O_CLOEXEC)
                } else {
                    guard let root = reader.rootDescriptorForBatch else { return .success(nil) }
                    fd = virtkit_openat2(root, dir, UInt64(0o10000000 | O_DIRECTORY | O_CLOEXEC), resolveInRoot | resolveNoMagicLinks)
                }
                if fd < 0 { return .success(nil) }
                b.paths.append(dir)
                b.fds.append(fd)
                index = b.paths.count - 1
            }
            guard let index else { return .success(nil) }
            let offset = b.paths[index].utf8.count + 1
            let fd = path.withCString { virtkit_openat2(b.fds[index], $0 + offset, UInt64(O_RDONLY | O_NONBLOCK | O_CLOEXEC), resolveBeneath | resolveNoSymlinks | resolveNoMagicLinks) }
            if fd >= 0 { return .success(fd) }
            let e = errno
            // Nothing there (no link can hide it: links are refused, not followed).
            if e == ENOENT || e == ENOTDIR { return .failure(.system(errno: e)) }
            // No openat2 here, or a filter refusing it (the live root): the batch steps aside.
            if e == ENOSYS || e == EPERM { Self.closeAll(&b) }
            return .success(nil)
        }
        return try result.get()
    }

    var paths: [String] { bases.withLock { $0.paths } }

    /// Whether `path` (`count` bytes) lies below the directory `dir`.
    private static func isBelow(_ path: String, _ count: Int, _ dir: String) -> Bool {
        let d = dir.utf8.count
        guard count > d + 1 else { return false }
        var p = path, q = dir
        return p.withUTF8 { pb in q.withUTF8 { qb in pb[d] == UInt8(ascii: "/") && memcmp(pb.baseAddress!, qb.baseAddress!, d) == 0 } }
    }

    func close() { bases.withLock { Self.closeAll(&$0) } }

    private static func closeAll(_ b: inout Bases) {
        b.closed = true
        for fd in b.fds { Glibc.close(fd) }
        b.fds = []
        b.paths = []
    }
}

/// `RESOLVE_BENEATH` and `RESOLVE_NO_SYMLINKS` from `<linux/openat2.h>`.
private let resolveBeneath: UInt64 = 0x08
private let resolveNoSymlinks: UInt64 = 0x04
#else
/// Without the shim (sources compiled alone, as the fuzz scripts do) batches do nothing.
private final class DirectoryBatch: Sendable {
    var paths: [String] { [] }
}
#endif

/// Resolved directories of one reader (shared by its copies).
private final class DirectoryCache: Sendable {
    private let map = Mutex<[String: String]>([:])
    func get(_ k: String) -> String? { map.withLock { $0[k] } }
    func set(_ k: String, _ v: String) { map.withLock { m in if m.count < 4096 { m[k] = v } } }
}
