import Foundation
import Testing
import VirtKitTestSupport

/// The object commands and `virtkit admin` run as the built binary (`.build/debug/virtkit`):
/// object kinds on a private test-driver node (`test:///ABS/node.xml`), admin against the
/// real libvirtd (its own process: libvirt-admin and libvirt connections can't share one).
@Suite struct ObjectCommandTests {
    static func cli(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        let path = LiveEnvironment.packageRoot(from: #filePath).appendingPathComponent(".build/debug/virtkit").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            LiveEnvironment.unavailable("no built CLI at \(path) (swift build first)", sourceLocation: sourceLocation)
            return nil
        }
        return path
    }

    /// Runs the CLI on a plain thread (never a cooperative one).
    static func run(_ cli: String, _ args: [String]) async -> (status: Int32, out: String, err: String) {
        let (s, o, e) = await withCheckedContinuation { c in Thread { c.resume(returning: spawnAndWait(cli, args)) }.start() }
        return (s, o, e)
    }

    static func node() throws -> (uri: String, dir: URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vk-objcli-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let xml = """
        <node>
          <cpu><mhz>2400</mhz><model>x86_64</model><active>2</active><nodes>1</nodes><sockets>1</sockets><cores>1</cores><threads>2</threads></cpu>
          <memory>4194304</memory>
          <domain type='test'><name>cli-vm</name><memory>524288</memory><vcpu>1</vcpu><os><type>hvm</type></os>
            <devices><disk type='file' device='disk'><source file='/guest/cli.img'/><target dev='vda' bus='virtio'/></disk></devices></domain>
          <pool type='dir'><name>cli-pool</name><capacity>107374182400</capacity><allocation>0</allocation><available>107374182400</available>
            <target><path>/cli-pool</path></target></pool>
          <device><name>computer</name><capability type='system'><hardware><vendor>VirtKit</vendor><uuid>8f2f9c4e-1111-4222-8333-444455556666</uuid></hardware></capability></device>
          <device><name>scsi_host1</name><parent>computer</parent><capability type='scsi_host'><host>1</host><unique_id>0</unique_id></capability></device>
          <network><name>cli-net</name><bridge name='virbr9'/><ip address='192.168.99.1' netmask='255.255.255.0'/></network>
        </node>
        """
        let path = dir.appendingPathComponent("node.xml")
        try xml.write(to: path, atomically: true, encoding: .utf8)
        return ("test://\(path.path)", dir)
    }

    static func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    // The test driver keeps state per process: each CLI run sees the node file's initial
    // state, so every run checks what that one command did in its own output.
    @Test func poolVolumeNetworkAndNodeDevCommands() async throws {
        guard let cli = Self.cli() else { return }
        let (uri, dir) = try Self.node()
        defer { try? FileManager.default.removeItem(at: dir) }

        let pools = try #require(try Self.json(await Self.run(cli, ["pool", "list", "--uri", uri, "--json"]).out) as? [[String: Any]])
        #expect(pools.map { $0["name"] as? String } == ["cli-pool"])
        #expect(pools.first?["capacityBytes"] as? UInt64 == 107_374_182_400 && pools.first?["state"] as? String == "running")
        let info = await Self.run(cli, ["pool", "info", "cli-pool", "--uri", uri])
        #expect(info.status == 0 && info.out.contains("100 GiB"))

        let created = await Self.run(cli, ["vol", "create", "cli-pool", "disk1.img", "--size", "1G", "--uri", uri])
        #expect(created.status == 0 && created.out.hasSuffix("/cli-pool/disk1.img\n"), "\(created)")
        let badSize = await Self.run(cli, ["vol", "create", "cli-pool", "disk2.img", "--size", "lots", "--uri", uri])
        #expect(badSize.status == 1 && badSize.err.contains("bad size lots"))
        let volXML = dir.appendingPathComponent("vol.xml")
        try "<volume><name>from-xml.img</name><capacity unit='MiB'>64</capacity></volume>".write(to: volXML, atomically: true, encoding: .utf8)
        #expect(await Self.run(cli, ["vol", "create", "cli-pool", "--xml", volXML.path, "--uri", uri]).out.contains("from-xml.img"))
        let missing = await Self.run(cli, ["vol", "delete", "cli-pool", "nope.img", "--uri", uri])
        #expect(missing.status == 1 && missing.err.contains("VIR_ERR_NO_STORAGE_VOL"), "\(missing)")

        let nets = try #require(try Self.json(await Self.run(cli, ["net", "list", "--uri", uri, "--json"]).out) as? [[String: Any]])
        #expect(nets.map { $0["name"] as? String } == ["cli-net"] && nets.first?["bridge"] as? String == "virbr9")
        #expect(await Self.run(cli, ["net", "xml", "cli-net", "--uri", uri]).out.contains("192.168.99.1"))
        #expect(await Self.run(cli, ["net", "stop", "nope", "--uri", uri]).status == 1)

        let devs = try #require(try Self.json(await Self.run(cli, ["nodedev", "list", "--uri", uri, "--json"]).out) as? [[String: Any]])
        #expect(devs.map { $0["name"] as? String } == ["computer", "scsi_host1"])
        let scsi = try #require(try Self.json(await Self.run(cli, ["nodedev", "list", "--cap", "scsi_host", "--uri", uri, "--json"]).out) as? [[String: Any]])
        #expect(scsi.map { $0["name"] as? String } == ["scsi_host1"] && scsi.first?["parent"] as? String == "computer")
    }

    @Test func snapshotAndHotplugCommands() async throws {
        guard let cli = Self.cli() else { return }
        let (uri, dir) = try Self.node()
        defer { try? FileManager.default.removeItem(at: dir) }
        let made = await Self.run(cli, ["snapshot", "create", "cli-vm", "snap1", "--description", "before <upgrade>", "--uri", uri])
        #expect(made.status == 0 && made.out == "snap1\n", "\(made)")
        let none = try #require(try Self.json(await Self.run(cli, ["snapshot", "list", "cli-vm", "--uri", uri, "--json"]).out) as? [Any])
        #expect(none.isEmpty)  // a new process: the test driver starts again from the node file
        #expect(await Self.run(cli, ["snapshot", "revert", "cli-vm", "nope", "--uri", uri]).err.contains("VIR_ERR_NO_DOMAIN_SNAPSHOT"))
        // Hotplug is not in the 9.0 test driver: the typed error reaches the operator.
        let disk = dir.appendingPathComponent("disk.xml")
        try "<disk type='file' device='disk'><source file='/guest/extra.img'/><target dev='vdb'/></disk>".write(to: disk, atomically: true, encoding: .utf8)
        let attach = await Self.run(cli, ["attach", "cli-vm", disk.path, "--live", "--uri", uri])
        #expect(attach.status == 1 && attach.err.contains("VIR_ERR_NO_SUPPORT"), "\(attach)")
        let both = await Self.run(cli, ["detach", "cli-vm", disk.path, "--alias", "ua-x", "--uri", uri])
        #expect(both.status == 1 && both.err.contains("not both"))
        #expect(await Self.run(cli, ["attach", "cli-vm", "/no/such.xml", "--uri", uri]).err.contains("cannot read /no/such.xml"))
    }

    @Test func adminCommandsAgainstTheDaemon() async throws {
        guard let cli = Self.cli() else { return }
        let servers = await Self.run(cli, ["admin", "servers", "--json"])
        guard servers.status == 0 else {
            LiveEnvironment.unavailable("libvirtd admin socket: \(servers.err)")
            return
        }
        let rows = try #require(try Self.json(servers.out) as? [[String: Any]])
        let libvirtd = try #require(rows.first { $0["name"] as? String == "libvirtd" })
        let maxWorkers = try #require(libvirtd["maxWorkers"] as? Int)
        #expect((libvirtd["workers"] as? Int ?? 0) > 0 && rows.contains { $0["name"] as? String == "admin" })

        // Resize the pool, read it back, restore it.
        let resized = try #require(try Self.json(await Self.run(cli, ["admin", "pool", "libvirtd", "--max", "\(maxWorkers + 1)", "--json"]).out) as? [String: Int])
        #expect(resized["maxWorkers"] == maxWorkers + 1)
        #expect(await Self.run(cli, ["admin", "pool", "libvirtd", "--max", "\(maxWorkers)"]).status == 0)
        let refused = await Self.run(cli, ["admin", "pool", "libvirtd", "--min", "\(maxWorkers + 5)"])
        #expect(refused.status == 1 && refused.err.contains("[VIR_ERR_INVALID_ARG]"), "\(refused)")

        // The CLI's own admin connection is a client of the admin server, with its PID.
        let clients = try #require(try Self.json(await Self.run(cli, ["admin", "clients", "admin", "--json"]).out) as? [[String: Any]])
        #expect(clients.contains { $0["transport"] as? String == "unix" && $0["pid"] != nil })
        let noServer = await Self.run(cli, ["admin", "clients", "nope"])
        #expect(noServer.status == 1 && noServer.err == "Error: Server not found: No server named 'nope' [VIR_ERR_NO_SERVER]\n", "\(noServer)")

        // Log filters: set, read back, restore.
        let before = try #require(try Self.json(await Self.run(cli, ["admin", "log", "--json"]).out) as? [String: String])
        let set = try #require(try Self.json(await Self.run(cli, ["admin", "log", "--filters", "3:remote 4:event", "--json"]).out) as? [String: String])
        #expect(set["filters"]?.contains("3:*remote*") == true, "\(set)")  // the daemon normalizes 3:remote
        #expect(await Self.run(cli, ["admin", "log", "--filters", before["filters"] ?? ""]).status == 0)
        #expect(try #require(try Self.json(await Self.run(cli, ["admin", "log", "--json"]).out) as? [String: String])["filters"] == before["filters"])
        #expect(await Self.run(cli, ["admin", "servers", "--uri", "nosuchd:///system"]).status == 1)
    }
}
