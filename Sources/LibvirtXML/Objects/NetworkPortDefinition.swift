import VirtCore

/// A port of a virtual network (`virNetworkPortCreateXML`): the guest NIC plugged into it,
/// its MAC, how it is plugged (bridge, direct, hostdev) and its QoS.
public struct NetworkPortDefinition: DocumentView {
    public static let schema = Schema<Self>()
    public static let elementName = "networkport"
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node.owningDocument() }
    public struct Keys: KeyTable {
        public init() {}
        public let uuid = ChildText<LibvirtUUID>("uuid")
        public let owner = Child<NetworkPortOwner>("owner")
        public let group = ChildText<String>("group")
        public let mac = ChildAttr<String>("mac", "address", codec: String.xmlCodec)
        public let bandwidth = Child<NetworkBandwidth>("bandwidth")
        public let vlan = Child<NetworkVLAN>("vlan")
        public let port = ChildAttr<Bool>("port", "isolated", codec: .yesNo)
        public let virtualport = Child<NetworkVirtualPort>("virtualport")
        public let rxfiltersTrustGuest = ChildAttr<Bool>("rxfilters", "trustGuest", codec: .yesNo)
        public let plug = Child<NetworkPortPlug>("plug")
    }
}

/// `<owner><name>vm</name><uuid>…</uuid></owner>`: the domain using the port.
public struct NetworkPortOwner: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = ChildText<String>("name", required: true)
        public let uuid = ChildText<LibvirtUUID>("uuid", required: true)
    }
}

/// `<plug type='network|bridge|direct|hostdev-pci' …>`.
public struct NetworkPortPlug: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type", required: true)
        public let bridge = Attr<String>("bridge")
        public let macTableManager = Attr<String>("macTableManager")
        public let dev = Attr<String>("dev")
        public let mode = Attr<String>("mode")
        public let managed = Attr<Bool>("managed")
        public let driverName = ChildAttr<String>("driver", "name", codec: String.xmlCodec)
        public let address = Child<NetworkPCIAddress>("address")
    }
}
