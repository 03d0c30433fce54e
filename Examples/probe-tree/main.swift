// probe-tree: read a host from a captured tree (`virtkit probe capture --out DIR`)
// instead of the live /sys and /proc: CPUs, NUMA nodes with memory, KVM readiness.
//   swift run probe-tree DIR
import Foundation
import HostProbe

guard let root = CommandLine.arguments.dropFirst().first else {
    print("usage: probe-tree DIR   (a tree made by `virtkit probe capture --out DIR`)")
    exit(2)
}
do {
    let snapshot = try await HostProber(rootPath: root).snapshot()
    if let t = snapshot.hostTopology {
        print("\(t.cpus.count) CPUs, \(t.nodes.count) NUMA node(s)")
        for n in t.nodes {
            print("  node \(n.id): CPUs \(n.cpus), memory \(n.memory?.humanReadable ?? "?")")
        }
    }
    if let kvm = snapshot.kvm {
        print("KVM: /dev/kvm \(kvm.device.present ? "present" : "missing"), modules \(kvm.modules.keys.sorted().joined(separator: ", "))")
    }
    for d in snapshot.diagnostics { print("note: \(d)") }
} catch {
    print("probe-tree: \(error)")
    exit(1)
}
