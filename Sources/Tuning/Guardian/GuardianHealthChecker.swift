#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import VirtCore

/// The live health checks behind a resume: real I/O against each layer of a guest's disks.
///
/// | Layer | Checks |
/// |---|---|
/// | file the guest writes | `free-space`: the filesystem's available bytes (`statvfs` `f_bavail`) ≥ the threshold; `test-write`: a 4 KiB block written, fsynced, read back and compared, then removed, in the image's directory |
/// | read-only file (backing image), block device | `first-block-read`: 4 KiB at offset 0 with `O_DIRECT` (plain read where the filesystem refuses it) |
/// | `nbd` | `server-answers`: TCP/unix connect and the NBD handshake for the export; `network-read`: `NBD_CMD_READ` of the first 512 bytes |
/// | `iscsi`, `rbd`, other network protocols | `server-answers`: TCP connect to the first host (default port per protocol); `network-read` through `qemu-io` (read-only, first 512 bytes) when it is installed, else `unverified` |
///
/// Every check runs on `BlockingThreadPool.fileIO` and is bounded by `networkTimeout` (file
/// checks by twice that): a hung mount yields a failed check, not a hung guardian.
public struct GuardianHealthChecker: Sendable {
    public var thresholds: GuardianHealthThresholds
    /// `qemu-io` for network reads of iSCSI/RBD (nil: not installed).
    public var qemuIO: String?

    public init(thresholds: GuardianHealthThresholds = GuardianHealthThresholds(), qemuIO: String? = GuardianHealthChecker.findExecutable("qemu-io")) {
        self.thresholds = thresholds
        self.qemuIO = qemuIO
    }

    /// Checks every layer (a layer shared by several disks once).
    public func check(_ layers: [GuardianDiskLayer]) async -> GuardianHealthReport {
        var seen = Set<String>()
        var checks: [GuardianCheck] = []
        for layer in layers where seen.insert("\(layer.subject)|\(layer.writable)").inserted {
            checks += await check(layer)
        }
        return GuardianHealthReport(checks: checks)
    }

    /// The checks of one layer.
    public func check(_ layer: GuardianDiskLayer) async -> [GuardianCheck] {
        let timeout = thresholds.networkTimeout
        let me = self
        switch layer.source {
        case .file, .block:
            return await Self.bounded(timeout * 2, layer: layer, kinds: layer.writable ? [.freeSpace, .testWrite] : [.firstBlockRead]) {
                me.localChecks(layer)
            }
        case .network(let proto, let name, let hosts, let tls):
            return await Self.bounded(timeout * 3, layer: layer, kinds: [.serverAnswers, .networkRead]) {
                me.networkChecks(layer, proto: proto, name: name, hosts: hosts, tls: tls)
            }
        case .unsupported(let what):
            return [GuardianCheck(disk: layer.disk, subject: layer.subject, kind: .serverAnswers, status: .unverified,
                                  detail: "no health check for \(what) sources")]
        }
    }

    // MARK: - Files and block devices

    func localChecks(_ layer: GuardianDiskLayer) -> [GuardianCheck] {
        let path: String
        switch layer.source {
        case .file(let p), .block(let p): path = p
        default: return []
        }
        if case .file = layer.source, layer.writable {
            let dir = (path as NSString).deletingLastPathComponent
            return [freeSpace(layer, dir: dir.isEmpty ? "." : dir), testWrite(layer, dir: dir.isEmpty ? "." : dir)]
        }
        return [firstBlockRead(layer, path: path)]
    }

    private func freeSpace(_ layer: GuardianDiskLayer, dir: String) -> GuardianCheck {
        let start = ContinuousClock.now
        var st = statvfs()
        guard statvfs(dir, &st) == 0 else {
            return GuardianCheck(disk: layer.disk, subject: layer.subject, kind: .freeSpace, status: .failed,
                                 detail: "statvfs \(dir): \(errnoText(errno))", duration: ContinuousClock.now - start)
        }
        let available = MemorySize(bytes: UInt64(st.f_bavail).multipliedReportingOverflow(by: UInt64(st.f_frsize)).partialValue)
        let ok = available >= thresholds.minimumFreeSpace
        return GuardianCheck(disk: layer.disk, subject: layer.subject, kind: .freeSpace, status: ok ? .passed : .failed,
                             detail: "\(available.humanReadable) available in \(dir), threshold \(thresholds.minimumFreeSpace.humanReadable)",
                             available: available, duration: ContinuousClock.now - start)
    }

    private func testWrite(_ layer: GuardianDiskLayer, dir: String) -> GuardianCheck {
        let start = ContinuousClock.now
        func result(_ ok: Bool, _ detail: String) -> GuardianCheck {
            GuardianCheck(disk: layer.disk, subject: layer.subject, kind: .testWrite, status: ok ? .passed : .failed,
                          detail: detail, duration: ContinuousClock.now - start)
        }
        let path = "\(dir)/.virtkit-guardian-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let size = 4096
        let pattern = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return result(false, "create in \(dir): \(errnoText(errno))") }
        defer { unlink(path) }
        let written = pattern.withUnsafeBytes { write(fd, $0.baseAddress, size) }
        let writeErr = errno
        let synced = written == size ? fsync(fd) : -1
        let syncErr = errno
        close(fd)
        guard written == size else { return result(false, "write of \(size) bytes in \(dir): \(written < 0 ? errnoText(writeErr) : "short write (\(written))")") }
        guard synced == 0 else { return result(false, "fsync in \(dir): \(errnoText(syncErr))") }
        let rfd = open(path, O_RDONLY | O_CLOEXEC)
        guard rfd >= 0 else { return result(false, "reopen in \(dir): \(errnoText(errno))") }
        var back = [UInt8](repeating: 0, count: size)
        let got = back.withUnsafeMutableBytes { pread(rfd, $0.baseAddress, size, 0) }
        let readErr = errno
        close(rfd)
        guard got == size else { return result(false, "read back in \(dir): \(got < 0 ? errnoText(readErr) : "short read (\(got))")") }
        guard back == pattern else { return result(false, "read back in \(dir): data differs") }
        return result(true, "wrote, synced and read back \(size) bytes in \(dir)")
    }

    private func firstBlockRead(_ layer: GuardianDiskLayer, path: String) -> GuardianCheck {
        let start = ContinuousClock.now
        func result(_ ok: Bool, _ detail: String) -> GuardianCheck {
            GuardianCheck(disk: layer.disk, subject: layer.subject, kind: .firstBlockRead, status: ok ? .passed : .failed,
                          detail: detail, duration: ContinuousClock.now - start)
        }
        let size = 4096
        // O_DIRECT so a cached page cannot hide a failing device; tmpfs and some others refuse it.
        var fd = open(path, O_RDONLY | O_CLOEXEC | guardianODirect)
        var direct = true
        if fd < 0, errno == EINVAL {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            direct = false
        }
        guard fd >= 0 else { return result(false, "open \(path): \(errnoText(errno))") }
        defer { close(fd) }
        guard let buffer = UnsafeMutableRawPointer.allocateAligned(size) else { return result(false, "no memory") }
        defer { free(buffer) }
        var n = pread(fd, buffer, size, 0)
        if n < 0, errno == EINVAL, direct {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~guardianODirect)
            direct = false
            n = pread(fd, buffer, size, 0)
        }
        guard n >= 0 else { return result(false, "read of the first block of \(path): \(errnoText(errno))") }
        return result(true, "read \(n) bytes at offset 0\(direct ? " (O_DIRECT)" : "")")
    }

    // MARK: - Network

    func networkChecks(_ layer: GuardianDiskLayer, proto: String, name: String?, hosts: [GuardianDiskLayer.Host], tls: Bool) -> [GuardianCheck] {
        let timeout = thresholds.networkTimeout
        func check(_ kind: GuardianCheck.Kind, _ status: GuardianCheck.Status, _ detail: String, since start: ContinuousClock.Instant) -> GuardianCheck {
            GuardianCheck(disk: layer.disk, subject: layer.subject, kind: kind, status: status, detail: detail, duration: ContinuousClock.now - start)
        }
        let start = ContinuousClock.now
        guard let host = hosts.first else {
            return [check(.serverAnswers, .failed, "no host in the disk's <source>", since: start)]
        }
        let endpoint: GuardianNBDProbe.Endpoint
        if host.transport == "unix" {
            guard let socket = host.socket else { return [check(.serverAnswers, .failed, "unix transport without a socket", since: start)] }
            endpoint = .unix(path: socket)
        } else {
            endpoint = .tcp(host: host.name ?? "localhost", port: host.port ?? GuardianDiskLayer.defaultPort(proto) ?? 0)
        }
        if proto == "nbd" {
            if tls {
                // The handshake would stop at STARTTLS; say so instead of guessing.
                let r = GuardianNBDProbe.connectSocket(endpoint, timeout: timeout)
                if case .success(let fd) = r { close(fd) }
                let answered: Bool = if case .success = r { true } else { false }
                let detail: String = if case .failure(let e) = r { e.text } else { "connected (TLS export; handshake not attempted)" }
                return [check(.serverAnswers, answered ? .passed : .failed, detail, since: start),
                        check(.networkRead, .unverified, "TLS exports are not read by the guardian", since: start)]
            }
            let r = GuardianNBDProbe.probe(endpoint, export: name ?? "", timeout: timeout)
            var out = [check(.serverAnswers, r.answered ? .passed : .failed, r.answerDetail, since: start)]
            switch r.readOK {
            case true?: out.append(check(.networkRead, .passed, r.readDetail, since: start))
            case false?: out.append(check(.networkRead, .failed, r.readDetail, since: start))
            case nil: if r.answered { out.append(check(.networkRead, .unverified, r.readDetail, since: start)) }
            }
            return out
        }
        // Other protocols: the server answers on its port; a read through qemu-io when possible.
        let connected = GuardianNBDProbe.connectSocket(endpoint, timeout: timeout)
        var out: [GuardianCheck]
        switch connected {
        case .success(let fd):
            close(fd)
            out = [check(.serverAnswers, .passed, "accepted a connection", since: start)]
        case .failure(let e):
            return [check(.serverAnswers, .failed, e.text, since: start)]
        }
        let readStart = ContinuousClock.now
        if let qemuIO, let url = qemuURL(proto: proto, name: name, host: host) {
            let (rc, output) = Self.runProcess(qemuIO, ["-r", "-f", "raw", "-c", "read 0 512", url], timeout: timeout)
            let firstLine = output.split(separator: "\n").first.map(String.init) ?? ""
            out.append(check(.networkRead, rc == 0 && !output.contains("failed") ? .passed : .failed,
                             "qemu-io read 0 512 \(url): \(rc == 0 ? "ok" : "exit \(rc)") \(firstLine)", since: readStart))
        } else {
            out.append(check(.networkRead, .unverified, "no reader for \(proto) here (qemu-io not installed or no URL form)", since: readStart))
        }
        return out
    }

    private func qemuURL(proto: String, name: String?, host: GuardianDiskLayer.Host) -> String? {
        guard let hostName = host.name, let name, !name.isEmpty else { return nil }
        switch proto {
        case "iscsi": return "iscsi://\(hostName):\(host.port ?? 3260)/\(name)"
        case "rbd": return "rbd:\(name):mon_host=\(hostName)\\:\(host.port ?? 6789)"
        case "http", "https", "ftp", "ftps", "ssh", "gluster":
            return "\(proto)://\(hostName)\(host.port.map { ":\($0)" } ?? "")/\(name)"
        default: return nil
        }
    }

    // MARK: - Helpers

    /// Runs `body` on the file-I/O pool; after `limit` the checks count as failed (the
    /// blocked call keeps its thread until the kernel returns).
    static func bounded(_ limit: Duration, layer: GuardianDiskLayer, kinds: [GuardianCheck.Kind],
                        _ body: @escaping @Sendable () -> [GuardianCheck]) async -> [GuardianCheck] {
        let timedOut = kinds.map {
            GuardianCheck(disk: layer.disk, subject: layer.subject, kind: $0, status: .failed,
                          detail: "no answer within \(limit.humanReadable) (hung storage?)", duration: limit)
        }
        let once = FirstResult<[GuardianCheck]>()
        return await withCheckedContinuation { (c: CheckedContinuation<[GuardianCheck], Never>) in
            once.set(c)
            Task {
                let r = (try? await BlockingThreadPool.fileIO.run { body() }) ?? timedOut
                once.resume(r)
            }
            Task {
                try? await Task.sleep(for: limit)
                once.resume(timedOut)
            }
        }
    }

    /// `name` on `$PATH` (nil when absent). Synchronous (a few `access` calls), so not public:
    /// it only picks the initializer's default.
    @usableFromInline
    static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") where access("\(dir)/\(name)", X_OK) == 0 {
            return "\(dir)/\(name)"
        }
        return nil
    }

    /// Runs a program with a time limit; returns its status and combined output.
    static func runProcess(_ exe: String, _ args: [String], timeout: Duration) -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { return (-1, "\(error)") }
        let deadline = ContinuousClock.now + timeout
        while p.isRunning, ContinuousClock.now < deadline { usleep(20_000) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            return (-1, "timed out")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// Resumes a continuation with the first result offered; later ones are dropped.
final class FirstResult<T: Sendable>: @unchecked Sendable {
    // @unchecked: `continuation` and `done` are only touched with `lock` held.
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Never>?
    private var pending: T?
    private var done = false

    func set(_ c: CheckedContinuation<T, Never>) {
        lock.lock()
        if let p = pending {
            done = true
            lock.unlock()
            c.resume(returning: p)
            return
        }
        continuation = c
        lock.unlock()
    }

    func resume(_ value: T) {
        lock.lock()
        guard !done else { lock.unlock(); return }
        guard let c = continuation else {
            if pending == nil { pending = value }
            lock.unlock()
            return
        }
        done = true
        continuation = nil
        lock.unlock()
        c.resume(returning: value)
    }
}

/// `O_DIRECT` (Glibc hides it behind `_GNU_SOURCE`): the Linux value per architecture.
#if arch(arm64) || arch(arm)
let guardianODirect: Int32 = 0o200000
#else
let guardianODirect: Int32 = 0o40000
#endif

extension UnsafeMutableRawPointer {
    /// A page-aligned buffer for O_DIRECT (free with `free`).
    static func allocateAligned(_ size: Int) -> UnsafeMutableRawPointer? {
        var p: UnsafeMutableRawPointer?
        return posix_memalign(&p, 4096, size) == 0 ? p : nil
    }
}
