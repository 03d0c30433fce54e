import Foundation
import Testing
@testable import LibvirtXML
import VirtCore
import VirtKitTestSupport

/// The capabilities and domain capabilities of the real qemu:///system daemon: every element
/// and attribute libvirt writes is typed (nothing unmodeled), every value decodes, and the host
/// topology comes out of it.
@Suite("Capabilities of the live daemon", .offCooperativePool)
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

    /// Parses `xml` as `V`: byte-identical, every value valid, nothing unmodeled.
    static func fullyTyped<V: DocumentView>(_ xml: String, as _: V.Type) throws -> V {
        let view = try V(parsing: xml)
        #expect(view.serialize() == xml)
        #expect(view.validate().isEmpty, "\(view.validate())")
        let report = view.coverage()
        #expect(report.passthrough.isEmpty, "unmodeled: \(report.top(20))")
        return view
    }

    @Test func hostCapabilitiesAreFullyTyped() throws {
        guard let xml = Self.virsh(["capabilities"]) else { return }
        let topology = try Self.fullyTyped(xml, as: HostCapabilities.self).hostTopology()
        #expect(!topology.cpus.isEmpty)
        #expect(!topology.nodes.isEmpty)
        // Every listed CPU belongs to exactly one node.
        #expect(topology.nodes.reduce(0) { $0 + $1.cpus.count } == topology.cpus.count)
    }

    @Test func domainCapabilitiesAreFullyTyped() throws {
        guard let xml = Self.virsh(["domcapabilities"]) else { return }
        let caps = try Self.fullyTyped(xml, as: DomainCapabilities.self)
        #expect(try caps.devices.disk.values(of: "bus")?.contains("virtio") == true)
    }
}
