import Foundation
import Libvirt
import Testing
import VirtKitTestSupport
@testable import Tuning

/// A network disk's server check: a loopback listener answers, a closed port does not.
/// (A `try?` once flattened the checker's "connected" nil into "cancelled", so every
/// answering server was reported silent.)
@Suite(.offCooperativePool) struct StorageHealthTests {
    @Test func aListeningServerAnswersAndAClosedPortDoesNot() async throws {
        let conn = try await Connection.open("test:///default")
        let gatherer = DiagnosisGatherer(connection: conn, root: "/")
        let listening = try Self.loopbackSocket(listen: true)
        defer { close(listening.fd) }
        let closed = try Self.loopbackSocket(listen: false)
        close(closed.fd)
        let up = await gatherer.storageHealth(of: GuestDiskFacts(target: "vda", type: "network", networkProtocol: "nbd", networkHosts: ["127.0.0.1:\(listening.port)"]))
        let down = await gatherer.storageHealth(of: GuestDiskFacts(target: "vdb", type: "network", networkProtocol: "nbd", networkHosts: ["127.0.0.1:\(closed.port)"]))
        await conn.close()
        #expect(up == .server(address: "127.0.0.1:\(listening.port)", answers: true, detail: nil))
        guard case .server(_, let answers, let detail) = down else {
            Issue.record("not a server check: \(down)")
            return
        }
        #expect(!answers && detail != nil, "\(down)")
    }

    /// A TCP socket bound to 127.0.0.1 on a free port (listening or not).
    static func loopbackSocket(listen: Bool) throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard ok, !listen || Glibc.listen(fd, 4) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }
}
