import ArgumentParser
import Foundation
import Libvirt
import VirtCore

/// `virtkit node`: the host as libvirt sees it.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Show the host: hostname, URI, versions, CPUs, memory, free memory per NUMA cell.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    struct Report: Codable {
        var uri: String
        var hostname: String
        var hypervisor: String
        var libvirtVersion: String
        var hypervisorVersion: String
        var cpuModel: String
        var cpus: Int
        var mhz: Int
        var numaNodes: Int
        var sockets: Int
        var coresPerSocket: Int
        var threadsPerCore: Int
        var memoryKiB: UInt64
        /// Free memory per NUMA cell in KiB, index = cell.
        var cellsFreeKiB: [UInt64]
        /// Host memory counters in KiB (absent when the driver has none).
        var memoryStatsKiB: [String: UInt64]?
    }

    static func collect(_ conn: Connection) async throws -> Report {
        let info = try await conn.nodeInfo()
        let mem = try? await conn.nodeMemoryStats()  // unsupported by some drivers (test)
        return Report(
            uri: try await conn.uri(), hostname: try await conn.hostname(), hypervisor: try await conn.hypervisorType(),
            libvirtVersion: try await conn.libraryVersion().description,
            hypervisorVersion: try await conn.hypervisorVersion().description,
            cpuModel: info.model ?? "", cpus: info.cpus, mhz: info.mhz, numaNodes: info.nodes, sockets: info.sockets,
            coresPerSocket: info.cores, threadsPerCore: info.threads, memoryKiB: info.memory?.kibibytes ?? 0,
            cellsFreeKiB: (try? await conn.cellsFreeMemory())?.map(\.kibibytes) ?? [],
            memoryStatsKiB: mem?.rawKiB)
    }

    func run() async throws {
        try await withConnection(connection.resolvedURI, readOnly: true) { conn in
            let r = try await Self.collect(conn)
            if output.json { return try printJSON(r) }
            print("""
            Host        \(r.hostname)  (\(r.uri))
            Hypervisor  \(r.hypervisor) \(r.hypervisorVersion), libvirt \(r.libvirtVersion)
            CPU         \(r.cpus) × \(r.cpuModel) @ \(r.mhz) MHz — \(r.numaNodes) NUMA node(s), \(r.sockets) socket(s), \(r.coresPerSocket) core(s), \(r.threadsPerCore) thread(s)
            Memory      \(mib(r.memoryKiB)) total
            """)
            for (cell, free) in r.cellsFreeKiB.enumerated() { print("  cell \(cell)    \(mib(free)) free") }
            if let m = r.memoryStatsKiB {
                print("Counters    " + m.sorted { $0.key < $1.key }.map { "\($0.key) \(mib($0.value))" }.joined(separator: ", "))
            }
        }
    }
}

// MARK: - Helpers shared by node/domains/stats/report

/// Opens `uri`, runs `body`, closes; libvirt errors become one operator-readable line.
func withConnection(_ uri: String, readOnly: Bool, _ body: (Connection) async throws -> Void) async throws {
    let conn: Connection
    do {
        conn = try await Connection.open(uri, readOnly: readOnly)
    } catch let e as LibvirtError {
        throw CLIError("cannot connect to \(uri): \(e.message) [\(e.code)]")
    }
    do {
        try await body(conn)
        await conn.close()
    } catch let e as LibvirtError {
        await conn.close()
        throw CLIError("\(e.message) [\(e.code)]")
    }
}

/// KiB as a short MiB/GiB string.
func mib(_ kib: UInt64) -> String {
    kib >= 10 << 20 ? String(format: "%.1f GiB", Double(kib) / 1_048_576) : String(format: "%.1f MiB", Double(kib) / 1024)
}

/// Pads for table output.
func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }

/// A domain by ID, UUID or name, as virsh resolves its DOMAIN argument.
func lookupDomain(_ text: String, in conn: Connection) async throws -> Domain {
    if let id = UInt32(text), id > 0 { return try await conn.domain(id: id) }
    if let u = LibvirtUUID(text), let d = try? await conn.domain(uuid: u) { return d }
    return try await conn.domain(named: text)
}
