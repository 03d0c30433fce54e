import Foundation

/// A program started by a test or benchmark (the exporter binary, a Prometheus server, a
/// reference exporter) with its output in a log file; `stop()` sends SIGTERM to that pid and
/// waits for it.
public final class BackgroundProcess: @unchecked Sendable {  // exit status guarded by lock
    public let pid: pid_t
    public let logPath: String
    private let lock = NSLock()
    private var status: Int32 = 0
    private var exitStatus: Int32?

    public init(_ exe: String, _ args: [String], tag: String) throws {
        logPath = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([exe] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, exe, &actions, nil, argv, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
        self.pid = pid
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGTERM, then the exit status (SIGKILL after `grace`).
    @discardableResult
    public func stop(grace: Duration = .seconds(10)) -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }  // reaped: the pid may belong to someone else now
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while waitpid(pid, &status, WNOHANG) == 0 {
            if ContinuousClock.now > deadline { kill(pid, SIGKILL); waitpid(pid, &status, 0); break }
            usleep(20_000)
        }
        return reaped()
    }

    /// Waits up to `limit` for the process to end by itself: its exit status, or nil while it
    /// still runs (then `stop()` ends it).
    public func waitForExit(within limit: Duration) -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { return reaped() }
            usleep(20_000)
        }
        return nil
    }

    /// Records and returns the exit status of the reaped process (128 + signal when killed).
    private func reaped() -> Int32 {
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        exitStatus = code
        return code
    }

    /// CPU time (user + system) the process has used so far, from `/proc/PID/stat`
    /// (clock-tick resolution); nil once it is gone.
    public var cpuSeconds: Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After "pid (comm)": state is field 0, utime 11, stime 12.
        guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// A loopback TCP port nobody listens on right now.
public func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// An HTTP/1.0 GET on 127.0.0.1:`port` (no keep-alive, no compression, no chunking): the
/// status and body, nil when nothing answers within `timeout` seconds. Blocking; plain
/// sockets so that a benchmark times the server, not a client library.
public func loopbackHTTPGet(port: Int, path: String, timeout: Double = 10) -> (status: Int, body: [UInt8])? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    let connected = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return nil }
    let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    // MSG_NOSIGNAL: a server that closes first gives EPIPE here, not SIGPIPE to the process.
    guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return nil }
    var response: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = recv(fd, &buf, buf.count, 0)
        if n > 0 { response += buf[0..<n] } else if n < 0 && errno == EINTR { continue } else if n < 0 { return nil } else { break }
    }
    // "HTTP/1.x NNN …\r\n…\r\n\r\nbody"
    guard response.count >= 12, let status = Int(String(decoding: response[9..<12], as: UTF8.self)) else { return nil }
    let sep: [UInt8] = [13, 10, 13, 10]
    var start = response.count
    if response.count >= 4 {
        for i in 0...(response.count - 4) where Array(response[i..<i + 4]) == sep { start = i + 4; break }
    }
    return (status, Array(response[start...]))
}

/// The directory of the running test or benchmark binary, where SwiftPM also puts the
/// package's other executables.
public var builtProductsDirectory: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
}
