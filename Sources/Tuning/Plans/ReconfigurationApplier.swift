import CgroupControl
import DomainXML
import Foundation
import Libvirt
import LibvirtJoins
import VirtCore

/// Why an apply or a rollback stopped.
public struct ReconfigurationError: Error, Sendable, CustomStringConvertible {
    public enum Reason: Sendable {
        /// A check before any change failed.
        case invalid(String)
        /// Step `index` failed; the steps before it were undone (or `undoFailures` says why not).
        case stepFailed(index: Int, step: ReconfigurationStep, error: String, undoFailures: [String])
        /// A step reported success but reading the value back gave something else.
        case readBackMismatch(step: ReconfigurationStep, found: String)
        /// Rolling back could not restore every step.
        case rollbackIncomplete([String])
    }

    public var reason: Reason

    public init(reason: Reason) { self.reason = reason }

    /// A check before any change failed.
    public static func invalid(_ message: String) -> ReconfigurationError { ReconfigurationError(reason: .invalid(message)) }

    public var description: String {
        switch reason {
        case .invalid(let m): "plan rejected before any change: \(m)"
        case .stepFailed(let i, let s, let e, let u):
            "step \(i + 1) (\(s.domain): \(s.change.summary)) failed: \(e); "
                + (u.isEmpty ? "the steps before it were undone" : "undo incomplete: \(u.joined(separator: "; "))")
        case .readBackMismatch(let s, let f): "\(s.domain): \(s.change.summary): read back \(f)"
        case .rollbackIncomplete(let f): "rollback incomplete: \(f.joined(separator: "; "))"
        }
    }
}

/// Applies reconfiguration plans through libvirt with a journal, and rolls them back.
public struct ReconfigurationApplier: Sendable {
    public var connection: Connection
    /// Where host files (huge page pools) are written: `/`, or a test tree.
    public var hostRoot: String
    /// Test hook for crash recovery: kill the process (SIGKILL) right after this many steps
    /// are journaled as done. Nil in normal use.
    public var killAfterSteps: Int?

    public init(connection: Connection, hostRoot: String = "/", killAfterSteps: Int? = nil) {
        self.connection = connection
        self.hostRoot = hostRoot
        self.killAfterSteps = killAfterSteps
    }

    /// Validates, writes the journal, applies each step and reads it back; on a failure undoes
    /// the completed steps in reverse order and throws.
    public func apply(_ plan: ReconfigurationPlan, journal path: String) async throws {
        // Validate every step before the first change: domains exist with the planned UUID,
        // live steps need a running guest, values are in range, files and cgroups exist.
        for step in plan.steps { try await validate(step) }
        var journal = ReconfigurationJournal(plan: plan, hostRoot: hostRoot)
        try journal.write(to: path)
        for i in journal.entries.indices {
            journal.entries[i].state = .started
            try journal.write(to: path)
            do {
                try await perform(journal.entries[i].step)
            } catch {
                let failures = await undo(&journal, path: path)
                throw ReconfigurationError(reason: .stepFailed(index: i, step: journal.entries[i].step, error: "\(error)", undoFailures: failures))
            }
            journal.entries[i].state = .done
            try journal.write(to: path)
            if let k = killAfterSteps, i + 1 == k { kill(getpid(), SIGKILL) }
        }
    }

    /// Restores everything a journal's run changed (steps started or done), newest first.
    public func rollback(journal path: String) async throws {
        var journal = try ReconfigurationJournal.read(from: path)
        var applier = self
        if let root = journal.hostRoot { applier.hostRoot = root }
        let failures = await applier.undo(&journal, path: path)
        if !failures.isEmpty { throw ReconfigurationError(reason: .rollbackIncomplete(failures)) }
    }

    private func undo(_ journal: inout ReconfigurationJournal, path: String) async -> [String] {
        var failures: [String] = []
        for i in journal.entries.indices.reversed() where journal.entries[i].state == .started || journal.entries[i].state == .done {
            var back = journal.entries[i].step
            back.change = back.change.inverse
            do {
                try await perform(back)
                journal.entries[i].state = .undone
                try journal.write(to: path)
            } catch {
                failures.append("step \(i + 1): \(error)")
            }
        }
        return failures
    }

    private func lookup(_ step: ReconfigurationStep) async throws -> Domain {
        let domain = try await connection.domain(named: step.domain)
        let uuid = domain.uuid.description
        guard uuid.lowercased() == step.uuid.lowercased() else {
            throw ReconfigurationError(reason: .invalid("\(step.domain) has UUID \(uuid), planned for \(step.uuid)"))
        }
        return domain
    }

    /// The checks `apply` makes before its first change.
    func validate(_ step: ReconfigurationStep) async throws {
        // Values first: these checks need neither the domain nor the host.
        if case .scheduler(_, let after) = step.change { try after.validate() }
        var domain: Domain?
        if !step.domain.isEmpty {
            let d: Domain
            do { d = try await lookup(step) } catch let e as ReconfigurationError { throw e } catch {
                throw ReconfigurationError.invalid("\(step.domain): \(error)")
            }
            if step.change.isLive, !(try await d.isActive()) { throw ReconfigurationError.invalid("\(step.domain) is not running (live step: \(step.change.summary))") }
            domain = d
        }
        switch step.change {
        case .persistentDefinition(_, let after), .definitionEdits(_, let after, _):
            let problems = try DomainDefinition(parsing: after).validate()
            if !problems.isEmpty { throw ReconfigurationError.invalid("\(step.domain): \(problems)") }
        case .vcpuPin(_, _, let cpus), .emulatorPin(_, let cpus), .iothreadPin(_, _, let cpus):
            if cpus.isEmpty { throw ReconfigurationError.invalid("\(step.domain): \(step.change.summary): an empty CPU set") }
            if case .iothreadPin(let id, _, _) = step.change, let domain {
                guard try await domain.ioThreads(flags: .live).contains(where: { Int($0.id) == id }) else {
                    throw ReconfigurationError.invalid("\(step.domain) has no IOThread \(id)")
                }
            }
        case .memoryNodes(_, let nodes):
            if nodes.isEmpty { throw ReconfigurationError.invalid("\(step.domain): an empty memory node set") }
        case .scheduler: break
        case .memoryTuning(_, let after):
            guard let domain else { throw ReconfigurationError.invalid("memory tuning needs a domain") }
            try after.validate(current: try await domain.memoryParameters(flags: .live))
        case .cgroup(let target, let before, let after):
            guard before.count == after.count else { throw ReconfigurationError.invalid("\(target): \(after.count) change(s) but \(before.count) earlier value(s)") }
            let (sys, cgroup) = try await cgroupTarget(target, domain: domain)
            do { _ = try await sys.plan(after, for: cgroup); _ = try await sys.plan(before, for: cgroup) } catch {
                throw ReconfigurationError.invalid("\(step.domain.isEmpty ? "host" : step.domain) \(target): \(error)")
            }
        case .sysctl(let name, _, let after):
            guard let path = HostKnobFile.sysctlPath(name) else { throw ReconfigurationError.invalid("\(name): not a sysctl name") }
            let current = try await readKnob(path)
            try HostKnobFile.validate(path: path, current: current, after: after)
        case .sysfs(let path, _, let after):
            guard HostKnobFile.isSysfsPath(path) else { throw ReconfigurationError.invalid("\(path): not a path under /sys") }
            let current = try await readKnob(path)
            try HostKnobFile.validate(path: path, current: current, after: after)
        case .hugepagePool: break
        }
    }

    private func readKnob(_ path: String) async throws -> String {
        do { return try await HostKnobFile.read(path, root: hostRoot) } catch {
            throw ReconfigurationError.invalid("\(path): \(error)")
        }
    }

    /// The cgroup system under `hostRoot` and the cgroup a step writes (a guest's re-found
    /// from its running QEMU process).
    private func cgroupTarget(_ target: CgroupTarget, domain: Domain?) async throws -> (CgroupSystem, Cgroup) {
        let sys = try await CgroupSystem.detect(root: hostRoot)
        guard target.part != nil else { return (sys, target.cgroup) }
        guard let domain else { throw ReconfigurationError.invalid("\(target) needs a domain") }
        let tree = try await domain.location(locator: GuestLocator(root: hostRoot, cgroups: sys)).cgroups
        guard let tree, let cgroup = target.resolve(in: tree) else {
            throw ReconfigurationError.invalid("\(domain.name) has no \(target)")
        }
        return (sys, cgroup)
    }

    /// Makes one change and reads it back.
    private func perform(_ step: ReconfigurationStep) async throws {
        func mismatch(_ found: String) -> ReconfigurationError { ReconfigurationError(reason: .readBackMismatch(step: step, found: found)) }
        switch step.change {
        case .hugepagePool(let node, let size, _, let after):
            let path = HugepagePoolFile.path(node: node, pageSize: size)
            try await HostKnobFile.write(path, "\(after)", root: hostRoot)
            // The kernel may find fewer free pages than asked: that is a failure, undone.
            let now = try await HugepagePoolFile.read(path, root: hostRoot)
            guard now == after else { throw mismatch("\(now) pages") }
            return
        case .sysctl(let name, _, let after):
            guard let path = HostKnobFile.sysctlPath(name) else { throw ReconfigurationError.invalid("\(name): not a sysctl name") }
            try await HostKnobFile.write(path, after, root: hostRoot)
            let now = try await HostKnobFile.read(path, root: hostRoot)
            guard HostKnobFile.matches(now, after) else { throw mismatch(HostKnobFile.normalized(now)) }
            return
        case .sysfs(let path, _, let after):
            try await HostKnobFile.write(path, after, root: hostRoot)
            let now = try await HostKnobFile.read(path, root: hostRoot)
            guard HostKnobFile.matches(now, after) else { throw mismatch(HostKnobFile.normalized(now)) }
            return
        case .cgroup(let target, _, let after) where step.domain.isEmpty:
            let (sys, cgroup) = try await cgroupTarget(target, domain: nil)
            try await sys.apply(after, to: cgroup)   // validated, written, read back; undone itself on failure
            return
        default: break
        }
        let domain = try await lookup(step)
        switch step.change {
        case .vcpuPin(let vcpu, _, let after):
            try await domain.pinVCPU(vcpu, to: after, flags: .live)
            let now = try await domain.vcpuPinning(flags: .live)
            guard vcpu < now.count, now[vcpu] == after else { throw mismatch(vcpu < now.count ? now[vcpu].listString : "no vCPU \(vcpu)") }
        case .emulatorPin(_, let after):
            try await domain.pinEmulator(to: after, flags: .live)
            let now = try await domain.emulatorPinning(flags: .live)
            guard now == after else { throw mismatch(now.listString) }
        case .iothreadPin(let id, _, let after):
            try await domain.pinIOThread(id: UInt32(id), to: after, flags: .live)
            let now = try await domain.ioThreads(flags: .live).first { Int($0.id) == id }
            guard let now, now.cpus == after else { throw mismatch(now?.cpus.listString ?? "no IOThread \(id)") }
        case .memoryNodes(_, let after):
            try await domain.setNUMAParameters(NUMAParameters(nodeset: after), flags: .live)
            let now = try await domain.numaParameters(flags: .live).nodeset
            guard now == after else { throw mismatch(now?.listString ?? "none") }
        case .scheduler(_, let after):
            try await domain.setSchedulerParameters(after, flags: .live)
            let now = try await domain.schedulerParameters(flags: .live)
            guard after.isMatched(by: now) else { throw mismatch(now.restricted(to: after).summary) }
        case .memoryTuning(_, let after):
            try await domain.setMemoryParameters(after, flags: .live)
            let now = try await domain.memoryParameters(flags: .live)
            guard after.isMatched(by: now) else { throw mismatch(now.restricted(to: after).summary) }
        case .cgroup(let target, _, let after):
            let (sys, cgroup) = try await cgroupTarget(target, domain: domain)
            try await sys.apply(after, to: cgroup)
        case .persistentDefinition(_, let after):
            _ = try await connection.defineDomain(xml: after)
            let now = try await domain.xmlDescription(flags: [.inactive, .secure])
            // libvirt may reformat a new definition; what must hold is that it keeps what we set.
            guard try DefinitionDigest(now) == DefinitionDigest(after) else { throw mismatch("a definition without the planned placement") }
        case .definitionEdits(_, let after, let edits):
            _ = try await connection.defineDomain(xml: after)
            let now = try DomainDefinition(parsing: try await domain.xmlDescription(flags: [.inactive, .secure]))
            if let lost = edits.first(where: { !$0.isSatisfied(by: now) }) { throw mismatch("a definition without '\(lost)'") }
        case .hugepagePool, .sysctl, .sysfs: break
        }
    }
}

extension ReconfigurationChange {
    /// Changes a running guest (needs it running).
    var isLive: Bool {
        switch self {
        case .vcpuPin, .emulatorPin, .memoryNodes, .iothreadPin, .scheduler, .memoryTuning: true
        case .cgroup(let target, _, _): target.part != nil
        case .persistentDefinition, .definitionEdits, .hugepagePool, .sysctl, .sysfs: false
        }
    }
}

/// A node's `nr_hugepages` file, read and written under a root like the other host knobs.
enum HugepagePoolFile {
    static func path(node: Int, pageSize: MemorySize) -> String {
        "/sys/devices/system/node/node\(node)/hugepages/hugepages-\(pageSize.kibibytes)kB/nr_hugepages"
    }

    static func read(_ path: String, root: String) async throws -> UInt64 {
        let text = try await HostKnobFile.read(path, root: root)
        guard let n = UInt64(text.trimmingASCIIWhitespace()) else {
            throw ReconfigurationError(reason: .invalid("\(path): '\(text)' is not a page count"))
        }
        return n
    }
}

/// The placement-relevant parts of a definition, for reading a redefine back.
struct DefinitionDigest: Equatable {
    var vcpuPins: [Int: CPUSet?]
    var emulatorPin: CPUSet?
    var iothreadPins: [Int: CPUSet?]
    var nodeset: NodeSet?
    var memnodes: [Int: NodeSet?]
    var cells: [CPUSet?]
    var topology: [Int?]

    init(_ xml: String) throws {
        let d = try DomainDefinition(parsing: xml)
        vcpuPins = Dictionary(d.cputune.vcpupin.compactMap { p in (try? p.vcpu.value).map { ($0, try? p.cpuset.value) } }, uniquingKeysWith: { a, _ in a })
        emulatorPin = try? d.cputune.emulatorpin.cpuset.value
        iothreadPins = Dictionary(d.cputune.iothreadpin.compactMap { p in (try? p.iothread.value).map { ($0, try? p.cpuset.value) } }, uniquingKeysWith: { a, _ in a })
        nodeset = try? d.numatune.memory.nodeset.value
        memnodes = Dictionary(d.numatune.memnode.compactMap { m in (try? m.cellid.value).map { ($0, try? m.nodeset.value) } }, uniquingKeysWith: { a, _ in a })
        cells = d.cpu.numa.cells.map { try? $0.cpus.value }
        let t = d.cpu.topology
        topology = [try? t.sockets.value, try? t.cores.value, try? t.threads.value]
    }
}
