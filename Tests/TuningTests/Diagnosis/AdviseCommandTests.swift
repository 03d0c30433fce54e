import Foundation
import Testing
import VirtKitTestSupport

/// `virtkit advise` through the built binary: the JSON contract (a top-level `findings` array
/// whose objects carry id, severity, subject, evidence, remedies, source) and the exit status
/// (0 when nothing is critical, 2 when something is).
@Suite(.offCooperativePool) struct AdviseCommandTests {
    typealias F = DiagnosisFixtures

    /// A copy of the 2-node fixture tree with the healthy edits, then `edits` (nil deletes).
    static func tree(_ edits: [String: String?]) throws -> String {
        let dst = NSTemporaryDirectory() + "virtkit-advise-\(getpid())-\(UUID().uuidString.prefix(8))"
        let (rc, _, err) = spawnAndWait("/bin/cp", ["-a", F.base("2s4c2t-2n"), dst])
        try #require(rc == 0, "cp: \(err)")
        let baseline = F.healthyEdits.filter { !$0.key.contains("hugepages") || FileManager.default.fileExists(atPath: dst + $0.key) }
        for (path, content) in baseline.merging(edits, uniquingKeysWith: { _, new in new }) {
            let full = dst + path
            try? FileManager.default.removeItem(atPath: full)
            if let content {
                try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data(content.utf8).write(to: URL(fileURLWithPath: full))
            }
        }
        return dst
    }

    static func advise(_ root: String) throws -> (status: Int32, findings: [[String: Any]], stderr: String) {
        let binary = try #require(BuiltCLI.path())
        // A node file of its own: test:///default is shared with the rest of the test process.
        let node = NSTemporaryDirectory() + "virtkit-advise-node-\(getpid())-\(UUID().uuidString.prefix(8)).xml"
        try "<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>1</cores><threads>1</threads></cpu></node>".write(toFile: node, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: node) }
        let (status, out, err) = spawnAndWait(binary, ["advise", "--uri", "test://" + node, "--root", root, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "not JSON: \(out) \(err)")
        let findings = try #require(object["findings"] as? [[String: Any]], "no findings array: \(out)")
        return (status, findings, err)
    }

    @Test func aHostWithoutKVMIsCriticalAndExitsTwo() throws {
        let root = try Self.tree(["/dev/kvm": nil])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (status, findings, err) = try Self.advise(root)
        #expect(status == 2, "\(err)")
        let kvm = try #require(findings.first { $0["id"] as? String == "host.kvm.unusable" })
        #expect(kvm["severity"] as? String == "critical")
        for key in ["id", "severity", "subject", "evidence", "remedies", "source"] {
            #expect(kvm[key] != nil, "finding without '\(key)': \(kvm)")
        }
        #expect((kvm["evidence"] as? [Any])?.isEmpty == false)
    }

    @Test func aHealthyHostExitsZero() throws {
        let root = try Self.tree([:])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (status, findings, err) = try Self.advise(root)
        #expect(status == 0, "\(err) \(findings)")
        #expect(!findings.contains { $0["severity"] as? String == "critical" })
    }
}

/// `virtkit advise --fix`: a captured tree's findings turned into steps written into that
/// tree (`--root` is the host root for writes too), journaled, and undone by `virtkit rollback`.
@Suite struct AdviseFixCommandTests {
    @Test func adviseFixWritesTheSysctlIntoTheTreeAndRollbackRestoresIt() throws {
        let binary = try #require(BuiltCLI.path())
        let root = try AdviseCommandTests.tree(["/proc/sys/vm/swappiness": "60\n"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        // A running test guest so host.swappiness applies ("a host running guests").
        let node = NSTemporaryDirectory() + "virtkit-advise-fix-\(getpid())-\(UUID().uuidString.prefix(8)).xml"
        try """
        <node><cpu><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads></cpu>
        <domain type='test'><name>fix-guest</name><memory unit='MiB'>256</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain></node>
        """.write(toFile: node, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: node) }
        let args = ["advise", "--uri", "test://" + node, "--root", root, "--fix", "--findings", "host.swappiness"]

        let (drc, dry, derr) = spawnAndWait(binary, args + ["--dry-run"])
        #expect(drc == 0, "\(derr)")
        #expect(dry.contains("sysctl vm.swappiness (host): 60 → 10"), "\(dry)")
        #expect(!dry.contains("not applied automatically"), "host.swappiness has one remedy, a step: \(dry)")
        #expect(StepFixtures.read(root, "/proc/sys/vm/swappiness") == "60", "dry run wrote nothing")

        let (jrc, json, jerr) = spawnAndWait(binary, args + ["--dry-run", "--json"])
        #expect(jrc == 0, "\(jerr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
        let steps = try #require((object["plan"] as? [String: Any])?["steps"] as? [[String: Any]], "\(json)")
        #expect(steps.count == 1 && object["unapplied"] is [Any] && (object["remedied"] as? [String]) == ["host.swappiness"], "\(json)")

        let journal = StepFixtures.journalPath()
        let (rc, out, err) = spawnAndWait(binary, args + ["--journal", journal])
        #expect(rc == 0, "\(out) \(err)")
        #expect(StepFixtures.read(root, "/proc/sys/vm/swappiness") == "10")
        let (back, _, backErr) = spawnAndWait(binary, ["rollback", journal])
        #expect(back == 0, "\(backErr)")
        #expect(StepFixtures.read(root, "/proc/sys/vm/swappiness") == "60")
    }

    @Test func fixOptionsNeedFix() throws {
        let binary = try #require(BuiltCLI.path())
        let (rc, _, err) = spawnAndWait(binary, ["advise", "--dry-run"])
        #expect(rc != 0 && err.contains("go with --fix"), "\(err)")
        let (rc2, _, err2) = spawnAndWait(binary, ["doctor", "x", "--fix", "--applies", "host-reboot"])
        #expect(rc2 != 0 && err2.contains("live or guest-restart"), "\(err2)")
    }
}
