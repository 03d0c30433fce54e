import Foundation
import Testing

/// Runs a suite's or a test's body on threads of its own instead of Swift's cooperative pool.
///
/// The test process runs ~500 tests at once on as many cooperative threads as there are
/// cores (2 here). A synchronous test that parses a corpus or probes 32 sysfs trees never
/// suspends, so two of them hold both threads and every other test, however small, waits
/// minutes for them; tests that wait on a deadline then fail for no reason of their own.
/// On these threads the kernel time-slices heavy tests with the rest of the process.
public struct OffCooperativePool: TestTrait, SuiteTrait, TestScoping {
    public typealias TestScopeProvider = OffCooperativePool
    public var isRecursive: Bool { true }

    /// Every test case, however the trait was applied (the defaults scope a suite trait only
    /// around the suite as a whole).
    public func scopeProvider(for test: Test, testCase: Test.Case?) -> OffCooperativePool? {
        testCase == nil ? nil : self
    }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        try await withTaskExecutorPreference(DedicatedThreadsExecutor.heavyTests) { try await function() }
    }
}

extension Trait where Self == OffCooperativePool {
    /// For CPU- or I/O-heavy synchronous tests (corpus walks, hostile files, property runs).
    public static var offCooperativePool: Self { OffCooperativePool() }
}

/// A task executor with a fixed set of plain threads that run jobs in arrival order.
public final class DedicatedThreadsExecutor: TaskExecutor, @unchecked Sendable {
    /// Shared by every heavy test of the process: a few threads, so heavy tests (and the
    /// fixture initialisers they wait on) share the CPU with the rest instead of holding it.
    public static let heavyTests = DedicatedThreadsExecutor(threadCount: 3, name: "vk-heavy-test")

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0

    public init(threadCount: Int, name: String) {
        for i in 0..<threadCount {
            let thread = Thread { self.run() }  // the threads keep their executor alive
            thread.name = "\(name)-\(i)"
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while head == jobs.count { condition.wait() }
            let job = jobs[head]
            head += 1
            if head == jobs.count { jobs.removeAll(keepingCapacity: true); head = 0 }
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
