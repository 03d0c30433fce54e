import VirtCore

/// A virtual network (`virNetworkDefineXML`, `virsh net-dumpxml`): forwarding mode, bridge,
/// addresses with DHCP and DNS, routes, QoS, port groups and VLANs.
public struct NetworkDefinition: DocumentView {
    public static let schema = Schema<Self>()
    public static let elementName = "network"
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node.owningDocument() }
    public struct Keys: KeyTable {
        public init() {}
        public let connections = Attr<Int>("connections")
        public let ipv6 = Attr<Bool>("ipv6")
        public let trustGuestRxFilters = Attr<Bool>("trustGuestRxFilters")
        public let name = ChildText<String>("name", required: true)
        public let uuid = ChildText<LibvirtUUID>("uuid")
        public let metadata = RawChild("metadata")
        public let forward = Child<NetworkForward>("forward")
        public let bridge = Child<NetworkBridge>("bridge")
        public let mtu = ChildAttr<Int>("mtu", "size", codec: Int.xmlCodec)
        public let mac = ChildAttr<String>("mac", "address", codec: String.xmlCodec)
        public let domain = Child<NetworkDomainName>("domain")
        public let dns = Child<NetworkDNS>("dns")
        public let virtualport = Child<NetworkVirtualPort>("virtualport")
        public let vlan = Child<NetworkVLAN>("vlan")
        public let port = ChildAttr<Bool>("port", "isolated", codec: .yesNo)
        public let bandwidth = Child<NetworkBandwidth>("bandwidth")
        public let ips = Children<NetworkIP>("ip")
        public let routes = Children<NetworkRoute>("route")
        public let portgroups = Children<NetworkPortGroup>("portgroup")
        /// dnsmasq passthrough options (`xmlns:dnsmasq`).
        public let dnsmasqOptions = Child<NetworkDnsmasqOptions>("dnsmasq:options")
    }

    /// A NAT network: guests on `bridge` get addresses from `subnet` (`192.168.100.1/24`
    /// given as `address` + `prefix`) by DHCP between `dhcpStart` and `dhcpEnd`, and reach
    /// the outside through the host's routing table.
    public init(nat name: String, bridge: String, address: String, prefix: Int, dhcpStart: String, dhcpEnd: String) {
        self.init(name: name, bridge: bridge, address: address, prefix: prefix, dhcpStart: dhcpStart, dhcpEnd: dhcpEnd)
        self.forward.mode.set(.nat)
    }

    /// An isolated network: guests on `bridge` reach each other and the host only.
    public init(isolated name: String, bridge: String, address: String, prefix: Int, dhcpStart: String, dhcpEnd: String) {
        self.init(name: name, bridge: bridge, address: address, prefix: prefix, dhcpStart: dhcpStart, dhcpEnd: dhcpEnd)
    }

    /// A network on an existing host bridge (`forward mode='bridge'`): libvirt manages no
    /// addresses; guests join the bridge's LAN.
    public init(hostBridge name: String, bridge: String) {
        self.init()
        self.name.set(name)
        self.forward.mode.set(.bridge)
        self.bridge.name.set(bridge)
    }

    private init(name: String, bridge: String, address: String, prefix: Int, dhcpStart: String, dhcpEnd: String) {
        self.init()
        self.name.set(name)
        self.bridge.name.set(bridge)
        self.bridge.stp.set(true)
        self.bridge.delay.set(0)
        let ip = self.ips.append()
        ip.address.set(address)
        ip.prefix.set(prefix)
        let range = ip.dhcp.ranges.append()
        range.start.set(dhcpStart)
        range.end.set(dhcpEnd)
    }
}

/// `<forward mode>`.
public enum NetworkForwardMode: XMLEnum {
    case nat, route, open, bridge, `private`, vepa, passthrough, hostdev
    case other(String)
    public static let known: [(Self, String)] = [
        (.nat, "nat"), (.route, "route"), (.open, "open"), (.bridge, "bridge"), (.private, "private"),
        (.vepa, "vepa"), (.passthrough, "passthrough"), (.hostdev, "hostdev"),
    ]
}

/// `<forward mode='nat' dev='eth0'>`: how traffic leaves the network.
public struct NetworkForward: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        /// Absent: an isolated network.
        public let mode = Attr<NetworkForwardMode>("mode")
        public let dev = Attr<String>("dev")
        public let managed = Attr<Bool>("managed")
        public let driverName = ChildAttr<String>("driver", "name", codec: String.xmlCodec)
        public let nat = Child<NetworkNAT>("nat")
        public let pfs = Children<NetworkDeviceName>("pf")
        public let interfaces = Children<NetworkDeviceName>("interface")
        public let addresses = Children<NetworkPCIAddress>("address")
    }
}

/// `<nat ipv6='yes'><address start end/><port start end/></nat>`.
public struct NetworkNAT: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let ipv6 = Attr<Bool>("ipv6")
        public let address = Child<NetworkRange>("address")
        public let port = Child<NetworkPortRange>("port")
    }
}

/// `<address start='10.0.0.2' end='10.0.0.9'/>` / DHCP `<range start end>`.
public struct NetworkRange: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let start = Attr<String>("start", required: true)
        public let end = Attr<String>("end", required: true)
        public let lease = Child<NetworkLease>("lease")
    }
}

/// `<port start='500' end='1000'/>`.
public struct NetworkPortRange: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let start = Attr<Int>("start", codec: .decimal(in: 0...65535), required: true)
        public let end = Attr<Int>("end", codec: .decimal(in: 0...65535), required: true)
    }
}

/// `<lease expiry='1' unit='hours'/>`: how long a DHCP lease lasts; `expiry='0'` never expires.
public struct NetworkLease: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let expiry = LeaseExpiry()
    }
}

/// A device named by `dev` (`<pf dev='eth0'/>`, `<interface dev='eth1'/>`).
public struct NetworkDeviceName: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let dev = Attr<String>("dev", required: true)
        public let connections = Attr<Int>("connections")
    }
}

/// `<address type='pci' domain='0x0000' bus='0x04' slot='0x10' function='0x1'/>`.
public struct NetworkPCIAddress: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
        public let domain = Attr<Int>("domain", codec: .address(hexDigits: 4))
        public let bus = Attr<Int>("bus", codec: .address(hexDigits: 2))
        public let slot = Attr<Int>("slot", codec: .address(hexDigits: 2))
        public let function = Attr<Int>("function", codec: .address(hexDigits: 1))
    }
}

/// `<bridge name='virbr0' stp='on' delay='0' macTableManager='libvirt' zone='trusted'/>`.
public struct NetworkBridge: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name")
        public let stp = Attr<Bool>("stp", codec: .onOff)
        /// Forward delay in seconds.
        public let delay = Attr<Int>("delay")
        public let macTableManager = Attr<String>("macTableManager")
        public let zone = Attr<String>("zone")
    }
}

/// `<domain name='example.com' localOnly='yes'/>`.
public struct NetworkDomainName: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name", required: true)
        public let localOnly = Attr<Bool>("localOnly")
    }
}

/// `<dns>`: forwarders, TXT/SRV records and static host names.
public struct NetworkDNS: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let enable = Attr<Bool>("enable")
        public let forwardPlainNames = Attr<Bool>("forwardPlainNames")
        public let forwarders = Children<NetworkDNSForwarder>("forwarder")
        public let txts = Children<NetworkDNSTXT>("txt")
        public let srvs = Children<NetworkDNSSRV>("srv")
        public let hosts = Children<NetworkDNSHost>("host")
    }
}

/// `<forwarder addr='8.8.8.8' domain='example.com'/>`.
public struct NetworkDNSForwarder: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let addr = Attr<String>("addr")
        public let domain = Attr<String>("domain")
    }
}

/// `<txt name='example' value='example value'/>`.
public struct NetworkDNSTXT: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name", required: true)
        public let value = Attr<String>("value", required: true)
    }
}

/// `<srv service='name' protocol='tcp' domain target port priority weight/>`.
public struct NetworkDNSSRV: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let service = Attr<String>("service")
        public let `protocol` = Attr<String>("protocol", required: true)
        public let domain = Attr<String>("domain")
        public let target = Attr<String>("target")
        public let port = Attr<Int>("port", codec: .decimal(in: 0...65535))
        public let priority = Attr<Int>("priority", codec: .decimal(in: 0...65535))
        public let weight = Attr<Int>("weight", codec: .decimal(in: 0...65535))
    }
}

/// `<host ip='192.168.122.2'><hostname>myhost</hostname></host>`.
public struct NetworkDNSHost: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let ip = Attr<String>("ip", required: true)
        public let hostnames = Children<CapabilitiesTextValue>("hostname")
    }
}

/// `<ip address='192.168.122.1' netmask='255.255.255.0'>` or `family='ipv6' prefix='64'`.
public struct NetworkIP: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let address = Attr<String>("address")
        public let netmask = Attr<String>("netmask")
        public let prefix = Attr<Int>("prefix", codec: .decimal(in: 0...128))
        public let family = Attr<String>("family")
        public let localPtr = Attr<Bool>("localPtr")
        public let tftpRoot = ChildAttr<String>("tftp", "root", codec: String.xmlCodec)
        public let dhcp = Child<NetworkDHCP>("dhcp")
    }
}

/// `<dhcp>`: address ranges, static hosts and PXE boot.
public struct NetworkDHCP: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let ranges = Children<NetworkRange>("range")
        public let hosts = Children<NetworkDHCPHost>("host")
        public let bootp = Child<NetworkBootp>("bootp")
    }
}

/// `<host mac='00:16:3e:77:e2:ed' name='a.example.com' ip='192.168.122.10'><lease …/></host>`.
public struct NetworkDHCPHost: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let mac = Attr<String>("mac")
        public let id = Attr<String>("id")
        public let name = Attr<String>("name")
        public let ip = Attr<String>("ip")
        public let lease = Child<NetworkLease>("lease")
    }
}

/// `<bootp file='pxelinux.0' server='192.168.122.1'/>`.
public struct NetworkBootp: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let file = Attr<String>("file", required: true)
        public let server = Attr<String>("server")
    }
}

/// `<route address='192.168.222.0' prefix='24' gateway='192.168.122.2' metric='1'/>`.
public struct NetworkRoute: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let family = Attr<String>("family")
        public let address = Attr<String>("address", required: true)
        public let netmask = Attr<String>("netmask")
        public let prefix = Attr<Int>("prefix", codec: .decimal(in: 0...128))
        public let gateway = Attr<String>("gateway", required: true)
        public let metric = Attr<Int>("metric")
    }
}

/// `<bandwidth><inbound average peak burst floor/><outbound …/></bandwidth>` (KiB/s, KiB).
public struct NetworkBandwidth: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let classID = Attr<Int>("classID")
        public let inbound = Child<NetworkRate>("inbound")
        public let outbound = Child<NetworkRate>("outbound")
    }
}

/// `<inbound average='1000' peak='5000' burst='1024' floor='200'/>`.
public struct NetworkRate: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        /// KiB/s.
        public let average = Attr<UInt64>("average")
        public let peak = Attr<UInt64>("peak")
        public let floor = Attr<UInt64>("floor")
        /// KiB.
        public let burst = Attr<UInt64>("burst")
    }
}

/// `<virtualport type='802.1Qbh'><parameters profileid='…'/></virtualport>`.
public struct NetworkVirtualPort: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
        public let parameters = Child<NetworkVirtualPortParameters>("parameters")
    }
}

/// `<parameters managerid typeid typeidversion instanceid profileid interfaceid/>`.
public struct NetworkVirtualPortParameters: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let managerID = Attr<Int>("managerid")
        public let typeID = Attr<Int>("typeid")
        public let typeIDVersion = Attr<Int>("typeidversion")
        public let instanceID = Attr<LibvirtUUID>("instanceid")
        public let profileID = Attr<String>("profileid")
        public let interfaceID = Attr<LibvirtUUID>("interfaceid")
    }
}

/// `<vlan trunk='yes'><tag id='42' nativeMode='untagged'/></vlan>`.
public struct NetworkVLAN: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let trunk = Attr<Bool>("trunk")
        public let tags = Children<NetworkVLANTag>("tag")
    }
}

/// `<tag id='42' nativeMode='tagged'/>`.
public struct NetworkVLANTag: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let id = Attr<Int>("id", codec: .decimal(in: 0...4095), required: true)
        public let nativeMode = Attr<String>("nativeMode")
    }
}

/// `<portgroup name='engineering' default='yes'>` with its own VLAN, virtual port and QoS.
public struct NetworkPortGroup: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name", required: true)
        public let `default` = Attr<Bool>("default")
        public let trustGuestRxFilters = Attr<Bool>("trustGuestRxFilters")
        public let vlan = Child<NetworkVLAN>("vlan")
        public let virtualport = Child<NetworkVirtualPort>("virtualport")
        public let bandwidth = Child<NetworkBandwidth>("bandwidth")
    }
}

/// `<dnsmasq:options><dnsmasq:option value='…'/>…`.
public struct NetworkDnsmasqOptions: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let options = Children<NetworkDnsmasqOption>("dnsmasq:option")
    }
}

/// `<dnsmasq:option value='cname=*.foo.example.com,master.example.com'/>`.
public struct NetworkDnsmasqOption: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let value = Attr<String>("value", required: true)
    }
}
