import CLibvirt
import Foundation
import VirtCore

/// Host CPU time counters (`virNodeGetCPUStats`); nil = not reported.
public struct NodeCPUStats: Hashable, Sendable, Codable {
    public var kernel: Duration?
    public var user: Duration?
    public var idle: Duration?
    public var iowait: Duration?
    public var interrupt: Duration?
    /// Utilization in percent (only reported by some drivers, instead of the counters).
    public var utilizationPercent: UInt64?
    /// Every field as libvirt named it (nanoseconds; `utilization` in percent).
    public var rawNanoseconds: [String: UInt64]
}

/// Host memory counters (`virNodeGetMemoryStats`); nil = not reported.
public struct NodeMemoryStats: Hashable, Sendable, Codable {
    public var total: MemorySize?
    public var free: MemorySize?
    public var buffers: MemorySize?
    public var cached: MemorySize?
    /// Every field as libvirt named it, in KiB.
    public var rawKiB: [String: UInt64]
}

extension Connection {
    /// The host summary (`virNodeGetInfo`).
    public func nodeInfo() async throws -> HostNodeInfo {
        try await call { c throws(LibvirtError) in
            var info = virNodeInfo()
            try cCall("virNodeGetInfo", virNodeGetInfo(c, &info))
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
            let raw = try Self.nodeFields("virNodeGetCPUStats", virNodeCPUStats()) { p, n in virNodeGetCPUStats(c, num, p, n, 0) }
            let ns = { (k: String) in raw[k].map(Duration.nanoseconds(unsigned:)) }
            return NodeCPUStats(
                kernel: ns("kernel"), user: ns("user"), idle: ns("idle"), iowait: ns("iowait"),
                interrupt: ns("intr"), utilizationPercent: raw["utilization"], rawNanoseconds: raw)
        }
    }

    /// Host memory counters for one NUMA cell or, with nil, the whole host
    /// (`virNodeGetMemoryStats`). Throws `.noSupport` on the test driver.
    public func nodeMemoryStats(cell: Int32? = nil) async throws -> NodeMemoryStats {
        try await call { c throws(LibvirtError) in
            let num = cell ?? Int32(VIR_NODE_MEMORY_STATS_ALL_CELLS.rawValue)
            let raw = try Self.nodeFields("virNodeGetMemoryStats", virNodeMemoryStats()) { p, n in virNodeGetMemoryStats(c, num, p, n, 0) }
            let kib = { (k: String) in raw[k].map { MemorySize.kibibytes($0) } }
            return NodeMemoryStats(total: kib("total"), free: kib("free"), buffers: kib("buffers"), cached: kib("cached"), rawKiB: raw)
        }
    }

    /// The count-then-fill pattern of `virNodeGetCPUStats`/`virNodeGetMemoryStats`, whose
    /// records are a `field` name (char[80]) and a `value` (unsigned long long).
    private static func nodeFields<Record: NodeStatsRecord>(
        _ function: StaticString, _ empty: Record, _ get: (UnsafeMutablePointer<Record>?, UnsafeMutablePointer<Int32>) -> Int32
    ) throws(LibvirtError) -> [String: UInt64] {
        var n: Int32 = 0
        try cCall(function, get(nil, &n))
        var records = [Record](repeating: empty, count: Int(max(n, 0)))
        if n > 0 { try cCall(function, get(&records, &n)) }
        var raw: [String: UInt64] = [:]
        for r in records.prefix(Int(n)) { raw[r.fieldName] = r.value }
        return raw
    }

    /// Free memory of each NUMA cell, starting at `startCell` (`virNodeGetCellsFreeMemory`).
    /// The array index is `cell - startCell`.
    public func cellsFreeMemory(startCell: Int32 = 0, maxCells: Int32 = 1024) async throws -> [MemorySize] {
        try await call { c throws(LibvirtError) in
            var out = [UInt64](repeating: 0, count: Int(max(maxCells, 0)))
            let n = try cCall("virNodeGetCellsFreeMemory", virNodeGetCellsFreeMemory(c, &out, startCell, maxCells))
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

/// `virNodeCPUStats` and `virNodeMemoryStats`: the same two fields.
protocol NodeStatsRecord {
    var value: UInt64 { get }
    var fieldName: String { get }
}

extension virNodeCPUStats: NodeStatsRecord {
    var fieldName: String { withUnsafeBytes(of: field) { fixedString($0) } }
}

extension virNodeMemoryStats: NodeStatsRecord {
    var fieldName: String { withUnsafeBytes(of: field) { fixedString($0) } }
}
