import Foundation
@testable import HostProbe
import Testing
import VirtKitTestSupport
import VirtCore

@Suite("Root confinement, capture, captured host", .offCooperativePool)
struct RootAndCaptureTests {
    @Test func relativeLinksThatClimbOutStayInsideTheRoot() throws {
        let root = Fixtures.root("iommu-sriov")
        // escape -> ../../../../../../../../../etc : `..` clamps at the root, so this is
        // the fixture's /etc, never the host's.
        let viaRelative = Sysctl.read("../../sys/class/net/escape/hostname", root: root)
        #expect(throws: ReadFailure.self, "a sysctl name cannot climb out of /proc/sys") { try viaRelative.get() }
        let text = try #require(try? readUnder(root, "/sys/class/net/escape/hostname"))
        #expect(text == "fixture-inside-root")
        // An absolute target restarts at the root too.
        #expect(try readUnder(root, "/sys/devices/absolute/hostname") == "fixture-inside-root")
        // And a plain `..` walk cannot leave.
        #expect(try readUnder(root, "/../../../../etc/hostname") == "fixture-inside-root")
        // The host's own /etc/hostname is not in the fixture.
        #expect(throws: ReadFailure.missing) { try readUnder(root, "/etc/passwd") }
    }

    @Test func bindMountsShowHostDirectoriesAtVirtualPaths() throws {
        let fx = Fixtures.path("2s4c2t-2n")
        let root = ProbeRoot(path: "/nonexistent-root", binds: [
            .init(virtualPath: "/sys/devices/system", hostPath: fx + "/sys/devices/system"),
            .init(virtualPath: "/proc/cpuinfo", hostPath: fx + "/proc/cpuinfo"),
        ])
        let s = try HostProber(root: root).snapshotSync(sections: [.topology, .numa])
        #expect(s.topology?.cpus.count == 16)
        #expect(s.numa?.nodes.count == 2)
        // cpu0/cpufreq -> ../cpufreq/policy0 resolves inside the bind.
        #expect(s.topology?.cpu(0)?.cpufreq?.governor == "performance")
    }

    @Test(arguments: ["2s4c2t-2n", "iommu-sriov", "offline-nonuma", Fixtures.captured])
    func captureReproducesTheSnapshot(name: String) throws {
        let out = makeTempDir("capture") + "/tree"
        defer { try? FileManager.default.removeItem(atPath: (out as NSString).deletingLastPathComponent) }
        let probe = HostProber(root: Fixtures.root(name))
        let summary = try probe.captureSync(to: out)
        #expect(summary.files > 0)
        #expect(summary.skipped.isEmpty)
        var a = try probe.snapshotSync()
        var b = try HostProber(rootPath: out).snapshotSync()
        a.root = ""; b.root = ""
        #expect(a == b)
        // Capturing into a non-empty directory is refused.
        #expect(throws: CaptureError.self) { try probe.captureSync(to: out) }
    }

    @Test func capturedHostFixture() throws {
        let s = try Fixtures.probe(Fixtures.captured)
        let t = try #require(s.topology)
        #expect(t.cpus.count == 2 && t.online == [0, 1])
        #expect(t.cpuinfo?.architecture == "x86")
        #expect(t.cpuinfo?.vendor == "AuthenticAMD")
        // The nested case virt-host-validate gets wrong: no svm flag, but a hypervisor flag.
        #expect(t.cpuinfo?.hardwareVirtualization == nil)
        #expect(t.cpuinfo?.runsUnderHypervisor == true)
        let c0 = try #require(t.cpu(0))
        #expect(c0.caches.count == 4)
        #expect(c0.caches.first?.size == .kibibytes(48))
        #expect(s.numa?.nodes.map(\.id) == [0])
        #expect(s.numa?.nodes[0].cpus == [0, 1])
        #expect(s.kvm?.device.present == true)
        #expect(s.kvm?.tun.present == true && s.kvm?.vhostNet.present == false)
        #expect(s.kvm?.cgroups.mode == "hybrid")
        let eth0 = try #require(s.network?.interfaces.first { $0.name == "eth0" })
        #expect(eth0.driver == "virtio_net" && eth0.pciAddress == nil && !eth0.isVirtual)
        #expect(s.network?.interfaces.first { $0.name == "lo" }?.isVirtual == true)
        #expect(s.pci?.devices.count == 6)
        #expect(s.pci?.device("0000:00:03.0")?.driver == "virtio-pci")
        #expect(s.block?.devices.first { $0.name == "vda" }?.scheduler?.active == "mq-deadline")
        #expect(s.diagnostics.isEmpty, "\(s.diagnostics)")
        // libvirt would report this as 1 node, 1 socket, 2 cores, 1 thread.
        #expect(s.hostNodeInfo?.description.hasPrefix("CPUs: 2/2") == true)
    }

    @Test func sectionsAreIndependent() throws {
        let s = try Fixtures.probe("2s4c2t-2n", [.memory])
        #expect(s.memory != nil)
        #expect(s.topology == nil && s.numa == nil && s.kvm == nil && s.pci == nil)
    }

    @Test func asyncSnapshotMatchesSync() async throws {
        let probe = HostProber(root: Fixtures.root("2s4c2t-2n"))
        let a = try await probe.snapshot()
        #expect(a == (try Fixtures.probe("2s4c2t-2n")))
    }

    @Test func stableJSONKeys() throws {
        let s = try Fixtures.probe("2s4c2t-2n", [.topology, .numa])
        let obj = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(s)) as? [String: Any])
        let cpus = try #require((obj["topology"] as? [String: Any])?["cpus"] as? [[String: Any]])
        for key in ["id", "online", "package", "die", "core", "node", "threadSiblings"] {
            #expect(cpus[0][key] != nil, "topology.cpus[].\(key)")
        }
        #expect(cpus[3]["threadSiblings"] as? String == "3,11")
        let nodes = try #require((obj["numa"] as? [String: Any])?["nodes"] as? [[String: Any]])
        for key in ["id", "cpus", "memTotal", "distances", "hugepages"] {
            #expect(nodes[0][key] != nil, "numa.nodes[].\(key)")
        }
        let hp = try #require(nodes[0]["hugepages"] as? [[String: Any]])
        #expect(Set(hp[0].keys).isSuperset(of: ["size", "total", "free"]))
        #expect(obj["diagnostics"] is [Any])
    }
}

/// Reads one file under `root` through HostProbe's resolver.
func readUnder(_ root: ProbeRoot, _ path: String) throws(ReadFailure) -> String {
    try SourceReader(root: root).read(path).get().trimmingCharacters(in: .whitespacesAndNewlines)
}
