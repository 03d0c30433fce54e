import Foundation
import HostProbe
import Libvirt
import LibvirtXML
import Testing
import VirtCore
import VirtKitTestSupport

// Nested in the serialized lab scenarios: another of them restarts host B.
extension LabScenarioTests {
    /// Host B's capabilities, read remotely, against what B is: its own host UUID (the one the
    /// lab wrote into B's libvirtd.conf, not host A's), this machine's CPUs as /sys describes them
    /// (B is a daemon in its own namespaces on the same hardware), its hostname; and `virtkit host`
    /// against B reporting the same.
    @Suite struct HostCapabilitiesLabTests {
        /// `host_uuid = "…"` from B's libvirtd.conf, as `lab.sh` wrote it.
        static func configuredUUID() throws -> String {
            let lab = ProcessInfo.processInfo.environment["VIRTKIT_LAB_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/lib/virtkit-lab"
            let conf = try String(contentsOfFile: lab + "/hostb/etc/libvirtd.conf", encoding: .utf8)
            let line = try #require(conf.split(separator: "\n").last { $0.hasPrefix("host_uuid") })
            return try #require(line.split(separator: "\"").dropFirst().first.map(String.init))
        }

        @Test func hostBCapabilitiesDescribeHostB() async throws {
            guard let lab = await Lab.shared() else { return }
            let b = try await Connection.open(lab.b.uri, readOnly: true)
            let a = try await Connection.open(lab.a.uri, readOnly: true)
            let caps = try HostCapabilities(parsing: try await b.capabilitiesXML())
            let capsA = try HostCapabilities(parsing: try await a.capabilitiesXML())
            let info = try await b.nodeInfo()
            let hostname = try await b.hostname()
            await a.close()
            await b.close()

            let uuid = try #require(try caps.host.uuid.value)
            #expect(uuid == LibvirtUUID(try Self.configuredUUID()))
            #expect(uuid != (try capsA.host.uuid.value))
            #expect(hostname == lab.b.name)

            // The same hardware as this machine's /sys.
            var uts = utsname()
            uname(&uts)
            let machine = withUnsafeBytes(of: &uts.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            #expect(try caps.host.cpu.arch.value == machine)
            let probed = try await HostProber(rootPath: "/").snapshot(sections: [.topology, .numa]).hostTopology
            let live = try #require(probed)
            let fromCaps = try caps.hostTopology()
            let liveOnline = live.cpus.filter(\.online)
            #expect(fromCaps.cpus.map(\.id) == liveOnline.map(\.id))
            #expect(info.cpus == liveOnline.count)
            for (c, l) in zip(fromCaps.cpus, liveOnline) {
                #expect(c.package == l.package, "cpu \(c.id)")
                #expect(c.core == l.core, "cpu \(c.id)")
                #expect(c.threadSiblings == l.threadSiblings, "cpu \(c.id)")
            }
            #expect(fromCaps.nodes.map(\.id) == live.nodes.map(\.id))
            #expect(fromCaps.nodes.map(\.cpus) == live.nodes.map(\.cpus))
            #expect(try caps.host.migrationFeatures.live.value == true)

            // `virtkit host` against B, as an operator would run it.
            let binary = LiveEnvironment.packageRoot(from: #filePath).appendingPathComponent(".build/debug/virtkit").path
            guard FileManager.default.isExecutableFile(atPath: binary) else {
                LiveEnvironment.unavailable("\(binary) is not built (swift build --build-tests)")
                return
            }
            let (rc, out, err) = await withCheckedContinuation { c in
                Thread { c.resume(returning: spawnAndWait(binary, ["host", "--uri", lab.b.uri, "--json"])) }.start()
            }
            #expect(rc == 0, "\(err)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
            #expect(json["hostUUID"] as? String == uuid.description)
            #expect(json["hostname"] as? String == lab.b.name)
            #expect(json["nodeCPUs"] as? Int == liveOnline.count)
            let domcaps = try #require(json["domainCapabilities"] as? [String: Any], "qemu driver: domain capabilities expected")
            #expect((domcaps["cpuModes"] as? [String: Bool])?["host-passthrough"] != nil)
        }
    }
}
