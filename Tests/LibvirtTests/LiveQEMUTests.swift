import Foundation
import Libvirt
import Testing
import VirtCore
import VirtKitTestSupport

/// Against a real `qemu:///system` (libvirtd + QEMU): one small diskless guest per test,
/// uniquely named, always destroyed and undefined. Serialized: they share the daemon and host CPUs.
@Suite(.serialized) struct LiveQEMUTests {
    static let uri = "qemu:///system"

    /// Opens the daemon or reports it unavailable (a failure under VIRTKIT_REQUIRE_LIVE=1).
    static func connect(sourceLocation: SourceLocation = #_sourceLocation) async -> Connection? {
        do {
            let conn = try await Connection.open(uri)
            await sweepStaleGuests(conn)
            return conn
        } catch {
            LiveEnvironment.unavailable("cannot open \(uri): \(error) (run Scripts/start-libvirt.sh)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// Removes `virtkit-test-<tag>-<pid>-…` guests left by a test process that died
    /// (crash or kill) before its cleanup ran; guests of live processes are left alone.
    static func sweepStaleGuests(_ conn: Connection) async {
        guard let all = try? await conn.listAllDomains() else { return }
        for d in all where d.name.hasPrefix("virtkit-test-") {
            let parts = d.name.split(separator: "-")
            guard parts.count >= 5, let pid = Int32(parts[parts.count - 2]), pid != getpid(),
                  kill(pid, 0) != 0, errno == ESRCH else { continue }
            if (try? await d.isActive()) == true { try? await d.destroy() }
            try? await d.undefine()
        }
    }

    /// Defines and starts a small guest (`TestGuest.xml`), runs `body`, then destroys and
    /// undefines it whatever happened.
    static func withGuest(
        _ conn: Connection, tag: String, vcpus: Int = 2, extraDomain: String = "",
        _ body: (Domain) async throws -> Void
    ) async throws {
        let name = TestGuest.uniqueName(tag)
        try await withGuest(conn, xml: TestGuest.xml(name: name, vcpus: vcpus, extraDomain: extraDomain), body)
    }

    /// Defines and starts the guest `xml` describes, runs `body`, then destroys and undefines it
    /// (with `undefineFlags`: e.g. its managed-save image, checkpoint and snapshot metadata)
    /// whatever happened.
    static func withGuest(
        _ conn: Connection, xml: String, undefineFlags: Domain.UndefineFlags = [],
        _ body: (Domain) async throws -> Void
    ) async throws {
        let dom = try await conn.defineDomain(xml: xml)
        var failure: Error?
        do {
            try await dom.start()
            try await body(dom)
        } catch {
            failure = error
        }
        if (try? await dom.isActive()) == true { try? await dom.destroy() }
        try? await dom.undefine(flags: undefineFlags)
        if let failure { throw failure }
    }

    @Test func nodeFactsFromRealDaemon() async throws {
        guard let conn = await Self.connect() else { return }
        defer { Task { await conn.close() } }
        #expect(try await conn.hypervisorType() == "QEMU")
        #expect(try await conn.uri() == Self.uri)
        let info = try await conn.nodeInfo()
        #expect(info.cpus == ProcessInfo.processInfo.activeProcessorCount)
        let cpu = try await conn.nodeCPUStats()
        #expect((cpu.user ?? .zero) > .zero && (cpu.idle ?? .zero) > .zero)
        let mem = try await conn.nodeMemoryStats()
        let total = try #require(mem.total)
        #expect(total.bytes > 0 && total >= (mem.free ?? .zero))
        let cells = try await conn.cellsFreeMemory()
        #expect(!cells.isEmpty)
        #expect(try await conn.freeMemory().bytes > 0)
        // A remote (daemon) connection supports keepalive; the event loop runs it.
        #expect(try await conn.setKeepAlive(KeepAlive(interval: .seconds(5), count: 3)))
        #expect(await conn.isAlive())
        #expect(try await conn.hypervisorVersion().major >= 5)
    }

    @Test func guestLifecycleStatsAndPinning() async throws {
        guard let conn = await Self.connect() else { return }
        defer { Task { await conn.close() } }
        try await Self.withGuest(conn, tag: "life") { dom in
            #expect(try await dom.state() == .running(.booted))
            let id = try #require(try await conn.domain(named: dom.name).id)
            #expect(try await conn.domain(id: id).uuid == dom.uuid)

            // Bulk stats, every group, for just this domain and through the all-domains call.
            let mine = try await conn.domainStats([dom])
            let s = try #require(mine.first)
            #expect(s.name == dom.name)
            #expect(s.state == .running(.booted))
            #expect(s.balloon?.maximum == .kibibytes(65_536))
            #expect(s.vcpu?.current == 2 && s.vcpu?.entries.count == 2)
            #expect(s.vcpu?.entries.allSatisfy { $0.state != nil && $0.time != nil } == true)
            #expect(s.cpu?.time != nil)
            #expect(s.blockCount == 0 && s.blocks.isEmpty)
            let all = try await conn.allDomainStats(groups: [.state, .cpuTotal, .balloon, .vcpu, .interface, .block, .perf], flags: .running)
            #expect(all.contains { $0.name == dom.name })
            let withHandles = try await conn.domainStats([dom], groups: .state, handles: true)
            #expect(withHandles.first?.domain?.uuid == dom.uuid)

            // Per-call figures.
            let info = try await dom.info()
            #expect(info.state == .running && info.vcpus == 2 && info.maxMemory == .mebibytes(64))
            #expect(try await dom.controlInfo().state == .ok)
            #expect(try await dom.diskErrors().isEmpty)

            // Pin vCPU 1 to host CPU 0 and read it back through libvirt.
            try await dom.pinVCPU(1, to: [0], flags: .live)
            let pins = try await dom.vcpuPinning(flags: .live)
            #expect(pins.count == 2)
            #expect(pins[1] == [0])
            let host = try await conn.nodeInfo().cpus
            try await dom.pinEmulator(to: CPUSet(0..<host), flags: .live)
            #expect(try await dom.emulatorPinning(flags: .live) == CPUSet(0..<host))

            // Scheduler / memory / blkio knobs on the real cgroup.
            let sched = try await dom.schedulerParameters()
            #expect(sched.cpuShares != nil)
            #expect(sched.vcpuPeriod != nil && sched.vcpuQuota != nil)
            try await dom.setSchedulerParameters(SchedulerParameters(vcpuPeriod: .milliseconds(100), vcpuQuota: .limited(.milliseconds(50))), flags: .live)
            let sched2 = try await dom.schedulerParameters(flags: .live)
            #expect(sched2.vcpuPeriod == .milliseconds(100) && sched2.vcpuQuota == .limited(.milliseconds(50)))
            try await dom.setMemoryParameters(MemoryParameters(softLimit: .limited(.mebibytes(512))), flags: .live)
            #expect(try await dom.memoryParameters(flags: .live).softLimit == .limited(.mebibytes(512)))

            // Suspend / resume with reasons.
            try await dom.suspend()
            #expect(try await dom.state() == .paused(.user))
            try await dom.resume()
            #expect(try await dom.state() == .running(.unpaused))
            try await dom.destroy()
            #expect(try await dom.state() == .shutoff(.destroyed))
            #expect(try await dom.xmlDescription(flags: .inactive).contains("<name>\(dom.name)</name>"))
        }
        // Cleaned up: the name is gone.
        #expect(try await conn.listAllDomains().allSatisfy { !$0.name.hasPrefix("virtkit-test-life-\(getpid())") })
    }

    /// A daemon connection that dies (socket cut under it) gives typed errors and
    /// `isAlive() == false`, never a crash; handles of it refuse calls the same way.
    @Test func deadConnectionGivesTypedErrors() async throws {
        let socketPath = "/var/run/libvirt/libvirt-sock"
        guard FileManager.default.fileExists(atPath: socketPath) else {
            LiveEnvironment.unavailable("\(socketPath) missing (libvirtd not running)")
            return
        }
        let proxy = try SocketProxy(target: socketPath)
        let conn: Connection
        do {
            conn = try await Connection.open("qemu+unix:///system?socket=\(proxy.path)")
        } catch {
            LiveEnvironment.unavailable("cannot open qemu:///system through a proxy: \(error)")
            return
        }
        #expect(try await conn.hypervisorType() == "QEMU")
        #expect(await conn.isAlive())
        // A handle obtained before the connection dies (an inactive guest defined for it, so a
        // clean daemon has one too); it is undefined through a separate connection at the end.
        let name = TestGuest.uniqueName("dead")
        let held = try await conn.defineDomain(xml: TestGuest.xml(name: name, vcpus: 1))
        defer {
            Task {
                if let c = try? await Connection.open("qemu:///system") {
                    try? await c.domain(named: name).undefine()
                    await c.close()
                }
            }
        }
        proxy.kill()
        do {
            _ = try await conn.listAllDomains()
            Issue.record("call on a dead connection succeeded")
        } catch let e as LibvirtError {
            #expect(e.code != .ok)
            #expect(!e.message.isEmpty)
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while await conn.isAlive(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(await conn.isAlive() == false)
        await #expect(throws: LibvirtError.self) { _ = try await held.state() }
        await conn.close()
    }

    @Test func liveErrorPaths() async throws {
        guard let conn = await Self.connect() else { return }
        defer { Task { await conn.close() } }
        do {
            _ = try await conn.domain(named: "virtkit-no-such-guest")
            Issue.record("lookup of a missing guest succeeded")
        } catch let e as LibvirtError {
            #expect(e.code == .noDomain)
            #expect(e.domain == .qemu)
            #expect(e.message.contains("virtkit-no-such-guest"))
        }
        do {
            _ = try await conn.defineDomain(xml: "<domain type='kvm'><name>bad</name><memory>x</memory></domain>")
            Issue.record("bad XML defined")
        } catch let e as LibvirtError {
            #expect(e.level == .error)
        }
        try await Self.withGuest(conn, tag: "err", vcpus: 1) { dom in
            // Resuming a running guest is an operation error, not a crash.
            do {
                try await dom.resume()
                Issue.record("resume of a running guest succeeded")
            } catch let e as LibvirtError {
                #expect(e.code == .operationInvalid)
            }
            await #expect(throws: LibvirtError.self) { try await dom.pinVCPU(5, to: [0], flags: .live) }
        }
    }
}
