import ArgumentParser
import Foundation
import Libvirt

/// `virtkit report`: the README's main example — a compact host and guests overview.
/// Works out of the box against the embedded `test:///default` driver.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Compact host + guests overview with state reasons.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    struct Guest: Codable {
        var name: String
        var state: String
        var reason: String
        var vcpus: Int?
        var memoryKiB: UInt64?
        var cpuTimeNs: UInt64?
    }

    struct Report: Codable {
        var host: NodeCommand.Report
        var guests: [Guest]
        /// Count of guests per state key.
        var states: [String: Int]
    }

    func run() async throws {
        try await withConnection(connection.resolvedURI, readOnly: true) { conn in
            let host = try await NodeCommand.collect(conn)
            let stats = try await conn.allDomainStats(groups: [.state, .cpuTotal, .balloon, .vcpu], handles: true)
            var guests = stats.map { s in
                Guest(name: s.name, state: s.state?.state.key ?? "unknown", reason: s.state?.reasonDescription ?? "unknown",
                      vcpus: s.vcpu?.current, memoryKiB: s.balloon?.current?.kibibytes, cpuTimeNs: s.cpu?.time?.wholeNanoseconds)
            }
            // Drivers without balloon/vcpu stats (test driver): fill from virDomainGetInfo.
            for (i, s) in stats.enumerated() where guests[i].vcpus == nil || guests[i].memoryKiB == nil {
                if let info = try? await s.domain?.info() {
                    guests[i].vcpus = guests[i].vcpus ?? info.vcpus
                    guests[i].memoryKiB = guests[i].memoryKiB ?? info.memory.kibibytes
                    guests[i].cpuTimeNs = guests[i].cpuTimeNs ?? info.cpuTime.wholeNanoseconds
                }
            }
            guests.sort { $0.name < $1.name }
            let report = Report(host: host, guests: guests, states: Dictionary(guests.map { ($0.state, 1) }, uniquingKeysWith: +))
            if output.json { return try printJSON(report) }
            print("\(host.hostname) — \(host.hypervisor) \(host.hypervisorVersion), libvirt \(host.libvirtVersion) (\(host.uri))")
            print("  \(host.cpus) CPUs (\(host.sockets)s×\(host.coresPerSocket)c×\(host.threadsPerCore)t, \(host.numaNodes) NUMA), \(mib(host.memoryKiB)) memory"
                + (host.cellsFreeKiB.isEmpty ? "" : ", free per cell: " + host.cellsFreeKiB.map(mib).joined(separator: " / ")))
            let summary = report.states.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            print("  \(guests.count) guest(s)" + (summary.isEmpty ? "" : ": \(summary)"))
            if guests.isEmpty { return }
            print(pad("GUEST", 24) + pad("STATE", 26) + pad("VCPUS", 7) + pad("MEMORY", 12) + "CPU TIME")
            for g in guests {
                print(pad(g.name, 24) + pad("\(g.state) (\(g.reason))", 26) + pad(g.vcpus.map(String.init) ?? "-", 7)
                    + pad(g.memoryKiB.map(mib) ?? "-", 12) + (g.cpuTimeNs.map { String(format: "%.2fs", Double($0) / 1e9) } ?? "-"))
            }
        }
    }
}
