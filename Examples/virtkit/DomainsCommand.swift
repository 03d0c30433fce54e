import ArgumentParser
import Foundation
import Libvirt

/// `virtkit domains`: every domain with its state and the reason for it.
struct DomainsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "domains", abstract: "List domains with state and reason.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @Flag(name: .long, help: "Only running/paused/other active domains.") var active = false
    @Flag(name: .long, help: "Only defined, inactive domains.") var inactive = false

    struct Entry: Codable {
        var name: String
        var uuid: String
        /// Hypervisor ID while active.
        var id: UInt32?
        /// Stable key: running, paused, shutoff, …
        var state: String
        /// Reason key as libvirt names it: booted, user, destroyed, …
        var reason: String
        var reasonCode: Int32
        var persistent: Bool
    }

    static func collect(_ conn: Connection, flags: DomainStatsFlags) async throws -> [Entry] {
        // One bulk call for state + reason of every domain, one list for persistence.
        let stats = try await conn.allDomainStats(groups: .state, flags: flags, handles: true)
        let persistent = Set(try await conn.listAllDomains(flags: .persistent).map(\.uuid))
        return stats.map { s in
            let uuid = s.domain?.uuid
            return Entry(
                name: s.name, uuid: uuid?.description ?? "", id: s.domain?.id,
                state: s.state?.state.key ?? "unknown", reason: s.state?.reasonDescription ?? "unknown",
                reasonCode: s.state?.reasonRawValue ?? -1, persistent: uuid.map(persistent.contains) ?? false)
        }.sorted { $0.name < $1.name }
    }

    func run() async throws {
        var flags: DomainStatsFlags = []
        if active { flags.insert(.active) }
        if inactive { flags.insert(.inactive) }
        try await withConnection(connection.resolvedURI, readOnly: true) { conn in
            let entries = try await Self.collect(conn, flags: flags)
            if output.json { return try printJSON(entries) }
            let rows = [["ID", "NAME", "STATE", "REASON", "PERSISTENT"]] + entries.map {
                [$0.id.map(String.init) ?? "-", $0.name, $0.state, $0.reason, $0.persistent ? "yes" : "no"]
            }
            writeStandardOutput(Data(TextTable.render(rows) { row, column, cell in
                guard row > 0, column == 2 else { return nil }
                switch cell {
                case "running": return .green
                case "paused", "pmsuspended", "blocked": return .yellow
                case "crashed": return .red
                default: return .dim
                }
            }.utf8))
        }
    }
}
