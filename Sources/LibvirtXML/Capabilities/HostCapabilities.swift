import DomainXML
import VirtCore

/// A host's capabilities (`virConnectGetCapabilities`, `virsh capabilities`): the host CPU,
/// NUMA topology, caches and memory bandwidth, IOMMU, migration transports and security
/// models, and the guest architectures and machines the drivers offer.
///
/// `hostTopology()` turns the `<host>` part into VirtCore's `HostTopology`, the same value
/// HostProbe builds from `/sys`, so a remote host can be described without its sysfs.
public struct HostCapabilities: DocumentView {
    public static let schema = Schema<Self>()
    public static let elementName = "capabilities"
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node.owningDocument() }
    public struct Keys: KeyTable {
        public init() {}
        public let host = Child<CapabilitiesHost>("host")
        public let guests = Children<CapabilitiesGuest>("guest")
    }
}

/// `<host>`.
public struct CapabilitiesHost: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let uuid = ChildText<LibvirtUUID>("uuid")
        public let cpu = Child<CapabilitiesHostCPU>("cpu")
        public let powerManagement = Child<CapabilitiesPowerManagement>("power_management")
        /// `<iommu support='yes'/>`.
        public let iommuSupport = ChildAttr<Bool>("iommu", "support", codec: .yesNo)
        public let migrationFeatures = Child<CapabilitiesMigrationFeatures>("migration_features")
        public let topology = Child<CapabilitiesTopology>("topology")
        public let cache = Child<CapabilitiesCache>("cache")
        public let memoryBandwidth = Child<CapabilitiesMemoryBandwidth>("memory_bandwidth")
        public let secmodels = Children<CapabilitiesSecModel>("secmodel")
    }
}

/// `<host><cpu>`: the host CPU model, features, topology and page sizes.
public struct CapabilitiesHostCPU: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let arch = ChildText<String>("arch")
        public let model = ChildText<String>("model")
        public let vendor = ChildText<String>("vendor")
        public let microcodeVersion = ChildAttr<UInt64>("microcode", "version", codec: UInt64.xmlCodec)
        public let signature = Child<CapabilitiesCPUSignature>("signature")
        public let counter = Child<CapabilitiesCPUCounter>("counter")
        public let topology = Child<CapabilitiesCPUTopology>("topology")
        public let maxphysaddr = Child<CapabilitiesMaxPhysAddr>("maxphysaddr")
        public let features = Children<CapabilitiesNamedFeature>("feature")
        /// The older `<features><pae/>…</features>` form some drivers still write.
        public let legacyFeatures = Child<CapabilitiesGuestFeatures>("features")
        public let pages = Children<CapabilitiesPageSize>("pages")
    }
}

/// `<signature family='6' model='158' stepping='10'/>`.
public struct CapabilitiesCPUSignature: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let family = Attr<Int>("family")
        public let model = Attr<Int>("model")
        public let stepping = Attr<Int>("stepping")
    }
}

/// `<counter name='tsc' frequency='3600000000' scaling='no'/>`.
public struct CapabilitiesCPUCounter: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name")
        /// Hz.
        public let frequency = Attr<UInt64>("frequency")
        public let scaling = Attr<Bool>("scaling")
    }
}

/// `<topology sockets='1' dies='1' cores='4' threads='2'/>` of the host CPU.
public struct CapabilitiesCPUTopology: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let sockets = Attr<Int>("sockets")
        public let dies = Attr<Int>("dies")
        public let clusters = Attr<Int>("clusters")
        public let cores = Attr<Int>("cores")
        public let threads = Attr<Int>("threads")
    }
}

/// `<maxphysaddr mode='emulate' bits='46'/>`.
public struct CapabilitiesMaxPhysAddr: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let mode = Attr<String>("mode")
        public let bits = Attr<Int>("bits")
    }
}

/// An element whose `name` is the value: `<feature name='vmx'/>`.
public struct CapabilitiesNamedFeature: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name", required: true)
    }
}

/// `<pages unit='KiB' size='2048'/>` (a supported page size) or, in a NUMA cell,
/// `<pages unit='KiB' size='2048'>4096</pages>` (the number of such pages).
public struct CapabilitiesPageSize: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let size = MemoryValue.attribute("size")
        public let count = Text<UInt64>()
    }
}

/// `<power_management>`: `<suspend_mem/>`, `<suspend_disk/>`, `<suspend_hybrid/>`.
public struct CapabilitiesPowerManagement: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let suspendToMemory = Flag("suspend_mem")
        public let suspendToDisk = Flag("suspend_disk")
        public let suspendHybrid = Flag("suspend_hybrid")
    }
}

/// `<migration_features>`: live migration and its URI transports.
public struct CapabilitiesMigrationFeatures: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let live = Flag("live")
        public let uriTransports = Child<CapabilitiesURITransports>("uri_transports")
    }
}

/// `<uri_transports><uri_transport>tcp</uri_transport>…`.
public struct CapabilitiesURITransports: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let transports = Children<CapabilitiesTextValue>("uri_transport")
    }
}

/// An element whose text is the value (`<uri_transport>tcp</uri_transport>`, `<value>bios</value>`).
public struct CapabilitiesTextValue: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let value = Text<String>()
    }
}

// MARK: - NUMA topology

/// `<topology>`: NUMA cells and, with HMAT, their interconnects.
public struct CapabilitiesTopology: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let cells = Child<CapabilitiesCells>("cells")
        public let interconnects = Child<CapabilitiesInterconnects>("interconnects")
    }
}

/// `<cells num='2'>`.
public struct CapabilitiesCells: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let num = Attr<Int>("num")
        public let cells = Children<CapabilitiesCell>("cell")
    }
}

/// `<cell id='0'>`: one NUMA node.
public struct CapabilitiesCell: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let id = Attr<Int>("id", required: true)
        public let memory = MemoryValue.child("memory")
        public let pages = Children<CapabilitiesPageSize>("pages")
        public let distances = Child<CapabilitiesDistances>("distances")
        public let caches = Children<CapabilitiesMemoryCache>("cache")
        public let cpus = Child<CapabilitiesCellCPUs>("cpus")
    }
}

/// `<distances><sibling id='1' value='21'/>…`.
public struct CapabilitiesDistances: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let siblings = Children<CapabilitiesSibling>("sibling")
    }
}

/// `<sibling id='1' value='21'/>`.
public struct CapabilitiesSibling: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let id = Attr<Int>("id", required: true)
        public let value = Attr<Int>("value", required: true)
    }
}

/// A memory-side cache of a cell (HMAT): `<cache level='1' associativity='direct' policy='writeback'>`.
public struct CapabilitiesMemoryCache: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let level = Attr<Int>("level", required: true)
        public let associativity = Attr<String>("associativity")
        public let policy = Attr<String>("policy")
        public let size = Child<CapabilitiesSizeValue>("size")
        public let line = Child<CapabilitiesSizeValue>("line")
    }
}

/// `<size value='10' unit='KiB'/>`.
public struct CapabilitiesSizeValue: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let value = MemoryValue.attribute("value")
    }
}

/// `<cpus num='4'>`.
public struct CapabilitiesCellCPUs: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let num = Attr<Int>("num")
        public let cpus = Children<CapabilitiesCellCPU>("cpu")
    }
}

/// `<cpu id='0' socket_id='0' die_id='0' core_id='0' siblings='0,4'/>`.
public struct CapabilitiesCellCPU: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let id = Attr<Int>("id", required: true)
        public let socketID = Attr<Int>("socket_id")
        public let dieID = Attr<Int>("die_id")
        public let clusterID = Attr<Int>("cluster_id")
        public let coreID = Attr<Int>("core_id")
        public let siblings = Attr<CPUSet>("siblings")
    }
}

/// `<interconnects>`: HMAT latencies and bandwidths between initiators and targets.
public struct CapabilitiesInterconnects: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let latencies = Children<CapabilitiesInterconnect>("latency")
        public let bandwidths = Children<CapabilitiesInterconnect>("bandwidth")
    }
}

/// `<latency initiator='0' target='0' type='read' value='6'/>` (ns) or
/// `<bandwidth … value='204800' unit='KiB'/>` (per second).
public struct CapabilitiesInterconnect: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let initiator = Attr<Int>("initiator", required: true)
        public let target = Attr<Int>("target", required: true)
        public let cache = Attr<Int>("cache")
        public let type = Attr<String>("type", required: true)
        public let value = Attr<UInt64>("value", required: true)
        public let unit = Attr<String>("unit")
    }
}

// MARK: - Caches, resctrl, memory bandwidth

/// `<cache>`: the host's CPU caches (banks) with resctrl allocation and monitoring.
public struct CapabilitiesCache: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let banks = Children<CapabilitiesCacheBank>("bank")
        public let monitor = Child<CapabilitiesResctrlMonitor>("monitor")
    }
}

/// `<bank id='0' level='3' type='both' size='15' unit='MiB' cpus='0-5'>`.
public struct CapabilitiesCacheBank: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let id = Attr<Int>("id", required: true)
        public let level = Attr<Int>("level", required: true)
        /// `both`, `code` or `data`.
        public let type = Attr<String>("type", required: true)
        public let size = MemoryValue.attribute("size")
        public let cpus = Attr<CPUSet>("cpus", required: true)
        public let controls = Children<CapabilitiesResctrlControl>("control")
    }
}

/// resctrl allocation granularity: `<control granularity='768' min='1536' unit='KiB' type='both' maxAllocs='4'/>`
/// (cache) or `<control granularity='10' min='10' maxAllocs='4'/>` (memory bandwidth, percent).
public struct CapabilitiesResctrlControl: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let granularity = Attr<UInt64>("granularity")
        public let min = Attr<UInt64>("min")
        public let unit = Attr<String>("unit")
        public let type = Attr<String>("type")
        public let maxAllocs = Attr<Int>("maxAllocs")
    }
}

/// `<monitor level='3' reuseThreshold='270336' maxMonitors='176'><feature name='llc_occupancy'/>`.
public struct CapabilitiesResctrlMonitor: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let level = Attr<Int>("level")
        public let reuseThreshold = Attr<UInt64>("reuseThreshold")
        public let maxMonitors = Attr<Int>("maxMonitors")
        public let features = Children<CapabilitiesNamedFeature>("feature")
    }
}

/// `<memory_bandwidth>`: per-node memory bandwidth allocation (MBA) and monitoring.
public struct CapabilitiesMemoryBandwidth: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let nodes = Children<CapabilitiesBandwidthNode>("node")
        public let monitor = Child<CapabilitiesResctrlMonitor>("monitor")
    }
}

/// `<node id='0' cpus='0-5'><control …/></node>`.
public struct CapabilitiesBandwidthNode: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let id = Attr<Int>("id", required: true)
        public let cpus = Attr<CPUSet>("cpus")
        public let control = Child<CapabilitiesResctrlControl>("control")
    }
}

/// `<secmodel><model>selinux</model><doi>0</doi><baselabel type='kvm'>…</baselabel></secmodel>`.
public struct CapabilitiesSecModel: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let model = ChildText<String>("model", required: true)
        public let doi = ChildText<String>("doi")
        public let baselabels = Children<CapabilitiesBaseLabel>("baselabel")
    }
}

/// `<baselabel type='kvm'>system_u:system_r:svirt_t:s0</baselabel>`.
public struct CapabilitiesBaseLabel: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
        public let label = Text<String>()
    }
}

// MARK: - Guests

/// `<guest>`: one OS type and architecture a driver can run, with its machines and features.
public struct CapabilitiesGuest: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let osType = ChildText<OSType>("os_type", required: true)
        public let arch = Child<CapabilitiesGuestArch>("arch")
        public let features = Child<CapabilitiesGuestFeatures>("features")
    }
}

/// `<arch name='x86_64'>`: word size, emulator, loader, machines and the domain types.
public struct CapabilitiesGuestArch: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name", required: true)
        public let wordsize = ChildText<Int>("wordsize")
        public let emulator = ChildText<String>("emulator")
        public let loader = ChildText<String>("loader")
        public let machines = Children<CapabilitiesMachine>("machine")
        public let domains = Children<CapabilitiesGuestDomain>("domain")
    }
}

/// `<machine maxCpus='255' canonical='pc-i440fx-7.2'>pc</machine>`.
public struct CapabilitiesMachine: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let maxCpus = Attr<Int>("maxCpus")
        public let canonical = Attr<String>("canonical")
        public let deprecated = Attr<Bool>("deprecated")
        public let name = Text<String>()
    }
}

/// `<domain type='kvm'>`, optionally with its own emulator and machines.
public struct CapabilitiesGuestDomain: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<DomainType>("type", required: true)
        public let emulator = ChildText<String>("emulator")
        public let machines = Children<CapabilitiesMachine>("machine")
    }
}

/// `<features>` of a guest architecture.
public struct CapabilitiesGuestFeatures: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let pae = Flag("pae")
        public let nonpae = Flag("nonpae")
        public let ia64BE = Flag("ia64_be")
        public let cpuselection = Flag("cpuselection")
        public let deviceboot = Flag("deviceboot")
        public let externalSnapshot = Flag("externalSnapshot")
        public let acpi = Child<CapabilitiesToggle>("acpi")
        public let apic = Child<CapabilitiesToggle>("apic")
        public let diskSnapshot = Child<CapabilitiesToggle>("disksnapshot")
        public let hap = Child<CapabilitiesToggle>("hap")
    }
}

/// `<acpi default='on' toggle='yes'/>`: the feature's default and whether a guest may change it.
public struct CapabilitiesToggle: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let `default` = Attr<Bool>("default", codec: .onOff)
        public let toggle = Attr<Bool>("toggle", codec: .yesNo)
    }
}
