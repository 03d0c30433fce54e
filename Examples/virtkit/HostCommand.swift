import ArgumentParser
import Foundation
import Libvirt
import LibvirtXML
import VirtCore

/// `virtkit host`: a host's topology and features from its capabilities, its domain
/// capabilities and `virNodeGetInfo` — local or remote, no access to the host's /sys needed.
struct HostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host",
        abstract: "Show a host's CPU, NUMA topology and virtualization features from its capabilities and domain capabilities (local or remote).")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    struct CPU: Codable, Equatable {
        var arch: String?
        var model: String?
        var vendor: String?
        var sockets: Int?
        var dies: Int?
        var cores: Int?
        var threads: Int?
        var features: [String]
        /// Page sizes the host offers, in KiB.
        var pageSizesKiB: [UInt64]
    }

    struct Guest: Codable, Equatable {
        var osType: String
        var arch: String?
        var wordsize: Int?
        var emulator: String?
        var machines: [String]
        var domainTypes: [String]
    }

    /// The domain capabilities of the default emulator, machine and virtualization type.
    struct DomainFeatures: Codable, Equatable {
        var emulator: String?
        var domainType: String?
        var machine: String?
        var arch: String?
        var maxVCPUs: Int?
        var iothreads: Bool?
        /// CPU modes libvirt reports, with whether each is supported.
        var cpuModes: [String: Bool]
        /// The model `host-model` expands to.
        var hostModel: String?
        /// `custom` models usable on this host.
        var usableModels: [String]
        /// `<os><enum name='firmware'>` (efi, bios) and the loader types (rom, pflash).
        var firmware: [String]
        var loaderTypes: [String]
        var diskBuses: [String]
        var hostdevSubsystems: [String]
        var sev: Bool?
        var sgx: Bool?
    }

    struct Report: Codable, Equatable {
        var uri: String?
        var hostname: String?
        var hostUUID: String?
        var cpu: CPU
        /// From `virNodeGetInfo` (nil when the call failed).
        var nodeCPUs: Int?
        var nodeMHz: Int?
        var nodeMemoryKiB: UInt64?
        /// Cells, CPUs with socket/die/core/siblings, memory, pages, distances, caches; nil
        /// when the capabilities list no NUMA cells (e.g. the test driver with a custom node).
        var topology: HostTopology?
        var iommu: Bool?
        var liveMigration: Bool
        var migrationTransports: [String]
        var securityModels: [String]
        var guests: [Guest]
        var domainCapabilities: DomainFeatures?
        /// What could not be read (e.g. a driver without domain capabilities).
        var problems: [String]
    }

    /// The report from the two documents (pure: tested on libvirt's own test documents).
    static func report(capabilitiesXML: String, domainCapabilitiesXML: String?) throws -> Report {
        let caps = try HostCapabilities(parsing: capabilitiesXML)
        let host = caps.host
        let cpu = host.cpu
        var problems: [String] = []
        var pages: [UInt64] = []
        for p in cpu.pages { if let size = try p.size.value { pages.append(size.kibibytes) } }
        let topology: HostTopology?
        do {
            let t = try caps.hostTopology()
            topology = t.nodes.isEmpty ? nil : t
        } catch {
            topology = nil
            problems.append("topology: \(error)")
        }
        var report = Report(
            hostUUID: try host.uuid.value?.description,
            cpu: CPU(arch: try cpu.arch.value, model: try cpu.model.value, vendor: try cpu.vendor.value,
                     sockets: try cpu.topology.sockets.value, dies: try cpu.topology.dies.value,
                     cores: try cpu.topology.cores.value, threads: try cpu.topology.threads.value,
                     features: try cpu.features.compactMap { try $0.name.value }, pageSizesKiB: pages),
            topology: topology,
            iommu: try host.iommuSupport.value,
            liveMigration: try host.migrationFeatures.live.value ?? false,
            migrationTransports: try host.migrationFeatures.uriTransports.transports.compactMap { try $0.value.value },
            securityModels: try host.secmodels.compactMap { try $0.model.value },
            guests: try caps.guests.map { g in
                Guest(osType: try g.osType.value?.rawValue ?? "", arch: try g.arch.name.value,
                      wordsize: try g.arch.wordsize.value, emulator: try g.arch.emulator.value,
                      machines: try g.arch.machines.compactMap { try $0.name.value },
                      domainTypes: try g.arch.domains.compactMap { try $0.type.value?.rawValue })
            },
            problems: problems)
        if let domainCapabilitiesXML {
            report.domainCapabilities = try domainFeatures(domainCapabilitiesXML)
        }
        return report
    }

    static func domainFeatures(_ xml: String) throws -> DomainFeatures {
        let dc = try DomainCapabilities(parsing: xml)
        var modes: [String: Bool] = [:]
        for m in dc.cpu.modes { if let name = try m.name.value { modes[name.rawValue] = try m.supported.value ?? false } }
        let custom = try dc.cpu.mode(.custom)
        return DomainFeatures(
            emulator: try dc.path.value, domainType: try dc.domain.value?.rawValue, machine: try dc.machine.value,
            arch: try dc.arch.value, maxVCPUs: try dc.maxVCPUs.value, iothreads: try dc.iothreadsSupported.value,
            cpuModes: modes,
            hostModel: try dc.cpu.mode(.hostModel)?.models.first?.name.value,
            usableModels: try custom?.models.compactMap { try $0.usable.value == .usable ? $0.name.value : nil } ?? [],
            firmware: try enumValues(dc.os.enums, "firmware"),
            loaderTypes: try enumValues(dc.os.loader.enums, "type"),
            diskBuses: try dc.devices.disk.values(of: "bus") ?? [],
            hostdevSubsystems: try dc.devices.hostdev.values(of: "subsysType") ?? [],
            sev: try dc.features.sev.supported.value,
            sgx: try dc.features.sgx.supported.value)
    }

    static func enumValues(_ enums: ChildList<DomainCapabilitiesEnum>, _ name: String) throws -> [String] {
        for e in enums where try e.name.value == name { return try e.values.compactMap { try $0.value.value } }
        return []
    }

    func run() async throws {
        // Read-write: libvirt refuses domain capabilities to read-only connections.
        try await withConnection(connection.resolvedURI, readOnly: false) { conn in
            let capsXML = try await conn.capabilitiesXML()
            var problems: [String] = []
            var domcaps: String?
            do { domcaps = try await conn.domainCapabilitiesXML() } catch {
                problems.append("domain capabilities: \(error)")
            }
            var r: Report
            do {
                r = try Self.report(capabilitiesXML: capsXML, domainCapabilitiesXML: domcaps)
            } catch {
                throw CLIError("capabilities of \(connection.resolvedURI): \(error)")
            }
            r.problems += problems
            r.uri = try? await conn.uri()
            r.hostname = try? await conn.hostname()
            if let info = try? await conn.nodeInfo() {
                r.nodeCPUs = info.cpus
                r.nodeMHz = info.mhz
                r.nodeMemoryKiB = info.memory?.kibibytes
            }
            if output.json { return try printJSON(r) }
            printText(r)
        }
    }

    func printText(_ r: Report) {
        func s(_ v: String?) -> String { terminalSafe(v ?? "-") }
        func n(_ v: Int?) -> String { v.map(String.init) ?? "-" }
        print("Host        \(s(r.hostname))  (\(s(r.uri)))  uuid \(s(r.hostUUID))")
        print("CPU         \(s(r.cpu.arch)) \(s(r.cpu.model)) (\(s(r.cpu.vendor))): \(n(r.cpu.sockets)) socket(s), \(n(r.cpu.dies)) die(s), \(n(r.cpu.cores)) core(s), \(n(r.cpu.threads)) thread(s); \(r.cpu.features.count) features")
        if let cpus = r.nodeCPUs {
            print("Node info   \(cpus) CPUs @ \(n(r.nodeMHz)) MHz, memory \(r.nodeMemoryKiB.map { MemorySize.kibibytes($0).humanReadable } ?? "-")")
        }
        print("Pages       " + r.cpu.pageSizesKiB.map { MemorySize.kibibytes($0).description }.joined(separator: ", "))
        if let t = r.topology {
            for node in t.nodes {
                print("  cell \(node.id)    CPUs \(node.cpus)  memory \(node.memory.map(\.humanReadable) ?? "-")")
            }
        } else {
            print("Topology    (no NUMA cells in the capabilities)")
        }
        print("IOMMU       \(r.iommu.map { $0 ? "yes" : "no" } ?? "-")")
        print("Migration   live \(r.liveMigration ? "yes" : "no"), transports \(r.migrationTransports.map(terminalSafe).joined(separator: ", "))")
        print("Security    \(r.securityModels.map(terminalSafe).joined(separator: ", "))")
        for g in r.guests {
            print("Guest       \(s(g.osType)) \(s(g.arch)) (\(g.domainTypes.joined(separator: ", "))) \(s(g.emulator)), \(g.machines.count) machine type(s)")
        }
        if let d = r.domainCapabilities {
            print("Domain caps \(s(d.domainType)) \(s(d.arch)) \(s(d.machine)) \(s(d.emulator)), max vCPUs \(n(d.maxVCPUs))")
            print("  CPU modes \(d.cpuModes.sorted { $0.key < $1.key }.map { "\($0.key)\($0.value ? "" : " (unsupported)")" }.joined(separator: ", "))")
            if let m = d.hostModel { print("  host-model \(terminalSafe(m)); \(d.usableModels.count) usable custom model(s)") }
            print("  firmware \(d.firmware.joined(separator: ", ")); loaders \(d.loaderTypes.joined(separator: ", ")); disk buses \(d.diskBuses.joined(separator: ", "))")
            print("  SEV \(d.sev.map { $0 ? "yes" : "no" } ?? "-"), SGX \(d.sgx.map { $0 ? "yes" : "no" } ?? "-")")
        }
        for p in r.problems { print("Note        \(terminalSafe(p))") }
    }
}
