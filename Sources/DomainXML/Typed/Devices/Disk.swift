import VirtCore

/// `<disk type device>`: a block device of the guest (file, block device, network volume, …).
public struct DiskDevice: DeviceView {
    public static let elementName = "disk"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<DiskType>("type")
        public let device = Attr<DiskDeviceKind>("device")
        public let model = Attr<String>("model")
        public let snapshot = Attr<String>("snapshot")
        public let rawio = Attr<Bool>("rawio")
        public let sgio = Attr<String>("sgio")
        public let driver = Child<DiskDriver>("driver")
        public let auth = Child<AuthConfig>("auth")
        public let source = Child<DiskSource>("source")
        public let backingStore = Child<BackingStore>("backingStore")
        public let mirror = Child<DiskMirror>("mirror")
        public let geometry = Child<DiskGeometry>("geometry")
        public let blockio = Child<DiskBlockIO>("blockio")
        public let target = Child<DiskTarget>("target")
        public let iotune = Child<IOTune>("iotune")
        public let boot = Child<BootOrder>("boot")
        public let readonly = Flag("readonly")
        public let shareable = Flag("shareable")
        public let transient = Child<DiskTransient>("transient")
        public let serial = ChildText<String>("serial")
        public let wwn = ChildText<String>("wwn")
        public let vendor = ChildText<String>("vendor")
        public let product = ChildText<String>("product")
        public let encryption = Child<EncryptionConfig>("encryption")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
        public let acpi = Child<DeviceACPI>("acpi")
    }

    /// A new disk: `<disk type device><driver name='qemu' type=format/><source …/><target dev bus/></disk>`.
    /// The source attribute follows `type`: `file` for `.file`, `dev` for `.block`, `dir` for `.dir`.
    public init(type: DiskType, device: DiskDeviceKind = .disk, source: String? = nil, format: DiskFormat? = nil,
                target: String, bus: DiskBus) {
        self.init()
        self.type.set(type)
        self.device.set(device)
        if let format {
            self.driver.name.set("qemu")
            self.driver.format.set(format)
        }
        if let source {
            switch type {
            case .block: self.source.dev.set(source)
            case .dir: self.source.dir.set(source)
            case .network, .volume: self.source.name.set(source)
            default: self.source.file.set(source)
            }
        }
        self.target.dev.set(target)
        self.target.bus.set(bus)
    }
}

/// `<disk><driver>`: the hypervisor's handling of the disk.
public struct DiskDriver: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name")
        /// Image format (`raw`, `qcow2`): the `type` attribute.
        public let format = Attr<DiskFormat>("type")
        public let cache = Attr<DiskCache>("cache")
        public let io = Attr<DiskIO>("io")
        public let discard = Attr<DiskDiscard>("discard")
        public let detectZeroes = Attr<String>("detect_zeroes")
        public let errorPolicy = Attr<ErrorPolicy>("error_policy")
        public let rerrorPolicy = Attr<ErrorPolicy>("rerror_policy")
        public let iothread = Attr<Int>("iothread", codec: .decimal(in: 1...Int(UInt32.max)))
        public let queues = Attr<Int>("queues", codec: .decimal(in: 1...Int(UInt32.max)))
        public let queueSize = Attr<Int>("queue_size", codec: .decimal(in: 1...Int(UInt32.max)))
        public let ioeventfd = Attr<Bool>("ioeventfd", codec: .onOff)
        public let eventIdx = Attr<Bool>("event_idx", codec: .onOff)
        public let copyOnRead = Attr<Bool>("copy_on_read", codec: .onOff)
        public let discardNoUnref = Attr<Bool>("discard_no_unref", codec: .onOff)
        public let iommu = Attr<Bool>("iommu", codec: .onOff)
        public let ats = Attr<Bool>("ats", codec: .onOff)
        public let packed = Attr<Bool>("packed", codec: .onOff)
        public let pagePerVQ = Attr<Bool>("page_per_vq", codec: .onOff)
        public let metadataCache = Child<MetadataCache>("metadata_cache")
    }
}

/// `<metadata_cache><max_size unit='KiB'>…</max_size></metadata_cache>`.
public struct MetadataCache: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let maxSize = MemoryValue.child("max_size", default: .bytes)
    }
}

/// `<source>` of a disk, backing store, mirror or NVRAM: one of `file`, `dev`, `dir`, a network
/// `protocol`+`name` with hosts, a storage `pool`+`volume`, an NVMe or vhost-user source.
public struct DiskSource: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let file = Attr<String>("file")
        public let dev = Attr<String>("dev")
        public let dir = Attr<String>("dir")
        public let `protocol` = Attr<NetworkProtocol>("protocol")
        public let name = Attr<String>("name")
        public let query = Attr<String>("query")
        public let tls = Attr<Bool>("tls")
        public let pool = Attr<String>("pool")
        public let volume = Attr<String>("volume")
        public let mode = Attr<String>("mode")
        /// `pci` for NVMe, `unix` for vhost-user.
        public let type = Attr<String>("type")
        public let path = Attr<String>("path")
        public let managed = Attr<Bool>("managed")
        public let namespace = Attr<Int>("namespace")
        public let startupPolicy = Attr<String>("startupPolicy")
        public let index = Attr<Int>("index")
        public let fdgroup = Attr<String>("fdgroup")
        public let tlsHostname = Attr<String>("tlsHostname")
        public let hosts = Children<NetworkHost>("host")
        public let snapshot = Child<NameRef>("snapshot")
        public let config = Child<FileRef>("config")
        public let auth = Child<AuthConfig>("auth")
        public let encryption = Child<EncryptionConfig>("encryption")
        public let initiator = Child<Initiator>("initiator")
        public let reservations = Child<Reservations>("reservations")
        public let reconnect = Child<Reconnect>("reconnect")
        public let timeout = Child<SecondsValue>("timeout")
        public let readahead = Child<SizeValue>("readahead")
        public let ssl = Child<SSLVerify>("ssl")
        public let cookies = Child<Cookies>("cookies")
        public let slices = Child<Slices>("slices")
        public let identity = Child<Identity>("identity")
        public let address = Child<DeviceAddress>("address")
        public let seclabels = Children<SourceSecLabel>("seclabel")
    }
}

/// `<host name port transport socket/>` of a network source.
public struct NetworkHost: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name")
        public let port = Attr<String>("port")
        public let transport = Attr<String>("transport")
        public let socket = Attr<String>("socket")
    }
}

/// An element with a single `file` attribute.
public struct FileRef: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let file = Attr<String>("file")
    }
}

/// `<initiator><iqn name=…/></initiator>` (iSCSI).
public struct Initiator: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let iqn = Child<NameRef>("iqn")
    }
}

/// `<reservations managed>` (SCSI persistent reservations helper).
public struct Reservations: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let managed = Attr<Bool>("managed")
        public let source = Child<CharSource>("source")
    }
}

/// `<timeout seconds='10'/>`.
public struct SecondsValue: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let seconds = Attr<Duration>("seconds", codec: .integer(.seconds))
    }
}

/// `<readahead size='65536'/>` (bytes).
public struct SizeValue: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let size = Attr<UInt64>("size")
    }
}

/// `<ssl verify='yes'/>`.
public struct SSLVerify: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let verify = Attr<Bool>("verify")
    }
}

/// `<cookies><cookie name=…>value</cookie></cookies>` (HTTP sources).
public struct Cookies: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let cookie = Children<Cookie>("cookie")
    }
}

/// `<cookie name=…>value</cookie>`.
public struct Cookie: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name")
        public let value = Text<String>()
    }
}

/// `<slices><slice type='storage' offset size/></slices>`.
public struct Slices: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let slice = Children<Slice>("slice")
    }
}

/// `<slice type offset size/>`.
public struct Slice: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
        public let offset = Attr<UInt64>("offset")
        public let size = Attr<UInt64>("size")
    }
}

/// `<identity user group/>` (NFS sources).
public struct Identity: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let user = Attr<String>("user")
        public let group = Attr<String>("group")
    }
}

/// `<backingStore type index>`: one layer of the backing chain (recursive).
public struct BackingStore: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<DiskType>("type")
        public let index = Attr<Int>("index")
        public let format = Child<ImageFormat>("format")
        public let source = Child<DiskSource>("source")
        public let backingStore = Child<BackingStore>("backingStore")
    }
}

/// `<format type='qcow2'>` of a backing store or mirror.
public struct ImageFormat: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<DiskFormat>("type")
        public let metadataCache = Child<MetadataCache>("metadata_cache")
    }
}

/// `<mirror type file format job ready>`: an active block copy/commit target.
public struct DiskMirror: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<DiskType>("type")
        public let file = Attr<String>("file")
        public let formatName = Attr<String>("format")
        public let job = Attr<String>("job")
        public let ready = Attr<String>("ready")
        public let format = Child<ImageFormat>("format")
        public let source = Child<DiskSource>("source")
        public let backingStore = Child<BackingStore>("backingStore")
    }
}

/// `<geometry cyls heads secs trans/>`.
public struct DiskGeometry: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let cyls = Attr<Int>("cyls")
        public let heads = Attr<Int>("heads")
        public let secs = Attr<Int>("secs")
        public let trans = Attr<String>("trans")
    }
}

/// `<blockio logical_block_size physical_block_size discard_granularity/>` (bytes).
public struct DiskBlockIO: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let logicalBlockSize = Attr<Int>("logical_block_size")
        public let physicalBlockSize = Attr<Int>("physical_block_size")
        public let discardGranularity = Attr<Int>("discard_granularity")
    }
}

/// `<target dev bus tray removable rotation_rate/>`: how the guest sees the disk.
public struct DiskTarget: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let dev = Attr<String>("dev", required: true)
        public let bus = Attr<DiskBus>("bus")
        public let tray = Attr<String>("tray")
        public let removable = Attr<Bool>("removable", codec: .onOff)
        public let rotationRate = Attr<Int>("rotation_rate")
    }
}

/// `<transient shareBacking='yes'/>`.
public struct DiskTransient: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let shareBacking = Attr<Bool>("shareBacking")
    }
}

/// `<iotune>`: per-disk I/O throttling (bytes/s and IOPS, with bursts).
public struct IOTune: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let totalBytesSec = ChildText<UInt64>("total_bytes_sec")
        public let readBytesSec = ChildText<UInt64>("read_bytes_sec")
        public let writeBytesSec = ChildText<UInt64>("write_bytes_sec")
        public let totalIopsSec = ChildText<UInt64>("total_iops_sec")
        public let readIopsSec = ChildText<UInt64>("read_iops_sec")
        public let writeIopsSec = ChildText<UInt64>("write_iops_sec")
        public let totalBytesSecMax = ChildText<UInt64>("total_bytes_sec_max")
        public let readBytesSecMax = ChildText<UInt64>("read_bytes_sec_max")
        public let writeBytesSecMax = ChildText<UInt64>("write_bytes_sec_max")
        public let totalIopsSecMax = ChildText<UInt64>("total_iops_sec_max")
        public let readIopsSecMax = ChildText<UInt64>("read_iops_sec_max")
        public let writeIopsSecMax = ChildText<UInt64>("write_iops_sec_max")
        public let sizeIopsSec = ChildText<UInt64>("size_iops_sec")
        public let groupName = ChildText<String>("group_name")
        public let totalBytesSecMaxLength = ChildText<UInt64>("total_bytes_sec_max_length")
        public let readBytesSecMaxLength = ChildText<UInt64>("read_bytes_sec_max_length")
        public let writeBytesSecMaxLength = ChildText<UInt64>("write_bytes_sec_max_length")
        public let totalIopsSecMaxLength = ChildText<UInt64>("total_iops_sec_max_length")
        public let readIopsSecMaxLength = ChildText<UInt64>("read_iops_sec_max_length")
        public let writeIopsSecMaxLength = ChildText<UInt64>("write_iops_sec_max_length")
    }
}
