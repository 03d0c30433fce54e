import DomainXML
import Libvirt
import LibvirtJoins
import VirtCore

/// Which definitions a placement changes (`virsh … --live/--config`).
public struct ReconfigurationScope: OptionSet, Sendable, Hashable {
    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// The running guest: vCPU and emulator pins, memory nodes.
    public static let live = Self(rawValue: 1)
    /// The persistent definition: `<cputune>`, `<numatune>`, `<cpu>`, `<memoryBacking>`.
    public static let config = Self(rawValue: 2)
}

extension ReconfigurationPlan {
    /// The steps that give the existing domains of `plan` their placements: per guest, live
    /// vCPU pins, the emulator pin, IOThread pins and the memory nodes (running guests), then the persistent
    /// definition edited through DomainXML. Current values are read now and kept as each
    /// step's `before`; unchanged values make no step. Huge page pools the plan grows come
    /// first (`nr_hugepages` under `hostRoot`). Guests of `plan` with no domain of that
    /// name are skipped (they are new: their definitions take the XML fragments).
    public static func placing(
        _ plan: PlacementPlan, on connection: Connection, uri: String, scope: ReconfigurationScope, hostRoot: String = "/"
    ) async throws -> ReconfigurationPlan {
        var steps: [ReconfigurationStep] = []
        // Pools first: guests started or re-placed afterwards find their pages.
        for g in plan.hugepagePoolGrowth {
            let before = try await HugepagePoolFile.read(HugepagePoolFile.path(node: g.node, pageSize: g.pageSize), root: hostRoot)
            steps.append(ReconfigurationStep(domain: "", uuid: "",
                                             change: .hugepagePool(node: g.node, pageSize: g.pageSize, before: before, after: before + g.pages)))
        }
        for p in plan.placements {
            guard let domain = try? await connection.domain(named: p.name) else { continue }
            let uuid = domain.uuid.description
            func step(_ c: ReconfigurationChange) { if !c.isNoOp { steps.append(ReconfigurationStep(domain: p.name, uuid: uuid, change: c)) } }
            let persistent = try await domain.definition(.persistent, secure: true)
            let count = (try? persistent.vcpu.count.value) ?? 0
            guard count == p.vcpuPins.count else {
                throw ReconfigurationError(reason: .invalid("\(p.name) has \(count) vCPUs, the placement \(p.vcpuPins.count)"))
            }
            if scope.contains(.live), try await domain.isActive() {
                let pins = try await domain.vcpuPinning(flags: .live)
                for (v, target) in p.vcpuPins.enumerated() where v < pins.count {
                    step(.vcpuPin(vcpu: v, before: pins[v], after: target))
                }
                step(.emulatorPin(before: try await domain.emulatorPinning(flags: .live), after: p.emulatorPin))
                // IOThread i + 1 takes the plan's pin i (the ones the guest has).
                for t in try await domain.ioThreads(flags: .live) {
                    let i = Int(t.id) - 1
                    if i >= 0, i < p.iothreadPins.count { step(.iothreadPin(id: Int(t.id), before: t.cpus, after: p.iothreadPins[i])) }
                }
                // Memory nodes can move live only under a strict numatune (libvirt's rule).
                let numa = try await domain.numaParameters(flags: .live)
                if numa.mode == .strict, let nodes = numa.nodeset, !nodes.isEmpty {
                    step(.memoryNodes(before: nodes, after: p.memoryNodes))
                }
            }
            if scope.contains(.config) {
                let before = persistent.serialize()
                p.write(to: persistent)
                step(.persistentDefinition(before: before, after: persistent.serialize()))
            }
        }
        return ReconfigurationPlan(uri: uri, steps: steps)
    }
}
