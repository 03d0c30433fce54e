import Foundation
import Testing
import DomainXML
@testable import LibvirtXML
import VirtCore
import VirtKitTestSupport

/// Every builder's output is valid for libvirt's RNG schema (`virt-xml-validate`), reads back
/// the values it was built from, and round-trips through a re-parse.
@Suite("Builders produce schema-valid documents", .offCooperativePool)
struct BuilderSchemaTests {
    /// `virt-xml-validate FILE SCHEMA`: nil when valid, else its message; a loud skip (or a
    /// failure under VIRTKIT_REQUIRE_LIVE=1) when the tool is missing.
    static func schemaErrors(_ xml: String, schema: String, sourceLocation: SourceLocation = #_sourceLocation) -> String?? {
        guard let (status, out, err) = spawnOnTemporaryFile(xml, "/usr/bin/virt-xml-validate", package: "Debian libvirt-clients + libxml2-utils",
                                                            arguments: { [$0, schema] }, sourceLocation: sourceLocation) else { return .none }
        return .some(status == 0 ? nil : out + err)
    }

    static func expectValid(_ xml: String, schema: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let result = schemaErrors(xml, schema: schema, sourceLocation: sourceLocation) else { return }
        #expect(result == nil, "\(schema) rejected:\n\(xml)\n\(result ?? "")", sourceLocation: sourceLocation)
    }

    @Test func storagePools() throws {
        let dir = StoragePoolDefinition(directory: "images", path: "/var/lib/virtkit/images")
        Self.expectValid(dir.serialize(), schema: "storagepool")
        let again = try StoragePoolDefinition(parsing: dir.serialize())
        #expect(try again.type.value == .dir)
        #expect(try again.target.path.value == "/var/lib/virtkit/images")
        #expect(again.validate().isEmpty)

        let logical = StoragePoolDefinition(logical: "vg", volumeGroup: "vg0", devices: ["/dev/sdb", "/dev/sdc"])
        Self.expectValid(logical.serialize(), schema: "storagepool")
        #expect(try StoragePoolDefinition(parsing: logical.serialize()).source.devices.map { try $0.path.value } == ["/dev/sdb", "/dev/sdc"])

        let netfs = StoragePoolDefinition(netfs: "nfs", host: "nas.example.com", exportPath: "/export/vm", path: "/mnt/vm")
        Self.expectValid(netfs.serialize(), schema: "storagepool")

        let secret = try #require(LibvirtUUID("2ec115d7-3a88-3ceb-bc12-0ac909a6fd87"))
        let rbd = StoragePoolDefinition(rbd: "ceph", cephPool: "rbd", monitors: ["mon1.example.com", "mon2.example.com"], user: "admin", secret: secret)
        Self.expectValid(rbd.serialize(), schema: "storagepool")
        #expect(try StoragePoolDefinition(parsing: rbd.serialize()).source.auth.secret.uuid.value == secret)
    }

    @Test func qcow2VolumeWithBackingFile() throws {
        let vol = StorageVolumeDefinition(qcow2: "overlay.qcow2", capacity: .gibibytes(20), backingFile: "/var/lib/virtkit/images/base.qcow2")
        Self.expectValid(vol.serialize(), schema: "storagevol")
        let again = try StorageVolumeDefinition(parsing: vol.serialize())
        #expect(try again.capacity.value == .gibibytes(20))
        #expect(try again.target.format.type.value == "qcow2")
        #expect(try again.backingStore.path.value == "/var/lib/virtkit/images/base.qcow2")
        #expect(try again.backingStore.format.type.value == "qcow2")
        let plain = StorageVolumeDefinition(qcow2: "plain.qcow2", capacity: .mebibytes(512))
        Self.expectValid(plain.serialize(), schema: "storagevol")
        #expect(!plain.backingStore.exists)
    }

    @Test func networks() throws {
        let nat = NetworkDefinition(nat: "natnet", bridge: "virbr10", address: "192.168.150.1", prefix: 24, dhcpStart: "192.168.150.2", dhcpEnd: "192.168.150.254")
        Self.expectValid(nat.serialize(), schema: "network")
        let again = try NetworkDefinition(parsing: nat.serialize())
        #expect(try again.forward.mode.value == .nat)
        #expect(try again.ips[0].dhcp.ranges[0].end.value == "192.168.150.254")

        let isolated = NetworkDefinition(isolated: "isolated", bridge: "virbr11", address: "10.10.0.1", prefix: 16, dhcpStart: "10.10.0.10", dhcpEnd: "10.10.0.100")
        Self.expectValid(isolated.serialize(), schema: "network")
        #expect(!(try NetworkDefinition(parsing: isolated.serialize())).forward.exists)

        let bridged = NetworkDefinition(hostBridge: "lan", bridge: "br0")
        Self.expectValid(bridged.serialize(), schema: "network")

        // Lease times are durations; 0 is a lease that never expires.
        let lease = nat.ips[0].dhcp.ranges[0].lease
        lease.expiry.set(.limited(.seconds(7200)))
        #expect(nat.serialize().contains("<lease expiry='2' unit='hours'/>"))
        lease.expiry.set(.unlimited)
        #expect(nat.serialize().contains("<lease expiry='0' unit='hours'/>"))
        #expect(try lease.expiry.value == .unlimited)
        Self.expectValid(nat.serialize(), schema: "network")
    }

    @Test func externalSnapshotOfEveryDisk() throws {
        let snap = DomainSnapshotDefinition(external: "before-upgrade", diskNames: ["vda", "vdb"], files: ["vdb": "/var/lib/virtkit/vdb.snap"], description: "pre-upgrade")
        Self.expectValid(snap.serialize(), schema: "domainsnapshot")
        let again = try DomainSnapshotDefinition(parsing: snap.serialize())
        #expect(try again.disks.disks.map { try $0.snapshot.value } == ["external", "external"])
        #expect(try again.disks.disks[1].source.file.value == "/var/lib/virtkit/vdb.snap")
        #expect(try again.memory.snapshot.value == "no")
    }

    @Test func secret() throws {
        let s = SecretDefinition(usage: .ceph("client.admin secret"), description: "Ceph admin key")
        Self.expectValid(s.serialize(), schema: "secret")
        #expect(try SecretDefinition(parsing: s.serialize()).usage.name.value == "client.admin secret")
        let v = SecretDefinition(usage: .volume(path: "/var/lib/virtkit/enc.qcow2"))
        Self.expectValid(v.serialize(), schema: "secret")
    }

    @Test func pciHostdevFromANodeDevice() throws {
        guard let dir = LiveEnvironment.corpus("libvirt-9.0.0/xml/nodedev") else { return }
        let device = try NodeDeviceDefinition(parsing: [UInt8](try Data(contentsOf: dir.appendingPathComponent("pci_8086_10c9_sriov_pf.xml"))))
        let hostdev = try #require(try device.pciHostdev())
        #expect(hostdev.xmlString.contains("<hostdev mode='subsystem' type='pci' managed='yes'>"))
        let domain = DomainDefinition(type: .kvm, name: "passthrough", memory: .gibibytes(1), vcpus: 1, arch: "x86_64", machine: "q35")
        domain.devices.hostdevs.append(hostdev)
        Self.expectValid(domain.serialize(), schema: "domain")
        let pci = try #require(try device.capability("pci"))
        let address = try DomainDefinition(parsing: domain.serialize()).devices.hostdevs[0].source.address
        #expect(try address.bus.value.map(String.init) == pci.bus.value)
        #expect(try address.slot.value.map(String.init) == pci.slot.value)
        // Not a PCI device: no hostdev.
        let usb = try NodeDeviceDefinition(parsing: [UInt8](try Data(contentsOf: dir.appendingPathComponent("usb_device_1d6b_1_0000_00_1d_0.xml"))))
        #expect(try usb.pciHostdev() == nil)
    }
}
