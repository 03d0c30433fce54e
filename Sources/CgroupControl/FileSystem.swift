#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

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
/// which value (for writes) and the errno.
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
    /// Why the kernel refused.
    public var errno: Errno

    public init(operation: Operation, path: String, value: String? = nil, errno: Errno) {
        self.operation = operation
        self.path = path
        self.value = value
        self.errno = errno
    }

    public var description: String {
        switch operation {
        case .write: "cannot write '\(value ?? "")' to \(path): \(errno)"
        default: "cannot \(operation.rawValue) \(path): \(errno)"
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
/// the root is prefixed here and nowhere else.
///
/// Every call is a plain blocking `open`/`read`/`write`/`close` (Glibc); the async APIs of
/// `CgroupSystem` run them off the cooperative pool.
public struct CgroupFS: Sendable {
    /// The directory standing for `/`; empty or `/` for the real root.
    public let root: String
    /// When set, every file read increments it.
    public let counter: ReadCounter?

    public init(root: String = "/", counter: ReadCounter? = nil) {
        var r = root
        while r.count > 1, r.hasSuffix("/") { r.removeLast() }
        self.root = r == "/" ? "" : r
        self.counter = counter
    }

    /// The real path of the host path `path` under `root`.
    public func hostPath(_ path: String) -> String {
        root.isEmpty ? path : root + (path.hasPrefix("/") ? path : "/" + path)
    }

    /// Reads a whole file (`open(2)` + `read(2)` until EOF).
    public func read(_ path: String) throws(CgroupIOError) -> String {
        let real = hostPath(path)
        counter?.increment()
        let fd = open(real, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw CgroupIOError(operation: .read, path: path, errno: Errno(errno)) }
        defer { close(fd) }
        // Cgroup files are small: read straight into a String's storage; only files over
        // 4 KiB take the slower growing path.
        var failure: Int32 = 0
        var complete = false
        let text = String(unsafeUninitializedCapacity: 4096) { buf in
            var used = 0
            while used < buf.count {
                let n = Glibc.read(fd, buf.baseAddress! + used, buf.count - used)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return 0 }
                if n == 0 { complete = true; break }
                used += n
            }
            return used
        }
        if failure != 0 { throw CgroupIOError(operation: .read, path: path, errno: Errno(failure)) }
        if complete { return text }
        // Larger than 4 KiB: start over from offset 0 into a growing buffer and decode once,
        // so a multi-byte character is never split between two decodes.
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw CgroupIOError(operation: .read, path: path, errno: Errno(errno)) }
        var bytes = [UInt8](repeating: 0, count: 16384)
        var used = 0
        while true {
            if used == bytes.count { bytes.append(contentsOf: repeatElement(0, count: bytes.count)) }
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + used, $0.count - used) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CgroupIOError(operation: .read, path: path, errno: Errno(errno))
            }
            if n == 0 { break }
            used += n
        }
        return String(decoding: bytes[0..<used], as: UTF8.self)
    }

    /// Like `read`, but a missing file (ENOENT) is nil: "not reported" rather than an error.
    public func readIfPresent(_ path: String) throws(CgroupIOError) -> String? {
        do { return try read(path) } catch where error.errno.code == ENOENT || error.errno.code == ENOTDIR {
            return nil
        }
    }

    /// Writes `value` with a single `write(2)`, as cgroupfs requires. `O_TRUNC` keeps
    /// fixture files (regular files) exact; cgroupfs ignores it.
    public func write(_ path: String, _ value: String) throws(CgroupIOError) {
        let real = hostPath(path)
        let fd = open(real, O_WRONLY | O_TRUNC | O_CLOEXEC)
        if fd < 0 { throw CgroupIOError(operation: .write, path: path, value: value, errno: Errno(errno)) }
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

    /// `access(2)` F_OK on the host path.
    public func exists(_ path: String) -> Bool {
        access(hostPath(path), F_OK) == 0
    }

    /// `stat(2)`: true for a directory (a cgroup).
    public func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(hostPath(path), &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// `mkdir(2)`; creating a directory in cgroupfs creates a cgroup.
    public func makeDirectory(_ path: String) throws(CgroupIOError) {
        if mkdir(hostPath(path), 0o755) != 0 {
            throw CgroupIOError(operation: .mkdir, path: path, errno: Errno(errno))
        }
    }

    /// `rmdir(2)`; removes an empty cgroup (no tasks, no children).
    public func removeDirectory(_ path: String) throws(CgroupIOError) {
        if rmdir(hostPath(path)) != 0 {
            throw CgroupIOError(operation: .rmdir, path: path, errno: Errno(errno))
        }
    }

    /// The names of the sub-directories of `path` (child cgroups), sorted.
    public func subdirectories(_ path: String) throws(CgroupIOError) -> [String] {
        let real = hostPath(path)
        guard let dir = opendir(real) else {
            throw CgroupIOError(operation: .list, path: path, errno: Errno(errno))
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
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
