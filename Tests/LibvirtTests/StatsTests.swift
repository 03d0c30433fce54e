import CLibvirt
import Foundation
@testable import Libvirt
import Testing

@Suite struct StatsTests {
    @Test func fleetStateStatsMatchDomainState() async throws {
        let guests = TestNode.fleet(count: 60)
        let conn = try await Connection.open(try TestNode.uri(guests, tag: "fleet"))
        defer { Task { await conn.close() } }
        let stats = try await conn.allDomainStats(groups: .state)
        #expect(stats.count == 60)
        let byName = Dictionary(uniqueKeysWithValues: stats.map { ($0.name, $0) })
        for g in guests {
            let s = try #require(byName[g.name])
            #expect(s.state?.state == DomainState(rawValue: g.runState))
            #expect(s.cpu == nil && s.balloon == nil && s.vcpu == nil && s.extra.isEmpty)
        }
        // Filtering flags.
        let paused = try await conn.allDomainStats(groups: .state, flags: .paused)
        #expect(paused.count == guests.filter { $0.runState == 3 }.count)
        #expect(paused.allSatisfy { $0.state?.state == .paused })
        let transient = try await conn.allDomainStats(groups: .state, flags: .transient)
        #expect(Set(transient.map(\.name)) == Set(guests.filter(\.transient).map(\.name)))
        // Per-domain list API and the raw escape hatch agree.
        let some = try await conn.listAllDomains(flags: .shutoff)
        let listed = try await conn.domainStats(some, groups: .state)
        #expect(listed.count == some.count && listed.allSatisfy { $0.state?.state == .shutoff })
        // Handles on request: each record's Domain is a working handle of its own.
        let handled = try await conn.allDomainStats(groups: .state, handles: true)
        #expect(handled.allSatisfy { $0.domain?.name == $0.name })
        #expect(stats.allSatisfy { $0.domain == nil })
        let h = try #require(handled.first { $0.state?.state == .paused }?.domain)
        try await h.resume()
        #expect(try await h.state() == .running(.unpaused))
        let raw = try await conn.allDomainStatsRaw(groups: .state)
        #expect(raw.count == 60)
        #expect(raw.allSatisfy { $0.parameters["state.state"] != nil && $0.parameters["state.reason"] != nil })
    }

    @Test func listAllDomainsFlagsOnFleet() async throws {
        let guests = TestNode.fleet(count: 25)
        let conn = try await Connection.open(try TestNode.uri(guests, tag: "list"))
        defer { Task { await conn.close() } }
        #expect(try await conn.listAllDomains().count == 25)
        let active = try await conn.listAllDomains(flags: .active).count
        let inactive = try await conn.listAllDomains(flags: .inactive).count
        #expect(active + inactive == 25)
        #expect(inactive == guests.filter { $0.runState == 5 }.count)
        #expect(try await conn.listAllDomains(flags: .running).count == guests.filter { $0.runState == 1 }.count)
        #expect(try await conn.listAllDomains(flags: .other).count == guests.filter { [6, 7].contains($0.runState) }.count)
        #expect(try await conn.listAllDomains(flags: [.persistent, .running]).count == guests.filter { $0.runState == 1 && !$0.transient }.count)
        let counts = try await conn.domainCounts()
        #expect(counts.active == active && counts.inactive == inactive)
        // Every state the fleet holds comes back through virDomainGetState with its reason type.
        for d in try await conn.listAllDomains() {
            let st = try await d.state()
            let g = try #require(guests.first { $0.name == d.name })
            #expect(st.state.rawValue == g.runState)
        }
    }

    @Test func defaultDriverReportsAllGroups() async throws {
        let conn = try await TestNode.single()
        defer { Task { await conn.close() } }
        let stats = try await conn.allDomainStats()
        let s = try #require(stats.first)
        #expect(s.state?.state == .running)
    }

    /// Feeds the decoder a hand-built parameter array with every group's fields
    /// (what qemu:///system reports), including unknown ones.
    @Test func decoderCoversEveryGroup() async throws {
        try LibvirtLibrary.initialize()  // before any direct libvirt C call (see its docs)
        var params: UnsafeMutablePointer<virTypedParameter>?
        var n: Int32 = 0, cap: Int32 = 0
        defer { virTypedParamsFree(params, n) }
        func u(_ k: String, _ v: UInt64) { _ = virTypedParamsAddULLong(&params, &n, &cap, k, v) }
        func i(_ k: String, _ v: Int32) { _ = virTypedParamsAddInt(&params, &n, &cap, k, v) }
        func s(_ k: String, _ v: String) { _ = virTypedParamsAddString(&params, &n, &cap, k, v) }
        func b(_ k: String, _ v: Bool) { _ = virTypedParamsAddBoolean(&params, &n, &cap, k, v ? 1 : 0) }
        i("state.state", 3); i("state.reason", 14)
        u("cpu.time", 10); u("cpu.user", 4); u("cpu.system", 6); u("cpu.haltpoll.success.time", 1); u("cpu.haltpoll.fail.time", 2)
        u("cpu.cache.monitor.count", 0)
        u("balloon.current", 65536); u("balloon.maximum", 131072); u("balloon.swap_in", 1); u("balloon.swap_out", 2)
        u("balloon.major_fault", 3); u("balloon.minor_fault", 4); u("balloon.unused", 5); u("balloon.available", 6)
        u("balloon.usable", 7); u("balloon.rss", 8); u("balloon.last-update", 9); u("balloon.disk_caches", 10)
        u("balloon.hugetlb_pgalloc", 11); u("balloon.hugetlb_pgfail", 12)
        _ = virTypedParamsAddUInt(&params, &n, &cap, "vcpu.current", 2); _ = virTypedParamsAddUInt(&params, &n, &cap, "vcpu.maximum", 4)
        i("vcpu.0.state", 1); u("vcpu.0.time", 100); u("vcpu.0.wait", 5); u("vcpu.0.delay", 7); b("vcpu.0.halted", true)
        u("vcpu.0.exits.sum", 1354)
        i("vcpu.1.state", 2); u("vcpu.1.time", 200)
        u("net.count", 2); s("net.0.name", "vnet0"); u("net.0.rx.bytes", 1); u("net.0.rx.pkts", 2); u("net.0.rx.errs", 3)
        u("net.0.rx.drop", 4); u("net.0.tx.bytes", 5); u("net.0.tx.pkts", 6); u("net.0.tx.errs", 7); u("net.0.tx.drop", 8)
        s("net.1.name", "vnet1")
        u("block.count", 1); s("block.0.name", "vda"); s("block.0.path", "/img"); _ = virTypedParamsAddUInt(&params, &n, &cap, "block.0.backingIndex", 1)
        u("block.0.rd.reqs", 1); u("block.0.rd.bytes", 2); u("block.0.rd.times", 3); u("block.0.wr.reqs", 4); u("block.0.wr.bytes", 5)
        u("block.0.wr.times", 6); u("block.0.fl.reqs", 7); u("block.0.fl.times", 8); u("block.0.errors", 9)
        u("block.0.allocation", 10); u("block.0.capacity", 11); u("block.0.physical", 12); u("block.0.threshold", 13)
        u("perf.cmt", 42); u("perf.cpu_cycles", 43)
        s("dirtyrate.calc_mode", "page-sampling"); u("vm.remote_tlb_flush.sum", 2)
        u("vcpu.x.time", 1)  // malformed index: kept in extra, not dropped

        let conn = try #require(virConnectOpen("test:///default"))
        defer { virConnectClose(conn) }
        let dom = try #require(virDomainLookupByName(conn, "test"))
        defer { virDomainFree(dom) }
        let holder = try await Connection.open("test:///default")
        var st = DomainStats(name: "test", domain: Domain(retaining: dom, connection: holder))
        DomainStatsDecoder.decode(params, count: Int(n), into: &st)

        #expect(st.state == .paused(.apiError))
        #expect(st.cpu == DomainStats.CPU(time: 10, user: 4, system: 6, haltPollSuccessTime: 1, haltPollFailTime: 2))
        #expect(st.balloon == DomainStats.Balloon(current: 65536, maximum: 131072, swapIn: 1, swapOut: 2, majorFault: 3, minorFault: 4,
                                                 unused: 5, available: 6, usable: 7, rss: 8, lastUpdate: 9, diskCaches: 10,
                                                 hugetlbPageAllocations: 11, hugetlbPageFailures: 12))
        #expect(st.vcpu?.current == 2 && st.vcpu?.maximum == 4)
        #expect(st.vcpu?.entries.count == 2)
        #expect(st.vcpu?.entries[0] == DomainStats.VCPU(state: .running, time: 100, wait: 5, delay: 7, halted: true))
        #expect(st.vcpu?.entries[1].state == .blocked && st.vcpu?.entries[1].wait == nil)
        #expect(st.interfaceCount == 2 && st.interfaces.count == 2)
        #expect(st.interfaces[0] == DomainStats.Interface(name: "vnet0", rxBytes: 1, rxPackets: 2, rxErrors: 3, rxDrops: 4,
                                                         txBytes: 5, txPackets: 6, txErrors: 7, txDrops: 8))
        #expect(st.interfaces[1].name == "vnet1" && st.interfaces[1].rxBytes == nil)
        #expect(st.blockCount == 1)
        #expect(st.blocks == [DomainStats.Block(name: "vda", path: "/img", backingIndex: 1, readRequests: 1, readBytes: 2, readTime: 3,
                                                writeRequests: 4, writeBytes: 5, writeTime: 6, flushRequests: 7, flushTime: 8,
                                                errors: 9, allocation: 10, capacity: 11, physical: 12, threshold: 13)])
        #expect(st.perf == [StatsField(name: "cmt", value: .ullong(42)), StatsField(name: "cpu_cycles", value: .ullong(43))])
        #expect(st.extra.map(\.name) == ["cpu.cache.monitor.count", "vcpu.0.exits.sum", "dirtyrate.calc_mode", "vm.remote_tlb_flush.sum", "vcpu.x.time"])
        #expect(st.extra[2].value == .string("page-sampling"))
    }

    @Test func typedParameterCodingRoundTrip() throws {
        let input: TypedParameters = ["a": .int(-1), "b": .uint(2), "c": .llong(-3), "d": .ullong(4), "e": .double(0.5),
                                      "f": .boolean(true), "g": .string("x y")]
        let back = try TypedParameterCoding.withEncoded(input) { p, n in TypedParameterCoding.decode(p, count: Int(n)) }
        #expect(back == input)
        #expect(throws: LibvirtError.self) { try TypedParameterCoding.withEncoded(["z": .unknownType(99)]) { _, _ in () } }
    }
}
