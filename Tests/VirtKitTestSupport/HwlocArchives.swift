import Foundation
import Testing

/// The hwloc 2.9.0 Linux sysfs archives of `$VIRTKIT_CORPUS`, each extracted once into a
/// temporary folder that later runs reuse (a `.complete` marker makes a half-extracted
/// tree invisible).
public enum HwlocArchives {
    /// The corpus folder of the archives, or nil (with the loud skip) when it is missing.
    public static func folder() -> URL? { LiveEnvironment.corpus("hwloc-2.9.0/linux") }

    /// Names of every archive (without `.tar.bz2`), sorted.
    public static func names(in folder: URL) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return files.filter { $0.hasSuffix(".tar.bz2") }.map { String($0.dropLast(8)) }.sorted()
    }

    /// The root of archive `name` (its single top folder), extracting it first if needed.
    public static func root(of name: String, in folder: URL) throws -> String {
        let target = NSTemporaryDirectory() + "virtkit-hwloc-\(name)"
        if !FileManager.default.fileExists(atPath: target + "/.complete") {
            let staging = target + ".part-\(getpid())-\(UUID().uuidString)"
            try? FileManager.default.removeItem(atPath: staging)
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
            let (status, _, _) = spawnAndWait("/usr/bin/tar", ["-xjf", folder.appendingPathComponent("\(name).tar.bz2").path, "-C", staging])
            guard status == 0 else { throw ExtractionFailed(name: name, status: status) }
            _ = FileManager.default.createFile(atPath: staging + "/.complete", contents: nil)
            // Another process may have finished first; either tree is whole.
            if rename(staging, target) != 0 { try? FileManager.default.removeItem(atPath: staging) }
        }
        let top = try FileManager.default.contentsOfDirectory(atPath: target).filter { !$0.hasPrefix(".") }
        guard top.count == 1 else { throw ExtractionFailed(name: name, status: -1) }
        return target + "/" + top[0]
    }

    public struct ExtractionFailed: Error, CustomStringConvertible {
        public var name: String
        public var status: Int32
        public var description: String { "extracting hwloc archive \(name) failed (tar status \(status))" }
    }
}
