import CLibvirt
import Foundation
import VirtCore

/// One consumer's stream continuation. Retained by the `EventHub` subscriptions that feed
/// it; `liveCount` makes "nothing leaks" checkable in tests.
///
/// Sendable: immutable apart from the static counter, which is guarded by `countLock`;
/// `AsyncStream.Continuation` is thread-safe.
final class DomainEventSink: @unchecked Sendable {
    let continuation: AsyncStream<DomainEventMessage>.Continuation
    private let counter: LiveCounter.Token

    /// `owner`: what the leak check counts it under (the connection that made it).
    init(_ continuation: AsyncStream<DomainEventMessage>.Continuation, owner: AnyObject) {
        self.continuation = continuation
        counter = LiveCounter.sinks.token(owner)
    }
}

/// Live-object counts per owner (a connection), so tests can check that ending streams
/// frees everything without being disturbed by other tests running in parallel.
/// Sendable: `@unchecked`, `counts` guarded by `lock`.
final class LiveCounter: @unchecked Sendable {
    static let sinks = LiveCounter()
    static let fanouts = LiveCounter()
    private let lock = NSLock()
    private var counts: [ObjectIdentifier: Int] = [:]

    /// Counts +1 for `owner` until the token is deallocated.
    final class Token: Sendable {
        let counter: LiveCounter
        let key: ObjectIdentifier
        init(_ counter: LiveCounter, _ key: ObjectIdentifier) { self.counter = counter; self.key = key }
        deinit { counter.add(key, -1) }
    }

    func token(_ owner: AnyObject) -> Token {
        let key = ObjectIdentifier(owner)
        add(key, 1)
        return Token(self, key)
    }

    private func add(_ key: ObjectIdentifier, _ d: Int) {
        lock.lock(); defer { lock.unlock() }
        let n = (counts[key] ?? 0) + d
        counts[key] = n == 0 ? nil : n
    }

    /// Objects alive for `owner`.
    func count(_ owner: AnyObject) -> Int {
        lock.lock(); defer { lock.unlock() }
        return counts[ObjectIdentifier(owner)] ?? 0
    }
}

/// The context (`opaque`) of one C registration: one event ID on one connection, fanned out
/// to every subscribed sink. libvirt refuses a second registration of the same callback
/// function for the same event ID and filter ("event callback already tracked"), so
/// streams share registrations instead of each making its own. Retained once by libvirt
/// (`Unmanaged.passRetained`), released by the freecb after deregistration or when the
/// connection is disposed.
///
/// Sendable: `@unchecked`; `subscribers` is guarded by `lock`.
final class EventFanout: @unchecked Sendable {
    private let lock = NSLock()
    private var subscribers: [Int: (sink: DomainEventSink, uuid: UUID?)] = [:]
    private let counter: LiveCounter.Token

    init(owner: AnyObject) { counter = LiveCounter.fanouts.token(owner) }

    func add(_ token: Int, _ sink: DomainEventSink, uuid: UUID?) {
        lock.lock(); subscribers[token] = (sink, uuid); lock.unlock()
    }

    /// Removes a subscriber; returns true when none is left.
    func remove(_ token: Int) -> Bool {
        lock.lock(); defer { lock.unlock() }
        subscribers[token] = nil
        return subscribers.isEmpty
    }

    /// Runs on libvirt's event-loop thread: decode the handle's identity once (local reads,
    /// no daemon call) and hand the event to each matching subscriber; never blocks.
    func deliver(_ dom: OpaquePointer?, _ kind: DomainEventKind) {
        let received = ContinuousClock.now
        lock.lock()
        let targets = Array(subscribers.values)
        lock.unlock()
        if targets.isEmpty { return }
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
        let event = DomainEvent(domainName: name, domainUUID: uuid, domainID: id, kind: kind, received: received, timestamp: Date())
        for t in targets where t.uuid == nil || t.uuid == uuid {
            t.sink.continuation.yield(.event(event))
        }
    }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> EventFanout? {
        opaque.map { Unmanaged<EventFanout>.fromOpaque($0).takeUnretainedValue() }
    }
}

private func str(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }

// MARK: - The C callbacks (one per callback signature; @convention(c), no captures)

private let freeFanout: virFreeCallback = { opaque in
    if let opaque { Unmanaged<EventFanout>.fromOpaque(opaque).release() }
}

private let onLifecycle: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = { _, dom, event, detail, opaque in
    EventFanout.from(opaque)?.deliver(dom, .lifecycle(LifecycleEvent(event: event, detail: detail)))
    return 0
}
private let onGeneric: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { _, dom, opaque in
    EventFanout.from(opaque)?.deliver(dom, .reboot)
}
private let onControlError: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { _, dom, opaque in
    EventFanout.from(opaque)?.deliver(dom, .controlError)
}
private let onRTC: @convention(c) (OpaquePointer?, OpaquePointer?, Int64, UnsafeMutableRawPointer?) -> Void = { _, dom, offset, opaque in
    EventFanout.from(opaque)?.deliver(dom, .rtcChange(offsetSeconds: offset))
}
private let onWatchdog: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, action, opaque in
    EventFanout.from(opaque)?.deliver(dom, .watchdog(WatchdogEventAction(raw: action)))
}
private let onIOErrorReason: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { _, dom, src, alias, action, reason, opaque in
    EventFanout.from(opaque)?.deliver(dom, .ioError(IOErrorEvent(srcPath: str(src), devAlias: str(alias), action: IOErrorAction(raw: action), reason: str(reason))))
}
private let onTray: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, alias, reason, opaque in
    // VIR_DOMAIN_EVENT_TRAY_CHANGE_OPEN = 0
    EventFanout.from(opaque)?.deliver(dom, .trayChange(alias: str(alias), opened: reason == 0))
}
private let onPMWakeup: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, _, opaque in
    EventFanout.from(opaque)?.deliver(dom, .pmWakeup)
}
private let onPMSuspend: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, _, opaque in
    EventFanout.from(opaque)?.deliver(dom, .pmSuspend)
}
private let onPMSuspendDisk: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, _, opaque in
    EventFanout.from(opaque)?.deliver(dom, .pmSuspendDisk)
}
private let onBalloon: @convention(c) (OpaquePointer?, OpaquePointer?, UInt64, UnsafeMutableRawPointer?) -> Void = { _, dom, actual, opaque in
    EventFanout.from(opaque)?.deliver(dom, .balloonChange(.kibibytes(actual)))
}
private let onDeviceRemoved: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { _, dom, alias, opaque in
    EventFanout.from(opaque)?.deliver(dom, .deviceRemoved(alias: str(alias)))
}
private let onDeviceAdded: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { _, dom, alias, opaque in
    EventFanout.from(opaque)?.deliver(dom, .deviceAdded(alias: str(alias)))
}
private let onDeviceRemovalFailed: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { _, dom, alias, opaque in
    EventFanout.from(opaque)?.deliver(dom, .deviceRemovalFailed(alias: str(alias)))
}
private let onBlockJob: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, disk, type, status, opaque in
    EventFanout.from(opaque)?.deliver(dom, .blockJob(disk: str(disk), type: BlockJobType(raw: type), status: BlockJobStatus(raw: status)))
}
private let onTunable: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<virTypedParameter>?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, params, n, opaque in
    EventFanout.from(opaque)?.deliver(dom, .tunable(TypedParameterCoding.decode(params, count: Int(n))))
}
private let onAgent: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, state, reason, opaque in
    EventFanout.from(opaque)?.deliver(dom, .agentLifecycle(state: AgentState(raw: state), reason: AgentReason(raw: reason)))
}
private let onMigrationIteration: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, iteration, opaque in
    EventFanout.from(opaque)?.deliver(dom, .migrationIteration(Int(iteration)))
}
private let onJobCompleted: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<virTypedParameter>?, Int32, UnsafeMutableRawPointer?) -> Void = { _, dom, params, n, opaque in
    let stats = JobStats(type: .completed, parameters: TypedParameterCoding.decode(params, count: Int(n)))
    EventFanout.from(opaque)?.deliver(dom, .jobCompleted(stats))
}
private let onMetadata: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { _, dom, type, ns, opaque in
    EventFanout.from(opaque)?.deliver(dom, .metadataChange(type: MetadataType(raw: type), namespace: ns.map { String(cString: $0) }))
}
private let onBlockThreshold: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UInt64, UInt64, UnsafeMutableRawPointer?) -> Void = { _, dom, dev, path, threshold, excess, opaque in
    EventFanout.from(opaque)?.deliver(dom, .blockThreshold(disk: str(dev), path: path.map { String(cString: $0) }, threshold: threshold, excess: excess))
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

/// The domain-event registrations of one open `Connection`: per event ID one C
/// registration (`virConnectDomainEventRegisterAny`, all domains) and its `EventFanout`;
/// a stream subscribes a token to the fanouts of its IDs. The first subscriber of an ID
/// registers, the last one deregisters (`virConnectDomainEventDeregisterAny`), after which
/// libvirt's freecb releases the fanout. Hubs are keyed by the connection's identity; a
/// subscription keeps its connection alive (its stream's termination handler holds it), so
/// the key can't be reused while the hub exists.
///
/// Sendable: `@unchecked`; everything is guarded by `tableLock`.
final class EventHub: @unchecked Sendable {
    nonisolated(unsafe) private static var hubs: [ObjectIdentifier: EventHub] = [:]
    private static let tableLock = NSLock()
    private var registrations: [DomainEventID: (callbackID: Int32, fanout: EventFanout)] = [:]
    private var subscriptions: [Int: Set<DomainEventID>] = [:]
    private var nextToken = 1

    /// Subscribes `sink` to `ids` for `domainUUID` (nil: every domain) on `connection`,
    /// whose handle is `c`. Runs on a pool thread (it may call the daemon). On a failure
    /// nothing stays registered for this subscription.
    static func subscribe(
        _ connection: Connection, _ c: OpaquePointer, domainUUID: UUID?, ids: Set<DomainEventID>, sink: DomainEventSink
    ) throws(LibvirtError) -> Int {
        tableLock.lock(); defer { tableLock.unlock() }
        let key = ObjectIdentifier(connection)
        let hub = hubs[key] ?? EventHub()
        hubs[key] = hub
        if let domainUUID {
            // Fail early and typed when the domain doesn't exist (the fanout filters by UUID).
            var bytes = withUnsafeBytes(of: domainUUID.uuid) { Array($0) }
            guard let d = virDomainLookupByUUID(c, &bytes) else {
                let e = LibvirtError.takeLast(after: "virDomainLookupByUUID")
                if hub.subscriptions.isEmpty { hubs[key] = nil }
                throw e
            }
            virDomainFree(d)
        }
        let token = hub.nextToken
        hub.nextToken += 1
        var added: [DomainEventID] = []
        for id in ids.sorted(by: { $0.rawValue < $1.rawValue }) {
            if let r = hub.registrations[id] {
                r.fanout.add(token, sink, uuid: domainUUID)
                added.append(id)
                continue
            }
            let fanout = EventFanout(owner: connection)
            fanout.add(token, sink, uuid: domainUUID)
            let opaque = Unmanaged.passRetained(fanout).toOpaque()
            let cb = virConnectDomainEventRegisterAny(c, nil, id.rawValue, id.callback, opaque, freeFanout)
            if cb < 0 {
                let error = LibvirtError.takeLast(after: "virConnectDomainEventRegisterAny")
                Unmanaged<EventFanout>.fromOpaque(opaque).release()  // libvirt didn't take it
                hub.subscriptions[token] = Set(added)
                hub.remove(token, c)
                if hub.subscriptions.isEmpty, hub.registrations.isEmpty { hubs[key] = nil }
                throw error
            }
            hub.registrations[id] = (cb, fanout)
            log.debug("domain event callback registered", metadata: ["event": "\(id)", "callbackID": "\(cb)"])
            added.append(id)
        }
        hub.subscriptions[token] = ids
        return token
    }

    /// Ends a subscription; deregisters event IDs nobody else follows. `c` is nil when the
    /// connection is already closed (libvirt then frees the callbacks on disposal).
    static func unsubscribe(_ connection: Connection, _ token: Int, _ c: OpaquePointer?) {
        tableLock.lock(); defer { tableLock.unlock() }
        let key = ObjectIdentifier(connection)
        guard let hub = hubs[key] else { return }
        hub.remove(token, c)
        if hub.subscriptions.isEmpty { hubs[key] = nil }
    }

    private func remove(_ token: Int, _ c: OpaquePointer?) {
        guard let ids = subscriptions.removeValue(forKey: token) else { return }
        for id in ids {
            guard let r = registrations[id], r.fanout.remove(token) else { continue }
            registrations[id] = nil
            if let c {
                _ = virConnectDomainEventDeregisterAny(c, r.callbackID)
                virResetLastError()
                log.debug("domain event callback deregistered", metadata: ["event": "\(id)", "callbackID": "\(r.callbackID)"])
            }
        }
    }
}

extension Connection {
    /// Subscribes `sink` (on a pool thread); returns the token for `unsubscribeEvents`.
    func subscribeEvents(domainUUID: UUID?, ids: Set<DomainEventID>, sink: DomainEventSink) async throws -> Int {
        try await call { c throws(LibvirtError) in
            try EventHub.subscribe(self, c, domainUUID: domainUUID, ids: ids, sink: sink)
        }
    }

    /// Ends a subscription without waiting (from a stream's termination handler).
    func unsubscribeEvents(_ token: Int) {
        pool.execute {
            do {
                try self.withHandle { c throws(LibvirtError) in EventHub.unsubscribe(self, token, c) }
            } catch {
                EventHub.unsubscribe(self, token, nil)
            }
        }
    }

    /// Domain events as an `AsyncStream`, for one domain or all
    /// (`virConnectDomainEventRegisterAny`, one registration per event ID, shared by every
    /// stream of this connection).
    ///
    /// The registrations are made before this returns, so every later event is delivered; a
    /// registration failure (or an unknown domain) throws the typed `LibvirtError`. Events are
    /// decoded on libvirt's event-loop thread and buffered in the stream (unbounded: events
    /// are small and rare, and dropping one would lose a state change).
    ///
    /// Ending the consumer (cancelling its task, or dropping the stream) deregisters the
    /// callbacks nobody else follows (`virConnectDomainEventDeregisterAny`) and libvirt's
    /// freecb releases their context: nothing is left behind. When the connection closes
    /// (daemon restart, keepalive timeout) the stream yields `.disconnected` and finishes;
    /// `EventMonitor` reconnects and keeps streams flowing instead.
    /// - Parameters:
    ///   - domain: only this domain's events; nil for every domain.
    ///   - ids: which events (default: all).
    public func domainEvents(for domain: Domain? = nil, ids: Set<DomainEventID> = .all) async throws -> AsyncStream<DomainEventMessage> {
        let (stream, continuation) = AsyncStream<DomainEventMessage>.makeStream()
        let sink = DomainEventSink(continuation, owner: self)
        let token = try await subscribeEvents(domainUUID: domain?.uuid, ids: ids, sink: sink)
        // Report the connection's close and end the stream: its callbacks can't fire again.
        let closeToken: Int
        do {
            closeToken = try await CloseHub.subscribe(self) { event in
                continuation.yield(.disconnected(event))
                continuation.finish()
            }
        } catch {
            unsubscribeEvents(token)
            throw error
        }
        continuation.onTermination = { [self] _ in
            unsubscribeEvents(token)
            pool.execute { CloseHub.unsubscribe(self, closeToken) }
        }
        return stream
    }

    /// Convenience: the events of one domain.
    public func domainEvents(for domain: Domain, _ ids: DomainEventID...) async throws -> AsyncStream<DomainEventMessage> {
        try await domainEvents(for: domain, ids: ids.isEmpty ? .all : Set(ids))
    }
}
