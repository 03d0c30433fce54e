import CLibvirt
import Foundation
import VirtCore

/// Typed migration options: `virDomainMigrateFlags` plus the `VIR_MIGRATE_PARAM_*` typed
/// parameters of `virDomainMigrate3` / `virDomainMigrateToURI3`.
public struct MigrationOptions: Hashable, Sendable {
    /// `VIR_MIGRATE_NON_SHARED_DISK` (all) / `VIR_MIGRATE_NON_SHARED_INC` (incremental).
    public enum CopyStorage: String, Hashable, Sendable { case all, incremental }

    /// Post-copy (`VIR_MIGRATE_POSTCOPY`): enable it, and optionally switch to it
    /// (`virDomainMigrateStartPostCopy`) once pre-copy reached `switchAfterIteration`.
    public struct PostCopy: Hashable, Sendable {
        public var switchAfterIteration: Int?
        /// `VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY`.
        public var bandwidthMiBPerSecond: UInt64?
        public init(switchAfterIteration: Int? = nil, bandwidthMiBPerSecond: UInt64? = nil) {
            self.switchAfterIteration = switchAfterIteration
            self.bandwidthMiBPerSecond = bandwidthMiBPerSecond
        }
    }

    /// `VIR_MIGRATE_LIVE`: keep the guest running while memory is copied.
    public var live = true
    /// `VIR_MIGRATE_PERSIST_DEST`: define the domain persistently on the destination.
    public var persistOnDestination = false
    /// `VIR_MIGRATE_UNDEFINE_SOURCE`: remove the source's persistent definition.
    public var undefineSource = false
    public var copyStorage: CopyStorage?
    /// `VIR_MIGRATE_COMPRESSED` with `VIR_MIGRATE_PARAM_COMPRESSION` = this method
    /// (`xbzrle`, `mt`; `zlib`/`zstd` with parallel connections need libvirt ≥ 9.4 — 9.0
    /// rejects them); empty string: libvirt's default method.
    public var compression: String?
    /// `VIR_MIGRATE_AUTO_CONVERGE`: throttle vCPUs of a guest that dirties memory too fast.
    public var autoConverge = false
    public var postCopy: PostCopy?
    /// `VIR_MIGRATE_PEER2PEER`: the source daemon drives the migration itself (needs a URI
    /// target the source daemon can open).
    public var peerToPeer = false
    /// `VIR_MIGRATE_TUNNELLED`: data through the libvirt connection (implies peer-to-peer).
    public var tunnelled = false
    /// `VIR_MIGRATE_PARAM_BANDWIDTH`.
    public var bandwidthMiBPerSecond: UInt64?
    /// Maximum tolerable downtime (`virDomainMigrateSetMaxDowntime`, set before starting).
    public var maxDowntime: Duration?
    /// `VIR_MIGRATE_PARALLEL` with `VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS`.
    public var parallelConnections: Int?
    /// `VIR_MIGRATE_TLS`: encrypt the migration stream (needs TLS set up on both hosts).
    public var tls = false
    /// `VIR_MIGRATE_PARAM_TLS_DESTINATION`: the host name to check the certificate against.
    public var tlsDestination: String?
    /// `VIR_MIGRATE_PARAM_URI`: where the data goes, e.g. `tcp://127.0.0.1` (port optional).
    public var migrateURI: String?
    /// `VIR_MIGRATE_PARAM_LISTEN_ADDRESS` on the destination.
    public var listenAddress: String?
    /// `VIR_MIGRATE_PARAM_DEST_NAME`
    public var destinationName: String?
    /// `VIR_MIGRATE_PARAM_DEST_XML`
    public var destinationXML: String?
    /// `VIR_MIGRATE_PAUSED`: leave the guest paused on the destination.
    public var pausedOnDestination = false
    /// `VIR_MIGRATE_UNSAFE`: skip libvirt's safety checks (disk cache modes, …).
    public var unsafe = false
    /// `VIR_MIGRATE_ABORT_ON_ERROR`: abort on I/O errors during the migration.
    public var abortOnError = false
    /// `VIR_MIGRATE_OFFLINE`: migrate only the definition of an inactive domain.
    public var offline = false
    /// `VIR_MIGRATE_CHANGE_PROTECTION`
    public var changeProtection = false

    public init() {}

    /// The `virDomainMigrateFlags` bits these options ask for.
    public var flags: MigrationFlags {
        var f: MigrationFlags = []
        func set(_ on: Bool, _ bit: MigrationFlags) { if on { f.insert(bit) } }
        set(live, .live)
        set(peerToPeer || tunnelled, .peerToPeer)
        set(tunnelled, .tunnelled)
        set(persistOnDestination, .persistOnDestination)
        set(undefineSource, .undefineSource)
        set(pausedOnDestination, .paused)
        set(copyStorage == .all, .nonSharedDisk)
        set(copyStorage == .incremental, .nonSharedIncremental)
        set(changeProtection, .changeProtection)
        set(unsafe, .unsafe)
        set(offline, .offline)
        set(compression != nil, .compressed)
        set(abortOnError, .abortOnError)
        set(autoConverge, .autoConverge)
        set(postCopy != nil, .postCopy)
        set(tls, .tls)
        set(parallelConnections != nil, .parallel)
        return f
    }

    /// The typed parameters, validated: a bad value is a typed `.invalidArg` error before
    /// anything reaches libvirt.
    public func parameters() throws(LibvirtError) -> TypedParameters {
        var p: TypedParameters = [:]
        func bad(_ m: String) -> LibvirtError { LibvirtError(code: .invalidArg, message: "invalid migration option: \(m)") }
        if let v = migrateURI { p[VIR_MIGRATE_PARAM_URI] = .string(v) }
        if let v = listenAddress { p[VIR_MIGRATE_PARAM_LISTEN_ADDRESS] = .string(v) }
        if let v = destinationName {
            guard !v.isEmpty else { throw bad("empty destination name") }
            p[VIR_MIGRATE_PARAM_DEST_NAME] = .string(v)
        }
        if let v = destinationXML { p[VIR_MIGRATE_PARAM_DEST_XML] = .string(v) }
        if let v = bandwidthMiBPerSecond {
            guard v > 0 else { throw bad("bandwidth must be > 0 MiB/s") }
            p[VIR_MIGRATE_PARAM_BANDWIDTH] = .ullong(v)
        }
        if let v = postCopy?.bandwidthMiBPerSecond { p[VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY] = .ullong(v) }
        if let v = compression, !v.isEmpty { p[VIR_MIGRATE_PARAM_COMPRESSION] = .string(v) }
        if let v = parallelConnections {
            guard v >= 1, v <= Int(Int32.max) else { throw bad("parallel connections must be ≥ 1") }
            p[VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS] = .int(Int32(v))
        }
        if let v = tlsDestination { p[VIR_MIGRATE_PARAM_TLS_DESTINATION] = .string(v) }
        if let d = maxDowntime, d <= .zero { throw bad("max downtime must be > 0") }
        if let n = postCopy?.switchAfterIteration, n < 0 { throw bad("post-copy switch iteration must be ≥ 0") }
        return p
    }
}

/// `virDomainMigrateFlags`: what `MigrationOptions.flags` sets (the options are the way to
/// choose them; the set is public for logging and for callers of libvirt's C API).
public struct MigrationFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let live = Self(rawValue: VIR_MIGRATE_LIVE.rawValue)
    public static let peerToPeer = Self(rawValue: VIR_MIGRATE_PEER2PEER.rawValue)
    public static let tunnelled = Self(rawValue: VIR_MIGRATE_TUNNELLED.rawValue)
    public static let persistOnDestination = Self(rawValue: VIR_MIGRATE_PERSIST_DEST.rawValue)
    public static let undefineSource = Self(rawValue: VIR_MIGRATE_UNDEFINE_SOURCE.rawValue)
    public static let paused = Self(rawValue: VIR_MIGRATE_PAUSED.rawValue)
    public static let nonSharedDisk = Self(rawValue: VIR_MIGRATE_NON_SHARED_DISK.rawValue)
    public static let nonSharedIncremental = Self(rawValue: VIR_MIGRATE_NON_SHARED_INC.rawValue)
    public static let changeProtection = Self(rawValue: VIR_MIGRATE_CHANGE_PROTECTION.rawValue)
    public static let unsafe = Self(rawValue: VIR_MIGRATE_UNSAFE.rawValue)
    public static let offline = Self(rawValue: VIR_MIGRATE_OFFLINE.rawValue)
    public static let compressed = Self(rawValue: VIR_MIGRATE_COMPRESSED.rawValue)
    public static let abortOnError = Self(rawValue: VIR_MIGRATE_ABORT_ON_ERROR.rawValue)
    public static let autoConverge = Self(rawValue: VIR_MIGRATE_AUTO_CONVERGE.rawValue)
    public static let postCopy = Self(rawValue: VIR_MIGRATE_POSTCOPY.rawValue)
    public static let tls = Self(rawValue: VIR_MIGRATE_TLS.rawValue)
    public static let parallel = Self(rawValue: VIR_MIGRATE_PARALLEL.rawValue)
}

/// Where a migration goes.
public enum MigrationTarget: Sendable {
    /// A connection to the destination; this process drives the migration
    /// (`virDomainMigrate3`), unless the options ask for peer-to-peer, which then uses the
    /// connection's URI (`Connection.requestedURI`) — the source daemon must be able to open it.
    case connection(Connection)
    /// A destination libvirt URI as the *source daemon* opens it; peer-to-peer
    /// (`virDomainMigrateToURI3` with `VIR_MIGRATE_PEER2PEER`).
    case uri(String)
}

/// What a finished migration leaves.
public struct MigrationResult: Sendable {
    /// The domain on the destination (for a `.connection` target driven by this process).
    public var destination: Domain?
    /// The final job statistics (type `.completed`, with the real `downtime`), from the
    /// source's `VIR_DOMAIN_EVENT_ID_JOB_COMPLETED` event or the destination's completed job.
    public var finalStats: JobStats?
}

/// Thread-safe flags shared by a migration's driver, poller and cancellation handler.
/// Sendable: `@unchecked`, fields guarded by `lock`.
private final class MigrationControl: @unchecked Sendable {
    private let lock = NSLock()
    private var _finished = false
    private var _cancelled = false
    private var _switchedToPostCopy = false
    private var _postCopyError: LibvirtError?
    var finished: Bool { lock.lock(); defer { lock.unlock() }; return _finished }
    /// Why the automatic switch to post-copy failed (the job was then aborted).
    var postCopyError: LibvirtError? { lock.lock(); defer { lock.unlock() }; return _postCopyError }
    func failPostCopy(_ e: LibvirtError) { lock.lock(); _postCopyError = e; lock.unlock() }
    var cancelled: Bool { lock.lock(); defer { lock.unlock() }; return _cancelled }
    func finish() { lock.lock(); _finished = true; lock.unlock() }
    func cancel() { lock.lock(); _cancelled = true; lock.unlock() }
    /// True the first time only.
    func claimPostCopySwitch() -> Bool {
        lock.lock(); defer { lock.unlock() }
        if _switchedToPostCopy { return false }
        _switchedToPostCopy = true
        return true
    }
}

/// A sleep that ignores task cancellation (the poller must keep aborting until the
/// migration call has returned, even after its task was cancelled).
private func uncancellableSleep(_ d: Duration) async {
    let ns = max(0, d.inNanoseconds)
    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(ns))) { c.resume() }
    }
}

extension Domain {
    /// Sets the maximum tolerable downtime of a migration (`virDomainMigrateSetMaxDowntime`).
    public func setMigrationMaxDowntime(_ d: Duration) async throws {
        let ms = UInt64(max(1, d.inNanoseconds / 1_000_000))
        try await check("virDomainMigrateSetMaxDowntime") { virDomainMigrateSetMaxDowntime($0, ms, 0) }
    }

    /// Changes a running migration's bandwidth, MiB/s (`virDomainMigrateSetMaxSpeed`).
    public func setMigrationBandwidth(_ mibPerSecond: UInt) async throws {
        try await check("virDomainMigrateSetMaxSpeed") { virDomainMigrateSetMaxSpeed($0, mibPerSecond, 0) }
    }

    /// Switches a running post-copy-enabled migration to post-copy (`virDomainMigrateStartPostCopy`).
    public func startPostCopy() async throws {
        try await check("virDomainMigrateStartPostCopy") { virDomainMigrateStartPostCopy($0, 0) }
    }

    /// Migrates the domain (`virDomainMigrate3`, or `virDomainMigrateToURI3` peer-to-peer)
    /// and returns when it has finished, with the final job statistics.
    ///
    /// While it runs, `progress` gets the job statistics (`virDomainGetJobStats`) every
    /// `pollInterval`. Cancelling the calling task aborts the job (`virDomainAbortJob`,
    /// repeated until libvirt has given up the migration) and waits for libvirt to roll
    /// back, so the guest keeps running on the source; then throws `CancellationError`.
    /// Every other failure is the typed `LibvirtError` libvirt reported. With
    /// `options.postCopy.switchAfterIteration`, a refused switch to post-copy aborts the
    /// job and is the error thrown (unless the migration had already completed).
    public func migrate(
        to target: MigrationTarget, options: MigrationOptions = MigrationOptions(),
        pollInterval: Duration = .milliseconds(100),
        progress: (@Sendable (JobStats) -> Void)? = nil
    ) async throws -> MigrationResult {
        let params = try options.parameters()
        var flags = options.flags
        var destURI: String?
        var dconn: Connection?
        switch target {
        case .uri(let u):
            destURI = u
            flags.insert(.peerToPeer)
        case .connection(let c):
            if options.peerToPeer || options.tunnelled {
                guard let u = c.requestedURI else {
                    throw LibvirtError(code: .invalidArg, message: "peer-to-peer migration needs a destination URI; the connection was opened with libvirt's default")
                }
                destURI = u
            } else {
                dconn = c
            }
        }
        if let d = options.maxDowntime { try await setMigrationMaxDowntime(d) }
        // The source reports the final statistics (with the real downtime) as an event.
        let completed = try await connection.domainEvents(for: self, ids: [.jobCompleted])

        let control = MigrationControl()
        let pool = connection.pool
        let source = self
        let finalFlags = flags.rawValue
        let (uriTarget, connTarget) = (destURI, dconn)
        let destination: OpaquePointer? = try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: HandleBox.self) { group in
                group.addTask {
                    defer { control.finish() }
                    let ptr = try await pool.run { () throws(LibvirtError) -> HandleBox in
                        try source.connection.checkOpen()
                        return try TypedParameterCoding.withEncoded(params) { (p, n) throws(LibvirtError) -> HandleBox in
                            if let uriTarget {
                                try cCall("virDomainMigrateToURI3", virDomainMigrateToURI3(source.handle, uriTarget, p, UInt32(n), finalFlags))
                                return HandleBox(nil)
                            }
                            guard let connTarget else { return HandleBox(nil) }
                            return try connTarget.withHandle { (dc) throws(LibvirtError) -> HandleBox in
                                HandleBox(try cObject("virDomainMigrate3", virDomainMigrate3(source.handle, dc, p, UInt32(n), finalFlags)))
                            }
                        }
                    }
                    return ptr
                }
                group.addTask {
                    await Self.pollMigration(source, control: control, interval: pollInterval,
                                             postCopySwitch: options.postCopy?.switchAfterIteration, progress: progress)
                    return HandleBox(nil)
                }
                var result: OpaquePointer?
                do {
                    for try await box in group where box.pointer != nil { result = box.pointer }
                } catch {
                    if control.cancelled { throw CancellationError() }
                    if let e = control.postCopyError {
                        throw LibvirtError(code: e.code, domain: e.domain,
                                           message: "switch to post-copy failed, migration aborted: \(e.message)")
                    }
                    throw error
                }
                return result
            }
        } onCancel: {
            control.cancel()
            source.requestAbort()
        }
        let destDomain = destination.flatMap { ptr in dconn.map { Domain(adopting: ptr, connection: $0) } }
        if control.cancelled {
            // The migration finished before the abort took: it is not undone.
            try Task.checkCancellation()
        }
        let final = await Self.finalStats(completed, destination: destDomain)
        return MigrationResult(destination: destDomain, finalStats: final)
    }

    /// Asks libvirt to abort the current job (`virDomainAbortJob`) without waiting: fire and
    /// forget from a cancellation handler or the poller, which retry while it matters. Its
    /// error ("no job" before the job started) is cleared, not reported.
    fileprivate func requestAbort() {
        connection.pool.execute { _ = virDomainAbortJob(self.handle); virResetLastError() }
    }

    /// Polls the job while the migration call runs; after a cancellation keeps aborting
    /// (an abort before libvirt started the job is refused with "no job").
    private static func pollMigration(
        _ domain: Domain, control: MigrationControl, interval: Duration,
        postCopySwitch: Int?, progress: (@Sendable (JobStats) -> Void)?
    ) async {
        let pool = domain.connection.pool
        while !control.finished {
            await uncancellableSleep(interval)
            if control.finished { return }
            if control.cancelled {
                domain.requestAbort()
                continue
            }
            guard let stats = try? await pool.run({ () throws(LibvirtError) -> JobStats in
                try Self.jobStats(domain.handle, flags: [], connection: domain.connection)
            }) else { continue }
            guard stats.isActive else { continue }
            progress?(stats)
            if let n = postCopySwitch, let it = stats.memoryIteration, it >= UInt64(n), control.claimPostCopySwitch() {
                do {
                    try await domain.startPostCopy()
                } catch {
                    // The caller asked for post-copy; a migration left in pre-copy may never
                    // converge. Abort it; `migrate` reports this error unless the job had
                    // already completed (then the failed switch doesn't matter).
                    control.failPostCopy(error as? LibvirtError ?? LibvirtError(code: .operationFailed, message: "\(error)"))
                    domain.requestAbort()
                }
            }
        }
    }

    /// The final statistics: the source's job-completed event (waits up to 2 s for it), else
    /// the destination domain's completed job.
    private static func finalStats(_ events: AsyncStream<DomainEventMessage>, destination: Domain?) async -> JobStats? {
        let fromEvent: JobStats? = await withTaskGroup(of: JobStats?.self) { group in
            group.addTask {
                for await message in events {
                    if case .event(let e) = message, case .jobCompleted(let stats) = e.kind { return stats }
                }
                return nil
            }
            group.addTask { try? await Task.sleep(for: .seconds(2)); return nil }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if let fromEvent { return fromEvent }
        if let destination, let s = try? await destination.jobStats(flags: [.completed, .keepCompleted]), s.type == .completed {
            return s
        }
        return nil
    }

    /// The migration as an `AsyncSequence` of job statistics, every `pollInterval` while it
    /// runs, ending with the final statistics (type `.completed`, real downtime) when libvirt
    /// reports them. The stream throws the typed `LibvirtError` of a failed migration.
    /// Ending the consumer early (cancelling its task or breaking out of the loop) aborts the
    /// migration (`virDomainAbortJob`); the guest stays on the source.
    public func migrationProgress(
        to target: MigrationTarget, options: MigrationOptions = MigrationOptions(),
        pollInterval: Duration = .milliseconds(100)
    ) -> AsyncThrowingStream<JobStats, Error> {
        let (stream, continuation) = AsyncThrowingStream<JobStats, Error>.makeStream()
        let task = Task {
            do {
                let result = try await self.migrate(to: target, options: options, pollInterval: pollInterval) { stats in
                    continuation.yield(stats)
                }
                if let final = result.finalStats { continuation.yield(final) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { reason in
            if case .cancelled = reason { task.cancel() }
        }
        return stream
    }
}
