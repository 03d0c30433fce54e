import DomainXML
import Tuning
import VirtCore

extension FleetDrainPlan.Move {
    /// The guest's definition for its target: `xml` (the source's migratable live definition,
    /// `VIR_DOMAIN_XML_MIGRATABLE`) with the plan's host-side placement written in — vCPU,
    /// emulator and IOThread pins and the `numatune` memory nodes. Pure.
    ///
    /// Only host-side settings change: the guest's CPU topology, NUMA cells and IOThread count
    /// are part of its ABI, which a live migration must keep (libvirt refuses a destination
    /// XML that changes them). Memory binding is written only when it restricts something:
    /// a plan that uses every node of the target (a one-node host) binds nothing.
    public func destinationXML(from xml: String) throws -> String {
        let domain: DomainDefinition
        do { domain = try DomainDefinition(parsing: xml) } catch { throw FleetPreflightError.badDomainXML("\(error)") }
        let p = placement
        let tune = domain.cputune
        tune.vcpupin.removeAll()
        for (vcpu, cpus) in p.vcpuPins.enumerated() where !cpus.isEmpty { tune.pin(vcpu: vcpu, to: cpus) }
        if !p.emulatorPin.isEmpty { tune.emulatorpin.cpuset.set(p.emulatorPin) }
        let iothreads = (try? domain.iothreads.value) ?? 0
        if !p.iothreadPins.isEmpty {
            tune.iothreadpin.removeAll()
            for (i, cpus) in p.iothreadPins.enumerated() where i < iothreads && !cpus.isEmpty {
                let pin = tune.iothreadpin.append()
                pin.iothread.set(i + 1)
                pin.cpuset.set(cpus)
            }
        }
        if !p.memoryNodes.isEmpty, !targetNodes.isSubset(of: p.memoryNodes) {
            if (try? domain.vcpu.placement.value) == .auto { domain.vcpu.placement.set(.static) }
            let numa = domain.numatune
            numa.memory.mode.set(.strict)
            numa.memory.placement.remove()
            numa.memory.nodeset.set(p.memoryNodes)
            numa.memnode.removeAll()
            // Per-cell binding needs the guest's own NUMA cells (its ABI, unchanged).
            let guestCells = Set(domain.cpu.numa.cells.compactMap { try? $0.id.value })
            for cell in p.cells where guestCells.contains(cell.id) {
                let m = numa.memnode.append()
                m.cellid.set(cell.id)
                m.mode.set(.strict)
                m.nodeset.set(NodeSet([cell.hostNode]))
            }
        }
        return domain.serialize()
    }
}
