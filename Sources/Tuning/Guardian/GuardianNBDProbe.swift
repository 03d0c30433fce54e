#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Just enough of the NBD protocol (the NBD project's `doc/proto.md`) to tell whether an
/// export works: the fixed-newstyle handshake with `NBD_OPT_GO` (falling back to
/// `NBD_OPT_EXPORT_NAME`, or the oldstyle greeting), one `NBD_CMD_READ` of the first block
/// with simple replies, then `NBD_CMD_DISC`. Blocking: run it on a `BlockingThreadPool`.
/// No TLS: a server that insists on it answers, and the read is reported unverified.
enum GuardianNBDProbe {
    enum Endpoint: Hashable, Sendable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    struct Result: Hashable, Sendable {
        /// The server accepted the connection and the handshake (nil detail = fine).
        var answered: Bool
        var answerDetail: String
        /// nil: the read was not attempted (handshake failed, TLS required).
        var readOK: Bool?
        var readDetail: String
        var exportSize: UInt64?
    }

    static let nbdMagic: UInt64 = 0x4E42_444D_4147_4943          // "NBDMAGIC"
    static let optMagic: UInt64 = 0x4948_4156_454F_5054          // "IHAVEOPT"
    static let oldstyleMagic: UInt64 = 0x0000_4202_8186_1253
    static let replyMagic: UInt64 = 0x0003_E889_0455_65A9
    static let requestMagic: UInt32 = 0x2560_9513
    static let simpleReplyMagic: UInt32 = 0x6744_6698

    static func probe(_ endpoint: Endpoint, export: String, timeout: Duration, readLength: UInt32 = 512) -> Result {
        let fd: Int32
        switch connectSocket(endpoint, timeout: timeout) {
        case .failure(let e): return Result(answered: false, answerDetail: e.text, readOK: nil, readDetail: "not attempted")
        case .success(let s): fd = s
        }
        defer { close(fd) }
        var conn = Conn(fd: fd)
        do {
            let size = try handshake(&conn, export: export)
            let length = UInt32(min(UInt64(readLength), size ?? UInt64(readLength)))
            guard length > 0 else {
                return Result(answered: true, answerDetail: "handshake ok (empty export)", readOK: true, readDetail: "export is empty", exportSize: size)
            }
            let error = try read(&conn, length: length)
            try? disconnect(&conn)
            let sizeText = size.map { ", export \($0) bytes" } ?? ""
            if error == 0 {
                return Result(answered: true, answerDetail: "handshake ok\(sizeText)", readOK: true, readDetail: "read \(length) bytes at offset 0", exportSize: size)
            }
            return Result(answered: true, answerDetail: "handshake ok\(sizeText)", readOK: false,
                          readDetail: "read of the first block failed: \(nbdErrorName(error))", exportSize: size)
        } catch let e as ProbeError {
            switch e {
            case .tlsRequired:
                return Result(answered: true, answerDetail: "server requires TLS", readOK: nil, readDetail: "not verified (TLS)")
            case .handshake(let why):
                return Result(answered: false, answerDetail: "handshake failed: \(why)", readOK: nil, readDetail: "not attempted")
            case .io(let why):
                return Result(answered: conn.handshakeDone, answerDetail: conn.handshakeDone ? "handshake ok" : why,
                              readOK: conn.handshakeDone ? false : nil, readDetail: conn.handshakeDone ? why : "not attempted")
            }
        } catch {
            return Result(answered: false, answerDetail: "\(error)", readOK: nil, readDetail: "not attempted")
        }
    }

    // MARK: - Protocol

    enum ProbeError: Error {
        case handshake(String)
        case tlsRequired
        case io(String)
    }

    /// Negotiates `export`; returns its size when the server told it.
    private static func handshake(_ c: inout Conn, export: String) throws -> UInt64? {
        guard try c.u64() == nbdMagic else { throw ProbeError.handshake("not an NBD server (no NBDMAGIC)") }
        let second = try c.u64()
        if second == oldstyleMagic {
            let size = try c.u64()
            _ = try c.u32()                 // flags
            _ = try c.bytes(124)            // reserved
            c.handshakeDone = true
            return size
        }
        guard second == optMagic else { throw ProbeError.handshake("unknown NBD greeting") }
        let serverFlags = try c.u16()
        let clientFlags = UInt32(serverFlags & 0x3)   // FIXED_NEWSTYLE | NO_ZEROES, if offered
        try c.send(be32(clientFlags))
        let name = Array(export.utf8)
        if serverFlags & 0x1 != 0 {
            // NBD_OPT_GO: u32 name length, name, u16 number of info requests (0).
            var data = be32(UInt32(name.count)) + name + be16(0)
            try c.send(be64(optMagic) + be32(7) + be32(UInt32(data.count)) + data)
            data = []
            var size: UInt64?
            while true {
                guard try c.u64() == replyMagic else { throw ProbeError.handshake("bad option reply magic") }
                _ = try c.u32()
                let type = try c.u32()
                let len = try c.u32()
                guard len <= 65_536 else { throw ProbeError.handshake("oversized option reply") }
                let payload = try c.bytes(Int(len))
                switch type {
                case 1:  // NBD_REP_ACK
                    c.handshakeDone = true
                    return size
                case 3:  // NBD_REP_INFO
                    if payload.count >= 10, payload[0] == 0, payload[1] == 0 {  // NBD_INFO_EXPORT
                        size = payload[2..<10].reduce(0) { $0 << 8 | UInt64($1) }
                    }
                case 0x8000_0001:  // NBD_REP_ERR_UNSUP: fall back to EXPORT_NAME below
                    return try exportName(&c, name: name, noZeroes: serverFlags & 0x2 != 0)
                case 0x8000_0005:  // NBD_REP_ERR_TLS_REQD
                    throw ProbeError.tlsRequired
                default:
                    if type & 0x8000_0000 != 0 {
                        let msg = String(decoding: payload, as: UTF8.self)
                        throw ProbeError.handshake("option refused (\(String(type, radix: 16)))\(msg.isEmpty ? "" : ": " + msg)")
                    }
                }
            }
        }
        return try exportName(&c, name: name, noZeroes: serverFlags & 0x2 != 0)
    }

    private static func exportName(_ c: inout Conn, name: [UInt8], noZeroes: Bool) throws -> UInt64? {
        try c.send(be64(optMagic) + be32(1) + be32(UInt32(name.count)) + name)
        let size = try c.u64()
        _ = try c.u16()
        if !noZeroes { _ = try c.bytes(124) }
        c.handshakeDone = true
        return size
    }

    /// NBD_CMD_READ of `length` bytes at 0; returns the reply's error (0: fine).
    private static func read(_ c: inout Conn, length: UInt32) throws -> UInt32 {
        try c.send(be32(requestMagic) + be16(0) + be16(0) + be64(1) + be64(0) + be32(length))
        guard try c.u32() == simpleReplyMagic else { throw ProbeError.io("unexpected reply (structured replies were not asked for)") }
        let error = try c.u32()
        _ = try c.u64()  // handle
        if error == 0 { _ = try c.bytes(Int(length)) }
        return error
    }

    private static func disconnect(_ c: inout Conn) throws {
        try c.send(be32(requestMagic) + be16(0) + be16(2) + be64(2) + be64(0) + be32(0))
    }

    static func nbdErrorName(_ e: UInt32) -> String {
        switch e {
        case 1: "EPERM"
        case 5: "EIO"
        case 12: "ENOMEM"
        case 22: "EINVAL"
        case 28: "ENOSPC"
        case 75: "EOVERFLOW"
        case 95: "ENOTSUP"
        case 108: "ESHUTDOWN"
        default: "NBD error \(e)"
        }
    }

    // MARK: - Bytes and sockets

    private static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    private static func be32(_ v: UInt32) -> [UInt8] { (0..<4).reversed().map { UInt8((v >> (8 * UInt32($0))) & 0xFF) } }
    private static func be64(_ v: UInt64) -> [UInt8] { (0..<8).reversed().map { UInt8((v >> (8 * UInt64($0))) & 0xFF) } }

    struct Conn {
        let fd: Int32
        var handshakeDone = false

        func send(_ bytes: [UInt8]) throws {
            var off = 0
            while off < bytes.count {
                let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ProbeError.io("send: \(errnoText(errno))")
                }
                off += n
            }
        }

        func bytes(_ count: Int) throws -> [UInt8] {
            var out = [UInt8](repeating: 0, count: count)
            var off = 0
            while off < count {
                let n = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + off, count - off, 0) }
                if n == 0 { throw ProbeError.io("server closed the connection") }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ProbeError.io(errno == EAGAIN || errno == EWOULDBLOCK ? "timed out waiting for the server" : "recv: \(errnoText(errno))")
                }
                off += n
            }
            return out
        }

        func u16() throws -> UInt16 { try bytes(2).reduce(0) { $0 << 8 | UInt16($1) } }
        func u32() throws -> UInt32 { try bytes(4).reduce(0) { $0 << 8 | UInt32($1) } }
        func u64() throws -> UInt64 { try bytes(8).reduce(0) { $0 << 8 | UInt64($1) } }
    }

    struct SocketError: Error { var text: String }

    /// Connects with `timeout` (non-blocking connect + poll); send/receive time out too.
    static func connectSocket(_ endpoint: Endpoint, timeout: Duration) -> Swift.Result<Int32, SocketError> {
        let ms = Int32(clamping: max(1, timeout.inNanoseconds / 1_000_000))
        switch endpoint {
        case .unix(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return .failure(SocketError(text: "socket: \(errnoText(errno))")) }
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
                close(fd)
                return .failure(SocketError(text: "socket path too long"))
            }
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                for (i, b) in bytes.enumerated() { raw[i] = b }
            }
            let r = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { finishConnect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size), ms) }
            }
            if let e = r { close(fd); return .failure(SocketError(text: "\(path): \(e)")) }
            return .success(fd)
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_family = AF_UNSPEC
            var res: UnsafeMutablePointer<addrinfo>?
            let rc = getaddrinfo(host, String(port), &hints, &res)
            guard rc == 0, let first = res else {
                return .failure(SocketError(text: "\(host): \(String(cString: gai_strerror(rc)))"))
            }
            defer { freeaddrinfo(res) }
            var lastError = "no address"
            var cur: UnsafeMutablePointer<addrinfo>? = first
            while let ai = cur {
                let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
                if fd >= 0 {
                    if let e = finishConnect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen, ms) {
                        lastError = e
                        close(fd)
                    } else {
                        return .success(fd)
                    }
                }
                cur = ai.pointee.ai_next
            }
            return .failure(SocketError(text: "\(host):\(port): \(lastError)"))
        }
    }

    /// Non-blocking connect bounded by `ms`, then blocking I/O with `ms` send/receive timeouts.
    private static func finishConnect(_ fd: Int32, _ addr: UnsafePointer<sockaddr>, _ len: socklen_t, _ ms: Int32) -> String? {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        if connect(fd, addr, len) != 0 {
            guard errno == EINPROGRESS else { return errnoText(errno) }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let n = poll(&p, 1, ms)
            if n == 0 { return "connect timed out" }
            if n < 0 { return "poll: \(errnoText(errno))" }
            var err: Int32 = 0
            var errLen = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errLen)
            if err != 0 { return errnoText(err) }
        }
        _ = fcntl(fd, F_SETFL, flags)
        var tv = timeval(tv_sec: Int(ms / 1000), tv_usec: Int(ms % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return nil
    }
}

/// `strerror` with the errno name, e.g. `ECONNREFUSED (Connection refused)`.
func errnoText(_ e: Int32) -> String {
    let names: [Int32: String] = [EIO: "EIO", ENOSPC: "ENOSPC", EACCES: "EACCES", EPERM: "EPERM", ENOENT: "ENOENT",
                                  EROFS: "EROFS", ECONNREFUSED: "ECONNREFUSED", ETIMEDOUT: "ETIMEDOUT", EHOSTUNREACH: "EHOSTUNREACH",
                                  ENETUNREACH: "ENETUNREACH", EDQUOT: "EDQUOT", ENOTDIR: "ENOTDIR", EINVAL: "EINVAL"]
    let msg = String(cString: strerror(e))
    return names[e].map { "\($0) (\(msg))" } ?? msg
}
