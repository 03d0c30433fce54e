import Foundation

/// A Unix socket that accepts libvirt clients and never answers: a daemon that hangs.
/// Every remote libvirt call on it (`qemu+unix:///system?socket=PATH`) blocks in the C
/// library until `shutdown()` drops the connections, as if the daemon died.
public final class SilentLibvirtSocket: @unchecked Sendable {  // fds guarded by lock
    public let path: String
    private let listenFD: Int32
    private let lock = NSLock()
    private var accepted: [Int32] = []
    private var closed = false

    public init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("vk-silent-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock").path
        listenFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { buf in
            for (i, b) in path.utf8.prefix(buf.count - 1).enumerated() { buf[i] = b }
        }
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listenFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
        guard ok, listen(listenFD, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        Thread { [self] in
            while true {
                let fd = accept(listenFD, nil, nil)
                if fd < 0 { return }
                lock.lock()
                if closed { Foundation.close(fd) } else { accepted.append(fd) }
                lock.unlock()
            }
        }.start()
    }

    /// Connections accepted so far.
    public var connections: Int { lock.lock(); defer { lock.unlock() }; return accepted.count }

    public func shutdown() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        for fd in accepted { Glibc.shutdown(fd, Int32(SHUT_RDWR)); Foundation.close(fd) }
        Glibc.shutdown(listenFD, Int32(SHUT_RDWR))
        Foundation.close(listenFD)
        unlink(path)
    }

    deinit { shutdown() }
}
