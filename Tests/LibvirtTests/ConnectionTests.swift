import Foundation
import Libvirt
import Testing
import VirtCore

@Suite struct ConnectionTests {
    @Test func opensTestDriverAndReadsIdentity() async throws {
        let conn = try await Connection.open("test:///default")
        #expect(try await conn.uri() == "test:///default")
        #expect(try await conn.hypervisorType() == "TEST")
        #expect(try await conn.hostname().isEmpty == false)
        let lib = try await conn.libraryVersion()
        #expect(lib >= Version(major: 9, minor: 0, release: 0))
        #expect(try LibvirtLibrary.version() == lib)
        #expect(try await conn.hypervisorVersion() > Version(major: 0, minor: 0, release: 0))
        let caps = try await conn.capabilitiesXML()
        #expect(caps.contains("<capabilities>"))
        #expect(await conn.isAlive())
        let sec = try await conn.security()
        #expect(sec.secure)  // in-process driver: nothing on the wire
        #expect(try await conn.freeMemory().bytes > 0)
        let counts = try await conn.domainCounts()
        #expect(counts.active + counts.inactive >= 1)
        await conn.close()
    }

    @Test func nodeInfoOfTestDriver() async throws {
        let conn = try await Connection.open("test:///default")
        defer { Task { await conn.close() } }
        let info = try await conn.nodeInfo()
        // test:///default's built-in node: 16 CPUs, 1400 MHz, 2 NUMA nodes, 2 sockets, 2 cores, 2 threads, 3 GiB.
        #expect(info.cpus == 16)
        #expect(info.mhz == 1400)
        #expect(info.nodes == 2 && info.sockets == 2 && info.cores == 2 && info.threads == 2)
        #expect(info.memory == .kibibytes(3_145_728))
        let cells = try await conn.cellsFreeMemory()
        #expect(cells.count == 2)
        #expect(try await conn.cellsFreeMemory(startCell: 1, maxCells: 1).count == 1)
    }

    @Test func nodeStatsOnTestDriver() async throws {
        let conn = try await Connection.open("test:///default")
        defer { Task { await conn.close() } }
        // The test driver reports fixed CPU counters but no memory counters.
        let cpu = try await conn.nodeCPUStats()
        #expect(cpu.user == .nanoseconds(9_797_400_000) && cpu.kernel == .nanoseconds(34_678_723_400_000))
        #expect(cpu.idle == .nanoseconds(87_264_900_000) && cpu.iowait == .nanoseconds(763_600_000))
        #expect(cpu.interrupt == nil && cpu.utilizationPercent == nil)
        #expect(cpu.rawNanoseconds.count == 4)
        do {
            _ = try await conn.nodeMemoryStats()
            Issue.record("test driver unexpectedly reported node memory stats")
        } catch let e as LibvirtError {
            #expect(e.code == .noSupport)
        }
        do {
            try await conn.setKeepAlive(KeepAlive(interval: .seconds(5), count: 3))
            Issue.record("keepalive unexpectedly supported by the embedded test driver")
        } catch let e as LibvirtError {
            #expect(e.code == .noSupport)
        }
    }

    @Test func badURIIsTypedError() async throws {
        do {
            _ = try await Connection.open("nosuchdriver:///nowhere")
            Issue.record("opening a bogus URI succeeded")
        } catch let e as LibvirtError {
            #expect(e.code == .noConnect)
            #expect(!e.message.isEmpty)
        }
        do {
            _ = try await Connection.open("test:///no/such/file.xml")
            Issue.record("opening a missing test-driver file succeeded")
        } catch let e as LibvirtError {
            #expect(e.code != .ok)
        }
    }

    /// The C function an error names is the one that was called: each open variant, and
    /// the scheduler getter with and without flags.
    @Test func errorsNameTheFunctionThatWasCalled() async throws {
        func openError(_ open: () async throws -> Connection) async -> LibvirtError? {
            do { _ = try await open(); return nil } catch { return error as? LibvirtError }
        }
        let bogus = "nosuchdriver:///nowhere"
        #expect(await openError { try await Connection.open(bogus) }?.function == "virConnectOpen")
        #expect(await openError { try await Connection.open(bogus, readOnly: true) }?.function == "virConnectOpenReadOnly")
        #expect(await openError { try await Connection.open(bogus, flags: []) }?.function == "virConnectOpenAuth")
        #expect(await openError { try await Connection.open(bogus, flags: .readOnly) }?.function == "virConnectOpenAuth")

        let conn = try await Connection.open("test:///default")
        defer { Task { await conn.close() } }
        let dom = try await conn.domain(named: "test")
        // The 9.0 test driver refuses the *Flags variant (it adds VIR_TYPED_PARAM_STRING_OKAY).
        do {
            _ = try await dom.schedulerParameters(flags: .live)
            Issue.record("the test driver accepted virDomainGetSchedulerParametersFlags")
        } catch let e as LibvirtError {
            #expect(e.function == "virDomainGetSchedulerParametersFlags")
        }
        _ = try await dom.schedulerParameters()  // the flag-less call works
        do {
            try await dom.resume()  // running: nothing to resume
            Issue.record("resume of a running domain succeeded")
        } catch let e as LibvirtError {
            #expect(e.function == "virDomainResume")
        }
        do {
            _ = try await conn.domain(named: "nope")
            Issue.record("lookup of a missing domain succeeded")
        } catch let e as LibvirtError {
            #expect(e.code == .noDomain && e.function == "virDomainLookupByName")
        }
        // An error VirtKit raises itself names no C function.
        await conn.close()
        do {
            _ = try await dom.state()
            Issue.record("a call on a closed connection succeeded")
        } catch let e as LibvirtError {
            #expect(e.code == .invalidConn && e.function == nil)
        }
    }

    @Test func closeIsIdempotentAndCallsAfterwardFail() async throws {
        let conn = try await Connection.open("test:///default", readOnly: true)
        #expect(conn.isReadOnly)
        let dom = try await conn.domain(named: "test")
        await conn.close()
        await conn.close()
        #expect(conn.isClosed)
        #expect(await conn.isAlive() == false)
        do {
            _ = try await conn.hostname()
            Issue.record("call on a closed connection succeeded")
        } catch let e as LibvirtError {
            #expect(e.code == .invalidConn)
        }
        do {
            _ = try await dom.state()
            Issue.record("domain call on a closed connection succeeded")
        } catch let e as LibvirtError {
            #expect(e.code == .invalidConn)
        }
        // Identity stays readable from the handle.
        #expect(dom.name == "test")
    }

    @Test func readOnlyConnectionRefusesWrites() async throws {
        let conn = try await Connection.open("test:///default", flags: [.readOnly])
        defer { Task { await conn.close() } }
        let dom = try await conn.domain(named: "test")
        do {
            try await dom.suspend()
            Issue.record("suspend on a read-only connection succeeded")
        } catch let e as LibvirtError {
            #expect(e.code == .operationDenied)
        }
    }

    @Test func errorCodesKeepUnknownValues() {
        let e = LibvirtError(code: .init(rawValue: 9_999), domain: .init(rawValue: 777), message: "", level: .init(rawValue: 5))
        #expect(e.code.cName == nil && e.code.description == "VIR_ERR_9999")
        #expect(e.domain.description == "VIR_FROM_777")
        #expect(e.level == .unknown(5))
        #expect(LibvirtError.Code.noDomain.cName == "VIR_ERR_NO_DOMAIN")
        #expect(LibvirtError.Domain.qemu.cName == "VIR_FROM_QEMU")
        #expect(DomainStatus(state: 3, reason: 99) == .paused(.unknown(99)))
        #expect(DomainStatus(state: 42, reason: 1) == .unknown(state: 42, reason: 1))
        #expect(DomainStatus(state: 1, reason: 11) == .running(.postcopyFailed))
        #expect(DomainStatus(state: 5, reason: 8) == .shutoff(.daemon))
        #expect(DomainStatus(state: 6, reason: 1) == .crashed(.panicked))
        #expect(DomainStatus(state: 3, reason: 13).description == "paused (post-copy failed)")
        // Every paused reason libvirt 9 defines round-trips.
        for raw in Int32(0)...14 { #expect(PausedReason(rawValue: raw).rawValue == raw) }
        for raw in Int32(0)...11 { #expect(RunningReason(rawValue: raw).rawValue == raw) }
        for raw in Int32(0)...8 { #expect(ShutoffReason(rawValue: raw).rawValue == raw) }
        #expect(PausedReason(rawValue: 11) == .startingUp)
        #expect(PausedReason(rawValue: 5) == .ioError)
    }
}

@Suite struct ConnectionCloseTests {
    /// close() from a cancelled task still closes (it doesn't go through the cancellable path).
    @Test func closeFromCancelledTaskStillCloses() async throws {
        let conn = try await Connection.open(try TestNode.uri([TestNode.Guest(name: "a")], tag: "cancel-close"))
        let t = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await conn.close()
        }
        await t.value
        #expect(conn.isClosed)
        await #expect(throws: LibvirtError.self) { _ = try await conn.uri() }
    }
}
