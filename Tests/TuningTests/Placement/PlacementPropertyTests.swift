import DomainXML
import Foundation
import Testing
import Tuning
import VirtCore
import VirtKitTestSupport

/// Random batches on every hwloc corpus machine: every rule of the issue holds, plans are
/// deterministic, and the XML fragments parse back to the same pins.
@Suite(.offCooperativePool) struct PlacementPropertyTests {
    @Test func everyRuleHoldsOnEveryCorpusTopology() throws {
        guard let hosts = try CorpusHosts.all() else { return }
        #expect(hosts.count >= 30, "expected the 32 hwloc machines, probed \(hosts.count)")
        var batches = 0, placed = 0
        for host in hosts {
            for seed in UInt64(1)...12 {
                let request = RandomBatches.make(for: host.topology, seed: seed &* 7919 &+ UInt64(host.name.utf8.count))
                let plan = try PlacementPlanner(host: host.topology).plan(request)
                let broken = PlanRules.violations(of: plan, request: request, host: host.topology)
                #expect(broken.isEmpty, "\(host.name) seed \(seed): \(broken.prefix(5))")
                // Every placement's XML fragments are valid domain XML.
                for p in plan.placements {
                    let f = p.domainXMLFragments
                    let xml = "<domain type='kvm'><name>x</name><memory unit='KiB'>\(request.guests.first { $0.name == p.name }!.memory.kibibytes)</memory><vcpu>\(p.vcpuPins.count)</vcpu>"
                        + f.cputune + f.numatune + f.cpu + (f.memoryBacking ?? "") + "</domain>"
                    let problems = try DomainDefinition(parsing: xml).validate()
                    #expect(problems.isEmpty, "\(host.name) \(p.name): \(problems)")
                }
                batches += 1
                placed += plan.placements.count
            }
        }
        #expect(placed > batches, "the random batches must place guests, not only refuse them")
    }

    /// The rule checker itself finds broken plans (so the property tests can fail).
    @Test func ruleCheckerCatchesBrokenPlans() throws {
        let host = TestHosts.make([[[0, 4], [1, 5]], [[2, 6], [3, 7]]], memoryMiB: 1024)
        let request = PlacementRequest(reservedCPUs: [0], guests: [
            GuestPlacementRequest(name: "a", vcpus: 2, memory: .mebibytes(512), threadPolicy: .isolate),
            GuestPlacementRequest(name: "b", vcpus: 2, memory: .mebibytes(768)),
        ])
        let good = try PlacementPlanner(host: host).plan(request)
        #expect(PlanRules.violations(of: good, request: request, host: host).isEmpty)
        #expect(good.placements.count == 2)
        func broken(_ edit: (inout PlacementPlan) -> Void) -> [String] {
            var plan = good
            edit(&plan)
            return PlanRules.violations(of: plan, request: request, host: host)
        }
        // b on a's CPU; a on the reserved CPU; a cell's vCPU on another node; memory over a node;
        // isolate sharing a core; an offline-free world: a CPU the host does not have.
        #expect(!broken { $0.placements[1].vcpuPins[0] = $0.placements[0].vcpuPins[0] }.isEmpty)
        #expect(!broken { $0.placements[0].vcpuPins[0] = [0] }.isEmpty)
        #expect(!broken { p in p.placements[0].vcpuPins[1] = p.placements[0].cells[0].hostNode == 0 ? [3] : [1] }.isEmpty)
        #expect(!broken { p in p.placements[1].cells[0].memory = .mebibytes(2048) }.isEmpty)
        #expect(!broken { p in p.placements[0].vcpuPins[1] = CPUSet([(p.placements[0].vcpuPins[0].min! + 4) % 8]) }.isEmpty)
        #expect(!broken { $0.placements[1].vcpuPins[0] = [99] }.isEmpty)
        #expect(!broken { $0.placements[1].cells[0].hostNode = 1 - $0.placements[1].cells[0].hostNode }.isEmpty)
    }

    @Test func rulesHoldAgainstExistingGuests() throws {
        guard let hosts = try CorpusHosts.all() else { return }
        for host in hosts where host.topology.onlineCPUs.count >= 8 {
            for seed in UInt64(100)...104 {
                // A first batch becomes the occupancy of a second one.
                let first = RandomBatches.make(for: host.topology, seed: seed)
                let before = try PlacementPlanner(host: host.topology).plan(first)
                let occupancy = PlacementOccupancy(guests: before.placements.map(\.asOccupant))
                var second = RandomBatches.make(for: host.topology, seed: seed + 1000)
                second.reservedCPUs = first.reservedCPUs
                let plan = try PlacementPlanner(host: host.topology, occupancy: occupancy).plan(second)
                let broken = PlanRules.violations(of: plan, request: second, host: host.topology, occupancy: occupancy)
                #expect(broken.isEmpty, "\(host.name) seed \(seed): \(broken.prefix(5))")
                // Nothing the first batch holds is handed out again.
                let held = before.placements.filter { b in first.guests.first { $0.name == b.name }?.cpuPolicy == .dedicated }
                    .reduce(into: CPUSet()) { $0.formUnion($1.vcpuCPUs); $0.formUnion($1.blockedCPUs) }
                for p in plan.placements where p.cpuPolicy == .dedicated {
                    #expect(p.vcpuCPUs.isDisjoint(with: held), "\(host.name): \(p.name) got CPUs of the first batch")
                }
            }
        }
    }

    @Test func planningIsDeterministic() throws {
        guard let host = try CorpusHosts.named("64fake-4n2s2ca2c2t") else { return }
        let request = RandomBatches.make(for: host, seed: 42, guests: 40)
        let a = try PlacementPlanner(host: host).plan(request)
        let b = try PlacementPlanner(host: host).plan(request)
        #expect(a == b)
        #expect(!a.placements.isEmpty)
    }

    @Test func fragmentsParseBackToThePins() throws {
        let host = TestHosts.make([[[0, 8], [1, 9], [2, 10], [3, 11]], [[4, 12], [5, 13], [6, 14], [7, 15]]])
        let request = PlacementRequest(guests: [
            GuestPlacementRequest(name: "db1", vcpus: 6, memory: .mebibytes(3072), threadPolicy: .prefer,
                                  emulatorThreads: .isolate, iothreads: 2, numaNodes: 2),
        ])
        let plan = try PlacementPlanner(host: host).plan(request)
        let p = try #require(plan.placement(named: "db1"))
        let f = p.domainXMLFragments
        let xml = "<domain type='kvm'><name>db1</name><memory unit='MiB'>3072</memory><vcpu>6</vcpu><iothreads>2</iothreads>"
            + f.cputune + f.numatune + f.cpu + "</domain>"
        let domain = try DomainDefinition(parsing: xml)
        #expect(domain.validate().isEmpty, "\(domain.validate())")
        for (v, pin) in p.vcpuPins.enumerated() {
            #expect(try domain.cputune.vcpupin.first { try $0.vcpu.value == v }?.cpuset.value == pin)
        }
        #expect(try domain.cputune.emulatorpin.cpuset.value == p.emulatorPin)
        #expect(try domain.cputune.iothreadpin.map { try $0.cpuset.value } == p.iothreadPins)
        #expect(try domain.numatune.memory.nodeset.value == p.memoryNodes)
        #expect(try domain.numatune.memory.mode.value == .strict)
        #expect(try domain.numatune.memnode.map { try $0.nodeset.value } == p.cells.map { NodeSet([$0.hostNode]) })
        #expect(try domain.cpu.numa.cells.map { try $0.memory.value } == p.cells.map(\.memory))
        #expect(try domain.cpu.numa.cells.map { try $0.cpus.value } == p.cells.map(\.vcpus))
        #expect(try domain.cpu.topology.threads.value == p.topology.threads)
        #expect(try domain.cpu.topology.cores.value == p.topology.cores)
        #expect(f.memoryBacking == nil)
    }
}

extension GuestPlacement {
    /// What this placement holds once the guest exists (for occupancy tests).
    var asOccupant: PlacementOccupancy.Guest {
        var memory: [Int: MemorySize] = [:]
        var pages: [Int: [MemorySize: UInt64]] = [:]
        for c in cells {
            if let h = hugepageSize { pages[c.hostNode, default: [:]][h, default: 0] += c.memory.bytes / h.bytes } else { memory[c.hostNode, default: .zero] = memory[c.hostNode, default: .zero] + c.memory }
        }
        var pins = vcpuPins
        // Kept-empty threads are held too: pin them as if a vCPU sat there.
        pins.append(contentsOf: blockedCPUs.map { CPUSet([$0]) })
        return PlacementOccupancy.Guest(name: name, vcpuPins: pins, emulatorPin: emulatorPin, iothreadPins: iothreadPins,
                                        memoryByNode: memory, hugepagesByNode: pages)
    }
}

/// Writing a placement into an existing definition keeps what it does not own.
@Suite struct PlacementWriteTests {
    @Test func writeReplacesPinsAndKeepsTheRest() throws {
        let xml = """
            <domain type='kvm'>
              <name>old</name>
              <memory unit='MiB'>1024</memory>
              <vcpu placement='auto'>2</vcpu>
              <cputune>
                <shares>2048</shares>
                <vcpupin vcpu='0' cpuset='0-7'/>
              </cputune>
              <numatune>
                <memory mode='interleave' placement='auto'/>
              </numatune>
              <cpu mode='host-passthrough'/>
              <!-- keep me -->
            </domain>
            """
        let host = TestHosts.make([[[0, 4], [1, 5]], [[2, 6], [3, 7]]])
        let plan = try PlacementPlanner(host: host).plan(PlacementRequest(guests: [
            GuestPlacementRequest(name: "old", vcpus: 2, memory: .mebibytes(1024), threadPolicy: .require),
        ]))
        let p = try #require(plan.placements.first)
        let d = try DomainDefinition(parsing: xml)
        p.write(to: d)
        #expect(d.validate().isEmpty)
        #expect(try d.vcpu.placement.value == .static)
        #expect(try d.cputune.shares.value == 2048)
        #expect(try d.cputune.vcpupin.map { try $0.cpuset.value } == p.vcpuPins)
        #expect(try d.numatune.memory.mode.value == .strict)
        #expect(d.numatune.memory.placement.raw == nil)
        #expect(try d.cpu.mode.value == .hostPassthrough)
        #expect(try d.cpu.topology.threads.value == 2)
        #expect(d.serialize().contains("<!-- keep me -->"))
    }
}
