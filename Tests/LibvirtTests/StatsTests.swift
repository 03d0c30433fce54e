import CLibvirt
import VirtCore
import Foundation
@testable import Libvirt
import Testing
import VirtKitTestSupport

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
        // The test driver supports only the state group: it is decoded, and every other group
        // is nil ("not reported"), never zero.
        let dom = try await conn.domain(named: s.name)
        #expect(s.state == (try await dom.state()))
        #expect(s.cpu == nil && s.balloon == nil && s.vcpu == nil && s.interfaceCount == nil && s.blockCount == nil)
        #expect(s.interfaces.isEmpty && s.blocks.isEmpty && s.perf.isEmpty && s.extra.isEmpty)
        // …and that is all libvirt sent: the raw records hold just the state fields.
        let raw = try await conn.allDomainStatsRaw()
        #expect(raw.count == stats.count)
        #expect(Set(raw.flatMap(\.parameters.keys)) == ["state.state", "state.reason"])
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
        #expect(st.cpu == DomainStats.CPU(time: .nanoseconds(10), user: .nanoseconds(4), system: .nanoseconds(6), haltPollSuccessTime: .nanoseconds(1), haltPollFailTime: .nanoseconds(2)))
        #expect(st.balloon == DomainStats.Balloon(current: .kibibytes(65536), maximum: .kibibytes(131072), swapIn: .kibibytes(1), swapOut: .kibibytes(2), majorFault: 3, minorFault: 4,
                                                 unused: .kibibytes(5), available: .kibibytes(6), usable: .kibibytes(7), rss: .kibibytes(8),
                                                 lastUpdate: .seconds(sinceUnixEpoch: 9), diskCaches: .kibibytes(10),
                                                 hugetlbPageAllocations: 11, hugetlbPageFailures: 12))
        #expect(st.vcpu?.current == 2 && st.vcpu?.maximum == 4)
        #expect(st.vcpu?.entries.count == 2)
        #expect(st.vcpu?.entries[0] == DomainStats.VCPU(state: .running, time: .nanoseconds(100), wait: .nanoseconds(5), delay: .nanoseconds(7), halted: true))
        #expect(st.vcpu?.entries[1].state == .blocked && st.vcpu?.entries[1].wait == nil)
        #expect(st.interfaceCount == 2 && st.interfaces.count == 2)
        #expect(st.interfaces[0] == DomainStats.Interface(name: "vnet0", rxBytes: 1, rxPackets: 2, rxErrors: 3, rxDrops: 4,
                                                         txBytes: 5, txPackets: 6, txErrors: 7, txDrops: 8))
        #expect(st.interfaces[1].name == "vnet1" && st.interfaces[1].rxBytes == nil)
        #expect(st.blockCount == 1)
        #expect(st.blocks == [DomainStats.Block(name: "vda", path: "/img", backingIndex: 1, readRequests: 1, readBytes: 2, readTime: .nanoseconds(3),
                                                writeRequests: 4, writeBytes: 5, writeTime: .nanoseconds(6), flushRequests: 7, flushTime: .nanoseconds(8),
                                                errors: 9, allocation: MemorySize(bytes: 10), capacity: MemorySize(bytes: 11),
                                                physical: MemorySize(bytes: 12), threshold: MemorySize(bytes: 13))])
        #expect(st.perf == [StatsField(name: "cmt", value: .ullong(42)), StatsField(name: "cpu_cycles", value: .ullong(43))])
        #expect(st.extra.map(\.name) == ["cpu.cache.monitor.count", "vcpu.0.exits.sum", "dirtyrate.calc_mode", "vm.remote_tlb_flush.sum", "vcpu.x.time"])
        #expect(st.extra[2].value == .string("page-sampling"))
        #expect(st.extra["vm.remote_tlb_flush.sum"] == .ullong(2) && st.extra["vcpu.x.time"] == .ullong(1))
        #expect(st.extra["vm.remote_tlb_flush"] == nil && st.extra["nope"] == nil)
        // Exactly what libvirt handed over, field by field, against the generic decoder.
        let typedNames = Set(TypedParameterCoding.decodeList(params, count: Int(n)).map(\.name)).subtracting(st.extra.map(\.name))
        #expect(!typedNames.contains("vcpu.0.exits.sum") && typedNames.contains("vcpu.0.time"))
        Self.expectExtraMatchesC(st.extra, params, count: Int(n))
    }

    /// `extra` holds, in order, exactly the C parameters the typed fields don't: same names,
    /// same C types, same values (the generic `TypedParameterCoding` decode of the same array).
    static func expectExtraMatchesC(_ extra: StatsFields, _ params: UnsafePointer<virTypedParameter>?, count: Int,
                                    sourceLocation: SourceLocation = #_sourceLocation) {
        let all = TypedParameterCoding.decodeList(params, count: count)
        var j = 0
        for field in extra {
            while j < all.count && all[j].name != field.name { j += 1 }
            guard j < all.count else {
                Issue.record("extra field \(field.name) not among the C parameters (or out of order)", sourceLocation: sourceLocation)
                return
            }
            #expect(field.value == all[j].value || (field.value.double?.isNaN == true && all[j].value.double?.isNaN == true),
                    "\(field.name): \(field.value) vs C \(all[j].value)", sourceLocation: sourceLocation)
            #expect(extra[field.name] != nil, sourceLocation: sourceLocation)
            j += 1
        }
    }

    /// Every C value type survives the compact copy (including a type newer than libvirt 9
    /// and NULL/empty strings), a record's buffer lives as long as any copy of its fields,
    /// and `StatsFields` behaves as a value.
    @Test func untypedFieldsKeepEveryTypeAndShareStorage() async throws {
        try LibvirtLibrary.initialize()
        var params: UnsafeMutablePointer<virTypedParameter>?
        var n: Int32 = 0, cap: Int32 = 0
        defer { virTypedParamsFree(params, n) }
        _ = virTypedParamsAddInt(&params, &n, &cap, "iothread.0.poll-max-ns", -7)
        _ = virTypedParamsAddUInt(&params, &n, &cap, "iothread.count", 4_000_000_000)
        _ = virTypedParamsAddLLong(&params, &n, &cap, "memory.bandwidth.monitor.0.vcpus.x", Int64.min)
        _ = virTypedParamsAddULLong(&params, &n, &cap, "vm.max_mmu_page_hash_collisions.max", UInt64.max)
        _ = virTypedParamsAddDouble(&params, &n, &cap, "dirtyrate.megabytes_per_second.ratio", 0.25)
        _ = virTypedParamsAddBoolean(&params, &n, &cap, "vcpu.0.guest_mode.cur", 1)
        _ = virTypedParamsAddString(&params, &n, &cap, "dirtyrate.calc_status", "measured ü")
        _ = virTypedParamsAddString(&params, &n, &cap, "dirtyrate.empty", "")
        _ = virTypedParamsAddULLong(&params, &n, &cap, String(repeating: "x", count: 79), 9)  // longest name libvirt allows
        var array = Array(UnsafeBufferPointer(start: try #require(params), count: Int(n)))
        var unknown = virTypedParameter()
        withUnsafeMutableBytes(of: &unknown.field) { $0.copyBytes(from: Array("future.field".utf8)) }
        unknown.type = 99
        unknown.value.ul = 0xDEAD
        array.append(unknown)
        var nullString = virTypedParameter()
        withUnsafeMutableBytes(of: &nullString.field) { $0.copyBytes(from: Array("dirtyrate.null".utf8)) }
        nullString.type = Int32(VIR_TYPED_PARAM_STRING.rawValue)
        array.append(nullString)

        weak var weakStorage: StatsFieldStorage?
        do {
            var a = DomainStats(name: "a", domain: nil), b = DomainStats(name: "b", domain: nil)
            array.withUnsafeMutableBufferPointer { buf in
                DomainStatsDecoder.decode(buf.baseAddress, count: buf.count, into: &a)
                DomainStatsDecoder.decode(buf.baseAddress, count: 3, into: &b)
            }
            #expect(a.extra.map(\.value) == [.int(-7), .uint(4_000_000_000), .llong(Int64.min), .ullong(UInt64.max), .double(0.25),
                                             .boolean(true), .string("measured ü"), .string(""), .ullong(9), .unknownType(99), .string("")])
            #expect(a.extra.map(\.name) == array.map { TypedParameterCoding.name([$0]) })
            array.withUnsafeBufferPointer { Self.expectExtraMatchesC(a.extra, $0.baseAddress, count: $0.count) }
            #expect(b.extra.count == 3 && b.extra.storage !== a.extra.storage)  // a buffer per record
            #expect(Array(b.extra) == Array(a.extra.prefix(3)))
            #expect(b.extra != a.extra)
            // Equality compares the fields, whatever holds them: the same fields appended one by
            // one into a fresh `StatsFields` are equal to the record's.
            var rebuilt = StatsFields()
            for f in a.extra { rebuilt.append(f) }
            #expect(rebuilt == a.extra && rebuilt.hashValue == a.extra.hashValue)
            rebuilt.append(StatsField(name: "one.more", value: .int(1)))
            #expect(rebuilt != a.extra)

            // A record decoded again in another call compares and hashes equal.
            var again = DomainStats(name: "a", domain: nil)
            array.withUnsafeMutableBufferPointer { DomainStatsDecoder.decode($0.baseAddress, count: $0.count, into: &again) }
            #expect(again.extra == a.extra && again.extra.hashValue == a.extra.hashValue)
            #expect(again.extra.storage !== a.extra.storage)

            // Value semantics: appending to a copy copies the fields out of the shared buffer;
            // the record doesn't change.
            var edited = b.extra
            #expect(edited.storage === b.extra.storage)
            edited.append(StatsField(name: "added", value: .string("yes")))
            #expect(edited.count == 4 && edited["added"] == .string("yes") && edited[3].name == "added")
            #expect(Array(edited.prefix(3)) == Array(b.extra) && b.extra.count == 3 && a.extra.count == 11)
            #expect(edited.storage !== b.extra.storage)
            var fresh = StatsFields()
            #expect(fresh.isEmpty && fresh["x"] == nil && fresh == StatsFields())
            for f in a.extra { fresh.append(f) }
            #expect(fresh == a.extra && Array(fresh) == Array(a.extra))

            weakStorage = a.extra.storage
            let keep = a.extra  // outlives the record
            a = DomainStats(name: "a", domain: nil)
            b = DomainStats(name: "b", domain: nil)
            #expect(weakStorage != nil && keep[0].value == .int(-7) && keep.count == 11)
        }
        #expect(weakStorage == nil, "a record's field buffer is freed with its last copy")
    }

    /// The hot path adopts libvirt's C parameter array instead of copying: a record list
    /// built the way libvirt builds it (malloc'd list, record and parameters) decodes to
    /// the same untyped fields as the copying decoder, the adopted array is taken out of
    /// the C record (so `virDomainStatsRecordListFree` leaves it alone) and freed with the
    /// last copy of the fields; appending to adopted fields copies them first.
    @Test func adoptedUntypedFieldsMatchTheCopyAndOutliveTheCList() async throws {
        try LibvirtLibrary.initialize()
        var params: UnsafeMutablePointer<virTypedParameter>?
        var n: Int32 = 0, cap: Int32 = 0
        _ = virTypedParamsAddInt(&params, &n, &cap, "state.state", 1)
        _ = virTypedParamsAddInt(&params, &n, &cap, "iothread.0.poll-max-ns", -7)
        _ = virTypedParamsAddULLong(&params, &n, &cap, "cpu.time", 12)
        _ = virTypedParamsAddDouble(&params, &n, &cap, "dirtyrate.megabytes_per_second.ratio", 0.25)
        _ = virTypedParamsAddBoolean(&params, &n, &cap, "vcpu.0.guest_mode.cur", 1)
        _ = virTypedParamsAddString(&params, &n, &cap, "dirtyrate.calc_status", "measured ü")
        _ = virTypedParamsAddULLong(&params, &n, &cap, "future.field", 0xDEAD)
        _ = virTypedParamsAddString(&params, &n, &cap, "dirtyrate.null", "x")
        _ = virTypedParamsAddULLong(&params, &n, &cap, String(repeating: "x", count: 79), 9)
        let p = try #require(params)
        p[6].type = 99  // a type newer than libvirt 9
        free(p[7].value.s)
        p[7].value.s = nil  // a NULL string

        // The copying decoder on the same parameters, for reference (before they're adopted).
        var copied = DomainStats(name: "copy", domain: nil)
        DomainStatsDecoder.decode(p, count: Int(n), into: &copied)
        #expect(copied.extra.storage != nil && copied.extra.adopted == nil && copied.extra.count == 7)

        let conn = try #require(virConnectOpen("test:///default"))
        defer { virConnectClose(conn) }
        let dom = try #require(virDomainLookupByName(conn, "test"))  // the list free drops this reference
        let record = try #require(malloc(MemoryLayout<virDomainStatsRecord>.stride)?.assumingMemoryBound(to: virDomainStatsRecord.self))
        record.pointee = virDomainStatsRecord(dom: dom, params: p, nparams: n)
        let list = try #require(malloc(2 * MemoryLayout<virDomainStatsRecordPtr?>.stride)?.assumingMemoryBound(to: virDomainStatsRecordPtr?.self))
        list[0] = record
        list[1] = nil
        let holder = try await Connection.open("test:///default")
        defer { Task { await holder.close() } }

        weak var weakAdopted: AdoptedStatsParams?
        do {
            var stats = DomainStatsDecoder.decodeAndFree(list, connection: holder, handles: false)  // frees list and record
            try #require(stats.count == 1)
            let extra = stats[0].extra
            #expect(stats[0].name == "test" && stats[0].state == .running(.unspecified) && stats[0].cpu?.time == .nanoseconds(12))
            #expect(extra.adopted != nil && extra.storage == nil)
            #expect(extra.map(\.value) == [.int(-7), .double(0.25), .boolean(true), .string("measured ü"), .unknownType(99), .string(""), .ullong(9)])
            #expect(Array(extra) == Array(copied.extra))
            #expect(extra == copied.extra && extra.hashValue == copied.extra.hashValue)  // equal across the two storages
            #expect(extra["dirtyrate.calc_status"] == .string("measured ü") && extra["nope"] == nil)
            weakAdopted = extra.adopted

            var edited = extra
            edited.append(StatsField(name: "added", value: .uint(1)))
            #expect(edited.adopted == nil && edited.storage != nil && edited.count == 8 && edited["added"] == .uint(1))
            #expect(Array(edited.prefix(7)) == Array(extra) && stats[0].extra.count == 7 && stats[0].extra.adopted != nil)

            stats.removeAll()
            #expect(weakAdopted != nil && extra[0].value == .int(-7))  // the fields outlive the record they came from
        }
        #expect(weakAdopted == nil, "the adopted C array is freed with the last copy of its fields")
    }

    /// On a real daemon: decode the very records `virConnectGetAllDomainStats` returned both
    /// ways before freeing them: typed records + lazily decoded `extra` vs the generic
    /// decoder, for a running guest of our own (every group qemu reports).
    @Test func liveExtraFieldsAreExactlyWhatLibvirtReported() async throws {
        let conn: Connection
        do { conn = try await Connection.open("qemu:///system") } catch {
            LiveEnvironment.unavailable("cannot open qemu:///system: \(error) (run Scripts/start-libvirt.sh)")
            return
        }
        defer { Task { await conn.close() } }
        let name = "bench-statstest-\(getpid())"
        let dom = try await conn.createDomain(xml: TestGuest.xml(name: name, vcpus: 2))  // transient: gone once destroyed
        do {
            try await Self.compareLive(conn, dom, name)
        } catch {
            try? await dom.destroy()
            throw error
        }
        try await dom.destroy()
    }

    static func compareLive(_ conn: Connection, _ dom: Domain, _ name: String) async throws {

        let raw = try #require(virConnectOpen("qemu:///system"))
        defer { virConnectClose(raw) }
        let d = try #require(virDomainLookupByName(raw, name))
        defer { virDomainFree(d) }
        var list: [OpaquePointer?] = [d, nil]
        var records: UnsafeMutablePointer<virDomainStatsRecordPtr?>?
        let groups: DomainStatsGroups = [.state, .cpuTotal, .balloon, .vcpu, .interface, .block, .perf, .iothread, .memory, .vm]
        let got = virDomainListGetStats(&list, groups.rawValue, &records, 0)
        #expect(got == 1)
        let r = try #require(records?[0])
        var st = DomainStats(name: name, domain: nil)
        DomainStatsDecoder.decode(r.pointee.params, count: Int(r.pointee.nparams), into: &st)
        let c = TypedParameterCoding.decode(r.pointee.params, count: Int(r.pointee.nparams))
        Self.expectExtraMatchesC(st.extra, r.pointee.params, count: Int(r.pointee.nparams))
        virDomainStatsRecordListFree(records)

        // Typed fields hold the same numbers; untyped ones are all in `extra`.
        #expect(st.cpu?.time == c["cpu.time"]?.uint64.map(Duration.nanoseconds(unsigned:)) && st.cpu?.time != nil)
        #expect(st.balloon?.maximum == c["balloon.maximum"]?.uint64.map(MemorySize.kibibytes) && st.balloon?.maximum == .kibibytes(65_536))
        #expect(st.vcpu?.entries.count == 2)
        for i in 0..<2 {
            #expect(st.vcpu?.entries[i].time == c["vcpu.\(i).time"]?.uint64.map(Duration.nanoseconds(unsigned:)))
            #expect(st.vcpu?.entries[i].state == c["vcpu.\(i).state"]?.int64.map { DomainStats.VCPU.State(rawValue: Int32($0)) })
        }
        let typedCount = c.count - st.extra.count
        #expect(typedCount > 10 && typedCount < c.count)
        if TestGuest.kvmUsable {
            // KVM's per-vCPU counters have no typed home: they must be in `extra`, as reported.
            let exits = try #require(c["vcpu.0.exits.sum"], "a KVM guest reports vcpu.0.exits.sum")
            #expect(st.extra["vcpu.0.exits.sum"] == exits)
        } else {
            LiveEnvironment.unavailable("/dev/kvm not usable: KVM's per-vCPU counters not checked")
        }
        #expect(Set(st.extra.map(\.name)).isSubset(of: Set(c.keys)))

        // The async API on the same guest: the same field names (values move).
        let viaAPI = try #require(try await conn.domainStats([dom], groups: groups).first)
        #expect(viaAPI.extra.map(\.name) == st.extra.map(\.name))
        #expect(viaAPI.extra.count == st.extra.count)
    }

    /// A task on the pool as its task executor runs its libvirt calls in place (no hop),
    /// with the same results; other tasks still hop.
    @Test func statsFromATaskOnThePoolExecutor() async throws {
        let guests = TestNode.fleet(count: 30)
        let conn = try await Connection.open(try TestNode.uri(guests, tag: "executor"))
        defer { Task { await conn.close() } }
        let pool = BlockingThreadPool.libvirt
        #expect(!pool.isCurrentThread)
        let hopped = try await conn.allDomainStats(groups: .state)
        let (onPool, inPlace, threadName) = try await withTaskExecutorPreference(pool) {
            let before = pool.isCurrentThread
            let stats = try await conn.allDomainStats(groups: .state)
            // The blocking body of `run` runs on the very thread the task is on.
            let taskThread = pthread_self()
            let bodyThread = try await pool.run { pthread_self() }
            let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
            return (stats, before && pool.isCurrentThread && pthread_equal(taskThread, bodyThread) != 0, name)
        }
        #expect(inPlace && threadName.contains("libvirt-"), "ran on \(threadName)")  // a pool thread (names keep their last 15 bytes)
        let elsewhere = pthread_self()
        #expect(try await pool.run { pthread_self() } != elsewhere)  // without the preference: a hop
        #expect(onPool.map(\.name) == hopped.map(\.name) && onPool.map(\.state) == hopped.map(\.state))
        // Cancelled before the call: it never runs, even in place.
        let task = Task(executorPreference: pool) { () async throws -> Int in
            withUnsafeCurrentTask { $0?.cancel() }
            return try await conn.allDomainStats(groups: .state).count
        }
        await #expect(throws: CancellationError.self) { _ = try await task.value }
    }

    @Test func typedParameterCodingRoundTrip() throws {
        let input: TypedParameters = ["a": .int(-1), "b": .uint(2), "c": .llong(-3), "d": .ullong(4), "e": .double(0.5),
                                      "f": .boolean(true), "g": .string("x y")]
        let back = try TypedParameterCoding.withEncoded(input) { p, n in TypedParameterCoding.decode(p, count: Int(n)) }
        #expect(back == input)
        #expect(throws: LibvirtError.self) { try TypedParameterCoding.withEncoded(["z": .unknownType(99)]) { _, _ in () } }
    }
}
