import Foundation
import Testing
import CLibvirt
import VirtCore
import VirtKitTestSupport
@testable import Libvirt

/// Domain events that the test driver can't produce, end to end against the real
/// `qemu:///system`: block-job (`VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2`) from a block pull, and
/// device-added / device-removed from a USB tablet hot-plug (QEMU removes USB devices without
/// guest cooperation, so no guest OS is needed). The triggers are libvirt C calls
/// (`virDomainBlockPull`, `virDomainAttachDeviceFlags`, `virDomainDetachDeviceFlags`): the
/// event stream is what's under test. Guests are transient, uniquely named
/// `virtkit-evt-<tag>-<pid>-<rand>`, and removed (with their images) whatever happens.
@Suite("Live domain events", .serialized)
struct LiveEventTests {
    static let uri = "qemu:///system"
    static let imageDir = "/var/lib/libvirt/images"

    static func uniqueName(_ tag: String) -> String {
        "virtkit-evt-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max) & 0xFFFFFF)"
    }

    /// Opens the daemon, or reports it unavailable (a failure under VIRTKIT_REQUIRE_LIVE=1).
    static func connect(sourceLocation: SourceLocation = #_sourceLocation) async -> Connection? {
        guard FileManager.default.isWritableFile(atPath: imageDir) else {
            LiveEnvironment.unavailable("\(imageDir) is not writable (live event tests need root)", sourceLocation: sourceLocation)
            return nil
        }
        do {
            let conn = try await Connection.open(uri)
            await sweepStale(conn)
            return conn
        } catch {
            LiveEnvironment.unavailable("cannot open \(uri): \(error) (run Scripts/start-libvirt.sh)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// Removes `virtkit-evt-…-<pid>-…` guests and images of test processes that died before
    /// their cleanup ran; a live process's guests are left alone.
    static func sweepStale(_ conn: Connection) async {
        func deadOwner(_ name: String) -> Bool {
            let parts = name.split(separator: "-")
            guard parts.count >= 5, let pid = Int32(parts[parts.count - 2]), pid != getpid() else { return false }
            return kill(pid, 0) != 0 && errno == ESRCH
        }
        for d in (try? await conn.listAllDomains()) ?? [] where d.name.hasPrefix("virtkit-evt-") && deadOwner(d.name) {
            if (try? await d.isActive()) == true { try? await d.destroy() }
            try? await d.undefine()
        }
        for f in (try? FileManager.default.contentsOfDirectory(atPath: imageDir)) ?? []
        where f.hasPrefix("virtkit-evt-") && deadOwner(f.replacingOccurrences(of: ".qcow2", with: "").replacingOccurrences(of: "-base", with: "")) {
            try? FileManager.default.removeItem(atPath: "\(imageDir)/\(f)")
        }
    }

    /// Starts a transient guest, runs `body`, then destroys it (and undefines, in case it
    /// got persistent) and deletes `files`, whatever happened.
    static func withGuest(
        _ conn: Connection, name: String, xml: String, files: [String] = [],
        _ body: (Domain) async throws -> Void
    ) async throws {
        var failure: Error?
        do {
            let dom = try await conn.createDomain(xml: xml)
            try await body(dom)
        } catch {
            failure = error
        }
        await destroyQuietly(conn, name)
        for f in files { try? FileManager.default.removeItem(atPath: f) }
        if let failure { throw failure }
    }

    /// `qemu-img ARGS` on a plain thread (posix_spawn + waitpid, see `spawnAndWait`).
    static func qemuImg(_ args: [String]) async throws {
        let (rc, _, err) = await withCheckedContinuation { c in
            Thread { c.resume(returning: spawnAndWait("/usr/bin/qemu-img", args)) }.start()
        }
        guard rc == 0 else { throw LabError("qemu-img \(args.joined(separator: " ")) failed (\(rc)): \(err)") }
    }

    /// Runs a libvirt C call that returns 0/-1 on the connection's pool; throws libvirt's error.
    static func call(_ conn: Connection, _ what: StaticString, _ body: @escaping @Sendable () -> Int32) async throws {
        try await conn.pool.run {
            if body() < 0 { throw LibvirtError.takeLast(after: what) }
        }
    }

    // MARK: block-job-2

    /// A running guest whose `vda` is a qcow2 overlay on a qcow2 base; `body` gets the domain
    /// and the base's path. Guest and images are removed afterwards.
    static func withOverlayGuest(_ conn: Connection, tag: String, _ body: (Domain, String) async throws -> Void) async throws {
        let name = uniqueName(tag)
        let base = "\(imageDir)/\(name)-base.qcow2"
        let overlay = "\(imageDir)/\(name).qcow2"
        defer { for f in [base, overlay] { try? FileManager.default.removeItem(atPath: f) } }
        try await qemuImg(["create", "-q", "-f", "qcow2", base, "16M"])
        try await qemuImg(["create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", overlay])
        let xml = TestGuest.xml(name: name, extraDevices: """
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2'/>
              <source file='\(overlay)'/>
              <target dev='vda' bus='virtio'/>
            </disk>
            """)
        try await withGuest(conn, name: name, xml: xml) { dom in try await body(dom, base) }
    }

    /// A pull of `vda`'s backing file into its qcow2 overlay ends with one block-job event
    /// naming the disk by target, typed `.pull` / `.completed`.
    @Test(.timeLimit(.minutes(3)))  // a hang guard; the waits inside have their own timeouts
    func blockPullDeliversCompletedBlockJobEvent() async throws {
        guard let conn = await Self.connect() else { return }
        defer { Task { await conn.close() } }
        try await Self.withOverlayGuest(conn, tag: "pull") { dom, base in
            let name = dom.name
            let before = try await dom.xmlDescription()
            #expect(before.contains(base), "libvirt sees the backing file before the pull")
            let events = EventRecorder(try await conn.domainEvents(for: dom, .blockJob))
            try await Self.call(conn, "virDomainBlockPull") { virDomainBlockPull(dom.handle, "vda", 0, 0) }
            let got = await events.first(timeout: .seconds(30)) { m -> DomainEvent? in
                guard case .event(let e) = m, case .blockJob = e.kind else { return nil }
                return e
            }
            let all = await events.messages
            await events.stop()
            let event = try #require(got?.0, "a block-job event within 30 s (got: \(all))")
            #expect(event.kind == .blockJob(disk: "vda", type: .pull, status: .completed), "\(event)")
            #expect(event.domainName == name)
            #expect(event.domainUUID == dom.uuid)
            #expect(event.kind.id == .blockJob)
            // The stream only carries what was asked for, of this domain.
            #expect(all.allSatisfy { $0.event.map { $0.kind.id == .blockJob && $0.domainName == name } ?? true }, "\(all)")
            // And the event told the truth: the overlay no longer depends on the base.
            let after = try await dom.xmlDescription()
            #expect(!after.contains(base), "the backing file is gone from the chain after the pull")
        }
    }

    /// An active commit (`virDomainBlockCommit` with `VIR_DOMAIN_BLOCK_COMMIT_ACTIVE`) reports
    /// `.ready` once base and overlay are in sync, and `.completed` after the pivot
    /// (`virDomainBlockJobAbort` with `VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT`), both typed `.activeCommit`.
    @Test(.timeLimit(.minutes(3)))  // a hang guard; the waits inside have their own timeouts
    func activeCommitDeliversReadyThenCompleted() async throws {
        guard let conn = await Self.connect() else { return }
        defer { Task { await conn.close() } }
        try await Self.withOverlayGuest(conn, tag: "commit") { dom, base in
            let events = EventRecorder(try await conn.domainEvents(for: dom, .blockJob))
            let active = UInt32(VIR_DOMAIN_BLOCK_COMMIT_ACTIVE.rawValue)
            try await Self.call(conn, "virDomainBlockCommit") { virDomainBlockCommit(dom.handle, "vda", nil, nil, 0, active) }
            let ready = await events.first(timeout: .seconds(20)) { m -> DomainEventKind? in
                guard case .event(let e) = m, case .blockJob = e.kind else { return nil }
                return e.kind
            }
            let afterReady = await events.messages
            #expect(ready?.0 == .blockJob(disk: "vda", type: .activeCommit, status: .ready), "got: \(afterReady)")

            let pivot = UInt32(VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT.rawValue)
            try await Self.call(conn, "virDomainBlockJobAbort") { virDomainBlockJobAbort(dom.handle, "vda", pivot) }
            let done = await events.first(from: (ready?.1 ?? -1) + 1, timeout: .seconds(20)) { m -> DomainEventKind? in
                guard case .event(let e) = m, case .blockJob = e.kind else { return nil }
                return e.kind
            }
            let all = await events.messages
            await events.stop()
            #expect(done?.0 == .blockJob(disk: "vda", type: .activeCommit, status: .completed), "got: \(all)")
            // After the pivot the guest runs on the base image.
            let xml = try await dom.xmlDescription()
            #expect(xml.contains("<source file='\(base)'"), "vda now reads \(base)")
        }
    }

    // MARK: device-added / device-removed

    /// Hot-plugging a USB tablet raises device-added with the alias given in its XML
    /// (`ua-` user alias); unplugging it raises device-removed with the same alias.
    @Test(.timeLimit(.minutes(3)))  // a hang guard; the waits inside have their own timeouts
    func usbTabletHotplugDeliversDeviceAddedAndRemoved() async throws {
        guard let conn = await Self.connect() else { return }
        defer { Task { await conn.close() } }
        let name = Self.uniqueName("hotplug")
        let alias = "ua-virtkit-tablet"
        let device = "<input type='tablet' bus='usb'><alias name='\(alias)'/></input>"
        let xml = TestGuest.xml(name: name, extraDevices: "<controller type='usb' model='qemu-xhci'/>")
        try await Self.withGuest(conn, name: name, xml: xml) { dom in
            let events = EventRecorder(try await conn.domainEvents(for: dom, .deviceAdded, .deviceRemoved))
            let live = UInt32(VIR_DOMAIN_AFFECT_LIVE.rawValue)

            try await Self.call(conn, "virDomainAttachDeviceFlags") { virDomainAttachDeviceFlags(dom.handle, device, live) }
            let added = await events.first(timeout: .seconds(20)) { m -> DomainEvent? in
                guard case .event(let e) = m, case .deviceAdded = e.kind else { return nil }
                return e
            }
            let afterAdd = await events.messages
            let addedEvent = try #require(added?.0, "a device-added event within 20 s (got: \(afterAdd))")
            #expect(addedEvent.kind == .deviceAdded(alias: alias))
            #expect(addedEvent.domainName == name)
            #expect(try await dom.xmlDescription().contains("<alias name='\(alias)'/>"), "the tablet is in the live XML")

            try await Self.call(conn, "virDomainDetachDeviceFlags") { virDomainDetachDeviceFlags(dom.handle, device, live) }
            let removed = await events.first(from: (added?.1 ?? 0) + 1, timeout: .seconds(20)) { m -> DomainEvent? in
                guard case .event(let e) = m, case .deviceRemoved = e.kind else { return nil }
                return e
            }
            let all = await events.messages
            await events.stop()
            let removedEvent = try #require(removed?.0, "a device-removed event within 20 s (got: \(all))")
            #expect(removedEvent.kind == .deviceRemoved(alias: alias))
            #expect(removedEvent.domainName == name)
            #expect(removedEvent.received >= addedEvent.received)
            #expect(!(try await dom.xmlDescription().contains(alias)), "the tablet left the live XML")
            // Exactly one of each, nothing else, for this domain only.
            let kinds = all.compactMap(\.event).map(\.kind)
            #expect(kinds == [.deviceAdded(alias: alias), .deviceRemoved(alias: alias)], "\(all)")
        }
    }

    // MARK: reboot

    /// A hard reset (`virDomainReset`, QEMU's `system_reset`) needs no guest OS and makes
    /// QEMU emit RESET, which libvirt reports as the reboot event.
    @Test(.timeLimit(.minutes(3)))  // a hang guard; the waits inside have their own timeouts
    func resetDeliversRebootEvent() async throws {
        guard let conn = await Self.connect() else { return }
        defer { Task { await conn.close() } }
        let name = Self.uniqueName("reset")
        try await Self.withGuest(conn, name: name, xml: TestGuest.xml(name: name)) { dom in
            let events = EventRecorder(try await conn.domainEvents(for: dom, .reboot))
            try await Self.call(conn, "virDomainReset") { virDomainReset(dom.handle, 0) }
            let reboot = await events.first(timeout: .seconds(20)) { m -> DomainEvent? in
                guard case .event(let e) = m, e.kind == .reboot else { return nil }
                return e
            }
            let all = await events.messages
            await events.stop()
            let event = try #require(reboot?.0, "a reboot event within 20 s (got: \(all))")
            #expect(event.domainName == name)
            #expect(try await dom.state().state == .running, "a reset guest keeps running")
        }
    }
}
