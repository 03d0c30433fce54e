import VirtCore

/// `<cpu mode match check migratable>`: the guest CPU model, topology, features and NUMA cells.
public struct CPUConfig: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let mode = Attr<CPUMode>("mode")
        public let match = Attr<CPUMatch>("match")
        public let check = Attr<CPUCheck>("check")
        public let migratable = Attr<Bool>("migratable", codec: .onOff)
        public let model = Child<CPUModel>("model")
        public let vendor = ChildText<String>("vendor")
        public let topology = Child<GuestCPUTopology>("topology")
        public let cache = Child<GuestCPUCache>("cache")
        public let maxphysaddr = Child<CPUMaxPhysAddr>("maxphysaddr")
        public let features = Children<CPUFeature>("feature")
        public let numa = Child<GuestNUMA>("numa")
    }
}

/// `<model fallback vendor_id>name</model>`.
public struct CPUModel: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let fallback = Attr<CPUModelFallback>("fallback")
        public let vendorID = Attr<String>("vendor_id")
        public let name = Text<String>()
    }
}

/// `<topology sockets dies clusters cores threads/>`.
public struct GuestCPUTopology: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let sockets = Attr<Int>("sockets", codec: .decimal(in: 1...Int(Int32.max)))
        public let dies = Attr<Int>("dies", codec: .decimal(in: 1...Int(Int32.max)))
        public let clusters = Attr<Int>("clusters", codec: .decimal(in: 1...Int(Int32.max)))
        public let cores = Attr<Int>("cores", codec: .decimal(in: 1...Int(Int32.max)))
        public let threads = Attr<Int>("threads", codec: .decimal(in: 1...Int(Int32.max)))
    }
}

/// `<cache level mode/>`.
public struct GuestCPUCache: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let level = Attr<Int>("level")
        public let mode = Attr<String>("mode")
    }
}

/// `<maxphysaddr mode bits limit/>`.
public struct CPUMaxPhysAddr: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let mode = Attr<String>("mode")
        public let bits = Attr<Int>("bits")
        public let limit = Attr<Int>("limit")
    }
}

/// `<feature policy='require' name='vmx'/>`.
public struct CPUFeature: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let policy = Attr<CPUFeaturePolicy>("policy")
        public let name = Attr<String>("name", required: true)
    }
}

/// `<numa>`: the guest NUMA topology.
public struct GuestNUMA: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let cells = Children<NUMACell>("cell")
        public let interconnects = Child<NUMAInterconnects>("interconnects")
    }
}

/// `<cell id cpus memory unit memAccess discard>`.
public struct NUMACell: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let id = Attr<Int>("id")
        public let cpus = Attr<CPUSet>("cpus")
        public let memory = MemoryValue.attribute("memory")
        public let memAccess = Attr<MemoryAccess>("memAccess")
        public let discard = Attr<Bool>("discard")
        public let distances = Child<NUMADistances>("distances")
        public let caches = Children<NUMACellCache>("cache")
    }
}

/// `<distances>` of a cell.
public struct NUMADistances: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let siblings = Children<NUMASibling>("sibling")
    }
}

/// `<sibling id='1' value='21'/>`.
public struct NUMASibling: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let id = Attr<Int>("id", required: true)
        public let value = Attr<Int>("value", required: true)
    }
}

/// `<cache level associativity policy>` of a cell (HMAT).
public struct NUMACellCache: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let level = Attr<Int>("level")
        public let associativity = Attr<String>("associativity")
        public let policy = Attr<String>("policy")
        public let size = Child<ValueUnit>("size")
        public let line = Child<ValueUnit>("line")
    }
}

/// `<size value='10' unit='KiB'/>`: a memory amount in `value` + `unit` attributes.
public struct ValueUnit: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let value = MemoryValue.attribute("value")
    }
}

/// `<interconnects>` (HMAT latencies and bandwidths).
public struct NUMAInterconnects: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let latency = Children<NUMAInterconnect>("latency")
        public let bandwidth = Children<NUMAInterconnect>("bandwidth")
    }
}

/// `<latency initiator target type value/>` / `<bandwidth … unit/>`.
public struct NUMAInterconnect: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let initiator = Attr<Int>("initiator")
        public let target = Attr<Int>("target")
        public let cache = Attr<Int>("cache")
        public let type = Attr<String>("type")
        public let value = Attr<UInt64>("value")
        public let unit = Attr<String>("unit")
    }
}
