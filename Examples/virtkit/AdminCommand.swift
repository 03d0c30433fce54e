import ArgumentParser
import Foundation
import Libvirt
import LibvirtAdmin
import VirtCore

/// `virtkit admin`: a libvirt daemon's own administration (libvirt-admin): servers, worker
/// pools, clients, logging. Runs in its own process by design: libvirt 9.0 can't use
/// libvirt-admin and libvirt connections in one process.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Administer a libvirt daemon: servers, worker pools, clients, logging.",
        subcommands: [Servers.self, Pool.self, Clients.self, Disconnect.self, Log.self])

    struct AdminOptions: ParsableArguments {
        @Option(name: .long, help: "Daemon admin URI (default: libvirtd:///system).")
        var uri: String = "libvirtd:///system"
        @Flag(name: .long, help: "Print machine-readable JSON instead of text.")
        var json = false
    }

    static func withAdmin<T>(_ uri: String, _ body: (AdminConnection) async throws -> T) async throws -> T {
        let admin: AdminConnection
        do { admin = try await AdminConnection.open(uri) } catch { throw CLIError("cannot open \(uri): \(error)") }
        do {
            let r = try await body(admin)
            await admin.close()
            return r
        } catch let e as LibvirtError {
            await admin.close()
            throw CLIError("\(e.message) [\(e.code)]")
        }
    }

    struct Servers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the daemon's servers with their worker pools and client counts.")
        @OptionGroup var options: AdminOptions

        struct Row: Codable {
            var name: String
            var minWorkers, maxWorkers, priorityWorkers, workers, freeWorkers, queueDepth: UInt32?
            var clients, maxClients: UInt32?
        }

        func run() async throws {
            let rows = try await withAdmin(options.uri) { admin in
                var rows: [Row] = []
                for s in try await admin.servers() {
                    let p = try await s.threadPool()
                    let l = try await s.clientLimits()
                    rows.append(Row(name: s.name, minWorkers: p.minWorkers, maxWorkers: p.maxWorkers, priorityWorkers: p.priorityWorkers,
                                    workers: p.currentWorkers, freeWorkers: p.freeWorkers, queueDepth: p.jobQueueDepth,
                                    clients: l.currentClients, maxClients: l.maxClients))
                }
                return rows
            }
            if options.json { return try printJSON(rows) }
            let f = { (v: UInt32?) in v.map(String.init) ?? "-" }
            print("SERVER        WORKERS (MIN-MAX)  FREE  QUEUE  CLIENTS/MAX")
            for r in rows {
                print("\(r.name.padding(toLength: 13, withPad: " ", startingAt: 0)) \(f(r.workers)) (\(f(r.minWorkers))-\(f(r.maxWorkers)))".padding(toLength: 33, withPad: " ", startingAt: 0)
                      + "\(f(r.freeWorkers))".padding(toLength: 6, withPad: " ", startingAt: 0) + "\(f(r.queueDepth))".padding(toLength: 7, withPad: " ", startingAt: 0)
                      + "\(f(r.clients))/\(f(r.maxClients))")
            }
        }
    }

    struct Pool: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "pool", abstract: "Show or resize a server's worker pool.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "Server name (libvirtd, admin, virtqemud, …).") var server: String
        @Option(help: "Minimum workers.") var min: UInt32?
        @Option(help: "Maximum workers.") var max: UInt32?
        @Option(help: "Priority workers.") var priority: UInt32?

        func run() async throws {
            let pool = try await withAdmin(options.uri) { admin in
                let s = try await admin.server(named: server)
                if min != nil || max != nil || priority != nil {
                    try await s.setThreadPool(AdminThreadPool(minWorkers: min, maxWorkers: max, priorityWorkers: priority))
                }
                return try await s.threadPool()
            }
            let values: [String: UInt32?] = ["minWorkers": pool.minWorkers, "maxWorkers": pool.maxWorkers, "priorityWorkers": pool.priorityWorkers,
                                             "workers": pool.currentWorkers, "freeWorkers": pool.freeWorkers, "queueDepth": pool.jobQueueDepth]
            if options.json { return try printJSON(values.compactMapValues { $0 }) }
            for (k, v) in values.sorted(by: { $0.key < $1.key }) { print("\(k): \(v.map(String.init) ?? "-")") }
        }
    }

    struct Clients: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a server's connected clients.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "Server name.") var server: String

        struct Row: Codable {
            var id: UInt64
            var transport: String
            var connectedSince: Timestamp?
            var pid: Int64?
            var user: String?
            var readOnly: Bool?
        }

        func run() async throws {
            let rows = try await withAdmin(options.uri) { admin in
                var rows: [Row] = []
                for c in try await admin.server(named: server).clients() {
                    let info = try? await c.info()
                    rows.append(Row(id: c.id, transport: c.transport.description, connectedSince: c.connectedSince,
                                    pid: info?["unix_process_id"]?.int64, user: info?["unix_user_name"]?.string, readOnly: info?["readonly"]?.bool))
                }
                return rows
            }
            if options.json { return try printJSON(rows) }
            print("ID     TRANSPORT  PID      USER       SINCE")
            for r in rows {
                print("\(r.id)".padding(toLength: 7, withPad: " ", startingAt: 0) + r.transport.padding(toLength: 11, withPad: " ", startingAt: 0)
                      + (r.pid.map(String.init) ?? "-").padding(toLength: 9, withPad: " ", startingAt: 0)
                      + (r.user ?? "-").padding(toLength: 11, withPad: " ", startingAt: 0) + (r.connectedSince?.description ?? "-"))
            }
        }
    }

    struct Disconnect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disconnect a client from a server.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "Server name.") var server: String
        @Argument(help: "Client ID (from `virtkit admin clients`).") var id: UInt64

        func run() async throws {
            try await withAdmin(options.uri) { admin in
                try await admin.server(named: server).client(id: id).disconnect()
            }
        }
    }

    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show or set the daemon's log filters and outputs.")
        @OptionGroup var options: AdminOptions
        @Option(help: "New log filters, e.g. '3:remote 4:event' ('' clears them).") var filters: String?
        @Option(help: "New log outputs, e.g. '3:journald' ('' restores the default).") var outputs: String?

        func run() async throws {
            let (f, o) = try await withAdmin(options.uri) { admin in
                if let filters { try await admin.setLoggingFilters(filters.isEmpty ? nil : filters) }
                if let outputs { try await admin.setLoggingOutputs(outputs.isEmpty ? nil : outputs) }
                return (try await admin.loggingFilters(), try await admin.loggingOutputs())
            }
            if options.json { return try printJSON(["filters": f, "outputs": o]) }
            print("filters: \(f)\noutputs: \(o)")
        }
    }
}
