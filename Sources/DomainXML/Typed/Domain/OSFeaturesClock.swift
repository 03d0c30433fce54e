import VirtCore

/// `<os>`: guest ABI, firmware, boot order and direct kernel boot.
public struct OSConfig: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        /// Firmware autoselection (`<os firmware='efi'>`).
        public let firmware = Attr<Firmware>("firmware")
        public let type = Child<OSTypeElement>("type")
        /// `<firmware><feature enabled name/></firmware>`: autoselection constraints.
        public let firmwareFeatures = Child<FirmwareFeatures>("firmware")
        public let initPath = ChildText<String>("init")
        public let loader = Child<Loader>("loader")
        public let nvram = Child<NVRAMConfig>("nvram")
        public let kernel = ChildText<String>("kernel")
        public let initrd = ChildText<String>("initrd")
        public let cmdline = ChildText<String>("cmdline")
        public let dtb = ChildText<String>("dtb")
        public let boot = Children<BootDeviceEntry>("boot")
        public let bootmenu = Child<BootMenu>("bootmenu")
        public let smbios = Child<SMBIOSMode>("smbios")
        public let bios = Child<BIOSConfig>("bios")
        public let acpi = Child<OSACPI>("acpi")
    }
}

/// `<os><acpi><table type='slic'>/path</table></acpi>`.
public struct OSACPI: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let tables = Children<ACPITable>("table")
    }
}

/// `<table type='slic'>/path/to/slic.dat</table>`.
public struct ACPITable: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type")
        public let path = Text<String>()
    }
}

/// `<type arch machine>hvm</type>`.
public struct OSTypeElement: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let arch = Attr<String>("arch")
        public let machine = Attr<String>("machine")
        public let value = Text<OSType>()
    }
}

/// `<os><firmware>`.
public struct FirmwareFeatures: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let feature = Children<FirmwareFeature>("feature")
    }
}

/// `<feature enabled='yes' name='secure-boot'/>`.
public struct FirmwareFeature: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let enabled = Attr<Bool>("enabled")
        public let name = Attr<String>("name")
    }
}

/// `<loader readonly secure type format stateless>/path</loader>`.
public struct Loader: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let readonly = Attr<Bool>("readonly")
        public let secure = Attr<Bool>("secure")
        public let stateless = Attr<Bool>("stateless")
        public let type = Attr<LoaderType>("type")
        public let format = Attr<String>("format")
        public let path = Text<String>()
    }
}

/// `<nvram template format>/path</nvram>`.
public struct NVRAMConfig: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let template = Attr<String>("template")
        public let format = Attr<String>("format")
        public let type = Attr<String>("type")
        public let path = Text<String>()
        public let source = Child<DiskSource>("source")
    }
}

/// `<boot dev='hd'/>`.
public struct BootDeviceEntry: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let dev = Attr<BootDevice>("dev", required: true)
    }
}

/// `<bootmenu enable='yes' timeout='3000'/>`.
public struct BootMenu: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let enable = Attr<Bool>("enable")
        /// Written in ms (0…65535).
        public let timeout = Attr<Duration>("timeout", codec: .integer(.milliseconds, in: 0...65535))
    }
}

/// `<smbios mode='sysinfo'/>`.
public struct SMBIOSMode: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let mode = Attr<String>("mode")
    }
}

/// `<bios useserial rebootTimeout/>`.
public struct BIOSConfig: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let useserial = Attr<Bool>("useserial")
        public let rebootTimeout = Attr<Int>("rebootTimeout")
    }
}

/// `<features>`: hypervisor features. Presence-only features are `Flag`s; the others are views.
public struct Features: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let pae = Flag("pae")
        public let acpi = Flag("acpi")
        public let apic = Child<APICFeature>("apic")
        public let hap = Child<FeatureState>("hap")
        public let viridian = Flag("viridian")
        public let privnet = Flag("privnet")
        public let hyperv = Child<HyperVFeatures>("hyperv")
        public let kvm = Child<KVMFeatures>("kvm")
        public let pvspinlock = Child<FeatureState>("pvspinlock")
        public let pmu = Child<FeatureState>("pmu")
        public let vmport = Child<FeatureState>("vmport")
        public let gic = Child<GICFeature>("gic")
        public let smm = Child<SMMFeature>("smm")
        public let ioapic = Child<IOAPICFeature>("ioapic")
        public let hpt = Child<HPTFeature>("hpt")
        public let vmcoreinfo = Child<FeatureState>("vmcoreinfo")
        public let htm = Child<FeatureState>("htm")
        public let nestedHV = Child<FeatureState>("nested-hv")
        public let ccfAssist = Child<FeatureState>("ccf-assist")
        public let cfpc = Child<FeatureValue>("cfpc")
        public let sbbc = Child<FeatureValue>("sbbc")
        public let ibs = Child<FeatureValue>("ibs")
        public let tcg = Child<TCGFeature>("tcg")
        public let asyncTeardown = Child<Enabled>("async-teardown")
    }
}

/// A feature switched with `state='on|off'` (absent state means on).
public struct FeatureState: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let state = Attr<Bool>("state", codec: .onOff)
    }
}

/// A feature set with `value='…'` (ppc64 `cfpc`, `sbbc`, `ibs`).
public struct FeatureValue: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let value = Attr<String>("value")
    }
}

/// `<apic eoi='on'/>`.
public struct APICFeature: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let eoi = Attr<Bool>("eoi", codec: .onOff)
    }
}

/// `<gic version='3'/>`.
public struct GICFeature: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let version = Attr<String>("version")
    }
}

/// `<smm state='on'><tseg unit='MiB'>48</tseg></smm>`.
public struct SMMFeature: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let state = Attr<Bool>("state", codec: .onOff)
        public let tseg = MemoryValue.child("tseg", default: .MiB)
    }
}

/// `<ioapic driver='qemu'/>`.
public struct IOAPICFeature: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let driver = Attr<String>("driver")
    }
}

/// `<hpt resizing='required'><maxpagesize unit='GiB'>1</maxpagesize></hpt>`.
public struct HPTFeature: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let resizing = Attr<String>("resizing")
        public let maxpagesize = MemoryValue.child("maxpagesize")
    }
}

/// `<tcg><tb-cache unit='MiB'>128</tb-cache></tcg>`.
public struct TCGFeature: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let tbCache = MemoryValue.child("tb-cache", default: .MiB)
    }
}

/// `<hyperv mode='custom'>`: Hyper-V enlightenments.
public struct HyperVFeatures: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let mode = Attr<String>("mode")
        public let relaxed = Child<FeatureState>("relaxed")
        public let vapic = Child<FeatureState>("vapic")
        public let spinlocks = Child<HyperVSpinlocks>("spinlocks")
        public let vpindex = Child<FeatureState>("vpindex")
        public let runtime = Child<FeatureState>("runtime")
        public let synic = Child<FeatureState>("synic")
        public let stimer = Child<HyperVStimer>("stimer")
        public let reset = Child<FeatureState>("reset")
        public let vendorID = Child<HyperVVendorID>("vendor_id")
        public let frequencies = Child<FeatureState>("frequencies")
        public let reenlightenment = Child<FeatureState>("reenlightenment")
        public let tlbflush = Child<FeatureState>("tlbflush")
        public let ipi = Child<FeatureState>("ipi")
        public let evmcs = Child<FeatureState>("evmcs")
        public let avic = Child<FeatureState>("avic")
        public let emsrBitmap = Child<FeatureState>("emsr_bitmap")
        public let xmmInput = Child<FeatureState>("xmm_input")
    }
}

/// `<spinlocks state='on' retries='4096'/>`.
public struct HyperVSpinlocks: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let state = Attr<Bool>("state", codec: .onOff)
        public let retries = Attr<Int>("retries")
    }
}

/// `<stimer state='on'><direct state='on'/></stimer>`.
public struct HyperVStimer: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let state = Attr<Bool>("state", codec: .onOff)
        public let direct = Child<FeatureState>("direct")
    }
}

/// `<vendor_id state='on' value='KVM Hv'/>`.
public struct HyperVVendorID: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let state = Attr<Bool>("state", codec: .onOff)
        public let value = Attr<String>("value")
    }
}

/// `<kvm>`: KVM paravirtual features.
public struct KVMFeatures: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let hidden = Child<FeatureState>("hidden")
        public let hintDedicated = Child<FeatureState>("hint-dedicated")
        public let pollControl = Child<FeatureState>("poll-control")
        public let pvIPI = Child<FeatureState>("pv-ipi")
        public let dirtyRing = Child<KVMDirtyRing>("dirty-ring")
    }
}

/// `<dirty-ring state='on' size='4096'/>`.
public struct KVMDirtyRing: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let state = Attr<Bool>("state", codec: .onOff)
        public let size = Attr<Int>("size")
    }
}

/// `<clock offset timezone adjustment basis start>` and its timers.
public struct Clock: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let offset = Attr<ClockOffset>("offset")
        public let timezone = Attr<String>("timezone")
        public let adjustment = Attr<String>("adjustment")
        public let basis = Attr<String>("basis")
        public let start = Attr<String>("start")
        public let timers = Children<GuestClockTimer>("timer")
    }
}

/// `<timer name tickpolicy present track frequency mode>`.
public struct GuestClockTimer: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let name = Attr<TimerName>("name", required: true)
        public let tickpolicy = Attr<TickPolicy>("tickpolicy")
        public let present = Attr<Bool>("present")
        public let track = Attr<String>("track")
        public let frequency = Attr<UInt64>("frequency")
        public let mode = Attr<String>("mode")
        public let catchup = Child<TimerCatchup>("catchup")
    }
}

/// `<catchup threshold slew limit/>`.
public struct TimerCatchup: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let threshold = Attr<Int>("threshold")
        public let slew = Attr<Int>("slew")
        public let limit = Attr<Int>("limit")
    }
}
