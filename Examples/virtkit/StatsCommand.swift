import ArgumentParser
import Foundation
import Libvirt

/// `virtkit stats [DOMAIN…]`: bulk domain statistics (`virConnectGetAllDomainStats`).
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Bulk statistics of all or the named domains.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @Option(name: .long, help: "Comma-separated groups: state,cpu,balloon,vcpu,net,block,perf,all (default: all).")
    var groups = "all"
    @Argument(help: "Domain names (default: every domain).") var domains: [String] = []

    static func parseGroups(_ text: String) throws -> DomainStatsGroups {
        var g: DomainStatsGroups = []
        for word in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            switch word {
            case "all": return .all
            case "state": g.insert(.state)
            case "cpu": g.insert(.cpuTotal)
            case "balloon": g.insert(.balloon)
            case "vcpu": g.insert(.vcpu)
            case "net", "interface": g.insert(.interface)
            case "block": g.insert(.block)
            case "perf": g.insert(.perf)
            default: throw CLIError("unknown stats group '\(word)' (use state,cpu,balloon,vcpu,net,block,perf,all)")
            }
        }
        return g
    }

    /// JSON shape of one record (stable keys; absent = not reported).
    struct Record: Codable {
        struct VCPU: Codable { var state: Int32?; var timeNs: UInt64?; var waitNs: UInt64?; var delayNs: UInt64? }
        struct Net: Codable { var name: String?; var rxBytes, rxPackets, txBytes, txPackets, rxErrors, txErrors, rxDrops, txDrops: UInt64? }
        struct Block: Codable { var name, path: String?; var readBytes, readRequests, writeBytes, writeRequests, capacity, allocation, physical: UInt64? }
        var name: String
        var state: String?
        var reason: String?
        var cpuTimeNs, cpuUserNs, cpuSystemNs: UInt64?
        var balloonCurrentKiB, balloonMaximumKiB, balloonRssKiB, balloonUsableKiB: UInt64?
        var vcpuCurrent, vcpuMaximum: Int?
        var vcpus: [VCPU]?
        var net: [Net]?
        var block: [Block]?
        var perf: [String: UInt64]?
        var extraCount: Int

        init(_ s: DomainStats) {
            name = s.name
            state = s.state?.state.key
            reason = s.state?.reasonDescription
            cpuTimeNs = s.cpu?.time?.wholeNanoseconds; cpuUserNs = s.cpu?.user?.wholeNanoseconds; cpuSystemNs = s.cpu?.system?.wholeNanoseconds
            balloonCurrentKiB = s.balloon?.current?.kibibytes; balloonMaximumKiB = s.balloon?.maximum?.kibibytes
            balloonRssKiB = s.balloon?.rss?.kibibytes; balloonUsableKiB = s.balloon?.usable?.kibibytes
            vcpuCurrent = s.vcpu?.current; vcpuMaximum = s.vcpu?.maximum
            vcpus = s.vcpu.map { $0.entries.map { VCPU(state: $0.state?.rawValue, timeNs: $0.time?.wholeNanoseconds, waitNs: $0.wait?.wholeNanoseconds, delayNs: $0.delay?.wholeNanoseconds) } }
            net = s.interfaceCount == nil ? nil : s.interfaces.map {
                Net(name: $0.name, rxBytes: $0.rxBytes, rxPackets: $0.rxPackets, txBytes: $0.txBytes, txPackets: $0.txPackets,
                    rxErrors: $0.rxErrors, txErrors: $0.txErrors, rxDrops: $0.rxDrops, txDrops: $0.txDrops)
            }
            block = s.blockCount == nil ? nil : s.blocks.map {
                Block(name: $0.name, path: $0.path, readBytes: $0.readBytes, readRequests: $0.readRequests, writeBytes: $0.writeBytes,
                      writeRequests: $0.writeRequests, capacity: $0.capacity?.bytes, allocation: $0.allocation?.bytes, physical: $0.physical?.bytes)
            }
            perf = s.perf.isEmpty ? nil : Dictionary(s.perf.compactMap { f in f.value.uint64.map { (f.name, $0) } }, uniquingKeysWith: { a, _ in a })
            extraCount = s.extra.count
        }
    }

    func run() async throws {
        let groups = try Self.parseGroups(groups)
        try await withConnection(connection.resolvedURI, readOnly: true) { conn in
            let stats: [DomainStats]
            if domains.isEmpty {
                stats = try await conn.allDomainStats(groups: groups)
            } else {
                var handles: [Domain] = []
                for name in domains { handles.append(try await conn.domain(named: name)) }
                stats = try await conn.domainStats(handles, groups: groups)
            }
            let records = stats.map(Record.init).sorted { $0.name < $1.name }
            if output.json { return try printJSON(records) }
            for r in records {
                var line = "\(r.name): \(r.state ?? "?")"
                if let reason = r.reason { line += " (\(reason))" }
                if let t = r.cpuTimeNs { line += String(format: "  cpu %.2fs", Double(t) / 1e9) }
                if let c = r.balloonCurrentKiB { line += "  mem \(mib(c))" }
                if let v = r.vcpuCurrent { line += "  vcpus \(v)" }
                if let n = r.net { line += "  nics \(n.count)" }
                if let b = r.block { line += "  disks \(b.count)" }
                print(line)
                for (i, v) in (r.vcpus ?? []).enumerated() {
                    print("  vcpu \(i): state \(v.state.map(String.init) ?? "?") time \(v.timeNs.map { String(format: "%.2fs", Double($0) / 1e9) } ?? "-")")
                }
                for n in r.net ?? [] { print("  net \(n.name ?? "?"): rx \(n.rxBytes ?? 0) B, tx \(n.txBytes ?? 0) B") }
                for b in r.block ?? [] { print("  block \(b.name ?? "?"): read \(b.readBytes ?? 0) B, written \(b.writeBytes ?? 0) B") }
            }
        }
    }
}

extension Duration {
    /// Whole nanoseconds for the JSON fields that keep libvirt's ns unit in their name.
    var wholeNanoseconds: UInt64 { UInt64(max(0, inNanoseconds)) }
}
