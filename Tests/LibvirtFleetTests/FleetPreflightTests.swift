import Foundation
import Libvirt
import LibvirtFleet
import Testing
import VirtCore
import VirtKitTestSupport

@Suite(.offCooperativePool) struct FleetPreflightRuleTests {
    static let guestXML = """
    <domain type='kvm'><name>g</name><memory unit='GiB'>6</memory><vcpu>2</vcpu>
    <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader></os>
    <devices><emulator>/usr/bin/qemu-system-x86_64</emulator>
      <disk type='file' device='disk'><source file='/var/lib/libvirt/images/g.qcow2'/><target dev='vda'/></disk>
      <disk type='network' device='disk'><source protocol='rbd' name='pool/img'/><target dev='vdb'/></disk>
      <disk type='file' device='cdrom'><target dev='sda'/><readonly/></disk>
      <disk type='file' device='cdrom'><source file='/isos/tools.iso'/><target dev='sdb'/><readonly/></disk>
      <interface type='network'><source network='default'/></interface>
      <interface type='bridge'><source bridge='br0'/></interface>
      <hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x03' slot='0x00' function='0x1'/></source></hostdev>
      <filesystem type='mount'><source dir='/srv/share'/><target dir='share'/></filesystem>
    </devices></domain>
    """

    static func destination(free: [UInt64], memory: UInt64 = 8, pools: [HostTopology.PagePool] = []) -> FleetPreflightDestination {
        let nodes = free.enumerated().map { i, f in
            HostTopology.Node(id: i, cpus: [i], memory: .gibibytes(memory), freeMemory: .gibibytes(f), pagePools: pools)
        }
        let topo = HostTopology(cpus: free.indices.map { HostTopology.CPU(id: $0, node: $0) }, nodes: nodes)
        let inv = FleetHostInventory(host: "B", uri: "test:///b", hostname: "b", nodeInfo: HostNodeInfo(cpus: free.count, mhz: 1, nodes: free.count, sockets: 1, cores: free.count, threads: 1),
                                     topology: topo, topologySource: .capabilities, guests: [], occupancy: FleetHostOccupancy())
        return FleetPreflightDestination(name: "B", inventory: inv, encrypted: true)
    }

    @Test func guestFactsFromItsDefinition() throws {
        let g = try GuestMigrationFacts(domainXML: Self.guestXML)
        #expect(g.name == "g" && g.memory == .gibibytes(6) && g.vcpus == 2)
        #expect(g.machine == "pc-q35-7.2" && g.emulator == "/usr/bin/qemu-system-x86_64" && g.loader == "/usr/share/OVMF/OVMF_CODE.fd")
        #expect(g.disks.map(\.target) == ["vda", "vdb", "sda", "sdb"])
        #expect(g.disks[1].isSharedByNature && g.disks[2].isEmpty && g.disks[3].readOnly)
        #expect(g.networks == ["default"] && g.bridges == ["br0"])
        #expect(g.localDevices.count == 2 && g.localDevices[0].hasPrefix("hostdev: pci") && g.localDevices[1] == "filesystem: /srv/share")
        #expect(throws: FleetPreflightError.self) { try GuestMigrationFacts(domainXML: "<domain><name>x</name></domain>") }
        #expect(throws: FleetPreflightError.self) { try GuestMigrationFacts(domainXML: "<network/>") }
        #expect(throws: FleetPreflightError.self) { try GuestMigrationFacts(domainXML: "<domain>") }
    }

    @Test func memoryMustFitInACellWithTheCellSizesAsEvidence() throws {
        var g = try GuestMigrationFacts(domainXML: Self.guestXML)
        let fits = FleetPreflight.evaluate(guest: g, destination: Self.destination(free: [4, 7]), tlsRequested: false)
        let m1 = try #require(fits.findings.first { $0.check == "memory" })
        #expect(m1.verdict == .pass && m1.summary.contains("node 1"))
        let spans = FleetPreflight.evaluate(guest: g, destination: Self.destination(free: [4, 4]), tlsRequested: false)
        #expect(spans.findings.first { $0.check == "memory" }?.verdict == .warning)
        let refused = FleetPreflight.evaluate(guest: g, destination: Self.destination(free: [2, 3]), tlsRequested: false)
        let m3 = try #require(refused.findings.first { $0.check == "memory" })
        #expect(m3.verdict == .blocker && !refused.canMigrate)
        #expect(m3.evidence.contains("node 0: free 2.00 GiB of 8.00 GiB") && m3.evidence.contains("node 1: free 3.00 GiB of 8.00 GiB"))
        // Guest NUMA cells go one per node, largest first.
        g.numaCells = [.gibibytes(3), .gibibytes(3)]
        #expect(FleetPreflight.evaluate(guest: g, destination: Self.destination(free: [4, 4]), tlsRequested: false)
            .findings.first { $0.check == "memory" }?.verdict == .pass)
        g.numaCells = [.gibibytes(5), .gibibytes(1)]
        #expect(FleetPreflight.evaluate(guest: g, destination: Self.destination(free: [4, 4]), tlsRequested: false)
            .findings.first { $0.check == "memory" }?.verdict == .blocker)
    }

    @Test func hugepagesDisksDevicesNetworksAndTLS() throws {
        var g = try GuestMigrationFacts(domainXML: Self.guestXML)
        g.disks[0].allocated = .mebibytes(700)
        let r = FleetPreflight.evaluate(guest: g, destination: Self.destination(free: [8, 8]), tlsRequested: true)
        let disks = try #require(r.findings.first { $0.check == "disks" })
        #expect(r.needsCopyStorage && r.estimatedCopySize == .mebibytes(700))
        #expect(disks.verdict == .warning && disks.summary.contains("copy-storage needed for vda") && disks.summary.contains("700 MiB"))
        #expect(disks.evidence.contains { $0.hasPrefix("sdb: /isos/tools.iso (read-only) must exist") })
        #expect(r.findings.first { $0.check == "devices" }?.verdict == .blocker)
        #expect(r.findings.first { $0.check == "networks" }?.evidence == ["network default", "bridge br0"], "not looked up: named, unknown")
        #expect(r.findings.first { $0.check == "networks" }?.verdict == .unknown)
        #expect(r.findings.first { $0.check == "tls" }?.evidence == ["destination connection encrypted"])
        #expect(r.findings.first { $0.check == "cpu" }?.verdict == .pass, "no <cpu>: the hypervisor's default model")
        #expect(r.findings.first { $0.check == "machine" }?.verdict == .unknown, "capabilities not read")
        #expect(!r.canMigrate && r.worst == .blocker)

        // A path the destination sees needs no copy.
        var dest = Self.destination(free: [8])
        dest.resources = FleetDestinationResources(storage: [
            "/var/lib/libvirt/images/g.qcow2": .init(state: .active, pool: "vms", poolType: "netfs", poolSource: "filer:/vms"),
            "/isos/tools.iso": .init(state: .active, pool: "isos", poolType: "dir")])
        let shared = FleetPreflight.evaluate(guest: g, destination: dest, tlsRequested: false)
        #expect(!shared.needsCopyStorage && shared.findings.first { $0.check == "disks" }?.verdict == .pass)

        // Hugepages: the pool of the guest's size must hold its memory.
        g.usesHugepages = true
        g.hugepageSize = .gibibytes(1)
        let small = FleetPreflight.evaluate(guest: g, destination: Self.destination(free: [8], pools: [.init(pageSize: .gibibytes(1), total: 4)]), tlsRequested: false)
        #expect(small.findings.first { $0.check == "hugepages" }?.verdict == .blocker)
        let big = FleetPreflight.evaluate(guest: g, destination: Self.destination(free: [8], pools: [.init(pageSize: .gibibytes(1), total: 6)]), tlsRequested: false)
        #expect(big.findings.first { $0.check == "hugepages" }?.verdict == .pass)

        // An unreachable destination blocks, and nothing else is claimed.
        let down = FleetPreflight.evaluate(guest: g, destination: FleetPreflightDestination(name: "C", inventory: nil, unreachable: "timedOut"), tlsRequested: false)
        #expect(down.findings.map(\.check) == ["destination"] && down.findings[0].evidence == ["timedOut"])
    }
}
