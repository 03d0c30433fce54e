import VirtCore

/// `<controller type index model>`: an IDE/SCSI/USB/PCI/virtio-serial/… controller.
public struct ControllerDevice: DeviceView {
    public static let elementName = "controller"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<ControllerType>("type")
        public let index = Attr<Int>("index")
        /// `pci-root`, `pcie-root-port`, `virtio-scsi`, `qemu-xhci`, …
        public let model = Attr<String>("model")
        public let ports = Attr<Int>("ports")
        public let vectors = Attr<Int>("vectors")
        public let maxGrantFrames = Attr<Int>("maxGrantFrames")
        public let maxEventChannels = Attr<Int>("maxEventChannels")
        public let master = Child<ControllerMaster>("master")
        /// The QEMU device name of a PCI controller (`<model name='pcie-root-port'/>`).
        public let modelName = Child<NameRef>("model")
        public let target = Child<ControllerTarget>("target")
        public let driver = Child<ControllerDriver>("driver")
        public let pcihole64 = MemoryValue.child("pcihole64")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }

    /// A new controller.
    public init(type: ControllerType, index: Int, model: String? = nil) {
        self.init()
        self.type.set(type)
        self.index.set(index)
        if let model { self.model.set(model) }
    }
}

/// `<master startport='0'/>` (USB companion controllers).
public struct ControllerMaster: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let startport = Attr<Int>("startport")
    }
}

/// `<target chassisNr chassis port busNr index hotplug memReserve><node>1</node></target>`.
public struct ControllerTarget: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let chassisNr = Attr<Int>("chassisNr")
        public let chassis = Attr<Int>("chassis")
        public let port = Attr<Int>("port", codec: .address(hexDigits: 1))
        public let busNr = Attr<Int>("busNr")
        public let index = Attr<Int>("index")
        public let hotplug = Attr<Bool>("hotplug", codec: .onOff)
        public let memReserve = Attr<UInt64>("memReserve")
        public let numaNode = ChildText<Int>("node")
    }
}

/// `<driver queues cmd_per_lun max_sectors ioeventfd iothread …/>` of a controller.
public struct ControllerDriver: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let queues = Attr<Int>("queues", codec: .decimal(in: 1...Int(UInt32.max)))
        public let cmdPerLun = Attr<Int>("cmd_per_lun")
        public let maxSectors = Attr<Int>("max_sectors")
        public let ioeventfd = Attr<Bool>("ioeventfd", codec: .onOff)
        public let iothread = Attr<Int>("iothread")
        public let iommu = Attr<Bool>("iommu", codec: .onOff)
        public let ats = Attr<Bool>("ats", codec: .onOff)
        public let packed = Attr<Bool>("packed", codec: .onOff)
        public let pagePerVQ = Attr<Bool>("page_per_vq", codec: .onOff)
    }
}

/// `<input type bus model>`: keyboard, mouse, tablet, evdev or virtio passthrough.
public struct InputDevice: DeviceView {
    public static let elementName = "input"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<InputType>("type")
        public let bus = Attr<InputBus>("bus")
        public let model = Attr<String>("model")
        public let source = Child<InputSource>("source")
        public let driver = Child<VirtioDriverOptions>("driver")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }
}

/// `<source evdev dev grab repeat grabToggle/>` of an input device.
public struct InputSource: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let evdev = Attr<String>("evdev")
        public let dev = Attr<String>("dev")
        public let grab = Attr<String>("grab")
        public let `repeat` = Attr<Bool>("repeat", codec: .onOff)
        public let grabToggle = Attr<String>("grabToggle")
    }
}

/// `<hostdev mode type managed>`: a host PCI/USB/SCSI/mdev device assigned to the guest.
public struct HostdevDevice: DeviceView {
    public static let elementName = "hostdev"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let mode = Attr<HostdevMode>("mode")
        public let type = Attr<HostdevType>("type")
        public let managed = Attr<Bool>("managed")
        public let model = Attr<String>("model")
        public let display = Attr<Bool>("display", codec: .onOff)
        public let ramfb = Attr<Bool>("ramfb", codec: .onOff)
        public let sgio = Attr<String>("sgio")
        public let rawio = Attr<Bool>("rawio")
        public let source = Child<HostdevSource>("source")
        public let driver = Child<NameRef>("driver")
        public let readonly = Flag("readonly")
        public let shareable = Flag("shareable")
        public let boot = Child<BootOrder>("boot")
        public let rom = Child<ROMConfig>("rom")
        public let teaming = Child<Teaming>("teaming")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
        public let acpi = Child<DeviceACPI>("acpi")
    }

    /// A managed PCI passthrough device at host address `domain:bus:slot.function`.
    public static func pci(domain: Int = 0, bus: Int, slot: Int, function: Int = 0) -> HostdevDevice {
        let h = HostdevDevice()
        h.mode.set(.subsystem)
        h.type.set(.pci)
        h.managed.set(true)
        h.source.address.setPCI(domain: domain, bus: bus, slot: slot, function: function, withType: false)
        return h
    }
}

/// `<source>` of a hostdev: PCI/USB/SCSI address, USB vendor/product, SCSI adapter, iSCSI host.
public struct HostdevSource: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let startupPolicy = Attr<String>("startupPolicy")
        public let guestReset = Attr<String>("guestReset")
        public let writeFiltering = Attr<String>("writeFiltering")
        public let `protocol` = Attr<String>("protocol")
        public let name = Attr<String>("name")
        public let wwpn = Attr<String>("wwpn")
        public let vendor = Child<IDRef>("vendor")
        public let product = Child<IDRef>("product")
        public let adapter = Child<NameRef>("adapter")
        public let hosts = Children<NetworkHost>("host")
        public let auth = Child<AuthConfig>("auth")
        public let initiator = Child<Initiator>("initiator")
        public let address = Child<DeviceAddress>("address")
    }
}

/// `<vendor id='0x1234'/>` / `<product id=…/>`.
public struct IDRef: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let id = Attr<Int>("id", codec: .address(hexDigits: 4))
    }
}

/// `<rng model>`: a virtio random number generator.
public struct RNGDevice: DeviceView {
    public static let elementName = "rng"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let model = Attr<String>("model")
        public let rate = Child<RNGRate>("rate")
        public let backend = Child<RNGBackend>("backend")
        public let driver = Child<VirtioDriverOptions>("driver")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }

    /// `<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>`.
    public static func virtio(source: String = "/dev/urandom") -> RNGDevice {
        let r = RNGDevice()
        r.model.set("virtio")
        r.backend.model.set(.random)
        r.backend.path.set(source)
        return r
    }
}

/// `<rate bytes period/>`.
public struct RNGRate: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let bytes = Attr<UInt64>("bytes")
        /// Written in ms.
        public let period = Attr<Duration>("period", codec: .integer(.milliseconds))
    }
}

/// `<backend model type>/dev/urandom</backend>` (or an EGD socket with sources).
public struct RNGBackend: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let model = Attr<RNGBackendModel>("model")
        public let type = Attr<String>("type")
        public let path = Text<String>()
        public let sources = Children<CharSource>("source")
        public let `protocol` = Child<CharProtocol>("protocol")
    }
}

/// `<watchdog model action>`.
public struct WatchdogDevice: DeviceView {
    public static let elementName = "watchdog"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let model = Attr<WatchdogModel>("model")
        public let action = Attr<WatchdogAction>("action")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }
}

/// `<memballoon model autodeflate freePageReporting>`.
public struct MemballoonDevice: DeviceView {
    public static let elementName = "memballoon"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let model = Attr<MemballoonModel>("model")
        public let autodeflate = Attr<Bool>("autodeflate", codec: .onOff)
        public let freePageReporting = Attr<Bool>("freePageReporting", codec: .onOff)
        public let stats = Child<BalloonStats>("stats")
        public let driver = Child<VirtioDriverOptions>("driver")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }
}

/// `<stats period='10'/>`.
public struct BalloonStats: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        /// Written in seconds (0 disables collection).
        public let period = Attr<Duration>("period", codec: .integer(.seconds))
    }
}

/// `<panic model>`.
public struct PanicDevice: DeviceView {
    public static let elementName = "panic"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let model = Attr<PanicModel>("model")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }
}

/// `<tpm model>`: an emulated (swtpm), passthrough or external TPM.
public struct TPMDevice: DeviceView {
    public static let elementName = "tpm"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let model = Attr<TPMModel>("model")
        public let backend = Child<TPMBackend>("backend")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }
}

/// `<backend type version persistent_state>`.
public struct TPMBackend: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<TPMBackendType>("type")
        public let version = Attr<String>("version")
        public let persistentState = Attr<Bool>("persistent_state")
        public let device = Child<PathRef>("device")
        public let encryption = Child<TPMEncryption>("encryption")
        public let source = Child<TPMSource>("source")
        public let activePCRBanks = Child<PCRBanks>("active_pcr_banks")
    }
}

/// `<encryption secret='uuid'/>` of an emulated TPM.
public struct TPMEncryption: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let secret = Attr<LibvirtUUID>("secret")
    }
}

/// `<source type path mode/>` of an external TPM.
public struct TPMSource: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
        public let path = Attr<String>("path")
        public let mode = Attr<String>("mode")
    }
}

/// `<active_pcr_banks><sha256/>…</active_pcr_banks>`.
public struct PCRBanks: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let sha1 = Flag("sha1")
        public let sha256 = Flag("sha256")
        public let sha384 = Flag("sha384")
        public let sha512 = Flag("sha512")
    }
}

/// `<filesystem type accessmode>`: a host directory or image shared with the guest (9p, virtiofs).
public struct FilesystemDevice: DeviceView {
    public static let elementName = "filesystem"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<FilesystemType>("type")
        public let accessmode = Attr<FilesystemAccessMode>("accessmode")
        public let model = Attr<String>("model")
        public let multidevs = Attr<String>("multidevs")
        public let fmode = Attr<String>("fmode")
        public let dmode = Attr<String>("dmode")
        public let driver = Child<FilesystemDriver>("driver")
        public let binary = Child<VirtiofsBinary>("binary")
        public let source = Child<FilesystemSource>("source")
        public let target = Child<FilesystemTarget>("target")
        public let readonly = Flag("readonly")
        public let spaceHardLimit = MemoryValue.child("space_hard_limit", default: .bytes)
        public let spaceSoftLimit = MemoryValue.child("space_soft_limit", default: .bytes)
        public let boot = Child<BootOrder>("boot")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }
}

/// `<driver type format wrpolicy queue iommu ats packed/>` of a filesystem.
public struct FilesystemDriver: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
        public let format = Attr<String>("format")
        public let wrpolicy = Attr<String>("wrpolicy")
        public let queue = Attr<Int>("queue")
        public let iommu = Attr<Bool>("iommu", codec: .onOff)
        public let ats = Attr<Bool>("ats", codec: .onOff)
        public let packed = Attr<Bool>("packed", codec: .onOff)
        public let pagePerVQ = Attr<Bool>("page_per_vq", codec: .onOff)
    }
}

/// `<binary path xattr>` of virtiofsd.
public struct VirtiofsBinary: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let path = Attr<String>("path")
        public let xattr = Attr<Bool>("xattr", codec: .onOff)
        public let cache = Child<SpiceMode>("cache")
        public let sandbox = Child<SpiceMode>("sandbox")
        public let lock = Child<VirtiofsLock>("lock")
        public let threadPool = Child<ThreadPool>("thread_pool")
    }
}

/// `<lock posix flock/>`.
public struct VirtiofsLock: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let posix = Attr<Bool>("posix", codec: .onOff)
        public let flock = Attr<Bool>("flock", codec: .onOff)
    }
}

/// `<thread_pool size='16'/>`.
public struct ThreadPool: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let size = Attr<Int>("size")
    }
}

/// `<source dir file dev name socket usage units/>` of a filesystem.
public struct FilesystemSource: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let dir = Attr<String>("dir")
        public let file = Attr<String>("file")
        public let dev = Attr<String>("dev")
        public let name = Attr<String>("name")
        public let socket = Attr<String>("socket")
        public let usage = Attr<UInt64>("usage")
        public let units = Attr<String>("units")
    }
}

/// `<target dir='mount_tag'/>`.
public struct FilesystemTarget: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let dir = Attr<String>("dir")
    }
}

/// `<iommu model>`: a guest-visible IOMMU.
public struct IOMMUDevice: DeviceView {
    public static let elementName = "iommu"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let model = Attr<IOMMUModel>("model")
        public let driver = Child<IOMMUDriver>("driver")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }
}

/// `<driver intremap caching_mode eim iotlb aw_bits/>` of an IOMMU.
public struct IOMMUDriver: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let intremap = Attr<Bool>("intremap", codec: .onOff)
        public let cachingMode = Attr<Bool>("caching_mode", codec: .onOff)
        public let eim = Attr<Bool>("eim", codec: .onOff)
        public let iotlb = Attr<Bool>("iotlb", codec: .onOff)
        public let awBits = Attr<Int>("aw_bits")
    }
}

/// `<lease>`: a lock manager lease.
public struct LeaseDevice: DeviceView {
    public static let elementName = "lease"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let lockspace = ChildText<String>("lockspace")
        public let key = ChildText<String>("key")
        public let target = Child<LeaseTarget>("target")
    }
}

/// `<target path offset/>` of a lease.
public struct LeaseTarget: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let path = Attr<String>("path")
        public let offset = Attr<UInt64>("offset")
    }
}

/// `<smartcard mode type>`.
public struct SmartcardDevice: DeviceView {
    public static let elementName = "smartcard"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let mode = Attr<String>("mode")
        public let type = Attr<CharDeviceType>("type")
        public let certificates = Children<SmartcardCertificate>("certificate")
        public let database = ChildText<String>("database")
        public let sources = Children<CharSource>("source")
        public let `protocol` = Child<CharProtocol>("protocol")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }
}

/// `<certificate>cert1</certificate>`.
public struct SmartcardCertificate: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let value = Text<String>()
    }
}

/// `<sound model>`.
public struct SoundDevice: DeviceView {
    public static let elementName = "sound"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let model = Attr<String>("model")
        public let codecs = Children<TypeRef>("codec")
        public let audio = Child<AudioRef>("audio")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }
}

/// `<audio id type>`: an audio backend.
public struct AudioBackend: DeviceView {
    public static let elementName = "audio"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let id = Attr<Int>("id")
        public let type = Attr<AudioType>("type")
        public let timerPeriod = Attr<Int>("timerPeriod")
        public let serverName = Attr<String>("serverName")
        public let runtimeDir = Attr<String>("runtimeDir")
        public let tryMMap = Attr<Bool>("tryMMap")
        public let exclusive = Attr<Bool>("exclusive")
        public let tryPoll = Attr<Bool>("tryPoll")
        public let path = Attr<String>("path")
        public let driver = Attr<String>("driver")
        public let dspPolicy = Attr<Int>("dspPolicy")
        public let input = Child<AudioStream>("input")
        public let output = Child<AudioStream>("output")
    }
}

/// `<input>` / `<output>` of an audio backend.
public struct AudioStream: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let mixingEngine = Attr<Bool>("mixingEngine")
        public let fixedSettings = Attr<Bool>("fixedSettings")
        public let voices = Attr<Int>("voices")
        public let bufferLength = Attr<Int>("bufferLength")
        public let bufferCount = Attr<Int>("bufferCount")
        public let dev = Attr<String>("dev")
        public let name = Attr<String>("name")
        public let streamName = Attr<String>("streamName")
        public let serverName = Attr<String>("serverName")
        public let clientName = Attr<String>("clientName")
        public let connectPorts = Attr<String>("connectPorts")
        public let latency = Attr<Int>("latency")
        public let tryPoll = Attr<Bool>("tryPoll")
        public let settings = Child<AudioSettings>("settings")
    }
}

/// `<settings frequency channels format/>`.
public struct AudioSettings: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let frequency = Attr<Int>("frequency")
        public let channels = Attr<Int>("channels")
        public let format = Attr<String>("format")
    }
}

/// `<redirdev bus type>`: USB redirection.
public struct RedirDevice: DeviceView {
    public static let elementName = "redirdev"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let bus = Attr<String>("bus")
        public let type = Attr<CharDeviceType>("type")
        public let sources = Children<CharSource>("source")
        public let `protocol` = Child<CharProtocol>("protocol")
        public let boot = Child<BootOrder>("boot")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }
}

/// `<redirfilter>` rules.
public struct RedirFilter: DeviceView {
    public static let elementName = "redirfilter"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let usbdevs = Children<RedirFilterRule>("usbdev")
    }
}

/// `<usbdev class vendor product version allow/>`.
public struct RedirFilterRule: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let `class` = Attr<String>("class")
        public let vendor = Attr<String>("vendor")
        public let product = Attr<String>("product")
        public let version = Attr<String>("version")
        public let allow = Attr<Bool>("allow")
    }
}

/// `<hub type='usb'>`.
public struct HubDevice: DeviceView {
    public static let elementName = "hub"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }
}

/// `<shmem name role>`: an ivshmem region.
public struct ShmemDevice: DeviceView {
    public static let elementName = "shmem"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name")
        public let role = Attr<String>("role")
        public let model = Child<TypeRef>("model")
        public let size = MemoryValue.child("size", default: .bytes)
        public let server = Child<PathRef>("server")
        public let msi = Child<ShmemMSI>("msi")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }
}

/// `<msi vectors ioeventfd enabled/>`.
public struct ShmemMSI: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let vectors = Attr<Int>("vectors")
        public let ioeventfd = Attr<Bool>("ioeventfd", codec: .onOff)
        public let enabled = Attr<Bool>("enabled", codec: .onOff)
    }
}

/// `<memory model access discard>`: a hotpluggable DIMM, NVDIMM, virtio-mem/pmem or SGX EPC.
public struct MemoryDevice: DeviceView {
    public static let elementName = "memory"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let model = Attr<String>("model")
        public let access = Attr<MemoryAccess>("access")
        public let discard = Attr<Bool>("discard")
        public let uuid = ChildText<LibvirtUUID>("uuid")
        public let source = Child<MemoryDeviceSource>("source")
        public let target = Child<MemoryDeviceTarget>("target")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }
}

/// `<source>` of a memory device.
public struct MemoryDeviceSource: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let pagesize = MemoryValue.child("pagesize")
        public let nodemask = ChildText<NodeSet>("nodemask")
        public let path = ChildText<String>("path")
        public let alignsize = MemoryValue.child("alignsize")
        public let pmem = Flag("pmem")
    }
}

/// `<target>` of a memory device: size, guest NUMA node, label, block/requested sizes.
public struct MemoryDeviceTarget: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let dynamicMemslots = Attr<Bool>("dynamicMemslots")
        public let size = MemoryValue.child("size")
        /// The guest NUMA node (`<node>`).
        public let numaNode = ChildText<Int>("node")
        public let label = Child<MemoryLabel>("label")
        public let block = MemoryValue.child("block")
        public let requested = MemoryValue.child("requested")
        public let current = MemoryValue.child("current")
        public let address = Child<MemoryTargetAddress>("address")
        public let readonly = Flag("readonly")
    }
}

/// `<label><size unit='KiB'>128</size></label>` of an NVDIMM.
public struct MemoryLabel: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let size = MemoryValue.child("size")
    }
}

/// `<address base='0x…'/>` of a memory target.
public struct MemoryTargetAddress: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let base = Attr<String>("base")
    }
}

/// `<vsock model>`: a virtio vsock with its context ID.
public struct VsockDevice: DeviceView {
    public static let elementName = "vsock"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let model = Attr<String>("model")
        public let cid = Child<VsockCID>("cid")
        public let driver = Child<VirtioDriverOptions>("driver")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }
}

/// `<cid auto='no' address='3'/>`.
public struct VsockCID: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let auto = Attr<Bool>("auto")
        public let address = Attr<Int>("address")
    }
}

/// `<nvram>` device (pSeries NVRAM).
public struct NVRAMDevice: DeviceView {
    public static let elementName = "nvram"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }
}
