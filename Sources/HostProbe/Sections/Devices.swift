import VirtCore

/// PCI devices (`/sys/bus/pci/devices`). JSON key `pci`.
public struct PCIInfo: Sendable, Hashable, Codable {
    public var devices: [PCIDevice]
    public func device(_ address: String) -> PCIDevice? { devices.first { $0.address == address } }
}

/// One PCI function.
public struct PCIDevice: Sendable, Hashable, Codable {
    /// `0000:00:1f.2`
    public var address: String
    /// `class` as 24 bits: base class, subclass, prog-if (`0x020000` Ethernet).
    public var classCode: UInt32?
    public var vendor: UInt16?
    public var device: UInt16?
    public var subsystemVendor: UInt16?
    public var subsystemDevice: UInt16?
    /// Bound driver (`driver` link), e.g. `vfio-pci`, `ixgbe`.
    public var driver: String?
    /// `numa_node`; nil when the platform reports -1 (no locality).
    public var numaNode: Int?
    public var iommuGroup: Int?
    /// SR-IOV: `sriov_totalvfs` and `sriov_numvfs` on a physical function.
    public var sriovTotalVFs: Int?
    public var sriovNumVFs: Int?
    /// For a virtual function, its physical function's address (`physfn` link).
    public var physicalFunction: String?
    /// `current_link_speed` (`8.0 GT/s PCIe`), `current_link_width` (`8`), and maxima.
    public var linkSpeed: String?
    public var linkWidth: Int?
    public var maxLinkSpeed: String?
    public var maxLinkWidth: Int?

    /// Base class 0x02: network controller.
    public var isNetwork: Bool { classCode.map { $0 >> 16 == 0x02 } ?? false }
}

/// Block devices (`/sys/block`). JSON key `block`.
public struct BlockInfo: Sendable, Hashable, Codable {
    public var devices: [BlockDevice]
}

public struct BlockDevice: Sendable, Hashable, Codable {
    public var name: String
    /// `dev`: the device number, as cgroup I/O limits (`CgroupChange.ioLimit`) name it.
    public var device: DeviceNumber?
    /// `queue/scheduler`: active (`[mq-deadline]`) and the available ones.
    public var scheduler: SysfsChoice?
    public var nrRequests: Int?
    public var rotational: Bool?
    /// `queue/nomerges`: 0 merges, 1 simple only, 2 none.
    public var nomerges: Int?
    public var readAhead: MemorySize?
    /// Hardware dispatch queues (`mq/*` entries); blk-mq devices only.
    public var hardwareQueues: Int?
    /// `size` × 512.
    public var size: MemorySize?
    public var logicalBlockSize: Int?
    public var removable: Bool?
    /// `device/model` when the device has one.
    public var model: String?
}

/// Network interfaces (`/sys/class/net`). JSON key `network`.
public struct NetworkInfo: Sendable, Hashable, Codable {
    public var interfaces: [NetworkInterface]
}

public struct NetworkInterface: Sendable, Hashable, Codable {
    public var name: String
    public var mtu: Int?
    /// `speed` in Mb/s; nil when the link is down or the driver does not say (`-1`, `EINVAL`).
    public var speedMbps: Int?
    /// `operstate`: `up`, `down`, `unknown`, `lowerlayerdown`, …
    public var state: String?
    public var driver: String?
    public var macAddress: String?
    /// `queues/rx-*` and `queues/tx-*` counts.
    public var rxQueues: Int
    public var txQueues: Int
    /// The bridge (or bond) this port belongs to (`master` link).
    public var master: String?
    /// This interface is a Linux bridge (has a `bridge` directory).
    public var isBridge: Bool
    /// The bridge's ports (`brif/*`) when `isBridge`.
    public var bridgePorts: [String]
    /// `device/numa_node` for PCI NICs.
    public var numaNode: Int?
    /// PCI address of the NIC (`device` link), nil for virtual interfaces.
    public var pciAddress: String?
    /// Lives under `/sys/devices/virtual` (lo, bridges, taps, veths).
    public var isVirtual: Bool
}

extension HostProber {
    static func hex<T: FixedWidthInteger>(_ s: String?) -> T? {
        guard var s else { return nil }
        if s.hasPrefix("0x") { s.removeFirst(2) }
        return T(s, radix: 16)
    }

    static func probePCI(_ ctx: ProbeContext) -> PCIInfo {
        let base = "/sys/bus/pci/devices"
        var out: [PCIDevice] = []
        for e in ctx.list(base, "PCI devices") {
            let d = base + "/" + e.name
            var p = PCIDevice(address: e.name)
            let w = "PCI \(e.name)"
            func hexAttr<T: FixedWidthInteger>(_ name: String) -> T? {
                guard let s = ctx.line(d + "/" + name, "\(w) \(name)", required: true) else { return nil }
                if let v: T = hex(s) { return v }
                ctx.note("\(w) \(name)", d + "/" + name, .garbled("'\(s.prefix(20))' is not hex"))
                return nil
            }
            p.classCode = hexAttr("class")
            p.vendor = hexAttr("vendor")
            p.device = hexAttr("device")
            p.subsystemVendor = ctx.line(d + "/subsystem_vendor", "\(w) subsystem vendor").flatMap { hex($0) }
            p.subsystemDevice = ctx.line(d + "/subsystem_device", "\(w) subsystem device").flatMap { hex($0) }
            p.driver = ctx.linkName(d + "/driver")
            if let n = ctx.int(d + "/numa_node", "\(w) NUMA node"), n >= 0 { p.numaNode = n }
            p.iommuGroup = ctx.linkName(d + "/iommu_group").flatMap { Int($0) }
            p.sriovTotalVFs = ctx.int(d + "/sriov_totalvfs", "\(w) SR-IOV total VFs")
            if p.sriovTotalVFs != nil { p.sriovNumVFs = ctx.int(d + "/sriov_numvfs", "\(w) SR-IOV VFs") }
            p.physicalFunction = ctx.linkName(d + "/physfn")
            // Link attributes are EINVAL on devices without a PCIe capability.
            p.linkSpeed = optionalLine(ctx, d + "/current_link_speed")
            p.linkWidth = optionalLine(ctx, d + "/current_link_width").flatMap { Int($0) }
            p.maxLinkSpeed = optionalLine(ctx, d + "/max_link_speed")
            p.maxLinkWidth = optionalLine(ctx, d + "/max_link_width").flatMap { Int($0) }
            out.append(p)
        }
        return PCIInfo(devices: out)
    }

    /// Attributes the kernel refuses for some devices with `EINVAL`/`ENODEV`/`EIO`: absent, not faults.
    static func optionalLine(_ ctx: ProbeContext, _ path: String) -> String? {
        switch ctx.reader.read(path) {
        case .success(let s):
            let t = s.trimmingASCIIWhitespace()
            return t.isEmpty ? nil : t
        case .failure(.missing), .failure(.error): return nil
        case .failure(let f):
            ctx.note("attribute", path, f)
            return nil
        }
    }

    static func probeBlock(_ ctx: ProbeContext) -> BlockInfo {
        let base = "/sys/block"
        var out: [BlockDevice] = []
        for e in ctx.list(base, "block devices") {
            let d = base + "/" + e.name
            let q = d + "/queue"
            let w = "block \(e.name)"
            var b = BlockDevice(name: e.name)
            if let dev = ctx.line(d + "/dev", w + " device number") {
                b.device = DeviceNumber(dev)
                if b.device == nil { ctx.note("device number", d + "/dev", .garbled("\(RootedFileReader.quote(dev)) is not MAJOR:MINOR")) }
            }
            b.scheduler = ctx.line(q + "/scheduler", w + " scheduler").map(SysfsChoice.init(parsing:))
            b.nrRequests = ctx.int(q + "/nr_requests", w + " nr_requests")
            b.rotational = ctx.int(q + "/rotational", w + " rotational").map { $0 != 0 }
            b.nomerges = ctx.int(q + "/nomerges", w + " nomerges")
            b.readAhead = ctx.kib(ctx.uint64(q + "/read_ahead_kb", w + " read_ahead_kb"), w + " read_ahead_kb", q + "/read_ahead_kb")
            b.logicalBlockSize = ctx.int(q + "/logical_block_size", w + " logical block size")
            if case .success(let mq) = ctx.reader.list(d + "/mq") {
                b.hardwareQueues = mq.filter { Int($0.name) != nil }.count
            }
            // 512-byte sectors whatever the device's block size; a count beyond 2^64 bytes is
            // reported, never wrapped.
            if let sectors = ctx.uint64(d + "/size", w + " size") {
                let (bytes, overflow) = sectors.multipliedReportingOverflow(by: 512)
                if overflow { ctx.note(w + " size", d + "/size", .outOfRange("\(sectors) sectors is beyond 2^64 bytes")) }
                else { b.size = MemorySize(bytes: bytes) }
            }
            b.removable = ctx.int(d + "/removable", w + " removable").map { $0 != 0 }
            b.model = ctx.line(d + "/device/model", w + " model")
            out.append(b)
        }
        return BlockInfo(devices: out)
    }

    static func probeNetwork(_ ctx: ProbeContext) -> NetworkInfo {
        let base = "/sys/class/net"
        var out: [NetworkInterface] = []
        for e in ctx.list(base, "network interfaces") where e.kind != .file {
            let d = base + "/" + e.name
            let w = "interface \(e.name)"
            var n = NetworkInterface(name: e.name, rxQueues: 0, txQueues: 0, isBridge: false, bridgePorts: [], isVirtual: false)
            n.mtu = ctx.int(d + "/mtu", w + " MTU")
            // `speed` is EINVAL while the link is down, -1 or absent on virtual links.
            if let s = optionalLine(ctx, d + "/speed"), let v = Int(s), v > 0 { n.speedMbps = v }
            n.state = ctx.line(d + "/operstate", w + " state")
            n.macAddress = ctx.line(d + "/address", w + " address")
            let devLink = ctx.reader.readLink(d + "/device")
            if case .success(let target) = devLink {
                n.driver = ctx.linkName(d + "/device/driver")
                n.numaNode = ctx.int(d + "/device/numa_node", w + " NUMA node").flatMap { $0 >= 0 ? $0 : nil }
                let last = target.split(separator: "/").last.map(String.init)
                if let last, last.split(separator: ":").count == 3 { n.pciAddress = last }
            }
            for q in ctx.list(d + "/queues", w + " queues") {
                if q.name.hasPrefix("rx-") { n.rxQueues += 1 } else if q.name.hasPrefix("tx-") { n.txQueues += 1 }
            }
            n.master = ctx.linkName(d + "/master")
            if ctx.reader.exists(d + "/bridge") {
                n.isBridge = true
                n.bridgePorts = ctx.list(d + "/brif", w + " bridge ports").map(\.name)
            }
            if e.kind == .symlink, case .success(let t) = ctx.reader.readLink(d) {
                n.isVirtual = t.contains("/devices/virtual/")
            }
            out.append(n)
        }
        return NetworkInfo(interfaces: out)
    }
}
