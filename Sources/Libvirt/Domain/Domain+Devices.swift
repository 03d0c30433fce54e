import CLibvirt
import Foundation
import VirtCore

/// One IOThread of a domain (`virDomainIOThreadInfo`).
public struct DomainIOThread: Hashable, Sendable {
    /// The IOThread's ID (`<iothread id=…>`).
    public var id: UInt32
    /// The host CPUs it may run on.
    public var cpus: CPUSet
}

/// A disk's I/O limits (`virDomainGetBlockIoTune`); nil = not reported (or, for setting,
/// unchanged). libvirt's `*_bytes_sec` rates are bytes per second, `*_iops_sec` operations
/// per second, `…Max` the burst ceilings (a rate may not exceed its ceiling); 0 means no
/// limit. `raw` keeps every parameter (burst lengths, group name, …).
public struct BlockIOTune: Hashable, Sendable {
    public var totalBytesPerSecond: UInt64?
    public var totalBytesPerSecondMax: UInt64?
    public var readBytesPerSecond: UInt64?
    public var readBytesPerSecondMax: UInt64?
    public var writeBytesPerSecond: UInt64?
    public var writeBytesPerSecondMax: UInt64?
    public var totalIOPerSecond: UInt64?
    public var totalIOPerSecondMax: UInt64?
    public var readIOPerSecond: UInt64?
    public var readIOPerSecondMax: UInt64?
    public var writeIOPerSecond: UInt64?
    public var writeIOPerSecondMax: UInt64?
    /// `group_name`: disks sharing one set of limits.
    public var groupName: String?
    public var raw: TypedParameters

    public init(totalBytesPerSecond: UInt64? = nil, totalBytesPerSecondMax: UInt64? = nil, readBytesPerSecond: UInt64? = nil, readBytesPerSecondMax: UInt64? = nil, writeBytesPerSecond: UInt64? = nil, writeBytesPerSecondMax: UInt64? = nil, totalIOPerSecond: UInt64? = nil, totalIOPerSecondMax: UInt64? = nil, readIOPerSecond: UInt64? = nil, readIOPerSecondMax: UInt64? = nil, writeIOPerSecond: UInt64? = nil, writeIOPerSecondMax: UInt64? = nil, groupName: String? = nil) {
        self.totalBytesPerSecond = totalBytesPerSecond
        self.totalBytesPerSecondMax = totalBytesPerSecondMax
        self.readBytesPerSecond = readBytesPerSecond
        self.readBytesPerSecondMax = readBytesPerSecondMax
        self.writeBytesPerSecond = writeBytesPerSecond
        self.writeBytesPerSecondMax = writeBytesPerSecondMax
        self.totalIOPerSecond = totalIOPerSecond
        self.totalIOPerSecondMax = totalIOPerSecondMax
        self.readIOPerSecond = readIOPerSecond
        self.readIOPerSecondMax = readIOPerSecondMax
        self.writeIOPerSecond = writeIOPerSecond
        self.writeIOPerSecondMax = writeIOPerSecondMax
        self.groupName = groupName
        raw = [:]
    }

    /// Field ↔ libvirt parameter name, the one table decoding and encoding use.
    private static var keys: [(WritableKeyPath<BlockIOTune, UInt64?>, String)] {[
        (\.totalBytesPerSecond, VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_BYTES_SEC),
        (\.totalBytesPerSecondMax, VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_BYTES_SEC_MAX),
        (\.readBytesPerSecond, VIR_DOMAIN_BLOCK_IOTUNE_READ_BYTES_SEC),
        (\.readBytesPerSecondMax, VIR_DOMAIN_BLOCK_IOTUNE_READ_BYTES_SEC_MAX),
        (\.writeBytesPerSecond, VIR_DOMAIN_BLOCK_IOTUNE_WRITE_BYTES_SEC),
        (\.writeBytesPerSecondMax, VIR_DOMAIN_BLOCK_IOTUNE_WRITE_BYTES_SEC_MAX),
        (\.totalIOPerSecond, VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_IOPS_SEC),
        (\.totalIOPerSecondMax, VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_IOPS_SEC_MAX),
        (\.readIOPerSecond, VIR_DOMAIN_BLOCK_IOTUNE_READ_IOPS_SEC),
        (\.readIOPerSecondMax, VIR_DOMAIN_BLOCK_IOTUNE_READ_IOPS_SEC_MAX),
        (\.writeIOPerSecond, VIR_DOMAIN_BLOCK_IOTUNE_WRITE_IOPS_SEC),
        (\.writeIOPerSecondMax, VIR_DOMAIN_BLOCK_IOTUNE_WRITE_IOPS_SEC_MAX),
    ]}

    public init(parameters p: TypedParameters) {
        self.init()
        for (field, key) in Self.keys { self[keyPath: field] = p[key]?.uint64 }
        groupName = p[VIR_DOMAIN_BLOCK_IOTUNE_GROUP_NAME]?.string
        raw = p
    }

    /// The set fields as libvirt's ULLONG / STRING parameters.
    public var encoded: TypedParameters {
        var p = TypedParameters()
        for (field, key) in Self.keys { p[key] = self[keyPath: field].map(TypedValue.ullong) }
        p[VIR_DOMAIN_BLOCK_IOTUNE_GROUP_NAME] = groupName.map(TypedValue.string)
        return p
    }
}

/// A domain's CPU time on one host CPU or in total (`virDomainGetCPUStats`); nil = not reported.
public struct DomainCPUStats: Hashable, Sendable {
    /// `cpu_time`: all of the domain's threads.
    public var cpuTime: Duration?
    /// `user_time` / `system_time` (totals only).
    public var userTime: Duration?
    public var systemTime: Duration?
    /// `vcpu_time`: the vCPU threads only.
    public var vcpuTime: Duration?
    public var raw: TypedParameters

    init(_ p: TypedParameters) {
        let ns = { (k: String) in p[k]?.uint64.map(Duration.nanoseconds(unsigned:)) }
        cpuTime = ns(VIR_DOMAIN_CPU_STATS_CPUTIME)
        userTime = ns(VIR_DOMAIN_CPU_STATS_USERTIME)
        systemTime = ns(VIR_DOMAIN_CPU_STATS_SYSTEMTIME)
        vcpuTime = ns(VIR_DOMAIN_CPU_STATS_VCPUTIME)
        raw = p
    }
}

extension Domain {
    /// `virDomainDeviceModifyFlags`: which definition (`ModificationImpact`) plus `force`.
    public struct DeviceModifyFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public init(_ impact: ModificationImpact, force: Bool = false) {
            rawValue = impact.rawValue | (force ? VIR_DOMAIN_DEVICE_MODIFY_FORCE.rawValue : 0)
        }
        public static let live = Self(rawValue: VIR_DOMAIN_DEVICE_MODIFY_LIVE.rawValue)
        public static let config = Self(rawValue: VIR_DOMAIN_DEVICE_MODIFY_CONFIG.rawValue)
        /// Forcibly modify the device (e.g. eject a locked CD-ROM).
        public static let force = Self(rawValue: VIR_DOMAIN_DEVICE_MODIFY_FORCE.rawValue)
    }

    // MARK: Hotplug

    /// Attaches a device from its XML (`<disk>`, `<interface>`, `<channel>`, …)
    /// (`virDomainAttachDeviceFlags`; with `.live` alone, `virDomainAttachDevice` — its
    /// documented equivalent — where that is unsupported).
    public func attachDevice(xml: String, flags: DeviceModifyFlags = []) async throws {
        try await check("virDomainAttachDeviceFlags", { virDomainAttachDeviceFlags($0, xml, flags.rawValue) },
                        classic: flags == .live ? ("virDomainAttachDevice", { virDomainAttachDevice($0, xml) }) : nil)
    }

    /// Detaches the device the XML identifies (`virDomainDetachDeviceFlags`; with `.live`
    /// alone, `virDomainDetachDevice` where that is unsupported); the guest may take time to
    /// release it (`deviceRemoved` event).
    public func detachDevice(xml: String, flags: DeviceModifyFlags = []) async throws {
        try await check("virDomainDetachDeviceFlags", { virDomainDetachDeviceFlags($0, xml, flags.rawValue) },
                        classic: flags == .live ? ("virDomainDetachDevice", { virDomainDetachDevice($0, xml) }) : nil)
    }

    /// Detaches a device by its alias, e.g. `ua-disk1` (`virDomainDetachDeviceAlias`).
    public func detachDevice(alias: String, flags: DeviceModifyFlags = []) async throws {
        try await check("virDomainDetachDeviceAlias") { virDomainDetachDeviceAlias($0, alias, flags.rawValue) }
    }

    /// Changes a device in place, e.g. a CD-ROM's media (`virDomainUpdateDeviceFlags`).
    public func updateDevice(xml: String, flags: DeviceModifyFlags = []) async throws {
        try await check("virDomainUpdateDeviceFlags") { virDomainUpdateDeviceFlags($0, xml, flags.rawValue) }
    }

    // MARK: IOThreads

    /// The domain's IOThreads and their pinning (`virDomainGetIOThreadInfo`).
    public func ioThreads(flags: ModificationImpact = .current) async throws -> [DomainIOThread] {
        try await call { d throws(LibvirtError) in
            var info: UnsafeMutablePointer<virDomainIOThreadInfoPtr?>?
            let n = try cCall("virDomainGetIOThreadInfo", virDomainGetIOThreadInfo(d, &info, flags.rawValue))
            defer {
                for i in 0..<Int(n) { virDomainIOThreadInfoFree(info?[i]) }
                free(info)
            }
            return (0..<Int(n)).compactMap { i in
                info?[i].map { t in
                    DomainIOThread(id: t.pointee.iothread_id,
                                   cpus: CPUSet(bitmap: UnsafeBufferPointer(start: t.pointee.cpumap, count: Int(max(0, t.pointee.cpumaplen)))))
                }
            }
        }
    }

    /// Adds an IOThread (`virDomainAddIOThread`).
    public func addIOThread(id: UInt32, flags: ModificationImpact = .current) async throws {
        try await check("virDomainAddIOThread") { virDomainAddIOThread($0, id, flags.rawValue) }
    }

    /// Removes an IOThread no disk uses (`virDomainDelIOThread`).
    public func removeIOThread(id: UInt32, flags: ModificationImpact = .current) async throws {
        try await check("virDomainDelIOThread") { virDomainDelIOThread($0, id, flags.rawValue) }
    }

    /// Pins an IOThread to host CPUs (`virDomainPinIOThread`).
    public func pinIOThread(id: UInt32, to cpus: CPUSet, flags: ModificationImpact = .current) async throws {
        try await call { d throws(LibvirtError) in
            var map = try Domain.pinMap(cpus, d)
            try cCall("virDomainPinIOThread", virDomainPinIOThread(d, id, &map, Int32(map.count), flags.rawValue))
        }
    }

    // MARK: Block I/O tuning

    /// A disk's I/O limits (`virDomainGetBlockIoTune`); `disk`: target (`vda`) or source path.
    public func blockIOTune(disk: String, flags: ModificationImpact = .current) async throws -> BlockIOTune {
        BlockIOTune(parameters: try await call { d throws(LibvirtError) in
            try TypedParameterCoding.fetch("virDomainGetBlockIoTune") { p, n in
                virDomainGetBlockIoTune(d, disk, p, n, flags.rawValue | VIR_TYPED_PARAM_STRING_OKAY.rawValue)
            }
        })
    }

    /// Sets the non-nil limits (`virDomainSetBlockIoTune`).
    public func setBlockIOTune(disk: String, _ tune: BlockIOTune, flags: ModificationImpact = .current) async throws {
        let params = tune.encoded
        try await call { d throws(LibvirtError) in
            try TypedParameterCoding.withEncoded(params) { (p, n) throws(LibvirtError) in
                try cCall("virDomainSetBlockIoTune", virDomainSetBlockIoTune(d, disk, p, n, flags.rawValue))
            }
        }
    }

    // MARK: CPU statistics

    /// The domain's total CPU time (`virDomainGetCPUStats` with `start_cpu` -1).
    public func cpuStatsTotal() async throws -> DomainCPUStats {
        try await call { d throws(LibvirtError) in
            DomainCPUStats(try TypedParameterCoding.fetch("virDomainGetCPUStats") { p, n in
                // Count query: params NULL, nparams 0 → the number of parameters per CPU.
                if p == nil { n.pointee = virDomainGetCPUStats(d, nil, 0, -1, 1, 0); return n.pointee < 0 ? -1 : 0 }
                return virDomainGetCPUStats(d, p, UInt32(n.pointee), -1, 1, 0) < 0 ? -1 : 0
            })
        }
    }
}
