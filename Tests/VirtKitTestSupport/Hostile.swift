import Foundation
import Testing

/// Building blocks for hostile-input tests: special files made at test time (never
/// committed), and a run that must end within a deadline and a memory bound.
public enum Hostile {
    /// Replaces whatever is at `path` with a FIFO (no writer: a blocking open would hang).
    public static func fifo(at path: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        guard mkfifo(path, 0o644) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    /// Replaces `path` with a character device like `/dev/zero` (1:5, endless zeros). Needs
    /// root; returns false (after a loud skip) otherwise.
    public static func zeroDevice(at path: String) throws -> Bool {
        guard geteuid() == 0 else { LiveEnvironment.unavailable("not root: cannot mknod a character device"); return false }
        try? FileManager.default.removeItem(atPath: path)
        guard mknod(path, S_IFCHR | 0o644, dev_t(1 << 8 | 5)) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return true
    }

    /// Replaces `path` with a sparse file of `size` bytes (zeros, no disk used).
    public static func sparse(at path: String, size: Int64) throws {
        try? FileManager.default.removeItem(atPath: path)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        guard ftruncate(fd, off_t(size)) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    /// Replaces `path` with a symlink to `target`.
    public static func link(at path: String, to target: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
    }

    /// Writes raw bytes (invalid UTF-8, control characters) to `path`.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// The process's peak resident set so far, KiB (`ru_maxrss`).
    public static func peakRSSKiB() -> Int {
        var u = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        return u.ru_maxrss
    }

    /// What a bounded run measured.
    public struct Outcome<T> {
        /// nil when the deadline passed (the work is left running on its thread).
        public var value: T?
        public var seconds: Double
        /// Growth of the process's peak RSS during the run, KiB.
        public var peakGrowthKiB: Int
    }

    /// Runs `body` on its own thread and waits at most `seconds`, so a hang fails the test
    /// instead of hanging the run.
    public static func bounded<T>(seconds: Double = 10, _ body: @escaping @Sendable () -> T) -> Outcome<T> {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let rss0 = peakRSSKiB()
        let start = DispatchTime.now()
        Thread { box.value = body(); done.signal() }.start()
        let finished = done.wait(timeout: .now() + seconds) == .success
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return Outcome(value: finished ? box.value : nil, seconds: elapsed, peakGrowthKiB: peakRSSKiB() - rss0)
    }
}

/// The result of a bounded run: written by the worker before it signals, read after.
private final class ResultBox<T>: @unchecked Sendable { var value: T? }
