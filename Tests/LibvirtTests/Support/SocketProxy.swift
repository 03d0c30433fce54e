import Foundation

/// A Unix-socket proxy in front of libvirtd's socket, so a test can cut a live
/// connection (`kill()`) as if the daemon had died.
final class SocketProxy: @unchecked Sendable {  // fds guarded by lock
    let path: String
    private let target: String
    private let listenFD: Int32
    private let lock = NSLock()
    private var fds: [Int32] = []
    private var killed = false

    init(target: String) throws {
        self.target = target
        path = FileManager.default.temporaryDirectory.appendingPathComponent("vk-proxy-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock").path
        listenFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard Self.bind(listenFD, path), listen(listenFD, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        let t = Thread { [self] in acceptLoop() }
        t.start()
    }

    private static func address(_ path: String) -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { buf in
            for (i, b) in path.utf8.prefix(buf.count - 1).enumerated() { buf[i] = b }
        }
        return addr
    }

    private static func bind(_ fd: Int32, _ path: String) -> Bool {
        var addr = address(path)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }

    private func acceptLoop() {
        while true {
            let client = accept(listenFD, nil, nil)
            if client < 0 { return }
            let upstream = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var addr = Self.address(target)
            let ok = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            lock.lock()
            if killed || ok != 0 { lock.unlock(); close(client); close(upstream); continue }
            fds += [client, upstream]
            lock.unlock()
            for (from, to) in [(client, upstream), (upstream, client)] {
                Thread { Self.pump(from, to) }.start()
            }
        }
    }

    private static func pump(_ from: Int32, _ to: Int32) {
        var buf = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(from, &buf, buf.count)
            if n <= 0 { Glibc.shutdown(to, Int32(SHUT_RDWR)); return }
            var off = 0
            while off < n {
                let w = buf.withUnsafeBytes { write(to, $0.baseAddress! + off, n - off) }
                if w <= 0 { return }
                off += w
            }
        }
    }

    /// Cuts every proxied connection and stops accepting.
    func kill() {
        lock.lock()
        killed = true
        let all = fds
        lock.unlock()
        for fd in all { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
        Glibc.shutdown(listenFD, Int32(SHUT_RDWR))
        unlink(path)
    }

    deinit {
        for fd in fds { close(fd) }
        close(listenFD)
    }
}
