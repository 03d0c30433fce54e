#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import VirtCore

/// The file-system root HostProbe reads under: `/` for the live host, or a directory
/// holding a captured tree (`sys/…`, `proc/…`, like `hwloc-gather-topology` makes).
///
/// Paths and symlinks resolve *inside* the root: an absolute link target restarts at the
/// root, `..` stops at the root, so a fixture tree full of sysfs' relative links
/// (`../../devices/…`) behaves like the real thing and can never reach the host's files.
public struct ProbeRoot: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The host directory that plays `/`.
    public var path: String
    /// Extra host directories or files mounted at virtual paths (longest prefix wins),
    /// e.g. libvirt's `virhostcpudata/linux-test1` at `/sys/devices/system`. Used to read
    /// test data in place without copying it.
    public var binds: [Bind]

    public struct Bind: Sendable, Hashable, Codable {
        /// Absolute virtual path, e.g. `/sys/devices/system`.
        public var virtualPath: String
        /// The host path shown there.
        public var hostPath: String
        public init(virtualPath: String, hostPath: String) {
            self.virtualPath = ProbeRoot.normalize(virtualPath)
            self.hostPath = hostPath
        }
    }

    public init(path: String = "/", binds: [Bind] = []) {
        var p = path
        while p.count > 1, p.hasSuffix("/") { p.removeLast() }
        self.path = p.isEmpty ? "/" : p
        self.binds = binds
    }

    /// The live host's root.
    public static let live = ProbeRoot(path: "/")

    /// True for the real `/` without binds: the only root where device ioctls and
    /// `/proc/self` describe this machine.
    public var isLive: Bool { path == "/" && binds.isEmpty }

    public var description: String { path }

    /// `/a/./b//c/` → `/a/b/c` (no link resolution, `..` clamps at `/`).
    static func normalize(_ path: String) -> String {
        var out: [Substring] = []
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." { _ = out.popLast(); continue }
            out.append(c)
        }
        return "/" + out.joined(separator: "/")
    }
}

/// Why one source file could not be used. Carried by ``ProbeDiagnostic``.
public enum ReadFailure: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The file (or a directory on its path) does not exist (`ENOENT`/`ENOTDIR`).
    case missing
    /// `EACCES`/`EPERM`: the file exists but this user may not read it.
    case permissionDenied
    /// Symlinks nest deeper than 40 levels (a loop).
    case symlinkLoop
    /// Any other `errno` from `open`/`read` (sysfs uses `EINVAL`, `EIO`, `ENODEV` for
    /// attributes a device cannot report right now).
    case error(errno: Int32, message: String)
    /// The file was read but its content is not what the kernel writes there.
    case garbled(String)
    /// The file holds more than the bound for its kind (`limit` bytes); nothing was kept.
    case tooLarge(limit: Int)
    /// A FIFO, device node, directory or socket where a file was expected: never read.
    case notARegularFile(String)
    /// A number that does not fit what it means (or the type that carries it).
    case outOfRange(String)

    public var description: String {
        switch self {
        case .missing: return "missing"
        case .permissionDenied: return "permission denied"
        case .symlinkLoop: return "too many levels of symbolic links"
        case .error(let e, let m): return "\(m) (errno \(e))"
        case .garbled(let why): return "garbled: \(why)"
        case .tooLarge(let limit): return "larger than the \(limit)-byte limit for this file"
        case .notARegularFile(let kind): return "not a regular file (\(kind))"
        case .outOfRange(let why): return "out of range: \(why)"
        }
    }

    /// From the bounded reader's failure.
    init(_ e: RootedReadError) {
        switch e {
        case .system(let errno): self = .fromErrno(errno)
        case .tooLarge(let limit): self = .tooLarge(limit: limit)
        case .notARegularFile(let kind): self = .notARegularFile(kind.description)
        }
    }

    static func fromErrno(_ e: Int32) -> ReadFailure {
        switch e {
        case ENOENT, ENOTDIR: return .missing
        case EACCES, EPERM: return .permissionDenied
        case ELOOP: return .symlinkLoop
        default: return .error(errno: e, message: String(cString: strerror(e)))
        }
    }
}
