import Foundation
import Testing
import VirtCore
import DomainXML
import Libvirt
import Tuning
import VirtKitTestSupport

/// Each guest rule on its domain XML fixture (fires) against the healthy guest (quiet).
@Suite(.offCooperativePool) struct GuestRuleTests {
    typealias F = DiagnosisFixtures

    /// (fixture guest, the rule it must trigger).
    static let cases: [(String, String)] = [
        ("numa-spread", "guest.numa.spread"),
        ("unbound-memory", "guest.numa.remote-memory"),
        ("emulator-on-vcpus", "guest.emulator.on-vcpu-cpus"),
        ("disk-cache", "guest.disk.cache"),
        ("net-queues", "guest.net.queues"),
        ("cirrus-vnc", "guest.console.video-model"),
        ("balloon-hugepages", "guest.memory.balloon-hugepages"),
        ("large-normal-pages", "guest.memory.no-hugepages"),
        ("no-agent", "guest.agent.missing"),
        ("watchdog-pause", "guest.watchdog.action"),
        ("locked-unbounded", "guest.memory.locked-unbounded"),
    ]

    @Test(arguments: cases.map { $0.0 })
    func ruleFiresOnItsFixtureAndNothingElseDoes(fixture: String) throws {
        let id = try #require(Self.cases.first { $0.0 == fixture }?.1)
        let report = F.diagnose(F.input([try F.guest(fixture)]))
        #expect(report.ids.contains(id), "\(fixture): \(report.ids)")
        // The healthy guest differs from each fixture in one place, so nothing else fires
        // (host findings about huge pages appear only for the huge-page guest's pools).
        let others = report.ids.subtracting([id, "host.hugepages.unused"])
        #expect(others.isEmpty, "\(fixture) also triggered \(others)")
        let quiet = F.diagnose(F.input([try F.guest("healthy")]))
        #expect(!quiet.ids.contains(id))
    }

    @Test func numaSpreadNamesNodesAndFix() throws {
        let f = try #require(F.diagnose(F.input([try F.guest("numa-spread")])).findings(.guestNUMASpread).first)
        #expect(f.evidence.contains { $0.value == .nodes([0, 1]) })
        #expect(f.remedies.contains { $0.action == .domainXML(.set("vcpu", attribute: "cpuset", to: "0-3,8-11")) && $0.applies == .guestRestart })
        #expect(f.remedies.contains { $0.action == .libvirt(.pinVCPU(vcpu: 1, cpus: try! CPUSet(parsing: "0-3,8-11"))) && $0.applies == .live })
    }

    @Test func remoteMemoryMeasured() throws {
        var g = try F.guest("healthy", pid: 4321)
        // Pinned to node 0, bound to node 0, yet half its memory sits on node 1.
        g.memoryPlacement = GuestMemoryPlacement(bytesPerNode: [0: 2 << 30, 1: 2 << 30])
        let f = try #require(F.diagnose(F.input([g])).findings(.guestNUMARemoteMemory).first)
        #expect(f.severity == .warning)
        #expect(f.evidence.contains { $0.name == "remote fraction" && $0.value == .percent(50) })
        #expect(f.evidence.contains { $0.source == .procfs("/proc/4321/numa_maps N1=") })
        g.memoryPlacement = GuestMemoryPlacement(bytesPerNode: [0: 4 << 30, 1: 100 << 20])
        #expect(!F.diagnose(F.input([g])).ids.contains("guest.numa.remote-memory"))
    }

    @Test func diskCacheSeverities() throws {
        let findings = F.diagnose(F.input([try F.guest("disk-cache")])).findings(.guestDiskCache)
        let vdb = try #require(findings.first { $0.subject == .device(findings[0].subject.guest!, target: "vdb") })
        #expect(vdb.severity == .critical, "io=native without direct I/O: QEMU refuses to start")
        let vda = try #require(findings.first { $0.subject == .device(findings[0].subject.guest!, target: "vda") })
        #expect(vda.severity == .warning)
        #expect(vda.remedies.first?.action == .domainXML(.set("devices/disk[target=vda]/driver", attribute: "cache", to: "none")))
    }

    @Test func pinningOverlapSameCPUAndSiblings() throws {
        let same = F.diagnose(F.input([try F.guest("pinned-cpu5-a"), try F.guest("pinned-cpu5-b")])).findings(.guestPinningOverlap)
        #expect(same.count == 1)
        #expect(same.first?.severity == .warning)
        // CPU 13 is CPU 5's hyper-thread sibling in the fixture topology.
        let siblings = F.diagnose(F.input([try F.guest("pinned-cpu5-a"), try F.guest("pinned-cpu13")])).findings(.guestPinningOverlap)
        #expect(siblings.count == 1)
        #expect(siblings.first?.severity == .info)
        #expect(siblings.first?.evidence.contains { $0.value == .cpus([5, 13]) } == true)
        // Alone, or with a guest elsewhere: quiet.
        #expect(F.diagnose(F.input([try F.guest("pinned-cpu5-a"), try F.guest("healthy")])).findings(.guestPinningOverlap).isEmpty)
        // Stopped guests do not compete.
        #expect(F.diagnose(F.input([try F.guest("pinned-cpu5-a"), try F.guest("pinned-cpu5-b", .shutoff(.shutdown))])).findings(.guestPinningOverlap).isEmpty)
    }

    @Test func diskIOThreadsUnderLoad() throws {
        var g = try F.guest("no-iothread")
        g.window = GuestWindow(duration: .seconds(10), diskIOPS: ["vda": 5_000])
        let f = try #require(F.diagnose(F.input([g])).findings(.guestDiskIOThreads).first)
        #expect(f.evidence.first?.value == .number(5_000, unit: "requests/s"))
        #expect(f.evidence.first?.window == .seconds(10))
        g.window = GuestWindow(duration: .seconds(10), diskIOPS: ["vda": 200])
        #expect(!F.diagnose(F.input([g])).ids.contains("guest.disk.iothreads"))
        // The healthy guest's disk has an IOThread: quiet at any rate.
        var h = try F.guest("healthy")
        h.window = GuestWindow(duration: .seconds(10), diskIOPS: ["vda": 50_000])
        #expect(!F.diagnose(F.input([h])).ids.contains("guest.disk.iothreads"))
    }

    @Test func invalidValuesAreListedNotFatal() throws {
        let text = try String(contentsOf: F.guestDir.appendingPathComponent("healthy.xml"), encoding: .utf8)
            .replacingOccurrences(of: "<vcpupin vcpu='1' cpuset='1'/>", with: "<vcpupin vcpu='1' cpuset='x-y'/>")
        let facts = GuestDefinitionFacts(try DomainXML.DomainDefinition(parsing: text))
        #expect(facts.unreadable.count == 1)
        #expect(facts.vcpuPins.count == 1)
        #expect(facts.disks.first?.cache == "none")
    }
}


@Suite(.offCooperativePool) struct GathererTests {
    @Test func numaMapsSumsPagesPerNode() {
        let text = """
        7f0000000000 default anon=512 dirty=512 N0=384 N1=128 kernelpagesize_kB=4
        7f1000000000 bind:1 file=/dev/hugepages/libvirt/qemu/x anon=2 dirty=2 N1=2 kernelpagesize_kB=1048576
        7f2000000000 default file=/usr/bin/qemu-system-x86_64 mapped=10 mapmax=3 N0=10 kernelpagesize_kB=4
        7f3000000000 default
        """
        let p = GuestMemoryPlacement(numaMaps: text)
        #expect(p.bytesPerNode[0] == (384 + 10) * 4096)
        #expect(p.bytesPerNode[1] == 128 * 4096 + 2 * (1 << 30))
        #expect(GuestMemoryPlacement(numaMaps: "garbage N=x Nq=1\n").bytesPerNode.isEmpty)
    }

    /// The embedded test driver and a fixture root: definitions and states are read, nothing sampled.
    @Test func gathersTestDriverGuestsOnAFixtureRoot() async throws {
        let conn = try await Libvirt.Connection.open("test:///default")
        let root = DiagnosisFixtures.base("2s4c2t-2n")
        let input = try await DiagnosisGatherer(connection: conn, root: root, window: .seconds(1)).gather()
        await conn.close()
        let test = try #require(input.guests.first { $0.reference.name == "test" })
        #expect(test.status?.state == .running)
        #expect(test.isActive)
        #expect(test.window == nil, "a fixture root is never sampled")
        #expect(test.pid == nil)
        #expect(input.host?.root == root)
        #expect(input.host?.numa?.nodes.count == 2)
        #expect(test.definition.vcpus >= 1)
    }
}
