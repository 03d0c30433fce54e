import Foundation
import Testing
import Libvirt
import VirtKitTestSupport

/// The two-host lab (`Scripts/lab.sh`), as `status --json` describes it.
struct Lab: Decodable, Sendable {
    struct Host: Decodable, Sendable {
        var name: String
        var uri: String
        var migrateURI: String
        var up: Bool
    }
    struct Disk: Decodable, Sendable {
        var name: String
        var uri: String
        var up: Bool
        var errorFile: String?
    }
    var hosts: [Host]
    var disks: [Disk]

    var a: Host { hosts[0] }
    var b: Host { hosts[1] }
    func disk(_ name: String) -> Disk? { disks.first { $0.name == name } }

    static let script = LiveEnvironment.packageRoot(from: #filePath).appendingPathComponent("Scripts/lab.sh").path

    /// The lab, brought up by `Scripts/lab.sh up` (idempotent: fast when it already runs),
    /// or nil after reporting it unavailable (a failure under VIRTKIT_REQUIRE_LIVE=1).
    static func shared() async -> Lab? {
        await LabCache.shared.get()
    }

    /// Runs `lab.sh ARGS`; returns (status, stdout, stderr). Blocking: call off the cooperative pool.
    @discardableResult
    static func run(_ args: [String]) -> (Int32, String, String) {
        spawnAndWait("/bin/bash", [script] + args)
    }

    /// `run` on a plain thread, awaited.
    static func runAsync(_ args: [String]) async -> (Int32, String, String) {
        await withCheckedContinuation { c in
            Thread { c.resume(returning: run(args)) }.start()
        }
    }

    /// The lab's guest XML for `name` on `disk` (`lab.sh xml`); `extra` is the devices
    /// guest's watchdog action.
    static func guestXML(_ name: String, disk: String, extra: String? = nil) async throws -> String {
        let (rc, out, err) = await runAsync(["xml", name, disk] + (extra.map { [$0] } ?? []))
        guard rc == 0 else { throw LabError("lab.sh xml failed: \(err)") }
        return out
    }
}

struct LabError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Brings the lab up once per test process.
actor LabCache {
    static let shared = LabCache()
    private var lab: Lab??

    func get() async -> Lab? {
        if let lab { return lab.flatMap { $0 } }
        let result = await bringUp()
        lab = .some(result)
        return result
    }

    private func bringUp() async -> Lab? {
        guard getuid() == 0 else {
            LiveEnvironment.unavailable("the lab needs root (Scripts/lab.sh up)")
            return nil
        }
        let (rc, out, err) = await Lab.runAsync(["up", "--json"])
        guard rc == 0, let lab = try? JSONDecoder().decode(Lab.self, from: Data(out.utf8)), lab.hosts.count == 2 else {
            LiveEnvironment.unavailable("Scripts/lab.sh up failed (rc \(rc)): \(err.suffix(600))")
            return nil
        }
        return lab
    }
}

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

