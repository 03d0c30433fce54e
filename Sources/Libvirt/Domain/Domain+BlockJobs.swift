import CLibvirt
import Foundation
import VirtCore

/// A running block job on one disk (`virDomainBlockJobInfo`, bandwidth read in bytes/s).
public struct BlockJobInfo: Hashable, Sendable {
    public var type: BlockJobType
    /// The job's bandwidth limit in bytes per second; 0 = unlimited.
    public var bandwidthBytesPerSecond: UInt64
    /// Progress in job units: `current` of `end` (`cur`/`end`; bytes for most jobs).
    public var current: UInt64
    public var end: UInt64

    /// `current / end` in 0…1; nil while the job has not sized itself (`end` 0).
    public var progress: Double? { end == 0 ? nil : Double(current) / Double(end) }
    /// `current == end` (and non-zero): QEMU has a copy or active commit in its mirroring
    /// phase (other jobs are about to finish). libvirt accepts a pivot only once it has
    /// processed QEMU's READY: wait for the `.ready` block-job event, or for
    /// `blockJobProgress(disk:every:untilReady:)` to end.
    public var isReady: Bool { end > 0 && current == end }
}

/// A disk's sizes as the hypervisor sees them (`virDomainGetBlockInfo`).
public struct DomainBlockInfo: Hashable, Sendable {
    /// What the guest sees.
    public var capacity: MemorySize
    /// Host storage in use (for a sparse or qcow2 file, less than `physical`).
    public var allocation: MemorySize
    /// The host file or device size.
    public var physical: MemorySize
}

/// A disk's I/O counters (`virDomainBlockStatsFlags`); nil = not reported. `raw` keeps
/// every parameter (flush counts, times, …).
public struct DomainBlockStats: Hashable, Sendable {
    public var readRequests: UInt64?
    public var readBytes: UInt64?
    public var writeRequests: UInt64?
    public var writeBytes: UInt64?
    public var flushRequests: UInt64?
    public var readTime: Duration?
    public var writeTime: Duration?
    public var flushTime: Duration?
    public var errors: UInt64?
    public var raw: TypedParameters

    init(_ p: TypedParameters) {
        let u = { (k: String) in p[k]?.uint64 }
        let ns = { (k: String) in p[k]?.uint64.map(Duration.nanoseconds(unsigned:)) }
        readRequests = u(VIR_DOMAIN_BLOCK_STATS_READ_REQ)
        readBytes = u(VIR_DOMAIN_BLOCK_STATS_READ_BYTES)
        writeRequests = u(VIR_DOMAIN_BLOCK_STATS_WRITE_REQ)
        writeBytes = u(VIR_DOMAIN_BLOCK_STATS_WRITE_BYTES)
        flushRequests = u(VIR_DOMAIN_BLOCK_STATS_FLUSH_REQ)
        readTime = ns(VIR_DOMAIN_BLOCK_STATS_READ_TOTAL_TIMES)
        writeTime = ns(VIR_DOMAIN_BLOCK_STATS_WRITE_TOTAL_TIMES)
        flushTime = ns(VIR_DOMAIN_BLOCK_STATS_FLUSH_TOTAL_TIMES)
        errors = u(VIR_DOMAIN_BLOCK_STATS_ERRS)
        raw = p
    }
}

/// The tunables of `Domain.blockCopy` (`VIR_DOMAIN_BLOCK_COPY_*` typed parameters); nil = default.
public struct BlockCopyParameters: Hashable, Sendable {
    /// Bandwidth limit in bytes per second.
    public var bandwidthBytesPerSecond: UInt64?
    /// Dirty-bitmap granularity in bytes (a power of two, 512 B … 64 MiB).
    public var granularity: UInt32?
    /// How much data may be in flight, in bytes.
    public var bufferSize: UInt64?

    public init(bandwidthBytesPerSecond: UInt64? = nil, granularity: UInt32? = nil, bufferSize: UInt64? = nil) {
        self.bandwidthBytesPerSecond = bandwidthBytesPerSecond
        self.granularity = granularity
        self.bufferSize = bufferSize
    }

    var encoded: TypedParameters {
        var p = TypedParameters()
        p[VIR_DOMAIN_BLOCK_COPY_BANDWIDTH] = bandwidthBytesPerSecond.map(TypedValue.ullong)
        p[VIR_DOMAIN_BLOCK_COPY_GRANULARITY] = granularity.map(TypedValue.uint)
        p[VIR_DOMAIN_BLOCK_COPY_BUF_SIZE] = bufferSize.map(TypedValue.ullong)
        return p
    }
}

extension Domain {
    /// `virDomainBlockJobAbortFlags`.
    public struct BlockJobAbortFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Return at once; the end comes as a `blockJob` event.
        public static let async = Self(rawValue: VIR_DOMAIN_BLOCK_JOB_ABORT_ASYNC.rawValue)
        /// Switch the disk to the copy / committed image (a ready copy or active commit).
        public static let pivot = Self(rawValue: VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT.rawValue)
    }

    /// `virDomainBlockRebaseFlags` (`blockRebase`, also a copy with `.copy`).
    public struct BlockRebaseFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Copy only the top image (the backing chain stays shared).
        public static let shallow = Self(rawValue: VIR_DOMAIN_BLOCK_REBASE_SHALLOW.rawValue)
        /// Reuse an existing destination file.
        public static let reuseExternal = Self(rawValue: VIR_DOMAIN_BLOCK_REBASE_REUSE_EXT.rawValue)
        /// The destination is raw (with `.copy`).
        public static let copyRaw = Self(rawValue: VIR_DOMAIN_BLOCK_REBASE_COPY_RAW.rawValue)
        /// Start a copy job to `base` instead of a pull.
        public static let copy = Self(rawValue: VIR_DOMAIN_BLOCK_REBASE_COPY.rawValue)
        /// Keep the backing name relative.
        public static let relative = Self(rawValue: VIR_DOMAIN_BLOCK_REBASE_RELATIVE.rawValue)
        /// The destination is a block device (with `.copy`).
        public static let copyDevice = Self(rawValue: VIR_DOMAIN_BLOCK_REBASE_COPY_DEV.rawValue)
    }

    /// `virDomainBlockCommitFlags`.
    public struct BlockCommitFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Commit only the top image into its backing file.
        public static let shallow = Self(rawValue: VIR_DOMAIN_BLOCK_COMMIT_SHALLOW.rawValue)
        /// Delete the committed images afterwards.
        public static let delete = Self(rawValue: VIR_DOMAIN_BLOCK_COMMIT_DELETE.rawValue)
        /// Commit the active (top) image: a two-phase job ending with a pivot.
        public static let active = Self(rawValue: VIR_DOMAIN_BLOCK_COMMIT_ACTIVE.rawValue)
        /// Keep the backing name relative.
        public static let relative = Self(rawValue: VIR_DOMAIN_BLOCK_COMMIT_RELATIVE.rawValue)
    }

    /// `virDomainBlockCopyFlags`.
    public struct BlockCopyFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let shallow = Self(rawValue: VIR_DOMAIN_BLOCK_COPY_SHALLOW.rawValue)
        public static let reuseExternal = Self(rawValue: VIR_DOMAIN_BLOCK_COPY_REUSE_EXT.rawValue)
        /// The job need not survive a restart of libvirtd (allows copying a persistent domain).
        public static let transientJob = Self(rawValue: VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB.rawValue)
        /// Guest writes go to both sides before completing.
        public static let synchronousWrites = Self(rawValue: VIR_DOMAIN_BLOCK_COPY_SYNCHRONOUS_WRITES.rawValue)
    }

    // MARK: Block jobs

    /// The block job on `disk` (target `vda` or source path), nil when none runs
    /// (`virDomainGetBlockJobInfo`).
    public func blockJobInfo(disk: String) async throws -> BlockJobInfo? {
        try await call { d throws(LibvirtError) in
            var i = virDomainBlockJobInfo()
            let flags = VIR_DOMAIN_BLOCK_JOB_INFO_BANDWIDTH_BYTES.rawValue
            guard try cCall("virDomainGetBlockJobInfo", virDomainGetBlockJobInfo(d, disk, &i, flags)) == 1 else { return nil }
            return BlockJobInfo(type: BlockJobType(rawValue: i.type), bandwidthBytesPerSecond: UInt64(i.bandwidth),
                                current: UInt64(i.cur), end: UInt64(i.end))
        }
    }

    /// Cancels the block job on `disk`, or with `.pivot` completes a ready copy or active
    /// commit by switching the disk over (`virDomainBlockJobAbort`).
    public func abortBlockJob(disk: String, flags: BlockJobAbortFlags = []) async throws {
        try await check("virDomainBlockJobAbort") { virDomainBlockJobAbort($0, disk, flags.rawValue) }
    }

    /// Changes a running job's bandwidth limit, bytes per second, 0 = unlimited (`virDomainBlockJobSetSpeed`).
    public func setBlockJobSpeed(disk: String, bytesPerSecond: UInt64) async throws {
        let bw = try Self.bandwidth(bytesPerSecond)
        try await check("virDomainBlockJobSetSpeed") {
            virDomainBlockJobSetSpeed($0, disk, bw, VIR_DOMAIN_BLOCK_JOB_SPEED_BANDWIDTH_BYTES.rawValue)
        }
    }

    /// Starts pulling the whole backing chain into `disk`'s top image (`virDomainBlockPull`);
    /// `blockRebase(disk:base:)` pulls only down to a base.
    public func blockPull(disk: String, bytesPerSecond: UInt64 = 0) async throws {
        let bw = try Self.bandwidth(bytesPerSecond)
        try await check("virDomainBlockPull") { virDomainBlockPull($0, disk, bw, VIR_DOMAIN_BLOCK_PULL_BANDWIDTH_BYTES.rawValue) }
    }

    /// Starts pulling the images above `base` into the top image (`base` nil: all of them),
    /// or with `.copy` a copy to the file `base` (`virDomainBlockRebase`).
    public func blockRebase(disk: String, base: String?, bytesPerSecond: UInt64 = 0, flags: BlockRebaseFlags = []) async throws {
        let bw = try Self.bandwidth(bytesPerSecond)
        let f = flags.rawValue | VIR_DOMAIN_BLOCK_REBASE_BANDWIDTH_BYTES.rawValue
        try await check("virDomainBlockRebase") { virDomainBlockRebase($0, disk, base, bw, f) }
    }

    /// Starts committing the images from `top` (nil: the top one with `.active`, else the
    /// backing file of the top) down into `base` (nil: the bottom of the chain)
    /// (`virDomainBlockCommit`). Paths or `vda[N]` indexes name the images.
    public func blockCommit(disk: String, base: String? = nil, top: String? = nil, bytesPerSecond: UInt64 = 0,
                            flags: BlockCommitFlags = []) async throws {
        let bw = try Self.bandwidth(bytesPerSecond)
        let f = flags.rawValue | VIR_DOMAIN_BLOCK_COMMIT_BANDWIDTH_BYTES.rawValue
        try await check("virDomainBlockCommit") { virDomainBlockCommit($0, disk, base, top, bw, f) }
    }

    /// Starts copying `disk` to the destination a `<disk>` XML describes (`virDomainBlockCopy`);
    /// once libvirt has it ready (a `.ready` event, or `blockJobProgress(…, untilReady: true)`
    /// ending), `abortBlockJob(…, flags: .pivot)` switches the guest over, a plain abort keeps
    /// the original.
    public func blockCopy(disk: String, destinationXML: String, parameters: BlockCopyParameters = BlockCopyParameters(),
                          flags: BlockCopyFlags = []) async throws {
        let params = parameters.encoded
        try await call { d throws(LibvirtError) in
            try TypedParameterCoding.withEncoded(params) { (p, n) throws(LibvirtError) in
                try cCall("virDomainBlockCopy", virDomainBlockCopy(d, disk, destinationXML, p, n, flags.rawValue))
            }
        }
    }

    /// Progress of the block job on `disk`, read every `interval` (`virDomainGetBlockJobInfo`):
    /// yields each reading and finishes when no job runs any more, or, when `untilReady`, after
    /// the first ready reading that libvirt itself has marked ready (a copy or active commit
    /// then waits for its pivot). QEMU's `cur == end` shows before libvirt has processed the
    /// READY event, and a pivot in between fails ("not ready for pivot yet"); the live XML's
    /// `<mirror ready='yes'>` is written with libvirt's own job state, so it is the signal
    /// that a pivot will be accepted. Throws the first failed call's error.
    public func blockJobProgress(disk: String, every interval: Duration = .milliseconds(200),
                                 untilReady: Bool = false) -> AsyncThrowingStream<BlockJobInfo, Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    while let info = try await self.blockJobInfo(disk: disk) {
                        continuation.yield(info)
                        if untilReady, info.isReady, Self.mirrorIsReady(try await self.xmlDescription(), disk: disk) { break }
                        try await Task.sleep(for: interval)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Whether the live XML's `<disk>` named `disk` (target or source path) has a
    /// `<mirror … ready='yes'>`.
    static func mirrorIsReady(_ xml: String, disk: String) -> Bool {
        for part in xml.components(separatedBy: "<disk ").dropFirst() {
            let element = part.components(separatedBy: "</disk>").first ?? part
            let named = element.contains("dev='\(disk)'") || element.contains("file='\(disk)'") || element.contains("dev=\"\(disk)\"")
            guard named, let mirror = element.range(of: "<mirror ") else { continue }
            let tag = element[mirror.upperBound...].prefix { $0 != ">" }
            return tag.contains("ready='yes'") || tag.contains("ready=\"yes\"")
        }
        return false
    }

    // MARK: Sizes, counters, raw reads

    /// Grows (or shrinks) a disk image under the running guest (`virDomainBlockResize`, in bytes).
    public func blockResize(disk: String, to size: MemorySize) async throws {
        try await check("virDomainBlockResize") { virDomainBlockResize($0, disk, size.bytes, VIR_DOMAIN_BLOCK_RESIZE_BYTES.rawValue) }
    }

    /// A disk's capacity, allocation and physical size (`virDomainGetBlockInfo`).
    public func blockInfo(disk: String) async throws -> DomainBlockInfo {
        try await call { d throws(LibvirtError) in
            var i = virDomainBlockInfo()
            try cCall("virDomainGetBlockInfo", virDomainGetBlockInfo(d, disk, &i, 0))
            return DomainBlockInfo(capacity: MemorySize(bytes: i.capacity), allocation: MemorySize(bytes: i.allocation), physical: MemorySize(bytes: i.physical))
        }
    }

    /// A disk's I/O counters (`virDomainBlockStatsFlags`; `disk` empty: all disks summed on QEMU).
    public func blockStats(disk: String) async throws -> DomainBlockStats {
        DomainBlockStats(try await call { d throws(LibvirtError) in
            try TypedParameterCoding.fetch("virDomainBlockStatsFlags") { p, n in
                virDomainBlockStatsFlags(d, disk, p, n, VIR_TYPED_PARAM_STRING_OKAY.rawValue)
            }
        })
    }

    /// The classic five counters (`virDomainBlockStats`): requests and bytes read and
    /// written, errors; nil where the hypervisor reports -1 (not supported).
    public func blockStatsBasic(disk: String) async throws -> (readRequests: UInt64?, readBytes: UInt64?, writeRequests: UInt64?, writeBytes: UInt64?, errors: UInt64?) {
        try await call { d throws(LibvirtError) in
            var s = _virDomainBlockStats()
            try cCall("virDomainBlockStats", virDomainBlockStats(d, disk, &s, MemoryLayout<_virDomainBlockStats>.size))
            let v = { (x: Int64) in x < 0 ? nil : UInt64(x) }
            return (v(s.rd_req), v(s.rd_bytes), v(s.wr_req), v(s.wr_bytes), v(s.errs))
        }
    }

    /// Reads `count` bytes of a disk's image from `offset` as the host sees them
    /// (`virDomainBlockPeek`; remote limit 4 MiB per call).
    public func blockPeek(disk: String, offset: UInt64, count: Int) async throws -> [UInt8] {
        guard count >= 0 else { throw LibvirtError(code: .invalidArg, message: "blockPeek: negative count \(count)") }
        return try await call { d throws(LibvirtError) in
            var buf = [UInt8](repeating: 0, count: count)
            let rc = buf.withUnsafeMutableBytes { virDomainBlockPeek(d, disk, offset, count, $0.baseAddress, 0) }
            try cCall("virDomainBlockPeek", rc)
            return buf
        }
    }

    /// Reads `count` bytes of guest memory from `start` (`virDomainMemoryPeek`); `physical`
    /// addresses or the vCPU 0 virtual ones.
    public func memoryPeek(start: UInt64, count: Int, physical: Bool = true) async throws -> [UInt8] {
        guard count >= 0 else { throw LibvirtError(code: .invalidArg, message: "memoryPeek: negative count \(count)") }
        let flags = physical ? VIR_MEMORY_PHYSICAL.rawValue : VIR_MEMORY_VIRTUAL.rawValue
        return try await call { d throws(LibvirtError) in
            var buf = [UInt8](repeating: 0, count: count)
            let rc = buf.withUnsafeMutableBytes { virDomainMemoryPeek(d, start, count, $0.baseAddress, flags) }
            try cCall("virDomainMemoryPeek", rc)
            return buf
        }
    }

    /// Arms a one-shot `blockThreshold` event for when a disk's allocation passes
    /// `threshold` (`virDomainSetBlockThreshold`; 0 disarms).
    public func setBlockThreshold(disk: String, _ threshold: MemorySize) async throws {
        try await check("virDomainSetBlockThreshold") { virDomainSetBlockThreshold($0, disk, threshold.bytes, 0) }
    }

    /// libvirt takes bandwidth as `unsigned long`: refuse what doesn't fit instead of truncating.
    static func bandwidth(_ bytesPerSecond: UInt64) throws(LibvirtError) -> UInt {
        guard let v = UInt(exactly: bytesPerSecond) else {
            throw LibvirtError(code: .invalidArg, message: "bandwidth \(bytesPerSecond) B/s out of range")
        }
        return v
    }
}
