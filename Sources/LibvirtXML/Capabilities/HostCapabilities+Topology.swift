import VirtCore

extension HostCapabilities {
    /// The host's topology from its capabilities: every CPU libvirt lists (with socket, die,
    /// core and thread siblings), NUMA cells with memory, distances and page pools, and the
    /// cache banks. The same value HostProbe builds from `/sys`; fields the document does not
    /// carry stay nil (free memory and free pages: capabilities give only totals; PCI devices:
    /// they are node devices, not capabilities).
    ///
    /// Throws the first value that does not decode, with its path.
    public func hostTopology() throws(TypedXMLError) -> HostTopology {
        let host = self.host
        var cpus: [HostTopology.CPU] = []
        var nodes: [HostTopology.Node] = []
        for cell in host.topology.cells.cells {
            let nodeID = try required(cell.id, in: cell.element)
            var nodeCPUs: [Int] = []
            for cpu in cell.cpus.cpus {
                let id = try required(cpu.id, in: cpu.element)
                nodeCPUs.append(id)
                cpus.append(HostTopology.CPU(id: id, online: true, package: try cpu.socketID.value,
                                             die: try cpu.dieID.value, core: try cpu.coreID.value,
                                             node: nodeID, threadSiblings: try cpu.siblings.value))
            }
            var pools: [HostTopology.PagePool] = []
            for page in cell.pages {
                guard let size = try page.size.value else { continue }
                pools.append(HostTopology.PagePool(pageSize: size, total: try page.count.value ?? 0))
            }
            var distances: [HostTopology.NodeDistance] = []
            for sibling in cell.distances.siblings {
                distances.append(HostTopology.NodeDistance(node: try required(sibling.id, in: sibling.element),
                                                           value: try required(sibling.value, in: sibling.element)))
            }
            nodes.append(HostTopology.Node(id: nodeID, cpus: CPUSet(nodeCPUs), memory: try cell.memory.value,
                                           distances: distances, pagePools: pools))
        }
        var caches: [HostTopology.Cache] = []
        for bank in host.cache.banks {
            caches.append(HostTopology.Cache(level: try required(bank.level, in: bank.element),
                                             type: Self.sysfsCacheType(try bank.type.value ?? ""),
                                             size: try bank.size.value,
                                             cpus: try required(bank.cpus, in: bank.element),
                                             id: try bank.id.value))
        }
        return HostTopology(cpus: cpus, nodes: nodes, caches: caches)
    }

    /// libvirt writes sysfs' `Unified`/`Data`/`Instruction` as `both`/`data`/`code`;
    /// `HostTopology` keeps sysfs' spelling.
    static func sysfsCacheType(_ libvirt: String) -> String {
        switch libvirt {
        case "both": return "Unified"
        case "data": return "Data"
        case "code": return "Instruction"
        default: return libvirt
        }
    }

    private func required<V>(_ property: Property<V>, in element: LosslessXMLElement?) throws(TypedXMLError) -> V {
        if let v = try property.value { return v }
        throw TypedXMLError(path: element.map(elementPath) ?? "/capabilities/host", reason: .missing)
    }
}
