#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import VirtCore

/// An `errno` value with its symbolic name (`EACCES`), as the kernel reported it.
public struct Errno: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The raw `errno` value.
    public var code: Int32
    public init(_ code: Int32) { self.code = code }

    /// The symbolic name for the codes cgroupfs returns; `errno N` for the rest.
    public var name: String {
        switch code {
        case EPERM: "EPERM"
        case ENOENT: "ENOENT"
        case ESRCH: "ESRCH"
        case EINTR: "EINTR"
        case EIO: "EIO"
        case E2BIG: "E2BIG"
        case EBADF: "EBADF"
        case EAGAIN: "EAGAIN"
        case ENOMEM: "ENOMEM"
        case EACCES: "EACCES"
        case EBUSY: "EBUSY"
        case EEXIST: "EEXIST"
        case EXDEV: "EXDEV"
        case ENODEV: "ENODEV"
        case ENOTDIR: "ENOTDIR"
        case EISDIR: "EISDIR"
        case EINVAL: "EINVAL"
        case ENOSPC: "ENOSPC"
        case EROFS: "EROFS"
        case ERANGE: "ERANGE"
        case ENOTEMPTY: "ENOTEMPTY"
        case EOPNOTSUPP: "EOPNOTSUPP"
        default: "errno \(code)"
        }
    }

    /// `EBUSY (Device or resource busy)`.
    public var description: String {
        guard let text = strerror(code) else { return name }
        return "\(name) (\(String(cString: text)))"
    }
}

/// A failed system call on a cgroup file or directory: which operation, which file,
/// which value (for writes) and the errno; for reads refused before any byte was read, why
/// (`refusal`: too large, not a regular file).
public struct CgroupIOError: Error, Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Operation: String, Hashable, Sendable, Codable {
        case read, write, mkdir, rmdir, list
    }
    /// What was attempted.
    public var operation: Operation
    /// The host path (without the injected root).
    public var path: String
    /// The value being written, for writes.
    public var value: String?
    /// Why the kernel refused (`EFBIG`/`EINVAL` stand for the refusals below).
    public var errno: Errno
    /// A read refused by the bounded reader: the file is too large or not a regular file.
    public var refusal: Refusal?

    public enum Refusal: Hashable, Sendable, Codable, CustomStringConvertible {
        case tooLarge(limit: Int)
        case notARegularFile(kind: String)
        public var description: String {
            switch self {
            case .tooLarge(let limit): "larger than the \(limit)-byte limit for this file"
            case .notARegularFile(let kind): "not a regular file (\(kind))"
            }
        }
    }

    public init(operation: Operation, path: String, value: String? = nil, errno: Errno) {
        self.operation = operation
        self.path = path
        self.value = value
        self.errno = errno
    }

    init(_ operation: Operation, _ path: String, value: String? = nil, _ failure: RootedReadError) {
        self.init(operation: operation, path: path, value: value, errno: Errno(failure.errno))
        switch failure {
        case .system: break
        case .tooLarge(let limit): refusal = .tooLarge(limit: limit)
        case .notARegularFile(let kind): refusal = .notARegularFile(kind: kind.description)
        }
    }

    public var description: String {
        let why = refusal.map { "\($0) (\(errno.name))" } ?? errno.description
        switch operation {
        case .write: return "cannot write \(RootedFileReader.quote(value ?? "")) to \(path): \(why)"
        default: return "cannot \(operation.rawValue) \(path): \(why)"
        }
    }
}

/// Counts the files read through a `CgroupFS` (one per `open` for reading, however many
/// `read(2)` calls it takes), so tests and benchmarks can check reads against the minimum.
public final class ReadCounter: Sendable {
    private let reads = Atomic<Int>(0)
    public init() {}
    /// Files read so far.
    public var count: Int { reads.load(ordering: .relaxed) }
    /// Starts counting again from zero.
    public func reset() { reads.store(0, ordering: .relaxed) }
    func increment() { reads.wrappingAdd(1, ordering: .relaxed) }
}

/// The file system under an injectable root: `/` on a live host, a fixture directory in
/// tests. Paths passed in are absolute host paths (`/sys/fs/cgroup/cpu/cpu.shares`);
/// they resolve through `RootedFileReader`, here and nowhere else: symlinks and `..` stay
/// inside the root, reads are non-blocking, type-checked and bounded.
///
/// Every call is plain blocking I/O (`@available(*, noasync)`); async code uses
/// `CgroupSystem`'s async methods, which run on `BlockingThreadPool.fileIO`.
public struct CgroupFS: Sendable {
    /// The directory standing for `/`; empty for the real root.
    public let root: String
    /// When set, every file read increments it.
    public let counter: ReadCounter?
    /// The rooted, bounded reader every path goes through.
    public private(set) var reader: RootedFileReader

    public init(root: String = "/", counter: ReadCounter? = nil) {
        var r = root
        while r.count > 1, r.hasSuffix("/") { r.removeLast() }
        self.root = r == "/" ? "" : r
        self.counter = counter
        self.reader = RootedFileReader(root: r.isEmpty ? "/" : r)
    }

    /// The real path of the host path `path` under `root`, symlinks resolved inside the root.
    @available(*, noasync, message: "resolves links with blocking lstat calls")
    public func hostPath(_ path: String) throws(CgroupIOError) -> String {
        do { return try reader.hostPath(path) } catch { throw CgroupIOError(.read, path, error) }
    }

    /// Reads a whole file: at most `limit` bytes, a regular file only, never blocking on a
    /// FIFO or device. Invalid UTF-8 bytes are kept as `\xNN`.
    @available(*, noasync, message: "blocking read; use CgroupSystem's async methods")
    public func read(_ path: String, limit: Int = RootedFileReader.Bound.attribute) throws(CgroupIOError) -> String {
        counter?.increment()
        do {
            return try reader.readString(path, limit: limit)
        } catch {
            throw CgroupIOError(.read, path, error)
        }
    }

    /// Runs `body` with a copy whose reads share directory descriptors (VirtCore's
    /// `RootedFileReader.withDirectoryBatch`): one path walk for a cgroup tree's many files.
    @available(*, noasync, message: "for blocking reads; use CgroupSystem's async methods")
    public func withDirectoryBatch<T, E: Error>(_ body: (CgroupFS) throws(E) -> T) throws(E) -> T {
        try reader.withDirectoryBatch { (r) throws(E) -> T in
            var copy = self
            copy.reader = r
            return try body(copy)
        }
    }

    /// Like `read`, but a missing file (ENOENT) is nil: "not reported" rather than an error.
    @available(*, noasync, message: "blocking read; use CgroupSystem's async methods")
    public func readIfPresent(_ path: String, limit: Int = RootedFileReader.Bound.attribute) throws(CgroupIOError) -> String? {
        do { return try read(path, limit: limit) } catch where error.refusal == nil && (error.errno.code == ENOENT || error.errno.code == ENOTDIR) {
            return nil
        }
    }

    /// Writes `value` with a single `write(2)`, as cgroupfs requires. `O_TRUNC` keeps
    /// fixture files (regular files) exact; cgroupfs ignores it. Never follows a final link.
    @available(*, noasync, message: "blocking write; use CgroupSystem's async methods")
    public func write(_ path: String, _ value: String) throws(CgroupIOError) {
        let real: String
        do { real = try reader.hostPath(path) } catch { throw CgroupIOError(.write, path, value: value, error) }
        let fd = open(real, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NONBLOCK | (reader.isLive ? 0 : O_NOFOLLOW))
        if fd < 0 { throw CgroupIOError(operation: .write, path: path, value: value, errno: Errno(errno)) }
        var st = stat()
        if fstat(fd, &st) == 0, RootedFileKind(mode: st.st_mode) != .regular {
            close(fd)
            throw CgroupIOError(.write, path, value: value, .notARegularFile(RootedFileKind(mode: st.st_mode)))
        }
        var bytes = Array(value.utf8)
        let n: Int = bytes.withUnsafeMutableBytes { raw in
            while true {
                let r = Glibc.write(fd, raw.baseAddress, raw.count)
                if r < 0 && errno == EINTR { continue }
                return r
            }
        }
        let writeErrno = errno
        // The kernel may report a failed cgroup write only at close.
        let closed = close(fd)
        let closeErrno = errno
        if n < 0 { throw CgroupIOError(operation: .write, path: path, value: value, errno: Errno(writeErrno)) }
        if n != bytes.count { throw CgroupIOError(operation: .write, path: path, value: value, errno: Errno(EIO)) }
        if closed != 0 { throw CgroupIOError(operation: .write, path: path, value: value, errno: Errno(closeErrno)) }
    }

    /// Whether the path exists (links followed inside the root).
    @available(*, noasync, message: "blocking stat")
    public func exists(_ path: String) -> Bool {
        guard let real = try? reader.hostPath(path) else { return false }
        return access(real, F_OK) == 0
    }

    /// True for a directory (a cgroup).
    @available(*, noasync, message: "blocking stat")
    public func isDirectory(_ path: String) -> Bool {
        guard let real = try? reader.hostPath(path) else { return false }
        var st = stat()
        return stat(real, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// `mkdir(2)`; creating a directory in cgroupfs creates a cgroup.
    @available(*, noasync, message: "blocking mkdir; use CgroupSystem.create")
    public func makeDirectory(_ path: String) throws(CgroupIOError) {
        let real: String
        do { real = try reader.hostPath(path) } catch { throw CgroupIOError(.mkdir, path, error) }
        if mkdir(real, 0o755) != 0 {
            throw CgroupIOError(operation: .mkdir, path: path, errno: Errno(errno))
        }
    }

    /// `rmdir(2)`; removes an empty cgroup (no tasks, no children).
    @available(*, noasync, message: "blocking rmdir; use CgroupSystem.remove")
    public func removeDirectory(_ path: String) throws(CgroupIOError) {
        let real: String
        do { real = try reader.hostPath(path) } catch { throw CgroupIOError(.rmdir, path, error) }
        if rmdir(real) != 0 {
            throw CgroupIOError(operation: .rmdir, path: path, errno: Errno(errno))
        }
    }

    /// The names of the sub-directories of `path` (child cgroups), sorted.
    @available(*, noasync, message: "blocking readdir")
    public func subdirectories(_ path: String) throws(CgroupIOError) -> [String] {
        let real: String
        do { real = try reader.hostPath(path) } catch { throw CgroupIOError(.list, path, error) }
        guard let dir = opendir(real) else {
            throw CgroupIOError(operation: .list, path: path, errno: Errno(errno))
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                RootedFileReader.decodeEscapingInvalidUTF8(raw.prefix(while: { $0 != 0 }))
            }
            if name == "." || name == ".." { continue }
            let type = entry.pointee.d_type
            if type == UInt8(DT_DIR) || (type == UInt8(DT_UNKNOWN) && isDirectory(path + "/" + name)) {
                names.append(name)
            }
        }
        return names.sorted()
    }
}

/// Joins a hierarchy mount point and a cgroup path (`/machine/x`), without doubling `/`.
func joinPath(_ base: String, _ rel: String) -> String {
    if rel.isEmpty || rel == "/" { return base }
    let r = rel.hasPrefix("/") ? rel : "/" + rel
    return base == "/" ? r : base + r
}
