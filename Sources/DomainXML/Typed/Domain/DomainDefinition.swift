import VirtCore

/// A libvirt domain definition (`<domain>`): typed views over a lossless `LosslessXMLDocument`.
///
/// Every property reads and writes the document's own nodes (virtinst's `XMLProperty` model),
/// so elements and attributes no view models survive edits untouched, and an unedited
/// definition serializes byte-identical to its input. Members come from `Keys` through dynamic
/// member lookup: `try domain.memory.value`, `domain.vcpu.count.set(4)`,
/// `domain.devices.disks.append(disk)`.
public struct DomainDefinition: DocumentView {
    public static let schema = Schema<Self>()
    public static let elementName = "domain"
    public let node: ElementRef

    public init(node: ElementRef) { self.node = node.owningDocument() }

    /// Builds a new definition: `<domain type=…><name>…</name>` plus the given memory, vCPUs and
    /// an `hvm` OS; add devices through `devices`.
    public init(type: DomainType, name: String, memory: MemorySize? = nil, vcpus: Int? = nil,
                arch: String? = nil, machine: String? = nil) {
        let document = LosslessXMLDocument(root: LosslessXMLElement(name: "domain", attributes: [("type", type.rawValue)]))
        self.node = ElementRef(document.root, document: document)
        self.name.set(name)
        if let memory { self.memory.set(memory) }
        if let vcpus { self.vcpu.count.set(vcpus) }
        self.os.type.value.set(.hvm)
        if let arch { self.os.type.arch.set(arch) }
        if let machine { self.os.type.machine.set(machine) }
    }

    /// Declaration order is libvirt's format order (`virDomainDefFormatInternal`); new elements
    /// are inserted accordingly.
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<DomainType>("type", required: true)
        public let id = Attr<Int>("id")
        public let name = ChildText<String>("name", required: true)
        public let uuid = ChildText<LibvirtUUID>("uuid")
        public let genid = ChildText<String>("genid")
        public let title = ChildText<String>("title")
        public let description = ChildText<String>("description")
        /// Application metadata, kept as raw XML.
        public let metadata = RawChild("metadata")
        public let maxMemory = Child<MaxMemory>("maxMemory")
        public let memory = MemoryValue.child("memory").limited(to: MemoryValue.domainMemoryMaximum)
        /// `<memory dumpCore='on|off'>`: include guest memory in core dumps.
        public let memoryDumpCore = ChildAttr<Bool>("memory", "dumpCore", codec: .onOff)
        public let currentMemory = MemoryValue.child("currentMemory").limited(to: MemoryValue.domainMemoryMaximum)
        public let blkiotune = Child<BlkioTune>("blkiotune")
        public let memtune = Child<MemTune>("memtune")
        public let memoryBacking = Child<MemoryBacking>("memoryBacking")
        public let vcpu = Child<VCPUAllocation>("vcpu")
        public let vcpus = Child<VCPUList>("vcpus")
        /// `virXPathUInt`: 0…2^32 − 1.
        public let iothreads = ChildText<Int>("iothreads", codec: .decimal(in: 0...Int(UInt32.max)))
        public let iothreadids = Child<IOThreadIDs>("iothreadids")
        public let defaultiothread = Child<DefaultIOThread>("defaultiothread")
        public let cputune = Child<CPUTune>("cputune")
        public let numatune = Child<NUMATune>("numatune")
        public let resource = Child<Resource>("resource")
        public let sysinfo = Children<Sysinfo>("sysinfo")
        public let bootloader = ChildText<String>("bootloader")
        public let bootloaderArgs = ChildText<String>("bootloader_args")
        public let os = Child<OSConfig>("os")
        public let idmap = Child<IDMap>("idmap")
        public let features = Child<Features>("features")
        public let cpu = Child<CPUConfig>("cpu")
        public let clock = Child<Clock>("clock")
        public let onPoweroff = ChildText<LifecycleAction>("on_poweroff")
        public let onReboot = ChildText<LifecycleAction>("on_reboot")
        public let onCrash = ChildText<LifecycleAction>("on_crash")
        public let onLockfailure = ChildText<String>("on_lockfailure")
        public let pm = Child<PowerManagement>("pm")
        public let perf = Child<Perf>("perf")
        public let devices = Child<Devices>("devices")
        public let seclabels = Children<SecLabel>("seclabel")
        public let keywrap = Child<KeyWrap>("keywrap")
        public let launchSecurity = Child<LaunchSecurity>("launchSecurity")
        /// QEMU passthrough arguments (`xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'`).
        public let qemuCommandline = Child<QEMUCommandLine>("qemu:commandline")
        /// QEMU capability overrides, device property overrides and deprecation behaviour,
        /// kept as raw XML (test-suite knobs, not tuning).
        public let qemuCapabilities = RawChild("qemu:capabilities")
        public let qemuOverride = RawChild("qemu:override")
        public let qemuDeprecation = RawChild("qemu:deprecation")
    }
}

/// `<maxMemory slots=… unit=…>`: the memory hotplug ceiling.
public struct MaxMemory: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let size = MemoryValue.text().limited(to: MemoryValue.domainMemoryMaximum)
        public let slots = Attr<Int>("slots")
    }
}

/// `<vcpu placement cpuset current>N</vcpu>`: the vCPU count, how many are online at boot,
/// and the default host CPUs they run on.
public struct VCPUAllocation: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let placement = Attr<Placement>("placement")
        public let cpuset = Attr<CPUSet>("cpuset")
        public let current = Attr<Int>("current", codec: .decimal(in: 1...Int(Int32.max)))
        /// The maximum vCPU count.
        public let count = Text<Int>(codec: .decimal(in: 1...Int(Int32.max)), required: true)
    }
}

/// `<vcpus>`: per-vCPU state for hotplug.
public struct VCPUList: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let vcpu = Children<VCPUState>("vcpu")
    }
}

/// `<vcpus><vcpu id enabled hotpluggable order/>`.
public struct VCPUState: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let id = Attr<Int>("id", required: true)
        public let enabled = Attr<Bool>("enabled")
        public let hotpluggable = Attr<Bool>("hotpluggable")
        public let order = Attr<Int>("order")
    }
}

/// `<iothreadids>`: the IOThreads by ID.
public struct IOThreadIDs: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let iothread = Children<IOThreadID>("iothread")
    }
}

/// `<iothread id thread_pool_min thread_pool_max/>`.
public struct IOThreadID: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let id = Attr<Int>("id", required: true)
        public let threadPoolMin = Attr<Int>("thread_pool_min")
        public let threadPoolMax = Attr<Int>("thread_pool_max")
    }
}

/// `<defaultiothread thread_pool_min thread_pool_max/>`.
public struct DefaultIOThread: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let threadPoolMin = Attr<Int>("thread_pool_min")
        public let threadPoolMax = Attr<Int>("thread_pool_max")
    }
}

/// `<resource><partition>/machine</partition></resource>`.
public struct Resource: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let partition = ChildText<String>("partition")
    }
}

/// `<idmap>`: container user/group ID maps.
public struct IDMap: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let uid = Children<IDMapRange>("uid")
        public let gid = Children<IDMapRange>("gid")
    }
}

/// `<uid start target count/>` / `<gid …/>`.
public struct IDMapRange: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let start = Attr<Int>("start")
        public let target = Attr<Int>("target")
        public let count = Attr<Int>("count")
    }
}

/// `<pm>`: guest suspend support.
public struct PowerManagement: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let suspendToMem = Child<Enabled>("suspend-to-mem")
        public let suspendToDisk = Child<Enabled>("suspend-to-disk")
    }
}

/// An element whose only value is `enabled='yes|no'`.
public struct Enabled: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let enabled = Attr<Bool>("enabled")
    }
}

/// `<perf>`: perf events to collect.
public struct Perf: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let event = Children<PerfEvent>("event")
    }
}

/// `<event name enabled/>`.
public struct PerfEvent: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name", required: true)
        public let enabled = Attr<Bool>("enabled")
    }
}

/// `<seclabel type model relabel>`: the security driver label.
public struct SecLabel: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<SecLabelType>("type")
        public let model = Attr<String>("model")
        public let relabel = Attr<Bool>("relabel")
        public let label = ChildText<String>("label")
        public let imagelabel = ChildText<String>("imagelabel")
        public let baselabel = ChildText<String>("baselabel")
    }
}

/// `<keywrap>` (s390 key wrapping).
public struct KeyWrap: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let cipher = Children<KeyWrapCipher>("cipher")
    }
}

/// `<cipher name state/>`.
public struct KeyWrapCipher: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name")
        public let state = Attr<Bool>("state", codec: .onOff)
    }
}

/// `<launchSecurity type='sev|s390-pv'>`.
public struct LaunchSecurity: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
        public let kernelHashes = Attr<Bool>("kernelHashes")
        public let policy = ChildText<String>("policy")
        public let cbitpos = ChildText<Int>("cbitpos")
        public let reducedPhysBits = ChildText<Int>("reducedPhysBits")
        public let dhCert = ChildText<String>("dhCert")
        public let session = ChildText<String>("session")
    }
}

/// `<sysinfo type='smbios|fwcfg'>`: SMBIOS tables or fw_cfg entries shown to the guest.
public struct Sysinfo: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
        public let bios = Child<SysinfoBlock>("bios")
        public let system = Child<SysinfoBlock>("system")
        public let baseBoard = Children<SysinfoBlock>("baseBoard")
        public let chassis = Child<SysinfoBlock>("chassis")
        public let oemStrings = Child<SysinfoBlock>("oemStrings")
        /// fw_cfg entries (`type='fwcfg'`).
        public let entry = Children<SysinfoEntry>("entry")
    }
}

/// `<bios>`, `<system>`, … of `<sysinfo>`: a list of entries.
public struct SysinfoBlock: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let entry = Children<SysinfoEntry>("entry")
    }
}

/// `<entry name='vendor'>text</entry>` (fw_cfg entries may name a `file` instead).
public struct SysinfoEntry: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name")
        public let file = Attr<String>("file")
        public let value = Text<String>()
    }
}

/// `<qemu:commandline>`: extra QEMU arguments and environment.
public struct QEMUCommandLine: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let arg = Children<QEMUArg>("qemu:arg")
        public let env = Children<QEMUEnv>("qemu:env")
    }
}

/// `<qemu:arg value=…/>`.
public struct QEMUArg: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let value = Attr<String>("value")
    }
}

/// `<qemu:env name value/>`.
public struct QEMUEnv: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name")
        public let value = Attr<String>("value")
    }
}
