import Foundation
import VirtCore
import Libvirt
import Testing
import VirtKitTestSupport

@Suite struct ConcurrencyTests {
    /// 24 libvirt calls that block indefinitely inside libvirt (remote opens on a socket
    /// that never answers) saturate a 4-thread pool and queue 20 more; meanwhile work on
    /// Swift's cooperative pool (2 threads on this host) and libvirt calls on another pool
    /// still complete promptly. Cancelling queued calls never runs them.
    @Test(.timeLimit(.minutes(3))) func blockedLibvirtCallsDoNotStarveOtherTasks() async throws {
        let server = try SilentLibvirtSocket()
        let pool = BlockingThreadPool(threadCount: 4, name: "vk-test-slow")
        defer { pool.shutdown() }
        let uri = "qemu+unix:///system?socket=\(server.path)"

        let blocked = (0..<24).map { _ in
            Task { () -> Result<Void, Error> in
                do { _ = try await Connection.open(uri, pool: pool); return .success(()) } catch { return .failure(error) }
            }
        }
        // Wait until the pool is saturated. The bound is generous: the whole test process
        // shares 2 cooperative threads with CPU-heavy suites, so the 24 tasks may enqueue
        // late and the workers may not have been scheduled yet right after.
        await eventually(timeout: .seconds(60)) { pool.load.running == 4 && pool.load.queued == 20 }
        #expect(pool.load.running == 4)
        #expect(pool.load.queued == 20)

        // Cooperative work: 200 tasks of CPU work plus yields finish fast.
        let start = ContinuousClock.now
        let sum = await withTaskGroup(of: Int.self) { group in
            for i in 0..<200 {
                group.addTask {
                    var x = i
                    for _ in 0..<1_000 { x = x &* 31 &+ 7 }
                    await Task.yield()
                    return x & 1
                }
            }
            return await group.reduce(0, +)
        }
        _ = sum
        // And a libvirt call on the shared pool still answers.
        let other = try await Connection.open("test:///default")
        #expect(try await other.hostname().isEmpty == false)
        await other.close()
        // Alone this takes ~10 ms. Were the blocked calls holding cooperative threads, it would
        // never finish and the time limit would fail the test: no stopwatch needed.
        print("cooperative work took \(ContinuousClock.now - start) while 4 libvirt calls were blocked")

        // Blocked calls are still blocked (they really are in libvirt), none finished.
        #expect(pool.load.running == 4)

        // Cancel the last 10 (queued) tasks: they end with CancellationError without running.
        for t in blocked.suffix(10) { t.cancel() }
        for t in blocked.suffix(10) {
            if case .failure(let e) = await t.value { #expect(e is CancellationError) } else { Issue.record("cancelled open succeeded") }
        }
        #expect(pool.load.queued == 10)

        // Release the daemon side: every started call now fails with a typed libvirt error.
        server.shutdown()
        var libvirtErrors = 0
        for t in blocked.prefix(14) {
            switch await t.value {
            case .success: Issue.record("open on a silent socket succeeded")
            case .failure(let e): if e is LibvirtError { libvirtErrors += 1 }
            }
        }
        #expect(libvirtErrors == 14)
        // Workers mark themselves idle just after resuming the caller.
        await eventually(timeout: .seconds(60)) { pool.load.running == 0 && pool.load.queued == 0 }
        #expect(pool.load.running == 0 && pool.load.queued == 0)
    }

    @Test func cancelledBeforeStartNeverRuns() async throws {
        let pool = BlockingThreadPool(threadCount: 1, name: "vk-test-cancel")
        defer { pool.shutdown() }
        let gate = DispatchSemaphore(value: 0)
        let ran = Counter()
        let first = Task { try await pool.run { gate.wait() } }
        while pool.load.running < 1 { try await Task.sleep(for: .milliseconds(5)) }
        let second = Task { try await pool.run { ran.increment() } }
        while pool.load.queued < 1 { try await Task.sleep(for: .milliseconds(5)) }
        second.cancel()
        await #expect(throws: CancellationError.self) { try await second.value }
        gate.signal()
        try await first.value
        #expect(ran.value == 0)
        // An already-cancelled task doesn't even enqueue.
        let third = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await pool.run { ran.increment() }
        }
        await #expect(throws: CancellationError.self) { try await third.value }
        #expect(ran.value == 0)
    }
}

final class Counter: @unchecked Sendable {  // guarded by lock
    private let lock = NSLock()
    private var n = 0
    func increment() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}
