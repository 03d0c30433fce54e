import Foundation
import HostProbe
import Testing
import VirtCore
import VirtKitTestSupport

/// The hwloc 2.9.0 Linux test archives, extracted once per test run (in parallel) into a
/// temporary directory that later runs reuse while the corpus is unchanged.
enum HwlocCorpus {
    struct Archive: Sendable {
        var name: String
        /// The extracted tree (the archive's single top directory).
        var root: String
        var output: String
    }

    /// nil when the corpus is unavailable (the caller skips loudly) or extraction failed.
    static let archives: Result<[Archive], CorpusError>? = extract()

    struct CorpusError: Error { var message: String }

    private static func extract() -> Result<[Archive], CorpusError>? {
        guard let base = ProcessInfo.processInfo.environment["VIRTKIT_CORPUS"], !base.isEmpty else { return nil }
        let dir = URL(fileURLWithPath: base).appendingPathComponent("hwloc-2.9.0/linux").path
        guard FileManager.default.fileExists(atPath: dir) else { return nil }
        if shell("command -v bzip2").0 != 0 { return .failure(CorpusError(message: "bzip2 is not installed (apt-get install bzip2)")) }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        // The README: archives with .options or .env need other lstopo settings; skip them.
        let names = files.filter { $0.hasSuffix(".tar.bz2") }.map { String($0.dropLast(8)) }
            .filter { !files.contains("\($0).options") && !files.contains("\($0).env") && files.contains("\($0).output") }
            .sorted()
        let stamp = names.count.description + "-" + ((try? FileManager.default.attributesOfItem(atPath: dir)[.modificationDate] as? Date)?.timeIntervalSince1970.description ?? "0")
        let target = NSTemporaryDirectory() + "virtkit-hostprobe-hwloc-\(stamp.replacingOccurrences(of: ".", with: "_"))"
        if !FileManager.default.fileExists(atPath: target + "/.complete") {
            let tmp = target + ".tmp-\(getpid())"
            try? FileManager.default.removeItem(atPath: tmp)
            let list = names.joined(separator: "\n")
            let (rc, out) = shell("""
                set -e; mkdir -p '\(tmp)'; cd '\(tmp)'
                printf '%s\\n' '\(list.replacingOccurrences(of: "\n", with: "' '"))' | \
                  xargs -P 4 -I{} sh -c 'mkdir -p "{}" && tar -xjf "\(dir)/{}.tar.bz2" -C "{}"'
                touch .complete
                """)
            guard rc == 0 else { return .failure(CorpusError(message: "extracting the hwloc archives failed: \(out)")) }
            // Another test process may have won the race; either tree is complete.
            if rename(tmp, target) != 0 { try? FileManager.default.removeItem(atPath: tmp) }
        }
        var out: [Archive] = []
        for n in names {
            let holder = target + "/" + n
            let top = ((try? FileManager.default.contentsOfDirectory(atPath: holder)) ?? []).filter { !$0.hasPrefix(".") }
            guard top.count == 1,
                  let output = try? String(contentsOfFile: dir + "/\(n).output", encoding: .utf8) else { continue }
            out.append(Archive(name: n, root: holder + "/" + top[0], output: output))
        }
        return .success(out)
    }
}

/// What `lstopo -v` printed for a machine, reduced to the facts HostProbe also has.
struct HwlocView {
    var pus: CPUSet = []
    /// PU → package P# (nil when hwloc shows no Package above it).
    var packageOf: [Int: Int] = [:]
    /// The PUs of each Core object.
    var cores: Set<CPUSet> = []
    /// NUMA node P# → (PUs, local KiB).
    var nodes: [Int: (cpus: CPUSet, localKiB: UInt64?)] = [:]

    init(parsing text: String) {
        struct Obj { var type: String; var pnum: Int?; var depth: Int; var pus: CPUSet = []; var local: UInt64? }
        var objs: [Obj] = []
        var stack: [Int] = []
        var nodeParents: [(node: Int, parent: Int)] = []
        for raw in text.split(separator: "\n") {
            let depth = raw.prefix { $0 == " " }.count / 2
            let line = raw.drop { $0 == " " }
            guard let typeEnd = line.firstIndex(of: " ") else { continue }
            var type = String(line[..<typeEnd])
            // `NUMANode(DRAM)`, `NUMANode(NVM)`: subtype in parentheses.
            if let paren = type.firstIndex(of: "(") { type = String(type[..<paren]) }
            var pnum: Int?
            if let r = line.range(of: "(P#") {
                pnum = Int(line[r.upperBound...].prefix { $0.isNumber })
            }
            var local: UInt64?
            if let r = line.range(of: "local=") { local = UInt64(line[r.upperBound...].prefix { $0.isNumber }) }
            while let top = stack.last, objs[top].depth >= depth { stack.removeLast() }
            objs.append(Obj(type: type, pnum: pnum, depth: depth, local: local))
            let me = objs.count - 1
            if type == "NUMANode" {
                // A NUMA node hangs off its parent (possibly through a memory-side cache).
                if let p = stack.last(where: { objs[$0].type != "MemCache" }) { nodeParents.append((me, p)) }
            }
            if type == "PU", let n = pnum {
                pus.insert(n)
                for a in stack { objs[a].pus.insert(n) }
                if let pkg = stack.last(where: { objs[$0].type == "Package" }) { packageOf[n] = objs[pkg].pnum }
            }
            stack.append(me)
        }
        for o in objs where o.type == "Core" { cores.insert(o.pus) }
        for (n, p) in nodeParents {
            if let id = objs[n].pnum { nodes[id] = (objs[p].pus, objs[n].local) }
        }
    }
}

@Suite("hwloc 2.9.0 conformance", .offCooperativePool)
struct HwlocConformanceTests {
    /// Compares one archive; returns the differences (empty when HostProbe agrees).
    static func differences(_ a: HwlocCorpus.Archive) -> (arch: String, diffs: [String]) {
        let snap: HostSnapshot
        do { snap = try HostProber(rootPath: a.root).snapshotSync(sections: [.topology, .numa]) } catch { return ("?", ["\(error)"]) }
        let hw = HwlocView(parsing: a.output)
        guard let topo = snap.topology, let numa = snap.numa else { return ("?", ["no topology"]) }
        let arch = Self.architecture(a.name, cpuinfo: topo.cpuinfo?.architecture)
        var d: [String] = []
        // hwloc shows the online CPUs the process's cpuset allows.
        let allowed = topo.allowedCPUs.map { topo.online.intersection($0) } ?? topo.online
        if allowed != hw.pus { d.append("online CPUs: HostProbe \(allowed) vs hwloc \(hw.pus)") }
        var pkgDiff: [String] = []
        for id in hw.pus {
            let mine = topo.cpu(id)?.package
            if mine != hw.packageOf[id] { pkgDiff.append("cpu\(id): \(mine.map(String.init) ?? "none") vs \(hw.packageOf[id].map(String.init) ?? "none")") }
        }
        if !pkgDiff.isEmpty { d.append("packages: " + pkgDiff.prefix(6).joined(separator: ", ") + (pkgDiff.count > 6 ? " … (\(pkgDiff.count))" : "")) }
        // Cores: hwloc's Core is the thread-sibling set; without siblings, the CPUs sharing
        // package, die and core id.
        var groups: [String: CPUSet] = [:]
        for c in topo.cpus where allowed.contains(c.id) {
            if let sib = c.threadSiblings, sib.contains(c.id) {
                groups["s" + sib.intersection(allowed).listString] = sib.intersection(allowed)
            } else if let core = c.core {
                groups["\(c.package ?? -1)/\(c.die ?? -1)/\(core)", default: []].insert(c.id)
            }
        }
        let mine = Set(groups.values)
        if !hw.cores.isEmpty || !mine.isEmpty, mine != hw.cores {
            let only = mine.subtracting(hw.cores).map(\.listString).sorted().prefix(4)
            let theirs = hw.cores.subtracting(mine).map(\.listString).sorted().prefix(4)
            d.append("cores: HostProbe-only \(Array(only)) vs hwloc-only \(Array(theirs))")
        }
        // NUMA nodes hwloc shows: the allowed ones that have CPUs or memory.
        let allowedNodes = numa.allowedNodes
        var myNodes: [Int: (CPUSet, UInt64?)] = [:]
        for n in numa.nodes where allowedNodes?.contains(n.id) ?? true {
            // hwloc attaches a CPU-less node where its HMAT initiators are.
            myNodes[n.id] = ((n.cpus.isEmpty ? n.localCPUs ?? n.cpus : n.cpus).intersection(allowed), n.memTotal?.kibibytes)
        }
        if Set(myNodes.keys) != Set(hw.nodes.keys) {
            d.append("NUMA nodes: HostProbe \(myNodes.keys.sorted()) vs hwloc \(hw.nodes.keys.sorted())")
        }
        for (id, h) in hw.nodes.sorted(by: { $0.key < $1.key }) {
            guard let m = myNodes[id] else { continue }
            if m.0 != h.cpus { d.append("node \(id) CPUs: HostProbe \(m.0) vs hwloc \(h.cpus)") }
            if m.1 != h.localKiB { d.append("node \(id) local memory: HostProbe \(m.1.map(String.init) ?? "-") vs hwloc \(h.localKiB.map(String.init) ?? "-") KiB") }
        }
        return (arch, d)
    }

    /// hwloc's archive names carry the architecture (`16amd64-…`, `8ia64-…`, `2arm-…`);
    /// the synthetic `fake*` ones fall back to what their cpuinfo says.
    static func architecture(_ name: String, cpuinfo: String?) -> String {
        for (token, arch) in [("amd64", "x86"), ("em64t", "x86"), ("intel64", "x86"), ("i386", "x86"), ("ia64", "ia64"),
                              ("arm", "arm"), ("ps3", "ppc"), ("s390", "s390"), ("nvidiagpu", "ppc")] where name.contains(token) {
            return arch
        }
        return cpuinfo ?? "unknown"
    }

    /// Why a non-x86/ARM archive may differ, from what is known about those platforms.
    static func reason(_ arch: String, _ name: String) -> String {
        switch arch {
        case "ia64": return "ia64 (SGI Altix): a CPU-less memory node equidistant from all CPU nodes; HostProbe gives it the CPUs of its nearest nodes (all), hwloc attaches it to the machine root with no PU locality"
        case "ppc": return "POWER: hwloc builds cores from /proc/device-tree and attaches GPU/coherent memory nodes from the device tree, HostProbe reads sysfs ids only"
        case "s390": return "s390 books/drawers and core ids come from the hypervisor; hwloc maps them differently"
        default: return "architecture '\(arch)' (\(name)) is outside the KVM x86/ARM scope"
        }
    }

    @Test func everyArchiveAgreesWithHwloc() throws {
        guard let result = HwlocCorpus.archives else {
            _ = LiveEnvironment.corpus("hwloc-2.9.0/linux")
            return
        }
        let archives: [HwlocCorpus.Archive]
        switch result {
        case .success(let a): archives = a
        case .failure(let why):
            Issue.record(Comment(rawValue: why.message))
            return
        }
        #expect(archives.count >= 25, "expected the hwloc archives without .options/.env, got \(archives.count)")
        var checked = 0
        for a in archives {
            let (arch, diffs) = Self.differences(a)
            if arch == "x86" || arch == "arm" {
                checked += 1
                #expect(diffs.isEmpty, "\(a.name) [\(arch)]: \(diffs.joined(separator: "; "))")
            } else if diffs.isEmpty {
                print("hwloc \(a.name) [\(arch)]: agrees")
            } else {
                print("hwloc \(a.name) [\(arch)]: \(diffs.count) difference(s) — \(Self.reason(arch, a.name))")
                for d in diffs { print("    \(d)") }
            }
        }
        #expect(checked > 10, "too few x86/ARM archives recognised: \(checked)")
    }
}
