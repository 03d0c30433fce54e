import Foundation
import HostProbe
import VirtKitTestSupport

/// Paths of the committed fixture trees.
enum Fixtures {
    static let dir = LiveEnvironment.packageRoot().appendingPathComponent("Tests/HostProbeTests/Fixtures")

    /// The committed trees hold no symlinks (sysfs links form cycles that tools walking the
    /// package would follow forever); `<tree>.symlinks` lists them. Git keeps no empty
    /// directories; `<tree>.dirs` lists them. Each test run copies the trees once into a
    /// temporary directory and recreates both there.
    static let materialized: String = {
        let tmp = makeTempDir("fixtures")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter {
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).path, isDirectory: &isDir) && isDir.boolValue
        }
        for n in names {
            let dst = tmp + "/" + n
            try? FileManager.default.copyItem(atPath: dir.appendingPathComponent(n).path, toPath: dst)
            let emptyDirs = (try? String(contentsOf: dir.appendingPathComponent(n + ".dirs"), encoding: .utf8)) ?? ""
            for line in emptyDirs.split(separator: "\n") {
                try? FileManager.default.createDirectory(atPath: dst + line, withIntermediateDirectories: true)
            }
            let manifest = (try? String(contentsOf: dir.appendingPathComponent(n + ".symlinks"), encoding: .utf8)) ?? ""
            for line in manifest.split(separator: "\n") {
                let f = line.split(separator: "\t", maxSplits: 1)
                guard f.count == 2 else { continue }
                let at = dst + f[0]
                try? FileManager.default.createDirectory(atPath: (at as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try? FileManager.default.createSymbolicLink(atPath: at, withDestinationPath: String(f[1]))
            }
        }
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
