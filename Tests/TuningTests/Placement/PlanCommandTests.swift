import DomainXML
import Foundation
import Testing
import Tuning
import VirtCore
import VirtKitTestSupport

/// The `virtkit plan` contract of issue #12, through the built binary and the request codec.
@Suite(.offCooperativePool) struct PlanCommandTests {
    static let exampleRequest = """
        {"reservedCPUs": "0-1", "guests": [{"name": "db1", "vcpus": 8, "memoryMiB": 16384, "cpuPolicy": "dedicated",
         "threadPolicy": "prefer", "emulatorThreads": "isolate", "numaNodes": 1, "hugepageSize": "2M"},
         {"name": "web", "vcpus": 2, "memoryMiB": 512}]}
        """

    @Test func requestDefaultsAndKeys() throws {
        let r = try PlacementRequest(json: Data(Self.exampleRequest.utf8))
        #expect(r.reservedCPUs == [0, 1])
        #expect(r.guests[0] == GuestPlacementRequest(name: "db1", vcpus: 8, memory: .mebibytes(16384), cpuPolicy: .dedicated,
                                                     threadPolicy: .prefer, emulatorThreads: .isolate, numaNodes: 1,
                                                     hugepageSize: .mebibytes(2)))
        #expect(r.guests[1] == GuestPlacementRequest(name: "web", vcpus: 2, memory: .mebibytes(512)))
    }

    @Test(arguments: [
        (#"{"guests": [{"name": "a", "vcpus": 1, "memoryMiB": 1, "colour": "red"}]}"#, PlacementRequestError.Reason.unknownKey("colour")),
        (#"{"guests": [], "extra": 1}"#, .unknownKey("extra")),
        (#"{"guests": [{"name": "a", "vcpus": true, "memoryMiB": 1}]}"#, .invalidValue(key: "vcpus", value: "true", expected: "an integer")),
        (#"{"guests": [{"name": "a", "vcpus": 1.5, "memoryMiB": 1}]}"#, .invalidValue(key: "vcpus", value: "1.5", expected: "an integer")),
        (#"{"guests": [{"name": "a", "memoryMiB": 1}]}"#, .missingKey("vcpus")),
        (#"{"guests": [{"name": "a", "vcpus": 1, "memoryMiB": 1, "threadPolicy": "spread"}]}"#,
         .invalidValue(key: "threadPolicy", value: "\"spread\"", expected: "'prefer', 'isolate', 'require'")),
    ])
    func badRequestFilesAreTypedErrors(json: String, reason: PlacementRequestError.Reason) {
        #expect(throws: PlacementRequestError.self) { try PlacementRequest(json: Data(json.utf8)) }
        do { _ = try PlacementRequest(json: Data(json.utf8)) } catch { #expect(error.reason == reason) }
    }

    /// The built `virtkit` and an extracted hwloc tree, or nil after a loud skip.
    func setup() throws -> (binary: String, root: String)? {
        guard let binary = BuiltCLI.path(), let folder = HwlocArchives.folder() else { return nil }
        return (binary, try HwlocArchives.root(of: "256ia64-64n2s2c", in: folder))
    }

    @Test func planJSONKeepsTheContractKeys() throws {
        guard let (binary, root) = try setup() else { return }
        let request = #"{"reservedCPUs": "0-1", "guests": [{"name": "db1", "vcpus": 3, "memoryMiB": 1024, "emulatorThreads": "isolate", "iothreads": 1}, {"name": "huge", "vcpus": 200, "memoryMiB": 1024}]}"#
        let (status, out, err) = spawnAndWait(binary, ["plan", "--root", root, "--request", try BuiltCLI.requestFile(request), "--json"])
        #expect(status == 0, "\(err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let placement = try #require((json["placements"] as? [[String: Any]])?.first)
        #expect(placement["name"] as? String == "db1")
        let pins = try #require(placement["vcpuPins"] as? [String: Int])
        #expect(Set(pins.keys) == ["0", "1", "2"])
        #expect(pins.values.allSatisfy { $0 > 1 }, "reserved CPUs 0-1 must not be used: \(pins)")
        let emulator = try #require(placement["emulatorPin"] as? String)
        #expect(try CPUSet(parsing: emulator).count == 1)
        #expect((placement["iothreadPins"] as? [String: String])?["1"] == emulator)
        #expect(placement["memoryNodes"] is String)
        let cell = try #require((placement["cells"] as? [[String: Any]])?.first)
        #expect(cell["id"] as? Int == 0 && cell["vcpus"] as? String == "0-2" && cell["memoryMiB"] as? Int == 1024 && cell["hostNode"] is Int)
        let topology = try #require(placement["topology"] as? [String: Int])
        #expect(topology["sockets"]! * topology["dies"]! * topology["cores"]! * topology["threads"]! == 3)
        let unplaced = try #require(json["unplaced"] as? [[String: String]])
        #expect(unplaced.first?["name"] == "huge" && unplaced.first?["reason"]?.isEmpty == false)
    }

    @Test(arguments: [
        #"{"guests": [{"name": "a", "vcpus": 1, "memoryMiB": 64, "bogus": 1}]}"#,
        #"{"guests": [{"name": "a", "vcpus": 0, "memoryMiB": 64}]}"#,
        #"{"guests": [{"name": "a", "vcpus": 100000, "memoryMiB": 64}]}"#,
        #"{"guests": [{"name": "a", "vcpus": 1, "memoryMiB": 64, "cpuPolicy": "pinned"}]}"#,
        #"{"guests": [{"name": "a", "vcpus": 1, "memoryMiB": 64, "emulatorThreads": "dedicated"}]}"#,
        "not json",
    ])
    func badRequestIsOneLineAndExitOne(request: String) throws {
        guard let (binary, root) = try setup() else { return }
        let (status, out, err) = spawnAndWait(binary, ["plan", "--root", root, "--request", try BuiltCLI.requestFile(request), "--json"])
        #expect(status == 1)
        #expect(out.isEmpty)
        let lines = err.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "\(err)")
    }
}

/// What an existing guest holds, read from its definition.
@Suite(.offCooperativePool) struct OccupancyFromDefinitionTests {
    @Test func pinsMemoryAndPagesFromTheDefinition() throws {
        let xml = """
            <domain type='kvm'><name>old</name><memory unit='MiB'>3072</memory><vcpu cpuset='4-7'>3</vcpu>
              <memoryBacking><hugepages><page size='2' unit='MiB'/></hugepages></memoryBacking>
              <cputune><vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='3'/><emulatorpin cpuset='8'/>
                <iothreadpin iothread='1' cpuset='9'/></cputune>
              <numatune><memory mode='strict' nodeset='0-1'/><memnode cellid='0' mode='strict' nodeset='1'/>
                <memnode cellid='1' mode='strict' nodeset='0'/></numatune>
              <cpu><numa><cell id='0' cpus='0-1' memory='2048' unit='MiB'/><cell id='1' cpus='2' memory='1024' unit='MiB'/></numa></cpu>
            </domain>
            """
        let g = PlacementOccupancy.Guest(definition: try DomainDefinition(parsing: xml))
        #expect(g.name == "old")
        // vCPU 2 has no vcpupin: it falls back to <vcpu cpuset>.
        #expect(g.vcpuPins == [[2], [3], [4, 5, 6, 7]])
        #expect(g.emulatorPin == [8])
        #expect(g.iothreadPins == [[9]])
        #expect(g.memoryByNode.isEmpty)
        #expect(g.hugepagesByNode == [1: [.mebibytes(2): 1024], 0: [.mebibytes(2): 512]])
    }

    @Test func unpinnedGuestHoldsNoCPUs() throws {
        let g = PlacementOccupancy.Guest(definition: try DomainDefinition(parsing: "<domain type='kvm'><name>free</name><memory unit='MiB'>512</memory><vcpu>2</vcpu></domain>"))
        #expect(g.vcpuPins.isEmpty)
        #expect(g.memoryByNode.isEmpty)
        // And the planner then has every CPU.
        let host = TestHosts.singletons([0, 1])
        let plan = try PlacementPlanner(host: host, occupancy: PlacementOccupancy(guests: [g]))
            .plan(PlacementRequest(guests: [GuestPlacementRequest(name: "new", vcpus: 2, memory: .mebibytes(64))]))
        #expect(plan.placements.count == 1)
    }
}
