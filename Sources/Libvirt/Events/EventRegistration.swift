import CLibvirt
import Foundation
import VirtCore

/// Where the C callbacks deliver: one consumer's stream continuation.
///
/// Each libvirt registration holds one retained reference (`Unmanaged.passRetained`, the
/// callback's `opaque`), released by libvirt's `freecb` when the callback is deregistered
/// or its connection is disposed — so a sink lives exactly as long as some registration
/// can still call it. `liveCount` makes that checkable in tests.
///
/// Sendable: immutable apart from the static counter, which is guarded by `countLock`;
/// `AsyncStream.Continuation` is thread-safe.
final class DomainEventSink: @unchecked Sendable {
    let continuation: AsyncStream<DomainEventMessage>.Continuation
    private static let countLock = NSLock()
    nonisolated(unsafe) private static var count = 0

    init(_ continuation: AsyncStream<DomainEventMessage>.Continuation) {
        self.continuation = continuation
        Self.countLock.lock(); Self.count += 1; Self.countLock.unlock()
    }
    deinit { Self.countLock.lock(); Self.count -= 1; Self.countLock.unlock() }

    /// Sinks still referenced by a libvirt registration or a stream (leak check).
    static var liveCount: Int {
        countLock.lock(); defer { countLock.unlock() }
        return count
    }

    /// Runs on libvirt's event-loop thread: decode the handle's identity (local reads, no
    /// daemon call) and hand the event over; never blocks.
    func deliver(_ dom: OpaquePointer?, _ kind: DomainEventKind) {
        let received = ContinuousClock.now
        var name = "", uuid = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), id: UInt32?
        if let dom {
            name = virDomainGetName(dom).map { String(cString: $0) } ?? ""
            var bytes = [UInt8](repeating: 0, count: 16)
            if virDomainGetUUID(dom, &bytes) == 0 {
                uuid = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                                   bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
            }
            let v = virDomainGetID(dom)
            id = v == UInt32.max ? nil : v
        }
        continuation.yield(.event(DomainEvent(domainName: name, domainUUID: uuid, domainID: id, kind: kind,
                                              received: received, timestamp: Date())))
    }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> DomainEventSink? {
        opaque.map { Unmanaged<DomainEventSink>.fromOpaque($0).takeUnretainedValue() }
    }
}

private func str(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }

// MARK: - The C callbacks (one per callback signature; @convention(c), no captures)

private let freeSink: virFreeCallback = { opaque in
    if let opaque { Unmanaged<DomainEventSink>.fromOpaque(opaque).release() }
}

private let onLifecycle: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = { _, dom, event, detail, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .lifecycle(LifecycleEvent(event: event, detail: detail)))
    return 0
}
private let onGeneric: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { _, dom, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .reboot)
}
private let onControlError: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { _, dom, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .controlError)
}
private let onRTC: @convention(c) (OpaquePointer?, OpaquePointer?, Int64, UnsafeMutableRawPointer?) -> Void = { _, dom, offset, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .rtcChange(offsetSeconds: offset))
}
private let onWatchdog: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, action, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .watchdog(WatchdogAction(raw: action)))
}
private let onIOErrorReason: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { _, dom, src, alias, action, reason, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .ioError(IOErrorEvent(srcPath: str(src), devAlias: str(alias), action: IOErrorAction(raw: action), reason: str(reason))))
}
private let onTray: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, alias, reason, opaque in
    // VIR_DOMAIN_EVENT_TRAY_CHANGE_OPEN = 0
    DomainEventSink.from(opaque)?.deliver(dom, .trayChange(alias: str(alias), opened: reason == 0))
}
private let onPMWakeup: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, _, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .pmWakeup)
}
private let onPMSuspend: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, _, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .pmSuspend)
}
private let onPMSuspendDisk: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, _, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .pmSuspendDisk)
}
private let onBalloon: @convention(c) (OpaquePointer?, OpaquePointer?, UInt64, UnsafeMutableRawPointer?) -> Void = { _, dom, actual, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .balloonChange(.kibibytes(actual)))
}
private let onDeviceRemoved: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { _, dom, alias, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .deviceRemoved(alias: str(alias)))
}
private let onDeviceAdded: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { _, dom, alias, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .deviceAdded(alias: str(alias)))
}
private let onDeviceRemovalFailed: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { _, dom, alias, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .deviceRemovalFailed(alias: str(alias)))
}
private let onBlockJob: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, disk, type, status, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .blockJob(disk: str(disk), type: BlockJobType(raw: type), status: BlockJobStatus(raw: status)))
}
private let onTunable: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<virTypedParameter>?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, params, n, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .tunable(TypedParameterCoding.decode(params, count: Int(n))))
}
private let onAgent: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, state, reason, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .agentLifecycle(state: AgentState(raw: state), reason: AgentReason(raw: reason)))
}
private let onMigrationIteration: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, iteration, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .migrationIteration(Int(iteration)))
}
private let onJobCompleted: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<virTypedParameter>?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, params, n, opaque in
    let stats = JobStats(type: .completed, parameters: TypedParameterCoding.decode(params, count: Int(n)))
    DomainEventSink.from(opaque)?.deliver(dom, .jobCompleted(stats))
}
private let onMetadata: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { _, dom, type, ns, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .metadataChange(type: MetadataType(raw: type), namespace: ns.map { String(cString: $0) }))
}
private let onBlockThreshold: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UInt64, UInt64, UnsafeMutableRawPointer?) -> Void = { _, dom, dev, path, threshold, excess, opaque in
    DomainEventSink.from(opaque)?.deliver(dom, .blockThreshold(disk: str(dev), path: path.map { String(cString: $0) }, threshold: threshold, excess: excess))
}

extension DomainEventID {
    /// The C callback for this ID, cast to the generic type `virConnectDomainEventRegisterAny`
    /// takes (what the VIR_DOMAIN_EVENT_CALLBACK macro does in C).
    var callback: virConnectDomainEventGenericCallback {
        switch self {
        case .lifecycle: unsafeBitCast(onLifecycle, to: virConnectDomainEventGenericCallback.self)
        case .reboot: onGeneric
        case .controlError: onControlError
        case .rtcChange: unsafeBitCast(onRTC, to: virConnectDomainEventGenericCallback.self)
        case .watchdog: unsafeBitCast(onWatchdog, to: virConnectDomainEventGenericCallback.self)
        case .ioError: unsafeBitCast(onIOErrorReason, to: virConnectDomainEventGenericCallback.self)
        case .trayChange: unsafeBitCast(onTray, to: virConnectDomainEventGenericCallback.self)
        case .pmWakeup: unsafeBitCast(onPMWakeup, to: virConnectDomainEventGenericCallback.self)
        case .pmSuspend: unsafeBitCast(onPMSuspend, to: virConnectDomainEventGenericCallback.self)
        case .pmSuspendDisk: unsafeBitCast(onPMSuspendDisk, to: virConnectDomainEventGenericCallback.self)
        case .balloonChange: unsafeBitCast(onBalloon, to: virConnectDomainEventGenericCallback.self)
        case .deviceRemoved: unsafeBitCast(onDeviceRemoved, to: virConnectDomainEventGenericCallback.self)
        case .deviceAdded: unsafeBitCast(onDeviceAdded, to: virConnectDomainEventGenericCallback.self)
        case .deviceRemovalFailed: unsafeBitCast(onDeviceRemovalFailed, to: virConnectDomainEventGenericCallback.self)
        case .blockJob: unsafeBitCast(onBlockJob, to: virConnectDomainEventGenericCallback.self)
        case .tunable: unsafeBitCast(onTunable, to: virConnectDomainEventGenericCallback.self)
        case .agentLifecycle: unsafeBitCast(onAgent, to: virConnectDomainEventGenericCallback.self)
        case .migrationIteration: unsafeBitCast(onMigrationIteration, to: virConnectDomainEventGenericCallback.self)
        case .jobCompleted: unsafeBitCast(onJobCompleted, to: virConnectDomainEventGenericCallback.self)
        case .metadataChange: unsafeBitCast(onMetadata, to: virConnectDomainEventGenericCallback.self)
        case .blockThreshold: unsafeBitCast(onBlockThreshold, to: virConnectDomainEventGenericCallback.self)
        }
    }
}

/// The callback IDs one subscription holds on one connection, and whether its stream has
/// ended. Sendable: `@unchecked`, fields guarded by `lock`.
final class EventRegistration: @unchecked Sendable {
    private let lock = NSLock()
    private var callbackIDs: [Int32] = []
    private var ended = false

    /// Registers `ids` for `domainUUID` (nil: all domains) on `conn`, each with its own
    /// retained reference to `sink`. Must run on a thread that may block (a pool thread).
    /// On a failure, the ones already registered are deregistered before throwing.
    static func register(
        _ conn: OpaquePointer, domainUUID: UUID?, ids: Set<DomainEventID>, sink: DomainEventSink
    ) throws(LibvirtError) -> [Int32] {
        var dom: OpaquePointer?
        if let domainUUID {
            var bytes = withUnsafeBytes(of: domainUUID.uuid) { Array($0) }
            guard let d = virDomainLookupByUUID(conn, &bytes) else { throw LibvirtError.takeLast(after: "virDomainLookupByUUID") }
            dom = d
        }
        defer { if let dom { virDomainFree(dom) } }
        var registered: [Int32] = []
        for id in ids.sorted(by: { $0.rawValue < $1.rawValue }) {
            let opaque = Unmanaged.passRetained(sink).toOpaque()
            let cb = virConnectDomainEventRegisterAny(conn, dom, id.rawValue, id.callback, opaque, freeSink)
            if cb < 0 {
                let error = LibvirtError.takeLast(after: "virConnectDomainEventRegisterAny")
                Unmanaged<DomainEventSink>.fromOpaque(opaque).release()  // libvirt didn't take it
                for r in registered { _ = virConnectDomainEventDeregisterAny(conn, r) }
                virResetLastError()
                throw error
            }
            registered.append(cb)
        }
        return registered
    }

    /// Records the IDs of a registration; returns false when the stream already ended (the
    /// caller must deregister them itself).
    func adopt(_ ids: [Int32]) -> Bool {
        lock.lock(); defer { lock.unlock() }
        if ended { return false }
        callbackIDs = ids
        return true
    }

    /// Marks the stream ended and hands back the IDs to deregister (once).
    func end() -> [Int32] {
        lock.lock(); defer { lock.unlock() }
        ended = true
        let ids = callbackIDs
        callbackIDs = []
        return ids
    }

    /// Takes the IDs for re-registration on a new connection (the old ones die with it).
    func replace(with ids: [Int32]) -> Bool { adopt(ids) }

    var isEnded: Bool {
        lock.lock(); defer { lock.unlock() }
        return ended
    }
}

/// Deregisters callback IDs (`virConnectDomainEventDeregisterAny`); libvirt then calls the
/// freecb, which releases the sink. Errors are ignored: on a dead connection the callbacks
/// are freed when the connection is disposed.
func deregister(_ conn: OpaquePointer, _ ids: [Int32]) {
    for id in ids { _ = virConnectDomainEventDeregisterAny(conn, id) }
    virResetLastError()
}

extension Connection {
    /// Domain events as an `AsyncStream`, for one domain or all
    /// (`virConnectDomainEventRegisterAny`, one registration per event ID in `ids`).
    ///
    /// The registrations are made before this returns, so every event after it is
    /// delivered; a registration failure throws the typed `LibvirtError`. Events are
    /// decoded on libvirt's event-loop thread and buffered in the stream (unbounded: events
    /// are small and rare, and dropping one would lose a state change).
    ///
    /// Ending the consumer (cancelling its task, or dropping the stream) deregisters every
    /// callback (`virConnectDomainEventDeregisterAny`) and libvirt's freecb releases the
    /// context: nothing is left behind. When the connection closes (daemon restart,
    /// keepalive timeout) the stream yields `.disconnected` and finishes; use
    /// `EventMonitor` to reconnect and keep streams flowing.
    /// - Parameters:
    ///   - domain: only this domain's events; nil for every domain.
    ///   - ids: which events (default: all).
    public func domainEvents(for domain: Domain? = nil, ids: Set<DomainEventID> = .all) async throws -> AsyncStream<DomainEventMessage> {
        let (stream, continuation) = AsyncStream<DomainEventMessage>.makeStream()
        let sink = DomainEventSink(continuation)
        let registration = EventRegistration()
        let uuid = domain?.uuid
        let callbackIDs = try await call { c throws(LibvirtError) in
            try EventRegistration.register(c, domainUUID: uuid, ids: ids, sink: sink)
        }
        _ = registration.adopt(callbackIDs)
        // Report the connection's close and end the stream: its callbacks can't fire again.
        let closeToken = try await CloseHub.subscribe(self) { event in
            continuation.yield(.disconnected(event))
            continuation.finish()
        }
        continuation.onTermination = { [self] _ in
            let ids = registration.end()
            pool.execute {
                try? self.withHandle { c throws(LibvirtError) in deregister(c, ids) }
                CloseHub.unsubscribe(self, closeToken)
            }
        }
        return stream
    }

    /// Convenience: the events of one domain.
    public func domainEvents(for domain: Domain, _ ids: DomainEventID...) async throws -> AsyncStream<DomainEventMessage> {
        try await domainEvents(for: domain, ids: ids.isEmpty ? .all : Set(ids))
    }
}
