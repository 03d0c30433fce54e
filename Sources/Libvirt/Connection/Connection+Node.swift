import CLibvirt
import Foundation
import VirtCore

/// Host CPU time counters in nanoseconds (`virNodeGetCPUStats`); nil = not reported.
public struct NodeCPUStats: Hashable, Sendable, Codable {
    public var kernel: UInt64?
    public var user: UInt64?
    public var idle: UInt64?
    public var iowait: UInt64?
    public var interrupt: UInt64?
    /// Utilization percentage (only reported by some drivers, instead of the counters).
    public var utilization: UInt64?
    /// Every field as libvirt named it.
    public var raw: [String: UInt64]
}

/// Host memory counters (`virNodeGetMemoryStats`); nil = not reported.
public struct NodeMemoryStats: Hashable, Sendable, Codable {
    public var total: MemorySize?
    public var free: MemorySize?
    public var buffers: MemorySize?
    public var cached: MemorySize?
    /// Every field as libvirt named it, in KiB.
    public var raw: [String: UInt64]
}

extension Connection {
    /// The host summary (`virNodeGetInfo`).
    public func nodeInfo() async throws -> HostNodeInfo {
        try await call { c throws(LibvirtError) in
            var info = virNodeInfo()
            guard virNodeGetInfo(c, &info) == 0 else { throw LibvirtError.takeLast(after: "virNodeGetInfo") }
            let model = withUnsafeBytes(of: info.model) { fixedString($0) }
            return HostNodeInfo(
                model: model, memory: .kibibytes(UInt64(info.memory)), cpus: Int(info.cpus), mhz: Int(info.mhz),
                nodes: Int(info.nodes), sockets: Int(info.sockets), cores: Int(info.cores), threads: Int(info.threads))
        }
    }

    /// Host CPU time counters for one CPU or, with nil, all CPUs (`virNodeGetCPUStats`).
    /// Throws `.noSupport` on drivers that don't report them (e.g. the test driver).
    public func nodeCPUStats(cpu: Int32? = nil) async throws -> NodeCPUStats {
        try await call { c throws(LibvirtError) in
            let num = cpu ?? Int32(VIR_NODE_CPU_STATS_ALL_CPUS.rawValue)
            var n: Int32 = 0
            guard virNodeGetCPUStats(c, num, nil, &n, 0) == 0 else { throw LibvirtError.takeLast(after: "virNodeGetCPUStats") }
            var params = [virNodeCPUStats](repeating: virNodeCPUStats(), count: Int(max(n, 0)))
            if n > 0 {
                guard virNodeGetCPUStats(c, num, &params, &n, 0) == 0 else { throw LibvirtError.takeLast(after: "virNodeGetCPUStats") }
            }
            var raw: [String: UInt64] = [:]
            for p in params.prefix(Int(n)) {
                raw[withUnsafeBytes(of: p.field) { fixedString($0) }] = p.value
            }
            return NodeCPUStats(
                kernel: raw["kernel"], user: raw["user"], idle: raw["idle"], iowait: raw["iowait"],
                interrupt: raw["intr"], utilization: raw["utilization"], raw: raw)
        }
    }

    /// Host memory counters for one NUMA cell or, with nil, the whole host
    /// (`virNodeGetMemoryStats`). Throws `.noSupport` on the test driver.
    public func nodeMemoryStats(cell: Int32? = nil) async throws -> NodeMemoryStats {
        try await call { c throws(LibvirtError) in
            let num = cell ?? Int32(VIR_NODE_MEMORY_STATS_ALL_CELLS.rawValue)
            var n: Int32 = 0
            guard virNodeGetMemoryStats(c, num, nil, &n, 0) == 0 else { throw LibvirtError.takeLast(after: "virNodeGetMemoryStats") }
            var params = [virNodeMemoryStats](repeating: virNodeMemoryStats(), count: Int(max(n, 0)))
            if n > 0 {
                guard virNodeGetMemoryStats(c, num, &params, &n, 0) == 0 else { throw LibvirtError.takeLast(after: "virNodeGetMemoryStats") }
            }
            var raw: [String: UInt64] = [:]
            for p in params.prefix(Int(n)) {
                raw[withUnsafeBytes(of: p.field) { fixedString($0) }] = p.value
            }
            let kib = { (k: String) in raw[k].map { MemorySize.kibibytes($0) } }
            return NodeMemoryStats(total: kib("total"), free: kib("free"), buffers: kib("buffers"), cached: kib("cached"), raw: raw)
        }
    }

    /// Free memory of each NUMA cell, starting at `startCell` (`virNodeGetCellsFreeMemory`).
    /// The array index is `cell - startCell`.
    public func cellsFreeMemory(startCell: Int32 = 0, maxCells: Int32 = 1024) async throws -> [MemorySize] {
        try await call { c throws(LibvirtError) in
            var out = [UInt64](repeating: 0, count: Int(max(maxCells, 0)))
            let n = virNodeGetCellsFreeMemory(c, &out, startCell, maxCells)
            guard n >= 0 else { throw LibvirtError.takeLast(after: "virNodeGetCellsFreeMemory") }
            return out.prefix(Int(n)).map { MemorySize(bytes: $0) }
        }
    }

    /// Free memory of the whole host (`virNodeGetFreeMemory`).
    public func freeMemory() async throws -> MemorySize {
        try await call { c throws(LibvirtError) in
            let v = virNodeGetFreeMemory(c)
            if v == 0, let e = virGetLastError(), e.pointee.code != 0 { throw LibvirtError.takeLast(after: "virNodeGetFreeMemory") }
            return MemorySize(bytes: v)
        }
    }
}

/// Reads a NUL-terminated string out of a fixed-size C char array (never past its end).
func fixedString(_ bytes: UnsafeRawBufferPointer) -> String {
    let len = bytes.firstIndex(of: 0) ?? bytes.count
    return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<len]), as: UTF8.self)
}
