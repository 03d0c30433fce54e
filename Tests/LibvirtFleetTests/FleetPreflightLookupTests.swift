import Foundation
import Libvirt
@testable import LibvirtFleet
import Testing
import VirtCore
import VirtKitTestSupport

/// The preflight's network and storage checks on test-driver hosts: the destination's
/// networks, bridges, storage pools and volumes looked up by name and path.
@Suite struct FleetPreflightLookupTests {
    static let cpu = "<cpu><mhz>2400</mhz><model>x86_64</model><active>4</active><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>1</threads></cpu><memory>8388608</memory>"

    /// Source A: `mover` (an NFS disk, a disk in A's local pool, a read-only ISO, network
    /// `prod`, bridge `br0`) and `stranger` (network `lab`, bridge `eth9`, a volume in pool `scratch`).
    static func source(_ tag: String) throws -> FleetHost {
        try write("\(tag)-a", """
        <node>\(cpu)
        <pool type='dir'><name>local</name><target><path>/local/images</path></target>
          <volume type='file'><name>mover-local.qcow2</name><capacity unit='GiB'>20</capacity><allocation unit='MiB'>1536</allocation></volume>
        </pool>
        <domain type='test'><name>mover</name><memory unit='MiB'>512</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices>
          <disk type='file' device='disk'><source file='/shared/nfs/mover.qcow2'/><target dev='vda'/></disk>
          <disk type='file' device='disk'><source file='/local/images/mover-local.qcow2'/><target dev='vdb'/></disk>
          <disk type='file' device='cdrom'><source file='/isos/tools.iso'/><target dev='sda' bus='sata'/><readonly/></disk>
          <interface type='network'><source network='prod'/></interface>
          <interface type='bridge'><source bridge='br0'/></interface>
        </devices></domain>
        <domain type='test'><name>stranger</name><memory unit='MiB'>256</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices>
          <disk type='volume' device='disk'><source pool='scratch' volume='s.img'/><target dev='vda'/></disk>
          <interface type='network'><source network='lab'/></interface>
          <interface type='bridge'><source bridge='eth9'/></interface>
        </devices></domain>
        </node>
        """, readOnly: true)
    }

    /// Destination B: network `prod` (active), bridge `br0` (up), `eth9` (not a bridge), an
    /// NFS pool holding the shared disk, a local pool holding the ISO; no `lab` network, no `scratch` pool.
    static func destination(_ tag: String) throws -> FleetHost {
        try write("\(tag)-b", """
        <node>\(cpu)
        <network><name>prod</name><bridge name='virbr7'/><forward mode='nat'/><ip address='192.168.77.1' netmask='255.255.255.0'/></network>
        <interface type='bridge' name='br0'><start mode='onboot'/><protocol family='ipv4'><ip address='10.0.0.2' prefix='24'/></protocol>
          <bridge stp='off'><interface type='ethernet' name='eth0'><mac address='aa:bb:cc:dd:ee:ff'/></interface></bridge></interface>
        <interface type='ethernet' name='eth9'><start mode='onboot'/><mac address='aa:bb:cc:dd:ee:09'/></interface>
        <pool type='netfs'><name>nfs</name><source><host name='filer.example'/><dir path='/export/vms'/><format type='nfs'/></source>
          <target><path>/shared/nfs</path></target>
          <volume type='file'><name>mover.qcow2</name><capacity unit='GiB'>10</capacity><allocation unit='GiB'>2</allocation></volume>
        </pool>
        <pool type='dir'><name>isos</name><target><path>/isos</path></target>
          <volume type='file'><name>tools.iso</name><capacity unit='MiB'>300</capacity><allocation unit='MiB'>300</allocation></volume>
        </pool>
        </node>
        """, readOnly: false)
    }

    static func write(_ name: String, _ xml: String, readOnly: Bool) throws -> FleetHost {
        let url = NodeFiles.folder.appendingPathComponent("\(name).xml")
        try xml.write(to: url, atomically: true, encoding: .utf8)
        return FleetHost(name: name, uri: "test://\(url.path)", readOnly: readOnly)
    }

    @Test func sharedPoolsAndActiveNetworksPassALocalDiskNeedsCopyWithItsSize() async throws {
        let a = try Self.source("pfl1"), b = try Self.destination("pfl1")
        let fleet = try Fleet(hosts: [a, b])
        let r = try await fleet.preflight(guest: "mover", from: a.name, to: b.name)
        await fleet.shutdown()

        let disks = try #require(r.findings.first { $0.check == "disks" })
        #expect(disks.verdict == .warning && disks.summary.hasPrefix("copy-storage needed for vdb"), "\(disks)")
        // The size comes from A's pool (the test driver has no block statistics).
        #expect(r.needsCopyStorage && r.estimatedCopySize == .mebibytes(1536))
        #expect(disks.evidence.contains { $0.hasPrefix("vda: /shared/nfs/mover.qcow2 shared; destination: active in pool nfs (netfs filer.example:/export/vms)") },
                "\(disks.evidence)")
        #expect(disks.evidence.contains { $0.hasPrefix("vdb: /local/images/mover-local.qcow2 local, 1.50 GiB allocated; destination: missing") }, "\(disks.evidence)")
        #expect(disks.evidence.contains { $0.hasPrefix("sda: /isos/tools.iso (read-only) exists on the destination; destination: active in pool isos (dir") },
                "\(disks.evidence)")

        let net = try #require(r.findings.first { $0.check == "networks" })
        #expect(net.verdict == .pass, "\(net)")
        #expect(net.evidence.contains("network prod: active (bridge virbr7)") && net.evidence.contains { $0.hasPrefix("bridge br0: active") }, "\(net.evidence)")
        #expect(r.canMigrate, "\(r.findings)")
    }

    @Test func aMissingNetworkAndAMissingPoolBlockWithTheLookupAsEvidence() async throws {
        let a = try Self.source("pfl2"), b = try Self.destination("pfl2")
        let fleet = try Fleet(hosts: [a, b])
        let r = try await fleet.preflight(guest: "stranger", from: a.name, to: b.name)
        let net = try #require(r.findings.first { $0.check == "networks" })
        #expect(net.verdict == .blocker && net.summary == "network lab is missing, bridge eth9 is not a bridge on the destination", "\(net)")
        #expect(net.evidence == ["network lab: missing", "bridge eth9: unsuitable (ethernet interface, not a bridge)"], "\(net.evidence)")
        let disks = try #require(r.findings.first { $0.check == "disks" })
        #expect(disks.verdict == .blocker && disks.evidence == ["vda: scratch/s.img: its pool is missing on the destination; destination: missing"], "\(disks)")
        #expect(!r.canMigrate)

        // Defined but not started on the destination: still blocks, as "not active".
        let defined = await fleet.run(on: [b.name]) { conn, _ in
            _ = try await conn.defineNetwork(xml: "<network><name>lab</name><bridge name='virbr9'/></network>")
            _ = try await conn.defineStoragePool(xml: "<pool type='dir'><name>scratch</name><target><path>/scratch</path></target></pool>")
            return true
        }
        #expect(defined.values.count == 1, "\(defined.summary)")
        let again = try await fleet.preflight(guest: "stranger", from: a.name, to: b.name)
        await fleet.shutdown()
        let net2 = try #require(again.findings.first { $0.check == "networks" })
        #expect(net2.verdict == .blocker && net2.summary == "network lab is not active, bridge eth9 is not a bridge on the destination", "\(net2)")
        let disks2 = try #require(again.findings.first { $0.check == "disks" })
        #expect(disks2.verdict == .blocker && disks2.evidence.first?.contains("its pool is not active on the destination; destination: inactive in pool scratch (dir") == true,
                "\(disks2)")
    }

    @Test func poolSourcesReadFromPoolXML() {
        let nfs = "<pool type='netfs'><source><host name='f'/><dir path='/e'/></source></pool>"
        #expect(FleetDestinationResources.poolTypeAndSource(xml: nfs) == ("netfs", "f:/e"))
        #expect(FleetDestinationResources.poolTypeAndSource(xml: "<pool type='logical'><source><name>vg0</name></source></pool>") == ("logical", "vg0"))
        #expect(FleetDestinationResources.poolTypeAndSource(xml: "<pool type='dir'/>") == ("dir", nil))
        #expect(FleetDestinationResources.poolTypeAndSource(xml: "<pool") == (nil, nil))
        #expect(FleetResourceSighting(state: .active, pool: "p", poolType: "netfs").isSharedStorage)
        #expect(!FleetResourceSighting(state: .active, pool: "p", poolType: "dir").isSharedStorage)
        #expect(!FleetResourceSighting(state: .inactive, pool: "p", poolType: "netfs").isSharedStorage)
    }
}
