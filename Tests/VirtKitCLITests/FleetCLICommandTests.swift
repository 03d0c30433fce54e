import Foundation
import Testing
import VirtKitTestSupport

/// `virtkit doctor DOMAIN --migrate-to URI` and `virtkit fleet rebalance --dry-run` as the
/// built binary, on private test-driver hosts: findings and plans (text and JSON), exit status.
@Suite struct FleetCLICommandTests {
    static func node(_ name: String, _ body: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vk-doctor-migrate-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("\(name).xml")
        try """
        <node><cpu><mhz>2400</mhz><model>x86_64</model><active>2</active><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads></cpu>
        <memory>4194304</memory>\(body)</node>
        """.write(to: url, atomically: true, encoding: .utf8)
        return "test://" + url.path
    }

    @Test func theMigrationPreflightFromDoctorPassesOrBlocksWithExitTwo() async throws {
        guard let cli = ObjectCommandTests.cli() else { return }
        let source = try Self.node("a", """
        <domain type='test'><name>web</name><uuid>5d1c7f9e-0000-4000-8000-00000000d0c7</uuid><memory unit='MiB'>256</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices>
          <disk type='file' device='disk'><source file='/local/web.img'/><target dev='vda'/></disk>
          <interface type='network'><source network='prod'/></interface></devices></domain>
        """)
        let withNetwork = try Self.node("b", "<network><name>prod</name><bridge name='virbr8'/></network>")
        let without = try Self.node("c", "")

        // JSON, by UUID: the report; nothing blocks (the local disk needs copy-storage: a warning).
        let ok = await ObjectCommandTests.run(cli, ["doctor", "5d1c7f9e-0000-4000-8000-00000000d0c7", "--uri", source, "--migrate-to", withNetwork, "--json"])
        #expect(ok.status == 0, "\(ok.err)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(ok.out.utf8)) as? [String: Any], "not JSON: \(ok.out)")
        #expect(report["guest"] as? String == "web" && report["needsCopyStorage"] as? Bool == true)
        let findings = try #require(report["findings"] as? [[String: Any]])
        let verdicts = Dictionary(findings.compactMap { f in (f["check"] as? String).map { ($0, f["verdict"] as? String ?? "") } }, uniquingKeysWith: { a, _ in a })
        #expect(verdicts["networks"] == "pass" && verdicts["disks"] == "warning" && verdicts["destination"] == "pass", "\(verdicts)")

        // Text: the missing network blocks; exit status 2 (doctor's "critical").
        let blocked = await ObjectCommandTests.run(cli, ["doctor", "web", "--uri", source, "--migrate-to", without])
        #expect(blocked.status == 2, "\(blocked.out) \(blocked.err)")
        #expect(blocked.out.contains("BLOCKER  networks: network prod is missing on the destination"), "\(blocked.out)")
        #expect(blocked.out.contains("network prod: missing") && blocked.out.hasSuffix("blocked\n"), "\(blocked.out)")
        #expect(blocked.out.contains("PASS     destination: \(without) answers"), "findings name the hosts by URI: \(blocked.out)")

        // An unknown guest is one line on stderr, status 1; --tls needs --migrate-to.
        let unknown = await ObjectCommandTests.run(cli, ["doctor", "nope", "--uri", source, "--migrate-to", withNetwork])
        #expect(unknown.status == 1 && unknown.err.contains("nope on \(source)"), "\(unknown.err)")
        let misuse = await ObjectCommandTests.run(cli, ["doctor", "web", "--uri", source, "--tls"])
        #expect(misuse.status != 0 && misuse.err.contains("--tls goes with --migrate-to"), "\(misuse.err)")
    }

    @Test func rebalanceDryRunPlansMovesOffTheLoadedHost() async throws {
        guard let cli = ObjectCommandTests.cli() else { return }
        let guests = (0..<3).map { i in
            "<domain type='test'><name>busy-\(i)</name><memory unit='MiB'>1024</memory><vcpu>1</vcpu>"
                + (i == 0 ? "<cputune><vcpupin vcpu='0' cpuset='1'/></cputune>" : "") + "<os><type>hvm</type></os></domain>"
        }.joined()
        let loaded = try Self.node("loaded", guests), idle = try Self.node("idle", "")

        let json = await ObjectCommandTests.run(cli, ["fleet", "rebalance", "--host", loaded, "--host", idle, "--dry-run", "--json", "--tolerance", "0"])
        #expect(json.status == 0, "\(json.err)")
        let plan = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any], "not JSON: \(json.out)")
        let moves = try #require(plan["moves"] as? [[String: Any]])
        #expect(!moves.isEmpty && moves.allSatisfy { $0["source"] as? String == loaded && $0["target"] as? String == idle }, "\(moves)")
        let before = try #require(plan["spreadBefore"] as? Double), after = try #require(plan["spreadAfter"] as? Double)
        #expect(after < before && plan["objective"] as? String == "even memory")

        // Free node 0 of the loaded host: the pinned guest goes; text names it.
        let text = await ObjectCommandTests.run(cli, ["fleet", "rebalance", "--host", loaded, "--host", idle, "--dry-run", "--free-node", loaded + ":0"])
        #expect(text.status == 0, "\(text.err)")
        #expect(text.out.contains("objective: free node 0 of \(loaded)") && text.out.contains("busy-0: \(loaded) → \(idle)"), "\(text.out)")
        #expect(!text.out.contains("busy-1:"), "\(text.out)")

        let bad = await ObjectCommandTests.run(cli, ["fleet", "rebalance", "--host", loaded, "--dry-run", "--objective", "disk"])
        #expect(bad.status == 1 && bad.err.contains("--objective wants memory or cpu"), "\(bad.err)")
    }
}
