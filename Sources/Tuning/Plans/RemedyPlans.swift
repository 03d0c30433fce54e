import CgroupControl
import DomainXML
import Libvirt
import LibvirtJoins
import VirtCore

/// Which findings' remedies to turn into steps.
public struct RemedySelection: Sendable, Hashable {
    /// Finding ids to remedy; nil: every finding given.
    public var findings: Set<Finding.ID>?
    /// Remedies taking effect this way become steps (default: live, and definition edits
    /// that take effect at the guest's next start).
    public var applies: Set<Remedy.Applicability>

    public init(findings: Set<Finding.ID>? = nil, applies: Set<Remedy.Applicability> = [.live, .guestRestart]) {
        self.findings = findings
        self.applies = applies
    }
}

/// A finding's remedy as a candidate step.
public struct ChosenRemedy: Sendable, Hashable {
    public var finding: Finding.ID
    public var subject: Finding.Subject
    public var remedy: Remedy
}

/// A remedy a plan does not carry out, and why.
public struct UnappliedRemedy: Sendable, Hashable, Codable, CustomStringConvertible {
    public var finding: Finding.ID
    public var subject: String
    public var remedy: Remedy
    public var reason: String

    public var description: String { "\(finding) [\(subject)]: \(remedy.summary) — \(reason)" }
}

/// Findings turned into one applicable plan, plus what stays for a person.
public struct RemedyPlan: Sendable, Hashable, Codable {
    public var plan: ReconfigurationPlan
    /// Findings with at least one remedy among the steps.
    public var remedied: [Finding.ID]
    public var unapplied: [UnappliedRemedy]
}

/// Turning diagnosis findings into reconfiguration plans (issue #12: "findings with typed
/// remedies can be turned into the same kind of plan"). `select` is pure; `ReconfigurationPlan.remedying`
/// reads the current values and builds the steps.
public enum RemedyPlanning {
    /// Which remedies of `findings` can become steps, and why the others cannot: kernel
    /// command lines (next boot) and manual steps never can; guest state changes
    /// (resume/destroy) are not reversible steps; guest changes need a guest subject; two
    /// remedies setting the same host knob to different values keep the first.
    public static func select(_ findings: [Finding], _ selection: RemedySelection = RemedySelection()) -> (chosen: [ChosenRemedy], unapplied: [UnappliedRemedy]) {
        var chosen: [ChosenRemedy] = [], unapplied: [UnappliedRemedy] = []
        var hostValues: [String: (value: String, finding: Finding.ID)] = [:]
        var seen = Set<String>()
        for f in findings where selection.findings?.contains(f.id) ?? true {
            for r in f.remedies {
                func skip(_ why: String) { unapplied.append(UnappliedRemedy(finding: f.id, subject: f.subject.description, remedy: r, reason: why)) }
                let guest = f.subject.guest
                switch r.action {
                case .kernelCommandLine: skip("a kernel command-line change takes effect at the next boot: edit the boot loader configuration"); continue
                case .manual: skip("a manual step"); continue
                case .libvirt(.resume), .libvirt(.destroy): skip("changes the guest's run state, which no step undoes (the guardian recovers paused guests)"); continue
                case .domainXML, .libvirt: if guest == nil { skip("a guest change on a host finding: no guest to change"); continue }
                case .cgroup(_, let file, let value):
                    if CgroupChange(file: file, value: value) == nil { skip("CgroupControl does not model \(file)=\(value)"); continue }
                case .sysctl(let name, let value), .sysfs(let name, let value):
                    if let earlier = hostValues[name], earlier.value != value {
                        skip("conflicts with \(earlier.finding)'s \(name)=\(earlier.value)"); continue
                    }
                    hostValues[name] = (value, f.id)
                }
                guard selection.applies.contains(r.applies) else { skip("applies \(r.applies.rawValue); not selected"); continue }
                // The same change asked by two findings is made once.
                let key = "\(guest?.uuid.description ?? "host") \(r.action)"
                if !seen.insert(key).inserted { continue }
                chosen.append(ChosenRemedy(finding: f.id, subject: f.subject, remedy: r))
            }
        }
        return (chosen, unapplied)
    }
}

extension ReconfigurationPlan {
    /// The steps that carry out the chosen remedies of `findings`, with the values they
    /// replace read now: host sysctls and sysfs attributes first (under `hostRoot`), then per
    /// guest its live calls (vCPU/emulator pins, one scheduler step, one memory step, memory
    /// nodes), cgroup writes, and one persistent-definition step with all its XML edits.
    /// Remedies that cannot be made now (guest not running, an edit whose element is
    /// missing, an unreadable file) are listed in `unapplied` with the reason.
    public static func remedying(
        _ findings: [Finding], selection: RemedySelection = RemedySelection(), on connection: Connection, uri: String, hostRoot: String = "/"
    ) async throws -> RemedyPlan {
        let (chosen, skipped) = RemedyPlanning.select(findings, selection)
        var unapplied = skipped
        var steps: [ReconfigurationStep] = []
        var remedied: [Finding.ID] = []
        func done(_ c: ChosenRemedy) { if !remedied.contains(c.finding) { remedied.append(c.finding) } }
        func skip(_ c: ChosenRemedy, _ why: String) {
            unapplied.append(UnappliedRemedy(finding: c.finding, subject: c.subject.description, remedy: c.remedy, reason: why))
        }

        // Host knobs, in finding order.
        for c in chosen {
            switch c.remedy.action {
            case .sysctl(let name, let value):
                guard let path = HostKnobFile.sysctlPath(name) else { skip(c, "not a sysctl name"); continue }
                guard let raw = try? await HostKnobFile.read(path, root: hostRoot) else { skip(c, "cannot read \(path)"); continue }
                let change = ReconfigurationChange.sysctl(name: name, before: HostKnobFile.value(of: raw), after: value)
                if !change.isNoOp { steps.append(ReconfigurationStep(domain: "", uuid: "", change: change)) }
                done(c)
            case .sysfs(let path, let value):
                guard HostKnobFile.isSysfsPath(path) else { skip(c, "not a path under /sys"); continue }
                guard let raw = try? await HostKnobFile.read(path, root: hostRoot) else { skip(c, "cannot read \(path)"); continue }
                let change = ReconfigurationChange.sysfs(path: path, before: HostKnobFile.value(of: raw), after: value)
                if !change.isNoOp { steps.append(ReconfigurationStep(domain: "", uuid: "", change: change)) }
                done(c)
            default: continue
            }
        }

        // Guests, in the order they first appear.
        var guests: [GuestReference] = []
        for c in chosen { if let g = c.subject.guest, !guests.contains(g) { guests.append(g) } }
        for g in guests {
            let mine = chosen.filter { $0.subject.guest == g }
            let domain: Domain
            do {
                domain = try await connection.domain(uuid: g.uuid)
            } catch {
                for c in mine { skip(c, "no domain with UUID \(g.uuid) on \(uri)") }
                continue
            }
            let uuid = domain.uuid.description
            let running = try await domain.isActive()
            // A value already in place makes no step (the remedy counts as done).
            func add(_ change: ReconfigurationChange) { if !change.isNoOp { steps.append(ReconfigurationStep(domain: domain.name, uuid: uuid, change: change)) } }

            var scheduler = SchedulerParameters(), memory = MemoryParameters()
            var schedulerFrom: [ChosenRemedy] = [], memoryFrom: [ChosenRemedy] = []
            var pinned = Set<Int>(), emulatorPinned = false
            for c in mine {
                guard case .libvirt(let call) = c.remedy.action else { continue }
                guard running else { skip(c, "the guest is not running (a live change)"); continue }
                do {
                    switch call {
                    case .pinVCPU(let v, let cpus):
                        let pins = try await domain.vcpuPinning(flags: .live)
                        guard v < pins.count else { skip(c, "the guest has no vCPU \(v)"); continue }
                        guard pinned.insert(v).inserted else { skip(c, "another remedy already pins vCPU \(v)"); continue }
                        add(.vcpuPin(vcpu: v, before: pins[v], after: cpus))
                    case .pinEmulator(let cpus):
                        guard !emulatorPinned else { skip(c, "another remedy already pins the emulator"); continue }
                        emulatorPinned = true
                        add(.emulatorPin(before: try await domain.emulatorPinning(flags: .live), after: cpus))
                    case .setSchedulerParameter(let name, let value):
                        let one = try SchedulerParameters(libvirtName: name, value: value)
                        scheduler = scheduler.merging(one)
                        schedulerFrom.append(c)
                        continue
                    case .setMemoryParameter(let name, let value):
                        memory = memory.merging(try MemoryParameters(libvirtName: name, value: .limited(value)))
                        memoryFrom.append(c)
                        continue
                    case .setNUMAMemory(let mode, let nodes):
                        let numa = try await domain.numaParameters(flags: .live)
                        guard numa.mode.map({ "\($0)" }) == mode, let current = numa.nodeset, !current.isEmpty else {
                            skip(c, "libvirt moves memory live only within the guest's current \(mode) mode; the definition edit applies at restart")
                            continue
                        }
                        add(.memoryNodes(before: current, after: nodes))
                    case .resume, .destroy:
                        continue
                    }
                    done(c)
                } catch {
                    skip(c, "\(error)")
                }
            }
            if !scheduler.isEmpty {
                let now = try await domain.schedulerParameters(flags: .live)
                add(.scheduler(before: now.restricted(to: scheduler), after: scheduler))
                schedulerFrom.forEach(done)
            }
            if !memory.isEmpty {
                let now = try await domain.memoryParameters(flags: .live)
                add(.memoryTuning(before: now.restricted(to: memory), after: memory))
                memoryFrom.forEach(done)
            }

            // Direct cgroup writes (remedy paths are host cgroup paths).
            let cgroupRemedies = mine.filter { if case .cgroup = $0.remedy.action { true } else { false } }
            if !cgroupRemedies.isEmpty {
                let sys = try await CgroupSystem.detect(root: hostRoot)
                for c in cgroupRemedies {
                    guard case .cgroup(let path, let file, let value) = c.remedy.action, let change = CgroupChange(file: file, value: value) else { continue }
                    let cgroup = sys.cgroup(path)
                    guard let settings = try? await sys.settings(of: cgroup), let back = change.restoring(from: settings) else {
                        skip(c, "cannot read \(file) of \(path) in a form that can be written back")
                        continue
                    }
                    add(.cgroup(target: CgroupTarget(part: nil, cgroup: cgroup), before: [back], after: [change]))
                    done(c)
                }
            }

            // One persistent-definition step with every XML edit that fits the definition.
            let xmlRemedies = mine.filter { if case .domainXML = $0.remedy.action { true } else { false } }
            if !xmlRemedies.isEmpty {
                let definition = try await domain.definition(.persistent, secure: true)
                let before = definition.serialize()
                var edits: [DomainXMLEdit] = []
                for c in xmlRemedies {
                    guard case .domainXML(let edit) = c.remedy.action else { continue }
                    do {
                        try edit.apply(to: definition)
                        edits.append(edit)
                        done(c)
                    } catch {
                        skip(c, "\(error)")
                    }
                }
                let after = definition.serialize()
                if !edits.isEmpty, after != before { add(.definitionEdits(before: before, after: after, edits: edits)) }
            }
        }
        return RemedyPlan(plan: ReconfigurationPlan(uri: uri, steps: steps), remedied: remedied, unapplied: unapplied)
    }
}
