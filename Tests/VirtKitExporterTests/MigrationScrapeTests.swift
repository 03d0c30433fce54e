import Foundation
import Libvirt
import Testing
import VirtKitTestSupport
@testable import VirtKitExporter

/// Scrapes of `qemu:///system` (the lab's host A) while one of its guests holds a live
/// migration to the lab's host B, capped at 1 MiB/s.
///
/// Bounded by construction: the guest runs the lab's `shared` disk, an idle program (`hlt`),
/// so it dirties almost no memory and a 1 MiB/s copy of its few MiB of non-zero pages
/// converges in seconds. Should it not, the test escalates on its own clock, never waiting
/// on libvirt without a bound: at `Self.migrationBound` the job is aborted (the task is
/// cancelled), then the guest is destroyed on both hosts (killing QEMU ends any job), and
/// every cleanup call has a bound of its own. A test that gives up records a failure; it
/// never hangs the run.
///
/// Runs in the exporter's own test process, after the main suite (whose LabScenarioTests
/// also migrate); by hand, under the lab lock (`flock /work/coord/lab.lock swift test …`).
/// Nested in `LiveExporterTests` so its `.serialized` covers every exporter test that uses
/// qemu:///system.
extension LiveExporterTests {
@Suite struct MigrationScrapeTests {
    init() { DaemonSignals.setUp() }

    /// How long the migration may run before the test aborts it.
    static let migrationBound: Duration = .seconds(90)
    /// The bound of each cleanup step (abort, destroy, undefine, waiting for the task).
    static let cleanupBound: Duration = .seconds(30)

    @Test func scrapesAnswerWithinTheDeadlineWhileAGuestMigrates() async throws {
        guard let lab = await Lab.shared() else { return }
        let name = TestGuest.uniqueName("exporter-migrating")
        let a = try await Connection.open(lab.a.uri)
        let b = try await Connection.open(lab.b.uri)
        let exporter = MetricsExporter(uris: ["qemu:///system"], deadline: .seconds(2), findingsInterval: nil)
        let migration = MigrationBox()
        var failure: (any Error)?
        do {
            try await Self.scrapeWhileMigrating(exporter, lab: lab, a: a, b: b, name: name, migration: migration)
        } catch {
            failure = error
        }
        await exporter.shutdown()
        await Self.cleanUp(name: name, migration: migration, a: a, b: b)
        // Domain handles (the migration's result holds B's) are dropped while their
        // connections are open: the last reference of a closed connection would send libvirt's
        // close from whichever Swift thread frees it.
        migration.task = nil
        await a.close()
        await b.close()
        if let failure { throw failure }
    }

    static func scrapeWhileMigrating(_ exporter: MetricsExporter, lab: Lab, a: Connection, b: Connection, name: String,
                                     migration box: MigrationBox) async throws {
        let guest = try await a.createDomain(xml: try await Lab.guestXML(name, disk: "shared"))
        let uuid = HostCollector.key(guest.uuid)
        let deadline = exporter.deadline
        let warm = await exporter.scrape()
        try #require(warm.first?.up == true, "qemu:///system: \(warm.first?.error ?? "?")")
        #expect(warm.first?.domains.contains { $0.metadata.uuid == uuid } == true)

        var o = MigrationOptions()
        o.live = true
        o.migrateURI = lab.b.migrateURI
        o.bandwidthMiBPerSecond = 1  // a few seconds for the idle guest's non-zero pages
        let active = LastSeen(), done = Flag()
        let started = ContinuousClock.now
        let migration = Task {
            defer { done.set() }
            return try await guest.migrate(to: .connection(b), options: o, pollInterval: .milliseconds(50)) { s in
                if s.isActive { active.record() }
            }
        }
        box.task = migration
        #expect(await eventually(timeout: .seconds(30), every: .milliseconds(20)) { active.last != nil || done.isSet }, "the migration job started")

        // Scrape back to back while the job runs (at most until the bound). The documented
        // semantics: a scrape waits at most `deadline` for the host, then serves what it has
        // (marked stale); the margin covers rendering and a busy machine. Only scrapes after
        // which libvirt still reports the job running (`virDomainGetJobStats` on the test's
        // own connection) count as "during the job": they began after it started and ended
        // before it did.
        var during = 0, stale = 0
        var longest = Duration.zero
        while !done.isSet, ContinuousClock.now - started < migrationBound {
            let start = ContinuousClock.now
            let hosts = await exporter.scrape()
            let text = ExpositionRenderer.render(hosts, scrapeDuration: ContinuousClock.now - start)
            let elapsed = ContinuousClock.now - start
            guard (try? await guest.jobStats())?.isActive == true else { continue }
            during += 1
            longest = max(longest, elapsed)
            #expect(elapsed < deadline + .seconds(5), "scrape \(during): \(elapsed)")
            let host = try #require(hosts.first)
            #expect(host.up, "scrape \(during): \(host.error ?? "")")
            // Still defined on A until the migration completes: running, or paused for the
            // final stop-and-copy.
            let sample = host.domains.first { $0.metadata.uuid == uuid }
            let state = sample?.stats.state?.state
            #expect(state == .running || state == .paused, "scrape \(during): the migrating guest is served (\(String(describing: state)))")
            if host.stale || sample?.stale == true { stale += 1 }
            _ = try ParsedExposition(String(decoding: text, as: UTF8.self))
        }
        print("exporter during migration: \(during) scrapes while the job ran, \(stale) with stale values, longest \(longest), job \(ContinuousClock.now - started)")
        #expect(during >= 2, "scrapes overlapped the migration job")

        // The job is over or past its bound: wait for its result a bounded time, never forever.
        let remaining = max(.seconds(5), migrationBound - (ContinuousClock.now - started))
        guard let outcome = await withinBound(remaining, { await migration.result }) else {
            Issue.record("the idle guest's migration did not finish within \(migrationBound): aborted and destroyed")
            return
        }
        let result = try outcome.get()
        #expect(result.finalStats?.type == .completed)
        #expect(try await b.domain(named: name).state().state == .running)
        #expect(await eventually(timeout: .seconds(20)) {
            await exporter.scrape().first?.domains.allSatisfy { $0.metadata.uuid != uuid } == true
        }, "the migrated guest leaves host A's scrape")
    }

    /// Aborts a migration still running (cancelling its task aborts the job), destroys and
    /// undefines the guest on both hosts, each step bounded; records what it could not do.
    static func cleanUp(name: String, migration: MigrationBox, a: Connection, b: Connection) async {
        if let t = migration.task {
            t.cancel()
            if await withinBound(cleanupBound, { await t.result }) == nil {
                Issue.record("the migration task did not end within \(cleanupBound) of its abort; destroying the guest")
            }
        }
        for (host, conn) in [("A", a), ("B", b)] {
            let gone = await withinBound(cleanupBound) { () async -> Bool in
                guard let d = try? await conn.domain(named: name) else { return true }
                try? await d.abortJob()
                try? await d.destroy()
                try? await d.undefine()
                return (try? await conn.domain(named: name)) == nil
            }
            #expect(gone == true, "guest left on host \(host)")
        }
    }
}
}

/// `body`'s result, or nil when it has not finished after `bound`. `body` runs in a task of its
/// own, so a libvirt call that never returns costs a pool thread, not the test run.
func withinBound<T: Sendable>(_ bound: Duration, _ body: @escaping @Sendable () async -> T) async -> T? {
    let once = ResumeOnce<T?>()
    return await withCheckedContinuation { (c: CheckedContinuation<T?, Never>) in
        once.set(c)
        Task { once.resume(await body()) }
        Task {
            try? await Task.sleep(for: bound)
            once.resume(nil)
        }
    }
}

/// Resumes its continuation with the first value it gets.
private final class ResumeOnce<T: Sendable>: @unchecked Sendable {  // guarded by lock
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Never>?
    private var pending: T?
    private var finished = false
    func set(_ c: CheckedContinuation<T, Never>) {
        lock.lock()
        if finished, let v = pending { lock.unlock(); c.resume(returning: v); return }
        continuation = c
        lock.unlock()
    }
    func resume(_ value: T) {
        lock.lock()
        guard !finished else { lock.unlock(); return }
        finished = true
        if let c = continuation {
            continuation = nil
            lock.unlock()
            c.resume(returning: value)
        } else {
            pending = value
            lock.unlock()
        }
    }
}

/// The migration task, for the cleanup.
final class MigrationBox: @unchecked Sendable {  // written once by the test body, read after it
    var task: Task<MigrationResult, any Error>?
}

/// When the migration's progress callback (a libvirt pool thread) last saw the job running.
private final class LastSeen: @unchecked Sendable {  // guarded by lock
    private let lock = NSLock()
    private var instant: ContinuousClock.Instant?
    func record() { lock.lock(); instant = .now; lock.unlock() }
    var last: ContinuousClock.Instant? { lock.lock(); defer { lock.unlock() }; return instant }
}

/// Set once when the migration returns (a libvirt pool thread).
private final class Flag: @unchecked Sendable {  // guarded by lock
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
