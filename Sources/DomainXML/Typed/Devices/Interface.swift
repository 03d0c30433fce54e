import VirtCore

/// `<interface type>`: a guest NIC and how it connects to the host.
public struct InterfaceDevice: DeviceView {
    public static let elementName = "interface"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<InterfaceType>("type")
        public let managed = Attr<Bool>("managed")
        public let trustGuestRxFilters = Attr<Bool>("trustGuestRxFilters")
        public let mac = Child<MACAddress>("mac")
        public let source = Child<InterfaceSource>("source")
        public let virtualport = Child<VirtualPort>("virtualport")
        public let ips = Children<InterfaceIP>("ip")
        public let routes = Children<InterfaceRoute>("route")
        public let script = Child<PathRef>("script")
        public let downscript = Child<PathRef>("downscript")
        public let backendDomain = Child<NameRef>("backenddomain")
        public let target = Child<InterfaceTarget>("target")
        public let guest = Child<InterfaceGuest>("guest")
        public let model = Child<NICModelConfig>("model")
        public let driver = Child<InterfaceDriver>("driver")
        public let backend = Child<InterfaceBackend>("backend")
        public let filterref = Child<FilterRef>("filterref")
        public let tune = Child<InterfaceTune>("tune")
        public let teaming = Child<Teaming>("teaming")
        public let link = Child<InterfaceLink>("link")
        public let mtu = Child<InterfaceMTU>("mtu")
        public let bandwidth = Child<Bandwidth>("bandwidth")
        public let vlan = Child<VLAN>("vlan")
        public let port = Child<InterfacePort>("port")
        public let coalesce = Child<Coalesce>("coalesce")
        public let portForwards = Children<PortForward>("portForward")
        public let boot = Child<BootOrder>("boot")
        public let rom = Child<ROMConfig>("rom")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
        public let acpi = Child<DeviceACPI>("acpi")
    }

    /// A new NIC: `<interface type><source network|bridge|dev=…/><model type/></interface>`.
    public init(type: InterfaceType, source: String? = nil, model: NICModel? = .virtio, mac: String? = nil) {
        self.init()
        self.type.set(type)
        if let mac { self.mac.address.set(mac) }
        if let source {
            switch type {
            case .bridge: self.source.bridge.set(source)
            case .direct, .vdpa: self.source.dev.set(source)
            default: self.source.network.set(source)
            }
        }
        if let model { self.model.type.set(model) }
    }
}

/// `<model type='virtio'/>` of a NIC.
public struct NICModelConfig: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<NICModel>("type")
    }
}

/// `<mac address type check/>`.
public struct MACAddress: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let address = Attr<String>("address")
        public let type = Attr<String>("type")
        public let check = Attr<Bool>("check")
    }
}

/// `<source>` of an interface: network, bridge, direct dev, socket/udp endpoint, vhost-user
/// socket, or the PCI address of an SR-IOV VF.
public struct InterfaceSource: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let network = Attr<String>("network")
        public let portgroup = Attr<String>("portgroup")
        public let portid = Attr<String>("portid")
        public let bridge = Attr<String>("bridge")
        public let dev = Attr<String>("dev")
        public let mode = Attr<String>("mode")
        public let type = Attr<String>("type")
        public let path = Attr<String>("path")
        public let service = Attr<String>("service")
        /// Host address of a `server`/`client`/`mcast`/`udp` endpoint (the attribute).
        public let host = Attr<String>("address")
        public let port = Attr<Int>("port")
        public let switchid = Attr<String>("switchid")
        /// PCI address of the VF (`type='hostdev'`): the child element.
        public let address = Child<DeviceAddress>("address")
        public let local = Child<InterfaceLocal>("local")
        public let reconnect = Child<Reconnect>("reconnect")
        public let ips = Children<InterfaceIP>("ip")
        public let routes = Children<InterfaceRoute>("route")
    }
}

/// `<local address port/>` of a udp interface.
public struct InterfaceLocal: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let address = Attr<String>("address")
        public let port = Attr<Int>("port")
    }
}

/// `<ip address family prefix peer/>`.
public struct InterfaceIP: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let address = Attr<String>("address")
        public let family = Attr<String>("family")
        public let prefix = Attr<Int>("prefix")
        public let peer = Attr<String>("peer")
    }
}

/// `<route family address prefix gateway/>`.
public struct InterfaceRoute: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let family = Attr<String>("family")
        public let address = Attr<String>("address")
        public let prefix = Attr<Int>("prefix")
        public let gateway = Attr<String>("gateway")
    }
}

/// `<virtualport type>` with its `<parameters>`.
public struct VirtualPort: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
        public let parameters = Child<VirtualPortParameters>("parameters")
    }
}

/// `<parameters managerid typeid typeidversion instanceid profileid interfaceid/>`.
public struct VirtualPortParameters: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let managerid = Attr<String>("managerid")
        public let typeid = Attr<String>("typeid")
        public let typeidversion = Attr<String>("typeidversion")
        public let instanceid = Attr<String>("instanceid")
        public let profileid = Attr<String>("profileid")
        public let interfaceid = Attr<String>("interfaceid")
    }
}

/// `<target dev managed/>`: the host-side tap device.
public struct InterfaceTarget: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let dev = Attr<String>("dev")
        public let managed = Attr<Bool>("managed")
    }
}

/// `<guest dev actual/>`.
public struct InterfaceGuest: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let dev = Attr<String>("dev")
        public let actual = Attr<String>("actual")
    }
}

/// `<driver name txmode queues rx_queue_size tx_queue_size …>`: the NIC backend and virtio
/// multiqueue / ring sizes, with `<host>`/`<guest>` offloads.
public struct InterfaceDriver: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name")
        public let txmode = Attr<String>("txmode")
        public let ioeventfd = Attr<Bool>("ioeventfd", codec: .onOff)
        public let eventIdx = Attr<Bool>("event_idx", codec: .onOff)
        /// Multiqueue: the number of queue pairs (≥ 1).
        public let queues = Attr<Int>("queues", codec: .decimal(in: 1...Int(UInt32.max)))
        public let rxQueueSize = Attr<Int>("rx_queue_size", codec: .decimal(in: 1...Int(UInt32.max)))
        public let txQueueSize = Attr<Int>("tx_queue_size", codec: .decimal(in: 1...Int(UInt32.max)))
        public let rss = Attr<Bool>("rss", codec: .onOff)
        public let rssHashReport = Attr<Bool>("rss_hash_report", codec: .onOff)
        public let iommu = Attr<Bool>("iommu", codec: .onOff)
        public let ats = Attr<Bool>("ats", codec: .onOff)
        public let packed = Attr<Bool>("packed", codec: .onOff)
        public let pagePerVQ = Attr<Bool>("page_per_vq", codec: .onOff)
        public let host = Child<NICOffloads>("host")
        public let guest = Child<NICOffloads>("guest")
    }
}

/// `<host csum gso tso4 tso6 ecn ufo mrg_rxbuf/>` / `<guest …/>` offload switches.
public struct NICOffloads: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let csum = Attr<Bool>("csum", codec: .onOff)
        public let gso = Attr<Bool>("gso", codec: .onOff)
        public let tso4 = Attr<Bool>("tso4", codec: .onOff)
        public let tso6 = Attr<Bool>("tso6", codec: .onOff)
        public let ecn = Attr<Bool>("ecn", codec: .onOff)
        public let ufo = Attr<Bool>("ufo", codec: .onOff)
        public let mrgRxbuf = Attr<Bool>("mrg_rxbuf", codec: .onOff)
    }
}

/// `<backend tap vhost type/>`.
public struct InterfaceBackend: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let tap = Attr<String>("tap")
        public let vhost = Attr<String>("vhost")
        public let type = Attr<String>("type")
        public let logFile = Attr<String>("logFile")
    }
}

/// `<filterref filter>` with its parameters.
public struct FilterRef: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let filter = Attr<String>("filter")
        public let parameters = Children<FilterParameter>("parameter")
    }
}

/// `<parameter name value/>`.
public struct FilterParameter: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name")
        public let value = Attr<String>("value")
    }
}

/// `<tune><sndbuf>…</sndbuf></tune>`.
public struct InterfaceTune: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let sndbuf = ChildText<UInt64>("sndbuf")
    }
}

/// `<teaming type persistent/>` (failover pairs).
public struct Teaming: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
        public let persistent = Attr<String>("persistent")
    }
}

/// `<link state='up|down'/>`.
public struct InterfaceLink: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let state = Attr<LinkState>("state")
    }
}

/// `<mtu size='9000'/>`.
public struct InterfaceMTU: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let size = Attr<Int>("size", codec: .decimal(in: 1...Int(UInt32.max)))
    }
}

/// `<bandwidth>` with inbound/outbound QoS.
public struct Bandwidth: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let inbound = Child<BandwidthRate>("inbound")
        public let outbound = Child<BandwidthRate>("outbound")
    }
}

/// `<inbound average peak burst floor/>` (KiB/s, KiB).
public struct BandwidthRate: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let average = Attr<UInt64>("average")
        public let peak = Attr<UInt64>("peak")
        public let burst = Attr<UInt64>("burst")
        public let floor = Attr<UInt64>("floor")
    }
}

/// `<vlan trunk>` with its tags.
public struct VLAN: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let trunk = Attr<Bool>("trunk")
        public let tags = Children<VLANTag>("tag")
    }
}

/// `<tag id nativeMode/>`.
public struct VLANTag: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let id = Attr<Int>("id")
        public let nativeMode = Attr<String>("nativeMode")
    }
}

/// `<port isolated='yes'/>`.
public struct InterfacePort: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let isolated = Attr<Bool>("isolated")
    }
}

/// `<coalesce><rx><frames max/></rx></coalesce>`.
public struct Coalesce: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let rx = Child<CoalesceRx>("rx")
    }
}

/// `<rx><frames max='7'/></rx>`.
public struct CoalesceRx: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let frames = Child<CoalesceFrames>("frames")
    }
}

/// `<frames max='7'/>`.
public struct CoalesceFrames: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let max = Attr<Int>("max")
    }
}

/// `<portForward proto address dev>` with its ranges (passt backend).
public struct PortForward: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let proto = Attr<String>("proto")
        public let address = Attr<String>("address")
        public let dev = Attr<String>("dev")
        public let ranges = Children<PortRange>("range")
    }
}

/// `<range start end to exclude/>`.
public struct PortRange: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let start = Attr<Int>("start")
        public let end = Attr<Int>("end")
        public let to = Attr<Int>("to")
        public let exclude = Attr<Bool>("exclude")
    }
}

/// `<rom bar file enabled/>`.
public struct ROMConfig: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let bar = Attr<Bool>("bar", codec: .onOff)
        public let file = Attr<String>("file")
        public let enabled = Attr<Bool>("enabled")
    }
}
