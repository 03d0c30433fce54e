import Foundation
import Libvirt
import Testing

@Suite struct LeakTests {
    /// Resident set size in bytes (`/proc/self/statm`, second field, in pages); a failure to
    /// read it fails the test (a 0 would make any growth read as none).
    static func rss() throws -> Int {
        let s = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
        let fields = s.split(separator: " ")
        let pages = try #require(fields.count > 1 ? Int(fields[1]) : nil, "unreadable statm: \(s)")
        #expect(pages > 0)
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// 3,000 rounds of list + lookup + bulk stats + a failing lookup over a 100-domain fleet
    /// (≈ 600,000 Domain handles and 300,000 stats records made and freed). A leaked
    /// handle or record per round would grow RSS by tens of MiB; the bound is 12 MiB.
    @Test func thousandsOfCallsKeepMemoryFlat() async throws {
        let conn = try await Connection.open(try TestNode.uri(TestNode.fleet(count: 100), tag: "leak"))
        defer { Task { await conn.close() } }
        func round() async throws {
            let all = try await conn.listAllDomains()
            precondition(all.count == 100)
            _ = try await conn.domain(named: "guest-\(Int.random(in: 0..<100))").state()
            let stats = try await conn.allDomainStats(groups: .state)
            precondition(stats.count == 100)
            _ = try? await conn.domain(named: "missing")
            _ = try await conn.domainStats(Array(all.prefix(10)), groups: .state)
            _ = try await all[0].xmlDescription()
        }
        for _ in 0..<300 { try await round() }  // warm-up: allocator pools, libvirt caches
        let before = try Self.rss()
        for _ in 0..<3_000 { try await round() }
        let after = try Self.rss()
        let growth = after - before
        #expect(growth < 12 << 20, "RSS grew by \(growth >> 10) KiB over 3,000 rounds (before \(before >> 20) MiB)")
    }
}
