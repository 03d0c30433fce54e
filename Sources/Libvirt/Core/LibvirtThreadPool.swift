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
/// `condition`'s lock held (NSCondition is a pthread mutex + condvar; only its lock is used:
/// each idle worker sleeps on a semaphore of its own, see `Worker`).
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
    /// Idle workers, the most recently idle last: a new job wakes that one (LIFO), so a
    /// steady stream of calls keeps landing on the same warm thread — its stack, caches
    /// and malloc arena — instead of rotating through all of them (a FIFO condition
    /// variable's order), which measurably cost CPU and page faults per call.
    private var idle: [Worker] = []
    /// Number of worker threads.
    public let threadCount: Int

    /// Starts `threadCount` worker threads named `name-N`.
    public init(threadCount: Int, name: String = "virtkit-libvirt") {
        self.threadCount = max(1, threadCount)
        for i in 0..<self.threadCount {
            let threadName = "\(name)-\(i)"
            let worker = Worker()
            let thread = Thread { [self] in
                // Visible in top/perf/gdb (Linux limits names to 15 bytes).
                virtkit_set_thread_name(String(threadName.suffix(15)))
                // Marks this thread as one of this pool's (see `isCurrentThread`); the pool
                // is never deallocated while its threads run (they hold `self`).
                pthread_setspecific(Self.threadKey, Unmanaged.passUnretained(self).toOpaque())
                // A daemon that vanishes mid-write must fail the call, not kill the process.
                _ = virtkit_block_sigpipe()
                self.workerLoop(worker)
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
        // Already on one of these threads (a task running on this pool as its executor,
        // see `TaskExecutor` below): blocking here is what the threads are for, so the
        // call runs in place, without a hop to another thread and back.
        if isCurrentThread { return try body() }
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
        let sleepers = idle
        idle.removeAll()
        condition.unlock()
        for w in sleepers { w.wake() }
    }

    /// The key of the thread-specific value naming the pool a thread belongs to.
    private static let threadKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// True when the calling thread is one of this pool's threads.
    public var isCurrentThread: Bool {
        pthread_getspecific(Self.threadKey) == Unmanaged.passUnretained(self).toOpaque()
    }

    // MARK: - Internals

    /// A worker thread's wake-up semaphore (a semaphore remembers a wake that comes before
    /// the wait). Sendable: `@unchecked`, `sem_t` is made for use across threads.
    private final class Worker: @unchecked Sendable {
        private let sem = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
        init() { sem_init(sem, 0, 0) }
        deinit {
            sem_destroy(sem)
            sem.deallocate()
        }
        func wake() { sem_post(sem) }
        func sleep() { while sem_wait(sem) != 0 && errno == EINTR {} }
    }

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
        let sleeper = idle.popLast()
        condition.unlock()
        sleeper?.wake()
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

    private func workerLoop(_ me: Worker) {
        var finished = false
        while true {
            condition.lock()
            if finished { busy -= 1 }  // the previous job, counted under the same lock as taking the next one
            finished = false
            if head == queue.count {
                if isShutDown { condition.unlock(); return }
                idle.append(me)
                condition.unlock()
                me.sleep()  // woken by `enqueue` or `shutdown` (or early: then the queue is rechecked)
                continue
            }
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

/// The pool as a task executor (SE-0417): a task that makes many libvirt calls in a row can
/// run on the pool's threads with `withTaskExecutorPreference(LibvirtThreadPool.shared) { … }`
/// (or `Task(executorPreference:)`). Its libvirt calls then run in place on the thread the
/// task is on (see `run`): no hop to a pool thread and back to Swift's cooperative pool per
/// call — on a busy 2-vCPU VM those two thread wake-ups cost about as much client CPU as
/// a 20-guest `allDomainStats` call itself. The task's other code runs on the pool threads
/// too, which may block; Swift's cooperative threads stay free.
extension LibvirtThreadPool: TaskExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        let unownedJob = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        execute { unownedJob.runSynchronously(on: executor) }
    }
}
