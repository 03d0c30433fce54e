import VirtCore

/// A storage pool (`virStoragePoolDefineXML`, `virsh pool-dumpxml`): its type, source (host,
/// devices, directory, adapter, auth, …), target path and permissions.
public struct StoragePoolDefinition: DocumentView {
    public static let schema = Schema<Self>()
    public static let elementName = "pool"
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node.owningDocument() }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<StoragePoolType>("type", required: true)
        /// Required, except that a `logical` pool may take its volume group's name from
        /// `<source><name>` (libvirt's `VIR_STORAGE_POOL_SOURCE_NAME` backends).
        public let name = ChildText<String>("name")
        public let nameOrSourceName = Rule { pool in
            guard pool.firstChild(named: "name") == nil, pool.firstChild(named: "source")?.firstChild(named: "name") == nil else { return nil }
            return TypedXMLError(path: elementPath(pool) + "/name", reason: .missing)
        }
        public let uuid = ChildText<LibvirtUUID>("uuid")
        /// Sizes default to bytes.
        public let capacity = MemoryValue.child("capacity", default: .bytes)
        public let allocation = MemoryValue.child("allocation", default: .bytes)
        public let available = MemoryValue.child("available", default: .bytes)
        public let features = Child<StoragePoolFeatures>("features")
        public let source = Child<StoragePoolSource>("source")
        public let target = Child<StorageTarget>("target")
        public let refresh = Child<StoragePoolRefresh>("refresh")
        /// Extra mount options of `fs`/`netfs` pools (`xmlns:fs`).
        public let mountOptions = Child<StorageNamespaceOptions>("fs:mount_opts")
        /// Extra Ceph configuration of `rbd` pools (`xmlns:rbd`).
        public let rbdConfigOptions = Child<StorageNamespaceOptions>("rbd:config_opts")
    }

    /// A `dir` pool: volumes are files under `path`.
    public init(directory name: String, path: String) {
        self.init()
        self.type.set(.dir)
        self.name.set(name)
        self.target.path.set(path)
    }

    /// A `logical` pool: an LVM volume group `volumeGroup` (created from `devices` when given).
    public init(logical name: String, volumeGroup: String, devices: [String] = []) {
        self.init()
        self.type.set(.logical)
        self.name.set(name)
        self.source.name.set(volumeGroup)
        for d in devices { self.source.devices.append().path.set(d) }
        self.source.format.type.set("lvm2")
        self.target.path.set("/dev/" + volumeGroup)
    }

    /// A `netfs` pool: `host:exportPath` mounted at `path` (`format` nfs, cifs or glusterfs).
    public init(netfs name: String, host: String, exportPath: String, path: String, format: String = "nfs") {
        self.init()
        self.type.set(.netfs)
        self.name.set(name)
        self.source.hosts.append().name.set(host)
        self.source.dir.path.set(exportPath)
        self.source.format.type.set(format)
        self.target.path.set(path)
    }

    /// An `rbd` pool: the Ceph pool `cephPool` on `monitors`, authenticated as `user` with
    /// the libvirt secret `secret`.
    public init(rbd name: String, cephPool: String, monitors: [String], user: String, secret: LibvirtUUID) {
        self.init()
        self.type.set(.rbd)
        self.name.set(name)
        for m in monitors { self.source.hosts.append().name.set(m) }
        self.source.name.set(cephPool)
        self.source.auth.type.set("ceph")
        self.source.auth.username.set(user)
        self.source.auth.secret.uuid.set(secret)
    }
}

/// `<pool type>`.
public enum StoragePoolType: XMLEnum {
    case dir, fs, netfs, logical, disk, iscsi, iscsiDirect, scsi, mpath, rbd, sheepdog, gluster, zfs, vstorage
    case other(String)
    public static let known: [(Self, String)] = [
        (.dir, "dir"), (.fs, "fs"), (.netfs, "netfs"), (.logical, "logical"), (.disk, "disk"),
        (.iscsi, "iscsi"), (.iscsiDirect, "iscsi-direct"), (.scsi, "scsi"), (.mpath, "mpath"),
        (.rbd, "rbd"), (.sheepdog, "sheepdog"), (.gluster, "gluster"), (.zfs, "zfs"), (.vstorage, "vstorage"),
    ]
}

/// `<features><cow state='no'/></features>`.
public struct StoragePoolFeatures: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let copyOnWrite = ChildAttr<Bool>("cow", "state", codec: .yesNo)
    }
}

/// `<refresh><volume allocation='capacity'/></refresh>`.
public struct StoragePoolRefresh: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let volumeAllocation = ChildAttr<String>("volume", "allocation", codec: String.xmlCodec)
    }
}

/// `<source>` of a pool: where its storage comes from (which children apply depends on the type).
public struct StoragePoolSource: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let hosts = Children<StorageSourceHost>("host")
        public let devices = Children<StorageSourceDevice>("device")
        public let dir = Child<StoragePathValue>("dir")
        public let adapter = Child<StorageSourceAdapter>("adapter")
        public let name = ChildText<String>("name")
        public let format = Child<StorageFormat>("format")
        public let vendor = ChildAttr<String>("vendor", "name", codec: String.xmlCodec)
        public let product = ChildAttr<String>("product", "name", codec: String.xmlCodec)
        public let auth = Child<StorageAuth>("auth")
        public let protocolVersion = ChildAttr<String>("protocol", "ver", codec: String.xmlCodec)
        public let initiator = Child<StorageInitiator>("initiator")
    }
}

/// `<host name='iscsi.example.com' port='3260'/>`.
public struct StorageSourceHost: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name", required: true)
        public let port = Attr<Int>("port", codec: .decimal(in: 0...65535))
    }
}

/// `<device path='/dev/sda' part_separator='no'><freeExtent start end/></device>`.
public struct StorageSourceDevice: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let path = Attr<String>("path", required: true)
        public let partSeparator = Attr<Bool>("part_separator")
        public let freeExtents = Children<StorageExtent>("freeExtent")
        public let extents = Children<StorageExtent>("extent")
    }
}

/// `<freeExtent start='0' end='4096'/>` (bytes).
public struct StorageExtent: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let start = Attr<UInt64>("start", required: true)
        public let end = Attr<UInt64>("end", required: true)
    }
}

/// An element whose `path` attribute is the value: `<dir path='/export'/>`.
public struct StoragePathValue: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let path = Attr<String>("path", required: true)
    }
}

/// `<adapter type='scsi_host' name='host0'/>` or `<adapter type='fc_host' wwnn wwpn parent/>`.
public struct StorageSourceAdapter: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
        public let name = Attr<String>("name")
        public let parent = Attr<String>("parent")
        public let managed = Attr<Bool>("managed")
        public let parentWWNN = Attr<String>("parent_wwnn")
        public let parentWWPN = Attr<String>("parent_wwpn")
        public let parentFabricWWN = Attr<String>("parent_fabric_wwn")
        public let wwnn = Attr<String>("wwnn")
        public let wwpn = Attr<String>("wwpn")
        public let parentAddress = Child<StorageAdapterParentAddress>("parentaddr")
    }
}

/// `<parentaddr unique_id='1'><address domain bus slot function/></parentaddr>`.
public struct StorageAdapterParentAddress: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let uniqueID = Attr<Int>("unique_id")
        public let address = Child<StoragePCIAddress>("address")
    }
}

/// `<address domain='0x0000' bus='0x00' slot='0x1f' function='0x2'/>`.
public struct StoragePCIAddress: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let domain = Attr<Int>("domain", codec: .address(hexDigits: 4))
        public let bus = Attr<Int>("bus", codec: .address(hexDigits: 2))
        public let slot = Attr<Int>("slot", codec: .address(hexDigits: 2))
        public let function = Attr<Int>("function", codec: .address(hexDigits: 1))
    }
}

/// `<format type='qcow2'/>` (volume formats, pool source formats: `nfs`, `lvm2`, `gpt`, …).
public struct StorageFormat: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type", required: true)
    }
}

/// `<auth type='chap|ceph' username='…'><secret uuid='…'|usage='…'/></auth>`.
public struct StorageAuth: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type", required: true)
        public let username = Attr<String>("username", required: true)
        public let secret = Child<StorageSecretRef>("secret")
    }
}

/// `<secret uuid='…'/>`, `<secret usage='…'/>` or, in volume encryption, `<secret type='passphrase' uuid='…'/>`.
public struct StorageSecretRef: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
        public let uuid = Attr<LibvirtUUID>("uuid")
        public let usage = Attr<String>("usage")
    }
}

/// `<initiator><iqn name='iqn.2013-06.com.example:iscsi-pool'/></initiator>`.
public struct StorageInitiator: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let iqn = ChildAttr<String>("iqn", "name", codec: String.xmlCodec)
    }
}

/// `<target>` of a pool or volume: its path, format (volumes), permissions and more.
public struct StorageTarget: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let path = ChildText<String>("path")
        public let format = Child<StorageFormat>("format")
        public let permissions = Child<StoragePermissions>("permissions")
        public let timestamps = Child<StorageTimestamps>("timestamps")
        public let compat = ChildText<String>("compat")
        public let clusterSize = MemoryValue.child("clusterSize", default: .bytes)
        public let nocow = Flag("nocow")
        public let features = Child<StorageVolumeFeatures>("features")
        public let encryption = Child<StorageEncryption>("encryption")
    }
}

/// `<permissions><mode>0644</mode><owner>107</owner><group>107</group><label>…</label>`.
public struct StoragePermissions: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let mode = ChildText<Int>("mode", codec: .octal)
        /// -1 leaves the owner as created.
        public let owner = ChildText<Int>("owner")
        public let group = ChildText<Int>("group")
        public let label = ChildText<String>("label")
    }
}

/// `<timestamps><atime>…</atime><mtime/><ctime/><btime/></timestamps>`.
public struct StorageTimestamps: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let accessed = ChildText<Timestamp>("atime")
        public let modified = ChildText<Timestamp>("mtime")
        public let changed = ChildText<Timestamp>("ctime")
        public let created = ChildText<Timestamp>("btime")
    }
}

/// qcow2 `<features><lazy_refcounts/><extended_l2/></features>`.
public struct StorageVolumeFeatures: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let lazyRefcounts = Flag("lazy_refcounts")
        public let extendedL2 = Flag("extended_l2")
    }
}

/// `<encryption format='luks'><secret type='passphrase' uuid='…'/><cipher …/><ivgen …/></encryption>`.
public struct StorageEncryption: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let format = Attr<String>("format", required: true)
        public let secrets = Children<StorageSecretRef>("secret")
        public let cipher = Child<StorageCipher>("cipher")
        public let ivgen = Child<StorageCipher>("ivgen")
    }
}

/// `<cipher name='aes' size='256' mode='cbc' hash='sha256'/>` / `<ivgen name='plain64' hash='sha256'/>`.
public struct StorageCipher: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name", required: true)
        public let size = Attr<Int>("size")
        public let mode = Attr<String>("mode")
        public let hash = Attr<String>("hash")
    }
}

/// `<fs:mount_opts><fs:option name='sync'/>…` / `<rbd:config_opts><rbd:option name value/>…`.
public struct StorageNamespaceOptions: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let fsOptions = Children<StorageNamespaceOption>("fs:option")
        public let rbdOptions = Children<StorageNamespaceOption>("rbd:option")
    }
}

/// `<fs:option name='sync'/>`, `<rbd:option name='client_mount_timeout' value='45'/>`.
public struct StorageNamespaceOption: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name", required: true)
        public let value = Attr<String>("value")
    }
}
