import VirtCore

/// `<cputune>`: CFS shares/bandwidth and pinning of vCPUs, the emulator and IOThreads.
public struct CPUTune: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let shares = ChildText<UInt64>("shares")
        /// CFS period of each vCPU (written in µs, 1000…1000000).
        public let period = ChildText<Duration>("period", codec: .integer(.microseconds))
        /// CFS quota of each vCPU per period (written in µs; a negative number is no limit).
        public let quota = ChildText<Limit<Duration>>("quota", codec: .cfsQuota)
        public let globalPeriod = ChildText<Duration>("global_period", codec: .integer(.microseconds))
        public let globalQuota = ChildText<Limit<Duration>>("global_quota", codec: .cfsQuota)
        public let emulatorPeriod = ChildText<Duration>("emulator_period", codec: .integer(.microseconds))
        public let emulatorQuota = ChildText<Limit<Duration>>("emulator_quota", codec: .cfsQuota)
        public let iothreadPeriod = ChildText<Duration>("iothread_period", codec: .integer(.microseconds))
        public let iothreadQuota = ChildText<Limit<Duration>>("iothread_quota", codec: .cfsQuota)
        public let vcpupin = Children<VCPUPin>("vcpupin")
        public let emulatorpin = Child<EmulatorPin>("emulatorpin")
        public let iothreadpin = Children<IOThreadPin>("iothreadpin")
        public let vcpusched = Children<VCPUSched>("vcpusched")
        public let iothreadsched = Children<IOThreadSched>("iothreadsched")
        public let emulatorsched = Child<EmulatorSched>("emulatorsched")
    }

    /// The pin for `vcpu`, appending `<vcpupin vcpu=…>` if there is none.
    @discardableResult
    public func pin(vcpu: Int, to cpus: CPUSet) -> VCPUPin {
        let existing = self.vcpupin.first { (try? $0.vcpu.value) == vcpu }
        let pin = existing ?? self.vcpupin.append()
        pin.vcpu.set(vcpu)
        pin.cpuset.set(cpus)
        return pin
    }
}

/// `<vcpupin vcpu='0' cpuset='1-3'/>`.
public struct VCPUPin: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        /// `virXMLPropUInt`: 0…2^32 − 1.
        public let vcpu = Attr<Int>("vcpu", codec: .decimal(in: 0...Int(UInt32.max)), required: true)
        public let cpuset = Attr<CPUSet>("cpuset", required: true)
    }
}

/// `<emulatorpin cpuset='1-3'/>`.
public struct EmulatorPin: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let cpuset = Attr<CPUSet>("cpuset", required: true)
    }
}

/// `<iothreadpin iothread='1' cpuset='2'/>`.
public struct IOThreadPin: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let iothread = Attr<Int>("iothread", required: true)
        public let cpuset = Attr<CPUSet>("cpuset", required: true)
    }
}

/// `<vcpusched vcpus='0-1' scheduler='fifo' priority='1'/>`.
public struct VCPUSched: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let vcpus = Attr<CPUSet>("vcpus")
        public let scheduler = Attr<Scheduler>("scheduler", required: true)
        public let priority = Attr<Int>("priority")
    }
}

/// `<iothreadsched iothreads='1-3' scheduler='batch'/>`.
public struct IOThreadSched: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let iothreads = Attr<CPUSet>("iothreads")
        public let scheduler = Attr<Scheduler>("scheduler", required: true)
        public let priority = Attr<Int>("priority")
    }
}

/// `<emulatorsched scheduler='fifo' priority='2'/>`.
public struct EmulatorSched: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let scheduler = Attr<Scheduler>("scheduler", required: true)
        public let priority = Attr<Int>("priority")
    }
}

/// `<numatune>`: host NUMA memory policy for the whole guest and per guest cell.
public struct NUMATune: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let memory = Child<NUMAMemoryPolicy>("memory")
        public let memnode = Children<MemNode>("memnode")
    }
}

/// `<numatune><memory mode='strict' nodeset='0-1' placement='static'/>`.
public struct NUMAMemoryPolicy: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let mode = Attr<NUMAMode>("mode")
        public let nodeset = Attr<NodeSet>("nodeset")
        public let placement = Attr<Placement>("placement")
    }
}

/// `<memnode cellid='0' mode='strict' nodeset='1'/>`.
public struct MemNode: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let cellid = Attr<Int>("cellid", required: true)
        public let mode = Attr<NUMAMode>("mode")
        public let nodeset = Attr<NodeSet>("nodeset")
    }
}

/// `<memoryBacking>`: hugepages, sharing, locking and the memory source.
public struct MemoryBacking: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        /// `<hugepages/>` alone means the default huge page size; add `page`s for specific sizes.
        public let hugepages = Child<Hugepages>("hugepages")
        public let nosharepages = Flag("nosharepages")
        public let locked = Flag("locked")
        public let source = Child<MemoryBackingSource>("source")
        public let access = Child<MemoryBackingAccess>("access")
        public let allocation = Child<MemoryAllocation>("allocation")
        public let discard = Flag("discard")
    }
}

/// `<hugepages>`.
public struct Hugepages: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let page = Children<HugePage>("page")
    }
}

/// `<page size='2048' unit='KiB' nodeset='0'/>`.
public struct HugePage: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let size = MemoryValue.attribute("size")
        public let nodeset = Attr<NodeSet>("nodeset")
    }
}

/// `<memoryBacking><source type='memfd'/>`.
public struct MemoryBackingSource: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<MemorySourceType>("type")
    }
}

/// `<memoryBacking><access mode='shared'/>`.
public struct MemoryBackingAccess: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let mode = Attr<MemoryAccess>("mode")
    }
}

/// `<memoryBacking><allocation mode='immediate' threads='8'/>`.
public struct MemoryAllocation: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let mode = Attr<MemoryAllocationMode>("mode")
        public let threads = Attr<Int>("threads")
    }
}

/// `<memtune>`: cgroup memory limits.
public struct MemTune: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        /// `.unlimited` is libvirt's `VIR_DOMAIN_MEMORY_PARAM_UNLIMITED` (2^53 − 1 KiB or more).
        public let hardLimit = MemoryLimitValue.child("hard_limit")
        public let softLimit = MemoryLimitValue.child("soft_limit")
        public let swapHardLimit = MemoryLimitValue.child("swap_hard_limit")
        public let minGuarantee = MemoryValue.child("min_guarantee")
    }
}

/// `<blkiotune>`: cgroup block I/O weight and per-device throttles.
public struct BlkioTune: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let weight = ChildText<Int>("weight")
        public let device = Children<BlkioDevice>("device")
    }
}

/// `<blkiotune><device><path>/dev/sda</path>…</device>`.
public struct BlkioDevice: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let path = ChildText<String>("path", required: true)
        public let weight = ChildText<Int>("weight")
        public let readIopsSec = ChildText<UInt64>("read_iops_sec")
        public let writeIopsSec = ChildText<UInt64>("write_iops_sec")
        public let readBytesSec = ChildText<UInt64>("read_bytes_sec")
        public let writeBytesSec = ChildText<UInt64>("write_bytes_sec")
    }
}
