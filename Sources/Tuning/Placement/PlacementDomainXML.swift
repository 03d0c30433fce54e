import DomainXML
import VirtCore

/// The domain XML elements a placement sets, as libvirt writes them.
public struct PlacementXMLFragments: Sendable, Hashable, Codable {
    /// `<cputune>` with `vcpupin`, `emulatorpin` and `iothreadpin`.
    public var cputune: String
    /// `<numatune>` with the strict memory nodeset and one `memnode` per guest cell.
    public var numatune: String
    /// `<cpu>` with `<topology>` and `<numa>` cells.
    public var cpu: String
    /// `<memoryBacking>` with the huge page size; nil without huge pages.
    public var memoryBacking: String?
}

extension GuestPlacement {
    /// Writes the placement into `domain` through DomainXML's typed views: replaces the
    /// vCPU/emulator/IOThread pins, the numatune, the CPU topology and NUMA cells and (with
    /// huge pages) the page size; other settings in those elements are kept.
    public func write(to domain: DomainDefinition) {
        let tune = domain.cputune
        tune.vcpupin.removeAll()
        tune.iothreadpin.removeAll()
        for (vcpu, cpus) in vcpuPins.enumerated() { tune.pin(vcpu: vcpu, to: cpus) }
        tune.emulatorpin.cpuset.set(emulatorPin)
        if !iothreadPins.isEmpty {
            if (try? domain.iothreads.value) ?? 0 < iothreadPins.count { domain.iothreads.set(iothreadPins.count) }
            for (i, cpus) in iothreadPins.enumerated() {
                let pin = tune.iothreadpin.append()
                pin.iothread.set(i + 1)
                pin.cpuset.set(cpus)
            }
        }

        // libvirt refuses per-cell memnodes under automatic (numad) placement, and numatune
        // inherits `<vcpu placement='auto'>`: the plan is the placement now.
        if (try? domain.vcpu.placement.value) == .auto { domain.vcpu.placement.set(.static) }
        let numa = domain.numatune
        numa.memory.mode.set(.strict)
        numa.memory.placement.remove()
        numa.memory.nodeset.set(memoryNodes)
        numa.memnode.removeAll()
        for cell in cells {
            let m = numa.memnode.append()
            m.cellid.set(cell.id)
            m.mode.set(.strict)
            m.nodeset.set(NodeSet([cell.hostNode]))
        }

        let cpu = domain.cpu
        cpu.topology.sockets.set(topology.sockets)
        cpu.topology.dies.set(topology.dies)
        cpu.topology.cores.set(topology.cores)
        cpu.topology.threads.set(topology.threads)
        cpu.numa.cells.removeAll()
        for cell in cells {
            let c = cpu.numa.cells.append()
            c.id.set(cell.id)
            c.cpus.set(cell.vcpus)
            c.memory.set(cell.memory)
        }

        if let hugepageSize {
            let pages = domain.memoryBacking.hugepages
            pages.create()
            pages.page.removeAll()
            let page = pages.page.append()
            page.size.set(hugepageSize)
            page.nodeset.set(NodeSet(cells.map(\.id)))
        }
    }

    /// The fragments `write(to:)` produces, on a blank definition of this guest.
    public var domainXMLFragments: PlacementXMLFragments {
        let total = cells.reduce(MemorySize.zero) { $0 + $1.memory }
        let domain = DomainDefinition(type: .kvm, name: name, memory: total, vcpus: vcpuPins.count)
        write(to: domain)
        return PlacementXMLFragments(
            cputune: domain.cputune.xmlString, numatune: domain.numatune.xmlString, cpu: domain.cpu.xmlString,
            memoryBacking: hugepageSize == nil ? nil : domain.memoryBacking.xmlString)
    }
}
