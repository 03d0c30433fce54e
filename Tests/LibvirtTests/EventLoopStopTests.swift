import CLibvirt
import Foundation
@testable import Libvirt
import Testing
import VirtCore
import VirtKitTestSupport

/// `LibvirtEventLoop.stop()` with streams and event consumers open, on the test driver: it
/// returns (also while other threads `start()` the loop, also on the loop thread), and what
/// was open across a stop carries on after `start()` with nothing lost. Safe in the shared
/// test process: every test restarts the loop, and none relies on it staying stopped (any
/// `Connection.open` elsewhere starts it). Serialized: the tests stop the one loop.
@Suite(.serialized, .timeLimit(.minutes(2))) struct EventLoopStopTests {
    static var loop: LibvirtEventLoop { .shared }

    /// `stop()` on a plain thread: it waits for the loop thread, which must not hold one of
    /// Swift's cooperative threads.
    static func stopOffPool() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            Thread { loop.stop(); c.resume() }.start()
        }
    }

    /// A non-blocking stream of the test driver's screenshot attached while the loop is
    /// stopped (its callback registered, not called yet).
    static func screenshotAttachedWhileStopped(_ dom: Domain) async throws -> LibvirtStream {
        let stream = try await dom.connection.newStream()
        await stopOffPool()
        let mime = try await stream.attach(direction: .read) { st throws(LibvirtError) in
            try takeString("virDomainScreenshot", virDomainScreenshot(dom.handle, st, 0, 0))
        }
        #expect(mime == "image/png")
        return stream
    }

    @Test func eventLoopRunsAndStops() async throws {
        _ = try await Connection.open("test:///default")
        let before = Self.loop.iterationCount
        LibvirtEventLoop.wake()
        while Self.loop.iterationCount == before { try await Task.sleep(for: .milliseconds(10)) }
        // stop() wakes the blocked poll and joins; unless another test's Connection.open started
        // it again meanwhile, the loop is then stopped.
        let startsBefore = Self.loop.runningAndStartCalls.startCalls
        await Self.stopOffPool()
        let after = Self.loop.runningAndStartCalls
        #expect(!after.isRunning || after.startCalls != startsBefore, "stop() left the loop running")
        try Self.loop.start()
        #expect(Self.loop.isRunning)
        let again = Self.loop.iterationCount
        LibvirtEventLoop.wake()
        while Self.loop.iterationCount == again { try await Task.sleep(for: .milliseconds(10)) }
    }

    /// Regression: `stop()` waited for "no loop thread" instead of for the thread it stopped,
    /// so a `start()` between that thread's end and `stop()`'s wake-up (any `Connection.open`
    /// elsewhere in the process) left `stop()` waiting for the new thread, for ever.
    @Test func stopReturnsWhileOtherThreadsStartTheLoop() async throws {
        try Self.loop.start()
        let done = OnceFlag()
        for _ in 0..<2 {
            Thread { while !done.load() { try? Self.loop.start() } }.start()
        }
        let stops = await withCheckedContinuation { (c: CheckedContinuation<Int, Never>) in
            Thread {
                var n = 0
                for _ in 0..<300 { Self.loop.stop(); n += 1 }
                done.store()
                c.resume(returning: n)
            }.start()
        }
        try Self.loop.start()
        #expect(stops == 300)
        #expect(Self.loop.isRunning)
    }

    /// `stop()` from the loop thread itself (a task running on the loop as its executor) asks
    /// and returns instead of waiting for its own thread to end.
    @Test func stopOnTheLoopThreadReturns() async throws {
        try Self.loop.start()
        let onLoop = Task(executorPreference: Self.loop) { () -> Bool in
            Self.loop.stop()
            return true
        }
        let returned = await onLoop.value
        try Self.loop.start()
        #expect(returned)
        #expect(Self.loop.isRunning)
    }

    /// A non-blocking stream attached while the loop is stopped (its callback registered, never
    /// called) has a reader waiting; after `start()` the reader gets every byte and the end.
    @Test func aStreamOpenAcrossAStopDeliversEverythingAfterStart() async throws {
        guard let expected = try StreamTests.screenshotBytes() else { return }
        let conn = try await StreamTests.node()
        defer { Task { await conn.close() } }
        let dom = try await conn.domain(named: "test")
        for round in 0..<3 {
            let stream = try await Self.screenshotAttachedWhileStopped(dom)
            let reader = Task { try await stream.readAll() }
            if round > 0 { await Task.yield() }  // round 0 starts before the reader parks
            try Self.loop.start()
            #expect(try await reader.value == expected, "round \(round)")
            #expect(stream.isClosed, "the end was confirmed (virStreamFinish)")
        }
    }

    /// A reader waiting on a stopped loop can be cancelled: `CancellationError`, the stream
    /// aborted. (Should another test's `Connection.open` restart the loop first, the reader
    /// may instead get the whole image; either way it does not wait for ever.)
    @Test func aReaderWaitingOnAStoppedLoopCanBeCancelled() async throws {
        guard let expected = try StreamTests.screenshotBytes() else { return }
        let conn = try await StreamTests.node()
        defer { Task { await conn.close() } }
        let dom = try await conn.domain(named: "test")
        let stream = try await Self.screenshotAttachedWhileStopped(dom)
        let reader = Task { try await stream.readAll() }
        reader.cancel()
        let outcome = await reader.result
        try Self.loop.start()
        switch outcome {
        case .failure(let error):
            #expect(error is CancellationError, "\(error)")
            #expect(stream.isClosed, "the cancelled stream was aborted")
        case .success(let bytes):
            #expect(bytes == expected, "the loop was restarted meanwhile: the whole image")
        }
    }

    /// Domain events raised while the loop is stopped wait in libvirt and reach the consumer,
    /// in order, after `start()`.
    @Test func eventsRaisedWhileStoppedArriveAfterStart() async throws {
        let conn = try await TestNode.single("loopstop")
        defer { Task { await conn.close() } }
        let dom = try await conn.domain(named: "loopstop")
        let events = try await conn.domainEvents(for: dom, .lifecycle)
        var it = events.makeAsyncIterator()
        await Self.stopOffPool()
        try await dom.suspend()
        try await dom.resume()
        try Self.loop.start()
        var kinds: [String] = []
        while kinds.count < 2, let m = await it.next() {
            guard case .event(let e) = m, case .lifecycle(let l) = e.kind else { continue }
            switch l {
            case .suspended: kinds.append("suspended")
            case .resumed: kinds.append("resumed")
            default: kinds.append("\(l)")
            }
        }
        #expect(kinds == ["suspended", "resumed"])
    }
}
