import CgroupControl
import DomainXML
import Foundation
import HostProbe
import Libvirt
import LibvirtJoins
import Testing
import Tuning
import VirtCore
import VirtKitTestSupport

/// The new step kinds on real guests on `qemu:///system`: IOThread pins, scheduler and memory
/// parameters, direct cgroup writes; each checked through libvirt and through the guest's
/// cgroup files, rolled back, and a plan whose third step the kernel refuses.
@Suite(.serialized) struct StepKindLiveTests {
    static let uri = "qemu:///system"

    func withGuest(vcpus: Int = 1, extra: String = "", _ body: (Connection, Domain) async throws -> Void) async throws {
        try await StepFixtures.withRunningGuest(on: Self.uri, tag: "steps", vcpus: vcpus, extra: extra, body)
    }

    /// A cgroup file of the running guest (`part` of its tree, the hierarchy serving `controller`).
    func cgroupFile(_ domain: Domain, _ part: CgroupTarget.Part, _ controller: Controller, _ file: String) async throws -> String? {
        let sys = try await CgroupSystem.detect()
        guard let tree = try await domain.location(locator: GuestLocator(cgroups: sys)).cgroups,
              let cg = CgroupTarget(part: part, cgroup: tree.top).resolveForTest(in: tree),
              let dir = cg.directory(for: controller, in: sys.layout) else { return nil }
        return (try? String(contentsOfFile: dir + "/" + file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func step(_ d: Domain, _ c: ReconfigurationChange) -> ReconfigurationStep {
        ReconfigurationStep(domain: d.name, uuid: d.uuid.description, change: c)
    }

    @Test func iothreadSchedulerMemoryAndCgroupStepsApplyAndRollBack() async throws {
        try await withGuest(vcpus: 1, extra: "<iothreads>1</iothreads>") { connection, domain in
            let host = try await connection.nodeInfo()
            let last = max(0, Int(host.cpus) - 1)
            let inactiveBefore = try await domain.xmlDescription(flags: [.inactive])
            let io = try #require(try await domain.ioThreads(flags: .live).first { $0.id == 1 })
            let sched = try await domain.schedulerParameters(flags: .live)
            let mem = try await domain.memoryParameters(flags: .live)
            let sys = try await CgroupSystem.detect()
            let tree = try #require(try await domain.location(locator: GuestLocator(cgroups: sys)).cgroups)
            let topSettings = try await sys.settings(of: tree.top)
            let weight = try #require(topSettings.cpuShares.map(CgroupChange.cpuShares) ?? topSettings.cpuWeight.map(CgroupChange.cpuWeight))

            let wantSched = SchedulerParameters(vcpuPeriod: .milliseconds(100), vcpuQuota: .limited(.milliseconds(50)))
            let wantMem = MemoryParameters(hardLimit: .limited(.gibibytes(2)), softLimit: .limited(.gibibytes(1)))
            let plan = ReconfigurationPlan(uri: Self.uri, steps: [
                step(domain, .iothreadPin(id: 1, before: io.cpus, after: [last])),
                step(domain, .scheduler(before: sched.restricted(to: wantSched), after: wantSched)),
                step(domain, .memoryTuning(before: mem.restricted(to: wantMem), after: wantMem)),
                step(domain, .cgroup(target: CgroupTarget(part: .top, cgroup: tree.top), before: [weight], after: [.cpuShares(512)])),
            ])
            let journal = StepFixtures.journalPath()
            try await ReconfigurationApplier(connection: connection).apply(plan, journal: journal)

            // Through libvirt …
            #expect(try await domain.ioThreads(flags: .live).first { $0.id == 1 }?.cpus == [last])
            let s = try await domain.schedulerParameters(flags: .live)
            #expect(s.vcpuQuota == .limited(.milliseconds(50)) && s.vcpuPeriod == .milliseconds(100))
            let m = try await domain.memoryParameters(flags: .live)
            #expect(m.hardLimit == .limited(.gibibytes(2)) && m.softLimit == .limited(.gibibytes(1)))
            // … and through the cgroup files libvirt and CgroupControl wrote.
            if let q = try await cgroupFile(domain, .vcpu(0), .cpu, "cpu.cfs_quota_us") { #expect(q == "50000", "vcpu0 cpu.cfs_quota_us") }
            else if let q = try await cgroupFile(domain, .vcpu(0), .cpu, "cpu.max") { #expect(q == "50000 100000", "vcpu0 cpu.max") }
            if let cpus = try await cgroupFile(domain, .iothread(1), .cpuset, "cpuset.cpus") { #expect(cpus == "\(last)", "iothread1 cpuset.cpus") }
            if let limit = try await cgroupFile(domain, .top, .memory, "memory.limit_in_bytes") { #expect(limit == "\(MemorySize.gibibytes(2).bytes)") }
            else if let limit = try await cgroupFile(domain, .top, .memory, "memory.max") { #expect(limit == "\(MemorySize.gibibytes(2).bytes)") }
            var shares = try await cgroupFile(domain, .top, .cpu, "cpu.shares")
            if shares == nil { shares = try await cgroupFile(domain, .top, .cpu, "cpu.weight") }
            #expect(shares == "512" || shares == "50", "top cpu.shares / cpu.weight: \(shares ?? "unreadable")")

            try await ReconfigurationApplier(connection: connection).rollback(journal: journal)
            #expect(try await domain.ioThreads(flags: .live).first { $0.id == 1 }?.cpus == io.cpus)
            #expect(try await domain.schedulerParameters(flags: .live).restricted(to: wantSched) == sched.restricted(to: wantSched))
            #expect(try await domain.memoryParameters(flags: .live).restricted(to: wantMem) == mem.restricted(to: wantMem))
            let sharesBack = try await sys.settings(of: tree.top)
            #expect(sharesBack.cpuShares == topSettings.cpuShares && sharesBack.cpuWeight == topSettings.cpuWeight)
            #expect(try await domain.xmlDescription(flags: [.inactive]) == inactiveBefore)
            #expect(try ReconfigurationJournal.read(from: journal).entries.allSatisfy { $0.state == .undone })
        }
    }

    /// Step 3 asks a vCPU cgroup for more CPU bandwidth than step 2 gave the whole guest: the
    /// kernel refuses the write (EINVAL, a child's quota may not exceed its parent's).
    @Test func aThirdStepTheKernelRefusesLeavesEverythingAsBefore() async throws {
        try await withGuest(vcpus: 1, extra: "<iothreads>1</iothreads>") { connection, domain in
            let io = try #require(try await domain.ioThreads(flags: .live).first { $0.id == 1 })
            let sched = try await domain.schedulerParameters(flags: .live)
            let sys = try await CgroupSystem.detect()
            let tree = try #require(try await domain.location(locator: GuestLocator(cgroups: sys)).cgroups)
            let vcpu0 = try #require(tree.vcpus[0])
            let vcpuBefore = try await sys.settings(of: vcpu0)
            let vcpuQuota = try #require(vcpuBefore.cpuQuota)
            let global = SchedulerParameters(globalPeriod: .milliseconds(100), globalQuota: .limited(.milliseconds(10)))
            let plan = ReconfigurationPlan(uri: Self.uri, steps: [
                step(domain, .iothreadPin(id: 1, before: io.cpus, after: [0])),
                step(domain, .scheduler(before: sched.restricted(to: global), after: global)),
                step(domain, .cgroup(target: CgroupTarget(part: .vcpu(0), cgroup: vcpu0),
                                     before: [.cpuBandwidth(quota: vcpuQuota, period: vcpuBefore.cpuPeriod)],
                                     after: [.cpuBandwidth(quota: .limited(.milliseconds(50)), period: .milliseconds(100))])),
            ])
            let journal = StepFixtures.journalPath()
            let error = await #expect(throws: ReconfigurationError.self) {
                try await ReconfigurationApplier(connection: connection).apply(plan, journal: journal)
            }
            guard case .stepFailed(let index, _, let message, let undo)? = error?.reason else {
                Issue.record("expected step 3 to fail, got \(String(describing: error))")
                return
            }
            #expect(index == 2 && undo.isEmpty, "\(message)")
            #expect(message.contains("EINVAL"), "the kernel's refusal: \(message)")
            #expect(try await domain.ioThreads(flags: .live).first { $0.id == 1 }?.cpus == io.cpus)
            #expect(try await domain.schedulerParameters(flags: .live).restricted(to: global) == sched.restricted(to: global))
            let after = try await sys.settings(of: vcpu0)
            #expect(after.cpuQuota == vcpuBefore.cpuQuota && after.cpuPeriod == vcpuBefore.cpuPeriod)
            #expect(try ReconfigurationJournal.read(from: journal).entries.map(\.state) == [.undone, .undone, .undone])
        }
    }

    @Test func placementPinsIOThreadsLive() async throws {
        try await withGuest(vcpus: 1, extra: "<iothreads>1</iothreads>") { connection, domain in
            let host = try #require(try await HostProber().snapshot(sections: [.topology, .numa, .memory]).hostTopology)
            let plan = try PlacementPlanner(host: host).plan(PlacementRequest(guests: [
                GuestPlacementRequest(name: domain.name, vcpus: 1, memory: .mebibytes(64), iothreads: 1),
            ]))
            let target = try #require(plan.placements.first)
            let before = try #require(try await domain.ioThreads(flags: .live).first)
            let steps = try await ReconfigurationPlan.placing(plan, on: connection, uri: Self.uri, scope: .live)
            if before.cpus != target.iothreadPins[0] {
                #expect(steps.steps.contains { $0.change == .iothreadPin(id: 1, before: before.cpus, after: target.iothreadPins[0]) })
            }
            let journal = StepFixtures.journalPath()
            try await ReconfigurationApplier(connection: connection).apply(steps, journal: journal)
            #expect(try await domain.ioThreads(flags: .live).first?.cpus == target.iothreadPins[0])
            try await ReconfigurationApplier(connection: connection).rollback(journal: journal)
            #expect(try await domain.ioThreads(flags: .live).first?.cpus == before.cpus)
        }
    }

    /// A running guest whose vCPU 0 is pinned to the last online CPU while its emulator is not
    /// (finding `guest.emulator.on-vcpu-cpus`), with that CPU, its inactive XML and emulator pin.
    func withPinnedGuest(_ body: (Domain, Int, String, CPUSet) async throws -> Void) async throws {
        let host = try #require(try await HostProber().snapshot(sections: [.topology]).hostTopology)
        guard let vcpuCPU = host.cpus.filter(\.online).map(\.id).max(), host.cpus.filter(\.online).count > 1 else {
            LiveEnvironment.unavailable("needs 2 online CPUs")
            return
        }
        try await withGuest(vcpus: 1, extra: "<cputune><vcpupin vcpu='0' cpuset='\(vcpuCPU)'/></cputune>") { _, domain in
            try await body(domain, vcpuCPU, try await domain.xmlDescription(flags: [.inactive]), try await domain.emulatorPinning(flags: .live))
        }
    }

    /// `virtkit doctor --fix` on a guest whose vCPU is pinned while its emulator threads are
    /// not: the finding's live pin and definition edit are applied, then rolled back.
    @Test func doctorFixAppliesAFindingsRemediesAndRollbackRestoresThem() async throws {
        guard let binary = BuiltCLI.path() else { return }
        try await withPinnedGuest { domain, vcpuCPU, inactiveBefore, emulatorBefore in
            let id = "guest.emulator.on-vcpu-cpus"
            let (dry, dryOut, dryErr) = spawnAndWait(binary, ["doctor", domain.name, "--uri", Self.uri, "--sample", "0", "--fix", "--findings", id, "--dry-run"])
            #expect(dry == 0, "\(dryErr)")
            #expect(dryOut.contains("emulator pin (live): \(emulatorBefore.listString) → "), "\(dryOut)")
            #expect(dryOut.contains("+") && dryOut.contains("emulatorpin"), "\(dryOut)")
            #expect(try await domain.emulatorPinning(flags: .live) == emulatorBefore, "dry run changed nothing")

            let journal = StepFixtures.journalPath()
            let (rc, out, err) = spawnAndWait(binary, ["doctor", domain.name, "--uri", Self.uri, "--sample", "0", "--fix", "--findings", id, "--journal", journal])
            #expect(rc == 0, "\(out)\(err)")
            let pinned = try await domain.emulatorPinning(flags: .live)
            #expect(!pinned.contains(vcpuCPU) && !pinned.isEmpty, "emulator moved off the vCPU's CPU: \(pinned)")
            let applied = try await domain.definition(.persistent)
            #expect(try applied.cputune.emulatorpin.cpuset.value == pinned)
            if let cg = try await cgroupFile(domain, .emulator, .cpuset, "cpuset.cpus") {
                #expect((try? CPUSet(parsing: cg)) == pinned, "emulator cgroup cpuset.cpus")
            }

            let (back, _, backErr) = spawnAndWait(binary, ["rollback", journal])
            #expect(back == 0, "\(backErr)")
            #expect(try await domain.emulatorPinning(flags: .live) == emulatorBefore)
            #expect(try await domain.xmlDescription(flags: [.inactive]) == inactiveBefore, "inactive XML byte-identical")
        }
    }
}

extension StepKindLiveTests {
    /// `doctor --fix` killed (SIGKILL) after its first step: `virtkit rollback` restores the
    /// live pin from the journal; the definition was never touched.
    @Test func killedFixIsRestoredByRollback() async throws {
        guard let binary = BuiltCLI.path() else { return }
        try await withPinnedGuest { domain, _, inactiveBefore, emulatorBefore in
            let journal = StepFixtures.journalPath()
            setenv("VIRTKIT_PLAN_KILL_AFTER_STEPS", "1", 1)
            let (status, _, err) = spawnAndWait(binary, ["doctor", domain.name, "--uri", Self.uri, "--sample", "0", "--fix",
                                                          "--findings", "guest.emulator.on-vcpu-cpus", "--journal", journal])
            unsetenv("VIRTKIT_PLAN_KILL_AFTER_STEPS")
            #expect(status == 128 + SIGKILL, "\(err)")
            let states = try ReconfigurationJournal.read(from: journal).entries.map(\.state)
            #expect(states == [.done, .pending])
            #expect(try await domain.emulatorPinning(flags: .live) != emulatorBefore, "the killed run moved the emulator")

            let (rc, _, rollbackErr) = spawnAndWait(binary, ["rollback", journal])
            #expect(rc == 0, "\(rollbackErr)")
            #expect(try await domain.emulatorPinning(flags: .live) == emulatorBefore)
            #expect(try await domain.xmlDescription(flags: [.inactive]) == inactiveBefore)
        }
    }
}

extension StepKindLiveTests {
    /// The guest side of a multi-cell placement on a real KVM guest: two guest NUMA cells,
    /// per-cell vCPU pins and memnodes, applied live and persistently, then booted from the
    /// new definition (QEMU starts with both cells). This host has one NUMA node, so both
    /// cells sit on node 0: the planner never does that (one host node per cell), and a
    /// plan across two host nodes cannot be applied live here.
    @Test func twoCellPlacementAppliesToARealGuestAndBoots() async throws {
        let host = try #require(try await HostProber().snapshot(sections: [.topology, .numa]).hostTopology)
        let online = host.cpus.filter(\.online).map(\.id).sorted()
        guard online.count >= 2, let node = host.nodes.first?.id else {
            LiveEnvironment.unavailable("needs 2 online CPUs")
            return
        }
        try await withGuest(vcpus: 2) { connection, domain in
            let inactiveBefore = try await domain.xmlDescription(flags: [.inactive])
            let pinsBefore = try await domain.vcpuPinning(flags: .live)
            let placement = GuestPlacement(
                name: domain.name, cpuPolicy: .dedicated, vcpuPins: [[online[0]], [online[1]]], emulatorPin: CPUSet(online),
                iothreadPins: [], memoryNodes: [node],
                cells: [GuestCellPlacement(id: 0, vcpus: [0], memory: .mebibytes(32), hostNode: node),
                        GuestCellPlacement(id: 1, vcpus: [1], memory: .mebibytes(32), hostNode: node)],
                topology: PlannedCPUTopology(sockets: 2, cores: 1, threads: 1), hugepageSize: nil)
            let plan = PlacementPlan(placements: [placement], unplaced: [], score: PlacementScore(placed: 1, nodesCrossed: 0, wholeCoresFree: 0, imbalance: 0))
            let steps = try await ReconfigurationPlan.placing(plan, on: connection, uri: Self.uri, scope: [.live, .config])
            let journal = StepFixtures.journalPath()
            try await ReconfigurationApplier(connection: connection).apply(steps, journal: journal)
            #expect(try await domain.vcpuPinning(flags: .live) == [[online[0]], [online[1]]])
            if let cg = try await cgroupFile(domain, .vcpu(1), .cpuset, "cpuset.cpus") { #expect(cg == "\(online[1])", "vcpu1 cpuset.cpus") }

            // Boot from the two-cell definition: libvirt and QEMU accept what the placement wrote.
            try await domain.destroy()
            try await domain.start()
            let running = try await domain.definition(.live)
            #expect(running.cpu.numa.cells.count == 2)
            #expect(running.numatune.memnode.count == 2)
            #expect(try await domain.vcpuPinning(flags: .live) == [[online[0]], [online[1]]], "pins from the definition after boot")

            try await ReconfigurationApplier(connection: connection).rollback(journal: journal)
            #expect(try await domain.xmlDescription(flags: [.inactive]) == inactiveBefore, "inactive XML byte-identical")
            #expect(try await domain.vcpuPinning(flags: .live) == pinsBefore)
        }
    }
}

extension StepKindLiveTests {
    /// Remedy steps read the real /proc/sys and /sys (files that stat as empty, choice lists)
    /// for their `before` values; nothing is written (a shared host).
    @Test func hostKnobStepsReadTheRealProcAndSysValues() async throws {
        let (conn, uri) = try await StepFixtures.node([], tag: "realknobs")
        let thp = "/sys/kernel/mm/transparent_hugepage/enabled"
        guard let swappiness = try? String(contentsOfFile: "/proc/sys/vm/swappiness", encoding: .utf8),
              let thpText = try? String(contentsOfFile: thp, encoding: .utf8) else {
            LiveEnvironment.unavailable("no /proc/sys/vm/swappiness or \(thp)")
            return
        }
        let words = thpText.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        let selected = try #require(words.first { $0.hasPrefix("[") }?.trimmingCharacters(in: CharacterSet(charactersIn: "[]")))
        let other = try #require(words.first { !$0.hasPrefix("[") }, "\(thpText)")
        let host = Finding.Subject.host(name: "live")
        let findings = [
            Finding(id: "host.swappiness", severity: .info, subject: host, title: "", explanation: "", evidence: [],
                    remedies: [Remedy(.sysctl(name: "vm.swappiness", value: "10"), applies: .live, "x")], source: RuleSource("test")),
            Finding(id: "host.thp.disabled", severity: .info, subject: host, title: "", explanation: "", evidence: [],
                    remedies: [Remedy(.sysfs(path: thp, value: other), applies: .live, "x")], source: RuleSource("test")),
        ]
        let remedy = try await ReconfigurationPlan.remedying(findings, on: conn, uri: uri)
        #expect(remedy.plan.steps.map(\.change) == [
            .sysctl(name: "vm.swappiness", before: swappiness.trimmingCharacters(in: .whitespacesAndNewlines), after: "10"),
            .sysfs(path: thp, before: selected, after: other),
        ].filter { !$0.isNoOp })
        await conn.close()
    }
}

extension CgroupTarget {
    fileprivate func resolveForTest(in tree: GuestCgroups) -> Cgroup? {
        switch part {
        case nil, .top?: tree.top
        case .emulator?: tree.emulator
        case .vcpu(let n)?: tree.vcpus[n]
        case .iothread(let n)?: tree.iothreads[n]
        }
    }
}
