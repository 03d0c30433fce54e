import ArgumentParser
import Foundation
import Libvirt
import VirtCore

// `virtkit pool|vol|net|nodedev|snapshot|attach|detach`: thin commands over Libvirt's object
// kinds (#13), each with `--json`. XML comes from files (`-` = stdin).

/// Reads an XML argument: a file path, or `-` for stdin.
func readXMLFile(_ path: String) throws -> String {
    if path == "-" { return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) }
    do { return try String(contentsOfFile: path, encoding: .utf8) } catch { throw CLIError("cannot read \(path): \(error.localizedDescription)") }
}

/// Prints rows as JSON or as aligned text columns.
func printRows<Row: Encodable>(_ rows: [Row], json: Bool, header: [String], _ cells: (Row) -> [String]) throws {
    if json { return try printJSON(rows) }
    let table = [header] + rows.map { cells($0).map(terminalSafe) }
    let widths = header.indices.map { i in table.map { $0.indices.contains(i) ? $0[i].count : 0 }.max() ?? 0 }
    for line in table {
        print(line.enumerated().map { i, c in i == line.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
}

struct PoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool", abstract: "Storage pools: list, info, define, start, stop, undefine, xml.",
        subcommands: [List.self, Info.self, Define.self, Start.self, Stop.self, Undefine.self, XML.self])

    struct Row: Codable {
        var name: String
        var uuid: String
        var state: String
        var capacityBytes: UInt64
        var allocationBytes: UInt64
        var availableBytes: UInt64
        var persistent: Bool
        var autostart: Bool
    }

    static func row(_ p: StoragePool) async throws -> Row {
        let i = try await p.info()
        return Row(name: p.name, uuid: p.uuid.description, state: i.state.description, capacityBytes: i.capacity.bytes,
                   allocationBytes: i.allocation.bytes, availableBytes: i.available.bytes,
                   persistent: try await p.isPersistent(), autostart: try await p.autostart())
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await withConnection(connection.resolvedURI, readOnly: true) { conn in
                var rows: [Row] = []
                for p in try await conn.listAllStoragePools() { rows.append(try await PoolCommand.row(p)) }
                try printRows(rows.sorted { $0.name < $1.name }, json: output.json, header: ["NAME", "STATE", "CAPACITY", "AVAILABLE", "AUTOSTART"]) {
                    [$0.name, $0.state, MemorySize(bytes: $0.capacityBytes).humanReadable, MemorySize(bytes: $0.availableBytes).humanReadable, $0.autostart ? "yes" : "no"]
                }
            }
        }
    }

    struct Info: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument var name: String
        func run() async throws {
            try await withConnection(connection.resolvedURI, readOnly: true) { conn in
                let r = try await PoolCommand.row(try await conn.storagePool(named: name))
                try printRows([r], json: output.json, header: ["NAME", "UUID", "STATE", "CAPACITY", "ALLOCATION", "AVAILABLE"]) {
                    [$0.name, $0.uuid, $0.state, MemorySize(bytes: $0.capacityBytes).humanReadable, MemorySize(bytes: $0.allocationBytes).humanReadable,
                     MemorySize(bytes: $0.availableBytes).humanReadable]
                }
            }
        }
    }

    struct Define: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Define a pool from XML; --start builds (if needed) and starts it.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Pool XML file ('-' = stdin).") var file: String
        @Flag(help: "Build and start it too.") var start = false
        func run() async throws {
            let xml = try readXMLFile(file)
            try await withConnection(connection.resolvedURI, readOnly: false) { conn in
                let p = try await conn.defineStoragePool(xml: xml)
                if start {
                    try? await p.build()  // a dir pool whose directory exists needs none
                    try await p.start()
                }
                print(p.name)
            }
        }
    }

    struct Start: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        func run() async throws {
            try await withConnection(connection.resolvedURI, readOnly: false) { try await $0.storagePool(named: name).start() }
        }
    }

    struct Stop: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        func run() async throws {
            try await withConnection(connection.resolvedURI, readOnly: false) { try await $0.storagePool(named: name).destroy() }
        }
    }

    struct Undefine: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        func run() async throws {
            try await withConnection(connection.resolvedURI, readOnly: false) { try await $0.storagePool(named: name).undefine() }
        }
    }

    struct XML: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        func run() async throws {
            try await withConnection(connection.resolvedURI, readOnly: true) { print(try await $0.storagePool(named: name).xmlDescription()) }
        }
    }
}

struct VolumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vol", abstract: "Storage volumes: list, create, delete, resize, xml, upload, download.",
        subcommands: [List.self, Create.self, Delete.self, Resize.self, XML.self, Upload.self, Download.self])

    struct Row: Codable {
        var name: String
        var path: String
        var type: String
        var capacityBytes: UInt64
        var allocationBytes: UInt64
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Pool name.") var pool: String
        func run() async throws {
            try await withConnection(connection.resolvedURI, readOnly: true) { conn in
                var rows: [Row] = []
                for v in try await conn.storagePool(named: pool).listAllVolumes() {
                    let i = try await v.info()
                    rows.append(Row(name: v.name, path: try await v.path(), type: i.type.description, capacityBytes: i.capacity.bytes, allocationBytes: i.allocation.bytes))
                }
                try printRows(rows.sorted { $0.name < $1.name }, json: output.json, header: ["NAME", "TYPE", "CAPACITY", "ALLOCATION", "PATH"]) {
                    [$0.name, $0.type, MemorySize(bytes: $0.capacityBytes).humanReadable, MemorySize(bytes: $0.allocationBytes).humanReadable, $0.path]
                }
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a volume: from XML (--xml FILE) or by name, size and format.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Pool name.") var pool: String
        @Argument(help: "Volume name (without --xml).") var name: String?
        @Option(help: "Capacity, e.g. 1G or 512MiB.") var size: String?
        @Option(help: "Format: raw, qcow2, … (dir pools).") var format: String = "raw"
        @Option(help: "Volume XML file instead of name/size ('-' = stdin).") var xml: String?

        func volumeXML() throws -> String {
            if let xml { return try readXMLFile(xml) }
            guard let name, let size else { throw CLIError("give NAME and --size, or --xml FILE") }
            let bytes: MemorySize
            do { bytes = try MemorySize(parsing: size) } catch { throw CLIError("bad size \(size): \(error)") }
            return "<volume><name>\(escapeXML(name))</name><capacity unit='bytes'>\(bytes.bytes)</capacity><target><format type='\(escapeXML(format))'/></target></volume>"
        }

        func run() async throws {
            let xml = try volumeXML()
            try await withConnection(connection.resolvedURI, readOnly: false) { conn in
                let v = try await conn.storagePool(named: pool).createVolume(xml: xml)
                print(try await v.path())
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Pool name.") var pool: String
        @Argument var name: String
        func run() async throws {
            try await withConnection(connection.resolvedURI, readOnly: false) { try await $0.storagePool(named: pool).volume(named: name).delete() }
        }
    }

    struct Resize: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Pool name.") var pool: String
        @Argument var name: String
        @Argument(help: "New capacity, e.g. 2G.") var size: String
        func run() async throws {
            let bytes: MemorySize
            do { bytes = try MemorySize(parsing: size) } catch { throw CLIError("bad size \(size): \(error)") }
            try await withConnection(connection.resolvedURI, readOnly: false) { try await $0.storagePool(named: pool).volume(named: name).resize(to: bytes) }
        }
    }

    struct XML: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Pool name.") var pool: String
        @Argument var name: String
        func run() async throws {
            try await withConnection(connection.resolvedURI, readOnly: true) { print(try await $0.storagePool(named: pool).volume(named: name).xmlDescription()) }
        }
    }
}

/// XML-escapes a value put into generated XML.
func escapeXML(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        .replacingOccurrences(of: "'", with: "&apos;").replacingOccurrences(of: "\"", with: "&quot;")
}

struct NetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "net", abstract: "Virtual networks: list, define, start, stop, undefine, leases, xml.",
        subcommands: [List.self, Define.self, Start.self, Stop.self, Undefine.self, Leases.self, XML.self])

    struct Row: Codable {
        var name: String
        var uuid: String
        var active: Bool
        var persistent: Bool
        var autostart: Bool
        var bridge: String?
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await withConnection(connection.resolvedURI, readOnly: true) { conn in
                var rows: [Row] = []
                for n in try await conn.listAllNetworks() {
                    rows.append(Row(name: n.name, uuid: n.uuid.description, active: try await n.isActive(), persistent: try await n.isPersistent(),
                                    autostart: try await n.autostart(), bridge: try? await n.bridgeName()))
                }
                try printRows(rows.sorted { $0.name < $1.name }, json: output.json, header: ["NAME", "ACTIVE", "AUTOSTART", "BRIDGE"]) {
                    [$0.name, $0.active ? "yes" : "no", $0.autostart ? "yes" : "no", $0.bridge ?? "-"]
                }
            }
        }
    }

    struct Define: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Network XML file ('-' = stdin).") var file: String
        @Flag(help: "Start it too.") var start = false
        func run() async throws {
            let xml = try readXMLFile(file)
            try await withConnection(connection.resolvedURI, readOnly: false) { conn in
                let n = try await conn.defineNetwork(xml: xml)
                if start { try await n.start() }
                print(n.name)
            }
        }
    }

    struct Start: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        func run() async throws { try await withConnection(connection.resolvedURI, readOnly: false) { try await $0.network(named: name).start() } }
    }

    struct Stop: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        func run() async throws { try await withConnection(connection.resolvedURI, readOnly: false) { try await $0.network(named: name).destroy() } }
    }

    struct Undefine: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        func run() async throws { try await withConnection(connection.resolvedURI, readOnly: false) { try await $0.network(named: name).undefine() } }
    }

    struct Leases: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument var name: String
        struct Lease: Codable { var mac: String?; var ip: String; var hostname: String? }
        func run() async throws {
            try await withConnection(connection.resolvedURI, readOnly: true) { conn in
                let leases = try await conn.network(named: name).dhcpLeases().map { Lease(mac: $0.mac, ip: $0.ipAddress, hostname: $0.hostname) }
                try printRows(leases, json: output.json, header: ["MAC", "IP", "HOSTNAME"]) { [$0.mac ?? "-", $0.ip, $0.hostname ?? "-"] }
            }
        }
    }

    struct XML: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        func run() async throws { try await withConnection(connection.resolvedURI, readOnly: true) { print(try await $0.network(named: name).xmlDescription()) } }
    }
}

struct NodeDevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodedev", abstract: "Host devices: list (by capability), xml, detach/reattach for passthrough.",
        subcommands: [List.self, XML.self, Detach.self, Reattach.self])

    struct Row: Codable { var name: String; var parent: String?; var capabilities: [String] }

    struct List: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only devices with this capability (pci, usb_device, net, scsi_host, mdev, …).") var cap: String?
        func run() async throws {
            try await withConnection(connection.resolvedURI, readOnly: true) { conn in
                var rows: [Row] = []
                for d in try await conn.listAllNodeDevices() {
                    let caps = try await d.capabilities()
                    if let cap, !caps.contains(cap) { continue }
                    rows.append(Row(name: d.name, parent: try? await d.parentName(), capabilities: caps))
                }
                try printRows(rows.sorted { $0.name < $1.name }, json: output.json, header: ["NAME", "PARENT", "CAPABILITIES"]) {
                    [$0.name, $0.parent ?? "-", $0.capabilities.joined(separator: ",")]
                }
            }
        }
    }

    struct XML: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        func run() async throws { try await withConnection(connection.resolvedURI, readOnly: true) { print(try await $0.nodeDevice(named: name).xmlDescription()) } }
    }

    struct Detach: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        @Option(help: "Host driver to bind (default: vfio).") var driver: String?
        func run() async throws { try await withConnection(connection.resolvedURI, readOnly: false) { try await $0.nodeDevice(named: name).detach(driver: driver) } }
    }

    struct Reattach: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        func run() async throws { try await withConnection(connection.resolvedURI, readOnly: false) { try await $0.nodeDevice(named: name).reattach() } }
    }
}

struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Domain snapshots: create, list, revert, delete.",
        subcommands: [Create.self, List.self, Revert.self, Delete.self])

    struct Row: Codable { var name: String; var parent: String?; var current: Bool }

    struct Create: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @Argument var domain: String
        @Argument(help: "Snapshot name (default: libvirt's, by time).") var name: String?
        @Option(help: "Description.") var description: String?
        @Flag(help: "Disks only (external), no memory.") var diskOnly = false
        func run() async throws {
            var xml = "<domainsnapshot>"
            if let name { xml += "<name>\(escapeXML(name))</name>" }
            if let description { xml += "<description>\(escapeXML(description))</description>" }
            xml += "</domainsnapshot>"
            try await withConnection(connection.resolvedURI, readOnly: false) { conn in
                let s = try await conn.domain(named: domain).createSnapshot(xml: xml, flags: diskOnly ? [.diskOnly, .atomic] : [])
                print(s.name)
            }
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument var domain: String
        func run() async throws {
            try await withConnection(connection.resolvedURI, readOnly: true) { conn in
                var rows: [Row] = []
                for s in try await conn.domain(named: domain).listAllSnapshots(flags: .topological) {
                    rows.append(Row(name: s.name, parent: try await s.parent()?.name, current: try await s.isCurrent()))
                }
                try printRows(rows, json: output.json, header: ["NAME", "PARENT", "CURRENT"]) { [$0.name, $0.parent ?? "-", $0.current ? "*" : ""] }
            }
        }
    }

    struct Revert: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @Argument var domain: String
        @Argument var name: String
        @Flag(help: "Run the domain afterwards.") var running = false
        @Flag(help: "Leave it paused afterwards.") var paused = false
        func run() async throws {
            var flags: DomainSnapshot.RevertFlags = []
            if running { flags.insert(.running) }
            if paused { flags.insert(.paused) }
            try await withConnection(connection.resolvedURI, readOnly: false) { try await $0.domain(named: domain).snapshot(named: name).revert(flags: flags) }
        }
    }

    struct Delete: AsyncParsableCommand {
        @OptionGroup var connection: ConnectionOptions
        @Argument var domain: String
        @Argument var name: String
        @Flag(help: "Also delete its children.") var children = false
        func run() async throws {
            try await withConnection(connection.resolvedURI, readOnly: false) {
                try await $0.domain(named: domain).snapshot(named: name).delete(flags: children ? .children : [])
            }
        }
    }
}

/// Which definition a hotplug changes.
struct HotplugOptions: ParsableArguments {
    @Flag(help: "The running domain (default: live if running, else config).") var live = false
    @Flag(help: "The persistent definition.") var config = false
    var flags: Domain.DeviceModifyFlags {
        var f: Domain.DeviceModifyFlags = []
        if live { f.insert(.live) }
        if config { f.insert(.config) }
        return f
    }
}

struct AttachCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "attach", abstract: "Attach a device from its XML (<disk>, <interface>, <channel>, …).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var hotplug: HotplugOptions
    @Argument var domain: String
    @Argument(help: "Device XML file ('-' = stdin).") var file: String
    func run() async throws {
        let xml = try readXMLFile(file)
        try await withConnection(connection.resolvedURI, readOnly: false) { try await $0.domain(named: domain).attachDevice(xml: xml, flags: hotplug.flags) }
    }
}

struct DetachCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "detach", abstract: "Detach a device by its XML file or --alias.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var hotplug: HotplugOptions
    @Argument var domain: String
    @Argument(help: "Device XML file ('-' = stdin).") var file: String?
    @Option(help: "Device alias instead of XML (e.g. ua-disk1).") var alias: String?
    func run() async throws {
        guard (file == nil) != (alias == nil) else { throw CLIError("give a device XML file or --alias, not both") }
        let xml = try file.map(readXMLFile)
        try await withConnection(connection.resolvedURI, readOnly: false) { conn in
            let dom = try await conn.domain(named: domain)
            if let alias { try await dom.detachDevice(alias: alias, flags: hotplug.flags) } else if let xml { try await dom.detachDevice(xml: xml, flags: hotplug.flags) }
        }
    }
}
