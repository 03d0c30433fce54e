import Foundation
import Testing

/// The two-host lab (`Scripts/lab.sh`), as `status --json` describes it.
public struct Lab: Decodable, Sendable {
    public struct Host: Decodable, Sendable {
        public var name: String
        public var uri: String
        public var migrateURI: String
        public var up: Bool
    }
    public struct Disk: Decodable, Sendable {
        public var name: String
        public var uri: String
        public var up: Bool
        public var errorFile: String?
    }
    public var hosts: [Host]
    public var disks: [Disk]

    public var a: Host { hosts[0] }
    public var b: Host { hosts[1] }
    public func disk(_ name: String) -> Disk? { disks.first { $0.name == name } }

    public static let script = LiveEnvironment.packageRoot(from: #filePath).appendingPathComponent("Scripts/lab.sh").path

    /// The lab, brought up by `Scripts/lab.sh up` (idempotent: fast when it already runs),
    /// or nil after reporting it unavailable (a failure under VIRTKIT_REQUIRE_LIVE=1).
    public static func shared() async -> Lab? {
        await LabCache.shared.get()
    }

    /// Runs `lab.sh ARGS`; returns (status, stdout, stderr). Blocking: call off the cooperative pool.
    @discardableResult
    public static func run(_ args: [String]) -> (Int32, String, String) {
        spawnAndWait("/bin/bash", [script] + args)
    }

    /// `run` on a plain thread, awaited.
    public static func runAsync(_ args: [String]) async -> (Int32, String, String) {
        await withCheckedContinuation { c in
            Thread { c.resume(returning: run(args)) }.start()
        }
    }

    /// The lab's guest XML for `name` on `disk` (`lab.sh xml`); `extra` is the devices
    /// guest's watchdog action.
    public static func guestXML(_ name: String, disk: String, extra: String? = nil) async throws -> String {
        let (rc, out, err) = await runAsync(["xml", name, disk] + (extra.map { [$0] } ?? []))
        guard rc == 0 else { throw LabError("lab.sh xml failed: \(err)") }
        return out
    }
}

public struct LabError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// Brings the lab up once per test process.
/// Brought up once per test process.
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


extension Lab {
    /// Waits (up to 60 s) until a guest on the `busy` disk runs its boot sector's loop
    /// (SeaBIOS's POST takes ~8 s and is itself CPU-bound, so CPU time can't tell): its vCPU
    /// is at 0000:7C00-7C1F in QEMU's `info registers` (HMP through `virsh
    /// qemu-monitor-command`, run on a plain thread).
    public static func waitUntilBusy(uri: String, name: String) async -> Bool {
        await eventually(timeout: .seconds(60), every: .milliseconds(500)) {
            let (rc, out, _) = await withCheckedContinuation { c in
                Thread { c.resume(returning: spawnAndWait("/usr/bin/virsh", ["-c", uri, "qemu-monitor-command", "--hmp", name, "info registers"])) }.start()
            }
            guard rc == 0, out.contains("CS =0000 "), let r = out.range(of: "EIP=00007c"), let digit = out[r.upperBound...].first else { return false }
            return "01".contains(digit)
        }
    }
}
