import Synchronization

/// How waiting for a task with a deadline ended.
enum DeadlineOutcome<T: Sendable>: Sendable {
    case finished(Result<T, any Error>)
    case timedOut
    case cancelled
}

/// Waits for `task` until `deadline` without waiting for the task itself to end: a libvirt
/// call cannot be cancelled, so past the deadline the caller goes on and the task is left to
/// finish on its own (its watcher keeps the host marked busy). Cancelling the waiting task
/// returns `.cancelled` at once.
func awaitResult<T: Sendable>(of task: Task<T, any Error>, until deadline: ContinuousClock.Instant) async -> DeadlineOutcome<T> {
    let once = ResumeOnce<DeadlineOutcome<T>>()
    return await withTaskCancellationHandler {
        await withCheckedContinuation { (cont: CheckedContinuation<DeadlineOutcome<T>, Never>) in
            once.install(cont)
            let timer = Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                once.resume(.timedOut)
            }
            once.onResume { timer.cancel() }
            Task {
                let result = await task.result
                once.resume(.finished(result))
            }
        }
    } onCancel: {
        once.resume(.cancelled)
    }
}

/// A continuation resumed by whichever of several racers comes first; a value that arrives
/// before the continuation is installed (cancellation) is kept and delivered on install.
final class ResumeOnce<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value, Never>?
        var early: Value?
        var done = false
        var cleanup: [@Sendable () -> Void] = []
    }
    private let state = Mutex(State())

    func install(_ cont: CheckedContinuation<Value, Never>) {
        let early: Value? = state.withLock { s in
            if let v = s.early { s.early = nil; return v }
            s.continuation = cont
            return nil
        }
        if let early { cont.resume(returning: early); runCleanup() }
    }

    /// Runs `body` once the value is delivered (now, if it already was).
    func onResume(_ body: @escaping @Sendable () -> Void) {
        let now = state.withLock { s in
            if s.done { return true }
            s.cleanup.append(body)
            return false
        }
        if now { body() }
    }

    func resume(_ value: Value) {
        let cont: CheckedContinuation<Value, Never>? = state.withLock { s in
            guard !s.done else { return nil }
            s.done = true
            guard let c = s.continuation else { s.early = value; return nil }
            s.continuation = nil
            return c
        }
        if let cont { cont.resume(returning: value); runCleanup() }
    }

    private func runCleanup() {
        let bodies = state.withLock { s in
            defer { s.cleanup = [] }
            return s.cleanup
        }
        for b in bodies { b() }
    }
}
