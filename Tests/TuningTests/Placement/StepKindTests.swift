import CgroupControl
import DomainXML
import Foundation
import Libvirt
import LibvirtXML
import Testing
import Tuning
import VirtCore
import VirtKitTestSupport

/// Host steps (sysctl, sysfs, cgroup) on temporary roots, DomainXML edits on documents, and
/// the journal form of every step kind. No daemon: test-driver node files only.
@Suite struct StepKindTests {
    typealias S = StepFixtures

    @Test func sysctlAndSysfsStepsApplyReadBackAndRollBack() async throws {
        let root = try S.hostRoot([
            "/proc/sys/vm/swappiness": "60\n",
            "/proc/sys/net/ipv4/ip_local_port_range": "32768\t60999\n",
            "/sys/kernel/mm/transparent_hugepage/enabled": "always madvise [never]\n",
        ])
        let (conn, uri) = try await S.node([], tag: "sysctl")
        let plan = ReconfigurationPlan(uri: uri, steps: [
            ReconfigurationStep(domain: "", uuid: "", change: .sysctl(name: "vm.swappiness", before: "60", after: "10")),
            ReconfigurationStep(domain: "", uuid: "", change: .sysctl(name: "net/ipv4/ip_local_port_range", before: "32768 60999", after: "40000 50000")),
            ReconfigurationStep(domain: "", uuid: "", change: .sysfs(path: "/sys/kernel/mm/transparent_hugepage/enabled", before: "never", after: "madvise")),
        ])
        let journal = S.journalPath()
        try await ReconfigurationApplier(connection: conn, hostRoot: root).apply(plan, journal: journal)
        #expect(S.read(root, "/proc/sys/vm/swappiness") == "10")
        #expect(S.read(root, "/proc/sys/net/ipv4/ip_local_port_range") == "40000 50000")
        #expect(S.read(root, "/sys/kernel/mm/transparent_hugepage/enabled") == "madvise")
        #expect(try ReconfigurationJournal.read(from: journal).hostRoot == root)

        // The journal names the root: a rollback from an applier for "/" still writes there.
        try await ReconfigurationApplier(connection: conn).rollback(journal: journal)
        #expect(S.read(root, "/proc/sys/vm/swappiness") == "60")
        #expect(S.read(root, "/proc/sys/net/ipv4/ip_local_port_range") == "32768 60999")
        #expect(S.read(root, "/sys/kernel/mm/transparent_hugepage/enabled") == "never")
        #expect(try ReconfigurationJournal.read(from: journal).entries.allSatisfy { $0.state == .undone })
        await conn.close()
    }

    @Test(arguments: [
        ReconfigurationChange.sysctl(name: "vm.swappiness", before: "60", after: "500"),          // beyond the kernel's 0…200
        .sysctl(name: "vm.swappiness", before: "60", after: "ten"),                               // not a number
        .sysctl(name: "vm.swappiness", before: "60", after: "10\nvm.x=1"),                         // two lines
        .sysctl(name: "../../etc/passwd", before: "", after: "x"),                                 // not a sysctl name
        .sysctl(name: "vm.no_such_knob", before: "", after: "1"),                                  // no such file
        .sysfs(path: "/etc/hostname", before: "", after: "x"),                                     // outside /sys
        .sysfs(path: "/sys/kernel/mm/transparent_hugepage/enabled", before: "never", after: "sometimes"),  // not a choice
        .scheduler(before: SchedulerParameters(), after: SchedulerParameters(vcpuPeriod: .microseconds(10))),     // period < 1 ms
        .scheduler(before: SchedulerParameters(), after: SchedulerParameters(cpuShares: 1)),                      // shares < 2
    ])
    func badValuesAreRejectedBeforeAnyChange(_ bad: ReconfigurationChange) async throws {
        let root = try S.hostRoot([
            "/proc/sys/vm/swappiness": "60\n",
            "/sys/kernel/mm/transparent_hugepage/enabled": "always madvise [never]\n",
        ])
        let (conn, uri) = try await S.node([], tag: "invalid")
        let good = ReconfigurationStep(domain: "", uuid: "", change: .sysctl(name: "vm.swappiness", before: "60", after: "10"))
        let journal = S.journalPath()
        let error = await #expect(throws: ReconfigurationError.self) {
            try await ReconfigurationApplier(connection: conn, hostRoot: root)
                .apply(ReconfigurationPlan(uri: uri, steps: [good, ReconfigurationStep(domain: bad.needsGuest ? "nobody" : "", uuid: "", change: bad)]), journal: journal)
        }
        if case .invalid? = error?.reason {} else { Issue.record("expected a rejection before any change, got \(String(describing: error))") }
        #expect(S.read(root, "/proc/sys/vm/swappiness") == "60", "the first (valid) step never ran")
        #expect(!FileManager.default.fileExists(atPath: journal), "no journal: nothing started")
        await conn.close()
    }

    @Test func cgroupStepWritesThroughCgroupControlAndRollsBack() async throws {
        let root = try S.cgroupTree("v1-libvirt")
        let sys = try await CgroupSystem.detect(root: root)
        let guestTop = sys.cgroup("/machine/qemu-3-web.libvirt-qemu")
        let dir = try #require(guestTop.directory(for: .cpu, in: sys.layout))
        let sharesBefore = S.read(root, dir + "/cpu.shares"), quotaBefore = S.read(root, dir + "/cpu.cfs_quota_us")
        let periodBefore = S.read(root, dir + "/cpu.cfs_period_us")
        let settings = try await sys.settings(of: guestTop)
        let after: [CgroupChange] = [.cpuShares(512), .cpuBandwidth(quota: .limited(.milliseconds(20)), period: .milliseconds(50))]
        let before: [CgroupChange] = [.cpuShares(try #require(settings.cpuShares)),
                                      .cpuBandwidth(quota: try #require(settings.cpuQuota), period: settings.cpuPeriod)]
        let (conn, uri) = try await S.node([], tag: "cgroup")
        let plan = ReconfigurationPlan(uri: uri, steps: [
            ReconfigurationStep(domain: "", uuid: "", change: .cgroup(target: CgroupTarget(part: nil, cgroup: guestTop), before: before, after: after)),
        ])
        #expect(plan.dryRunDescription.contains("cpu shares \(sharesBefore ?? "") → ") || plan.dryRunDescription.contains("cpu shares"), "\(plan.dryRunDescription)")
        let journal = S.journalPath()
        try await ReconfigurationApplier(connection: conn, hostRoot: root).apply(plan, journal: journal)
        #expect(S.read(root, dir + "/cpu.shares") == "512")
        #expect(S.read(root, dir + "/cpu.cfs_quota_us") == "20000")
        #expect(S.read(root, dir + "/cpu.cfs_period_us") == "50000")
        // The journal carries the CgroupChanges (Codable) and comes back equal.
        #expect(try ReconfigurationJournal.read(from: journal).entries.map(\.step) == plan.steps)

        try await ReconfigurationApplier(connection: conn).rollback(journal: journal)
        #expect(S.read(root, dir + "/cpu.shares") == sharesBefore)
        #expect(S.read(root, dir + "/cpu.cfs_quota_us") == quotaBefore)
        #expect(S.read(root, dir + "/cpu.cfs_period_us") == periodBefore)
        await conn.close()
    }

    @Test func cgroupStepWithAnInvalidValueIsRejectedBeforeAnyChange() async throws {
        let root = try S.cgroupTree("v1-libvirt")
        let sys = try await CgroupSystem.detect(root: root)
        let top = sys.cgroup("/machine/qemu-3-web.libvirt-qemu")
        let (conn, uri) = try await S.node([], tag: "cgbad")
        let plan = ReconfigurationPlan(uri: uri, steps: [
            ReconfigurationStep(domain: "", uuid: "", change: .cgroup(target: CgroupTarget(part: nil, cgroup: top), before: [.cpuShares(1024)], after: [.cpuShares(1)])),
        ])
        await #expect(throws: ReconfigurationError.self) {
            try await ReconfigurationApplier(connection: conn, hostRoot: root).apply(plan, journal: S.journalPath())
        }
        #expect(S.read(root, try #require(top.directory(for: .cpu, in: sys.layout)) + "/cpu.shares") == "1024")
        await conn.close()
    }

    @Test func everyStepKindSurvivesTheJournal() throws {
        let top = Cgroup(paths: ["/sys/fs/cgroup/cpu": "/machine.slice/x.scope"])
        let steps: [ReconfigurationChange] = [
            .iothreadPin(id: 1, before: [0, 1], after: [1]),
            .scheduler(before: SchedulerParameters(vcpuQuota: .unlimited), after: SchedulerParameters(vcpuPeriod: .milliseconds(100), vcpuQuota: .limited(.milliseconds(50)))),
            .memoryTuning(before: MemoryParameters(hardLimit: .unlimited), after: MemoryParameters(hardLimit: .limited(.gibibytes(1)))),
            .cgroup(target: CgroupTarget(part: .vcpu(0), cgroup: top), before: [.cpusetCPUs([0, 1])], after: [.cpusetCPUs([1])]),
            .cgroup(target: CgroupTarget(part: nil, cgroup: top), before: [.memoryMax(.unlimited)], after: [.memoryMax(.limited(.mebibytes(512)))]),
            .sysctl(name: "vm.swappiness", before: "60", after: "10"),
            .sysfs(path: "/sys/kernel/mm/ksm/run", before: "1", after: "2"),
            .definitionEdits(before: "<domain/>", after: "<domain><vcpu>1</vcpu></domain>", edits: [.set("vcpu", to: "1")]),
        ]
        var plan = ReconfigurationPlan(uri: "test:///x", steps: steps.map { ReconfigurationStep(domain: "g", uuid: "u", change: $0) })
        let path = S.journalPath()
        try ReconfigurationJournal(plan: plan, hostRoot: "/tmp/root").write(to: path)
        let back = try ReconfigurationJournal.read(from: path)
        #expect(back.entries.map(\.step) == plan.steps)
        #expect(back.hostRoot == "/tmp/root")
        for s in steps {
            #expect(!s.isNoOp)
            #expect(s.inverse.inverse == s || { if case .definitionEdits = s { true } else { false } }(), "\(s)")
        }
        plan.steps = []
        #expect(plan.dryRunDescription.isEmpty)
    }

    // MARK: DomainXML edits

    @Test func domainXMLEditsApplyAndAreCheckedOnTheResult() throws {
        let text = try String(contentsOf: DiagnosisFixtures.guestDir.appendingPathComponent("cirrus-vnc.xml"), encoding: .utf8)
        let d = try DomainDefinition(parsing: text)
        let edits: [DomainXMLEdit] = [
            .set("devices/disk[target=vda]/driver", attribute: "cache", to: "directsync"),
            .set("devices/video/model", attribute: "type", to: "virtio"),
            .set("memtune/hard_limit", to: "5242880"),
            .add("numatune", "<memory mode='strict' nodeset='1'/>"),
            .add("devices", "<watchdog model='ib700' action='poweroff'/>"),
            .remove("devices/memballoon"),
            .set("vcpu", attribute: "cpuset", to: "0,1"),
        ]
        for e in edits where e.operation != .remove { #expect(!e.isSatisfied(by: d), "\(e) before") }
        for e in edits { try e.apply(to: d) }
        for e in edits { #expect(e.isSatisfied(by: d), "\(e) after") }
        let out = try DomainDefinition(parsing: d.serialize())
        #expect(out.validate().isEmpty)
        #expect(try out.numatune.memory.nodeset.value == [1], "add replaced the one <memory> under numatune")
        #expect(out.document.root.firstChild(named: "numatune")?.children(named: "memory").count == 1)
        #expect(d.serialize().contains("<hard_limit>5242880</hard_limit>"))
        // A CPU list printed another way still counts.
        #expect(DomainXMLEdit.set("vcpu", attribute: "cpuset", to: "0-1").isSatisfied(by: out))
        // A predicate that matches nothing is an error, never a new element.
        #expect(throws: ReconfigurationError.self) { try DomainXMLEdit.set("devices/disk[target=vdz]/driver", attribute: "cache", to: "none").apply(to: out) }
        #expect(throws: ReconfigurationError.self) { try DomainXMLEdit.add("devices", "<not xml").apply(to: out) }
        let deep = String(repeating: "<a>", count: 40) + String(repeating: "</a>", count: 40)
        #expect(throws: ReconfigurationError.self) { try DomainXMLEdit.add("devices", deep).apply(to: out) }
    }

    @Test(arguments: ["", "/", "//", "[", "]", "a[", "a[b", "a[=]", "a[=x]", "devices/disk[target=]/driver", "devices/[x=y]",
                      "devices/disk[target=vda]]", "devices/disk[[target=vda]", String(repeating: "a/", count: 300) + "b", "../../x", "devices/disk[target=v/da]/driver"])
    func hostileEditPathsAreErrorsOrNoOpsNeverCrashes(_ path: String) throws {
        let d = try DomainDefinition(parsing: "<domain type='kvm'><name>h</name><devices><disk type='file'><target dev='vda'/></disk></devices></domain>")
        for edit in [DomainXMLEdit.set(path, attribute: "x", to: "1"), .set(path, to: nil), .add(path, "<e/>"), .remove(path)] {
            do { try edit.apply(to: d) } catch {}
            _ = edit.isSatisfied(by: d)
        }
        #expect(try DomainDefinition(parsing: d.serialize()).name.value == "h", "still a domain document")
    }

    // MARK: Multi-cell placement, persistently, on the test driver's 2-node host

    @Test func twoCellPlacementIsAppliedPersistentlyAndRolledBackOnTheTestDriver() async throws {
        // The test driver's default host has 2 NUMA cells of 8 CPUs; read its capabilities only.
        let reference = try await Connection.open("test:///default", readOnly: true)
        let host = try HostCapabilities(parsing: try await reference.capabilitiesXML()).hostTopology()
        await reference.close()
        #expect(host.nodes.count == 2)

        let guest = "<domain type='test'><name>mc</name><uuid>6d1c2a9e-0000-4000-8000-00000000000c</uuid><memory unit='MiB'>768</memory><vcpu placement='static'>4</vcpu><os><type>hvm</type></os></domain>"
        let (conn, uri) = try await S.node([guest], tag: "multicell")
        let domain = try await conn.domain(named: "mc")
        let inactiveBefore = try await domain.xmlDescription(flags: [.inactive])
        let plan = try PlacementPlanner(host: host).plan(PlacementRequest(guests: [
            GuestPlacementRequest(name: "mc", vcpus: 4, memory: .mebibytes(768), numaNodes: 2),
        ]))
        let p = try #require(plan.placements.first, "\(plan.unplaced)")
        #expect(Set(p.cells.map(\.hostNode)) == [0, 1])

        let steps = try await ReconfigurationPlan.placing(plan, on: conn, uri: uri, scope: .config)
        #expect(steps.steps.count == 1)
        let journal = S.journalPath()
        try await ReconfigurationApplier(connection: conn).apply(steps, journal: journal)

        let applied = try DomainDefinition(parsing: try await domain.xmlDescription(flags: [.inactive]))
        let cells = applied.cpu.numa.cells
        #expect(cells.count == 2)
        for (i, c) in p.cells.enumerated() where i < cells.count {
            #expect(try cells[i].cpus.value == c.vcpus)
            let memnode = applied.numatune.memnode.first { (try? $0.cellid.value) == c.id }
            #expect(try memnode?.nodeset.value == [c.hostNode])
            for v in c.vcpus {
                let pin = applied.cputune.vcpupin.first { (try? $0.vcpu.value) == v }
                #expect(try pin?.cpuset.value == p.vcpuPins[v], "vCPU \(v) pinned on its cell's node \(c.hostNode)")
                #expect(p.vcpuPins[v].isSubset(of: try #require(host.nodes.first { $0.id == c.hostNode }).cpus))
            }
        }
        // Memory split in proportion to the cells' vCPUs, summing to the guest's memory.
        #expect(p.cells.reduce(MemorySize.zero) { $0 + $1.memory } == .mebibytes(768))

        try await ReconfigurationApplier(connection: conn).rollback(journal: journal)
        #expect(try await domain.xmlDescription(flags: [.inactive]) == inactiveBefore, "inactive XML byte-identical")
        await conn.close()
    }
}

extension StepKindTests {
    /// `virtkit plan --uri test:///default` plans on the test driver's own 2-cell host (its
    /// capabilities, not this machine's /sys) and re-places the driver's `test` domain over
    /// both cells; `--dry-run` shows the two-cell definition. (test:///default is private to
    /// the CLI process: nothing here touches this process's test driver.)
    @Test func planCommandPlacesTwoCellsOnTheTestDriversHost() throws {
        guard let binary = BuiltCLI.path() else { return }
        let request = try BuiltCLI.requestFile(#"{"guests": [{"name": "test", "vcpus": 2, "memoryMiB": 1024, "numaNodes": 2}]}"#)
        let (rc, out, err) = spawnAndWait(binary, ["plan", "--uri", "test:///default", "--request", request, "--json"])
        #expect(rc == 0, "\(err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let placement = try #require((json["placements"] as? [[String: Any]])?.first, "\(out)")
        let cells = try #require(placement["cells"] as? [[String: Any]])
        #expect(Set(cells.compactMap { $0["hostNode"] as? Int }) == [0, 1], "\(out)")
        #expect(cells.compactMap { $0["memoryMiB"] as? Int }.reduce(0, +) == 1024)

        let (drc, dry, derr) = spawnAndWait(binary, ["plan", "--uri", "test:///default", "--request", request, "--apply", "--config", "--dry-run"])
        #expect(drc == 0, "\(derr)")
        #expect(dry.contains("persistent definition"), "\(dry)")
        #expect(dry.contains("+      <cell id='1'") || dry.contains("<cell id='1'"), "\(dry)")
        #expect(dry.contains("memnode cellid='1'"), "\(dry)")
    }
}

extension ReconfigurationChange {
    fileprivate var needsGuest: Bool {
        if case .scheduler = self { true } else { false }
    }
}
