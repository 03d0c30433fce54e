import Foundation
import Testing
import Libvirt
import VirtKitTestSupport

/// Consumes an event stream in the background and keeps every message, so tests can
/// wait for a message without ending the stream (cancelling an AsyncStream's consumer
/// terminates the stream). `stop()` ends the consumer, which deregisters the callbacks.
final class EventRecorder: Sendable {
    private let store = Store()
    private let task: Task<Void, Never>

    actor Store {
        var messages: [DomainEventMessage] = []
        var finished = false
        func add(_ m: DomainEventMessage) { messages.append(m) }
        func finish() { finished = true }
    }

    init(_ stream: AsyncStream<DomainEventMessage>) {
        let store = store
        task = Task {
            for await m in stream { await store.add(m) }
            await store.finish()
        }
    }

    var messages: [DomainEventMessage] { get async { await store.messages } }
    var isFinished: Bool { get async { await store.finished } }

    /// The first message at or after index `from` that `match` accepts, with its index;
    /// nil after `timeout`.
    func first<T>(from: Int = 0, timeout: Duration = .seconds(20), _ match: (DomainEventMessage) -> T?) async -> (T, Int)? {
        let deadline = ContinuousClock.now + timeout
        var i = from
        while true {
            let all = await store.messages
            while i < all.count {
                if let v = match(all[i]) { return (v, i) }
                i += 1
            }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    func stop() async {
        task.cancel()
        _ = await task.value
    }
}

/// Destroys a domain by name on `conn`, ignoring "no such domain".
func destroyQuietly(_ conn: Connection, _ name: String) async {
    if let d = try? await conn.domain(named: name) {
        try? await d.destroy()
        try? await d.undefine()
    }
}

