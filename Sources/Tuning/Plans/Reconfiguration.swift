import CgroupControl
import Foundation
import Libvirt
import VirtCore

/// One change to one guest, with the value it replaces so it can be undone exactly.
public enum ReconfigurationChange: Sendable, Hashable, Codable {
    /// `virDomainPinVcpuFlags` on the running guest (libvirt writes the vCPU's cgroup `cpuset.cpus`).
    case vcpuPin(vcpu: Int, before: CPUSet, after: CPUSet)
    /// `virDomainPinEmulator` on the running guest.
    case emulatorPin(before: CPUSet, after: CPUSet)
    /// `virDomainSetNumaParameters` nodeset on the running guest (cgroup `cpuset.mems`).
    case memoryNodes(before: NodeSet, after: NodeSet)
    /// The persistent definition, redefined through DomainXML; `before` is the exact inactive
    /// XML, which a rollback defines again.
    case persistentDefinition(before: String, after: String)
    /// The persistent definition with a remedy's `DomainXMLEdit`s made on it (read back by
    /// checking each edit on what libvirt stores); undone like `persistentDefinition`.
    case definitionEdits(before: String, after: String, edits: [DomainXMLEdit])
    /// A host node's huge page pool (`/sys/devices/system/node/nodeN/hugepages/hugepages-SkB/nr_hugepages`).
    case hugepagePool(node: Int, pageSize: MemorySize, before: UInt64, after: UInt64)
    /// `virDomainPinIOThread` on the running guest (libvirt writes the IOThread's cgroup).
    case iothreadPin(id: Int, before: CPUSet, after: CPUSet)
    /// `virDomainSetSchedulerParametersFlags` on the running guest: shares, periods, quotas.
    case scheduler(before: SchedulerParameters, after: SchedulerParameters)
    /// `virDomainSetMemoryParameters` on the running guest (`memtune`).
    case memoryTuning(before: MemoryParameters, after: MemoryParameters)
    /// Direct cgroup writes through CgroupControl's validated, read-back transaction; `before`
    /// is the same knobs' earlier values.
    case cgroup(target: CgroupTarget, before: [CgroupChange], after: [CgroupChange])
    /// A sysctl on the host (`/proc/sys/…` under the applier's root), values as `sysctl` prints them.
    case sysctl(name: String, before: String, after: String)
    /// A sysfs attribute on the host (`/sys/…`); a choice file's value is the selected word.
    case sysfs(path: String, before: String, after: String)

    /// The same change backwards.
    public var inverse: ReconfigurationChange {
        switch self {
        case .vcpuPin(let v, let b, let a): .vcpuPin(vcpu: v, before: a, after: b)
        case .emulatorPin(let b, let a): .emulatorPin(before: a, after: b)
        case .memoryNodes(let b, let a): .memoryNodes(before: a, after: b)
        case .persistentDefinition(let b, let a), .definitionEdits(let b, let a, _): .persistentDefinition(before: a, after: b)
        case .hugepagePool(let n, let s, let b, let a): .hugepagePool(node: n, pageSize: s, before: a, after: b)
        case .iothreadPin(let id, let b, let a): .iothreadPin(id: id, before: a, after: b)
        case .scheduler(let b, let a): .scheduler(before: a, after: b)
        case .memoryTuning(let b, let a): .memoryTuning(before: a, after: b)
        case .cgroup(let t, let b, let a): .cgroup(target: t, before: a, after: b)
        case .sysctl(let n, let b, let a): .sysctl(name: n, before: a, after: b)
        case .sysfs(let p, let b, let a): .sysfs(path: p, before: a, after: b)
        }
    }

    /// True when applying it changes nothing.
    public var isNoOp: Bool {
        switch self {
        case .vcpuPin(_, let b, let a), .emulatorPin(let b, let a): b == a
        case .memoryNodes(let b, let a): b == a
        case .persistentDefinition(let b, let a), .definitionEdits(let b, let a, _): b == a
        case .hugepagePool(_, _, let b, let a): b == a
        case .iothreadPin(_, let b, let a): b == a
        case .scheduler(let b, let a): b == a
        case .memoryTuning(let b, let a): b == a
        case .cgroup(_, let b, let a): b == a
        case .sysctl(_, let b, let a), .sysfs(_, let b, let a): HostKnobFile.normalized(b) == HostKnobFile.normalized(a)
        }
    }

    /// `before → after`, one line (definitions are shown as a diff elsewhere).
    public var summary: String {
        switch self {
        case .vcpuPin(let v, let b, let a): "vCPU \(v) pin (live): \(b.listString) → \(a.listString)"
        case .emulatorPin(let b, let a): "emulator pin (live): \(b.listString) → \(a.listString)"
        case .memoryNodes(let b, let a): "memory nodes (live): \(b.listString) → \(a.listString)"
        case .persistentDefinition: "persistent definition: redefine (diff below)"
        case .definitionEdits(_, _, let edits): "persistent definition: \(edits.map(\.description).joined(separator: "; ")) (diff below)"
        case .hugepagePool(let n, let s, let b, let a): "node \(n) \(s) huge pages (host): \(b) → \(a)"
        case .iothreadPin(let id, let b, let a): "IOThread \(id) pin (live): \(b.listString) → \(a.listString)"
        case .scheduler(let b, let a): "scheduler (live): \(b.summary) → \(a.summary)"
        case .memoryTuning(let b, let a): "memory tuning (live): \(b.summary) → \(a.summary)"
        case .cgroup(let t, let b, let a):
            "\(t): \(b.map(\.description).joined(separator: ", ")) → \(a.map(\.description).joined(separator: ", "))"
        case .sysctl(let n, let b, let a): "sysctl \(n) (host): \(b) → \(a)"
        case .sysfs(let p, let b, let a): "\(p) (host): \(b) → \(a)"
        }
    }
}

/// A change to a named guest, or to the host (`domain` and `uuid` empty).
public struct ReconfigurationStep: Sendable, Hashable, Codable {
    public var domain: String
    /// The domain's UUID when planned, so a rollback never touches a namesake.
    public var uuid: String
    public var change: ReconfigurationChange

    public init(domain: String, uuid: String, change: ReconfigurationChange) {
        self.domain = domain
        self.uuid = uuid
        self.change = change
    }
}

/// Ordered steps over one libvirt connection.
public struct ReconfigurationPlan: Sendable, Hashable, Codable {
    public var uri: String
    public var steps: [ReconfigurationStep]

    public init(uri: String, steps: [ReconfigurationStep]) {
        self.uri = uri
        self.steps = steps
    }

    /// What `--dry-run` prints: each step `before → after` and the definition diffs.
    public var dryRunDescription: String {
        var out = ""
        for (i, s) in steps.enumerated() {
            out += "\(i + 1). \(s.domain.isEmpty ? "host" : s.domain): \(s.change.summary)\n"
            switch s.change {
            case .persistentDefinition(let before, let after), .definitionEdits(let before, let after, _):
                out += LineDiff.unified(before, after).split(separator: "\n", omittingEmptySubsequences: false).map { "   " + $0 }.joined(separator: "\n")
                out += "\n"
            default: break
            }
        }
        return out
    }
}

/// The journal of an apply: every step with its prior value, written before the first change
/// and rewritten after each step, so `rollback` can restore a run that died half-way.
public struct ReconfigurationJournal: Sendable, Hashable, Codable {
    public enum StepState: String, Sendable, Hashable, Codable {
        case pending, started, done, undone
    }

    public struct Entry: Sendable, Hashable, Codable {
        public var step: ReconfigurationStep
        public var state: StepState
    }

    public var version: Int
    public var uri: String
    /// Where host files were written (`/`, or a test tree); nil in journals that predate it (`/`).
    public var hostRoot: String?
    public var entries: [Entry]

    public init(plan: ReconfigurationPlan, hostRoot: String = "/") {
        version = 1
        uri = plan.uri
        self.hostRoot = hostRoot
        entries = plan.steps.map { Entry(step: $0, state: .pending) }
    }

    public static func read(from path: String) throws -> ReconfigurationJournal {
        try JSONDecoder().decode(ReconfigurationJournal.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Writes atomically (temporary file + rename) so a crash leaves the old or the new journal.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

/// A minimal line diff (longest common subsequence) in unified style, for `--dry-run`.
enum LineDiff {
    static func unified(_ a: String, _ b: String) -> String {
        let x = a.split(separator: "\n", omittingEmptySubsequences: false)
        let y = b.split(separator: "\n", omittingEmptySubsequences: false)
        // Trim the common head and tail; domain XML edits are local.
        var head = 0
        while head < x.count && head < y.count && x[head] == y[head] { head += 1 }
        var tail = 0
        while tail < x.count - head && tail < y.count - head && x[x.count - 1 - tail] == y[y.count - 1 - tail] { tail += 1 }
        let xs = Array(x[head..<(x.count - tail)]), ys = Array(y[head..<(y.count - tail)])
        var lcs = [[Int]](repeating: [Int](repeating: 0, count: ys.count + 1), count: xs.count + 1)
        for i in stride(from: xs.count - 1, through: 0, by: -1) {
            for j in stride(from: ys.count - 1, through: 0, by: -1) {
                lcs[i][j] = xs[i] == ys[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var out = ["@@ line \(head + 1) @@"]
        var i = 0, j = 0
        while i < xs.count || j < ys.count {
            if i < xs.count, j < ys.count, xs[i] == ys[j] { out.append(" " + xs[i]); i += 1; j += 1 }
            else if j < ys.count, i == xs.count || lcs[i][j + 1] >= lcs[i + 1][j] { out.append("+" + ys[j]); j += 1 }
            else { out.append("-" + xs[i]); i += 1 }
        }
        return out.joined(separator: "\n")
    }
}
