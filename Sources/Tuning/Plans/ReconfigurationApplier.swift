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
        // Validate: every domain exists with its planned UUID, live steps need a running guest,
        // every new definition passes DomainXML's validation.
        for step in plan.steps where !step.domain.isEmpty {
            let domain = try await lookup(step)
            if step.change.isLive, !(try await domain.isActive()) {
                throw ReconfigurationError(reason: .invalid("\(step.domain) is not running (live step)"))
            }
            if case .persistentDefinition(_, let after) = step.change {
                let problems = try DomainDefinition(parsing: after).validate()
                if !problems.isEmpty { throw ReconfigurationError(reason: .invalid("\(step.domain): \(problems)")) }
            }
        }
        var journal = ReconfigurationJournal(plan: plan)
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
        let failures = await undo(&journal, path: path)
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

    /// Makes one change and reads it back.
    private func perform(_ step: ReconfigurationStep) async throws {
        func mismatch(_ found: String) -> ReconfigurationError { ReconfigurationError(reason: .readBackMismatch(step: step, found: found)) }
        if case .hugepagePool(let node, let size, _, let after) = step.change {
            let path = HugepagePoolFile.path(node: node, pageSize: size, root: hostRoot)
            try await BlockingThreadPool.fileIO.run { () throws -> Void in try "\(after)\n".write(toFile: path, atomically: false, encoding: .utf8) }
            // The kernel may find fewer free pages than asked: that is a failure, undone.
            let now = try await HugepagePoolFile.read(path)
            guard now == after else { throw mismatch("\(now) pages") }
            return
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
        case .memoryNodes(_, let after):
            try await domain.setNUMAParameters(NUMAParameters(nodeset: after), flags: .live)
            let now = try await domain.numaParameters(flags: .live).nodeset
            guard now == after else { throw mismatch(now?.listString ?? "none") }
        case .hugepagePool: break
        case .persistentDefinition(_, let after):
            _ = try await connection.defineDomain(xml: after)
            let now = try await domain.xmlDescription(flags: [.inactive, .secure])
            // libvirt may reformat a new definition; what must hold is that it keeps what we set.
            guard try DefinitionDigest(now) == DefinitionDigest(after) else { throw mismatch("a definition without the planned placement") }
        }
    }
}

extension ReconfigurationChange {
    /// Changes a running guest (needs it running).
    var isLive: Bool {
        switch self {
        case .vcpuPin, .emulatorPin, .memoryNodes: true
        case .persistentDefinition, .hugepagePool: false
        }
    }
}

/// A node's `nr_hugepages` file.
enum HugepagePoolFile {
    static func path(node: Int, pageSize: MemorySize, root: String) -> String {
        (root == "/" ? "" : root) + "/sys/devices/system/node/node\(node)/hugepages/hugepages-\(pageSize.kibibytes)kB/nr_hugepages"
    }

    static func read(_ path: String) async throws -> UInt64 {
        let text = try await BlockingThreadPool.fileIO.run { () throws -> String in try String(contentsOfFile: path, encoding: .utf8) }
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
