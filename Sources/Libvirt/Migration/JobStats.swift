import CLibvirt
import Foundation
import VirtCore

/// `virDomainJobType`: the job's kind and, for a finished one, how it ended.
public enum JobType: CEnumMirror {
    case none, bounded, unbounded, completed, failed, cancelled, unknown(Int32)
    public static let known: [(Self, String)] = [(.none, "none"), (.bounded, "bounded"), (.unbounded, "unbounded"), (.completed, "completed"), (.failed, "failed"), (.cancelled, "cancelled")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virDomainJobOperation`: what the job does.
public enum JobOperation: CEnumMirror {
    case unspecified, start, save, restore, migrationIn, migrationOut, snapshot, snapshotRevert, dump, backup, snapshotDelete, unknown(Int32)
    public static let known: [(Self, String)] = [
        (.unspecified, "unknown"), (.start, "start"), (.save, "save"), (.restore, "restore"), (.migrationIn, "incoming migration"),
        (.migrationOut, "outgoing migration"), (.snapshot, "snapshot"), (.snapshotRevert, "snapshot revert"), (.dump, "dump"),
        (.backup, "backup"), (.snapshotDelete, "snapshot delete"),
    ]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// A domain job's statistics (`virDomainGetJobStats`, and the `VIR_DOMAIN_EVENT_ID_JOB_COMPLETED`
/// event). Every field is optional: "not reported" is not 0. libvirt's milliseconds are
/// `Duration`s, its byte counts `MemorySize`s; rates say their unit in their name.
/// `parameters` keeps every raw value, including ones VirtKit doesn't name.
public struct JobStats: Hashable, Sendable {
    public var type: JobType
    public var operation: JobOperation?
    /// `time_elapsed` (ms since the job started).
    public var timeElapsed: Duration?
    /// `time_remaining` (ms; bounded jobs only).
    public var timeRemaining: Duration?
    /// `downtime`: how long the guest was paused — the real value in final stats, an
    /// estimate (expected downtime) while migrating.
    public var downtime: Duration?
    /// `setup_time`
    public var setupTime: Duration?
    public var dataTotal: MemorySize?
    public var dataProcessed: MemorySize?
    public var dataRemaining: MemorySize?
    public var memoryTotal: MemorySize?
    public var memoryProcessed: MemorySize?
    public var memoryRemaining: MemorySize?
    /// `memory_bps`: transfer rate of guest memory.
    public var memoryBytesPerSecond: UInt64?
    /// `memory_dirty_rate`: pages the guest dirties per second.
    public var memoryDirtyPagesPerSecond: UInt64?
    public var memoryPageSize: MemorySize?
    /// `memory_iteration`: pre-copy passes over dirty memory so far.
    public var memoryIteration: UInt64?
    public var memoryPostcopyRequests: UInt64?
    public var diskTotal: MemorySize?
    public var diskProcessed: MemorySize?
    public var diskRemaining: MemorySize?
    public var diskBytesPerSecond: UInt64?
    /// `auto_converge_throttle` (percent of vCPU time taken away).
    public var autoConvergeThrottle: Int?
    /// `success` (completed-job statistics only).
    public var success: Bool?
    /// `errmsg` of a failed job.
    public var errorMessage: String?
    /// Every parameter as libvirt sent it.
    public var parameters: TypedParameters

    public init(type: JobType, parameters p: TypedParameters) {
        self.type = type
        parameters = p
        func ms(_ k: String) -> Duration? { p[k]?.uint64.map(Duration.milliseconds(unsigned:)) }
        func bytes(_ k: String) -> MemorySize? { p[k]?.uint64.map { MemorySize(bytes: $0) } }
        operation = p[VIR_DOMAIN_JOB_OPERATION]?.int64.map { JobOperation(rawValue: Int32(clamping: $0)) }
        timeElapsed = ms(VIR_DOMAIN_JOB_TIME_ELAPSED)
        timeRemaining = ms(VIR_DOMAIN_JOB_TIME_REMAINING)
        downtime = ms(VIR_DOMAIN_JOB_DOWNTIME)
        setupTime = ms(VIR_DOMAIN_JOB_SETUP_TIME)
        dataTotal = bytes(VIR_DOMAIN_JOB_DATA_TOTAL)
        dataProcessed = bytes(VIR_DOMAIN_JOB_DATA_PROCESSED)
        dataRemaining = bytes(VIR_DOMAIN_JOB_DATA_REMAINING)
        memoryTotal = bytes(VIR_DOMAIN_JOB_MEMORY_TOTAL)
        memoryProcessed = bytes(VIR_DOMAIN_JOB_MEMORY_PROCESSED)
        memoryRemaining = bytes(VIR_DOMAIN_JOB_MEMORY_REMAINING)
        memoryBytesPerSecond = p[VIR_DOMAIN_JOB_MEMORY_BPS]?.uint64
        memoryDirtyPagesPerSecond = p[VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE]?.uint64
        memoryPageSize = bytes(VIR_DOMAIN_JOB_MEMORY_PAGE_SIZE)
        memoryIteration = p[VIR_DOMAIN_JOB_MEMORY_ITERATION]?.uint64
        memoryPostcopyRequests = p[VIR_DOMAIN_JOB_MEMORY_POSTCOPY_REQS]?.uint64
        diskTotal = bytes(VIR_DOMAIN_JOB_DISK_TOTAL)
        diskProcessed = bytes(VIR_DOMAIN_JOB_DISK_PROCESSED)
        diskRemaining = bytes(VIR_DOMAIN_JOB_DISK_REMAINING)
        diskBytesPerSecond = p[VIR_DOMAIN_JOB_DISK_BPS]?.uint64
        autoConvergeThrottle = p[VIR_DOMAIN_JOB_AUTO_CONVERGE_THROTTLE]?.int64.map { Int($0) }
        success = p[VIR_DOMAIN_JOB_SUCCESS]?.bool
        errorMessage = p[VIR_DOMAIN_JOB_ERRMSG]?.string
    }

    /// The classic `virDomainJobInfo` as the parameters `virDomainGetJobStats` names them
    /// (no job: none; `file*` are the disk counts).
    init(classic i: virDomainJobInfo) {
        let type = JobType(rawValue: i.type)
        let fields: [(String, UInt64)] = type == .none ? [] : [
            (VIR_DOMAIN_JOB_TIME_ELAPSED, i.timeElapsed), (VIR_DOMAIN_JOB_TIME_REMAINING, i.timeRemaining),
            (VIR_DOMAIN_JOB_DATA_TOTAL, i.dataTotal), (VIR_DOMAIN_JOB_DATA_PROCESSED, i.dataProcessed),
            (VIR_DOMAIN_JOB_DATA_REMAINING, i.dataRemaining), (VIR_DOMAIN_JOB_MEMORY_TOTAL, i.memTotal),
            (VIR_DOMAIN_JOB_MEMORY_PROCESSED, i.memProcessed), (VIR_DOMAIN_JOB_MEMORY_REMAINING, i.memRemaining),
            (VIR_DOMAIN_JOB_DISK_TOTAL, i.fileTotal), (VIR_DOMAIN_JOB_DISK_PROCESSED, i.fileProcessed),
            (VIR_DOMAIN_JOB_DISK_REMAINING, i.fileRemaining),
        ]
        self.init(type: type, parameters: Dictionary(fields.map { ($0.0, TypedValue.ullong($0.1)) }, uniquingKeysWith: { a, _ in a }))
    }

    /// True while a job runs (bounded or unbounded).
    public var isActive: Bool { type == .bounded || type == .unbounded }

    /// Fraction of the data done, 0…1, when the totals are known: from `data_remaining`
    /// (`data_processed` counts bytes sent, and zero pages are sent as a few bytes each, so
    /// it can stay far below the total of a finished migration).
    public var progress: Double? {
        guard let total = dataTotal?.bytes, total > 0 else { return nil }
        if let remaining = dataRemaining?.bytes { return min(1, Double(total - min(total, remaining)) / Double(total)) }
        if let processed = dataProcessed?.bytes { return min(1, Double(processed) / Double(total)) }
        return nil
    }
}

extension Domain {
    /// `virDomainGetJobStats` flags.
    public struct JobStatsFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `VIR_DOMAIN_JOB_STATS_COMPLETED`: the last completed job's final statistics.
        public static let completed = Self(rawValue: VIR_DOMAIN_JOB_STATS_COMPLETED.rawValue)
        /// `VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED`: don't discard them after reading.
        public static let keepCompleted = Self(rawValue: VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED.rawValue)
    }

    /// The current job's statistics, or the last completed one's with `.completed`
    /// (`virDomainGetJobStats`). `type == .none` when there is no such job. Without flags,
    /// where that call is unsupported, `virDomainGetJobInfo`'s fewer fields (times and the
    /// data, memory and disk byte counts) under the same parameter names.
    public func jobStats(flags: JobStatsFlags = []) async throws -> JobStats {
        try await call { d throws(LibvirtError) in try Self.jobStats(d, flags: flags, connection: self.connection) }
    }

    static func jobStats(_ d: OpaquePointer, flags: JobStatsFlags, connection: Connection) throws(LibvirtError) -> JobStats {
        try withClassicFallback(connection, { () throws(LibvirtError) -> JobStats in
            var type: Int32 = 0
            var params: UnsafeMutablePointer<virTypedParameter>?
            var n: Int32 = 0
            try cCall("virDomainGetJobStats", virDomainGetJobStats(d, &type, &params, &n, flags.rawValue))
            defer { virTypedParamsFree(params, n) }
            return JobStats(type: JobType(rawValue: type), parameters: TypedParameterCoding.decode(params, count: Int(n)))
        }, classic: flags.isEmpty ? { () throws(LibvirtError) -> JobStats in
            var info = virDomainJobInfo()
            try cCall("virDomainGetJobInfo", virDomainGetJobInfo(d, &info))
            return JobStats(classic: info)
        } : nil)
    }

    /// Aborts the domain's current job, e.g. a migration (`virDomainAbortJob`). The guest
    /// keeps running where it was.
    public func abortJob() async throws {
        try await check("virDomainAbortJob") { virDomainAbortJob($0) }
    }
}
