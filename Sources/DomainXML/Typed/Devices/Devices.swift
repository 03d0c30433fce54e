import VirtCore

/// A device element that is also a document of its own (for `virDomainAttachDevice` /
/// `virDomainDetachDevice` / `virDomainUpdateDeviceFlags`): parse one with `init(parsing:)`,
/// build one with `init()`, print one with `xmlString`, and move it into a domain with
/// `domain.devices.<list>.append(device)`.
public protocol DeviceView: StandaloneView {}

/// `<devices>`: every device of the guest, by kind. Declaration order is libvirt's format order.
public struct Devices: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        /// Path of the device model binary (`/usr/bin/qemu-system-x86_64`).
        public let emulator = ChildText<String>("emulator")
        public let disks = Children<DiskDevice>("disk")
        public let controllers = Children<ControllerDevice>("controller")
        public let leases = Children<LeaseDevice>("lease")
        public let filesystems = Children<FilesystemDevice>("filesystem")
        public let interfaces = Children<InterfaceDevice>("interface")
        public let smartcards = Children<SmartcardDevice>("smartcard")
        public let serials = Children<SerialDevice>("serial")
        public let parallels = Children<ParallelDevice>("parallel")
        public let consoles = Children<ConsoleDevice>("console")
        public let channels = Children<ChannelDevice>("channel")
        public let inputs = Children<InputDevice>("input")
        public let tpms = Children<TPMDevice>("tpm")
        public let graphics = Children<GraphicsDevice>("graphics")
        public let sounds = Children<SoundDevice>("sound")
        public let audios = Children<AudioBackend>("audio")
        public let videos = Children<VideoDevice>("video")
        public let hostdevs = Children<HostdevDevice>("hostdev")
        public let redirdevs = Children<RedirDevice>("redirdev")
        public let redirfilters = Children<RedirFilter>("redirfilter")
        public let hubs = Children<HubDevice>("hub")
        public let watchdogs = Children<WatchdogDevice>("watchdog")
        public let memballoon = Child<MemballoonDevice>("memballoon")
        public let rngs = Children<RNGDevice>("rng")
        public let panics = Children<PanicDevice>("panic")
        public let shmems = Children<ShmemDevice>("shmem")
        public let memories = Children<MemoryDevice>("memory")
        public let iommu = Child<IOMMUDevice>("iommu")
        public let vsock = Child<VsockDevice>("vsock")
        public let nvram = Child<NVRAMDevice>("nvram")
    }
}

/// A device address (`<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>`
/// and the drive, ccw, usb, virtio-serial, spapr-vio, dimm, … forms). PCI `domain`/`slot`/
/// `function` and ccw numbers are written in hex like libvirt; numbers are read in C's base-0
/// syntax (`0x1f`, `31`).
public struct DeviceAddress: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<AddressType>("type")
        public let domain = Attr<Int>("domain", codec: .address(hexDigits: 4))
        public let bus = Attr<Int>("bus", codec: .address(hexDigits: nil))
        public let slot = Attr<Int>("slot", codec: .address(hexDigits: 2))
        public let function = Attr<Int>("function", codec: .address(hexDigits: 1))
        public let multifunction = Attr<Bool>("multifunction", codec: .onOff)
        public let controller = Attr<Int>("controller", codec: .address(hexDigits: nil))
        public let target = Attr<Int>("target", codec: .address(hexDigits: nil))
        public let unit = Attr<Int>("unit", codec: .address(hexDigits: nil))
        /// USB port path (`1.2.3`) or virtio-serial port number.
        public let port = Attr<String>("port")
        public let device = Attr<Int>("device", codec: .address(hexDigits: nil))
        public let cssid = Attr<Int>("cssid", codec: .address(hexDigits: 2))
        public let ssid = Attr<Int>("ssid", codec: .address(hexDigits: 1))
        public let devno = Attr<Int>("devno", codec: .address(hexDigits: 4))
        public let reg = Attr<String>("reg")
        public let iobase = Attr<String>("iobase")
        public let irq = Attr<String>("irq")
        public let base = Attr<String>("base")
        public let slotNumber = Attr<String>("slotNumber")
        /// mdev UUID (hostdev `type='mdev'` source).
        public let uuid = Attr<String>("uuid")
        public let zpci = Child<ZPCIAddress>("zpci")
    }

    /// Sets a PCI address as libvirt formats it (`0x%04x:0x%02x:0x%02x.0x%x`). `withType: false`
    /// for a hostdev's source address, which libvirt's schema wants without `type`.
    public func setPCI(domain: Int = 0, bus: Int, slot: Int, function: Int = 0, withType: Bool = true) {
        if withType { self.type.set(.pci) }
        self.domain.set(domain)
        // `bus` is decimal for drive addresses, so the key writes decimal; PCI buses are hex.
        let hex = String(bus, radix: 16)
        node.materialize().setAttribute("bus", "0x" + (hex.count < 2 ? "0" + hex : hex))
        self.slot.set(slot)
        self.function.set(function)
    }
}

/// `<zpci uid fid/>` (s390 PCI).
public struct ZPCIAddress: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let uid = Attr<Int>("uid", codec: .address(hexDigits: 4))
        public let fid = Attr<Int>("fid", codec: .address(hexDigits: 8))
    }
}

/// `<alias name='ua-…'/>`: a user alias for the device.
public struct DeviceAlias: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name")
    }
}

/// `<boot order='1' loadparm='…'/>` of a bootable device.
public struct BootOrder: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let order = Attr<Int>("order", codec: .decimal(in: 1...Int(Int32.max)))
        public let loadparm = Attr<String>("loadparm")
    }
}

/// `<driver iommu ats packed page_per_vq/>`: the virtio transport options most devices share.
public struct VirtioDriverOptions: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name")
        public let iommu = Attr<Bool>("iommu", codec: .onOff)
        public let ats = Attr<Bool>("ats", codec: .onOff)
        public let packed = Attr<Bool>("packed", codec: .onOff)
        public let pagePerVQ = Attr<Bool>("page_per_vq", codec: .onOff)
    }
}

/// `<secret type usage uuid/>`: a reference to a libvirt secret.
public struct SecretRef: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
        public let usage = Attr<String>("usage")
        public let uuid = Attr<LibvirtUUID>("uuid")
    }
}

/// `<auth username>` with its secret.
public struct AuthConfig: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let username = Attr<String>("username")
        public let secret = Child<SecretRef>("secret")
    }
}

/// `<encryption format='luks'>` with its secret.
public struct EncryptionConfig: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let format = Attr<String>("format")
        public let engine = Attr<String>("engine")
        public let secret = Child<SecretRef>("secret")
        public let cipher = Child<EncryptionCipher>("cipher")
    }
}

/// `<cipher name size mode hash/>` of a LUKS encryption.
public struct EncryptionCipher: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name")
        public let size = Attr<Int>("size")
        public let mode = Attr<String>("mode")
        public let hash = Attr<String>("hash")
    }
}

/// `<seclabel model relabel><label>…</label></seclabel>` of a device source.
public struct SourceSecLabel: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let model = Attr<String>("model")
        public let relabel = Attr<Bool>("relabel")
        public let labelskip = Attr<Bool>("labelskip")
        public let label = ChildText<String>("label")
    }
}

/// `<reconnect enabled='yes' timeout='10'/>` of a client socket.
public struct Reconnect: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let enabled = Attr<Bool>("enabled")
        /// Written in seconds.
        public let timeout = Attr<Duration>("timeout", codec: .integer(.seconds))
    }
}

/// An element with a single `path` attribute (`<script path=…/>`, `<device path=…/>`).
public struct PathRef: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let path = Attr<String>("path")
    }
}

/// An element with a single `type` attribute (`<model type=…/>`, `<format type=…/>`).
public struct TypeRef: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
    }
}

/// An element with a single `name` attribute (`<model name=…/>`).
public struct NameRef: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name")
    }
}

/// `<acpi index='1'/>` / ACPI settings of a device.
public struct DeviceACPI: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let index = Attr<Int>("index")
        public let nodeset = Attr<NodeSet>("nodeset")
    }
}
