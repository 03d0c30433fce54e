import VirtCore

/// A storage volume (`virStorageVolCreateXML`, `virsh vol-dumpxml`): its size, target
/// format/permissions/encryption and backing store.
public struct StorageVolumeDefinition: DocumentView {
    public static let schema = Schema<Self>()
    public static let elementName = "volume"
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node.owningDocument() }
    public struct Keys: KeyTable {
        public init() {}
        /// `file`, `block`, `dir`, `network`, `netdir`, `ploop` (set by libvirt on output).
        public let type = Attr<String>("type")
        public let name = ChildText<String>("name", required: true)
        public let key = ChildText<String>("key")
        public let source = Child<StorageVolumeSource>("source")
        /// Sizes default to bytes.
        public let capacity = MemoryValue.child("capacity", default: .bytes)
        public let allocation = MemoryValue.child("allocation", default: .bytes)
        public let physical = MemoryValue.child("physical", default: .bytes)
        public let target = Child<StorageTarget>("target")
        public let backingStore = Child<StorageBackingStore>("backingStore")
    }

    /// A qcow2 volume of `capacity`, optionally on top of `backingFile` (in `backingFormat`):
    /// writes go to the new volume, reads of unwritten clusters to the backing file.
    public init(qcow2 name: String, capacity: MemorySize, backingFile: String? = nil, backingFormat: String = "qcow2") {
        self.init()
        self.name.set(name)
        self.capacity.set(capacity)
        self.target.format.type.set("qcow2")
        if let backingFile {
            self.backingStore.path.set(backingFile)
            self.backingStore.format.type.set(backingFormat)
        }
    }
}

/// `<source>` of a volume: the extents of a device-backed volume.
public struct StorageVolumeSource: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let devices = Children<StorageSourceDevice>("device")
    }
}

/// `<backingStore><path/><format type/><permissions/></backingStore>`.
public struct StorageBackingStore: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let path = ChildText<String>("path")
        public let format = Child<StorageFormat>("format")
        public let permissions = Child<StoragePermissions>("permissions")
    }
}

/// What a driver's storage backends support (`virConnectGetStoragePoolCapabilities`):
/// `<storagepoolCapabilities><pool type='dir' supported='yes'>…`.
public struct StoragePoolCapabilities: DocumentView {
    public static let schema = Schema<Self>()
    public static let elementName = "storagepoolCapabilities"
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node.owningDocument() }
    public struct Keys: KeyTable {
        public init() {}
        public let pools = Children<StoragePoolTypeCapabilities>("pool")
    }
}

/// `<pool type='logical' supported='yes'><poolOptions>…<volOptions>…`.
public struct StoragePoolTypeCapabilities: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<StoragePoolType>("type", required: true)
        public let supported = Attr<Bool>("supported")
        public let poolOptions = Child<StorageFormatOptions>("poolOptions")
        public let volumeOptions = Child<StorageFormatOptions>("volOptions")
    }
}

/// `<poolOptions><defaultFormat type='lvm2'/><enum name='sourceFormatType'>…`.
public struct StorageFormatOptions: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let defaultFormat = ChildAttr<String>("defaultFormat", "type", codec: String.xmlCodec)
        public let enums = Children<DomainCapabilitiesEnum>("enum")
    }
}
