import Foundation
import HostProbe
import VirtKitTestSupport

/// Paths of the committed fixture trees.
enum Fixtures {
    static let dir = LiveEnvironment.packageRoot().appendingPathComponent("Tests/HostProbeTests/Fixtures")

    /// Each test run copies the trees once into a temporary directory (`FixtureTree`
    /// recreates their symlinks and empty directories).
    static let materialized: String = {
        let tmp = makeTempDir("fixtures")
        for n in FixtureTree.names(in: dir) { FixtureTree.materialize(n, from: dir, to: tmp + "/" + n) }
        return tmp
    }()

    static func path(_ name: String) -> String { materialized + "/" + name }
    static func root(_ name: String) -> ProbeRoot { ProbeRoot(path: path(name)) }
    static func probe(_ name: String, _ sections: Set<ProbeSection> = Set(ProbeSection.allCases)) -> HostSnapshot {
        HostProber(root: root(name)).snapshotSync(sections: sections)
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
