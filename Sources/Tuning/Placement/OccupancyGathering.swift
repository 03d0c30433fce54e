import DomainXML
import Libvirt
import VirtCore

extension PlacementOccupancy.Guest {
    /// What a guest holds according to its (live) definition: vCPU pins (`vcpupin`, else
    /// `<vcpu cpuset>`), emulator and IOThread pins, and memory on the `numatune` nodes
    /// (per `memnode` cell when given, else split evenly), in huge pages when backed by them.
    /// Unreadable values count as unpinned.
    public init(definition d: DomainDefinition) {
        let name = (try? d.name.value) ?? ""
        let count = (try? d.vcpu.count.value) ?? 0
        let fallback = (try? d.vcpu.cpuset.value) ?? CPUSet()
        var pins = [CPUSet](repeating: fallback, count: count)
        for pin in d.cputune.vcpupin {
            if let v = try? pin.vcpu.value, v >= 0, v < count, let set = try? pin.cpuset.value { pins[v] = set }
        }
        // An unpinned vCPU (empty set here) holds nothing.
        pins = pins.filter { !$0.isEmpty }
        let emulator = try? d.cputune.emulatorpin.cpuset.value
        let iothreads = d.cputune.iothreadpin.compactMap { try? $0.cpuset.value }

        let memory = (try? d.memory.value) ?? .zero
        let page = d.memoryBacking.hugepages.page.first.flatMap { try? $0.size.value }
            ?? (d.memoryBacking.hugepages.exists ? MemorySize.mebibytes(2) : nil)
        var byNode: [Int: MemorySize] = [:]
        let cells = d.cpu.numa.cells.compactMap { c -> (id: Int, memory: MemorySize)? in
            guard let id = try? c.id.value, let m = try? c.memory.value else { return nil }
            return (id, m)
        }
        let memnodes = d.numatune.memnode.compactMap { m -> (cell: Int, nodes: NodeSet)? in
            guard let cell = try? m.cellid.value, let nodes = try? m.nodeset.value, !nodes.isEmpty else { return nil }
            return (cell, nodes)
        }
        if !memnodes.isEmpty, !cells.isEmpty {
            for m in memnodes {
                guard let cell = cells.first(where: { $0.id == m.cell }), let node = m.nodes.min else { continue }
                byNode[node, default: .zero] = byNode[node, default: .zero] + cell.memory
            }
        } else if let nodes = try? d.numatune.memory.nodeset.value, !nodes.isEmpty {
            let share = memory.bytes / UInt64(nodes.count)
            for n in nodes { byNode[n] = MemorySize(bytes: share) }
        }
        var pages: [Int: [MemorySize: UInt64]] = [:]
        if let page, page.bytes > 0 {
            for (node, m) in byNode { pages[node] = [page: m.bytes / page.bytes] }
            byNode = [:]
        }
        self.init(name: name, vcpuPins: pins, emulatorPin: emulator, iothreadPins: iothreads,
                  memoryByNode: byNode, hugepagesByNode: pages)
    }
}

extension PlacementOccupancy {
    /// The occupancy of the running guests on `connection`, except those named in
    /// `excluding` (guests being re-placed), from their live definitions.
    public static func gather(from connection: Connection, excluding: Set<String> = []) async throws -> PlacementOccupancy {
        var guests: [Guest] = []
        for domain in try await connection.listAllDomains(flags: .active) where !excluding.contains(domain.name) {
            let xml: String
            do { xml = try await domain.xmlDescription() } catch let e as LibvirtError where e.code == .noDomain {
                continue  // stopped and undefined between the listing and this read: it holds nothing
            }
            guard let definition = try? DomainDefinition(parsing: xml) else { continue }
            guests.append(Guest(definition: definition))
        }
        return PlacementOccupancy(guests: guests)
    }
}
