import CLibvirt
import Foundation
import VirtCore

/// Which statistics groups to collect (`virDomainStatsTypes`).
public struct DomainStatsGroups: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `VIR_DOMAIN_STATS_STATE`: state and reason.
    public static let state = Self(rawValue: VIR_DOMAIN_STATS_STATE.rawValue)
    /// `VIR_DOMAIN_STATS_CPU_TOTAL`: CPU time total/user/system.
    public static let cpuTotal = Self(rawValue: VIR_DOMAIN_STATS_CPU_TOTAL.rawValue)
    /// `VIR_DOMAIN_STATS_BALLOON`
    public static let balloon = Self(rawValue: VIR_DOMAIN_STATS_BALLOON.rawValue)
    /// `VIR_DOMAIN_STATS_VCPU`: per-vCPU state and times.
    public static let vcpu = Self(rawValue: VIR_DOMAIN_STATS_VCPU.rawValue)
    /// `VIR_DOMAIN_STATS_INTERFACE`: per-interface traffic.
    public static let interface = Self(rawValue: VIR_DOMAIN_STATS_INTERFACE.rawValue)
    /// `VIR_DOMAIN_STATS_BLOCK`: per-disk I/O.
    public static let block = Self(rawValue: VIR_DOMAIN_STATS_BLOCK.rawValue)
    /// `VIR_DOMAIN_STATS_PERF`: perf event counters.
    public static let perf = Self(rawValue: VIR_DOMAIN_STATS_PERF.rawValue)
    /// `VIR_DOMAIN_STATS_IOTHREAD` (kept in `extra`).
    public static let iothread = Self(rawValue: VIR_DOMAIN_STATS_IOTHREAD.rawValue)
    /// `VIR_DOMAIN_STATS_MEMORY` (kept in `extra`).
    public static let memory = Self(rawValue: VIR_DOMAIN_STATS_MEMORY.rawValue)
    /// `VIR_DOMAIN_STATS_DIRTYRATE` (kept in `extra`).
    public static let dirtyRate = Self(rawValue: VIR_DOMAIN_STATS_DIRTYRATE.rawValue)
    /// `VIR_DOMAIN_STATS_VM`: hypervisor VM counters (kept in `extra`).
    public static let vm = Self(rawValue: VIR_DOMAIN_STATS_VM.rawValue)
    /// No flag: libvirt returns every group the driver supports.
    public static let all: Self = []
}

/// Which domains `allDomainStats` covers, and how (`virConnectGetAllDomainStatsFlags`).
public struct DomainStatsFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let active = Self(rawValue: VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE.rawValue)
    public static let inactive = Self(rawValue: VIR_CONNECT_GET_ALL_DOMAINS_STATS_INACTIVE.rawValue)
    public static let persistent = Self(rawValue: VIR_CONNECT_GET_ALL_DOMAINS_STATS_PERSISTENT.rawValue)
    public static let transient = Self(rawValue: VIR_CONNECT_GET_ALL_DOMAINS_STATS_TRANSIENT.rawValue)
    public static let running = Self(rawValue: VIR_CONNECT_GET_ALL_DOMAINS_STATS_RUNNING.rawValue)
    public static let paused = Self(rawValue: VIR_CONNECT_GET_ALL_DOMAINS_STATS_PAUSED.rawValue)
    public static let shutoff = Self(rawValue: VIR_CONNECT_GET_ALL_DOMAINS_STATS_SHUTOFF.rawValue)
    public static let other = Self(rawValue: VIR_CONNECT_GET_ALL_DOMAINS_STATS_OTHER.rawValue)
    /// Skip stats that would wait for a busy domain job.
    public static let noWait = Self(rawValue: VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT.rawValue)
    /// Include the backing chain in block stats.
    public static let backing = Self(rawValue: VIR_CONNECT_GET_ALL_DOMAINS_STATS_BACKING.rawValue)
    /// Fail instead of silently omitting unsupported groups.
    public static let enforceStats = Self(rawValue: VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS.rawValue)
}

/// The statistics of one domain (`virDomainStatsRecord`), decoded to typed fields.
/// Every field is optional: nil means libvirt didn't report it (group not requested,
/// not supported by the driver, or domain inactive), never 0.
public struct DomainStats: Sendable {
    /// The domain's name (`virDomainGetName` on the record's handle).
    public var name: String
    /// A handle on the domain, only when asked for with `handles: true` (see
    /// `Connection.allDomainStats`); otherwise use `name` with `Connection.domain(named:)`.
    public let domain: Domain?

    /// `state.state` + `state.reason`.
    public var state: DomainStatus?
    public var cpu: CPU?
    public var balloon: Balloon?
    public var vcpu: VCPUs?
    /// `net.count` (may exceed `interfaces.count` when an interface has no host-side counters).
    public var interfaceCount: Int?
    /// `net.<n>.*`, indexed by n.
    public var interfaces: [Interface] = []
    /// `block.count`.
    public var blockCount: Int?
    /// `block.<n>.*`, indexed by n.
    public var blocks: [Block] = []
    /// `perf.<event>` counters.
    public var perf: [StatsField] = []
    /// Every other field (iothread, memory bandwidth, dirty rate, KVM `vm.*` and per-vCPU
    /// hypervisor counters, fields of newer libvirt versions), in libvirt's order.
    public var extra = StatsFields()

    init(name: String, domain: Domain?) {
        self.name = name
        self.domain = domain
    }

    /// `cpu.*` (libvirt's nanoseconds).
    public struct CPU: Hashable, Sendable {
        public var time: Duration?
        public var user: Duration?
        public var system: Duration?
        public var haltPollSuccessTime: Duration?
        public var haltPollFailTime: Duration?

        /// The same figures from elsewhere (a guest's cgroup `cpu.stat`, read by its host).
        public init(time: Duration? = nil, user: Duration? = nil, system: Duration? = nil,
                    haltPollSuccessTime: Duration? = nil, haltPollFailTime: Duration? = nil) {
            self.time = time
            self.user = user
            self.system = system
            self.haltPollSuccessTime = haltPollSuccessTime
            self.haltPollFailTime = haltPollFailTime
        }
    }

    /// `balloon.*` (libvirt's KiB as `MemorySize`; fault and hugetlb counts are counts).
    public struct Balloon: Hashable, Sendable {
        public var current: MemorySize?
        public var maximum: MemorySize?
        public var swapIn: MemorySize?
        public var swapOut: MemorySize?
        public var majorFault: UInt64?
        public var minorFault: UInt64?
        public var unused: MemorySize?
        public var available: MemorySize?
        public var usable: MemorySize?
        public var rss: MemorySize?
        /// When the guest last updated its balloon statistics (`last-update`, Unix seconds).
        public var lastUpdate: Timestamp?
        public var diskCaches: MemorySize?
        public var hugetlbPageAllocations: UInt64?
        public var hugetlbPageFailures: UInt64?
    }

    /// `vcpu.current`, `vcpu.maximum` and `vcpu.<n>.*`.
    public struct VCPUs: Hashable, Sendable {
        public var current: Int?
        public var maximum: Int?
        /// Indexed by vCPU number.
        public var entries: [VCPU] = []
    }

    /// `vcpu.<n>.*`.
    public struct VCPU: Hashable, Sendable {
        /// `virVcpuState`.
        public enum State: CEnumMirror {
            case offline, running, blocked
            case unknown(Int32)
            public static let known: [(Self, String)] = [(.offline, "offline"), (.running, "running"), (.blocked, "blocked")]
            public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
            public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
        }
        public var state: State?
        /// CPU time.
        public var time: Duration?
        /// Time waiting on I/O, if the hypervisor reports it.
        public var wait: Duration?
        /// Time runnable but waiting for a host CPU (schedstat).
        public var delay: Duration?
        /// `vcpu.<n>.halted`.
        public var halted: Bool?
    }

    /// `net.<n>.*`.
    public struct Interface: Hashable, Sendable {
        public var name: String?
        public var rxBytes: UInt64?
        public var rxPackets: UInt64?
        public var rxErrors: UInt64?
        public var rxDrops: UInt64?
        public var txBytes: UInt64?
        public var txPackets: UInt64?
        public var txErrors: UInt64?
        public var txDrops: UInt64?
    }

    /// `block.<n>.*`.
    public struct Block: Hashable, Sendable {
        public var name: String?
        public var path: String?
        public var backingIndex: UInt64?
        public var readRequests: UInt64?
        public var readBytes: UInt64?
        public var readTime: Duration?
        public var writeRequests: UInt64?
        public var writeBytes: UInt64?
        public var writeTime: Duration?
        public var flushRequests: UInt64?
        public var flushTime: Duration?
        public var errors: UInt64?
        /// Host storage in use by the image.
        public var allocation: MemorySize?
        /// Size the guest sees.
        public var capacity: MemorySize?
        /// Host size of the image (file or device).
        public var physical: MemorySize?
        /// Write threshold (`virDomainSetBlockThreshold`).
        public var threshold: MemorySize?
    }
}

extension Connection {
    /// Statistics of all domains matching `flags` (`virConnectGetAllDomainStats`), decoded
    /// to typed records; the C records are always freed (`virDomainStatsRecordListFree`),
    /// except the parameter arrays of records with untyped fields, which those records'
    /// `extra` keeps until it is dropped (see `StatsFields`).
    ///
    /// - Parameters:
    ///   - groups: the statistics groups (`.all`: every group the driver supports).
    ///   - flags: which domains, and how (`.noWait` skips stats a busy domain's job would delay).
    ///   - handles: also give each record a `Domain` handle. Off by default: the
    ///   hot path identifies domains by name, because a handle costs a `virDomainRef` now
    ///   and a `virDomainFree` on whichever thread drops the record (each libvirt domain
    ///   call formats the UUID for debug logging even with logging off, and freeing
    ///   libvirt objects on another thread is slower): `virtkit-bench libvirt` measures both.
    public func allDomainStats(groups: DomainStatsGroups = .all, flags: DomainStatsFlags = [], handles: Bool = false) async throws -> [DomainStats] {
        try await call { c throws(LibvirtError) in
            var records: UnsafeMutablePointer<virDomainStatsRecordPtr?>?
            let n = virConnectGetAllDomainStats(c, groups.rawValue, &records, flags.rawValue)
            guard n >= 0 else { throw LibvirtError.takeLast(after: "virConnectGetAllDomainStats") }
            return DomainStatsDecoder.decodeAndFree(records, connection: self, handles: handles)
        }
    }

    /// Statistics of the given domains (`virDomainListGetStats`). Domains must belong to
    /// this connection; only `noWait`, `backing` and `enforceStats` flags apply.
    public func domainStats(_ domains: [Domain], groups: DomainStatsGroups = .all, flags: DomainStatsFlags = [], handles: Bool = false) async throws -> [DomainStats] {
        if domains.isEmpty { return [] }
        return try await call { _ throws(LibvirtError) in
            var list: [OpaquePointer?] = domains.map { $0.handle }
            list.append(nil)  // NULL-terminated
            var records: UnsafeMutablePointer<virDomainStatsRecordPtr?>?
            let n = virDomainListGetStats(&list, groups.rawValue, &records, flags.rawValue)
            guard n >= 0 else { throw LibvirtError.takeLast(after: "virDomainListGetStats") }
            return DomainStatsDecoder.decodeAndFree(records, connection: self, handles: handles)
        }
    }

    /// The undecoded escape hatch: every record's parameters by name
    /// (`virConnectGetAllDomainStats`).
    public func allDomainStatsRaw(groups: DomainStatsGroups = .all, flags: DomainStatsFlags = []) async throws -> [(domain: Domain, parameters: TypedParameters)] {
        let result: [RawRecord] = try await call { c throws(LibvirtError) in
            var records: UnsafeMutablePointer<virDomainStatsRecordPtr?>?
            let n = virConnectGetAllDomainStats(c, groups.rawValue, &records, flags.rawValue)
            guard n >= 0 else { throw LibvirtError.takeLast(after: "virConnectGetAllDomainStats") }
            defer { virDomainStatsRecordListFree(records) }
            guard let records else { return [] }
            return (0..<Int(n)).compactMap { i in
                guard let r = records[i], let dom = r.pointee.dom else { return nil }
                return RawRecord(
                    domain: Domain(retaining: dom, connection: self),
                    parameters: TypedParameterCoding.decode(r.pointee.params, count: Int(r.pointee.nparams)))
            }
        }
        return result.map { ($0.domain, $0.parameters) }
    }
}

private struct RawRecord: Sendable {
    let domain: Domain
    let parameters: TypedParameters
}

/// The hot-path decoder: matches field names byte by byte against static prefixes (no
/// per-field String or dictionary), fills typed accumulators in place, makes Strings only
/// for string values and `perf.*` names, and notes where every other field is: those stay
/// in libvirt's C array, which the record adopts (decoded to Swift only when read, see
/// `StatsFields`).
///
/// A measured hot path (`virtkit-bench libvirt`): it reads the `virTypedParameter` array in
/// place with `TypedParameterCoding`'s scalar readers instead of decoding it to
/// `TypedParameters` first, which costs a String and a dictionary entry per field (~62
/// fields per qemu guest). Everything else decodes through `TypedParameterCoding`.
enum DomainStatsDecoder {
    private typealias C = TypedParameterCoding
    @inline(__always) private static func ns(_ p: UnsafePointer<virTypedParameter>) -> Duration? { C.uint64(p).map(Duration.nanoseconds(unsigned:)) }
    @inline(__always) private static func kib(_ p: UnsafePointer<virTypedParameter>) -> MemorySize? { C.uint64(p).map(MemorySize.kibibytes) }
    @inline(__always) private static func bytes(_ p: UnsafePointer<virTypedParameter>) -> MemorySize? { C.uint64(p).map { MemorySize(bytes: $0) } }

    /// Decodes every record, then frees the list with `virDomainStatsRecordListFree` (on
    /// this pool thread, like the C caller would). With `handles`, each record's domain
    /// gets its own reference (`virDomainRef`) for its `Domain`.
    static func decodeAndFree(
        _ records: UnsafeMutablePointer<virDomainStatsRecordPtr?>?, connection: Connection, handles: Bool
    ) -> [DomainStats] {
        guard let records else { return [] }
        defer { virDomainStatsRecordListFree(records) }
        var n = 0, most = 0
        while let r = records[n] {  // NULL-terminated
            most = max(most, Int(r.pointee.nparams))
            n += 1
        }
        var out: [DomainStats] = []
        out.reserveCapacity(n)
        var untyped = UntypedFieldIndices(capacity: most)
        for i in 0..<n {
            guard let r = records[i], let dom = r.pointee.dom else { continue }
            let name = virDomainGetName(dom).map { String(cString: $0) } ?? ""
            out.append(DomainStats(name: name, domain: handles ? Domain(retaining: dom, connection: connection) : nil))
            untyped.removeAll()
            decode(r.pointee.params, count: Int(r.pointee.nparams), into: &out[out.count - 1], untyped: &untyped)  // in place: no copy of the record
            // The untyped fields stay where libvirt put them: the record adopts the C array
            // (and the list free below skips it), nothing is copied.
            if untyped.count > 0, let params = r.pointee.params {
                out[out.count - 1].extra = StatsFields(adopted: .adopt(params, count: r.pointee.nparams, indices: untyped.buffer))
                r.pointee.params = nil
                r.pointee.nparams = 0
            }
        }
        return out
    }

    /// Decodes one record's parameters into `s`, copying the untyped ones (the caller keeps
    /// ownership of `params`).
    static func decode(_ params: UnsafeMutablePointer<virTypedParameter>?, count: Int, into s: inout DomainStats) {
        var untyped = UntypedFieldIndices(capacity: count)
        decode(params, count: count, into: &s, untyped: &untyped)
        if untyped.count > 0, let params { s.extra = StatsFields(storage: .copying(params, indices: untyped.buffer)) }
    }

    /// Decodes one record's typed fields into `s` and appends the positions of the others
    /// to `untyped`.
    static func decode(
        _ params: UnsafeMutablePointer<virTypedParameter>?, count: Int, into s: inout DomainStats, untyped: inout UntypedFieldIndices
    ) {
        guard let params, count > 0 else { return }
        var stateRaw: Int32?
        var reasonRaw: Int32 = 0
        // Accumulators kept out of `s` so that nothing is copied back and forth (an
        // optional struct holding an array copied per field would copy the array).
        var cpu = DomainStats.CPU(), hasCPU = false
        var balloon = DomainStats.Balloon(), hasBalloon = false
        var vcpu = DomainStats.VCPUs(), hasVCPU = false
        for i in 0..<count {
            let p = UnsafePointer(params + i)
            var f = FieldName(p)
            switch f.byte {
            case UInt8(ascii: "s") where f.eat("state."):
                if f.isLast("state") { stateRaw = C.int32(p); continue }
                if f.isLast("reason") { reasonRaw = C.int32(p) ?? 0; continue }
            case UInt8(ascii: "c") where f.eat("cpu."):
                if Self.decodeCPU(p, &f, &cpu) { hasCPU = true; continue }
            case UInt8(ascii: "b") where f.eat("balloon."):
                if Self.decodeBalloon(p, &f, &balloon) { hasBalloon = true; continue }
            case UInt8(ascii: "b") where f.eat("block."):
                if f.isLast("count") { s.blockCount = C.int(p); continue }
                if let idx = f.eatIndex() {
                    s.blocks.pad(toInclude: idx, with: .init())
                    if Self.decodeBlock(p, &f, &s.blocks[idx]) { continue }
                }
            case UInt8(ascii: "v") where f.eat("vcpu."):
                if let idx = f.eatIndex() {
                    if Self.decodeVCPU(p, &f, idx, &vcpu) { hasVCPU = true; continue }
                } else if f.isLast("current") {
                    vcpu.current = C.int(p); hasVCPU = true; continue
                } else if f.isLast("maximum") {
                    vcpu.maximum = C.int(p); hasVCPU = true; continue
                }
            case UInt8(ascii: "n") where f.eat("net."):
                if f.isLast("count") { s.interfaceCount = C.int(p); continue }
                if let idx = f.eatIndex() {
                    s.interfaces.pad(toInclude: idx, with: .init())
                    if Self.decodeInterface(p, &f, &s.interfaces[idx]) { continue }
                }
            case UInt8(ascii: "p") where f.eat("perf."):
                s.perf.append(StatsField(name: f.rest, value: TypedParameterCoding.value(p)))
                continue
            default:
                break
            }
            untyped.append(i)  // no typed home: kept in `extra`
        }
        if let stateRaw { s.state = DomainStatus(state: stateRaw, reason: reasonRaw) }
        if hasCPU { s.cpu = cpu }
        if hasBalloon { s.balloon = balloon }
        if hasVCPU { s.vcpu = vcpu }
    }

    private static func decodeCPU(_ p: UnsafePointer<virTypedParameter>, _ f: inout FieldName, _ c: inout DomainStats.CPU) -> Bool {
        switch f.byte {
        case UInt8(ascii: "t"): if f.isLast("time") { c.time = ns(p); return true }
        case UInt8(ascii: "u"): if f.isLast("user") { c.user = ns(p); return true }
        case UInt8(ascii: "s"): if f.isLast("system") { c.system = ns(p); return true }
        case UInt8(ascii: "h"):
            if f.eat("haltpoll.") {
                if f.isLast("success.time") { c.haltPollSuccessTime = ns(p); return true }
                if f.isLast("fail.time") { c.haltPollFailTime = ns(p); return true }
            }
        default: break
        }
        return false
    }

    private static func decodeBalloon(_ p: UnsafePointer<virTypedParameter>, _ f: inout FieldName, _ b: inout DomainStats.Balloon) -> Bool {
        switch f.byte {
        case UInt8(ascii: "c"): if f.isLast("current") { b.current = kib(p); return true }
        case UInt8(ascii: "m"):
            if f.isLast("maximum") { b.maximum = kib(p); return true }
            if f.isLast("major_fault") { b.majorFault = C.uint64(p); return true }
            if f.isLast("minor_fault") { b.minorFault = C.uint64(p); return true }
        case UInt8(ascii: "s"):
            if f.isLast("swap_in") { b.swapIn = kib(p); return true }
            if f.isLast("swap_out") { b.swapOut = kib(p); return true }
        case UInt8(ascii: "u"):
            if f.isLast("unused") { b.unused = kib(p); return true }
            if f.isLast("usable") { b.usable = kib(p); return true }
        case UInt8(ascii: "a"): if f.isLast("available") { b.available = kib(p); return true }
        case UInt8(ascii: "r"): if f.isLast("rss") { b.rss = kib(p); return true }
        case UInt8(ascii: "l"): if f.isLast("last-update") { b.lastUpdate = C.uint64(p).map { Timestamp.seconds(sinceUnixEpoch: Int64(clamping: $0)) }; return true }
        case UInt8(ascii: "d"): if f.isLast("disk_caches") { b.diskCaches = kib(p); return true }
        case UInt8(ascii: "h"):
            if f.isLast("hugetlb_pgalloc") { b.hugetlbPageAllocations = C.uint64(p); return true }
            if f.isLast("hugetlb_pgfail") { b.hugetlbPageFailures = C.uint64(p); return true }
        default: break
        }
        return false
    }

    /// `vcpu.<idx>.*` (the cursor is past the index). Most fields here are the ~40 KVM
    /// counters without a typed home, so one byte decides before any comparison.
    private static func decodeVCPU(_ p: UnsafePointer<virTypedParameter>, _ f: inout FieldName, _ idx: Int, _ v: inout DomainStats.VCPUs) -> Bool {
        @inline(__always) func entry(_ body: (inout DomainStats.VCPU) -> Void) -> Bool {
            if v.entries.count <= idx {
                if v.entries.isEmpty, let m = v.maximum ?? v.current, m > idx, m <= 4096 { v.entries.reserveCapacity(m) }
                v.entries.pad(toInclude: idx, with: .init())
            }
            body(&v.entries[idx])
            return true
        }
        switch f.byte {
        case UInt8(ascii: "s"): if f.isLast("state") { return entry { $0.state = C.int32(p).map { DomainStats.VCPU.State(rawValue: $0) } } }
        case UInt8(ascii: "t"): if f.isLast("time") { return entry { $0.time = ns(p) } }
        case UInt8(ascii: "w"): if f.isLast("wait") { return entry { $0.wait = ns(p) } }
        case UInt8(ascii: "d"): if f.isLast("delay") { return entry { $0.delay = ns(p) } }
        case UInt8(ascii: "h"): if f.isLast("halted") { return entry { $0.halted = C.bool(p) } }
        default: break
        }
        return false
    }

    private static func decodeInterface(_ p: UnsafePointer<virTypedParameter>, _ f: inout FieldName, _ n: inout DomainStats.Interface) -> Bool {
        if f.isLast("name") { n.name = C.string(p); return true }
        if f.eat("rx.") {
            if f.isLast("bytes") { n.rxBytes = C.uint64(p); return true }
            if f.isLast("pkts") { n.rxPackets = C.uint64(p); return true }
            if f.isLast("errs") { n.rxErrors = C.uint64(p); return true }
            if f.isLast("drop") { n.rxDrops = C.uint64(p); return true }
        } else if f.eat("tx.") {
            if f.isLast("bytes") { n.txBytes = C.uint64(p); return true }
            if f.isLast("pkts") { n.txPackets = C.uint64(p); return true }
            if f.isLast("errs") { n.txErrors = C.uint64(p); return true }
            if f.isLast("drop") { n.txDrops = C.uint64(p); return true }
        }
        return false
    }

    private static func decodeBlock(_ p: UnsafePointer<virTypedParameter>, _ f: inout FieldName, _ b: inout DomainStats.Block) -> Bool {
        switch f.byte {
        case UInt8(ascii: "n"): if f.isLast("name") { b.name = C.string(p); return true }
        case UInt8(ascii: "p"):
            if f.isLast("path") { b.path = C.string(p); return true }
            if f.isLast("physical") { b.physical = bytes(p); return true }
        case UInt8(ascii: "b"): if f.isLast("backingIndex") { b.backingIndex = C.uint64(p); return true }
        case UInt8(ascii: "r"):
            if f.eat("rd.") {
                if f.isLast("reqs") { b.readRequests = C.uint64(p); return true }
                if f.isLast("bytes") { b.readBytes = C.uint64(p); return true }
                if f.isLast("times") { b.readTime = ns(p); return true }
            }
        case UInt8(ascii: "w"):
            if f.eat("wr.") {
                if f.isLast("reqs") { b.writeRequests = C.uint64(p); return true }
                if f.isLast("bytes") { b.writeBytes = C.uint64(p); return true }
                if f.isLast("times") { b.writeTime = ns(p); return true }
            }
        case UInt8(ascii: "f"):
            if f.eat("fl.") {
                if f.isLast("reqs") { b.flushRequests = C.uint64(p); return true }
                if f.isLast("times") { b.flushTime = ns(p); return true }
            }
        case UInt8(ascii: "e"): if f.isLast("errors") { b.errors = C.uint64(p); return true }
        case UInt8(ascii: "a"): if f.isLast("allocation") { b.allocation = bytes(p); return true }
        case UInt8(ascii: "c"): if f.isLast("capacity") { b.capacity = bytes(p); return true }
        case UInt8(ascii: "t"): if f.isLast("threshold") { b.threshold = bytes(p); return true }
        default: break
        }
        return false
    }
}

/// A cursor over a parameter's fixed-size, NUL-terminated field name.
struct FieldName {
    private let base: UnsafePointer<UInt8>
    private var offset = 0
    /// `VIR_TYPED_PARAM_FIELD_LENGTH`.
    private static let length = 80

    init(_ p: UnsafePointer<virTypedParameter>) {
        // `field` is the struct's first member: a char[80] array.
        base = UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self)
    }

    /// The byte at the cursor (0 at the end).
    var byte: UInt8 { offset < Self.length ? base[offset] : 0 }

    /// Whether the `n` bytes at the cursor are `s`'s (a byte loop: these literals are a few
    /// bytes long, shorter than a call to `memcmp` costs).
    @inline(__always) private func matches(_ s: StaticString, _ n: Int) -> Bool {
        let p = s.utf8Start
        var i = 0
        while i < n {
            if base[offset + i] != p[i] { return false }
            i += 1
        }
        return true
    }

    /// Advances past `prefix` if the name continues with it.
    @inline(__always) mutating func eat(_ prefix: StaticString) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard offset + n < Self.length, matches(prefix, n) else { return false }
        offset += n
        return true
    }

    /// True if the rest of the name is exactly `suffix` (the length is checked first: it
    /// rejects most candidates without comparing).
    @inline(__always) func isLast(_ suffix: StaticString) -> Bool {
        let n = suffix.utf8CodeUnitCount
        return offset + n < Self.length && base[offset + n] == 0 && matches(suffix, n)
    }

    /// Reads a decimal index followed by `.` (the `<n>.` of `vcpu.<n>.time`).
    @inline(__always) mutating func eatIndex() -> Int? {
        var i = offset
        var v = 0
        while i < Self.length, base[i] >= 48, base[i] <= 57 {
            v = v &* 10 &+ Int(base[i] &- 48)
            i += 1
            if v > 1_000_000 { return nil }  // guards against absurd indices
        }
        guard i > offset, i < Self.length, base[i] == UInt8(ascii: ".") else { return nil }
        offset = i + 1
        return v
    }

    /// The rest of the name as a String.
    var rest: String {
        var end = offset
        while end < Self.length, base[end] != 0 { end += 1 }
        return String(decoding: UnsafeBufferPointer(start: base + offset, count: end - offset), as: UTF8.self)
    }
}

extension Array {
    /// Appends `filler` until `index` is a valid index (records index `vcpu.<n>`,
    /// `net.<n>`, `block.<n>` fields by number, and libvirt may skip numbers).
    @inline(__always)
    mutating func pad(toInclude index: Int, with filler: Element) {
        if count <= index { append(contentsOf: repeatElement(filler, count: index + 1 - count)) }
    }
}
