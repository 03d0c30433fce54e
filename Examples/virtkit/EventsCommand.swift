import ArgumentParser
import Foundation
import Libvirt
import VirtCore

/// `virtkit events`: prints domain events as they come (one line each, or JSON lines), and
/// reconnects with backoff when the daemon goes away (the gap is printed).
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print domain events as they come (Ctrl-C to stop).")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @Option(name: .long, help: "Only this domain's events (name or UUID).")
    var domain: String?
    @Option(name: .long, help: "Stop after this many events.")
    var count: Int?
    @Flag(name: .long, help: "Don't reconnect when the connection closes; exit instead.")
    var noReconnect = false

    func run() async throws {
        let monitor = try await EventMonitor.open(connection.resolvedURI, policy: noReconnect ? nil : ReconnectPolicy())
        var uuid: LibvirtUUID?
        if let domain {
            let conn = await monitor.connection
            let d: Domain
            d = try await lookupDomain(domain, in: conn)
            uuid = d.uuid
        }
        let stream = try await monitor.domainEvents(domainUUID: uuid)
        var n = 0
        for await message in stream {
            if output.json {
                try printJSONLine(EventLine(message))
            } else {
                // Unbuffered, so each event shows at once also in a pipe or file.
                writeStandardOutput(Data((EventLine(message).text + "\n").utf8))
            }
            if case .event = message { n += 1 }
            if let count, n >= count { break }
        }
        await monitor.shutdown()
    }
}

/// One line of `virtkit events --json` (stable keys).
struct EventLine: Encodable {
    var time: String
    var type: String
    var domain: String?
    var uuid: String?
    var event: String?
    var detail: String?
    var fields: [String: String]?

    init(_ m: DomainEventMessage) {
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        switch m {
        case .event(let e):
            time = iso.string(from: Date(timeIntervalSince1970: e.timestamp.sinceUnixEpoch.inSeconds))
            type = "event"
            domain = e.domainName
            uuid = e.domainUUID.description
            event = e.kind.id.description
            (detail, fields) = Self.describe(e.kind)
        case .disconnected(let c):
            time = iso.string(from: Date(timeIntervalSince1970: c.timestamp.sinceUnixEpoch.inSeconds))
            type = "disconnected"
            detail = c.reason.description
        case .reconnected(let gap, let attempts):
            time = iso.string(from: Date())
            type = "reconnected"
            fields = ["gapSeconds": String(format: "%.3f", gap.inSeconds),
                      "attempts": "\(attempts)"]
        case .failed(let e):
            time = iso.string(from: Date())
            type = "failed"
            detail = e.description
        }
    }

    var text: String {
        var s = "\(time) \(type)"
        if let domain { s += " \(domain)" }
        if let event { s += " \(event)" }
        if let detail, !detail.isEmpty { s += ": \(detail)" }
        if let fields, !fields.isEmpty { s += " " + fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
        return s
    }

    static func describe(_ k: DomainEventKind) -> (String?, [String: String]?) {
        switch k {
        case .lifecycle(let l): return (l.description, ["type": l.type, "detail": l.detail])
        case .ioError(let e): return ("\(e.devAlias) \(e.action)\(e.reason.isEmpty ? "" : " " + e.reason)",
                                      ["srcPath": e.srcPath, "devAlias": e.devAlias, "action": e.action.description, "reason": e.reason])
        case .blockJob(let d, let t, let s): return ("\(d) \(t) \(s)", ["disk": d, "jobType": t.description, "status": s.description])
        case .migrationIteration(let n): return ("\(n)", ["iteration": "\(n)"])
        case .jobCompleted(let s):
            var f = ["type": s.type.description]
            if let d = s.downtime { f["downtimeMs"] = "\(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)" }
            if let d = s.timeElapsed { f["elapsedMs"] = "\(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)" }
            return (s.type.description, f)
        case .balloonChange(let m): return (m.description, ["actualKiB": "\(m.bytes / 1024)"])
        case .watchdog(let a): return (a.description, ["action": a.description])
        case .agentLifecycle(let s, let r): return ("\(s) (\(r))", ["state": s.description, "reason": r.description])
        case .metadataChange(let t, let ns): return (t.description, ["metadataType": t.description, "namespace": ns ?? ""])
        case .deviceAdded(let a), .deviceRemoved(let a), .deviceRemovalFailed(let a): return (a, ["alias": a])
        default: return (k.description, nil)
        }
    }
}
