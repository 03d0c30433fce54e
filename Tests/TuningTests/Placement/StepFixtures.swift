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

    /// A running persistent diskless guest on `uri` for `body`; destroyed and undefined
    /// afterwards. A loud skip when the daemon is not there.
    static func withRunningGuest(on uri: String = "qemu:///system", tag: String, vcpus: Int, extra: String = "",
                                 _ body: (Connection, Domain) async throws -> Void) async throws {
        let connection: Connection
        do { connection = try await Connection.open(uri) } catch {
            LiveEnvironment.unavailable("cannot open \(uri): \(error) (Scripts/start-libvirt.sh)")
            return
        }
        let domain = try await connection.defineDomain(xml: TestGuest.xml(name: TestGuest.uniqueName(tag), vcpus: vcpus, extraDomain: extra))
        var failure: Error?
        do {
            try await domain.start()
            try await body(connection, domain)
        } catch { failure = error }
        if (try? await domain.isActive()) == true { try? await domain.destroy() }
        try? await domain.undefine()
        await connection.close()
        if let failure { throw failure }
    }

    /// A fresh copy of CgroupControl's fixture tree `name` (a cgroup v1/v2 host).
    static func cgroupTree(_ name: String) throws -> String {
        let fixtures = LiveEnvironment.packageRoot(from: #filePath).appendingPathComponent("Tests/CgroupControlTests/Fixtures")
        let root = NSTemporaryDirectory() + "virtkit-steps-cg-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FixtureTree.materialize(name, from: fixtures, into: root)
        return root
    }

    static func journalPath() -> String { NSTemporaryDirectory() + "virtkit-steps-\(UUID().uuidString).journal.json" }
}
