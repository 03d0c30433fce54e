import Foundation
import Testing
import HostProbe
import VirtKitTestSupport

/// Paths of the committed fixture trees.
enum Fixtures {
    static let dir = LiveEnvironment.packageRoot().appendingPathComponent("Tests/HostProbeTests/Fixtures")

    /// Every tree, materialised once per test run (`FixtureTree`, the one documented way).
    static let materialized: String = {
        do { return try FixtureTree.materializeAll(from: dir, tag: "hostprobe") } catch {
            Issue.record("cannot materialise the fixture trees: \(error)")
            return "/nonexistent-fixtures"
        }
    }()

    static func path(_ name: String) -> String { materialized + "/" + name }
    static func root(_ name: String) -> ProbeRoot { ProbeRoot(path: path(name)) }
    static func probe(_ name: String, _ sections: Set<ProbeSection> = Set(ProbeSection.allCases)) throws -> HostSnapshot {
        try HostProber(root: root(name)).snapshotSync(sections: sections)
    }
    static let captured = "captured-epyc-kvm-guest-2cpu"
}

/// Runs a shell command; returns (status, stdout+stderr).
@discardableResult
func shell(_ command: String) -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    do { try p.run() } catch { return (-1, "\(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A fresh empty temporary directory.
func makeTempDir(_ tag: String) -> String {
    let path = NSTemporaryDirectory() + "virtkit-hostprobe-\(tag)-\(getpid())-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
