import VirtCore

/// Everything CgroupControl can report, typed.
public enum CgroupError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No `cgroup` or `cgroup2` file system is mounted under the root.
    case noCgroupsMounted(root: String)
    /// Only named v1 hierarchies (e.g. `name=systemd`) exist: no resource controller
    /// (libvirt: "At least one cgroup controller is required").
    case noResourceControllers
    /// A controller the operation needs is not mounted or not enabled.
    case controllerUnavailable(String)
    /// A file could not be read, written, created or removed.
    case io(CgroupIOError)
    /// A kernel file did not have the expected syntax.
    case malformed(file: String, line: String, reason: String)
    /// A value failed validation before anything was written.
    case invalidValue(knob: String, value: String, reason: String)
    /// The change has no equivalent on this cgroup version.
    case unsupported(knob: String, version: CgroupVersion)
    /// The value read back after a write differs from what was written.
    case readBackMismatch(file: String, wrote: String, read: String)
    /// A transaction failed; the writes done before it were restored (or not: see the failure).
    case transactionFailed(TransactionFailure)
    /// A kernel file held a number outside the range its meaning allows (or beyond the
    /// integer type that carries it): reported, never wrapped, saturated or trapped on.
    case outOfRange(file: String, value: String, reason: String)
    /// The task was cancelled before the blocking work started.
    case cancelled
    /// The process does not exist or has no cgroup entries.
    case processNotFound(pid: Int32)
    /// The process's cgroups do not look like a libvirt guest's.
    case notAGuest(pid: Int32, reason: String)

    public var description: String {
        switch self {
        case .noCgroupsMounted(let root): "no cgroup file system is mounted (root \(root.isEmpty ? "/" : root))"
        case .noResourceControllers: "no cgroup resource controller is mounted (only named hierarchies)"
        case .controllerUnavailable(let c): "the cgroup controller '\(c)' is not available"
        case .io(let e): e.description
        case .malformed(let file, let line, let reason): "\(file): cannot parse \(RootedFileReader.quote(line)): \(reason)"
        case .invalidValue(let knob, let value, let reason): "invalid \(knob) '\(value)': \(reason)"
        case .unsupported(let knob, let version): "\(knob) has no equivalent on cgroup \(version.rawValue)"
        case .readBackMismatch(let file, let wrote, let read): "\(file): wrote '\(wrote)' but read back '\(read)'"
        case .transactionFailed(let f): f.description
        case .outOfRange(let file, let value, let reason): "\(file): value \(value) out of range: \(reason)"
        case .cancelled: "cancelled before the cgroup I/O started"
        case .processNotFound(let pid): "process \(pid) not found"
        case .notAGuest(let pid, let reason): "process \(pid) is not in a libvirt guest cgroup: \(reason)"
        }
    }
}

/// What went wrong in `apply(_:)`, and what the rollback did.
public struct TransactionFailure: Hashable, Sendable, CustomStringConvertible {
    /// The write that failed.
    public var failedWrite: PlannedWrite
    /// Why: usually `.io` (with errno) or `.readBackMismatch`.
    public var reason: CgroupError.Reason
    /// Files restored to their earlier value, in the order restored.
    public var restored: [String]
    /// Restores that failed themselves (the cgroup is left partly changed).
    public var restoreErrors: [CgroupIOError]

    public var description: String {
        var s = "transaction failed at \(failedWrite.file) = '\(failedWrite.value)': \(reason)"
        s += "; restored \(restored.count) earlier write(s)"
        if !restoreErrors.isEmpty {
            s += "; \(restoreErrors.count) restore(s) FAILED: " + restoreErrors.map(\.description).joined(separator: "; ")
        }
        return s
    }
}

extension CgroupError {
    /// The cause of a failed transactional write (kept flat so `TransactionFailure` is not recursive).
    public enum Reason: Hashable, Sendable, CustomStringConvertible {
        case io(CgroupIOError)
        case readBackMismatch(file: String, wrote: String, read: String)
        case malformed(file: String, line: String, reason: String)

        public var description: String {
            switch self {
            case .io(let e): e.description
            case .readBackMismatch(let file, let wrote, let read): "\(file): wrote '\(wrote)' but read back '\(read)'"
            case .malformed(let file, let line, let reason): "\(file): cannot parse '\(line)': \(reason)"
            }
        }

        /// The errno, when the kernel refused the write.
        public var errno: Errno? {
            if case .io(let e) = self { return e.errno }
            return nil
        }
    }
}
