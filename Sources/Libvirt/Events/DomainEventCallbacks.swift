import CLibvirt
import Foundation
import VirtCore

/// The domain event family (`virConnectDomainEventRegisterAny`).
enum DomainEventFamily: EventFamily {
    typealias ID = DomainEventID
    typealias Event = DomainEvent
    static var registerFunction: StaticString { "virConnectDomainEventRegisterAny" }
    static func register(_ c: OpaquePointer, _ id: DomainEventID, _ opaque: UnsafeMutableRawPointer, _ free: virFreeCallback) -> Int32 {
        virConnectDomainEventRegisterAny(c, nil, id.rawValue, id.callback, opaque, free)
    }
    static func deregister(_ c: OpaquePointer, _ callbackID: Int32) -> Int32 {
        virConnectDomainEventDeregisterAny(c, callbackID)
    }
}

extension DomainEvent {
    /// Reads the domain's identity from the callback's handle (local reads, no daemon call).
    init(_ dom: OpaquePointer?, _ kind: DomainEventKind) {
        let received = ContinuousClock.now
        var id: UInt32?
        if let dom {
            let v = virDomainGetID(dom)
            id = v == UInt32.max ? nil : v
        }
        self.init(
            domainName: dom.flatMap { virDomainGetName($0) }.map { String(cString: $0) } ?? "",
            domainUUID: dom.flatMap { readUUID($0, virDomainGetUUID) } ?? .zero,
            domainID: id, kind: kind, received: received, timestamp: .now)
    }
}

private func str(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }

// MARK: - The C callbacks (one per callback signature; @convention(c), no captures)

/// Hands one event to the registration's fanout; the event (with the domain's identity,
/// read from the handle without a daemon call) is made only if a stream listens.
@inline(__always)
private func deliver(_ opaque: UnsafeMutableRawPointer?, _ dom: OpaquePointer?, _ kind: @autoclosure () -> DomainEventKind) {
    EventFanout<DomainEvent>.from(opaque)?.deliver { DomainEvent(dom, kind()) }
}

private let onLifecycle: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = { _, dom, event, detail, opaque in
    deliver(opaque, dom, .lifecycle(LifecycleEvent(event: event, detail: detail)))
    return 0
}
private let onGeneric: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { _, dom, opaque in
    deliver(opaque, dom, .reboot)
}
private let onControlError: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { _, dom, opaque in
    deliver(opaque, dom, .controlError)
}
private let onRTC: @convention(c) (OpaquePointer?, OpaquePointer?, Int64, UnsafeMutableRawPointer?) -> Void = { _, dom, offset, opaque in
    deliver(opaque, dom, .rtcChange(offset: .seconds(offset)))
}
private let onWatchdog: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, action, opaque in
    deliver(opaque, dom, .watchdog(WatchdogEventAction(rawValue: action)))
}
private let onIOErrorReason: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { _, dom, src, alias, action, reason, opaque in
    deliver(opaque, dom, .ioError(IOErrorEvent(srcPath: str(src), devAlias: str(alias), action: IOErrorAction(rawValue: action), reason: str(reason))))
}
private let onTray: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, alias, reason, opaque in
    // VIR_DOMAIN_EVENT_TRAY_CHANGE_OPEN = 0
    deliver(opaque, dom, .trayChange(alias: str(alias), opened: reason == 0))
}
private let onPMWakeup: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, _, opaque in
    deliver(opaque, dom, .pmWakeup)
}
private let onPMSuspend: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, _, opaque in
    deliver(opaque, dom, .pmSuspend)
}
private let onPMSuspendDisk: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, _, opaque in
    deliver(opaque, dom, .pmSuspendDisk)
}
private let onBalloon: @convention(c) (OpaquePointer?, OpaquePointer?, UInt64, UnsafeMutableRawPointer?) -> Void = { _, dom, actual, opaque in
    deliver(opaque, dom, .balloonChange(.kibibytes(actual)))
}
private let onDeviceRemoved: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { _, dom, alias, opaque in
    deliver(opaque, dom, .deviceRemoved(alias: str(alias)))
}
private let onDeviceAdded: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { _, dom, alias, opaque in
    deliver(opaque, dom, .deviceAdded(alias: str(alias)))
}
private let onDeviceRemovalFailed: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { _, dom, alias, opaque in
    deliver(opaque, dom, .deviceRemovalFailed(alias: str(alias)))
}
private let onBlockJob: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, disk, type, status, opaque in
    deliver(opaque, dom, .blockJob(disk: str(disk), type: BlockJobType(rawValue: type), status: BlockJobStatus(rawValue: status)))
}
private let onTunable: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<virTypedParameter>?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, params, n, opaque in
    deliver(opaque, dom, .tunable(TypedParameterCoding.decode(params, count: Int(n))))
}
private let onAgent: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, state, reason, opaque in
    deliver(opaque, dom, .agentLifecycle(state: AgentState(rawValue: state), reason: AgentReason(rawValue: reason)))
}
private let onMigrationIteration: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, iteration, opaque in
    deliver(opaque, dom, .migrationIteration(Int(iteration)))
}
private let onJobCompleted: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<virTypedParameter>?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, params, n, opaque in
    let stats = JobStats(type: .completed, parameters: TypedParameterCoding.decode(params, count: Int(n)))
    deliver(opaque, dom, .jobCompleted(stats))
}
private let onMetadata: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { _, dom, type, ns, opaque in
    deliver(opaque, dom, .metadataChange(type: MetadataType(rawValue: type), namespace: ns.map { String(cString: $0) }))
}
private let onBlockThreshold: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UInt64, UInt64, UnsafeMutableRawPointer?) -> Void = { _, dom, dev, path, threshold, excess, opaque in
    deliver(opaque, dom, .blockThreshold(disk: str(dev), path: path.map { String(cString: $0) }, threshold: MemorySize(bytes: threshold), excess: MemorySize(bytes: excess)))
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

extension Connection {
    /// Domain events as an `AsyncStream`, for one domain or all
    /// (`virConnectDomainEventRegisterAny`, one registration per event ID, shared by every
    /// stream of this connection; see `EventRegistry`).
    ///
    /// The registrations are made before this returns, so every later event is delivered; a
    /// registration failure (or an unknown domain) throws the typed `LibvirtError`. Events are
    /// decoded on libvirt's event-loop thread and buffered in the stream (unbounded: events
    /// are small and rare, and dropping one would lose a state change). For the lowest
    /// latency, consume on the event loop's own thread: `Task(executorPreference:
    /// LibvirtEventLoop.shared) { for await … }` (then don't block in the loop body).
    ///
    /// Ending the consumer (cancelling its task, or dropping the stream) deregisters the
    /// callbacks nobody else follows (`virConnectDomainEventDeregisterAny`) and libvirt's
    /// freecb releases their context. When the connection closes (daemon restart, keepalive
    /// timeout) the stream yields `.disconnected` and finishes; `EventMonitor` reconnects and
    /// keeps streams flowing instead.
    /// - Parameters:
    ///   - domain: only this domain's events; nil for every domain.
    ///   - ids: which events (default: all).
    public func domainEvents(for domain: Domain? = nil, ids: Set<DomainEventID> = .all) async throws -> AsyncStream<DomainEventMessage> {
        try await eventStream(DomainEventFamily.self, ids: ids, filter: domain?.uuid)
    }

    /// Convenience: the events of one domain.
    public func domainEvents(for domain: Domain, _ ids: DomainEventID...) async throws -> AsyncStream<DomainEventMessage> {
        try await domainEvents(for: domain, ids: ids.isEmpty ? .all : Set(ids))
    }
}
