import CLibvirt
import Foundation
import VirtCore

/// The host's security driver (`virSecurityModel`).
public struct HostSecurityModel: Hashable, Sendable {
    /// `selinux`, `apparmor`, `none`, … (empty: none).
    public var model: String
    /// Domain of interpretation.
    public var doi: String
}

/// The host's kernel same-page merging settings and counters (`virNodeGetMemoryParameters`,
/// the `shm_*` parameters); nil = not reported.
public struct NodeMemoryParameters: Hashable, Sendable {
    /// Pages scanned per KSM run.
    public var pagesToScan: UInt64?
    /// Pause between runs.
    public var sleep: Duration?
    public var pagesShared: UInt64?
    public var pagesSharing: UInt64?
    public var pagesUnshared: UInt64?
    public var pagesVolatile: UInt64?
    public var fullScans: UInt64?
    /// Whether pages of different NUMA nodes may merge.
    public var mergeAcrossNodes: Bool?
    public var raw: TypedParameters

    public init(pagesToScan: UInt64? = nil, sleep: Duration? = nil, mergeAcrossNodes: Bool? = nil) {
        self.pagesToScan = pagesToScan
        self.sleep = sleep
        self.mergeAcrossNodes = mergeAcrossNodes
        raw = [:]
    }

    init(_ p: TypedParameters) {
        pagesToScan = p[VIR_NODE_MEMORY_SHARED_PAGES_TO_SCAN]?.uint64
        sleep = p[VIR_NODE_MEMORY_SHARED_SLEEP_MILLISECS]?.uint64.map(Duration.milliseconds(unsigned:))
        pagesShared = p[VIR_NODE_MEMORY_SHARED_PAGES_SHARED]?.uint64
        pagesSharing = p[VIR_NODE_MEMORY_SHARED_PAGES_SHARING]?.uint64
        pagesUnshared = p[VIR_NODE_MEMORY_SHARED_PAGES_UNSHARED]?.uint64
        pagesVolatile = p[VIR_NODE_MEMORY_SHARED_PAGES_VOLATILE]?.uint64
        fullScans = p[VIR_NODE_MEMORY_SHARED_FULL_SCANS]?.uint64
        mergeAcrossNodes = p[VIR_NODE_MEMORY_SHARED_MERGE_ACROSS_NODES]?.uint64.map { $0 != 0 }
        raw = p
    }

    /// The writable settings that are set (UINT parameters, as libvirt wants them).
    var encoded: TypedParameters {
        var p = TypedParameters()
        p[VIR_NODE_MEMORY_SHARED_PAGES_TO_SCAN] = pagesToScan.map { .uint(UInt32(clamping: $0)) }
        p[VIR_NODE_MEMORY_SHARED_SLEEP_MILLISECS] = sleep.map {
            .uint(UInt32(clamping: $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000))
        }
        p[VIR_NODE_MEMORY_SHARED_MERGE_ACROSS_NODES] = mergeAcrossNodes.map { .uint($0 ? 1 : 0) }
        return p
    }
}

extension Connection {
    /// The most vCPUs a guest of hypervisor `type` (nil: the driver's default) may have
    /// (`virConnectGetMaxVcpus`).
    public func maxVCPUs(type: String? = nil) async throws -> Int {
        Int(try await call { c throws(LibvirtError) in try cCall("virConnectGetMaxVcpus", virConnectGetMaxVcpus(c, type)) })
    }

    /// The host's SMBIOS/sysinfo as `<sysinfo>` XML (`virConnectGetSysinfo`).
    public func sysinfoXML() async throws -> String {
        try await call { c throws(LibvirtError) in try takeString("virConnectGetSysinfo", virConnectGetSysinfo(c, 0)) }
    }

    /// The host's security driver (`virNodeGetSecurityModel`).
    public func securityModel() async throws -> HostSecurityModel {
        try await call { c throws(LibvirtError) in
            var m = virSecurityModel()
            try cCall("virNodeGetSecurityModel", virNodeGetSecurityModel(c, &m))
            return HostSecurityModel(model: withUnsafeBytes(of: m.model) { fixedString($0) }, doi: withUnsafeBytes(of: m.doi) { fixedString($0) })
        }
    }

    /// KSM settings and counters (`virNodeGetMemoryParameters`).
    public func nodeMemoryParameters() async throws -> NodeMemoryParameters {
        NodeMemoryParameters(try await call { c throws(LibvirtError) in
            try TypedParameterCoding.fetch("virNodeGetMemoryParameters") { p, n in virNodeGetMemoryParameters(c, p, n, 0) }
        })
    }

    /// Sets the non-nil KSM settings (`virNodeSetMemoryParameters`).
    public func setNodeMemoryParameters(_ parameters: NodeMemoryParameters) async throws {
        let params = parameters.encoded
        try await call { c throws(LibvirtError) in
            try TypedParameterCoding.withEncoded(params) { (p, n) throws(LibvirtError) in
                try cCall("virNodeSetMemoryParameters", virNodeSetMemoryParameters(c, p, n, 0))
            }
        }
    }

    /// The host's AMD SEV facts (`virNodeGetSEVInfo`: `pdh`, `cert-chain`, `cbitpos`, …).
    public func sevInfo() async throws -> TypedParameters {
        try await call { c throws(LibvirtError) in
            try TypedParameterCoding.fetchAllocated("virNodeGetSEVInfo") { p, n in virNodeGetSEVInfo(c, p, n, 0) }
        }
    }

    /// Suspends the host for `duration` (at least 60 s) (`virNodeSuspendForDuration`).
    public func suspendHost(_ target: SuspendTarget, duration: Duration) async throws {
        let t = UInt32(bitPattern: target.rawValue), secs = UInt64(max(0, duration.components.seconds))
        try await call { c throws(LibvirtError) in try cCall("virNodeSuspendForDuration", virNodeSuspendForDuration(c, t, secs, 0)) }
    }

    /// Tells the daemon whose behalf this connection acts on (`virConnectSetIdentity`:
    /// `user-name`, `unix-user-id`, `selinux-context`, …; privileged clients only).
    public func setIdentity(_ parameters: TypedParameters) async throws {
        try await call { c throws(LibvirtError) in
            try TypedParameterCoding.withEncoded(parameters) { (p, n) throws(LibvirtError) in
                try cCall("virConnectSetIdentity", virConnectSetIdentity(c, p, n, 0))
            }
        }
    }

    /// Converts a native configuration (`qemu-argv`) to domain XML (`virConnectDomainXMLFromNative`).
    public func domainXML(fromNative format: String, _ config: String) async throws -> String {
        try await call { c throws(LibvirtError) in
            try takeString("virConnectDomainXMLFromNative", virConnectDomainXMLFromNative(c, format, config, 0))
        }
    }

    /// Converts domain XML to a native configuration, e.g. the QEMU command line for
    /// `qemu-argv` (`virConnectDomainXMLToNative`).
    public func nativeConfig(_ format: String, fromDomainXML xml: String) async throws -> String {
        try await call { c throws(LibvirtError) in
            try takeString("virConnectDomainXMLToNative", virConnectDomainXMLToNative(c, format, xml, 0))
        }
    }

    /// Storage sources of `type` (`logical`, `netfs`, `iscsi`, …) the host can find, as
    /// `<sources>` XML (`virConnectFindStoragePoolSources`); `spec` narrows the search (a `<source>`).
    public func findStoragePoolSources(type: String, spec: String? = nil) async throws -> String {
        try await call { c throws(LibvirtError) in
            try takeString("virConnectFindStoragePoolSources", virConnectFindStoragePoolSources(c, type, spec, 0))
        }
    }

    /// The pool whose target is `path` (`virStoragePoolLookupByTargetPath`); `.noStoragePool` if none.
    public func storagePool(targetPath path: String) async throws -> StoragePool {
        try await lookup("virStoragePoolLookupByTargetPath") { virStoragePoolLookupByTargetPath($0, path) }
    }

    /// The SCSI host of a vHBA by its WWNN and WWPN (`virNodeDeviceLookupSCSIHostByWWN`).
    public func nodeDevice(wwnn: String, wwpn: String) async throws -> NodeDevice {
        try await lookup("virNodeDeviceLookupSCSIHostByWWN") { virNodeDeviceLookupSCSIHostByWWN($0, wwnn, wwpn, 0) }
    }
}

extension NetworkPort {
    /// The port's bandwidth settings (`virNetworkPortGetParameters`: `inbound.average`, …).
    public func parameters() async throws -> TypedParameters {
        try await call { port throws(LibvirtError) in
            try TypedParameterCoding.fetchAllocated("virNetworkPortGetParameters") { p, n in virNetworkPortGetParameters(port, p, n, 0) }
        }
    }

    /// Changes the port's bandwidth settings (`virNetworkPortSetParameters`).
    public func setParameters(_ parameters: TypedParameters) async throws {
        try await call { p throws(LibvirtError) in
            try TypedParameterCoding.withEncoded(parameters) { (a, n) throws(LibvirtError) in
                try cCall("virNetworkPortSetParameters", virNetworkPortSetParameters(p, a, n, 0))
            }
        }
    }
}
