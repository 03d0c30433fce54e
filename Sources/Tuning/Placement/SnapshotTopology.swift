import HostProbe
import VirtCore

extension HostTopology {
    /// The placement view of a HostProbe snapshot taken with the `topology`, `numa` and (for
    /// device affinity) `pci` sections; nil without topology. Distances in sysfs are listed in
    /// node order, so they are matched to node ids by position.
    public init?(placementSnapshot snapshot: HostSnapshot) {
        guard let topo = snapshot.topology else { return nil }
        let cpus = topo.cpus.map { c in
            HostTopology.CPU(id: c.id, online: c.online, package: c.package, die: c.die, core: c.core,
                             node: c.node, threadSiblings: c.threadSiblings)
        }
        let numaNodes = (snapshot.numa?.nodes ?? []).sorted { $0.id < $1.id }
        var nodes: [HostTopology.Node] = numaNodes.map { n in
            // A synthesized node (no NUMA in sysfs) lists no CPUs; its CPUs name it.
            HostTopology.Node(
                id: n.id, cpus: n.cpus.union(CPUSet(cpus.filter { $0.node == n.id }.map(\.id))),
                memory: n.memTotalKiB.map { .kibibytes($0) }, freeMemory: n.memFreeKiB.map { .kibibytes($0) },
                distances: zip(numaNodes, n.distances).map { HostTopology.NodeDistance(node: $0.0.id, value: $0.1) },
                pagePools: n.hugepages.map { HostTopology.PagePool(pageSize: .kibibytes($0.sizeKiB), total: $0.total ?? 0, free: $0.free) })
        }
        if nodes.isEmpty {
            // No NUMA information: one node with every CPU and the host's memory.
            let total = snapshot.memory?.totalKiB.map { MemorySize.kibibytes($0) }
            nodes = [HostTopology.Node(id: 0, cpus: CPUSet(cpus.map(\.id)), memory: total)]
        }
        let devices = (snapshot.pci?.devices ?? []).map {
            HostTopology.PCIDevice(address: $0.address, node: $0.numaNode, vendorID: $0.vendor, deviceID: $0.device, classCode: $0.classCode)
        }
        self.init(cpus: cpus, nodes: nodes, pciDevices: devices)
    }
}
