import VirtCore

// Serial ports, consoles, channels and parallel ports share libvirt's character-device source
// (`virDomainChrSourceDef`): `CharSource`, `CharProtocol`, `CharLog`. Each element keeps its
// own view because its `<target>` differs.

/// `<source mode path host service channel master append>` of a character device.
public struct CharSource: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let mode = Attr<SourceMode>("mode")
        /// Socket type where the source names it (`<reservations><source type='unix'>`).
        public let type = Attr<String>("type")
        public let path = Attr<String>("path")
        public let host = Attr<String>("host")
        public let service = Attr<String>("service")
        public let tls = Attr<Bool>("tls")
        public let channel = Attr<String>("channel")
        public let master = Attr<String>("master")
        public let slave = Attr<String>("slave")
        public let append = Attr<Bool>("append", codec: .onOff)
        public let seclabels = Children<SourceSecLabel>("seclabel")
        public let reconnect = Child<Reconnect>("reconnect")
        public let clipboard = Child<SourceClipboard>("clipboard")
        public let mouse = Child<SpiceMode>("mouse")
    }
}

/// `<clipboard copypaste='yes'/>` of a qemu-vdagent source.
public struct SourceClipboard: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let copypaste = Attr<Bool>("copypaste")
    }
}

/// `<protocol type='raw|telnet|telnets|tls'/>`.
public typealias CharProtocol = TypeRef

/// `<log file append/>`.
public struct CharLog: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let file = Attr<String>("file")
        public let append = Attr<Bool>("append", codec: .onOff)
    }
}

/// `<serial type>`: a guest serial port.
public struct SerialDevice: DeviceView {
    public static let elementName = "serial"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<CharDeviceType>("type")
        public let tty = Attr<String>("tty")
        /// A `udp` device has two: the `bind` and the `connect` end.
        public let sources = Children<CharSource>("source")
        public let `protocol` = Child<CharProtocol>("protocol")
        public let log = Child<CharLog>("log")
        public let target = Child<SerialTarget>("target")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }
}

/// `<target type port>` of a serial port, with its `<model name>`.
public struct SerialTarget: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
        public let port = Attr<Int>("port")
        public let model = Child<NameRef>("model")
    }
}

/// `<console type>`: the guest console.
public struct ConsoleDevice: DeviceView {
    public static let elementName = "console"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<CharDeviceType>("type")
        public let tty = Attr<String>("tty")
        public let sources = Children<CharSource>("source")
        public let `protocol` = Child<CharProtocol>("protocol")
        public let log = Child<CharLog>("log")
        public let target = Child<ConsoleTarget>("target")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }
}

/// `<target type='serial|virtio|…' port/>` of a console.
public struct ConsoleTarget: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<ConsoleTargetType>("type")
        public let port = Attr<Int>("port")
    }
}

/// `<channel type>`: a host↔guest channel (virtio-serial port, guestfwd), e.g. the QEMU guest agent.
public struct ChannelDevice: DeviceView {
    public static let elementName = "channel"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<CharDeviceType>("type")
        public let tty = Attr<String>("tty")
        public let sources = Children<CharSource>("source")
        public let `protocol` = Child<CharProtocol>("protocol")
        public let log = Child<CharLog>("log")
        public let target = Child<ChannelTarget>("target")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }

    /// The name QEMU's guest agent listens on.
    public static let guestAgentName = "org.qemu.guest_agent.0"

    /// A guest agent channel: `<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>`
    /// (libvirt picks the socket path).
    public static func guestAgent() -> ChannelDevice {
        let c = ChannelDevice()
        c.type.set(.unix)
        c.target.type.set(.virtio)
        c.target.name.set(guestAgentName)
        return c
    }

    /// True for a virtio channel named `org.qemu.guest_agent.0`.
    public var isGuestAgent: Bool {
        (try? self.target.type.value) == .virtio && self.target.name.raw == Self.guestAgentName
    }
}

/// `<target type name state address port/>` of a channel.
public struct ChannelTarget: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<ChannelTargetType>("type")
        public let name = Attr<String>("name")
        /// `connected`/`disconnected` (live XML only).
        public let state = Attr<String>("state")
        public let address = Attr<String>("address")
        public let port = Attr<Int>("port")
    }
}

/// `<parallel type>`: a guest parallel port.
public struct ParallelDevice: DeviceView {
    public static let elementName = "parallel"
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<CharDeviceType>("type")
        public let tty = Attr<String>("tty")
        public let sources = Children<CharSource>("source")
        public let `protocol` = Child<CharProtocol>("protocol")
        public let log = Child<CharLog>("log")
        public let target = Child<PortTarget>("target")
        public let alias = Child<DeviceAlias>("alias")
        public let address = Child<DeviceAddress>("address")
    }
}

/// `<target port='0'/>`.
public struct PortTarget: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let port = Attr<Int>("port")
    }
}
