import Foundation

/// The one way to use an in-repo fixture tree (`Tests/<Module>Tests/Fixtures/<tree>`):
/// materialise it into a temporary directory.
///
/// The committed trees hold no symlinks (sysfs links form cycles that tools walking the
/// package would follow forever) and git keeps no empty directories; `<tree>.symlinks`
/// (`path<TAB>target` lines) and `<tree>.dirs` list them. A tree read in place silently gives
/// wrong answers (an IOMMU group without members, a CPU without cpufreq), so HostProbe
/// refuses a root whose manifest's links are missing (`HostProbeError.fixtureNotMaterialized`).
public enum FixtureTree {
    /// Copies every tree under `fixtures` into a fresh temporary directory, recreating the
    /// empty directories and symlinks of each manifest; returns that directory.
    public static func materializeAll(from fixtures: URL, tag: String) throws -> String {
        let fm = FileManager.default
        let tmp = NSTemporaryDirectory() + "virtkit-fixtures-\(tag)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try fm.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        for name in try fm.contentsOfDirectory(atPath: fixtures.path).sorted() {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: fixtures.appendingPathComponent(name).path, isDirectory: &isDir), isDir.boolValue else { continue }
            try materialize(name, from: fixtures, into: tmp + "/" + name)
        }
        return tmp
    }

    /// Copies the tree `name` of `fixtures` to `destination` (which must not exist) and
    /// recreates its empty directories and symlinks there.
    public static func materialize(_ name: String, from fixtures: URL, into destination: String) throws {
        let fm = FileManager.default
        try fm.copyItem(atPath: fixtures.appendingPathComponent(name).path, toPath: destination)
        let dirs = fixtures.appendingPathComponent(name + ".dirs")
        if fm.fileExists(atPath: dirs.path) {
            for line in try String(contentsOf: dirs, encoding: .utf8).split(separator: "\n") {
                try fm.createDirectory(atPath: destination + line, withIntermediateDirectories: true)
            }
        }
        let links = fixtures.appendingPathComponent(name + ".symlinks")
        if fm.fileExists(atPath: links.path) {
            for line in try String(contentsOf: links, encoding: .utf8).split(separator: "\n") {
                let f = line.split(separator: "\t", maxSplits: 1)
                guard f.count == 2 else { continue }
                let at = destination + f[0]
                try fm.createDirectory(atPath: (at as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try fm.createSymbolicLink(atPath: at, withDestinationPath: String(f[1]))
            }
        }
    }
}
