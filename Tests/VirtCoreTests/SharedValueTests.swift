import Foundation
import Testing
import VirtCore

@Suite struct SharedValueTests {
    @Test func uuidParsesLibvirtFormsAndPrintsCanonically() throws {
        let u = try #require(LibvirtUUID(" 4DEA22B3-1D52-D8F3-2516-782E98AB3FA0 "))
        #expect(u.description == "4dea22b3-1d52-d8f3-2516-782e98ab3fa0")
        #expect(LibvirtUUID("4dea22b31d52d8f32516782e98ab3fa0") == u)
        #expect(LibvirtUUID("4dea22b3-1d52") == nil)
        #expect(LibvirtUUID("4dea22b31d52d8f32516782e98ab3fa0ff") == nil)
        #expect(LibvirtUUID(bytes: [1, 2, 3]) == nil)
        let json = try JSONEncoder().encode([u])
        #expect(String(decoding: json, as: UTF8.self) == "[\"4dea22b3-1d52-d8f3-2516-782e98ab3fa0\"]")
        #expect(try JSONDecoder().decode([LibvirtUUID].self, from: json) == [u])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([LibvirtUUID].self, from: Data("[\"zz\"]".utf8)) }
    }

    @Test func limitOrdersUnlimitedLastAndEncodesStably() throws {
        let values: [Limit<MemorySize>] = [.unlimited, .limited(.mebibytes(4)), .limited(.kibibytes(1))]
        #expect(values.sorted() == [.limited(.kibibytes(1)), .limited(.mebibytes(4)), .unlimited])
        let json = try JSONEncoder().encode(values)
        #expect(String(decoding: json, as: UTF8.self) == "[\"unlimited\",{\"bytes\":4194304},{\"bytes\":1024}]")
        #expect(try JSONDecoder().decode([Limit<MemorySize>].self, from: json) == values)
        #expect(Limit<Int>.unlimited.value == nil && Limit.limited(3).value == 3)
    }

    @Test func durationsConvertFromUnsignedCountersWithoutTrapping() {
        #expect(Duration.nanoseconds(unsigned: 1_500_000_000) == .milliseconds(1500))
        #expect(Duration.microseconds(unsigned: 2_000_001) == .seconds(2) + .microseconds(1))
        #expect(Duration.milliseconds(unsigned: 61_000) == .seconds(61))
        let huge = Duration.nanoseconds(unsigned: .max)  // above Int64.max ns: no trap
        #expect(huge > .seconds(18_000_000_000))
        #expect(huge.inNanoseconds == .max)
        #expect(Duration.milliseconds(250).inSeconds == 0.25)
    }

    @Test(arguments: [
        (Duration.nanoseconds(37), "37.0 ns"), (.microseconds(37), "37.0 µs"), (.microseconds(1200), "1.20 ms"),
        (.milliseconds(2500), "2.50 s"), (.seconds(200), "3 min 20 s"), (.seconds(3900), "1 h 5 min"),
        (.zero, "0 s"), (.milliseconds(-5), "-5.00 ms"), (.nanoseconds(999_999), "1000 µs"),
    ])
    func durationsPrintForPeople(_ d: Duration, _ text: String) {
        #expect(d.humanReadable == text)
    }

    @Test func memoryPrintsForPeopleAndExactly() {
        #expect(MemorySize(bytes: 6_012_954_214).humanReadable == "5.60 GiB")
        #expect(MemorySize.mebibytes(512).humanReadable == "512 MiB")
        #expect(MemorySize(bytes: 100).humanReadable == "100 B")
        #expect(MemorySize(bytes: 1536).humanReadable == "1.50 KiB")
        #expect(MemorySize.mebibytes(1536).description == "1536 MiB")
    }

    @Test func timestampsPrintISO8601AndEncodeAsSeconds() throws {
        let t = Timestamp.milliseconds(sinceUnixEpoch: 1_796_592_274_123)
        #expect(t.description == "2026-12-06T21:24:34.123Z")
        #expect(Timestamp.seconds(sinceUnixEpoch: 0).description == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.seconds(sinceUnixEpoch: 951_782_400).description == "2000-02-29T00:00:00.000Z")
        let json = try JSONEncoder().encode([Timestamp.seconds(sinceUnixEpoch: 1_000)])
        #expect(String(decoding: json, as: UTF8.self) == "[1000]")
    }

    @Test func hostTopologyGroupsCoresAndFindsCPUs() {
        let cpus = (0..<4).map { HostTopology.CPU(id: $0, package: 0, core: $0 % 2, node: 0, threadSiblings: CPUSet([$0 % 2, $0 % 2 + 2])) }
        let topo = HostTopology(cpus: cpus.reversed(), nodes: [.init(id: 0, cpus: CPUSet(0..<4), memory: .gibibytes(4))])
        #expect(topo.cpus.map(\.id) == [0, 1, 2, 3])
        #expect(topo.cores == [CPUSet([0, 2]), CPUSet([1, 3])])
        #expect(topo.cpu(3)?.core == 1)
        #expect(topo.onlineCPUs == CPUSet(0..<4))
    }

    @Test func blockingPoolRunsOffTheCooperativePoolAndCancelsQueuedWork() async throws {
        let pool = BlockingThreadPool(threadCount: 1, name: "vk-test-io")
        defer { pool.shutdown() }
        #expect(try await pool.run { pool.isCurrentThread })
        #expect(!pool.isCurrentThread)
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await pool.run { () throws(Boom) -> Int in throw Boom() } }
    }
}
