import Foundation
import HostProbe
import Testing
@testable import LibvirtXML
import VirtCore
import VirtKitTestSupport

/// "Host topology from capabilities": for each of libvirt's `vircaps2xmltest` cases, the
/// `HostTopology` built from the capabilities XML must match the sysfs tree libvirt built that
/// XML from (CPU → package/die/core/thread siblings, node → CPUs), read here straight from
/// the tree's topology files.
@Suite("HostTopology from capabilities", .offCooperativePool)
struct HostTopologyFromCapabilitiesTests {
    /// Unpacks the sysfs trees once per test into a temporary folder; the trees' links into
    /// `../virhostcpudata` resolve to the corpus' copy beside it.
    static func unpackTrees() throws -> URL? {
        guard let dir = LiveEnvironment.corpus("libvirt-9.0.0/xml/capabilities-from-sysfs"),
              let hostcpu = LiveEnvironment.corpus("libvirt-9.0.0/virhostcpudata") else { return nil }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-caps-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let trees = tmp.appendingPathComponent("trees")
        try FileManager.default.createDirectory(at: trees, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: tmp.appendingPathComponent("virhostcpudata"), withDestinationURL: hostcpu)
        let (status, _, err) = spawnAndWait("/usr/bin/tar", ["-xjf", dir.appendingPathComponent("sysfs-trees.tar.bz2").path, "-C", trees.path])
        try #require(status == 0, "tar: \(err)")
        return trees
    }

    /// What the tree says, read without HostProbe: node CPU lists and each CPU's topology files.
    struct TreeFacts: Equatable, CustomStringConvertible {
        var nodes: [Int: CPUSet] = [:]
        var cpus: [Int: (package: Int, die: Int, core: Int, siblings: CPUSet)] = [:]
        static func == (a: Self, b: Self) -> Bool {
            a.nodes == b.nodes && a.cpus.keys.sorted() == b.cpus.keys.sorted()
                && a.cpus.allSatisfy { k, v in b.cpus[k].map { $0 == v } ?? false }
        }
        var description: String { "nodes \(nodes.sorted { $0.key < $1.key }), cpus \(cpus.sorted { $0.key < $1.key })" }
    }

    static func read(_ path: URL) -> String? {
        (try? String(contentsOf: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func facts(tree: URL) throws -> TreeFacts {
        var facts = TreeFacts()
        let nodeDir = tree.appendingPathComponent("system/node")
        for name in try FileManager.default.contentsOfDirectory(atPath: nodeDir.path) where name.hasPrefix("node") {
            guard let id = Int(name.dropFirst(4)), let list = read(nodeDir.appendingPathComponent(name).appendingPathComponent("cpulist")) else { continue }
            facts.nodes[id] = list.isEmpty ? [] : try CPUSet(parsing: list)
        }
        for cpu in facts.nodes.values.flatMap({ Array($0) }) {
            let topo = tree.appendingPathComponent("system/cpu/cpu\(cpu)/topology")
            let package = read(topo.appendingPathComponent("physical_package_id")).flatMap { Int($0) } ?? 0
            // libvirt reports die 0 where the kernel has no die_id file.
            let die = read(topo.appendingPathComponent("die_id")).flatMap { Int($0) } ?? 0
            let core = read(topo.appendingPathComponent("core_id")).flatMap { Int($0) } ?? 0
            let siblings = try read(topo.appendingPathComponent("thread_siblings_list")).map { try CPUSet(parsing: $0) } ?? [cpu]
            facts.cpus[cpu] = (package, die, core, siblings)
        }
        return facts
    }

    static func facts(topology: HostTopology) -> TreeFacts {
        var facts = TreeFacts()
        for node in topology.nodes { facts.nodes[node.id] = node.cpus }
        for cpu in topology.cpus { facts.cpus[cpu.id] = (cpu.package ?? -1, cpu.die ?? -1, cpu.core ?? -1, cpu.threadSiblings) }
        return facts
    }

    @Test func everyCaseMatchesItsSysfsTree() throws {
        guard let trees = try Self.unpackTrees(),
              let dir = LiveEnvironment.corpus("libvirt-9.0.0/xml/capabilities-from-sysfs") else { return }
        defer { try? FileManager.default.removeItem(at: trees.deletingLastPathComponent()) }
        let docs = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".xml") }.sorted()
        #expect(docs.count == 11)
        var compared = 0
        for doc in docs {
            // vircaps-ARCH-NAME.xml was built from linux-NAME.
            let name = doc.dropFirst("vircaps-".count).dropLast(4).split(separator: "-", maxSplits: 1).last.map(String.init) ?? ""
            let caps = try HostCapabilities(parsing: [UInt8](try Data(contentsOf: dir.appendingPathComponent(doc))))
            let topology = try caps.hostTopology()
            let expected = try Self.facts(tree: trees.appendingPathComponent("linux-" + name))
            #expect(!expected.cpus.isEmpty, "\(doc): tree has no CPUs")
            #expect(Self.facts(topology: topology) == expected, "\(doc)")
            // Memory and page pools are carried over from the document.
            for node in topology.nodes {
                #expect(node.memory != nil, "\(doc): node \(node.id) memory")
            }
            compared += 1
        }
        #expect(compared == 11)
    }

    /// The same comparison through HostProbe: `HostProber` on each tree (copied under a probe
    /// root as `sys/devices/system`, links dereferenced) must give the topology the
    /// capabilities give: each CPU's package, die, core, siblings and node, and each node's CPUs.
    @Test func hostProbeOnEachTreeAgreesWithTheCapabilities() throws {
        guard let trees = try Self.unpackTrees(),
              let dir = LiveEnvironment.corpus("libvirt-9.0.0/xml/capabilities-from-sysfs") else { return }
        defer { try? FileManager.default.removeItem(at: trees.deletingLastPathComponent()) }
        let docs = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".xml") }.sorted()
        var compared = 0
        for doc in docs {
            let name = doc.dropFirst("vircaps-".count).dropLast(4).split(separator: "-", maxSplits: 1).last.map(String.init) ?? ""
            let root = trees.deletingLastPathComponent().appendingPathComponent("root-" + doc)
            try FileManager.default.createDirectory(at: root.appendingPathComponent("sys/devices"), withIntermediateDirectories: true)
            let (status, _, err) = spawnAndWait("/bin/cp", ["-rL", trees.appendingPathComponent("linux-" + name + "/system").path,
                                                            root.appendingPathComponent("sys/devices/system").path])
            try #require(status == 0, "cp: \(err)")
            let snapshot = try HostProber(rootPath: root.path).snapshotSync(sections: [.topology, .numa])
            var probed = try #require(snapshot.hostTopology, "\(doc): no topology from HostProbe")
            // A kernel without `die_id` has no die: HostProbe says nil, libvirt writes die_id='0'.
            for i in probed.cpus.indices where probed.cpus[i].die == nil { probed.cpus[i].die = 0 }
            let caps = try HostCapabilities(parsing: [UInt8](try Data(contentsOf: dir.appendingPathComponent(doc)))).hostTopology()
            #expect(Self.facts(topology: probed) == Self.facts(topology: caps), "\(doc): HostProbe \(Self.facts(topology: probed)) vs capabilities \(Self.facts(topology: caps))")
            compared += 1
        }
        #expect(compared == 11)
    }

    @Test func cachesDistancesAndPagesComeThrough() throws {
        let xml = """
        <capabilities>
          <host>
            <topology>
              <cells num='2'>
                <cell id='0'>
                  <memory unit='KiB'>1048576</memory>
                  <pages unit='KiB' size='4'>2048</pages>
                  <pages unit='KiB' size='2048'>16</pages>
                  <distances><sibling id='0' value='10'/><sibling id='1' value='21'/></distances>
                  <cpus num='2'>
                    <cpu id='0' socket_id='0' die_id='0' core_id='0' siblings='0-1'/>
                    <cpu id='1' socket_id='0' die_id='0' core_id='0' siblings='0-1'/>
                  </cpus>
                </cell>
                <cell id='1'>
                  <memory unit='GiB'>2</memory>
                  <cpus num='0'/>
                </cell>
              </cells>
            </topology>
            <cache>
              <bank id='0' level='3' type='both' size='15' unit='MiB' cpus='0-1'/>
            </cache>
          </host>
        </capabilities>
        """
        let t = try HostCapabilities(parsing: xml).hostTopology()
        #expect(t.cpus.map(\.id) == [0, 1])
        #expect(t.cores == [[0, 1]])
        #expect(t.node(0)?.distance(to: 1) == 21)
        #expect(t.node(0)?.pagePool(of: .mebibytes(2))?.total == 16)
        #expect(t.node(1)?.memory == .gibibytes(2))
        #expect(t.node(1)?.cpus.isEmpty == true)
        #expect(t.caches == [HostTopology.Cache(level: 3, type: "Unified", size: .mebibytes(15), cpus: [0, 1], id: 0)])
        // A bad value is a typed error naming its place.
        let bad = try HostCapabilities(parsing: xml.replacingOccurrences(of: "core_id='0' siblings='0-1'/>\n            <cpu id='1'", with: "core_id='x' siblings='0-1'/>\n            <cpu id='1'"))
        #expect(throws: TypedXMLError.self) { try bad.hostTopology() }
    }
}
