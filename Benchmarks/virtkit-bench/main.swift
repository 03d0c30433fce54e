// Benchmarks for the hot paths the issues name; each module adds a file with a
// `static func run(arguments:)` entry and registers it in `suites` below.
import Foundation

let suites: [String: ([String]) async throws -> Void] = [
    "domainxml": DomainXMLBench.run(arguments:),
    "libvirtxml": LibvirtXMLBench.run(arguments:),
    "cgroup": CgroupBench.run(arguments:),
    "libvirt": LibvirtBench.run(arguments:),
    "hostprobe": HostProbeBench.run(arguments:),
    "mountinfo": MountinfoBench.run(arguments:),
    "lab": LabBench.run(arguments:),
    "exporter": ExporterBench.run(arguments:),
    "fleet": FleetBench.run(arguments:),
    "placement": PlacementBench.run(arguments:),
    "diagnosis": DiagnosisBench.run(arguments:),
    "streams": StreamBench.run(arguments:),
]

let args = Array(CommandLine.arguments.dropFirst())
guard let name = args.first, let suite = suites[name] else {
    print("usage: virtkit-bench <suite> [options]\nsuites: \(suites.keys.sorted().joined(separator: ", "))")
    exit(args.isEmpty ? 0 : 2)
}
do {
    try await suite(Array(args.dropFirst()))
} catch {
    // One clear line and a failing status, not a crash report.
    FileHandle.standardError.write(Data("virtkit-bench \(name): \(error)\n".utf8))
    exit(1)
}
