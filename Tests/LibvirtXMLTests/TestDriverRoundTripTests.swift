import Foundation
import Testing
@testable import LibvirtXML
import VirtCore
import VirtKitTestSupport

/// Builder output defined on libvirt's test driver (`virsh -c test:///default`, one process so
/// the driver's state lives through the commands) and read back: libvirt's own XML for the
/// object parses, is fully typed, and carries the values the builder set.
@Suite("Builder output through libvirt's test driver", .offCooperativePool)
struct TestDriverRoundTripTests {
    /// Defines `xml` with `define` and returns libvirt's XML of the object (`dump`).
    static func defineAndDump(_ xml: String, define: String, dump: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        guard let (status, out, err) = spawnOnTemporaryFile(xml, "/usr/bin/virsh", package: "Debian libvirt-clients",
                                                            arguments: { ["-q", "-c", "test:///default", "\(define) \($0); \(dump)"] },
                                                            sourceLocation: sourceLocation) else { return nil }
        #expect(status == 0, "virsh: \(err)", sourceLocation: sourceLocation)
        return status == 0 ? out : nil
    }

    static func typed<V: DocumentView>(_ xml: String, as _: V.Type) throws -> V {
        let view = try V(parsing: xml)
        #expect(view.validate().isEmpty, "\(view.validate())")
        #expect(view.coverage().passthrough.isEmpty, "unmodeled: \(view.coverage().top(10))")
        return view
    }

    @Test func directoryPool() throws {
        let pool = StoragePoolDefinition(directory: "virtkit-images", path: "/var/lib/virtkit/images")
        guard let back = Self.defineAndDump(pool.serialize(), define: "pool-define", dump: "pool-dumpxml virtkit-images") else { return }
        let read = try Self.typed(back, as: StoragePoolDefinition.self)
        #expect(try read.type.value == .dir)
        #expect(try read.name.value == "virtkit-images")
        #expect(try read.target.path.value == "/var/lib/virtkit/images")
        #expect(try read.uuid.value != nil)
        #expect(try read.capacity.value != nil)
    }

    @Test func qcow2Volume() throws {
        let vol = StorageVolumeDefinition(qcow2: "virtkit.qcow2", capacity: .gibibytes(2))
        guard let back = Self.defineAndDump(vol.serialize(), define: "vol-create default-pool", dump: "vol-dumpxml --pool default-pool virtkit.qcow2") else { return }
        let read = try Self.typed(back, as: StorageVolumeDefinition.self)
        #expect(try read.name.value == "virtkit.qcow2")
        #expect(try read.capacity.value == .gibibytes(2))
    }

    @Test func natNetwork() throws {
        let net = NetworkDefinition(nat: "virtkit-nat", bridge: "virbr77", address: "192.168.177.1", prefix: 24,
                                    dhcpStart: "192.168.177.2", dhcpEnd: "192.168.177.254")
        net.ips[0].dhcp.ranges[0].lease.expiry.set(.limited(.seconds(3600)))
        guard let back = Self.defineAndDump(net.serialize(), define: "net-define", dump: "net-dumpxml virtkit-nat") else { return }
        let read = try Self.typed(back, as: NetworkDefinition.self)
        #expect(try read.forward.mode.value == .nat)
        #expect(try read.bridge.name.value == "virbr77")
        #expect(try read.ips[0].prefix.value == 24)
        #expect(try read.ips[0].dhcp.ranges[0].start.value == "192.168.177.2")
        #expect(try read.ips[0].dhcp.ranges[0].lease.expiry.value == .limited(.seconds(3600)))
    }
}
