import CLibvirt
import Foundation

/// The dedicated threads every blocking libvirt call runs on (the module's one seam into C).
///
/// libvirt calls block: a remote call waits for the daemon, `virDomainShutdown` can wait
/// on QEMU's monitor. Running them on Swift's cooperative pool (one thread per core)
/// would starve every other task, so, like swift-nio's `NIOThreadPool`, a few plain
/// threads take closures from a FIFO queue and resume the awaiting task when done.
///
/// Errors: libvirt's last error is thread-local, so the closure given to `run` must read
/// it itself (all of the module's wrappers do, via `LibvirtError.takeLast`) before the
/// thread takes the next job.
///
/// Cancellation: a task cancelled while its job is still queued gets `CancellationError`
/// and the C call never runs. Once the call has started it can't be interrupted — libvirt
/// has no per-call cancellation (only `virDomainAbortJob` for jobs, or closing the
/// connection) — so it runs to completion and its result is returned.
///
/// Signals: the threads block SIGPIPE, so a libvirt write to a vanished daemon fails
/// the call with EPIPE instead of killing the process (the process-wide disposition is
/// left alone).
///
/// Sendable: `@unchecked` because the mutable queue and flags are only touched with
/// `condition` held (NSCondition is a pthread mutex + condvar).
public final class LibvirtThreadPool: @unchecked Sendable {
    /// The pool connections use unless given another one. Size: `$VIRTKIT_LIBVIRT_THREADS`,
    /// else 8 (they mostly sleep waiting on sockets, so more than the core count is fine).
    public static let shared: LibvirtThreadPool = {
        let env = ProcessInfo.processInfo.environment["VIRTKIT_LIBVIRT_THREADS"].flatMap { Int($0) }
        return LibvirtThreadPool(threadCount: max(1, min(env ?? 8, 256)), name: "virtkit-libvirt")
    }()

    private let condition = NSCondition()
    private var queue: [Job] = []
    private var head = 0
    private var isShutDown = false
    private var busy = 0
    private var waiting = 0  // queued jobs not cancelled
    /// Number of worker threads.
    public let threadCount: Int

    /// Starts `threadCount` worker threads named `name-N`.
    public init(threadCount: Int, name: String = "virtkit-libvirt") {
        self.threadCount = max(1, threadCount)
        for i in 0..<self.threadCount {
            let threadName = "\(name)-\(i)"
            let thread = Thread { [self] in
                // Visible in top/perf/gdb (Linux limits names to 15 bytes).
                virtkit_set_thread_name(String(threadName.suffix(15)))
                // A daemon that vanishes mid-write must fail the call, not kill the process.
                _ = virtkit_block_sigpipe()
                self.workerLoop()
            }
            thread.name = threadName
            thread.start()
        }
    }

    /// Jobs waiting for a thread plus jobs running (for tests and diagnostics).
    public var load: (queued: Int, running: Int) {
        condition.lock(); defer { condition.unlock() }
        return (waiting, busy)
    }

    /// Runs `body` on one of the pool's threads and returns its result.
    ///
    /// - Throws: whatever `body` throws (a `LibvirtError` for the module's wrappers), or
    ///   `CancellationError` when the task was cancelled before `body` started.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try Task.checkCancellation()
        let job = Job()
        return try await withTaskCancellationHandler {
            // Unsafe (not checked) continuation: the job's state machine resumes it exactly
            // once (work or abandon, under `condition`), and the checked variant costs an
            // extra allocation on this per-call path.
            try await withUnsafeThrowingContinuation { (cont: UnsafeContinuation<T, Error>) in
                job.work = { cont.resume(with: Result { try body() }) }
                job.abandon = { cont.resume(throwing: CancellationError()) }
                enqueue(job)
            }
        } onCancel: {
            cancel(job)
        }
    }

    /// Runs `body` on the pool without waiting for it (used by deinit to release handles
    /// whose last release may talk to the daemon, e.g. `virConnectClose`).
    public func execute(_ body: @escaping @Sendable () -> Void) {
        let job = Job()
        job.work = body
        enqueue(job)
    }

    /// Stops the threads after the queued jobs are done. `run` calls made afterwards throw
    /// `CancellationError`; `execute` work runs on the caller's thread. The shared pool is
    /// never shut down.
    public func shutdown() {
        condition.lock()
        isShutDown = true
        condition.broadcast()
        condition.unlock()
    }

    // MARK: - Internals

    private final class Job: @unchecked Sendable {  // fields guarded by the pool's condition
        enum State { case new, queued, running, cancelled }
        var state = State.new
        var work: (() -> Void)?
        var abandon: (() -> Void)?
    }

    private func enqueue(_ job: Job) {
        condition.lock()
        if job.state == .cancelled || isShutDown {
            // Cancelled before it was queued (onCancel ran first) or pool gone.
            let detached = job.abandon == nil && job.state != .cancelled
            job.state = .cancelled
            condition.unlock()
            if detached {
                job.work?()  // `execute` after shutdown: a release must still happen, so run it here
            } else {
                job.abandon?()
            }
            return
        }
        job.state = .queued
        waiting += 1
        queue.append(job)
        condition.unlock()
        condition.signal()
    }

    private func cancel(_ job: Job) {
        condition.lock()
        switch job.state {
        case .new:
            job.state = .cancelled  // enqueue will abandon it
            condition.unlock()
        case .queued:
            job.state = .cancelled  // the worker skips it
            waiting -= 1
            condition.unlock()
            job.abandon?()
        case .running, .cancelled:
            condition.unlock()
        }
    }

    private func workerLoop() {
        var finished = false
        while true {
            condition.lock()
            if finished { busy -= 1 }  // the previous job, counted under the same lock as taking the next one
            finished = false
            while head == queue.count && !isShutDown { condition.wait() }
            if head == queue.count && isShutDown { condition.unlock(); return }
            let job = queue[head]
            head += 1
            if head > 64 && head * 2 > queue.count {  // compact the consumed prefix
                queue.removeFirst(head)
                head = 0
            }
            guard job.state == .queued else { condition.unlock(); continue }
            job.state = .running
            waiting -= 1
            busy += 1
            condition.unlock()
            job.work?()
            job.work = nil
            job.abandon = nil
            finished = true
        }
    }
}
