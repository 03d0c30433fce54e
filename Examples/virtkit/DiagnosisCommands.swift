import ArgumentParser
import Foundation
import Libvirt
import Tuning

/// Options shared by `advise` and `doctor`.
struct DiagnosisOptions: ParsableArguments {
    @Option(name: .long, help: "Sampling window in seconds for rates (vCPU delay, throttling, iowait, …); 0 reads configuration only.")
    var sample: Double = 5
    @Option(name: .long, parsing: .upToNextOption, help: "Threshold overrides NAME=VALUE (see Documentation/Tuning.md), e.g. vcpuDelayWarning=0.05.")
    var threshold: [String] = []

    func thresholds() throws -> DiagnosisThresholds {
        var pairs: [String: String] = [:]
        for t in threshold {
            let f = t.split(separator: "=", maxSplits: 1)
            guard f.count == 2 else { throw CLIError("--threshold \(t): expected NAME=VALUE") }
            pairs[String(f[0])] = String(f[1])
        }
        do { return try DiagnosisThresholds(overrides: pairs) } catch { throw CLIError("\(error)") }
    }

    /// A gatherer for `uri`: host facts only when the connection is to this machine.
    func gatherer(_ conn: Connection, uri: String, root: String?) throws -> DiagnosisGatherer {
        var g = DiagnosisGatherer(connection: conn, root: root ?? "/", window: root == nil ? try window() : nil)
        // qemu:///system, test:///… are local; qemu+ssh://host/system is not.
        if let r = uri.range(of: "://"), let next = uri[r.upperBound...].first, next != "/" { g.readsHost = root != nil }
        return g
    }

    func window() throws -> Duration? {
        guard sample.isFinite, sample >= 0, sample <= 3600 else { throw CLIError("--sample must be between 0 and 3600 seconds") }
        return sample > 0 ? .milliseconds(Int64(sample * 1000)) : nil
    }
}

/// `virtkit advise`: diagnose the host and every guest.
struct AdviseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "advise",
        abstract: "Diagnose the host and every guest: findings with evidence, remedies and sources.",
        discussion: "Exit status 0 when nothing is critical, 2 when something is. --root DIR diagnoses a captured fixture tree (no sampling).")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var diagnosis: DiagnosisOptions
    @Option(name: .long, help: "Read host facts from this captured tree instead of / (no live sampling); with --fix, host files are written there.")
    var root: String?
    @OptionGroup var remedy: RemedyOptions

    func validate() throws { try remedy.check() }

    func run() async throws {
        let thresholds = try diagnosis.thresholds()
        var report = DiagnosisReport(findings: [])
        try await withConnection(connection.resolvedURI, readOnly: !remedy.writes) { conn in
            let input = try await diagnosis.gatherer(conn, uri: connection.resolvedURI, root: root).gather()
            report = Diagnoser(thresholds: thresholds).diagnose(input)
            if remedy.fix { try await remedy.run(report.findings, connection: conn, uri: connection.resolvedURI, hostRoot: root ?? "/", json: output.json) }
        }
        if remedy.fix { return }
        try printDiagnosis(report, json: output.json)
        if report.hasCritical { throw ExitCode(2) }
    }
}

/// `virtkit doctor DOMAIN`: everything about one guest.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Diagnose one guest: configuration, console lag over a sampling window, paused state.",
        discussion: """
            Host findings that affect every guest are included. Exit status 0 when nothing is critical, 2 when something is.
            With --migrate-to URI: the migration preflight to that host instead (destination, CPU, machine, memory per NUMA cell, \
            hugepages, disks and copy-storage size, devices, networks and bridges, TLS); exit status 2 when a check blocks.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var diagnosis: DiagnosisOptions
    @Argument(help: "The domain (name, UUID or ID).") var domain: String
    @OptionGroup var remedy: RemedyOptions
    @Option(name: .customLong("migrate-to"), help: "Check a live migration of the domain to this libvirt URI (the migration preflight) instead of diagnosing it.")
    var migrateTo: String?
    @Flag(name: .long, help: "With --migrate-to: the migration will use TLS.")
    var tls = false
    @Option(name: .long, help: "With --migrate-to: per-host deadline in seconds.")
    var deadline: Double = 20

    func validate() throws {
        try remedy.check()
        if migrateTo == nil && tls { throw ValidationError("--tls goes with --migrate-to") }
        if migrateTo != nil && remedy.fix { throw ValidationError("--fix does not go with --migrate-to") }
    }

    func run() async throws {
        if let migrateTo {
            let report = try await migrationPreflight(domain, from: connection.resolvedURI, to: migrateTo, tls: tls, deadline: deadline)
            if output.json { try printJSON(report) } else { printPreflight(report, from: connection.resolvedURI, to: migrateTo) }
            if !report.canMigrate { throw ExitCode(2) }
            return
        }
        let thresholds = try diagnosis.thresholds()
        var report = DiagnosisReport(findings: [])
        try await withConnection(connection.resolvedURI, readOnly: !remedy.writes) { conn in
            let d = try await lookupDomain(domain, in: conn)
            let input = try await diagnosis.gatherer(conn, uri: connection.resolvedURI, root: nil).gather(domains: [d])
            guard let guest = input.guests.first else { throw CLIError("\(domain): not found") }
            report = Diagnoser(thresholds: thresholds).diagnose(guest: guest.reference, in: input)
            if remedy.fix { try await remedy.run(report.findings, connection: conn, uri: connection.resolvedURI, hostRoot: "/", json: output.json) }
        }
        if remedy.fix { return }
        try printDiagnosis(report, json: output.json)
        if report.hasCritical { throw ExitCode(2) }
    }
}

/// Text grouped by severity (most severe first), or the report's JSON.
func printDiagnosis(_ report: DiagnosisReport, json: Bool) throws {
    if json { return try printJSON(report) }
    guard !report.findings.isEmpty else {
        print("No findings.")
        return
    }
    for severity in Finding.Severity.allCases.reversed() {
        let group = report.findings.filter { $0.severity == severity }
        guard !group.isEmpty else { continue }
        print("\(severity.rawValue.uppercased()) (\(group.count))")
        for f in group {
            print("  \(f.id)  [\(f.subject)]")
            print("    \(f.title)")
            print("    \(f.explanation)")
            for e in f.evidence { print("    evidence: \(e)") }
            for r in f.remedies { print("    remedy [\(r.applies.rawValue)]: \(r.summary) — \(describe(r.action))") }
            print("    source: \(f.source)")
        }
        print("")
    }
}

private func describe(_ action: Remedy.Action) -> String {
    switch action {
    case .sysctl(let name, let value): "sysctl -w \(name)=\(value)"
    case .sysfs(let path, let value): "echo \(value) > \(path)"
    case .domainXML(let edit): "domain XML: \(edit)"
    case .libvirt(let call): "libvirt: \(call)"
    case .cgroup(let path, let file, let value): "echo \(value) > \(path)/\(file)"
    case .kernelCommandLine(let add, let remove): "kernel command line: add \(add.joined(separator: " "))" + (remove.isEmpty ? "" : ", remove \(remove.joined(separator: " "))")
    case .manual(let steps): steps
    }
}

/// `--fix`: the findings' typed remedies as one reconfiguration plan (issue #12), applied
/// with a journal like `virtkit plan --apply`, or printed with `--dry-run`.
struct RemedyOptions: ParsableArguments {
    @Flag(name: .long, help: "Turn the findings' typed remedies into steps and apply them (journal; undo with virtkit rollback).")
    var fix = false
    @Option(name: .long, help: "With --fix: only these finding ids (comma-separated), e.g. guest.emulator.on-vcpu-cpus.")
    var findings: String?
    @Option(name: .long, help: "With --fix: which remedies become steps, comma-separated from live, guest-restart (default both).")
    var applies: String?
    @Flag(name: .long, help: "With --fix: print each step (before → after, definition diff) and what stays manual; change nothing.")
    var dryRun = false
    @Option(name: .long, help: "With --fix: the journal file (default: ./virtkit-fix-<time>.journal.json).")
    var journal: String?

    /// Needs a read-write connection: a dry run too (libvirt gives the secure definition,
    /// which a redefine must start from, only to read-write clients).
    var writes: Bool { fix }

    func check() throws {
        if !fix && (findings != nil || applies != nil || dryRun || journal != nil) {
            throw ValidationError("--findings, --applies, --dry-run and --journal go with --fix")
        }
        _ = try selection()
    }

    func selection() throws -> RemedySelection {
        var s = RemedySelection()
        if let findings { s.findings = Set(findings.split(separator: ",").map { Finding.ID(rawValue: String($0).trimmingCharacters(in: .whitespaces)) }) }
        if let applies {
            var set = Set<Remedy.Applicability>()
            for a in applies.split(separator: ",") {
                guard let v = Remedy.Applicability(rawValue: a.trimmingCharacters(in: .whitespaces)), v == .live || v == .guestRestart else {
                    throw ValidationError("--applies \(a): expected live or guest-restart")
                }
                set.insert(v)
            }
            s.applies = set
        }
        return s
    }

    func run(_ findings: [Finding], connection: Connection, uri: String, hostRoot: String, json: Bool) async throws {
        let remedy: RemedyPlan
        do {
            remedy = try await ReconfigurationPlan.remedying(findings, selection: try selection(), on: connection, uri: uri, hostRoot: hostRoot)
        } catch { throw CLIError("\(error)") }
        if json && dryRun { return try printJSON(remedy) }
        if !json {
            print(remedy.plan.steps.isEmpty ? "nothing to change" : remedy.plan.dryRunDescription, terminator: "")
            if !remedy.unapplied.isEmpty {
                print("not applied automatically:")
                for u in remedy.unapplied { print("  \(u)") }
            }
        }
        if dryRun || remedy.plan.steps.isEmpty { return }
        let path = try await applyReconfiguration(remedy.plan, connection: connection, journal: journal ?? "virtkit-fix-\(Int(Date().timeIntervalSince1970)).journal.json", hostRoot: hostRoot)
        if json { try printJSON(AppliedRemedies(plan: remedy, journal: path)) }
    }
}

private struct AppliedRemedies: Encodable {
    var plan: RemedyPlan
    var journal: String
}
