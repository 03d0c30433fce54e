import Tuning
import VirtCore

/// Two reference placers for the `placement` suite, written from the published descriptions
/// in the research notes (no code copied). Both place dedicated single-cell guests one at a
/// time, in arrival order, and check node memory like the VirtKit planner.
protocol ReferencePlacer {
    static var label: String { get }
    /// The host CPU per vCPU on one node, or nil when the guest does not fit.
    static func place(vcpus: Int, memory: UInt64, on host: inout ReferenceHost) -> [Int]?
}

/// The host as the references see it: free CPUs, cores (online threads in host order) and
/// memory per node.
struct ReferenceHost {
    struct Core { var threads: [Int]; var socket: Int }
    var free: Set<Int>
    /// Per node: its cores, in host order.
    var nodeCores: [[Core]]
    var nodeMemory: [UInt64]
    var nodeIDs: [Int]

    init(_ host: HostTopology) {
        free = Set(host.onlineCPUs)
        nodeIDs = host.nodes.map(\.id)
        nodeCores = host.nodes.map { node in
            host.cores.compactMap { siblings -> Core? in
                let online = siblings.filter { host.cpu($0)?.online == true && node.cpus.contains($0) }
                guard let first = online.first else { return nil }
                return Core(threads: online, socket: host.cpu(first)?.package ?? 0)
            }
        }
        // Unknown memory does not limit, as in the planner.
        nodeMemory = host.nodes.map { $0.memory?.bytes ?? .max }
    }

    func freeCount(node n: Int) -> Int { nodeCores[n].reduce(0) { $0 + $1.threads.filter { free.contains($0) }.count } }

    var wholeCoresFree: Int {
        nodeCores.joined().filter { $0.threads.allSatisfy { free.contains($0) } }.count
    }

    mutating func take(_ cpus: [Int], memory: UInt64, node n: Int) {
        for c in cpus { free.remove(c) }
        nodeMemory[n] -= memory
    }
}

/// Nova's `numa_fit_instance_to_host` → `_pack_instance_onto_cores` for `hw:cpu_policy=dedicated`,
/// `hw:cpu_thread_policy=prefer`, one guest cell: host cells sorted for spreading (most free
/// pCPUs first, stable), the first cell that fits wins; inside it, for t = max threads per
/// core down to 1, the free sibling sets with at least t free threads in host order give their
/// first t threads each; if none fits, every free thread is treated as a core (flat fallback).
enum NovaFirstFit: ReferencePlacer {
    static let label = "Nova-style first fit"

    static func place(vcpus: Int, memory: UInt64, on host: inout ReferenceHost) -> [Int]? {
        let h = host
        let order = h.nodeCores.indices.sorted { h.freeCount(node: $0) != h.freeCount(node: $1) ? h.freeCount(node: $0) > h.freeCount(node: $1) : $0 < $1 }
        for n in order where host.nodeMemory[n] >= memory && host.freeCount(node: n) >= vcpus {
            let sets = host.nodeCores[n].map { $0.threads.filter { h.free.contains($0) } }.filter { !$0.isEmpty }
            let maxThreads = sets.map(\.count).max() ?? 0
            var pins: [Int]?
            for t in stride(from: maxThreads, through: 1, by: -1) {
                let usable = sets.filter { $0.count >= t }
                if usable.count * t >= vcpus {
                    pins = Array(usable.flatMap { $0.prefix(t) }.prefix(vcpus))
                    break
                }
            }
            if pins == nil {
                let flat = sets.flatMap { $0 }
                if flat.count >= vcpus { pins = Array(flat.prefix(vcpus)) }
            }
            if let pins {
                host.take(pins, memory: memory, node: n)
                return pins
            }
        }
        return nil
    }
}

/// The kubelet's static CPU manager policy with the topology manager's `single-numa-node`
/// policy: the narrowest preferred hint is one node, lowest id first; inside it
/// `takeByTopologyNUMAPacked`: whole sockets, then whole cores, then single CPUs, each level
/// sorted by fewest free CPUs first (best fit), then by id.
enum KubeletStaticPacker: ReferencePlacer {
    static let label = "kubelet-static-style packer"

    static func place(vcpus: Int, memory: UInt64, on host: inout ReferenceHost) -> [Int]? {
        guard let n = host.nodeCores.indices.first(where: { host.nodeMemory[$0] >= memory && host.freeCount(node: $0) >= vcpus }) else {
            return nil
        }
        let h = host
        let cores = host.nodeCores[n]
        var taken: [Int] = []
        var remaining = vcpus
        func freeIn(socket s: Int) -> Int { cores.filter { $0.socket == s }.reduce(0) { $0 + $1.threads.filter { h.free.contains($0) && !taken.contains($0) }.count } }
        func isFree(_ c: ReferenceHost.Core) -> Bool { c.threads.allSatisfy { h.free.contains($0) && !taken.contains($0) } }
        // Whole sockets (within the node).
        let sockets = Array(Set(cores.map(\.socket))).sorted()
        for s in sockets {
            let members = cores.filter { $0.socket == s }
            let size = members.reduce(0) { $0 + $1.threads.count }
            if members.allSatisfy(isFree), size <= remaining {
                taken += members.flatMap(\.threads)
                remaining -= size
            }
        }
        // Whole cores, sockets with the fewest free CPUs first.
        let byFit = cores.indices.sorted {
            let a = freeIn(socket: cores[$0].socket), b = freeIn(socket: cores[$1].socket)
            return a != b ? a < b : $0 < $1
        }
        for i in byFit where remaining > 0 && isFree(cores[i]) && cores[i].threads.count <= remaining {
            taken += cores[i].threads
            remaining -= cores[i].threads.count
        }
        // Single CPUs: fullest socket, then fullest core, then id.
        if remaining > 0 {
            let rest = cores.flatMap { core in core.threads.filter { h.free.contains($0) && !taken.contains($0) }.map { (cpu: $0, core: core) } }
            let sorted = rest.sorted {
                let sa = freeIn(socket: $0.core.socket), sb = freeIn(socket: $1.core.socket)
                if sa != sb { return sa < sb }
                let ca = $0.core.threads.filter { h.free.contains($0) && !taken.contains($0) }.count
                let cb = $1.core.threads.filter { h.free.contains($0) && !taken.contains($0) }.count
                return ca != cb ? ca < cb : $0.cpu < $1.cpu
            }
            taken += sorted.prefix(remaining).map(\.cpu)
            remaining -= min(remaining, sorted.count)
        }
        guard remaining == 0 else { return nil }
        host.take(taken, memory: memory, node: n)
        return taken
    }
}
