// pin-to-node: keep a running guest on one NUMA node: every vCPU and the emulator
// threads pinned to the node's CPUs (from /sys), guest memory allowed only there.
//   swift run pin-to-node GUEST NODE [URI]      (default qemu:///system; needs root)
import Foundation
import HostProbe
import Libvirt
import VirtCore

let args = Array(CommandLine.arguments.dropFirst())
guard args.count >= 2, let node = Int(args[1]) else {
    print("usage: pin-to-node GUEST NODE [URI]")
    exit(2)
}
do {
    let snapshot = try await HostProber().snapshot(sections: [.topology, .numa])
    guard let cpus = snapshot.hostTopology?.nodes.first(where: { $0.id == node })?.cpus, !cpus.isEmpty else {
        print("pin-to-node: this host has no NUMA node \(node) with CPUs")
        exit(1)
    }
    let conn = try await Connection.open(args.count > 2 ? args[2] : "qemu:///system")
    let guest = try await conn.domain(named: args[0])
    let flags: ModificationImpact = [.live, .config]
    for vcpu in 0..<(try await guest.vcpuCount()) {
        try await guest.pinVCPU(vcpu, to: cpus, flags: flags)
    }
    try await guest.pinEmulator(to: cpus, flags: flags)
    try await guest.setNUMAParameters(NUMAParameters(nodeset: NodeSet([node])), flags: flags)
    print("\(args[0]): vCPUs and emulator on CPUs \(cpus), memory on node \(node)")
    await conn.close()
} catch {
    print("pin-to-node: \(error)")
    exit(1)
}
