#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain threads for blocking work — libvirt calls, file and cgroup I/O — so it never runs on
/// Swift's cooperative pool (one thread per core), where one slow daemon, NFS mount or stuck
/// QEMU monitor would starve every other task. Like swift-nio's `NIOThreadPool`: closures
/// from a FIFO queue, the awaiting task resumed when done.
///
/// Two shared pools: `fileIO` (VirtCore: HostProbe, CgroupControl; bounded, a few threads) and
/// `libvirt` (defined by the Libvirt module).
///
/// Cancellation: a task cancelled while its job is still queued gets `CancellationError` and
/// the job never runs. A job that has started runs to completion and its result is returned.
///
/// Signals: the threads block SIGPIPE, so a write to a vanished peer fails with EPIPE instead
/// of killing the process (the process-wide disposition is left alone).
///
/// Sendable: `@unchecked` because the mutable queue and flags are only touched with `mutex`
/// held; each idle worker sleeps on a semaphore of its own (see `Worker`).
public final class BlockingThreadPool: @unchecked Sendable {
    /// The pool for file-system and cgroup I/O: `$VIRTKIT_FILE_IO_THREADS` threads, else 4
    /// (reads of /sys and /proc are short; the bound keeps a hung mount from taking more).
    public static let fileIO: BlockingThreadPool = {
        let env = getenv("VIRTKIT_FILE_IO_THREADS").flatMap { Int(String(cString: $0)) }
        return BlockingThreadPool(threadCount: max(1, min(env ?? 4, 64)), name: "virtkit-io")
    }()

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var queue: [Job] = []
    private var head = 0
    private var isShutDown = false
    private var busy = 0
    private var waiting = 0  // queued jobs not cancelled
    /// Idle workers, the most recently idle last: a new job wakes that one (LIFO), so a
    /// steady stream of calls keeps landing on the same warm thread — its stack, caches
    /// and malloc arena — instead of rotating through all of them, which measurably cost
    /// CPU and page faults per libvirt call.
    private var idle: [Worker] = []
    /// Number of worker threads.
    public let threadCount: Int
    /// The thread-name prefix (`name-N`, truncated to 15 bytes by Linux).
    public let name: String

    /// Starts `threadCount` worker threads named `name-N`.
    public init(threadCount: Int, name: String) {
        self.threadCount = max(1, threadCount)
        self.name = name
        pthread_mutex_init(mutex, nil)
        for i in 0..<self.threadCount {
            let threadName = "\(name)-\(i)"
            let worker = Worker()
            startThread { [self] in
                // Visible in top/perf/gdb; Linux keeps 15 bytes, so keep the distinctive end.
                Self.nameCurrentThread(String(threadName.suffix(15)))
                // Marks this thread as one of this pool's (see `isCurrentThread`); the pool
                // is never deallocated while its threads run (they hold `self`).
                pthread_setspecific(Self.threadKey, Unmanaged.passUnretained(self).toOpaque())
                var set = sigset_t()
                sigemptyset(&set)
                sigaddset(&set, SIGPIPE)
                pthread_sigmask(SIG_BLOCK, &set, nil)
                self.workerLoop(worker)
            }
        }
    }

    /// Jobs waiting for a thread plus jobs running (for tests and diagnostics).
    public var load: (queued: Int, running: Int) {
        lock(); defer { unlock() }
        return (waiting, busy)
    }

    /// Runs `body` on one of the pool's threads and returns its result.
    ///
    /// - Throws: whatever `body` throws, or `CancellationError` when the task was cancelled
    ///   before `body` started.
    public func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws -> T {
        try Task.checkCancellation()
        // Already on one of these threads (a task running on this pool as its executor,
        // see `TaskExecutor` below): blocking here is what the threads are for, so the
        // call runs in place, without a hop to another thread and back.
        if isCurrentThread { return try body() }
        let job = Job()
        return try await withTaskCancellationHandler {
            // Unsafe (not checked) continuation: the job's state machine resumes it exactly
            // once (work or abandon, under `mutex`), and the checked variant costs an extra
            // allocation on this per-call path.
            try await withUnsafeThrowingContinuation { (cont: UnsafeContinuation<T, Error>) in
                job.work = {
                    do { cont.resume(returning: try body()) } catch { cont.resume(throwing: error) }
                }
                job.abandon = { cont.resume(throwing: CancellationError()) }
                enqueue(job)
            }
        } onCancel: {
            cancel(job)
        }
    }

    /// Runs `body` on the pool without waiting for it (e.g. from `deinit`, to release
    /// handles whose last release may block).
    public func execute(_ body: @escaping @Sendable () -> Void) {
        let job = Job()
        job.work = body
        enqueue(job)
    }

    /// Stops the threads after the queued jobs are done. `run` calls made afterwards throw
    /// `CancellationError`; `execute` work runs on the caller's thread. The shared pools are
    /// never shut down.
    public func shutdown() {
        lock()
        isShutDown = true
        let sleepers = idle
        idle.removeAll()
        unlock()
        for w in sleepers { w.wake() }
    }

    /// True when the calling thread is one of this pool's threads.
    public var isCurrentThread: Bool {
        pthread_getspecific(Self.threadKey) == Unmanaged.passUnretained(self).toOpaque()
    }

    // MARK: - Internals

    private func lock() { pthread_mutex_lock(mutex) }
    private func unlock() { pthread_mutex_unlock(mutex) }

    /// The key of the thread-specific value naming the pool a thread belongs to.
    private static let threadKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Names the calling thread (`pthread_setname_np` is not exported by Swift's Glibc
    /// module; writing the thread's `comm` file is what it does on Linux).
    private static func nameCurrentThread(_ name: String) {
        #if os(Linux)
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        guard fd >= 0 else { return }
        _ = name.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        #endif
    }

    /// A detached pthread running `body` (Foundation's `Thread` without Foundation).
    private func startThread(_ body: @escaping () -> Void) {
        final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
        let arg = Unmanaged.passRetained(Box(body)).toOpaque()
        var tid = pthread_t()
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        let rc = pthread_create(&tid, &attr, { raw in
            guard let raw else { return nil }
            Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, arg)
        pthread_attr_destroy(&attr)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

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

    private final class Job: @unchecked Sendable {  // fields guarded by the pool's mutex
        enum State { case new, queued, running, cancelled }
        var state = State.new
        var work: (() -> Void)?
        var abandon: (() -> Void)?
    }

    private func enqueue(_ job: Job) {
        lock()
        if job.state == .cancelled || isShutDown {
            // Cancelled before it was queued (onCancel ran first) or pool gone.
            let detached = job.abandon == nil && job.state != .cancelled
            job.state = .cancelled
            unlock()
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
        unlock()
        sleeper?.wake()
    }

    private func cancel(_ job: Job) {
        lock()
        switch job.state {
        case .new:
            job.state = .cancelled  // enqueue will abandon it
            unlock()
        case .queued:
            job.state = .cancelled  // the worker skips it
            waiting -= 1
            unlock()
            job.abandon?()
        case .running, .cancelled:
            unlock()
        }
    }

    private func workerLoop(_ me: Worker) {
        var finished = false
        while true {
            lock()
            if finished { busy -= 1 }  // the previous job, counted under the same lock as taking the next one
            finished = false
            if head == queue.count {
                if isShutDown { unlock(); return }
                idle.append(me)
                unlock()
                me.sleep()  // woken by `enqueue` or `shutdown` (or early: then the queue is rechecked)
                continue
            }
            let job = queue[head]
            head += 1
            if head > 64 && head * 2 > queue.count {  // compact the consumed prefix
                queue.removeFirst(head)
                head = 0
            }
            guard job.state == .queued else { unlock(); continue }
            job.state = .running
            waiting -= 1
            busy += 1
            unlock()
            job.work?()
            job.work = nil
            job.abandon = nil
            finished = true
        }
    }
}

/// The pool as a task executor (SE-0417): a task that makes many blocking calls in a row can
/// run on the pool's threads with `withTaskExecutorPreference(pool) { … }` (or
/// `Task(executorPreference:)`). Its calls then run in place on the thread the task is on
/// (see `run`): no hop to a pool thread and back per call — on a busy 2-vCPU VM those two
/// thread wake-ups cost about as much client CPU as a 20-guest `allDomainStats` call. The
/// task's other code runs on the pool threads too, which may block; Swift's cooperative
/// threads stay free.
extension BlockingThreadPool: TaskExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        let unownedJob = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        execute { unownedJob.runSynchronously(on: executor) }
    }
}
