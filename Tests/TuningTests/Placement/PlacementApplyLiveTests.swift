import DomainXML
import Foundation
import HostProbe
import Libvirt
import LibvirtJoins
import Testing
import Tuning
import VirtCore
import VirtKitTestSupport

/// Plans applied to real guests on `qemu:///system` and rolled back: through libvirt (pin
/// info), through the guest's cgroups (`cpuset.cpus` of each vCPU) and the inactive XML.
@Suite(.serialized) struct PlacementApplyLiveTests {
    static let uri = "qemu:///system"

    /// A running persistent diskless guest for `body`; destroyed and undefined afterwards.
    func withGuest(vcpus: Int, _ body: (Connection, Domain) async throws -> Void) async throws {
        try await StepFixtures.withRunningGuest(on: Self.uri, tag: "place", vcpus: vcpus, body)
    }

    /// The placement of `domain` on this host (no occupancy: the test is about applying).
    func placement(for domain: Domain, vcpus: Int) throws -> PlacementPlan {
        let host = try #require(try HostProber().snapshotSync(sections: [.topology, .numa, .memory]).hostTopology)
        return try PlacementPlanner(host: host).plan(PlacementRequest(guests: [
            GuestPlacementRequest(name: domain.name, vcpus: vcpus, memory: .mebibytes(64)),
        ]))
    }

    /// `cpuset.cpus` of vCPU `v`'s cgroup, read from the file system.
    func cgroupCPUs(_ domain: Domain, vcpu v: Int) async throws -> CPUSet? {
        guard let group = try await domain.location().cgroups?.vcpus[v] else { return nil }
        for (mount, path) in group.paths {
            let file = mount + path + "/cpuset.cpus"
            if let text = try? String(contentsOfFile: file, encoding: .utf8) {
                return try CPUSet(parsing: text.trimmingASCIIWhitespace(), allowEmpty: true)
            }
        }
        return nil
    }

    func journalPath() -> String { NSTemporaryDirectory() + "virtkit-place-\(UUID().uuidString).journal.json" }

    @Test func applyThenRollbackRestoresEverything() async throws {
        try await withGuest(vcpus: 1) { connection, domain in
            let plan = try placement(for: domain, vcpus: 1)
            let target = try #require(plan.placements.first)
            let inactiveBefore = try await domain.xmlDescription(flags: [.inactive])
            let pinsBefore = try await domain.vcpuPinning(flags: .live)
            let emulatorBefore = try await domain.emulatorPinning(flags: .live)
            let steps = try await ReconfigurationPlan.placing(plan, on: connection, uri: Self.uri, scope: [.live, .config])
            #expect(steps.steps.contains { if case .persistentDefinition = $0.change { true } else { false } })
            let journal = journalPath()
            try await ReconfigurationApplier(connection: connection).apply(steps, journal: journal)

            #expect(try await domain.vcpuPinning(flags: .live) == target.vcpuPins)
            #expect(try await domain.emulatorPinning(flags: .live) == target.emulatorPin)
            if let cg = try await cgroupCPUs(domain, vcpu: 0) {
                #expect(cg == target.vcpuPins[0], "vcpu0 cgroup cpuset.cpus")
            } else {
                LiveEnvironment.unavailable("the vCPU cgroups of \(domain.name) are not visible")
            }
            let applied = try await domain.definition(.persistent)
            #expect(try applied.cputune.vcpupin.first?.cpuset.value == target.vcpuPins[0])
            #expect(try applied.numatune.memory.nodeset.value == target.memoryNodes)
            #expect(try applied.cpu.numa.cells.count == 1)

            try await ReconfigurationApplier(connection: connection).rollback(journal: journal)
            #expect(try await domain.xmlDescription(flags: [.inactive]) == inactiveBefore, "inactive XML byte-identical")
            #expect(try await domain.vcpuPinning(flags: .live) == pinsBefore)
            #expect(try await domain.emulatorPinning(flags: .live) == emulatorBefore)
            if let cg = try await cgroupCPUs(domain, vcpu: 0) { #expect(cg == pinsBefore[0]) }
            #expect(try ReconfigurationJournal.read(from: journal).entries.allSatisfy { $0.state == .undone })
        }
    }

    @Test func failingThirdStepLeavesEverythingAsBefore() async throws {
        try await withGuest(vcpus: 2) { connection, domain in
            let inactiveBefore = try await domain.xmlDescription(flags: [.inactive])
            let pinsBefore = try await domain.vcpuPinning(flags: .live)
            let emulatorBefore = try await domain.emulatorPinning(flags: .live)
            let uuid = domain.uuid.description
            let first = try #require(pinsBefore[0].min)
            // The third step pins to a CPU this host does not have: libvirt refuses it for real.
            let plan = ReconfigurationPlan(uri: Self.uri, steps: [
                ReconfigurationStep(domain: domain.name, uuid: uuid, change: .vcpuPin(vcpu: 0, before: pinsBefore[0], after: [first])),
                ReconfigurationStep(domain: domain.name, uuid: uuid, change: .emulatorPin(before: emulatorBefore, after: [first])),
                ReconfigurationStep(domain: domain.name, uuid: uuid, change: .vcpuPin(vcpu: 1, before: pinsBefore[1], after: [4000])),
            ])
            let journal = journalPath()
            await #expect(throws: ReconfigurationError.self) {
                try await ReconfigurationApplier(connection: connection).apply(plan, journal: journal)
            }
            #expect(try await domain.vcpuPinning(flags: .live) == pinsBefore)
            #expect(try await domain.emulatorPinning(flags: .live) == emulatorBefore)
            #expect(try await domain.xmlDescription(flags: [.inactive]) == inactiveBefore)
            let states = try ReconfigurationJournal.read(from: journal).entries.map(\.state)
            #expect(states == [.undone, .undone, .undone])
        }
    }

    @Test func killedApplyIsRestoredByRollback() async throws {
        guard let binary = BuiltCLI.path() else { return }
        try await withGuest(vcpus: 1) { _, domain in
            let inactiveBefore = try await domain.xmlDescription(flags: [.inactive])
            let pinsBefore = try await domain.vcpuPinning(flags: .live)
            let request = try BuiltCLI.requestFile(#"{"guests": [{"name": "\#(domain.name)", "vcpus": 1, "memoryMiB": 64}]}"#)
            let journal = journalPath()
            setenv("VIRTKIT_PLAN_KILL_AFTER_STEPS", "2", 1)
            let (status, _, err) = spawnAndWait(binary, ["plan", "--uri", Self.uri, "--request", request, "--apply", "--journal", journal])
            unsetenv("VIRTKIT_PLAN_KILL_AFTER_STEPS")
            #expect(status == 128 + SIGKILL, "\(err)")
            let states = try ReconfigurationJournal.read(from: journal).entries.map(\.state)
            #expect(states.prefix(2) == [.done, .done])
            #expect(try await domain.vcpuPinning(flags: .live) != pinsBefore || states.count < 3, "the killed run changed the pins")

            let (rc, _, rollbackErr) = spawnAndWait(binary, ["rollback", journal])
            #expect(rc == 0, "\(rollbackErr)")
            #expect(try await domain.vcpuPinning(flags: .live) == pinsBefore)
            #expect(try await domain.xmlDescription(flags: [.inactive]) == inactiveBefore)
        }
    }

    @Test func dryRunPrintsChangesAndChangesNothing() async throws {
        guard let binary = BuiltCLI.path() else { return }
        try await withGuest(vcpus: 1) { _, domain in
            let inactiveBefore = try await domain.xmlDescription(flags: [.inactive])
            let pinsBefore = try await domain.vcpuPinning(flags: .live)
            let request = try BuiltCLI.requestFile(#"{"guests": [{"name": "\#(domain.name)", "vcpus": 1, "memoryMiB": 64}]}"#)
            let (status, out, err) = spawnAndWait(binary, ["plan", "--uri", Self.uri, "--request", request, "--apply", "--dry-run"])
            #expect(status == 0, "\(err)")
            #expect(out.contains("vCPU 0 pin (live): \(pinsBefore[0].listString) → "), "\(out)")
            #expect(out.contains("persistent definition"))
            #expect(out.contains("+  <cputune>") && out.contains("+    <vcpupin vcpu='0'"), "\(out)")
            #expect(try await domain.xmlDescription(flags: [.inactive]) == inactiveBefore)
            #expect(try await domain.vcpuPinning(flags: .live) == pinsBefore)
        }
    }
}
