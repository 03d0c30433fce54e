import ArgumentParser
import CgroupControl
import Foundation
import Libvirt
import LibvirtJoins
import VirtCore

/// `virtkit cgroup`: a host's cgroup layout, and a guest's cgroup tree, knobs and stats.
struct CgroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cgroup", abstract: "Show cgroup layout, a guest's cgroups, and change them safely.",
        subcommands: [Layout.self, Show.self, SetCommand.self])

    /// Typed cgroup errors become one line for the operator.
    static func run<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as CgroupError { throw CLIError(e.description) }
    }

    // MARK: layout

    struct Layout: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "layout", abstract: "How cgroups are mounted (v1, v2 or hybrid) and libvirt's view.")
        @Option(name: .long, help: "File-system root to inspect (default /).") var root = "/"
        @OptionGroup var output: OutputOptions

        struct Out: Encodable {
            struct Hierarchy: Encodable { var version: String; var mountPoint: String; var controllers: [String]; var name: String? }
            var root: String
            var kind: String
            var hierarchies: [Hierarchy]
            /// libvirt's controller → mount point map; null where libvirt has none.
            var libvirt: [String: String?]?
            var libvirtError: String?
        }

        func run() async throws {
            let sys = try await CgroupCommand.run { try await CgroupSystem.detect(root: root) }
            var out = Out(root: root, kind: sys.layout.kind.rawValue,
                          hierarchies: sys.layout.hierarchies.map {
                              .init(version: $0.version.rawValue, mountPoint: $0.mountPoint, controllers: $0.controllers.map(\.rawValue), name: $0.name)
                          })
            var ordered: [(String, String?)] = []
            do {
                ordered = try sys.layout.libvirtMounts().map { ($0.controller, $0.mountPoint) }
                out.libvirt = Dictionary(ordered, uniquingKeysWith: { $1 })
            } catch { out.libvirtError = error.description }
            if output.json { return try printJSON(out) }
            print(terminalSafe("layout: \(out.kind)" + (root == "/" ? "" : " (root \(root))")))
            for h in out.hierarchies {
                let what = h.name.map { "name=\($0)" } ?? (h.controllers.isEmpty ? "(no controllers)" : h.controllers.joined(separator: ","))
                print(terminalSafe("  \(pad(h.version, 3)) \(pad(h.mountPoint, 36)) \(what)"))
            }
            print("libvirt's view:")
            if let e = out.libvirtError { print(terminalSafe("  \(e)")) }
            for (c, m) in ordered { print(terminalSafe("  \(pad(c, 13)) \(m ?? "<null>")")) }
        }
    }

    // MARK: show

    /// A guest located through libvirt: its ID and name, then its cgroups found through its
    /// QEMU process (LibvirtJoins' `GuestLocator`, the same join Tuning uses).
    struct Located {
        var name: String
        var id: UInt32
        var tree: GuestCgroups
    }

    static func locate(_ domain: String, uri: String, sys: CgroupSystem) async throws -> Located {
        var located: GuestLocation?
        var name = domain
        try await withConnection(uri, readOnly: true) { conn in
            let dom = try await lookupDomain(domain, in: conn)
            name = dom.name
            do { located = try await GuestLocator(cgroups: sys).locate(dom) } catch let e as GuestLocationError {
                throw CLIError(e.description)
            }
        }
        guard let located, let tree = located.cgroups else {
            throw CLIError("no cgroups for '\(name)': \(located?.cgroupNote ?? "not located")")
        }
        return Located(name: located.name, id: UInt32(located.id), tree: tree)
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "A guest's cgroup tree, knobs and statistics.")
        @Argument(help: "Domain name, ID or UUID.") var domain: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        struct Out: Encodable {
            struct Node: Encodable { var label: String; var paths: [String: String]; var stats: CgroupStats? }
            var domain: String
            var id: UInt32
            var layout: String
            /// `process` (from the QEMU PID, authoritative) or `predicted` (libvirt's naming rules).
            var source: String
            var pid: Int32?
            var predictedTop: String
            var cgroups: [Node]
            var settings: CgroupSettings
        }

        func run() async throws {
            try await CgroupCommand.run {
                let sys = try await CgroupSystem.detect()
                let g = try await CgroupCommand.locate(domain, uri: connection.resolvedURI, sys: sys)
                let stats = try await sys.guestStats(g.tree)
                let settings = try await sys.settings(of: g.tree.top)
                let predicted = LibvirtNaming.guestTopPath(id: Int(g.id), name: g.name, systemd: await sys.hostHasSystemd())
                var pid: Int32?
                if case .process(let p) = g.tree.source { pid = p }
                let out = Out(domain: g.name, id: g.id, layout: sys.layout.kind.rawValue, source: pid == nil ? "predicted" : "process",
                              pid: pid, predictedTop: predicted,
                              cgroups: g.tree.all.map { .init(label: $0.label, paths: $0.cgroup.paths, stats: stats[$0.label]) },
                              settings: settings)
                if output.json { return try printJSON(out) }
                print(terminalSafe("\(g.name) (id \(g.id)), \(out.layout) host, cgroups " + (pid.map { "of QEMU PID \($0)" } ?? "predicted")
                      + "; libvirt's naming predicts \(predicted)"))
                for n in out.cgroups { print(terminalSafe("  \(pad(n.label, 10)) \(Cgroup(paths: n.paths).displayPath)")) }
                print("knobs (top):")
                let s = settings
                func mem(_ l: Limit<MemorySize>?) -> String { l.map { $0.value?.humanReadable ?? "max" } ?? "-" }
                print("  cpu weight \(s.cpuWeight.map(String.init) ?? "-")" + (s.cpuShares.map { " (shares \($0))" } ?? "")
                      + ", quota \(s.cpuQuota.map { $0.value?.humanReadable ?? "max" } ?? "-") per \(s.cpuPeriod?.humanReadable ?? "-")")
                print("  cpuset \(s.cpusetCPUs?.listString ?? "-") (effective \(s.cpusetCPUsEffective?.listString ?? "-")), mems \(s.cpusetMems?.listString ?? "-")")
                print("  memory max \(mem(s.memoryMax)), high \(mem(s.memoryHigh)), swap \(mem(s.swapMax))")
                print("  io weight \(s.ioWeight.map(String.init) ?? "-"), pids max \(s.pidsMax.map { $0.value.map(String.init) ?? "max" } ?? "-")")
                print("stats:")
                for n in out.cgroups {
                    guard let st = n.stats else { continue }
                    var parts: [String] = []
                    if let c = st.cpu {
                        parts.append("cpu \(c.usage?.humanReadable ?? "-")")
                        if let t = c.throttledPeriods { parts.append("throttled \(t)/\(c.periods ?? 0)") }
                    }
                    if let m = st.memory?.current { parts.append("mem \(m.humanReadable)") }
                    if let p = st.cpuPressure?.some { parts.append("cpu psi some \(p.avg10)") }
                    if let io = st.io { parts.append("io devs \(io.count)") }
                    print(terminalSafe("  \(pad(n.label, 10)) " + parts.joined(separator: ", ")))
                }
            }
        }
    }

    // MARK: set

    struct SetCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Change the guest's top cgroup (what libvirt's global_quota/global_period govern), as one transaction.")
        @Argument(help: "Domain name, ID or UUID.") var domain: String
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "CPU weight 1-10000 (v1: converted to cpu.shares).") var cpuWeight: Int?
        // `.unconditional`: the documented `--cpu-quota -1` takes "-1" as the value, not as a flag.
        @Option(name: .long, parsing: .unconditional, help: "QUOTA_US[/PERIOD_US]; QUOTA may be 'max' or -1.") var cpuQuota: String?
        @Option(name: .long, help: "CPU list, e.g. 0-3,8.") var cpuset: String?
        @Option(name: .long, help: "Memory limit, e.g. 2GiB, 512M, or 'max'.") var memoryMax: String?
        @Option(name: .long, help: "I/O weight (v2 1-10000, v1 10-1000).") var ioWeight: Int?
        @Flag(name: .long, help: "Show the writes without doing them.") var dryRun = false
        @OptionGroup var output: OutputOptions

        func changes() throws -> [CgroupChange] {
            var out: [CgroupChange] = []
            if let w = cpuWeight { out.append(.cpuWeight(w)) }
            if let q = cpuQuota {
                let parts = q.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                guard parts.count <= 2, let first = parts.first else { throw CLIError("--cpu-quota: expected QUOTA_US[/PERIOD_US]") }
                let quota: Limit<Duration>
                if first == "max" || first == "-1" { quota = .unlimited }
                else if let n = Int64(first), n >= 0 { quota = .limited(.microseconds(n)) }
                else { throw CLIError("--cpu-quota: \(RootedFileReader.quote(first)) is not a number of microseconds, 'max' or -1") }
                var period: Duration?
                if parts.count == 2 {
                    guard let p = Int64(parts[1]), p >= 0 else { throw CLIError("--cpu-quota: period \(RootedFileReader.quote(parts[1])) is not a number of microseconds") }
                    period = .microseconds(p)
                }
                out.append(.cpuBandwidth(quota: quota, period: period))
            }
            if let c = cpuset {
                do { out.append(.cpusetCPUs(try CPUSet(parsing: c))) } catch { throw CLIError("--cpuset: \(error)") }
            }
            if let m = memoryMax {
                if m == "max" { out.append(.memoryMax(.unlimited)) } else {
                    do { out.append(.memoryMax(.limited(try MemorySize(parsing: m)))) } catch { throw CLIError("--memory-max: \(error)") }
                }
            }
            if let w = ioWeight { out.append(.ioWeight(w)) }
            if out.isEmpty { throw CLIError("nothing to change: give at least one of --cpu-weight, --cpu-quota, --cpuset, --memory-max, --io-weight") }
            return out
        }

        struct Out: Encodable { var domain: String; var dryRun: Bool; var writes: [PlannedWrite] }

        func run() async throws {
            let changes = try changes()
            try await CgroupCommand.run {
                let sys = try await CgroupSystem.detect()
                let g = try await CgroupCommand.locate(domain, uri: connection.resolvedURI, sys: sys)
                let writes = try await sys.apply(changes, to: g.tree.top, dryRun: dryRun)
                if output.json { return try printJSON(Out(domain: g.name, dryRun: dryRun, writes: writes)) }
                print(dryRun ? "would write (dry run):" : "wrote and read back:")
                for w in writes { print(terminalSafe("  \(w.file) <- \(w.value)    # \(w.change)")) }
            }
        }
    }
}
