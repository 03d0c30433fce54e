import Foundation
import Libvirt
import Testing
import Tuning
import VirtKitTestSupport

/// Own test-driver hosts (`test:///ABS/node.xml`) and host-file trees for the step tests.
enum StepFixtures {
    /// A node file holding `domains` (each a `<domain type='test'>` document) and a
    /// connection to it; the caller closes it.
    static func node(_ domains: [String], tag: String) async throws -> (Connection, String) {
        let dir = NSTemporaryDirectory() + "virtkit-steps-\(tag)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/node.xml"
        let xml = "<node>\n<cpu><mhz>2400</mhz><model>x86_64</model><active>16</active><nodes>1</nodes><sockets>1</sockets><cores>16</cores><threads>1</threads></cpu>\n<memory>16777216</memory>\n"
            + domains.joined(separator: "\n") + "\n</node>\n"
        try xml.write(toFile: path, atomically: true, encoding: .utf8)
        let uri = "test://" + path
        return (try await Connection.open(uri), uri)
    }

    /// A temporary host root holding `files` (path → content).
    static func hostRoot(_ files: [String: String]) throws -> String {
        let dir = NSTemporaryDirectory() + "virtkit-steps-root-\(getpid())-\(UUID().uuidString.prefix(8))"
        for (path, content) in files {
            let full = dir + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try content.write(toFile: full, atomically: false, encoding: .utf8)
        }
        return dir
    }

    static func read(_ root: String, _ path: String) -> String? {
        (try? String(contentsOfFile: root + path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func journalPath() -> String { NSTemporaryDirectory() + "virtkit-steps-\(UUID().uuidString).journal.json" }
}
