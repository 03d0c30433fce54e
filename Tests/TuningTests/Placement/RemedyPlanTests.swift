import DomainXML
import Foundation
import HostProbe
import Libvirt
import Testing
import Tuning
import VirtCore
import VirtKitTestSupport

/// Diagnosis findings turned into reconfiguration plans: the pure selection on fixture
/// findings, then whole plans applied and rolled back on a test-driver guest and a temporary
/// host root.
@Suite struct RemedyPlanTests {
    typealias F = DiagnosisFixtures
    typealias S = StepFixtures

    /// A test-driver guest with three configuration findings: cirrus video behind VNC,
    /// watchdog `pause`, and `<locked/>` memory without a hard limit.
    static let guestXML = """
    <domain type='test'>
      <name>remedy-guest</name>
      <uuid>7e0e8a51-0000-4000-8000-0000000000a1</uuid>
      <memory unit='MiB'>512</memory>
      <vcpu placement='static'>2</vcpu>
      <memoryBacking><locked/></memoryBacking>
      <os><type>hvm</type></os>
      <devices>
        <graphics type='vnc' port='-1'/>
        <video><model type='cirrus'/></video>
        <watchdog model='i6300esb' action='pause'/>
      </devices>
    </domain>
    """

    static func guestFacts() throws -> GuestFacts {
        let d = try DomainDefinition(parsing: guestXML)
        return GuestFacts(reference: GuestReference(uuid: try #require(try d.uuid.value), name: "remedy-guest"),
                          status: .running(.booted), definition: GuestDefinitionFacts(d))
    }

    static let hostFiles = [
        "/proc/sys/vm/swappiness": "60\n",
        "/sys/kernel/mm/transparent_hugepage/enabled": "always madvise [never]\n",
    ]

    static let chosenIDs: Set<Finding.ID> = ["host.swappiness", "host.thp.disabled", "guest.console.video-model",
                                             "guest.watchdog.action", "guest.memory.locked-unbounded"]

    func findings() throws -> [Finding] {
        let report = F.diagnose(F.input(host: F.host(Self.hostFiles), [try Self.guestFacts()]))
        #expect(Self.chosenIDs.isSubset(of: Set(report.findings.map(\.id))), "\(report.findings.map(\.id))")
        return report.findings
    }

    @Test func selectionKeepsTypedRemediesAndListsTheRestWithReasons() throws {
        let all = try findings()
        let (chosen, unapplied) = RemedyPlanning.select(all, RemedySelection(findings: Self.chosenIDs))
        let actions = chosen.map(\.remedy.action)
        #expect(actions.contains(.sysctl(name: "vm.swappiness", value: "10")))
        #expect(actions.contains(.sysfs(path: "/sys/kernel/mm/transparent_hugepage/enabled", value: "madvise")))
        #expect(actions.contains(.domainXML(.set("devices/watchdog", attribute: "action", to: "reset"))))
        #expect(actions.contains { if case .libvirt(.setMemoryParameter(name: "hard_limit", _)) = $0 { true } else { false } })
        #expect(chosen.allSatisfy { Self.chosenIDs.contains($0.finding) })
        // THP's boot parameter is never a step, and says why.
        let boot = try #require(unapplied.first { if case .kernelCommandLine = $0.remedy.action { true } else { false } })
        #expect(boot.finding == "host.thp.disabled" && boot.reason.contains("next boot"))

        // Only live remedies: the definition edits are listed as not selected.
        let (liveOnly, skipped) = RemedyPlanning.select(all, RemedySelection(findings: Self.chosenIDs, applies: [.live]))
        #expect(!liveOnly.contains { if case .domainXML = $0.remedy.action { true } else { false } })
        #expect(skipped.contains { $0.finding == "guest.watchdog.action" && $0.reason.contains("guest-restart") })

        // Two findings asking for the same sysctl value make one step; different values conflict.
        var twice = all.filter { $0.id == "host.swappiness" }
        twice.append(contentsOf: twice)
        #expect(RemedyPlanning.select(twice).chosen.count == 1)
        var other = twice[0]
        other.id = "host.other"
        other.remedies = [Remedy(.sysctl(name: "vm.swappiness", value: "1"), applies: .live, "x")]
        let conflict = RemedyPlanning.select([twice[0], other])
        #expect(conflict.chosen.count == 1 && conflict.unapplied.contains { $0.reason.contains("conflicts with host.swappiness") })
        // Run-state calls and host-subject guest edits are never steps.
        let resume = Finding(id: "guest.paused.user", severity: .info, subject: twice[0].subject, title: "", explanation: "",
                             evidence: [], remedies: [Remedy(.libvirt(.resume), applies: .live, "resume"),
                                                      Remedy(.domainXML(.add("memoryBacking", "<nosharepages/>")), applies: .guestRestart, "x")],
                             source: twice[0].source)
        let none = RemedyPlanning.select([resume])
        #expect(none.chosen.isEmpty && none.unapplied.count == 2)
    }

    @Test func findingsBecomeOnePlanAppliedAndRolledBackExactly() async throws {
        let all = try findings()
        let root = try S.hostRoot(Self.hostFiles)
        let (conn, uri) = try await S.node([Self.guestXML], tag: "remedy")
        let domain = try await conn.domain(named: "remedy-guest")
        let inactiveBefore = try await domain.xmlDescription(flags: [.inactive])
        let memoryBefore = try await domain.memoryParameters(flags: .live)

        let remedy = try await ReconfigurationPlan.remedying(all, selection: RemedySelection(findings: Self.chosenIDs), on: conn, uri: uri, hostRoot: root)
        let changes = remedy.plan.steps.map(\.change)
        // Host steps first (in finding order: THP is a warning, swappiness info).
        #expect(Set(changes.prefix(2)) == [.sysctl(name: "vm.swappiness", before: "60", after: "10"),
                                          .sysfs(path: "/sys/kernel/mm/transparent_hugepage/enabled", before: "never", after: "madvise")])
        let memory = try #require(changes.compactMap { if case .memoryTuning(_, let a) = $0 { a } else { nil } }.first)
        #expect(memory.hardLimit == .limited(.mebibytes(512 + 1024)))
        let edits = try #require(changes.compactMap { if case .definitionEdits(_, _, let e) = $0 { e } else { nil } }.first)
        #expect(edits.count == 3, "\(edits)")
        #expect(Set(remedy.remedied) == Self.chosenIDs)
        #expect(remedy.plan.dryRunDescription.contains("+      <watchdog model='i6300esb' action='reset'/>")
                || remedy.plan.dryRunDescription.contains("action='reset'"), "\(remedy.plan.dryRunDescription)")

        let journal = S.journalPath()
        try await ReconfigurationApplier(connection: conn, hostRoot: root).apply(remedy.plan, journal: journal)
        #expect(S.read(root, "/proc/sys/vm/swappiness") == "10")
        #expect(S.read(root, "/sys/kernel/mm/transparent_hugepage/enabled") == "madvise")
        #expect(try await domain.memoryParameters(flags: .live).hardLimit == .limited(.mebibytes(1536)))
        let applied = try DomainDefinition(parsing: try await domain.xmlDescription(flags: [.inactive]))
        for e in edits { #expect(e.isSatisfied(by: applied), "\(e)") }

        try await ReconfigurationApplier(connection: conn).rollback(journal: journal)
        #expect(S.read(root, "/proc/sys/vm/swappiness") == "60")
        #expect(S.read(root, "/sys/kernel/mm/transparent_hugepage/enabled") == "never")
        #expect(try await domain.memoryParameters(flags: .live).hardLimit == memoryBefore.hardLimit)
        #expect(try await domain.xmlDescription(flags: [.inactive]) == inactiveBefore, "inactive XML byte-identical")
        await conn.close()
    }

    @Test func remediesForAGuestThatIsNotRunningKeepOnlyTheDefinitionEdits() async throws {
        let all = try findings()
        let shutoff = Self.guestXML.replacingOccurrences(of: "<domain type='test'>", with: "<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>")
            .replacingOccurrences(of: "</devices>", with: "</devices><test:runstate>5</test:runstate>")
        let (conn, uri) = try await S.node([shutoff], tag: "remedy-off")
        #expect(try await conn.domain(named: "remedy-guest").isActive() == false)
        let remedy = try await ReconfigurationPlan.remedying(all, selection: RemedySelection(findings: ["guest.memory.locked-unbounded"]), on: conn, uri: uri)
        #expect(remedy.plan.steps.count == 1)
        if case .definitionEdits? = remedy.plan.steps.first?.change {} else { Issue.record("expected the definition edit, got \(remedy.plan.steps)") }
        #expect(remedy.unapplied.contains { $0.reason.contains("not running") })
        await conn.close()
    }

    @Test func hostileHostKnobsInRemediesStayUnapplied() async throws {
        let root = try S.hostRoot(Self.hostFiles)
        let (conn, uri) = try await S.node([], tag: "remedy-hostile")
        let host = Finding.Subject.host(name: "h")
        func finding(_ id: Finding.ID, _ action: Remedy.Action) -> Finding {
            Finding(id: id, severity: .warning, subject: host, title: "", explanation: "", evidence: [],
                    remedies: [Remedy(action, applies: .live, "x")], source: RuleSource("test"))
        }
        let remedy = try await ReconfigurationPlan.remedying([
            finding("a", .sysctl(name: "vm/../../../etc/passwd", value: "x")),
            finding("b", .sysfs(path: "/sys/../etc/shadow", value: "x")),
            finding("c", .sysfs(path: "/proc/sys/vm/swappiness", value: "1")),
            finding("d", .sysctl(name: "vm.not_there", value: "1")),
        ], on: conn, uri: uri, hostRoot: root)
        #expect(remedy.plan.steps.isEmpty)
        #expect(remedy.unapplied.count == 4, "\(remedy.unapplied)")
        #expect(S.read(root, "/proc/sys/vm/swappiness") == "60")
        await conn.close()
    }
}
