import Foundation

/// Committed fixture trees (a host's `/sys`, `/proc`, `/dev`) hold no symlinks and no empty
/// directories: sysfs links form cycles that tools walking the package follow forever, and git
/// keeps no empty directories. `<tree>.symlinks` (`path<TAB>target`) and `<tree>.dirs` list
/// them; `materialize` copies a tree and recreates both.
public enum FixtureTree {
    /// Copies the tree `name` under `directory` to `destination` (which must not exist yet)
    /// and recreates its empty directories and symlinks there.
    public static func materialize(_ name: String, from directory: URL, to destination: String) {
        let fm = FileManager.default
        try? fm.copyItem(atPath: directory.appendingPathComponent(name).path, toPath: destination)
        let emptyDirs = (try? String(contentsOf: directory.appendingPathComponent(name + ".dirs"), encoding: .utf8)) ?? ""
        for line in emptyDirs.split(separator: "\n") {
            try? fm.createDirectory(atPath: destination + line, withIntermediateDirectories: true)
        }
        let manifest = (try? String(contentsOf: directory.appendingPathComponent(name + ".symlinks"), encoding: .utf8)) ?? ""
        for line in manifest.split(separator: "\n") {
            let f = line.split(separator: "\t", maxSplits: 1)
            guard f.count == 2 else { continue }
            let at = destination + f[0]
            try? fm.createDirectory(atPath: (at as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try? fm.createSymbolicLink(atPath: at, withDestinationPath: String(f[1]))
        }
    }

    /// The trees (directories) under `directory`.
    public static func names(in directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter {
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path, isDirectory: &isDir) && isDir.boolValue
        }.sorted()
    }
}
