import Foundation
import Libvirt
@testable import LibvirtFleet
import Testing
import Tuning
import VirtCore

@Suite struct FleetHostURITests {
    @Test func tlsAndSSHSettingsBecomeURIParameters() throws {
        let tls = FleetHost(uri: "qemu+tls://node1.example/system", tls: .init(pkiPath: "/etc/virtkit/pki", verify: false, priority: "NORMAL"))
        #expect(try tls.connectionURI() == "qemu+tls://node1.example/system?pkipath=/etc/virtkit/pki&no_verify=1&tls_priority=NORMAL")
        let ssh = FleetHost(uri: "qemu+ssh://node2/system", user: "ops", sshKeyFile: "/root/.ssh/id_ed25519")
        #expect(try ssh.connectionURI() == "qemu+ssh://ops@node2/system?keyfile=/root/.ssh/id_ed25519")
        // Parameters already in the URI win; an existing user is kept.
        let given = FleetHost(uri: "qemu+ssh://root@n/system?keyfile=/k", user: "ops", sshKeyFile: "/other")
        #expect(try given.connectionURI() == "qemu+ssh://root@n/system?keyfile=/k")
        // Authority-less URIs keep their `///`.
        #expect(try FleetHost(uri: "test:///tmp/a.xml").connectionURI() == "test:///tmp/a.xml")
        #expect(try FleetHost(uri: "qemu:///system", tls: .init()).connectionURI() == "qemu:///system")
    }

    @Test func badURIsAndDuplicateNamesAreTypedErrors() async throws {
        #expect(throws: FleetError.invalidURI("no scheme here")) { try FleetHost(uri: "no scheme here").connectionURI() }
        #expect(throws: FleetError.duplicateHost("a")) {
            try Fleet(hosts: [FleetHost(name: "a", uri: "test:///default"), FleetHost(name: "a", uri: "test:///default")])
        }
        let fleet = try Fleet(hosts: [FleetHost(name: "a", uri: "test:///default")])
        await #expect(throws: FleetError.duplicateHost("a")) { try await fleet.add(FleetHost(name: "a", uri: "test:///x")) }
        await #expect(throws: FleetError.unknownHost("b")) { try await fleet.remove(named: "b") }
        await #expect(throws: FleetError.invalidURI("::")) { try await fleet.add(FleetHost(name: "c", uri: "::")) }
    }
}

@Suite struct FleetHealthTests {
    @Test func backoffGrowsWithFailuresCapsAndResetsOnSuccess() {
        let policy = ReconnectPolicy(initialDelay: .milliseconds(100), maxDelay: .milliseconds(350))
        var h = FleetHostHealth()
        let t0 = ContinuousClock.now
        #expect(h.refusal(at: t0) == nil)
        h.recordFailure(LibvirtError(code: .systemError, message: "refused"), at: t0, policy: policy)
        guard case .reconnectBackoff(let d1, 1, "refused")? = h.refusal(at: t0) else { Issue.record("no backoff after a failure"); return }
        #expect(d1 == .milliseconds(100))
        #expect(h.refusal(at: t0 + .milliseconds(100)) == nil)
        h.recordFailure(LibvirtError(code: .systemError, message: "refused"), at: t0, policy: policy)
        h.recordFailure(LibvirtError(code: .systemError, message: "refused"), at: t0, policy: policy)
        guard case .reconnectBackoff(let d3, 3, _)? = h.refusal(at: t0) else { Issue.record("no backoff after three failures"); return }
        #expect(d3 == .milliseconds(350))  // 400 ms capped
        h.recordSuccess()
        #expect(h.refusal(at: t0) == nil && h.failures == 0)
    }

    @Test func summaryCountsKindsAndFindsTheSlowestAnsweringHost() {
        let s = FleetRunSummary([("a", "ok", .milliseconds(30)), ("b", "timedOut", .seconds(2)), ("c", "ok", .milliseconds(80)), ("d", "failed", .milliseconds(1))],
                                elapsed: .seconds(2))
        #expect((s.hosts, s.ok, s.failed, s.timedOut) == (4, 2, 1, 1))
        #expect(s.slowestOK == "c" && s.slowestOKElapsed == .milliseconds(80))
        #expect(s.description.contains("2 ok, 1 failed, 1 timed out"))
        let r = FleetHostResult<Int>.ok(2).map { $0 * 10 }
        #expect(r.value == 20 && r.kind == "ok")
        #expect(FleetHostResult<Int>.ok(1).map { _ -> Int in throw FleetError.shutDown }.kind == "failed")
    }
}

@Suite struct FleetOccupancyTests {
    @Test func pinnedVCPUsNodeBoundMemoryAndInactiveGuests() throws {
        let online = CPUSet(0..<8)
        let guests = [
            FleetGuest(name: "pinned", uuid: "", state: "running", reason: "booted", isActive: true, vcpus: 2, memory: .mebibytes(1024),
                       vcpuPins: [[2], [3]], memoryNodes: [1], memoryMode: "strict"),
            FleetGuest(name: "floating", uuid: "", state: "paused", reason: "user", isActive: true, vcpus: 2, memory: .mebibytes(512),
                       vcpuPins: [online, online]),
            FleetGuest(name: "split", uuid: "", state: "running", reason: "booted", isActive: true, vcpus: 1, memory: .mebibytes(2048),
                       vcpuPins: [[2, 4]], memoryNodes: [0, 1], memoryMode: "interleave"),
            FleetGuest(name: "off", uuid: "", state: "shutoff", reason: "shutdown", isActive: false, vcpus: 8, memory: .gibibytes(8), vcpuPins: [[0]]),
            FleetGuest(name: "noinfo", uuid: "", state: "running", reason: "booted", isActive: true, vcpus: 1),
        ]
        let o = FleetHostOccupancy(guests: guests, onlineCPUs: online)
        #expect(o.activeGuests == 4)
        #expect(o.vcpus == 6)
        #expect(o.memory == .mebibytes(3584))
        #expect(o.pinnedVCPUsByCPU == [2: 2, 3: 1, 4: 1])
        #expect(o.floatingVCPUs == 3)
        #expect(o.memoryByNode == [0: .mebibytes(1024), 1: .mebibytes(2048)])
        #expect(o.unboundMemory == .mebibytes(512))
    }
}

/// The inventory's use of LibvirtXML's capabilities reader: nil without cells, typed errors.
@Suite struct CapabilitiesTopologyTests {
    static let twoCells = """
    <capabilities><host><uuid>x</uuid><cpu><arch>x86_64</arch></cpu>
    <topology><cells num='2'>
      <cell id='0'><memory unit='KiB'>2097152</memory><pages unit='KiB' size='4'>524288</pages><pages unit='KiB' size='2048'>16</pages>
        <distances><sibling id='0' value='10'/><sibling id='1' value='21'/></distances>
        <cpus num='2'><cpu id='0' socket_id='0' die_id='0' core_id='0' siblings='0,2'/><cpu id='2' socket_id='0' die_id='0' core_id='0' siblings='0,2'/></cpus></cell>
      <cell id='1'><memory unit='GiB'>4</memory><pages unit='KiB' size='1048576'>2</pages>
        <cpus num='1'><cpu id='1' socket_id='1' core_id='0' siblings='1'/></cpus></cell>
    </cells></topology>
    <cache><bank id='0' level='3' type='both' size='32' unit='MiB' cpus='0-2'/></cache></host></capabilities>
    """

    @Test func cellsCPUsPagesDistancesAndCaches() throws {
        let t = try #require(try hostTopology(fromCapabilitiesXML: Self.twoCells))
        #expect(t.nodes.map(\.id) == [0, 1])
        #expect(t.nodes[0].memory == .gibibytes(2) && t.nodes[1].memory == .gibibytes(4))
        #expect(t.nodes[0].pagePool(of: .kibibytes(2048))?.total == 16)
        #expect(t.nodes[1].pagePool(of: .gibibytes(1))?.total == 2)
        #expect(t.nodes[0].distance(to: 1) == 21)
        #expect(t.nodes[0].cpus == [0, 2] && t.nodes[1].cpus == [1])
        #expect(t.cpu(2)?.threadSiblings == [0, 2] && t.cpu(2)?.core == 0 && t.cpu(1)?.package == 1 && t.cpu(1)?.die == nil)
        #expect(t.cores == [[0, 2], [1]])
        #expect(t.caches == [HostTopology.Cache(level: 3, type: "Unified", size: .mebibytes(32), cpus: [0, 1, 2], id: 0)])
    }

    @Test func noCellsMeansNoTopologyAndBadDocumentsAreTypedErrors() throws {
        #expect(try hostTopology(fromCapabilitiesXML: "<capabilities><host><topology><cells num='0'></cells></topology></host></capabilities>") == nil)
        #expect(throws: FleetCapabilitiesError.self) { try hostTopology(fromCapabilitiesXML: "<capabilities><host>") }
        #expect(throws: FleetCapabilitiesError.self) { try hostTopology(fromCapabilitiesXML: "<node/>") }
        let badPages = Self.twoCells.replacingOccurrences(of: ">16</pages>", with: ">many</pages>")
        #expect(throws: FleetCapabilitiesError.self) { try hostTopology(fromCapabilitiesXML: badPages) }
        let badUnit = Self.twoCells.replacingOccurrences(of: "unit='GiB'", with: "unit='parsecs'")
        #expect(throws: FleetCapabilitiesError.self) { try hostTopology(fromCapabilitiesXML: badUnit) }
    }
}

@Suite struct FleetConfigurationTests {
    @Test func hostsWithDefaultsTLSAndOptions() throws {
        let json = """
        {"concurrency": 3, "deadlineSeconds": 2.5, "hosts": [
          {"name": "b", "uri": "qemu+tls://b/system", "readOnly": true, "tls": {"pkiPath": "/pki", "verify": false}},
          {"uri": "qemu+ssh://c/system", "user": "ops"}]}
        """
        let c = try FleetConfiguration(json: Data(json.utf8))
        #expect(c.hosts == [FleetHost(name: "b", uri: "qemu+tls://b/system", readOnly: true, tls: .init(pkiPath: "/pki", verify: false)),
                            FleetHost(uri: "qemu+ssh://c/system", user: "ops")])
        #expect(c.hosts[1].name == "qemu+ssh://c/system")
        let o = c.options()
        #expect(o.concurrency == 3 && o.deadline == .milliseconds(2500))
    }

    @Test func badConfigsAreTypedErrorsNamingThePlace() {
        func reason(_ json: String) -> String? {
            do { _ = try FleetConfiguration(json: Data(json.utf8), path: "f.json"); return nil } catch {
                if case .invalidConfig(let p, let r) = error { #expect(p == "f.json"); return r }
                return "\(error)"
            }
        }
        #expect(reason(#"{"hosts": [{"name": "x"}]}"#)?.contains("missing 'uri' at .hosts[0]") == true)
        #expect(reason(#"{"hosts": 3}"#) != nil)
        #expect(reason("not json") != nil)
        #expect(reason(#"{"hosts": [], "concurrency": 0}"#)?.contains("concurrency") == true)
        #expect(reason(#"{"hosts": [], "deadlineSeconds": -1}"#)?.contains("deadlineSeconds") == true)
        #expect(reason(#"{"hosts": [{"uri": "test:///a"}, {"uri": "test:///a"}]}"#) == "host 'test:///a' is in the fleet twice")
        #expect(throws: FleetError.invalidConfig(path: "/nonexistent/fleet.json", reason: "cannot read the file")) {
            try FleetConfiguration.load(path: "/nonexistent/fleet.json")
        }
    }
}

@Suite struct FleetHostFactsCacheTests {
    @Test func capabilitiesAreParsedAgainOnlyWhenTheyChange() throws {
        let cache = FleetHostFactsCache()
        let t1 = try cache.topology(for: "a", xml: CapabilitiesTopologyTests.twoCells)
        #expect(t1?.nodes.count == 2)
        #expect(try cache.topology(for: "a", xml: CapabilitiesTopologyTests.twoCells) == t1)
        let changed = CapabilitiesTopologyTests.twoCells.replacingOccurrences(of: ">16</pages>", with: ">32</pages>")
        #expect(try cache.topology(for: "a", xml: changed)?.nodes[0].pagePool(of: .kibibytes(2048))?.total == 32)
        #expect(try cache.topology(for: "b", xml: "<capabilities/>") == nil)
        #expect(throws: FleetCapabilitiesError.self) { try cache.topology(for: "b", xml: "<capabilities>") }
        // Other hosts with an identical document share its parse, a document without cells too.
        #expect(try cache.topology(for: "c", xml: CapabilitiesTopologyTests.twoCells) == t1)
        #expect(try cache.topology(for: "d", xml: "<capabilities/>") == nil)
        #expect(throws: FleetCapabilitiesError.self) { try cache.topology(for: "e", xml: "<capabilities>") }
    }

    @Test func identityIsReadOncePerConnection() async throws {
        let cache = FleetHostFactsCache()
        let c1 = try await Connection.open(try NodeFiles.node("facts-1", cpus: 4, guests: 0).connectionURI())
        let first = try await cache.identity(of: "h", over: c1)
        #expect(first.nodeInfo.cpus == 4)
        // Same connection: from the cache, even once the connection is closed.
        await c1.close()
        #expect(try await cache.identity(of: "h", over: c1).nodeInfo == first.nodeInfo)
        // A new connection (to a host that now has 6 CPUs) reads again.
        let c2 = try await Connection.open(try NodeFiles.node("facts-1", cpus: 6, guests: 0).connectionURI())
        #expect(try await cache.identity(of: "h", over: c2).nodeInfo.cpus == 6)
        await c2.close()
        withExtendedLifetime(c1) {}
    }

    @Test func capabilitiesAreReusedWithinTheirMaxAgeOnTheSameConnection() async throws {
        let conn = try await Connection.open("test:///default")
        let fresh = FleetHostFactsCache(capabilitiesMaxAge: .seconds(600))
        let t = try await fresh.topology(of: "d", over: conn)
        #expect(t?.nodes.count == 2)
        await conn.close()
        // Within the max age the closed connection is not asked again.
        #expect(try await fresh.topology(of: "d", over: conn) == t)
        // With no max age it is, and the closed connection fails.
        let stale = FleetHostFactsCache(capabilitiesMaxAge: .zero)
        let conn2 = try await Connection.open("test:///default")
        _ = try await stale.topology(of: "d", over: conn2)
        await conn2.close()
        await #expect(throws: LibvirtError.self) { try await stale.topology(of: "d", over: conn2) }
    }
}

@Suite struct FleetPlacementPureTests {
    @Test func basePagePoolsAreDroppedHugePoolsKept() throws {
        let pools: [HostTopology.PagePool] = [.init(pageSize: .kibibytes(4), total: 1000), .init(pageSize: .mebibytes(2), total: 8)]
        let t = HostTopology(cpus: [.init(id: 0, node: 0)], nodes: [
            .init(id: 0, cpus: [0], memory: .gibibytes(4), pagePools: pools),
            .init(id: 1, cpus: [], memory: .gibibytes(4), pagePools: [.init(pageSize: .mebibytes(2), total: 8)]),
        ])
        #expect(t.nodes[0].hugepagePools == [.init(pageSize: .mebibytes(2), total: 8)])
        #expect(t.nodes[1].hugepagePools == [.init(pageSize: .mebibytes(2), total: 8)], "a node listing only huge pages keeps them")
        // The planner uses only the huge pools: the base pages do not eat the node's memory.
        let request = try PlacementRequest(json: Data(#"{"guests": [{"name": "g", "vcpus": 1, "memoryMiB": 1024}]}"#.utf8))
        let plan = try PlacementPlanner(host: t).plan(request)
        #expect(plan.unplaced.isEmpty, "\(plan.unplaced)")
    }
}
