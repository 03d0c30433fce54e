import Foundation
import Testing
@testable import LibvirtXML
import VirtCore
import VirtKitTestSupport

/// The capabilities and domain capabilities of the real qemu:///system daemon: every element
/// and attribute libvirt writes is typed (nothing unmodeled), every value decodes, and the host
/// topology comes out of it.
@Suite("Capabilities of the live daemon")
struct LiveCapabilitiesTests {
    static func virsh(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        let virsh = "/usr/bin/virsh"
        guard FileManager.default.isExecutableFile(atPath: virsh) else {
            LiveEnvironment.unavailable("virsh not installed (Debian libvirt-clients)", sourceLocation: sourceLocation)
            return nil
        }
        let (status, out, err) = spawnAndWait(virsh, ["-c", "qemu:///system"] + args)
        guard status == 0 else {
            LiveEnvironment.unavailable("qemu:///system not reachable: \(err)", sourceLocation: sourceLocation)
            return nil
        }
        return out
    }

    @Test func hostCapabilitiesAreFullyTyped() throws {
        guard let xml = Self.virsh(["capabilities"]) else { return }
        let caps = try HostCapabilities(parsing: xml)
        #expect(caps.serialize() == xml)
        #expect(caps.validate().isEmpty, "\(caps.validate())")
        let report = caps.coverage()
        #expect(report.passthrough.isEmpty, "unmodeled: \(report.top(20))")
        let topology = try caps.hostTopology()
        #expect(!topology.cpus.isEmpty)
        #expect(!topology.nodes.isEmpty)
        // Every listed CPU belongs to exactly one node.
        #expect(topology.nodes.reduce(0) { $0 + $1.cpus.count } == topology.cpus.count)
    }

    @Test func domainCapabilitiesAreFullyTyped() throws {
        guard let xml = Self.virsh(["domcapabilities"]) else { return }
        let caps = try DomainCapabilities(parsing: xml)
        #expect(caps.serialize() == xml)
        #expect(caps.validate().isEmpty, "\(caps.validate())")
        let report = caps.coverage()
        #expect(report.passthrough.isEmpty, "unmodeled: \(report.top(20))")
        #expect(try caps.devices.disk.values(of: "bus")?.contains("virtio") == true)
    }
}
