import Foundation
import Testing
import VirtCore
import VirtKitTestSupport
@testable import Libvirt

/// The issue's four scenarios on the two-host lab (`Scripts/lab.sh`): host A is the system
/// libvirtd, host B a second libvirtd in its own mount + UTS namespace; disks come from
/// nbdkit. The tests bring the lab up themselves (idempotent) and remove their guests.
/// Serialized: they share the lab's daemons and disks.
@Suite("Lab scenarios", .serialized)
struct LabScenarioTests {
    static func name(_ what: String) -> String { "virtkit-lab-\(what)-\(getpid())" }

    static func migrateOptions(_ lab: Lab) -> MigrationOptions {
        var o = MigrationOptions()
        o.live = true
        o.migrateURI = lab.b.migrateURI  // tcp://127.0.0.1: B's hostname doesn't resolve
        return o
    }

    // MARK: 1. Live migration A → B → A

    @Test func liveMigrationThereAndBack() async throws {
        guard let lab = await Lab.shared() else { return }
        let a = try await Connection.open(lab.a.uri)
        let b = try await Connection.open(lab.b.uri)
        let name = Self.name("mig")
        defer { Task { await destroyQuietly(a, name); await destroyQuietly(b, name) } }
        let guest = try await a.createDomain(xml: try await Lab.guestXML(name, disk: "shared"))
        // Let SeaBIOS reach the idle boot sector, so the guest is running real code.
        try await Task.sleep(for: .seconds(2))

        // Migration-iteration events come from the source (QEMU's MIGRATION_PASS).
        let iterations = EventRecorder(try await a.domainEvents(for: guest, .migrationIteration))
        // A → B, driven by this process (virDomainMigrate3), progress via the callback.
        let samples = SampleBox()
        let result = try await guest.migrate(to: .connection(b), options: Self.migrateOptions(lab), pollInterval: .milliseconds(5)) {
            samples.add($0)
        }
        let onB = try await b.domain(named: name)
        #expect(try await onB.state() == .running(.migrated))
        await #expect { _ = try await a.domain(named: name) } throws: { ($0 as? LibvirtError)?.code == .noDomain }
        let final = try #require(result.finalStats)
        #expect(final.type == .completed)
        #expect(final.downtime != nil, "final stats carry the downtime")
        #expect(final.memoryTotal ?? .zero > .zero)
        #expect(result.destination?.name == name)
        let seen = samples.all
        print("A→B: \(seen.count) progress samples; final: elapsed \(final.timeElapsed.map { "\($0)" } ?? "?"), downtime \(final.downtime.map { "\($0)" } ?? "?")")
        #expect(!seen.isEmpty, "progress was observed")
        #expect(seen.allSatisfy { $0.isActive && $0.dataTotal != nil })
        let firstPass = await iterations.first(timeout: .seconds(10)) { message -> Int? in
            if case .event(let e) = message, e.domainName == name, case .migrationIteration(let n) = e.kind { return n }
            return nil
        }
        let received = await iterations.messages
        #expect(firstPass?.0 ?? 0 >= 1, "a migration-iteration event named the pass: \(received)")

        // B → A, peer-to-peer (B's daemon opens A's socket URI), as an AsyncSequence.
        var back: [JobStats] = []
        var opts = Self.migrateOptions(lab)
        opts.peerToPeer = true
        for try await s in onB.migrationProgress(to: .uri(lab.a.uri), options: opts, pollInterval: .milliseconds(5)) {
            back.append(s)
        }
        let last = try #require(back.last)
        #expect(last.type == .completed)
        #expect(last.downtime != nil)
        #expect(try await a.domain(named: name).state() == .running(.migrated))
        await #expect { _ = try await b.domain(named: name) } throws: { ($0 as? LibvirtError)?.code == .noDomain }
        await destroyQuietly(a, name)
        await a.close()
        await b.close()
    }

    // MARK: 2. Cancel a bandwidth-limited migration

    @Test func cancellingAMigrationLeavesTheGuestOnTheSource() async throws {
        guard let lab = await Lab.shared() else { return }
        let a = try await Connection.open(lab.a.uri)
        let b = try await Connection.open(lab.b.uri)
        let name = Self.name("cancel")
        defer { Task { await destroyQuietly(a, name); await destroyQuietly(b, name) } }
        // The busy boot sector keeps dirtying RAM: at 1 MiB/s the migration can't converge.
        let guest = try await a.createDomain(xml: try await Lab.guestXML(name, disk: "busy"))
        try await Task.sleep(for: .seconds(1))
        var opts = Self.migrateOptions(lab)
        opts.bandwidthMiBPerSecond = 1

        let consumer = Task { () -> (Int, Error?) in
            var n = 0
            do {
                for try await s in guest.migrationProgress(to: .connection(b), options: opts, pollInterval: .milliseconds(50)) {
                    if s.isActive, (s.dataProcessed ?? .zero) > .zero { n += 1 }
                }
                return (n, nil)
            } catch { return (n, error) }
        }
        // Cancel part-way: once libvirt reports data moving.
        let started = await eventually(timeout: .seconds(30)) {
            let s = try? await guest.jobStats()
            return (s?.isActive ?? false) && (s?.dataProcessed ?? .zero) > .zero
        }
        #expect(started, "the migration started")
        consumer.cancel()
        _ = await consumer.value

        // libvirt rolls back: the guest runs on A again, B holds nothing.
        let rolledBack = await eventually(timeout: .seconds(30)) {
            guard let st = try? await guest.state() else { return false }
            guard st.state == .running, let job = try? await guest.jobStats() else { return false }
            return !job.isActive
        }
        #expect(rolledBack, "the guest runs on A without a job")
        // B tears its incoming domain down a moment after A's job ends.
        let bEmpty = await eventually(timeout: .seconds(30)) {
            !((try? await b.listAllDomains().map(\.name)) ?? [name]).contains(name)
        }
        let leftOnB = (try? await b.listAllDomains().map(\.name)) ?? []
        #expect(bEmpty, "B holds nothing: \(leftOnB)")
        let completed = try await guest.jobStats(flags: .completed)
        #expect(completed.type == .cancelled || completed.type == .failed || completed.type == .none)
        await destroyQuietly(a, name)
        await destroyQuietly(b, name)
        await a.close()
        await b.close()
    }

    // MARK: 3. Failing nbdkit disk: pause on I/O error, repair, resume

    @Test(arguments: ["eio", "enospc"])
    func failingDiskPausesAndResumesAfterRepair(disk: String) async throws {
        guard let lab = await Lab.shared() else { return }
        let errorFile = try #require(lab.disk(disk)?.errorFile)
        let a = try await Connection.open(lab.a.uri)
        let name = Self.name(disk)
        defer {
            try? FileManager.default.removeItem(atPath: errorFile)
            Task { await destroyQuietly(a, name) }
        }
        #expect(FileManager.default.createFile(atPath: errorFile, contents: nil), "fail: create \(errorFile)")
        let events = EventRecorder(try await a.domainEvents(ids: [.lifecycle, .ioError]))
        let guest = try await a.createDomain(xml: try await Lab.guestXML(name, disk: disk))

        // SeaBIOS's boot-sector read fails → error_policy=stop pauses the guest. SeaBIOS
        // needs 8 s to get there on an idle machine, several times that under load.
        let io = await events.first(timeout: .seconds(180)) { m -> IOErrorEvent? in
            guard case .event(let e) = m, e.domainName == name, case .ioError(let io) = e.kind else { return nil }
            return io
        }
        let stateNow = try? await guest.state()
        let ioError = try #require(io?.0, "an I/O error event for \(name) (state now: \(stateNow.map { "\($0)" } ?? "?"))")
        #expect(ioError.devAlias == "virtio-disk0", "the event names the disk")
        #expect(ioError.srcPath.hasSuffix("\(name).qcow2"), "and its source: \(ioError.srcPath)")
        #expect(ioError.action == .pause)
        let paused = await events.first { m -> Bool? in
            guard case .event(let e) = m, e.domainName == name, e.kind == .lifecycle(.suspended(.ioError)) else { return nil }
            return true
        }
        #expect(paused != nil, "lifecycle suspended / I/O error")
        #expect(try await guest.state() == .paused(.ioError))
        let errs = try await guest.diskErrors()
        if disk == "enospc" {
            #expect(ioError.reason == "enospc")
            #expect(ioError.isNoSpace)
            #expect(errs.map(\.error) == [.noSpace], "disk errors: \(errs)")
        } else {
            #expect(!ioError.isNoSpace)
            #expect(errs.map(\.error) == [.unspecified], "disk errors: \(errs)")
        }

        // Repair the storage (the error filter stops failing once its file is gone), resume.
        try FileManager.default.removeItem(atPath: errorFile)
        try await guest.resume()
        let running = await eventually(timeout: .seconds(10)) {
            (try? await guest.state()) == .running(.unpaused)
        }
        #expect(running, "running again after repair + resume")
        // It stays running: the retried read succeeded (a failure would pause it again).
        try await Task.sleep(for: .seconds(1))
        #expect(try await guest.state().state == .running)
        await events.stop()
        await destroyQuietly(a, name)
        await a.close()
    }

    // MARK: 4. Host B's libvirtd restarts under an open event stream

    @Test func daemonRestartIsReportedAndEventsKeepFlowing() async throws {
        guard let lab = await Lab.shared() else { return }
        let name = Self.name("restart")
        let setup = try await Connection.open(lab.b.uri)
        defer { Task { await destroyQuietly(setup, name) } }
        let guest = try await setup.createDomain(xml: try await Lab.guestXML(name, disk: "shared"))
        let uuid = guest.uuid
        await setup.close()

        let monitor = try await EventMonitor.open(lab.b.uri, policy: ReconnectPolicy(initialDelay: .milliseconds(200), maxDelay: .seconds(2), maxAttempts: 60))
        let health = await monitor.healthEvents()
        let healthLog = Task { () -> [ConnectionHealthEvent] in
            var all: [ConnectionHealthEvent] = []
            for await h in health {
                all.append(h)
                if case .reconnected = h { break }
            }
            return all
        }
        // Never wait forever for the health log (it ends at the reconnect).
        let healthTimeout = Task { try await Task.sleep(for: .seconds(120)); healthLog.cancel() }
        let events = EventRecorder(try await monitor.domainEvents(domainUUID: uuid, ids: [.lifecycle]))

        let (rc, _, err) = await Lab.runAsync(["restart-b"])
        #expect(rc == 0, "lab.sh restart-b: \(err)")

        let closed = await events.first(timeout: .seconds(30)) { m -> ConnectionCloseEvent? in
            if case .disconnected(let c) = m { return c } else { return nil }
        }
        #expect(closed != nil, "the close event arrived")
        #expect(closed?.0.reason == .eof || closed?.0.reason == .error || closed?.0.reason == .keepalive)
        let reconnected = await events.first(from: closed?.1 ?? 0, timeout: .seconds(60)) { m -> Duration? in
            if case .reconnected(let gap, _) = m { return gap } else { return nil }
        }
        #expect(reconnected != nil, "the policy reconnected")
        print("host B restart: close \(closed.map { "\($0.0.reason)" } ?? "none"), gap \(reconnected.map { "\($0.0)" } ?? "none")")

        // Later events arrive on the new connection.
        let conn = try await Connection.open(lab.b.uri)
        let g = try await conn.domain(uuid: uuid)
        try await g.suspend()
        let later = await events.first(from: reconnected?.1 ?? 0, timeout: .seconds(20)) { m -> Bool? in
            if case .event(let e) = m, e.kind == .lifecycle(.suspended(.paused)) { return true } else { return nil }
        }
        #expect(later != nil, "an event after the reconnect arrived")
        let log = await healthLog.value
        healthTimeout.cancel()
        #expect(log.contains { if case .closed = $0 { true } else { false } }, "health: \(log)")
        #expect(log.contains { if case .reconnected = $0 { true } else { false } }, "health: \(log)")
        await events.stop()
        await monitor.shutdown()
        try? await g.destroy()
        await conn.close()
    }
}

/// Progress samples collected from the migration's callback thread.
final class SampleBox: @unchecked Sendable {  // guarded by lock
    private let lock = NSLock()
    private var samples: [JobStats] = []
    func add(_ s: JobStats) { lock.lock(); samples.append(s); lock.unlock() }
    var all: [JobStats] { lock.lock(); defer { lock.unlock() }; return samples }
}
