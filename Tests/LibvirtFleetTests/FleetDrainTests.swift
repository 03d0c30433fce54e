import Foundation
import DomainXML
import Libvirt
@testable import LibvirtFleet
import Synchronization
import Testing
import Tuning
import VirtCore

@Suite struct FleetDrainTests {
    static let guestXML = """
    <domain type='kvm'><name>web</name><memory unit='MiB'>512</memory><vcpu placement='static'>2</vcpu><iothreads>1</iothreads>
    <cputune><vcpupin vcpu='0' cpuset='7'/><vcpupin vcpu='1' cpuset='8'/></cputune>
    <os><type arch='x86_64' machine='pc'>hvm</type></os>
    <cpu mode='custom'><topology sockets='1' dies='1' cores='2' threads='1'/><numa><cell id='0' cpus='0-1' memory='524288' unit='KiB'/></numa></cpu>
    <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>
    """

    static func move(memoryNodes: NodeSet, targetNodes: NodeSet, hostNode: Int = 1) -> FleetDrainPlan.Move {
        let placement = GuestPlacement(
            name: "web", cpuPolicy: .dedicated, vcpuPins: [[2], [3]], emulatorPin: [2, 3], iothreadPins: [[3], [4]],
            memoryNodes: memoryNodes, cells: [GuestCellPlacement(id: 0, vcpus: [0, 1], memory: .mebibytes(512), hostNode: hostNode)],
            topology: PlannedCPUTopology(sockets: 4, dies: 1, cores: 1, threads: 1), hugepageSize: nil)
        return FleetDrainPlan.Move(guest: "web", target: "B", placement: placement, targetNodes: targetNodes)
    }

    @Test func theDestinationDefinitionCarriesThePlansPinsAndKeepsTheGuestsABI() throws {
        let xml = try Self.move(memoryNodes: [1], targetNodes: [0, 1]).destinationXML(from: Self.guestXML)
        let d = try DomainDefinition(parsing: xml)
        #expect(d.cputune.vcpupin.map { try? $0.cpuset.value } == [[2], [3]], "the source's pins are replaced")
        #expect(try d.cputune.emulatorpin.cpuset.value == [2, 3])
        // One IOThread in the guest: only its pin is written, the count (ABI) is unchanged.
        let iothreads = try d.iothreads.value
        #expect(d.cputune.iothreadpin.count == 1 && iothreads == 1)
        let mode = try d.numatune.memory.mode.value
        let cellNodes = try d.numatune.memnode.first?.nodeset.value
        #expect(try d.numatune.memory.nodeset.value == [1] && mode == .strict)
        #expect(d.numatune.memnode.count == 1 && cellNodes == [1])
        // The plan's CPU topology (4 sockets) is not written: a migration keeps the guest's.
        let (sockets, cores) = (try d.cpu.topology.sockets.value, try d.cpu.topology.cores.value)
        #expect(sockets == 1 && cores == 2)
        #expect(d.cpu.numa.cells.count == 1)

        // Every node of the target: nothing to bind, no numatune.
        let oneNode = try DomainDefinition(parsing: try Self.move(memoryNodes: [0], targetNodes: [0], hostNode: 0).destinationXML(from: Self.guestXML))
        #expect(!oneNode.serialize().contains("<numatune"))
        #expect(throws: FleetPreflightError.self) { try Self.move(memoryNodes: [0], targetNodes: [0]).destinationXML(from: "<domain") }
    }

    @Test func whereAGuestEndsUpIsReadFromBothHosts() {
        #expect(FleetDrainGuestLocation(source: "absent", target: "running") == .target)
        #expect(FleetDrainGuestLocation(source: "shutoff", target: "running") == .target)
        #expect(FleetDrainGuestLocation(source: "running", target: "absent") == .source)
        #expect(FleetDrainGuestLocation(source: "running", target: "paused") == .source, "an incoming domain being torn down")
        #expect(FleetDrainGuestLocation(source: "paused", target: "absent") == .source)
        #expect(FleetDrainGuestLocation(source: "absent", target: "paused") == .target, "a paused guest stays paused")
        #expect(FleetDrainGuestLocation(source: "running", target: "running") == .unknown("source: running, target: running"))
        #expect(FleetDrainGuestLocation(source: "absent", target: "no connection") == .unknown("source: absent, target: no connection"))
    }

    /// The test driver has no migration: every move fails with libvirt's typed error, and the
    /// read-back finds each guest still running on the source.
    @Test func aDrainOnTheTestDriverReportsEachGuestsFailureAndWhereItRuns() async throws {
        var src = try NodeFiles.node("run-src", cpus: 4, guests: 6)
        var t1 = try NodeFiles.node("run-t1", cpus: 16, guests: 0)
        src.readOnly = false
        t1.readOnly = false
        let fleet = try Fleet(hosts: [src, t1])
        let plan = try await fleet.planDrain(of: "run-src")
        #expect(plan.moves.count + plan.stuck.count == 4 && plan.moves.count >= 3, "\(plan.stuck)")

        let run = try await fleet.startDrain(plan, options: FleetDrainOptions(parallel: 2, pollInterval: .milliseconds(20)))
        var events: [FleetDrainEvent] = []
        for await e in run.events { events.append(e) }
        let report = await run.report
        #expect(report.outcomes.map(\.guest) == plan.moves.map(\.guest) + plan.stuck.map(\.guest) && !report.cancelled && !report.isComplete)
        for o in report.outcomes where o.target != nil {
            guard case .failed(let error) = o.result else { Issue.record("\(o.guest): \(o.result)"); continue }
            #expect((error as? LibvirtError)?.code == .noSupport, "\(o.guest): \(error)")
            #expect(o.location == .source, "\(o.guest) still runs on the source")
            #expect(o.target == "run-t1")
        }
        #expect(report.summary.hasPrefix("4 guests: \(plan.moves.count) failed"), "\(report.summary)")
        // Events: started before finished for every guest, never more than 2 in flight.
        var inFlight = Set<String>()
        var peak = 0
        for e in events {
            switch e {
            case .started(let g, _): inFlight.insert(g); peak = max(peak, inFlight.count)
            case .finished(let o) where o.target == nil: #expect(o.result.kind == "noTarget")
            case .finished(let o): #expect(inFlight.remove(o.guest) != nil, "\(o.guest) finished after it started")
            case .progress: break
            }
        }
        #expect(peak >= 1 && peak <= 2 && inFlight.isEmpty)

        // A guest without a target is reported as such, and read-only hosts are refused.
        var stuck = plan
        stuck.moves = []
        stuck.stuck = [FleetDrainPlan.Stuck(guest: "huge", reasons: ["run-t1: too big"])]
        let r2 = try await fleet.drain(stuck)
        #expect(r2.outcomes.count == 1 && r2.outcomes[0].result.kind == "noTarget")
        let ro = try Fleet(hosts: [try NodeFiles.node("run-ro", guests: 1), t1])
        var roPlan = plan
        roPlan.source = "run-ro"
        await #expect(throws: FleetError.readOnlyHost("run-ro")) { try await ro.startDrain(roPlan) }
        await #expect(throws: FleetError.unknownHost("nope")) {
            var p = plan
            p.source = "nope"
            _ = try await fleet.startDrain(p)
        }
        await fleet.shutdown()
        await ro.shutdown()
    }
}

@Suite struct FleetPreflightHypervisorTests {
    static func guest(cpu: String?, machine: String = "pc", loader: String? = nil) throws -> GuestMigrationFacts {
        try GuestMigrationFacts(domainXML: """
        <domain type='kvm'><name>g</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
        <os><type arch='x86_64' machine='\(machine)'>hvm</type>\(loader.map { "<loader readonly='yes' type='pflash'>\($0)</loader>" } ?? "")</os>
        \(cpu ?? "")<devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>
        """)
    }

    static let offer = FleetHypervisorOffer(guests: [
        .init(osType: "hvm", arch: "x86_64", emulators: ["/usr/bin/qemu-system-x86_64"], machines: ["pc", "pc-i440fx-7.2", "q35"], domainTypes: ["qemu", "kvm"]),
    ], firmwarePaths: ["/usr/share/OVMF/OVMF_CODE.fd"])

    static func finding(_ g: GuestMigrationFacts, cpu: FleetCPUComparison? = nil, offer: FleetHypervisorOffer? = Self.offer, _ check: String) -> FleetPreflightFinding? {
        var dest = FleetPreflightRuleTests.destination(free: [4])
        dest.cpu = cpu
        dest.offer = offer
        return FleetPreflight.evaluate(guest: g, destination: dest, tlsRequested: false).findings.first { $0.check == check }
    }

    @Test func aCPUFeatureTheDestinationLacksBlocksWithItsName() throws {
        let g = try Self.guest(cpu: "<cpu mode='custom' match='exact'><model>qemu64</model><feature policy='require' name='amx-tile'/><feature policy='disable' name='svm'/></cpu>")
        #expect(g.requiredCPUFeatures == ["amx-tile"] && g.cpuMode == "custom" && g.cpuXML?.hasPrefix("<cpu") == true)
        // libvirt's message lists the model's missing features too: the guest's own come first.
        let cmp = FleetCPUComparison(incompatibleMessage: "the CPU is incompatible with host CPU: Host CPU does not provide required features: pni, amx-tile")
        #expect(cmp.missingFeatures == ["pni", "amx-tile"])
        let f = try #require(Self.finding(g, cpu: cmp, "cpu"))
        #expect(f.verdict == .blocker && f.reason == .cpuFeaturesMissing(["amx-tile", "pni"]) && f.summary.contains("amx-tile"))
        let forbidden = Self.finding(g, cpu: FleetCPUComparison(incompatibleMessage: "Host CPU provides forbidden features: svm"), "cpu")
        #expect(forbidden?.reason == .cpuFeaturesForbidden(["svm"]))
        #expect(Self.finding(g, cpu: FleetCPUComparison(outcome: .superset), "cpu")?.verdict == .pass)
        #expect(Self.finding(g, cpu: nil, "cpu")?.verdict == .unknown)
        #expect(Self.finding(try Self.guest(cpu: nil), "cpu")?.verdict == .pass, "no <cpu>: the default model")
        #expect(Self.finding(try Self.guest(cpu: "<cpu mode='host-passthrough'/>"), "cpu")?.verdict == .warning)
    }

    @Test func machineTypeEmulatorAndFirmwareComeFromTheDestinationsCapabilities() throws {
        #expect(Self.finding(try Self.guest(cpu: nil), "machine")?.verdict == .pass)
        let m = try #require(Self.finding(try Self.guest(cpu: nil, machine: "pc-q35-99.0"), "machine"))
        #expect(m.verdict == .blocker && m.reason == .machineTypeMissing("pc-q35-99.0"))
        var noEmu = Self.offer
        noEmu.guests[0].emulators = ["/usr/libexec/qemu-kvm"]
        #expect(Self.finding(try Self.guest(cpu: nil), offer: noEmu, "machine")?.reason == .emulatorMissing("/usr/bin/qemu-system-x86_64"))
        var noKVM = Self.offer
        noKVM.guests[0].domainTypes = ["qemu"]
        #expect(Self.finding(try Self.guest(cpu: nil), offer: noKVM, "machine")?.reason == .architectureMissing("x86_64/hvm/kvm"))
        #expect(Self.finding(try Self.guest(cpu: nil, loader: "/usr/share/OVMF/OVMF_CODE.fd"), "machine")?.verdict == .pass)
        #expect(Self.finding(try Self.guest(cpu: nil, loader: "/opt/fw.fd"), "machine")?.reason == .firmwareMissing("/opt/fw.fd"))
        #expect(Self.finding(try Self.guest(cpu: nil), offer: nil, "machine")?.verdict == .unknown)
    }

    /// The test driver's capabilities (a real libvirt document) read as an offer.
    @Test func theOfferOfATestDriverHost() async throws {
        let conn = try await Connection.open("test:///default", readOnly: true)
        let offer = try FleetHypervisorOffer(capabilitiesXML: try await conn.capabilitiesXML())
        let hvm = try #require(offer.guests.first { $0.arch == "i686" && $0.osType == "hvm" }, "\(offer)")
        #expect(hvm.emulators == ["/usr/bin/test-hv"] && hvm.domainTypes == ["test"] && hvm.machines.isEmpty)
        #expect(offer.guests.contains { $0.osType == "xen" })
        #expect(throws: FleetCapabilitiesError.self) { try FleetHypervisorOffer(capabilitiesXML: "<capabilities") }
        await conn.close()
    }
}
