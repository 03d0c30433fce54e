import VirtCore

/// A host network interface as the interface driver configures it (`virInterfaceDefineXML`,
/// netcf): the common parts are typed (type, name, start mode, MAC, MTU, link, IP protocols);
/// bridge, bond and VLAN details are kept as raw XML.
public struct HostInterfaceDefinition: DocumentView {
    public static let schema = Schema<Self>()
    public static let elementName = "interface"
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node.owningDocument() }
    public struct Keys: KeyTable {
        public init() {}
        /// `ethernet`, `bridge`, `bond` or `vlan`.
        public let type = Attr<String>("type", required: true)
        public let name = Attr<String>("name")
        public let startMode = ChildAttr<String>("start", "mode", codec: String.xmlCodec)
        public let mac = ChildAttr<String>("mac", "address", codec: String.xmlCodec)
        public let mtu = ChildAttr<Int>("mtu", "size", codec: Int.xmlCodec)
        public let link = Child<NodeDeviceLink>("link")
        public let protocols = Children<HostInterfaceProtocol>("protocol")
        public let bridge = RawChild("bridge")
        public let bond = RawChild("bond")
        public let vlan = RawChild("vlan")
    }
}

/// `<protocol family='ipv4'><dhcp/><ip address='…' prefix='24'/><route gateway='…'/></protocol>`.
public struct HostInterfaceProtocol: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let family = Attr<String>("family", required: true)
        public let dhcp = Flag("dhcp")
        public let autoconf = Flag("autoconf")
        public let ips = Children<HostInterfaceIP>("ip")
        public let routeGateway = ChildAttr<String>("route", "gateway", codec: String.xmlCodec)
    }
}

/// `<ip address='192.168.0.5' prefix='24'/>`.
public struct HostInterfaceIP: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let address = Attr<String>("address", required: true)
        public let prefix = Attr<Int>("prefix", codec: .decimal(in: 0...128))
    }
}

/// A network filter (`virNWFilterDefineXML`): its chain, priority, the filters it includes
/// and its rules. Each rule's action, direction and priority are typed; the protocol match
/// elements inside a rule (`<tcp>`, `<ip>`, `<mac>`, …) are kept as written.
public struct NetworkFilterDefinition: DocumentView {
    public static let schema = Schema<Self>()
    public static let elementName = "filter"
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node.owningDocument() }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name", required: true)
        public let chain = Attr<String>("chain")
        public let priority = Attr<Int>("priority", codec: .decimal(in: -1000...1000))
        public let uuid = ChildText<LibvirtUUID>("uuid")
        public let filterrefs = Children<NetworkFilterRef>("filterref")
        public let rules = Children<NetworkFilterRule>("rule")
    }
}

/// `<filterref filter='clean-traffic'><parameter name='IP' value='10.0.0.1'/></filterref>`.
public struct NetworkFilterRef: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let filter = Attr<String>("filter", required: true)
        public let parameters = Children<NetworkFilterParameter>("parameter")
    }
}

/// `<parameter name='IP' value='10.0.0.1'/>`.
public struct NetworkFilterParameter: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name", required: true)
        public let value = Attr<String>("value", required: true)
    }
}

/// `<rule action='accept|drop|reject|return|continue' direction='in|out|inout' priority='500'>`.
public struct NetworkFilterRule: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let action = Attr<String>("action", required: true)
        public let direction = Attr<String>("direction", required: true)
        public let priority = Attr<Int>("priority", codec: .decimal(in: -1000...1000))
        public let statematch = Attr<Bool>("statematch")
    }
}

/// A filter bound to a guest NIC (`virNWFilterBindingCreateXML`): owner, port device, MAC and
/// the filter with its parameters.
public struct NetworkFilterBindingDefinition: DocumentView {
    public static let schema = Schema<Self>()
    public static let elementName = "filterbinding"
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node.owningDocument() }
    public struct Keys: KeyTable {
        public init() {}
        public let owner = Child<NetworkPortOwner>("owner")
        public let portdev = ChildAttr<String>("portdev", "name", codec: String.xmlCodec)
        public let mac = ChildAttr<String>("mac", "address", codec: String.xmlCodec)
        public let filterref = Child<NetworkFilterRef>("filterref")
    }
}
