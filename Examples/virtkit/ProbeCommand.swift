import ArgumentParser
import Foundation
import HostProbe
import VirtCore

/// `virtkit probe`: the host snapshot; `virtkit probe capture`: a fixture tree of it.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Show what this KVM host is: CPUs, NUMA, memory, sysctls, KVM, PCI, block, network.",
        subcommands: [ProbeShowCommand.self, ProbeCaptureCommand.self],
        defaultSubcommand: ProbeShowCommand.self
    )
}

/// `--root DIR`: read a captured tree instead of the live `/`.
struct RootOptions: ParsableArguments {
    @Option(name: .long, help: "File-system root to read /sys and /proc under (default: /).")
    var root: String = "/"

    var probeRoot: ProbeRoot { ProbeRoot(path: root) }

    /// The snapshot, or the typed root error as one line and a non-zero exit.
    func snapshot(_ sections: Set<ProbeSection>) async throws -> HostSnapshot {
        do { return try await HostProber(root: probeRoot).snapshot(sections: sections) } catch {
            throw CLIError(terminalSafe(error.description))
        }
    }
}

struct ProbeShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the snapshot (default subcommand of `probe`)."
    )

    @OptionGroup var rootOptions: RootOptions
    @Option(name: .long, parsing: .upToNextOption,
            help: "Sections to read: \(ProbeSection.allCases.map(\.rawValue).joined(separator: ", ")) (default: all; comma or space separated).")
    var sections: [String] = []
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let wanted = try parseSections(sections)
        // The async form reads on BlockingThreadPool.fileIO, not on the cooperative pool.
        let snap = try await rootOptions.snapshot(wanted)
        if output.json {
            // Same bytes as printJSON (pretty, sorted keys, unescaped slashes), without
            // Foundation's first-use cost in a short-lived process; see SortedPrettyJSON.
            var bytes = try SortedPrettyJSON.encode(snap)
            bytes.append(0x0A)
            writeStandardOutput(Data(bytes))
        } else {
            print(ProbeTable.render(snap), terminator: "")
        }
    }
}

func parseSections(_ raw: [String]) throws -> Set<ProbeSection> {
    let names = raw.flatMap { $0.split(separator: ",").map(String.init) }.filter { !$0.isEmpty }
    if names.isEmpty || names == ["all"] { return Set(ProbeSection.allCases) }
    var out = Set<ProbeSection>()
    for n in names {
        guard let s = ProbeSection(cliName: n) else {
            throw ValidationError("unknown section '\(n)'; known: \(ProbeSection.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        out.insert(s)
    }
    return out
}

struct ProbeCaptureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Copy exactly the files HostProbe reads into DIR (a fixture tree to attach to a bug report)."
    )

    @OptionGroup var rootOptions: RootOptions
    @Option(name: .long, help: "Directory to write the tree into (created; must be empty if it exists).")
    var out: String
    @Option(name: .long, parsing: .upToNextOption, help: "Sections to capture (default: all).")
    var sections: [String] = []

    func run() async throws {
        let wanted = try parseSections(sections)
        let summary: CaptureSummary
        do {
            summary = try await HostProber(root: rootOptions.probeRoot).capture(to: out, sections: wanted)
        } catch {
            throw CLIError(terminalSafe("capture failed: \(error)"))
        }
        print("captured \(summary.files) files, \(summary.links) links, \(summary.directories) directories, \(summary.deviceNodes) device stand-ins into \(out)")
        if !summary.skipped.isEmpty {
            print("skipped \(summary.skipped.count): \(summary.skipped.prefix(5).joined(separator: "; "))")
        }
    }
}

/// The human-readable form of a snapshot.
enum ProbeTable {
    static func render(_ s: HostSnapshot) -> String {
        var o = ""
        // Every line and cell may hold text from the tree (names, models, file contents).
        func line(_ t: String = "") { o += terminalSafe(t) + "\n" }
        func size(_ m: MemorySize?) -> String { m?.humanReadable ?? "?" }

        if let t = s.topology {
            let info = t.cpuinfo
            line("CPU  \(info?.modelName ?? "?") [\(info?.architecture ?? "?")]")
            line("     \(t.cpus.count) CPUs, online \(t.online), \(t.packageCount) package(s), \(t.coreCount) core(s)"
                 + (info?.hardwareVirtualization.map { ", \($0)" } ?? ", no vmx/svm flag")
                 + ((info?.runsUnderHypervisor ?? false) ? ", under a hypervisor" : ""))
            if let iso = t.isolated, !iso.isEmpty { line("     isolated \(iso)") }
            if let nz = t.nohzFull, !nz.isEmpty { line("     nohz_full \(nz)") }
            var rows = [["CPU", "online", "pkg", "die", "core", "node", "siblings", "L1d/L2/L3", "governor"]]
            for c in t.cpus {
                let caches = c.caches.filter { $0.type != "Instruction" }.map { size($0.size) }.joined(separator: "/")
                rows.append(["\(c.id)", c.online ? "yes" : "no", opt(c.package), opt(c.die), opt(c.core), opt(c.node),
                             c.threadSiblings?.listString ?? "-", caches.isEmpty ? "-" : caches, c.cpufreq?.governor ?? "-"])
            }
            o += table(rows)
            line()
        }
        if let n = s.numa {
            line("NUMA \(n.nodes.count) node(s)\(n.synthesized ? " (no NUMA in sysfs: one node)" : "")")
            var rows = [["node", "cpus", "memory", "free", "distances", "hugepages (size: total/free)"]]
            for node in n.nodes {
                let hp = node.hugepages.map { "\(size($0.size)): \($0.total.map(String.init) ?? "?")/\($0.free.map(String.init) ?? "?")" }
                rows.append(["\(node.id)", node.cpus.listString, size(node.memTotal), size(node.memFree),
                             node.distances.map(String.init).joined(separator: " "), hp.joined(separator: ", ")])
            }
            o += table(rows)
            line()
        }
        if let m = s.memory {
            line("MEMORY total \(size(m.total)), available \(size(m.available)), swap \(size(m.swapTotal)) (\(m.swaps.count) area(s))")
            for p in m.hugepages {
                line("     hugepages \(size(p.size)): total \(opt(p.total)) free \(opt(p.free)) reserved \(opt(p.reserved)) surplus \(opt(p.surplus))")
            }
            if let thp = m.transparentHugepages {
                line("     THP enabled=\(thp.enabled?.description ?? "?") defrag=\(thp.defrag?.description ?? "?")")
            }
            if let k = m.ksm { line("     KSM run=\(opt(k.run)) sharing=\(opt(k.pagesSharing)) merge_across_nodes=\(opt(k.mergeAcrossNodes))") }
            if let z = m.zswap { line("     zswap enabled=\(z.enabled.map { $0 ? "yes" : "no" } ?? "?") compressor=\(z.compressor ?? "?")") }
            line()
        }
        if let k = s.kvm {
            let usable = k.usable.map { $0 ? "usable (API \(opt(k.apiVersion)), max vCPUs \(opt(k.maxVCPUs)))" : "NOT usable: \(k.liveCheckError ?? "?")" } ?? "not tested (not the live root)"
            line("KVM  /dev/kvm \(k.device.present ? "present" : "missing"), \(usable)")
            line("     nested=\(k.nested.map { $0 ? "on" : "off" } ?? "?") tdp=\(k.twoDimensionalPaging.map { $0 ? "on" : "off" } ?? "?") halt_poll=\(k.haltPoll?.humanReadable ?? "-")")
            line("     vhost-net \(k.vhostNet.present ? "present" : "missing"), tun \(k.tun.present ? "present" : "missing"), IOMMU groups \(k.iommu.groups.count)\(k.iommu.dmarTable ? ", DMAR" : "")\(k.iommu.ivrsTable ? ", IVRS" : "")")
            line("     cgroups \(k.cgroups.mode): \(k.cgroups.controllers.keys.sorted().joined(separator: " "))")
            line()
        }
        if let sc = s.sysctls {
            line("SYSCTLS")
            for (k, v) in sc.values.sorted(by: { $0.key < $1.key }) { line("     \(k) = \(v)") }
            line()
        }
        if let p = s.pci {
            line("PCI  \(p.devices.count) device(s)")
            var rows = [["address", "class", "vendor:device", "driver", "node", "iommu", "sriov", "link"]]
            for d in p.devices {
                let cls = d.classCode.map { String(format: "%06x", $0) } ?? "?"
                let vd = "\(d.vendor.map { String(format: "%04x", $0) } ?? "?"):\(d.device.map { String(format: "%04x", $0) } ?? "?")"
                let sriov = d.sriovTotalVFs.map { "\(d.sriovNumVFs ?? 0)/\($0)" } ?? (d.physicalFunction.map { "VF of \($0)" } ?? "-")
                let link = d.linkSpeed.map { "\($0) x\(opt(d.linkWidth))" } ?? "-"
                rows.append([d.address, cls, vd, d.driver ?? "-", opt(d.numaNode), opt(d.iommuGroup), sriov, link])
            }
            o += table(rows)
            line()
        }
        if let b = s.block {
            line("BLOCK")
            var rows = [["device", "scheduler", "nr_req", "rot", "nomerges", "ra_kb", "hwq", "size"]]
            for d in b.devices {
                rows.append([d.name, d.scheduler?.active ?? "-", opt(d.nrRequests), d.rotational.map { $0 ? "yes" : "no" } ?? "-",
                             opt(d.nomerges), opt(d.readAhead?.kibibytes), opt(d.hardwareQueues), d.size?.humanReadable ?? "-"])
            }
            o += table(rows)
            line()
        }
        if let n = s.network {
            line("NETWORK")
            var rows = [["iface", "state", "mtu", "speed", "driver", "rxq/txq", "master", "node"]]
            for i in n.interfaces {
                rows.append([i.name, i.state ?? "-", opt(i.mtu), i.speedMbps.map { "\($0)Mb/s" } ?? "-", i.driver ?? (i.isBridge ? "bridge" : "-"),
                             "\(i.rxQueues)/\(i.txQueues)", i.master ?? "-", opt(i.numaNode)])
            }
            o += table(rows)
            line()
        }
        if !s.diagnostics.isEmpty {
            line("DIAGNOSTICS (\(s.diagnostics.count))")
            for d in s.diagnostics { line("     \(d)") }
        }
        return o
    }

    static func opt<T>(_ v: T?) -> String { v.map { "\($0)" } ?? "-" }

    /// Left-aligned columns sized to their widest cell.
    static func table(_ rows: [[String]]) -> String {
        var widths: [Int] = []
        for r in rows {
            for (i, c) in r.enumerated() {
                if i >= widths.count { widths.append(0) }
                widths[i] = max(widths[i], c.count)
            }
        }
        let rows = rows.map { $0.map(terminalSafe) }
        return rows.map { r in
            "     " + r.enumerated().map { i, c in
                i == r.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count + 2)
            }.joined()
        }.joined(separator: "\n") + "\n"
    }
}

extension ProbeSection {
    /// The raw names plus the aliases operators type (`cpu`, `net`, `sysctl`, `mem`).
    init?(cliName name: String) {
        switch name.lowercased() {
        case "cpu", "cpus", "topology": self = .topology
        case "net", "network", "networks": self = .network
        case "sysctl", "sysctls": self = .sysctls
        case "mem", "memory": self = .memory
        default:
            guard let s = ProbeSection(rawValue: name.lowercased()) else { return nil }
            self = s
        }
    }
}
