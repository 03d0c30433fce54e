import DomainXML
import Foundation
import Libvirt
import VirtCore

/// What a guest's definition says that matters for moving it to another host. Read from
/// its domain XML (`init(domainXML:)`), then pure data.
public struct GuestMigrationFacts: Sendable, Hashable, Codable {
    /// One disk and where its data lives.
    public struct Disk: Sendable, Hashable, Codable {
        /// `vda`, `sdb`, …
        public var target: String
        /// `<disk type>`: `file`, `block`, `network`, `volume`, `dir`, `nvme`, `vhostuser`.
        public var type: String
        /// `disk`, `cdrom`, `floppy`, `lun`.
        public var device: String
        /// The file or block device (`file`/`block` disks).
        public var path: String?
        /// The protocol of a network disk (`nbd`, `rbd`, `iscsi`, …): storage every host reaches.
        public var networkProtocol: String?
        /// `pool/volume` of a `volume` disk.
        public var volume: String?
        public var readOnly: Bool
        public var shareable: Bool
        /// Bytes the disk takes on the source host (`block.N.physical`, else `allocation`), when known.
        public var allocated: MemorySize?

        /// Storage libvirt reaches by the same name from any host (network disks).
        public var isSharedByNature: Bool { type == "network" || type == "vhostuser" }
        /// A disk without media (an empty CD-ROM): nothing to move.
        public var isEmpty: Bool { path == nil && networkProtocol == nil && volume == nil && type != "vhostuser" && type != "nvme" }
    }

    public var name: String
    public var memory: MemorySize
    public var vcpus: Int
    /// Some vCPU is pinned (`<cputune><vcpupin>` or `<vcpu cpuset>`): it wants dedicated CPUs.
    public var pinned: Bool
    /// `<domain type>` (`kvm`, `qemu`), `<os><type arch>` and the OS type (`hvm`).
    public var domainType: String?
    public var arch: String?
    public var osType: String?
    /// The `<cpu>` element as written (compared with the destination's hypervisor CPU), its
    /// `mode` (`custom` when absent), and the features it requires (`policy='require'`/`force`).
    public var cpuXML: String?
    public var cpuMode: String?
    public var requiredCPUFeatures: [String]
    /// `<os><type machine>`, `<devices><emulator>`, `<os><loader>` (firmware).
    public var machine: String?
    public var emulator: String?
    public var loader: String?
    /// Huge page size backing the memory (`<memoryBacking><hugepages>`; the default size
    /// when no `<page>` is named: nil size with `usesHugepages`).
    public var usesHugepages: Bool
    public var hugepageSize: MemorySize?
    /// Guest NUMA cells' memory (`<cpu><numa><cell memory>`); empty without guest NUMA.
    public var numaCells: [MemorySize]
    public var disks: [Disk]
    /// Devices that tie the guest to this host: PCI/USB/SCSI host devices, host filesystems,
    /// character devices on host paths, shared memory, … (`element: what`).
    public var localDevices: [String]
    /// Networks and bridges the interfaces attach to.
    public var networks: [String]
    public var bridges: [String]

    /// Reads the facts from a domain XML document.
    public init(domainXML xml: String) throws {
        let doc: LosslessXMLDocument
        do { doc = try LosslessXMLDocument(parsing: xml) } catch { throw FleetPreflightError.badDomainXML("\(error)") }
        let root = doc.root
        guard root.localName == "domain" else { throw FleetPreflightError.badDomainXML("root element is <\(root.localName)>") }
        func size(_ e: LosslessXMLElement?) -> MemorySize? {
            guard let e, let t = e.text else { return nil }
            return try? MemorySize(value: t, unit: e.attribute("unit"))
        }
        name = root.firstChild(named: "name")?.text ?? ""
        guard let mem = size(root.firstChild(named: "memory")) ?? size(root.firstChild(named: "currentMemory")) else {
            throw FleetPreflightError.badDomainXML("no readable <memory>")
        }
        memory = mem
        vcpus = root.firstChild(named: "vcpu")?.text.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 1
        let vcpu = root.firstChild(named: "vcpu")
        pinned = !(root.firstChild(named: "cputune")?.children(named: "vcpupin").isEmpty ?? true) || vcpu?.attribute("cpuset") != nil
        let os = root.firstChild(named: "os")
        domainType = root.attribute("type")
        arch = os?.firstChild(named: "type")?.attribute("arch")
        osType = os?.firstChild(named: "type")?.text?.trimmingCharacters(in: .whitespacesAndNewlines)
        let cpu = root.firstChild(named: "cpu")
        cpuXML = cpu?.serialize()
        cpuMode = cpu.map { $0.attribute("mode") ?? "custom" }
        requiredCPUFeatures = (cpu?.children(named: "feature") ?? []).compactMap { f in
            ["require", "force"].contains(f.attribute("policy") ?? "require") ? f.attribute("name") : nil
        }
        machine = os?.firstChild(named: "type")?.attribute("machine")
        loader = os?.firstChild(named: "loader")?.text?.trimmingCharacters(in: .whitespacesAndNewlines)
        let devices = root.firstChild(named: "devices")
        emulator = devices?.firstChild(named: "emulator")?.text?.trimmingCharacters(in: .whitespacesAndNewlines)
        let huge = root.firstChild(named: "memoryBacking")?.firstChild(named: "hugepages")
        usesHugepages = huge != nil
        hugepageSize = huge?.children(named: "page").first.flatMap { p in
            p.attribute("size").flatMap { try? MemorySize(value: $0, unit: p.attribute("unit")) }
        }
        numaCells = (root.firstChild(named: "cpu")?.firstChild(named: "numa")?.children(named: "cell") ?? []).compactMap { c in
            c.attribute("memory").flatMap { try? MemorySize(value: $0, unit: c.attribute("unit")) }
        }
        var disks: [Disk] = []
        var local: [String] = []
        var networks: [String] = []
        var bridges: [String] = []
        for d in devices?.childElements ?? [] {
            switch d.localName {
            case "disk":
                let source = d.firstChild(named: "source")
                let type = d.attribute("type") ?? "file"
                var volume: String?
                if type == "volume", let pool = source?.attribute("pool"), let vol = source?.attribute("volume") { volume = "\(pool)/\(vol)" }
                disks.append(Disk(
                    target: d.firstChild(named: "target")?.attribute("dev") ?? "?", type: type, device: d.attribute("device") ?? "disk",
                    path: source?.attribute("file") ?? source?.attribute("dev") ?? source?.attribute("dir"),
                    networkProtocol: type == "network" ? source?.attribute("protocol") : nil, volume: volume,
                    readOnly: d.firstChild(named: "readonly") != nil, shareable: d.firstChild(named: "shareable") != nil))
            case "hostdev":
                let addr = d.firstChild(named: "source")?.firstChild(named: "address")
                let what = [d.attribute("type"), addr.map { a in a.attributes.map { "\($0.name)=\($0.value)" }.joined(separator: ",") }]
                    .compactMap { $0 }.joined(separator: " ")
                local.append("hostdev: \(what)")
            case "filesystem":
                local.append("filesystem: \(d.firstChild(named: "source")?.attribute("dir") ?? d.attribute("type") ?? "?")")
            case "shmem":
                local.append("shmem: \(d.attribute("name") ?? "?")")
            case "serial", "parallel", "channel", "console":
                if d.attribute("type") == "dev" { local.append("\(d.localName): host device \(d.firstChild(named: "source")?.attribute("path") ?? "?")") }
            case "input" where d.attribute("type") == "passthrough":
                local.append("input: passthrough \(d.firstChild(named: "source")?.attribute("evdev") ?? "?")")
            case "interface":
                let source = d.firstChild(named: "source")
                switch d.attribute("type") {
                case "network": if let n = source?.attribute("network") { networks.append(n) }
                case "bridge": if let b = source?.attribute("bridge") { bridges.append(b) }
                case "hostdev": local.append("interface: hostdev (SR-IOV VF)")
                case "direct": if let dev = source?.attribute("dev") { local.append("interface: macvtap on \(dev)") }
                default: break
                }
            default: break
            }
        }
        self.disks = disks
        localDevices = local
        self.networks = networks
        self.bridges = bridges
    }
}

extension GuestMigrationFacts {
    /// Bytes a disk takes on the host, from the storage pool holding it (its path, or
    /// `pool/volume`); nil when no pool knows it.
    static func allocation(of disk: Disk, over connection: Connection) async -> MemorySize? {
        let volume: StorageVolume
        do {
            if let v = disk.volume, let slash = v.firstIndex(of: "/") {
                volume = try await connection.storagePool(named: String(v[..<slash])).volume(named: String(v[v.index(after: slash)...]))
            } else if let path = disk.path {
                volume = try await connection.storageVolume(path: path)
            } else {
                return nil
            }
        } catch {
            return nil
        }
        // The host size of the file (a fresh qcow2 reports allocation 0 otherwise); drivers without it give the allocation.
        if let physical = try? await volume.info(physical: true) { return physical.allocation }
        return try? await volume.info().allocation
    }
}

/// Errors of the migration preflight's inputs.
public enum FleetPreflightError: Error, Hashable, Sendable, CustomStringConvertible {
    case badDomainXML(String)
    public var description: String {
        switch self {
        case .badDomainXML(let r): "domain XML: \(r)"
        }
    }
}
