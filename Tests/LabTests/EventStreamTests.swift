import Foundation
import Testing
import CLibvirt
import VirtCore
import VirtKitTestSupport
@testable import Libvirt

/// Event streams, close events and migration options against libvirt's embedded test
/// driver (no daemon needed): real libvirt event dispatch through the default event loop.
@Suite("Events on the test driver")
struct EventStreamTests {
    /// A private test-driver node with guests `names` (running).
    static func node(_ names: [String]) throws -> String {
        var xml = "<node><cpu><mhz>2400</mhz><model>x86_64</model><active>4</active><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>2</threads></cpu><memory>8388608</memory>\n"
        for n in names {
            xml += "<domain type='test'><name>\(n)</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>\n"
        }
        xml += "</node>\n"
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("virtkit-lab-events-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).xml").path
        try xml.write(toFile: path, atomically: true, encoding: .utf8)
        return "test://\(path)"
    }

    @Test func lifecycleEventsCarryTypedDetails() async throws {
        let conn = try await Connection.open(Self.node(["alpha", "beta"]))
        let alpha = try await conn.domain(named: "alpha")
        let recorder = EventRecorder(try await conn.domainEvents())
        try await alpha.suspend()
        try await alpha.resume()
        try await alpha.destroy()

        let suspended = await recorder.first { m -> DomainEvent? in
            if case .event(let e) = m, e.kind == .lifecycle(.suspended(.paused)) { return e } else { return nil }
        }
        #expect(suspended?.0.domainName == "alpha")
        #expect(suspended?.0.domainUUID == alpha.uuid)
        let resumed = await recorder.first(from: suspended?.1 ?? 0) { m -> DomainEvent? in
            if case .event(let e) = m, e.kind == .lifecycle(.resumed(.unpaused)) { return e } else { return nil }
        }
        #expect(resumed != nil)
        let stopped = await recorder.first { m -> DomainEvent? in
            if case .event(let e) = m, e.kind == .lifecycle(.stopped(.destroyed)) { return e } else { return nil }
        }
        #expect(stopped != nil)
        #expect(stopped?.0.kind.id == .lifecycle)
        await recorder.stop()
        await conn.close()
    }

    @Test func oneDomainStreamIgnoresOthers() async throws {
        let conn = try await Connection.open(Self.node(["alpha", "beta"]))
        let alpha = try await conn.domain(named: "alpha")
        let beta = try await conn.domain(named: "beta")
        let recorder = EventRecorder(try await conn.domainEvents(for: beta, .lifecycle))
        try await alpha.suspend()
        try await beta.suspend()
        let got = await recorder.first { m -> String? in m.event?.domainName }
        #expect(got?.0 == "beta")
        let all = await recorder.messages
        #expect(all.allSatisfy { $0.event?.domainName == "beta" })
        await recorder.stop()
        await conn.close()
    }

    /// Ending the consumer deregisters every callback and libvirt's freecb releases each
    /// retained context: the live sink count returns to where it was.
    @Test func endingTheConsumerDeregistersAndFrees() async throws {
        let conn = try await Connection.open(Self.node(["alpha"]))
        let alpha = try await conn.domain(named: "alpha")
        var recorders: [EventRecorder] = []
        for _ in 0..<5 { recorders.append(EventRecorder(try await conn.domainEvents())) }
        // Streams share one registration per event ID; each also has a close handler.
        #expect(conn.events.subscriberCount == 10)
        #expect(conn.events.liveCallbackCount == DomainEventID.allCases.count)
        try await alpha.suspend()
        for r in recorders {
            #expect(await r.first { $0.event } != nil)
            await r.stop()
        }
        // Deregistered, and libvirt's freecb released every fanout.
        let freed = await eventually(timeout: .seconds(10)) {
            conn.events.subscriberCount == 0 && conn.events.liveCallbackCount == 0
        }
        #expect(freed, "still alive: \(conn.events.subscriberCount) subscribers, \(conn.events.liveCallbackCount) C registrations")
        // No callback is left: a later event reaches nobody (and nothing crashes).
        try await alpha.resume()
        await conn.close()
    }

    /// A non-lifecycle callback signature (`virConnectDomainEventMetadataChangeCallback`,
    /// cast like VIR_DOMAIN_EVENT_CALLBACK) decodes its type and namespace.
    @Test func metadataChangeEventCarriesTypeAndNamespace() async throws {
        let conn = try await Connection.open(Self.node(["alpha"]))
        let alpha = try await conn.domain(named: "alpha")
        let recorder = EventRecorder(try await conn.domainEvents(for: alpha, .metadataChange, .lifecycle))
        let rc = try await conn.pool.run {
            virDomainSetMetadata(alpha.handle, Int32(VIR_DOMAIN_METADATA_ELEMENT.rawValue), "<note>hi</note>", "vk", "https://virtkit.example/ns", 0)
        }
        #expect(rc == 0)
        let got = await recorder.first(timeout: .seconds(10)) { m -> DomainEventKind? in
            if case .event(let e) = m, case .metadataChange = e.kind { return e.kind } else { return nil }
        }
        #expect(got?.0 == .metadataChange(type: .element, namespace: "https://virtkit.example/ns"))
        await recorder.stop()
        await conn.close()
    }

    /// The test driver can't lose its connection: subscribing to its closes works (no error,
    /// one close registration), and ending the consumer ends the stream without an element
    /// and unsubscribes.
    @Test func closeEventsOnTestDriverSubscribeAndEndCleanly() async throws {
        let conn = try await Connection.open(Self.node(["alpha"]))
        let closes = try await conn.closeEvents()
        #expect(conn.events.closeCallbackSupported != nil)
        #expect(conn.events.subscriberCount == 1)
        let task = Task { for await _ in closes { return true }; return false }
        task.cancel()
        #expect(await task.value == false)
        #expect(await eventually(timeout: .seconds(10)) { conn.events.subscriberCount == 0 })
        await conn.close()
    }

    @Test func detailsDecodeAndKeepUnknownValues() {
        #expect(LifecycleEvent(event: 3, detail: 2) == .suspended(.ioError))
        #expect(LifecycleEvent(event: 2, detail: 1) == .started(.migrated))
        #expect(LifecycleEvent(event: 5, detail: 3) == .stopped(.migrated))
        #expect(LifecycleEvent(event: 42, detail: 7) == .unknown(event: 42, detail: 7))
        #expect(LifecycleEvent(event: 3, detail: 99) == .suspended(.unknown(99)))
        #expect(SuspendedDetail.unknown(99).rawValue == 99)
        #expect(SuspendedDetail.ioError.rawValue == 2)
        #expect(AgentState(rawValue: 1) == .connected)
        #expect(AgentState(rawValue: 0) == .unknown(0))
        #expect(ConnectionCloseReason(rawValue: 1) == .eof)
        #expect(ConnectionCloseReason(rawValue: 2).description == "keepalive")
        #expect(IOErrorAction(rawValue: 1) == .pause)
        #expect(JobType(rawValue: 3) == .completed)
        #expect(JobType(rawValue: 17) == .unknown(17))
    }

    @Test func reconnectBackoffGrowsAndCaps() {
        let p = ReconnectPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(1), multiplier: 2)
        #expect(p.delay(beforeAttempt: 1) == .milliseconds(100))
        #expect(p.delay(beforeAttempt: 2) == .milliseconds(200))
        #expect(p.delay(beforeAttempt: 4) == .milliseconds(800))
        #expect(p.delay(beforeAttempt: 9) == .seconds(1))
    }
}

@Suite("Migration options")
struct MigrationOptionTests {
    @Test func flagsAndParameters() throws {
        var o = MigrationOptions()
        o.live = true
        o.peerToPeer = true
        o.persistOnDestination = true
        o.undefineSource = true
        o.copyStorage = .incremental
        o.compression = "xbzrle"
        o.autoConverge = true
        o.postCopy = .init(switchAfterIteration: 2, bandwidthMiBPerSecond: 50)
        o.bandwidthMiBPerSecond = 8
        o.parallelConnections = 4
        o.tls = true
        o.migrateURI = "tcp://127.0.0.1"
        let f = o.flags
        for bit in [VIR_MIGRATE_LIVE, VIR_MIGRATE_PEER2PEER, VIR_MIGRATE_PERSIST_DEST, VIR_MIGRATE_UNDEFINE_SOURCE,
                    VIR_MIGRATE_NON_SHARED_INC, VIR_MIGRATE_COMPRESSED, VIR_MIGRATE_AUTO_CONVERGE, VIR_MIGRATE_POSTCOPY,
                    VIR_MIGRATE_TLS, VIR_MIGRATE_PARALLEL] {
            #expect(f.rawValue & bit.rawValue != 0, "missing \(bit)")
        }
        #expect(f.contains(.live) && f.contains(.nonSharedIncremental) && !f.contains(.nonSharedDisk))
        #expect(f.rawValue & VIR_MIGRATE_NON_SHARED_DISK.rawValue == 0)
        #expect(f.rawValue & VIR_MIGRATE_TUNNELLED.rawValue == 0)
        let p = try o.parameters()
        #expect(p["bandwidth"] == .ullong(8))
        #expect(p["bandwidth.postcopy"] == .ullong(50))
        #expect(p["parallel.connections"] == .int(4))
        #expect(p["compression"] == .string("xbzrle"))
        #expect(p["migrate_uri"] == .string("tcp://127.0.0.1"))
    }

    @Test func badOptionsAreTypedErrors() {
        var o = MigrationOptions()
        o.bandwidthMiBPerSecond = 0
        #expect(throws: LibvirtError.self) { try o.parameters() }
        o = MigrationOptions()
        o.parallelConnections = 0
        #expect { try o.parameters() } throws: { ($0 as? LibvirtError)?.code == .invalidArg }
        o = MigrationOptions()
        o.maxDowntime = .zero
        #expect(throws: LibvirtError.self) { try o.parameters() }
    }

    /// The embedded test driver can't migrate: the failure is libvirt's typed error.
    @Test func unsupportedMigrationIsATypedError() async throws {
        let conn = try await Connection.open(EventStreamTests.node(["alpha"]))
        let alpha = try await conn.domain(named: "alpha")
        await #expect(throws: LibvirtError.self) {
            _ = try await alpha.migrate(to: .uri("test:///default"))
        }
        #expect(try await alpha.state().state == .running)
        await conn.close()
    }
}
