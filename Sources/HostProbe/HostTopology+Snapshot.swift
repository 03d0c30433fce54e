import VirtCore

extension HostSnapshot {
    /// The snapshot as VirtCore's `HostTopology`, the value the placement planner and the
    /// fleet consume. Needs the `topology` section; `numa` adds node memory, free memory,
    /// distances and hugepage pools (without it, or on a kernel without NUMA, one node 0
    /// holds every CPU), `pci` adds devices with their node.
    ///
    /// Caches are the distinct (level, type, shared CPUs, id) instances over all CPUs,
    /// ordered by level, then by their first CPU.
    public var hostTopology: HostTopology? {
        guard let topo = topology else { return nil }
        let cpus = topo.cpus.map { c in
            HostTopology.CPU(id: c.id, online: c.online, package: c.package, die: c.die, core: c.core,
                             node: c.node ?? (numa == nil || numa?.synthesized == true ? 0 : nil),
                             threadSiblings: c.threadSiblings)
        }
        var nodes: [HostTopology.Node] = []
        if let numa {
            let ids = numa.nodes.map(\.id)
            for n in numa.nodes {
                // The SLIT row lists every node in id order; a row of another length is not used.
                let distances = n.distances.count == ids.count
                    ? zip(ids, n.distances).map { HostTopology.NodeDistance(node: $0, value: $1) } : []
                let pools = n.hugepages.compactMap { p in p.total.map { HostTopology.PagePool(pageSize: p.size, total: $0, free: p.free) } }
                // A synthesized node (no NUMA in sysfs) lists no CPUs; the CPUs naming it count.
                let nodeCPUs = n.cpus.union(CPUSet(cpus.filter { $0.node == n.id }.map(\.id)))
                nodes.append(HostTopology.Node(id: n.id, cpus: nodeCPUs, memory: n.memTotal, freeMemory: n.memFree,
                                               distances: distances, pagePools: pools))
            }
        }
        if nodes.isEmpty {
            // No NUMA information: one node with every CPU and, when read, the host's memory.
            nodes = [HostTopology.Node(id: 0, cpus: CPUSet(topo.cpus.map(\.id)), memory: memory?.total)]
        }

        struct CacheKey: Hashable { var level: Int; var type: String; var cpus: CPUSet; var id: Int? }
        var seen = Set<CacheKey>()
        var caches: [HostTopology.Cache] = []
        for c in topo.cpus {
            for k in c.caches {
                guard let level = k.level else { continue }
                let key = CacheKey(level: level, type: k.type ?? "Unified", cpus: k.sharedCPUs ?? CPUSet([c.id]), id: k.id)
                if seen.insert(key).inserted {
                    caches.append(HostTopology.Cache(level: level, type: key.type, size: k.size, cpus: key.cpus, id: k.id))
                }
            }
        }
        caches.sort { ($0.level, $0.cpus.min ?? 0, $0.type) < ($1.level, $1.cpus.min ?? 0, $1.type) }

        let devices = (pci?.devices ?? []).map {
            HostTopology.PCIDevice(address: $0.address, node: $0.numaNode, vendorID: $0.vendor, deviceID: $0.device, classCode: $0.classCode)
        }
        return HostTopology(cpus: cpus, nodes: nodes, caches: caches, pciDevices: devices)
    }
}
