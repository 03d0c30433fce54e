import LibvirtXML
import VirtCore

/// A capabilities document the inventory cannot read.
public struct FleetCapabilitiesError: Error, Hashable, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "capabilities XML: \(reason)" }
}

/// The host topology in a capabilities document (LibvirtXML's `HostCapabilities`). Nil when
/// the document lists no NUMA cells (the test driver with a custom node file): the caller
/// falls back to `virNodeGetInfo`.
func hostTopology(fromCapabilitiesXML xml: String) throws(FleetCapabilitiesError) -> HostTopology? {
    let topology: HostTopology
    do {
        let caps = try HostCapabilities(parsing: xml)
        let root = caps.node.element?.localName ?? ""
        guard root == HostCapabilities.elementName else { throw FleetCapabilitiesError("root element is <\(root)>") }
        topology = try caps.hostTopology()
    } catch let e as FleetCapabilitiesError {
        throw e
    } catch {
        throw FleetCapabilitiesError("\(error)")
    }
    return topology.nodes.isEmpty ? nil : topology
}
