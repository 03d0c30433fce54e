import DomainXML
import VirtCore

/// A host device as libvirt's node-device driver sees it (`virNodeDeviceGetXMLDesc`,
/// `virsh nodedev-dumpxml`): PCI functions with IOMMU group, NUMA node and SR-IOV, USB,
/// network interfaces, SCSI and storage, mediated devices, s390 subchannels.
///
/// `<capability type=…>` elements share one view: which children apply depends on `type`
/// (`pci`: domain/bus/slot/function, vendor, product, iommuGroup, numaNode; `storage`: block,
/// size; `mdev`: mdev type and uuid; …).
public struct NodeDeviceDefinition: DocumentView {
    public static let schema = Schema<Self>()
    public static let elementName = "device"
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node.owningDocument() }
    public struct Keys: KeyTable {
        public init() {}
        public let name = ChildText<String>("name", required: true)
        public let path = ChildText<String>("path")
        public let devnodes = Children<NodeDeviceDevnode>("devnode")
        public let parent = Child<NodeDeviceParent>("parent")
        public let driver = Child<NodeDeviceDriver>("driver")
        public let capabilities = Children<NodeDeviceCapability>("capability")
    }

    /// The first capability of `type` (`pci`, `net`, `storage`, …).
    public func capability(_ type: String) throws(TypedXMLError) -> NodeDeviceCapability? {
        for c in self.capabilities where try c.type.value == type { return c }
        return nil
    }

    /// A `<hostdev mode='subsystem' type='pci' managed='yes'>` for this PCI device, to attach
    /// to or define in a domain; nil when this is not a PCI device.
    public func pciHostdev(managed: Bool = true) throws(TypedXMLError) -> HostdevDevice? {
        guard let pci = try capability("pci"),
              let domain = try pci.domain.value, let bus = try pci.bus.value,
              let slot = try pci.slot.value, let function = try pci.function.value,
              let d = Int(domain), let b = Int(bus), let s = Int(slot), let f = Int(function) else { return nil }
        let hostdev = HostdevDevice()
        hostdev.mode.set(.subsystem)
        hostdev.type.set(.pci)
        hostdev.managed.set(managed)
        let address = hostdev.source.address
        address.domain.set(d)
        address.bus.set(b)
        address.slot.set(s)
        address.function.set(f)
        return hostdev
    }
}

/// `<driver><name>e1000e</name></driver>`.
public struct NodeDeviceDriver: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = ChildText<String>("name")
    }
}

/// `<devnode type='dev'>/dev/sda</devnode>`.
public struct NodeDeviceDevnode: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
        public let path = Text<String>()
    }
}

/// `<parent wwnn='…' wwpn='…'>scsi_host5</parent>`.
public struct NodeDeviceParent: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let wwnn = Attr<String>("wwnn")
        public let wwpn = Attr<String>("wwpn")
        public let fabricWWN = Attr<String>("fabric_wwn")
        public let name = Text<String>()
    }
}

/// `<capability type='pci|usb_device|net|storage|mdev|…'>`, and the nested capabilities
/// (`phys_function`, `virt_functions`, `mdev_types`, `vpd`, `fc_host`, `80203`, …).
public struct NodeDeviceCapability: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type", required: true)
        public let maxCount = Attr<Int>("maxCount")
        // system
        public let hardware = Child<NodeDeviceSystemInfo>("hardware")
        public let firmware = Child<NodeDeviceSystemInfo>("firmware")
        // pci, usb
        public let pciClass = ChildText<String>("class")
        public let domain = ChildText<String>("domain")
        public let bus = ChildText<String>("bus")
        public let slot = ChildText<String>("slot")
        public let function = ChildText<String>("function")
        public let device = ChildText<String>("device")
        public let number = ChildText<String>("number")
        public let subclass = ChildText<String>("subclass")
        public let `protocol` = ChildText<String>("protocol")
        public let description = ChildText<String>("description")
        public let product = Child<NodeDeviceIDName>("product")
        public let vendor = Child<NodeDeviceIDName>("vendor")
        public let capabilities = Children<NodeDeviceCapability>("capability")
        public let addresses = Children<NodeDeviceAddress>("address")
        public let iommuGroup = Child<NodeDeviceIOMMUGroup>("iommuGroup")
        public let numaNode = ChildAttr<Int>("numa", "node", codec: Int.xmlCodec)
        public let pciExpress = Child<NodeDevicePCIExpress>("pci-express")
        // vpd, mdev_types
        public let name = ChildText<String>("name")
        public let vpdFields = Children<NodeDeviceVPDFields>("fields")
        public let types = Children<NodeDeviceType>("type")
        // net
        public let interface = ChildText<String>("interface")
        public let link = Child<NodeDeviceLink>("link")
        public let features = Children<CapabilitiesNamedFeature>("feature")
        // scsi_host, scsi_target, scsi, fc
        public let host = ChildText<String>("host")
        public let uniqueID = ChildText<String>("unique_id")
        public let target = ChildText<String>("target")
        public let lun = ChildText<String>("lun")
        public let rport = ChildText<String>("rport")
        public let wwnn = ChildText<String>("wwnn")
        public let wwpn = ChildText<String>("wwpn")
        public let fabricWWN = ChildText<String>("fabric_wwn")
        public let maxVports = ChildText<Int>("max_vports")
        public let vports = ChildText<Int>("vports")
        // storage
        public let block = ChildText<String>("block")
        public let driveType = ChildText<String>("drive_type")
        public let model = ChildText<String>("model")
        public let serial = ChildText<String>("serial")
        public let size = ChildText<UInt64>("size")
        public let logicalBlockSize = ChildText<UInt64>("logical_block_size")
        public let numBlocks = ChildText<UInt64>("num_blocks")
        public let mediaAvailable = ChildText<Int>("media_available")
        public let mediaSize = ChildText<UInt64>("media_size")
        public let mediaLabel = ChildText<String>("media_label")
        // mdev
        public let uuid = ChildText<LibvirtUUID>("uuid")
        public let attributes = Children<NodeDeviceMdevAttribute>("attr")
        // ccw, css (s390 channel subsystem ids: cssid 0…0xfe, ssid 0…3, devno 0…0xffff)
        public let cssid = ChildText<Int>("cssid", codec: .channelID(max: 0xfe))
        public let ssid = ChildText<Int>("ssid", codec: .channelID(max: 3))
        public let devno = ChildText<Int>("devno", codec: .channelID(max: 0xffff))
        public let channelDeviceAddress = Child<NodeDeviceChannelAddress>("channel_dev_addr")
        // ap
        public let apAdapter = ChildText<String>("ap-adapter")
        public let apDomain = ChildText<String>("ap-domain")
    }
}

/// `<vendor id='0x8086'>Intel Corporation</vendor>` / `<product id='0x10ca'>…</product>`.
public struct NodeDeviceIDName: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let id = Attr<Int>("id", codec: .address(hexDigits: 4))
        public let name = Text<String>()
    }
}

/// `<hardware>` / `<firmware>` of the `system` device.
public struct NodeDeviceSystemInfo: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let vendor = ChildText<String>("vendor")
        public let version = ChildText<String>("version")
        public let serial = ChildText<String>("serial")
        public let uuid = ChildText<LibvirtUUID>("uuid")
        public let releaseDate = ChildText<String>("release_date")
    }
}

/// A PCI address (`<address domain='0x0000' bus='0x02' slot='0x00' function='0x1'/>`) or, in a
/// `net` capability, a MAC address as text.
public struct NodeDeviceAddress: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let domain = Attr<Int>("domain", codec: .address(hexDigits: 4))
        public let bus = Attr<Int>("bus", codec: .address(hexDigits: 2))
        public let slot = Attr<Int>("slot", codec: .address(hexDigits: 2))
        public let function = Attr<Int>("function", codec: .address(hexDigits: 1))
        public let mac = Text<String>()
    }
}

/// `<iommuGroup number='31'><address …/>…</iommuGroup>`: devices that must be assigned together.
public struct NodeDeviceIOMMUGroup: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let number = Attr<Int>("number", required: true)
        public let addresses = Children<NodeDeviceAddress>("address")
    }
}

/// `<pci-express><link validity='cap' port='0' speed='2.5' width='4'/>…`.
public struct NodeDevicePCIExpress: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let links = Children<NodeDeviceLink>("link")
    }
}

/// A PCIe link (`validity`, `port`, `speed` in GT/s, `width`) or a net link (`state`, `speed` in Mb/s).
public struct NodeDeviceLink: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let validity = Attr<String>("validity")
        public let port = Attr<Int>("port")
        public let speed = Attr<String>("speed")
        public let width = Attr<Int>("width")
        public let state = Attr<String>("state")
    }
}

/// `<fields access='readonly|readwrite'>` of PCI Vital Product Data.
public struct NodeDeviceVPDFields: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let access = Attr<String>("access", required: true)
        public let changeLevel = ChildText<String>("change_level")
        public let manufactureID = ChildText<String>("manufacture_id")
        public let partNumber = ChildText<String>("part_number")
        public let serialNumber = ChildText<String>("serial_number")
        public let assetTag = ChildText<String>("asset_tag")
        public let vendorFields = Children<NodeDeviceVPDField>("vendor_field")
        public let systemFields = Children<NodeDeviceVPDField>("system_field")
    }
}

/// `<vendor_field index='0'>PCIeGen4 x8</vendor_field>`.
public struct NodeDeviceVPDField: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let index = Attr<String>("index", required: true)
        public let value = Text<String>()
    }
}

/// An mdev type (`<type id='i915-GVTg_V5_8'><name/><deviceAPI/><availableInstances/></type>`) or,
/// in a `scsi`/`drm` capability, the type as text.
public struct NodeDeviceType: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let id = Attr<String>("id")
        public let name = ChildText<String>("name")
        public let deviceAPI = ChildText<String>("deviceAPI")
        public let availableInstances = ChildText<Int>("availableInstances")
        public let value = Text<String>()
    }
}

/// `<attr name='assign_adapter' value='5'/>` of an mdev.
public struct NodeDeviceMdevAttribute: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name", required: true)
        public let value = Attr<String>("value", required: true)
    }
}

/// `<channel_dev_addr><cssid/><ssid/><devno/></channel_dev_addr>` of a css device.
public struct NodeDeviceChannelAddress: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let cssid = ChildText<Int>("cssid", codec: .channelID(max: 0xfe))
        public let ssid = ChildText<Int>("ssid", codec: .channelID(max: 3))
        public let devno = ChildText<Int>("devno", codec: .channelID(max: 0xffff))
    }
}

extension Codec where Value == Int {
    /// An s390 channel-subsystem number (`0x0`, `0xfffe`) up to `max`, as libvirt's
    /// `virCCWDeviceAddressIsValid` accepts; written in hex.
    public static func channelID(max: Int) -> Codec<Int> {
        let base = Codec<Int>.address(hexDigits: nil)
        return Codec(decode: { text throws(ValueProblem) in
            let n = try base.decode(text)
            guard n <= max else { throw ValueProblem(.invalidValue("is above 0x\(String(max, radix: 16))")) }
            return n
        }, encode: { "0x" + String($0, radix: 16) })
    }
}
