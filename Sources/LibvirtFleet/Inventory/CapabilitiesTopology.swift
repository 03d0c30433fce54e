import DomainXML
import Foundation
import VirtCore

// Replace with the typed capabilities → HostTopology of issue #14 once it lands: this reads
// only what the fleet inventory needs from `<capabilities><host>`.

/// A capabilities document the inventory cannot read.
public struct FleetCapabilitiesError: Error, Hashable, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "capabilities XML: \(reason)" }
}

/// The host topology in a capabilities document: NUMA cells with CPUs (package/die/core/
/// siblings), memory, distances and page pools, and the cache banks. Nil when the document
/// lists no cells (the test driver with a custom node file): the caller falls back to
/// `virNodeGetInfo`.
func hostTopology(fromCapabilitiesXML xml: String) throws -> HostTopology? {
    let doc: LosslessXMLDocument
    do { doc = try LosslessXMLDocument(parsing: xml) } catch { throw FleetCapabilitiesError("\(error)") }
    guard doc.root.localName == "capabilities" else { throw FleetCapabilitiesError("root element is <\(doc.root.localName)>") }
    guard let host = doc.root.firstChild(named: "host") else { throw FleetCapabilitiesError("no <host>") }
    let cells = host.firstChild(named: "topology")?.firstChild(named: "cells")?.children(named: "cell") ?? []
    guard !cells.isEmpty else { return nil }
    var cpus: [HostTopology.CPU] = []
    var nodes: [HostTopology.Node] = []
    for cell in cells {
        guard let id = cell.attribute("id").flatMap({ Int($0) }) else { throw FleetCapabilitiesError("<cell> without a numeric id") }
        let memory = try cell.firstChild(named: "memory").map { try size($0.text ?? "", unit: $0.attribute("unit")) }
        var pools: [HostTopology.PagePool] = []
        for p in cell.children(named: "pages") {
            let pageSize = try size(p.attribute("size") ?? "", unit: p.attribute("unit"))
            guard let count = UInt64((p.text ?? "").trimmingCharacters(in: .whitespaces)) else { throw FleetCapabilitiesError("<pages> count '\(p.text ?? "")'") }
            pools.append(HostTopology.PagePool(pageSize: pageSize, total: count))
        }
        let distances = (cell.firstChild(named: "distances")?.children(named: "sibling") ?? []).compactMap { s -> HostTopology.NodeDistance? in
            guard let n = s.attribute("id").flatMap({ Int($0) }), let v = s.attribute("value").flatMap({ Int($0) }) else { return nil }
            return HostTopology.NodeDistance(node: n, value: v)
        }
        var ids: [Int] = []
        for c in cell.firstChild(named: "cpus")?.children(named: "cpu") ?? [] {
            guard let cpu = c.attribute("id").flatMap({ Int($0) }) else { throw FleetCapabilitiesError("<cpu> without a numeric id") }
            ids.append(cpu)
            let siblings = try c.attribute("siblings").map { text in
                do { return try CPUSet(parsing: text) } catch { throw FleetCapabilitiesError("siblings '\(text)': \(error)") }
            }
            cpus.append(HostTopology.CPU(
                id: cpu, online: true, package: c.attribute("socket_id").flatMap { Int($0) },
                die: c.attribute("die_id").flatMap { Int($0) }, core: c.attribute("core_id").flatMap { Int($0) },
                node: id, threadSiblings: siblings))
        }
        nodes.append(HostTopology.Node(id: id, cpus: CPUSet(ids), memory: memory, distances: distances, pagePools: pools))
    }
    var caches: [HostTopology.Cache] = []
    for bank in host.firstChild(named: "cache")?.children(named: "bank") ?? [] {
        guard let level = bank.attribute("level").flatMap({ Int($0) }), let list = bank.attribute("cpus") else { continue }
        guard let set = try? CPUSet(parsing: list) else { throw FleetCapabilitiesError("cache bank cpus '\(list)'") }
        let type = bank.attribute("type") ?? ""
        var bytes: MemorySize?
        if let text = bank.attribute("size") { bytes = try size(text, unit: bank.attribute("unit")) }
        caches.append(HostTopology.Cache(level: level, type: type, size: bytes, cpus: set, id: bank.attribute("id").flatMap { Int($0) }))
    }
    return HostTopology(cpus: cpus, nodes: nodes, caches: caches)
}

/// A libvirt size with its unit attribute (KiB when absent, as libvirt writes it).
private func size(_ text: String, unit: String?) throws -> MemorySize {
    let t = text.trimmingCharacters(in: .whitespaces)
    do { return try MemorySize(value: t, unit: unit) } catch { throw FleetCapabilitiesError("size '\(t)' \(unit ?? ""): \(error)") }
}
