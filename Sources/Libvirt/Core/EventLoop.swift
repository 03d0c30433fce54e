import CLibvirt
import VirtCore
import Foundation

/// libvirt's default event loop (`virEventRegisterDefaultImpl`), run on a dedicated thread
/// calling `virEventRunDefaultImpl` until stopped.
///
/// libvirt needs a registered loop *before* a connection opens for keepalive
/// (`virConnectSetKeepAlive`), domain events and close callbacks to work. `Connection.open`
/// starts the shared loop lazily; call `start()` earlier to be explicit. libvirt can't
/// unregister an implementation, so `stop()` only ends the thread; `start()` runs it again.
///
/// While the loop is stopped nothing is lost and nothing fails: every registration (stream
/// and event callbacks, keepalive and event timers, a remote connection's socket) stays in
/// libvirt, and what arrives waits there. Readers of non-blocking streams, event consumers and
/// tasks preferring the loop as their executor wait — cancellable — and carry on, with
/// everything that arrived meanwhile, after `start()`. (A remote daemon drops a connection
/// that misses its keepalive pings, 30 s by libvirtd's defaults: after such a pause its
/// streams fail and its event streams yield `.disconnected` — typed ends, not waits.)
///
/// Sendable: `@unchecked` because its mutable fields are guarded by `lock`.
public final class LibvirtEventLoop: @unchecked Sendable {
    /// The process's loop (libvirt has exactly one event implementation per process).
    public static let shared = LibvirtEventLoop()

    private let lock = NSCondition()
    private var thread: Thread?
    /// Which loop thread runs (or last ran): one more for each thread started, so `stop()`
    /// waits for the thread it stopped, not for whichever runs when it wakes up.
    private(set) var generation: UInt64 = 0
    private var stopRequested = false
    /// `start()` calls so far: a test tells "stopped" from "restarted by someone else".
    private var startCalls: UInt64 = 0
    private var iterations: UInt64 = 0
    /// Jobs of tasks that prefer this loop as their executor, run after each iteration.
    private var jobs: [UnownedJob] = []
    private var loopThread: pthread_t?
    private static let registration: LibvirtError? = {
        do throws(LibvirtError) { try LibvirtLibrary.initialize() } catch { return error }
        if virEventRegisterDefaultImpl() < 0 { return LibvirtError.takeLast(after: "virEventRegisterDefaultImpl") }
        return nil
    }()

    private init() {}

    /// Set once `registration` succeeded (read by `wake()` without forcing registration).
    private static let registrationDone = OnceFlag()

    /// True while the loop thread runs (and no stop of it is pending).
    public var isRunning: Bool {
        lock.lock(); defer { lock.unlock() }
        return thread != nil && !stopRequested
    }

    /// `isRunning` and how many `start()` calls came before, read together.
    var runningAndStartCalls: (isRunning: Bool, startCalls: UInt64) {
        lock.lock(); defer { lock.unlock() }
        return (thread != nil && !stopRequested, startCalls)
    }

    /// How many times `virEventRunDefaultImpl` has returned (shows the loop is alive).
    public var iterationCount: UInt64 {
        lock.lock(); defer { lock.unlock() }
        return iterations
    }

    /// Registers libvirt's default implementation (once per process) and starts the loop
    /// thread if it isn't running. Idempotent. A `start()` while a `stop()` is pending
    /// cancels it: the thread keeps running (as if the stop had come first).
    public func start() throws(LibvirtError) {
        if let error = Self.registration { throw error }
        Self.registrationDone.store()
        lock.lock(); defer { lock.unlock() }
        startCalls &+= 1
        if thread != nil {
            if stopRequested {
                stopRequested = false
                lock.broadcast()  // the stop() waiting for this thread returns
            }
            return
        }
        stopRequested = false
        generation &+= 1
        let t = Thread { [self] in self.runLoop() }
        t.name = "virtkit-libvirt-events"
        thread = t
        t.start()
    }

    /// Asks the loop thread to stop and waits until it has, or until a concurrent `start()`
    /// cancelled the request. A zero-delay timer (`virEventAddTimeout`) wakes
    /// `virEventRunDefaultImpl`, whose poll may otherwise sleep indefinitely. Blocks the caller
    /// for at most one loop iteration, so call it off Swift's cooperative pool; called on the
    /// loop thread itself (from a callback, or a task running on the loop) it only asks, and
    /// the thread ends after the current iteration.
    public func stop() {
        lock.lock()
        guard thread != nil, !stopRequested else {
            // Not running, or another stop() already asked: wait for that one too.
            if thread != nil { waitForStop(of: generation) } else { lock.unlock() }
            return
        }
        stopRequested = true
        let onLoop = loopThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
        let stopping = generation
        lock.unlock()
        Self.wake()
        if onLoop { return }
        lock.lock()
        waitForStop(of: stopping)
    }

    /// Waits (lock held; releases it) until thread `stopping` has ended or is no longer asked to.
    private func waitForStop(of stopping: UInt64) {
        let onLoop = loopThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
        while !onLoop, generation == stopping, thread != nil, stopRequested { lock.wait() }
        lock.unlock()
    }

    /// Makes `virEventRunDefaultImpl` return once, e.g. after changing what the loop watches.
    public static func wake() {
        // Only once an implementation is registered (which also means libvirt is initialized):
        // without one, virEventAddTimeout fails and touches the thread-local error.
        guard registrationDone.load() else { return }
        // The callback removes its own one-shot timer; it runs on the loop thread.
        _ = virEventAddTimeout(0, { timer, _ in virEventRemoveTimeout(timer) }, nil, nil)
        virResetLastError()  // a failed add would leave an error on this thread
    }

    private func runLoop() {
        lock.lock(); loopThread = pthread_self(); lock.unlock()
        virtkit_set_thread_name("virtkit-events")
        _ = virtkit_block_sigpipe()  // keepalive writes happen here (see BlockingThreadPool)
        while true {
            lock.lock()
            if stopRequested {
                thread = nil
                loopThread = nil
                lock.broadcast()
                lock.unlock()
                return
            }
            lock.unlock()
            if virEventRunDefaultImpl() < 0 {
                // Only fails on internal poll errors; clear the thread's error and back off
                // so a persistent failure doesn't spin a core.
                virResetLastError()
                usleep(10_000)
            }
            lock.lock()
            iterations &+= 1
            let ready = jobs
            jobs.removeAll(keepingCapacity: true)
            lock.unlock()
            // Consumers resumed by this iteration's callbacks run here, right after them,
            // on this thread: no hand-off to another thread.
            for job in ready { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }
}

/// The loop as a task executor (SE-0417), for event consumers that want the lowest latency:
/// `Task(executorPreference: LibvirtEventLoop.shared) { for await message in stream { … } }`.
/// A consumer resumed by a C event callback then runs on the loop thread as soon as the
/// callback's loop iteration ends — the same thread, with no wake-up of another one (the
/// default executor needs a cooperative thread to wake, which on a busy host adds
/// scheduling delay). The consumer must not block: the loop also serves keepalive and every
/// other callback. Jobs enqueued from other threads wake the loop (`wake()`); when the loop
/// is stopped they still run, on the next `start()`.
extension LibvirtEventLoop: TaskExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        lock.lock()
        jobs.append(unowned)
        let onLoop = loopThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
        lock.unlock()
        if !onLoop { Self.wake() }
    }
}

/// A set-once flag. `@unchecked Sendable`: the Bool is only accessed under `lock`.
final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func store() { lock.lock(); value = true; lock.unlock() }
    func load() -> Bool { lock.lock(); defer { lock.unlock() }; return value }
}
