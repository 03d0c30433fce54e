import DomainXML
import VirtCore

/// A domain snapshot (`virDomainSnapshotCreateXML`, `virsh snapshot-dumpxml`): per-disk
/// internal/external snapshots, the memory state and, on output, the whole `<domain>` at
/// the time, typed through DomainXML.
public struct DomainSnapshotDefinition: DocumentView {
    public static let schema = Schema<Self>()
    public static let elementName = "domainsnapshot"
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node.owningDocument() }
    public struct Keys: KeyTable {
        public init() {}
        public let name = ChildText<String>("name")
        public let description = ChildText<String>("description")
        public let state = ChildText<String>("state")
        public let creationTime = ChildText<Timestamp>("creationTime")
        public let parent = Child<SnapshotParent>("parent")
        public let memory = Child<SnapshotMemory>("memory")
        public let disks = Child<SnapshotDisks>("disks")
        public let active = ChildText<Int>("active")
        /// The domain definition at snapshot time. libvirt also accepts the legacy form that
        /// holds only the domain's `<uuid>`; that form is not validated as a definition.
        public let domain = Child<DomainDefinition>("domain", validatedWhen: { domain in
            !domain.childElements.allSatisfy { $0.name == "uuid" }
        })
        /// The inactive definition, for snapshots of a running domain.
        public let inactiveDomain = Child<SnapshotInactiveDomain>("inactiveDomain")
        public let cookie = RawChild("cookie")
    }

    /// An external snapshot of every disk in `diskNames` (each into `<disk>.<name>` beside the
    /// original unless `files` names the new file), without memory: the usual live backup
    /// starting point (`virsh snapshot-create --disk-only`).
    public init(external name: String, diskNames: [String], files: [String: String] = [:], description: String? = nil) {
        self.init()
        self.name.set(name)
        if let description { self.description.set(description) }
        self.memory.snapshot.set("no")
        for disk in diskNames {
            let d = self.disks.disks.append()
            d.name.set(disk)
            d.snapshot.set("external")
            if let file = files[disk] { d.source.file.set(file) }
        }
    }
}

/// `<parent><name>earlier</name></parent>`.
public struct SnapshotParent: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = ChildText<String>("name", required: true)
    }
}

/// `<memory snapshot='no|internal|external' file='…'/>`.
public struct SnapshotMemory: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let snapshot = Attr<String>("snapshot")
        public let file = Attr<String>("file")
    }
}

/// `<disks>` of a snapshot.
public struct SnapshotDisks: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let disks = Children<SnapshotDisk>("disk")
    }
}

/// `<disk name='vda' snapshot='external' type='file'><source file='…'/><driver type='qcow2'/></disk>`.
///
/// libvirt's schema allows only a plain source here: `startupPolicy` (a domain-disk setting)
/// and a `<seclabel>` under a network source are rejected.
public struct SnapshotDisk: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name", required: true)
        public let snapshot = Attr<String>("snapshot")
        public let type = Attr<String>("type")
        public let source = Child<SnapshotDiskSource>("source")
        public let driver = Child<SnapshotDiskDriver>("driver")
        public let noStartupPolicy = Rule.forbidden(attribute: "startupPolicy", on: "source")
        public let noNetworkSeclabel = Rule { disk in
            guard disk.attribute("type") == "network", let label = disk.firstChild(named: "source")?.firstChild(named: "seclabel") else { return nil }
            return TypedXMLError(path: elementPath(label), reason: .notAllowed)
        }
    }
}

/// `<source file='…'/>`, `<source dev='…'/>` or a network source with hosts.
public struct SnapshotDiskSource: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let file = Attr<String>("file")
        public let dev = Attr<String>("dev")
        public let `protocol` = Attr<String>("protocol")
        public let name = Attr<String>("name")
        public let hosts = Children<SnapshotSourceHost>("host")
        public let seclabels = Children<SnapshotSeclabel>("seclabel")
    }
}

/// `<host name='host' port='1234' transport='tcp'/>`.
public struct SnapshotSourceHost: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name")
        public let port = Attr<Int>("port", codec: .decimal(in: 0...65535))
        public let transport = Attr<String>("transport")
        public let socket = Attr<String>("socket")
    }
}

/// `<seclabel model='dac' relabel='no'/>` of a snapshot file source.
public struct SnapshotSeclabel: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let model = Attr<String>("model")
        public let relabel = Attr<Bool>("relabel")
        public let label = ChildText<String>("label")
    }
}

/// `<driver type='qcow2'><metadata_cache><max_size unit='bytes'>…</max_size></metadata_cache></driver>`.
public struct SnapshotDiskDriver: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
        public let metadataCache = Child<SnapshotMetadataCache>("metadata_cache")
    }
}

/// `<metadata_cache><max_size unit='bytes'>1234</max_size></metadata_cache>`.
public struct SnapshotMetadataCache: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let maxSize = MemoryValue.child("max_size", default: .bytes)
    }
}

/// `<inactiveDomain>`: the persistent definition of a running domain at snapshot time.
public struct SnapshotInactiveDomain: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let definition = RawChild("domain")
    }
}

/// A domain checkpoint (`virDomainCheckpointCreateXML`): which disks track changes (dirty
/// bitmaps) from this point, for incremental backups.
public struct DomainCheckpointDefinition: DocumentView {
    public static let schema = Schema<Self>()
    public static let elementName = "domaincheckpoint"
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node.owningDocument() }
    public struct Keys: KeyTable {
        public init() {}
        /// libvirt refuses names that are not usable as file names (`/`, a leading `.`).
        public let name = ChildText<String>("name", codec: .fileName)
        public let description = ChildText<String>("description")
        public let creationTime = ChildText<Timestamp>("creationTime")
        public let parent = Child<SnapshotParent>("parent")
        public let disks = Child<CheckpointDisks>("disks")
        public let domain = Child<DomainDefinition>("domain")
    }
}

/// `<disks>` of a checkpoint.
public struct CheckpointDisks: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let disks = Children<CheckpointDisk>("disk")
    }
}

/// `<disk name='vda' checkpoint='bitmap' bitmap='…'/>`.
public struct CheckpointDisk: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name", required: true)
        public let checkpoint = Attr<String>("checkpoint")
        public let bitmap = Attr<String>("bitmap")
        public let size = MemoryValue.attribute("size", default: .bytes)
    }
}

/// A backup job (`virDomainBackupBegin`): push to files or pull over NBD, full or incremental
/// from a checkpoint.
public struct DomainBackupDefinition: DocumentView {
    public static let schema = Schema<Self>()
    public static let elementName = "domainbackup"
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node.owningDocument() }
    public struct Keys: KeyTable {
        public init() {}
        public let mode = Attr<String>("mode")
        public let incremental = ChildText<String>("incremental")
        public let server = Child<BackupServer>("server")
        public let disks = Child<BackupDisks>("disks")
    }
}

/// `<server transport='tcp' name='localhost' port='10809'/>` of a pull backup.
public struct BackupServer: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let transport = Attr<String>("transport")
        public let name = Attr<String>("name")
        public let port = Attr<Int>("port", codec: .decimal(in: 0...65535))
        public let socket = Attr<String>("socket")
    }
}

/// `<disks>` of a backup.
public struct BackupDisks: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let disks = Children<BackupDisk>("disk")
    }
}

/// `<disk name='vda' backup='yes' type='file'><target file='…'/><driver type='qcow2'/></disk>`.
public struct BackupDisk: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name", required: true)
        public let backup = Attr<Bool>("backup")
        public let type = Attr<String>("type")
        public let exportName = Attr<String>("exportname")
        public let exportBitmap = Attr<String>("exportbitmap")
        public let incremental = Attr<String>("incremental")
        public let target = Child<SnapshotDiskSource>("target")
        public let scratch = Child<SnapshotDiskSource>("scratch")
        public let driver = Child<SnapshotDiskDriver>("driver")
    }
}

extension Codec where Value == String {
    /// A name libvirt also uses as a file name: not empty, no `/`, not starting with `.`
    /// (libvirt's `virDomainCheckpointDefParse` / schema `name` pattern).
    public static var fileName: Codec<String> {
        Codec(decode: { text throws(ValueProblem) in
            guard !text.isEmpty, !text.contains("/"), !text.hasPrefix(".") else {
                throw ValueProblem(.invalidValue("is not usable as a file name"))
            }
            return text
        }, encode: { $0 })
    }
}
