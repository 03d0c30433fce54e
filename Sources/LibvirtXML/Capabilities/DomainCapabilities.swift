import DomainXML
import VirtCore

/// What one emulator/machine/arch/virt-type combination supports
/// (`virConnectGetDomainCapabilities`, `virsh domcapabilities`): firmware and loaders, CPU
/// modes and usable models, memory backing, device kinds with their allowed values, and
/// features such as SEV and SGX. Whether a guest definition can run on a host is decided
/// against this document.
public struct DomainCapabilities: DocumentView {
    public static let schema = Schema<Self>()
    public static let elementName = "domainCapabilities"
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node.owningDocument() }
    public struct Keys: KeyTable {
        public init() {}
        public let path = ChildText<String>("path")
        public let domain = ChildText<DomainType>("domain")
        public let machine = ChildText<String>("machine")
        public let arch = ChildText<String>("arch")
        public let maxVCPUs = ChildAttr<Int>("vcpu", "max", codec: Int.xmlCodec)
        public let iothreadsSupported = ChildAttr<Bool>("iothreads", "supported", codec: .yesNo)
        public let os = Child<DomainCapabilitiesOS>("os")
        public let cpu = Child<DomainCapabilitiesCPU>("cpu")
        public let memoryBacking = Child<DomainCapabilitiesFeature>("memoryBacking")
        public let devices = Child<DomainCapabilitiesDevices>("devices")
        public let features = Child<DomainCapabilitiesFeatures>("features")
    }
}

/// An element saying whether something is supported, with the values each of its settings
/// may take: `<disk supported='yes'><enum name='bus'><value>virtio</value>…</enum></disk>`.
public struct DomainCapabilitiesFeature: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let supported = Attr<Bool>("supported", codec: .yesNo)
        public let enums = Children<DomainCapabilitiesEnum>("enum")
    }

    /// The values the setting `name` may take (`values(of: "bus")`); nil when not listed.
    public func values(of name: String) throws(TypedXMLError) -> [String]? {
        for e in self.enums where try e.name.value == name {
            var out: [String] = []
            for v in e.values { if let s = try v.value.value { out.append(s) } }
            return out
        }
        return nil
    }
}

/// `<enum name='bus'><value>virtio</value>…</enum>`.
public struct DomainCapabilitiesEnum: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<String>("name", required: true)
        public let values = Children<CapabilitiesTextValue>("value")
    }
}

/// `<os supported='yes'>`: firmware kinds and loaders.
public struct DomainCapabilitiesOS: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let supported = Attr<Bool>("supported", codec: .yesNo)
        public let enums = Children<DomainCapabilitiesEnum>("enum")
        public let loader = Child<DomainCapabilitiesLoader>("loader")
    }
}

/// `<loader supported='yes'><value>/usr/share/OVMF/OVMF_CODE.fd</value><enum name='type'>…`.
public struct DomainCapabilitiesLoader: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let supported = Attr<Bool>("supported", codec: .yesNo)
        /// Firmware image paths.
        public let paths = Children<CapabilitiesTextValue>("value")
        public let enums = Children<DomainCapabilitiesEnum>("enum")
    }
}

/// `<cpu>`: the CPU modes and, for `custom`, the models and whether each is usable here.
public struct DomainCapabilitiesCPU: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let modes = Children<DomainCapabilitiesCPUMode>("mode")
    }

    /// The `<mode>` element for `mode`, if listed.
    public func mode(_ mode: CPUMode) throws(TypedXMLError) -> DomainCapabilitiesCPUMode? {
        for m in self.modes where try m.name.value == mode { return m }
        return nil
    }
}

/// `<mode name='host-model' supported='yes'>` with its model, vendor, features or usable models.
public struct DomainCapabilitiesCPUMode: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<CPUMode>("name", required: true)
        public let supported = Attr<Bool>("supported", codec: .yesNo)
        public let enums = Children<DomainCapabilitiesEnum>("enum")
        public let models = Children<DomainCapabilitiesCPUModel>("model")
        public let vendor = ChildText<String>("vendor")
        public let maxphysaddr = Child<CapabilitiesMaxPhysAddr>("maxphysaddr")
        public let features = Children<DomainCapabilitiesCPUFeature>("feature")
        public let blockers = Children<DomainCapabilitiesCPUBlockers>("blockers")
    }
}

/// Whether a CPU model can run on this host with this emulator (`usable='yes|no|unknown'`).
public enum CPUModelUsability: XMLEnum {
    case usable, unusable, unknown
    case other(String)
    public static let known: [(Self, String)] = [
        (.usable, "yes"),
        (.unusable, "no"),
        (.unknown, "unknown"),
    ]
}

/// `<model usable='yes' vendor='Intel' deprecated='no'>Skylake-Client</model>` or, for
/// host-model, `<model fallback='forbid'>EPYC-Rome</model>`.
public struct DomainCapabilitiesCPUModel: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let usable = Attr<CPUModelUsability>("usable")
        public let vendor = Attr<String>("vendor")
        public let deprecated = Attr<Bool>("deprecated", codec: .yesNo)
        public let canonical = Attr<String>("canonical")
        public let fallback = Attr<CPUModelFallback>("fallback")
        public let name = Text<String>()
    }
}

/// `<feature policy='require' name='x2apic'/>`.
public struct DomainCapabilitiesCPUFeature: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let policy = Attr<CPUFeaturePolicy>("policy")
        public let name = Attr<String>("name", required: true)
    }
}

/// `<blockers model='Skylake-Server'><feature name='avx512f'/>…`: why a model is not usable.
public struct DomainCapabilitiesCPUBlockers: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let model = Attr<String>("model", required: true)
        public let features = Children<CapabilitiesNamedFeature>("feature")
    }
}

/// `<devices>`: each device kind's support and allowed values.
public struct DomainCapabilitiesDevices: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let disk = Child<DomainCapabilitiesFeature>("disk")
        public let graphics = Child<DomainCapabilitiesFeature>("graphics")
        public let video = Child<DomainCapabilitiesFeature>("video")
        public let hostdev = Child<DomainCapabilitiesFeature>("hostdev")
        public let rng = Child<DomainCapabilitiesFeature>("rng")
        public let filesystem = Child<DomainCapabilitiesFeature>("filesystem")
        public let tpm = Child<DomainCapabilitiesFeature>("tpm")
        public let redirdev = Child<DomainCapabilitiesFeature>("redirdev")
        public let channel = Child<DomainCapabilitiesFeature>("channel")
        public let crypto = Child<DomainCapabilitiesFeature>("crypto")
        public let interface = Child<DomainCapabilitiesFeature>("interface")
        public let panic = Child<DomainCapabilitiesFeature>("panic")
    }
}

/// `<features>`: GIC, vmcoreinfo, genid, backing-store input, backup, SEV, SGX, Hyper-V, …
public struct DomainCapabilitiesFeatures: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let gic = Child<DomainCapabilitiesFeature>("gic")
        public let vmcoreinfo = Child<DomainCapabilitiesFeature>("vmcoreinfo")
        public let genid = Child<DomainCapabilitiesFeature>("genid")
        public let backingStoreInput = Child<DomainCapabilitiesFeature>("backingStoreInput")
        public let backup = Child<DomainCapabilitiesFeature>("backup")
        public let asyncTeardown = Child<DomainCapabilitiesFeature>("async-teardown")
        public let s390PV = Child<DomainCapabilitiesFeature>("s390-pv")
        public let sev = Child<DomainCapabilitiesSEV>("sev")
        public let sgx = Child<DomainCapabilitiesSGX>("sgx")
        public let hyperv = Child<DomainCapabilitiesFeature>("hyperv")
    }
}

/// `<sev supported='yes'><cbitpos>47</cbitpos>…`: AMD SEV parameters.
public struct DomainCapabilitiesSEV: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let supported = Attr<Bool>("supported", codec: .yesNo)
        public let cbitpos = ChildText<Int>("cbitpos")
        public let reducedPhysBits = ChildText<Int>("reducedPhysBits")
        public let maxGuests = ChildText<Int>("maxGuests")
        public let maxESGuests = ChildText<Int>("maxESGuests")
    }
}

/// `<sgx supported='yes'><flc>no</flc>…<sections><section node='0' size='…' unit='KiB'/>`.
public struct DomainCapabilitiesSGX: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let supported = Attr<Bool>("supported", codec: .yesNo)
        public let flc = ChildText<Bool>("flc")
        public let sgx1 = ChildText<Bool>("sgx1")
        public let sgx2 = ChildText<Bool>("sgx2")
        public let sectionSize = MemoryValue.child("section_size")
        public let sections = Child<DomainCapabilitiesSGXSections>("sections")
    }
}

/// `<sections>` of SGX EPC memory per node.
public struct DomainCapabilitiesSGXSections: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let sections = Children<DomainCapabilitiesSGXSection>("section")
    }
}

/// `<section node='0' size='262144' unit='KiB'/>`.
public struct DomainCapabilitiesSGXSection: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let numaNode = Attr<Int>("node")
        public let size = MemoryValue.attribute("size")
    }
}
