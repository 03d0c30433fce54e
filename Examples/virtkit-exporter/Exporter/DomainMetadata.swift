import DomainXML
import VirtCore

/// What the exporter knows about a domain besides its statistics: identity, title and
/// device names from the domain XML. Cached per UUID by `HostCollector` and refreshed only
/// when a domain event says it changed, so a scrape makes no per-domain calls.
public struct DomainMetadata: Sendable, Hashable {
    public struct Disk: Sendable, Hashable {
        /// `<target dev>` (`vda`).
        public var target: String
        /// `<source file|dev|dir|name>` ("" when the disk has none, e.g. an empty CD-ROM).
        public var source: String
        /// `<disk type>` (`file`, `block`, `network`, …).
        public var type: String
        /// `<disk device>` (`disk`, `cdrom`, …).
        public var device: String
    }

    public struct Interface: Sendable, Hashable {
        /// `<target dev>`: the host-side device (`vnet0`); "" before the guest runs.
        public var target: String
        /// `<source bridge>` (kumina's `source_bridge`), else "".
        public var bridge: String
        /// `<source network>`, else "".
        public var network: String
        /// `<mac address>`.
        public var mac: String
        /// `<interface type>`.
        public var type: String
    }

    public var name: String
    /// Lower-case, as libvirt writes it.
    public var uuid: String
    public var title: String?
    /// `<memory>`: the maximum memory of the definition.
    public var maxMemory: MemorySize?
    /// `<vcpu>`: the vCPU count of the definition.
    public var vcpus: Int?
    public var disks: [Disk] = []
    public var interfaces: [Interface] = []
    /// `<memoryBacking><hugepages>`: the guest's memory comes from hugepage pools.
    public var hugepageBacked = false
    /// False until the domain XML has been read: then only `name` and `uuid` are known.
    public var hasDefinition = false
    /// `host`, `domain`, `uuid`, escaped once for every sample of this domain.
    public private(set) var labels: LabelSet

    /// Name and UUID only (the XML was not read, or could not be).
    public init(name: String, uuid: String, host: String) {
        self.name = name
        self.uuid = uuid
        labels = LabelSet(["host": host, "domain": name, "uuid": uuid])
    }

    /// Reads a domain XML (`virDomainGetXMLDesc`). Values that do not decode are left out:
    /// one odd element does not hide the rest.
    public init(name: String, uuid: String, host: String, xml: String) throws(TypedXMLError) {
        self.init(name: name, uuid: uuid, host: host)
        let d = try DomainDefinition(parsing: xml)
        hasDefinition = true
        title = (try? d.title.value) ?? nil
        maxMemory = (try? d.memory.value) ?? nil
        vcpus = (try? d.vcpu.count.value) ?? nil
        hugepageBacked = d.memoryBacking.hugepages.exists
        for disk in d.devices.disks {
            let s = disk.source
            let source = [s.file.raw, s.dev.raw, s.dir.raw, s.name.raw].lazy.compactMap { $0 }.first ?? ""
            disks.append(Disk(target: disk.target.dev.raw ?? "", source: source,
                              type: disk.type.raw ?? "", device: disk.device.raw ?? "disk"))
        }
        for nic in d.devices.interfaces {
            interfaces.append(Interface(target: nic.target.dev.raw ?? "", bridge: nic.source.bridge.raw ?? "",
                                        network: nic.source.network.raw ?? "", mac: nic.mac.address.raw ?? "",
                                        type: nic.type.raw ?? ""))
        }
    }

    /// The interface whose host device is `target` (stats name interfaces by it).
    func interface(target: String?) -> Interface? {
        guard let target, !target.isEmpty else { return nil }
        return interfaces.first { $0.target == target }
    }
}
