import Foundation
import Testing
import VirtCore
import VirtKitTestSupport
@testable import HostProbe

/// Hostile trees built at test time from a materialised fixture: FIFOs, device nodes, huge
/// sparse files, link loops, links out of the root (with decoys outside it), overflowing
/// values, invalid UTF-8. Each probe must end within seconds, with bounded memory, and
/// report a typed diagnostic; nothing outside the root may be read.
@Suite(.serialized, .offCooperativePool) struct HostileInputTests {
    /// A writable copy of fixture `name` inside a fresh directory that also holds a decoy
    /// tree next to the root (`…/decoy`), so an escape would read recognisable values.
    static func tree(_ name: String) throws -> (root: String, outside: String) {
        let outside = makeTempDir("hostile")
        let root = outside + "/root"
        try FileManager.default.copyItem(atPath: Fixtures.path(name), toPath: root)
        try FileManager.default.createDirectory(atPath: outside + "/decoy", withIntermediateDirectories: true)
        try "999\n".write(toFile: outside + "/decoy/value", atomically: false, encoding: .utf8)
        return (root, outside)
    }

    /// Probes `root` with a 10 s deadline; the snapshot and what it cost.
    static func probe(_ root: String, _ sections: Set<ProbeSection>) -> Hostile.Outcome<HostSnapshot?> {
        Hostile.bounded { try? HostProber(rootPath: root).snapshotSync(sections: sections) }
    }

    static func diagnostic(_ s: HostSnapshot?, _ path: String) -> ReadFailure? {
        s?.diagnostics.first { $0.path == path }?.failure
    }

    static let online = "/sys/devices/system/cpu/online"

    @Test func fifoIsRefusedWithoutBlocking() throws {
        let (root, outside) = try Self.tree("2s4c2t-2n")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try Hostile.fifo(at: root + Self.online)
        let r = Self.probe(root, [.topology, .numa])
        #expect(r.value != nil, "probe did not finish in 10 s")
        #expect(r.seconds < 5)
        #expect(Self.diagnostic(r.value ?? nil, Self.online) == .notARegularFile("FIFO"))
        // The per-CPU facts still give the online set.
        #expect(r.value??.topology?.online.count == 16)
    }

    @Test func characterDeviceIsRefused() throws {
        let (root, outside) = try Self.tree("2s4c2t-2n")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        guard try Hostile.zeroDevice(at: root + Self.online) else { return }
        let r = Self.probe(root, [.topology])
        #expect(r.value != nil && r.seconds < 5)
        #expect(Self.diagnostic(r.value ?? nil, Self.online) == .notARegularFile("character device"))
        #expect(r.peakGrowthKiB < 64 << 10, "peak RSS grew by \(r.peakGrowthKiB) KiB")
    }

    @Test func hugeFilesStopAtTheirBound() throws {
        let (root, outside) = try Self.tree("2s4c2t-2n")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try Hostile.sparse(at: root + Self.online, size: 1 << 30)
        try Hostile.sparse(at: root + "/proc/cpuinfo", size: 1 << 30)
        let r = Self.probe(root, [.topology])
        #expect(r.value != nil && r.seconds < 5, "took \(r.seconds) s")
        #expect(Self.diagnostic(r.value ?? nil, Self.online) == .tooLarge(limit: RootedFileReader.Bound.attribute))
        #expect(Self.diagnostic(r.value ?? nil, "/proc/cpuinfo") == .tooLarge(limit: RootedFileReader.Bound.table))
        // Their sizes are known: refused before reading. Never more than about one table
        // bound (64 MiB), not the 1 GiB files nor a multiple of the bound.
        #expect(r.peakGrowthKiB < (RootedFileReader.Bound.table >> 10) * 5 / 4, "peak RSS grew by \(r.peakGrowthKiB) KiB")
        // The diagnostic itself stays short.
        let json = try JSONEncoder().encode(r.value??.diagnostics ?? [])
        #expect(json.count < 4096)
    }

    @Test func nodeDirectoryLoopIsADiagnosticNotAnInventedNode() throws {
        let (root, outside) = try Self.tree("2s4c2t-2n")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let node = root + "/sys/devices/system/node"
        try FileManager.default.removeItem(atPath: node)
        try Hostile.link(at: node, to: "node")   // node -> node: ELOOP
        let r = Self.probe(root, [.topology, .numa])
        #expect(r.value != nil && r.seconds < 5)
        #expect(Self.diagnostic(r.value ?? nil, "/sys/devices/system/node") == .symlinkLoop)
    }

    @Test func linksOutOfTheRootReadInsideIt() throws {
        let (root, outside) = try Self.tree("2s4c2t-2n")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let topo = root + "/sys/devices/system/cpu/cpu0/topology"
        // Relative and absolute targets aiming at the decoy next to the root.
        try Hostile.link(at: topo + "/core_id", to: "../../../../../../../../decoy/value")
        try Hostile.link(at: topo + "/physical_package_id", to: outside + "/decoy/value")
        let r = Self.probe(root, [.topology])
        let cpu0 = try #require(r.value??.topology?.cpu(0))
        // `..` stops at the root and `/` restarts there: both land on a missing file inside
        // the root (an optional value, so no diagnostic), never on the decoy's 999.
        #expect(cpu0.core == nil && cpu0.package == nil)
        #expect(r.value??.topology?.cpu(1)?.core != nil)
    }

    @Test func overflowingValuesAreOutOfRange() throws {
        let (root, outside) = try Self.tree("2s4c2t-2n")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let meminfo = root + "/sys/devices/system/node/node0/meminfo"
        try "Node 0 MemTotal:       18446744073709551615 kB\nNode 0 MemFree: 1 kB\n".write(toFile: meminfo, atomically: false, encoding: .utf8)
        try "18446744073709551617\n".write(toFile: root + "/sys/module/kvm/parameters/halt_poll_ns", atomically: false, encoding: .utf8)
        try "99999999999999999999999\n".write(toFile: root + "/sys/devices/system/cpu/cpu1/topology/core_id", atomically: false, encoding: .utf8)
        let r = Self.probe(root, [.topology, .numa, .kvm])
        let s = try #require(r.value ?? nil)
        #expect(s.numa?.nodes[0].memTotal == nil)
        #expect(s.numa?.nodes[0].memFree == .kibibytes(1))
        #expect(Self.diagnostic(s, "/sys/devices/system/node/node0/meminfo")?.kind == "outOfRange")
        #expect(s.kvm?.haltPoll == nil)
        #expect(Self.diagnostic(s, "/sys/module/kvm/parameters/halt_poll_ns")?.kind == "outOfRange")
        #expect(Self.diagnostic(s, "/sys/devices/system/cpu/cpu1/topology/core_id")?.kind == "outOfRange")
    }

    @Test func blockSizeBeyondTwoToTheSixtyFourIsReported() throws {
        let (root, outside) = try Self.tree("iommu-sriov")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        // nvme0n1 is a link into /sys/devices: write through it.
        let size = root + "/sys/devices/pci0000:00/0000:00:1d.0/nvme/nvme0/nvme0n1/size"
        try "36028797018963969\n".write(toFile: size, atomically: false, encoding: .utf8)
        let r = Self.probe(root, [.block])
        let nvme = try #require(r.value??.block?.devices.first { $0.name == "nvme0n1" })
        #expect(nvme.size == nil)
        #expect(r.value??.diagnostics.contains { $0.what == "block nvme0n1 size" && $0.failure.kind == "outOfRange" } == true)
    }

    @Test func invalidUTF8AndControlCharactersAreKeptEscaped() throws {
        let (root, outside) = try Self.tree("2s4c2t-2n")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let gov = root + "/sys/devices/system/cpu/cpufreq/policy0/scaling_governor"
        try Hostile.write([0x70, 0x65, 0x72, 0x66, 0xFF, 0xFE, 0x1B, 0x5B, 0x32, 0x4A, 0x0A], to: gov)
        let r = Self.probe(root, [.topology])
        let g = try #require(r.value??.topology?.cpu(0)?.cpufreq?.governor)
        // Invalid bytes become visible \xNN text (not dropped, not U+FFFD); the control
        // character stays as data for the CLI to escape.
        #expect(g == "perf\\xff\\xfe\u{1B}[2J")
        let json = try JSONEncoder().encode(r.value??.topology)
        #expect(String(data: json, encoding: .utf8) != nil)
    }

    @Test func trailingNULsAreIgnoredButEmbeddedOnesAreNot() throws {
        let (root, outside) = try Self.tree("2s4c2t-2n")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let node = root + "/sys/devices/system/node"
        try Hostile.write(Array("0-7\n\0".utf8), to: node + "/node0/cpulist")
        try Hostile.write(Array("0-1\0junk\n".utf8), to: node + "/online")
        let s = try #require(Self.probe(root, [.topology, .numa]).value ?? nil)
        #expect(s.numa?.nodes[0].cpus == CPUSet(0...7))
        #expect(Self.diagnostic(s, "/sys/devices/system/node/node0/cpulist") == nil)
        #expect(Self.diagnostic(s, "/sys/devices/system/node/online")?.kind == "garbled")
    }
}

@Suite(.offCooperativePool) struct RootErrorTests {
    @Test func missingRootIsATypedError() {
        #expect(throws: HostProbeError.rootMissing("/no/such/virtkit-root")) {
            try HostProber(rootPath: "/no/such/virtkit-root").snapshotSync()
        }
    }

    @Test func rootWithoutSysIsATypedError() throws {
        let dir = makeTempDir("nosys")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: HostProbeError.rootHasNoSys(dir)) { try HostProber(rootPath: dir).snapshotSync() }
        try "x".write(toFile: dir + "/file", atomically: false, encoding: .utf8)
        #expect(throws: HostProbeError.rootNotADirectory(dir + "/file")) { try HostProber(rootPath: dir + "/file").snapshotSync() }
    }

    /// A committed fixture tree used in place (its links only in the manifest) is refused.
    @Test func fixtureUsedInPlaceIsRefused() {
        let inPlace = Fixtures.dir.appendingPathComponent("iommu-sriov").path
        #expect(throws: HostProbeError.fixtureNotMaterialized(manifest: inPlace + ".symlinks")) {
            try HostProber(rootPath: inPlace).snapshotSync()
        }
        #expect(throws: Never.self) { try Fixtures.probe("iommu-sriov") }
    }

    @Test func asyncSnapshotThrowsTheSameError() async {
        await #expect(throws: HostProbeError.rootMissing("/no/such/virtkit-root")) {
            try await HostProber(rootPath: "/no/such/virtkit-root").snapshot()
        }
    }
}

@Suite(.offCooperativePool) struct HostTopologyTests {
    @Test func fixtureTopologyHasEveryField() throws {
        let s = try Fixtures.probe("2s4c2t-2n")
        let t = try #require(s.hostTopology)
        #expect(t.cpus.count == 16 && t.onlineCPUs.count == 16)
        #expect(t.cores.count == 8)
        let c0 = try #require(t.cpu(0))
        #expect(c0.package == 0 && c0.node == 0 && c0.threadSiblings.contains(0) && c0.threadSiblings.count == 2)
        #expect(t.nodes.map(\.id) == [0, 1])
        let n0 = try #require(t.node(0))
        #expect(n0.memory == .kibibytes(16_384_000))
        #expect(n0.freeMemory == .kibibytes(10_000_000))
        #expect(n0.distance(to: 0) == 10 && n0.distance(to: 1) == 21)
        #expect(n0.pagePools.map(\.pageSize) == [.mebibytes(2), .gibibytes(1)])
        #expect(Set(t.nodes.flatMap(\.cpus)) == Set(t.cpus.map(\.id)))
        // Caches are instances: one L3 per package, shared by its 8 threads.
        let l3 = t.caches.filter { $0.level == 3 }
        #expect(l3.count == 2 && l3.allSatisfy { $0.cpus.count == 8 })
        #expect(t.caches.allSatisfy { $0.size != nil })
    }

    @Test func pciDevicesCarryTheirNode() throws {
        let s = try Fixtures.probe("iommu-sriov")
        let t = try #require(s.hostTopology)
        #expect(t.pciDevices.count == s.pci?.devices.count)
        #expect(t.pciDevices.map(\.node) == s.pci?.devices.map(\.numaNode))
        #expect(t.pciDevices.contains { $0.node != nil })
    }

    /// Every hwloc archive: the topology is complete and consistent with the snapshot.
    @Test func hwlocArchivesGiveConsistentTopologies() throws {
        guard let result = HwlocCorpus.archives else { return }
        let archives = try result.get()
        var checked = 0
        for a in archives {
            let s = try HostProber(rootPath: a.root).snapshotSync(sections: [.topology, .numa, .pci])
            let t = try #require(s.hostTopology, "\(a.name)")
            let topo = try #require(s.topology)
            #expect(t.cpus.map(\.id) == topo.cpus.map(\.id), "\(a.name)")
            #expect(t.onlineCPUs == CPUSet(topo.cpus.filter(\.online).map(\.id)), "\(a.name)")
            #expect(t.nodes.map(\.id) == s.numa?.nodes.map(\.id), "\(a.name)")
            for n in t.nodes {
                #expect(n.distances.isEmpty || n.distances.count == t.nodes.count, "\(a.name) node \(n.id)")
                for c in n.cpus { #expect(t.cpu(c)?.node == n.id || t.cpu(c) == nil, "\(a.name) cpu \(c)") }
            }
            for c in t.cpus { #expect(c.threadSiblings.contains(c.id), "\(a.name) cpu \(c.id)") }
            checked += 1
        }
        #expect(checked >= 25)
    }

    /// hwloc archives whose node lists end in `\n\0` read without a diagnostic.
    @Test func hwlocNULTerminatedFilesReadCleanly() throws {
        guard let result = HwlocCorpus.archives else { return }
        let a = try #require(try result.get().first { $0.name == "8em64t-2s2ca2c" })
        let s = try HostProber(rootPath: a.root).snapshotSync(sections: [.topology, .numa])
        #expect(s.diagnostics.filter { $0.path.hasPrefix("/sys/devices/system/node") && $0.failure.kind == "garbled" }.isEmpty, "\(s.diagnostics)")
        #expect(s.numa?.online?.isEmpty == false)
    }
}
