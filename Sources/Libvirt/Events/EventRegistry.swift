import CLibvirt
import Foundation
import Synchronization
import VirtCore

/// An event of one libvirt object: says which object it is about, so a stream that follows
/// one object can filter.
public protocol LibvirtEvent: Sendable {
    /// What identifies the object (its UUID, or the name for kinds without one).
    associatedtype ObjectKey: Hashable & Sendable
    var objectKey: ObjectKey { get }
}

/// One family of libvirt events — domain, network, storage pool, node device, secret —:
/// the C registration pair (`virConnect<Family>EventRegisterAny` / `…DeregisterAny`) and
/// its event IDs. Each ID has one C callback (its own signature), decoding into `Event`.
protocol EventFamily: SendableMetatype {
    associatedtype ID: Hashable & Sendable
    associatedtype Event: LibvirtEvent
    /// `virConnect…EventRegisterAny`, named in its error.
    static var registerFunction: StaticString { get }
    /// Registers `id`'s callback for every object of the family; returns the callback ID.
    static func register(_ c: OpaquePointer, _ id: ID, _ opaque: UnsafeMutableRawPointer, _ free: virFreeCallback) -> Int32
    /// `virConnect…EventDeregisterAny`.
    static func deregister(_ c: OpaquePointer, _ callbackID: Int32) -> Int32
    /// For the object families sharing `objectLifecycleCallback`: the event of an object and
    /// its lifecycle change (nil: the family's other event). nil for families with their own callbacks.
    static var objectEvent: (@Sendable (OpaquePointer?, Int32?) -> Event)? { get }
}

extension EventFamily {
    static var objectEvent: (@Sendable (OpaquePointer?, Int32?) -> Event)? { nil }
}

/// What an event stream delivers: events, and the connection's health in between.
public enum EventMessage<Event: Sendable & Hashable>: Hashable, Sendable, CustomStringConvertible {
    /// An event.
    case event(Event)
    /// The connection closed; no events arrive until `.reconnected` (with a reconnect
    /// policy) — or ever (a plain connection's stream finishes after this).
    case disconnected(ConnectionCloseEvent)
    /// Events flow again on a new connection after `gap` without one; events in the gap
    /// were lost (libvirt doesn't replay them).
    case reconnected(gap: Duration, attempts: Int)
    /// The stream ends because re-registering failed or the reconnect policy gave up.
    case failed(LibvirtError)

    public var event: Event? {
        if case .event(let e) = self { return e }
        return nil
    }

    public var description: String {
        switch self {
        case .event(let e): "\(e)"
        case .disconnected(let c): "disconnected (\(c.reason))"
        case .reconnected(let gap, let n): "reconnected after \(gap) (\(n) attempt\(n == 1 ? "" : "s"))"
        case .failed(let e): "failed: \(e)"
        }
    }
}

/// One consumer: its stream and, when it follows one object, that object's key.
/// Sendable: immutable; `AsyncStream.Continuation` is thread-safe.
final class EventSubscriber<Event: LibvirtEvent & Hashable>: Sendable {
    let continuation: AsyncStream<EventMessage<Event>>.Continuation
    let filter: Event.ObjectKey?
    init(_ continuation: AsyncStream<EventMessage<Event>>.Continuation, filter: Event.ObjectKey?) {
        self.continuation = continuation
        self.filter = filter
    }
}

/// What the registry needs of a fanout whatever its event type (a class, so that one
/// non-generic C freecb can release any fanout).
class AnyEventFanout: @unchecked Sendable {
    /// Removes a subscriber; true when none is left.
    func remove(_ token: Int) -> Bool { true }
    /// Delivers an object family's event (see `EventFamily.objectEvent`).
    func deliverObject(_ object: OpaquePointer?, lifecycle: Int32?) {}

    static func unretained(_ opaque: UnsafeMutableRawPointer?) -> AnyEventFanout? {
        opaque.map { Unmanaged<AnyEventFanout>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// The freecb every registration passes: libvirt's release of the retained fanout.
let releaseFanout: virFreeCallback = { opaque in
    if let opaque { Unmanaged<AnyEventFanout>.fromOpaque(opaque).release() }
}

/// The context (`opaque`) of one C registration — one event ID on one connection — fanned
/// out to every subscribed stream. libvirt refuses a second registration of the same
/// callback for the same ID and filter ("event callback already tracked"), so streams share
/// registrations. Retained once by libvirt (`Unmanaged.passRetained`), released by the
/// freecb after deregistration or when the connection is disposed.
///
/// Sendable: `@unchecked`; `subscribers` is guarded by `lock`.
final class EventFanout<Event: LibvirtEvent & Hashable>: AnyEventFanout, @unchecked Sendable {
    private let lock = NSLock()
    private var subscribers: [Int: EventSubscriber<Event>] = [:]
    /// The registry that counts this registration as live until libvirt frees it.
    private let registry: EventRegistry

    /// How an object family makes its event (nil: the family's callbacks make it themselves).
    private let objectEvent: (@Sendable (OpaquePointer?, Int32?) -> Event)?

    init(registry: EventRegistry, objectEvent: (@Sendable (OpaquePointer?, Int32?) -> Event)? = nil) {
        self.registry = registry
        self.objectEvent = objectEvent
        super.init()
        registry.callbackAdded()
    }

    override func deliverObject(_ object: OpaquePointer?, lifecycle: Int32?) {
        guard let objectEvent else { return }
        deliver { objectEvent(object, lifecycle) }
    }

    deinit { registry.callbackFreed() }

    func add(_ token: Int, _ subscriber: EventSubscriber<Event>) {
        lock.lock(); subscribers[token] = subscriber; lock.unlock()
    }

    override func remove(_ token: Int) -> Bool {
        lock.lock(); defer { lock.unlock() }
        subscribers[token] = nil
        return subscribers.isEmpty
    }

    /// Runs on libvirt's event-loop thread, inside the C callback: makes the event (only if
    /// someone listens) and yields it to each matching stream, under the lock — no copy of
    /// the subscriber table, no allocation beyond the event itself. `yield` only enqueues
    /// the waiting consumer on its executor; it never calls back into this fanout.
    @inline(__always)
    func deliver(_ make: () -> Event) {
        lock.lock(); defer { lock.unlock() }
        if subscribers.isEmpty { return }
        let event = make()
        for s in subscribers.values where s.filter == nil || s.filter == event.objectKey {
            s.continuation.yield(.event(event))
        }
    }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> EventFanout? {
        opaque.map { Unmanaged<EventFanout>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// The event registrations of one `Connection` (it owns exactly one registry): per event
/// family and ID one C registration and its fanout, and the connection's one close callback
/// (libvirt allows a single `virConnectRegisterCloseCallback` per connection) fanned out to
/// every subscriber. The first subscriber of an ID registers, the last one deregisters, after
/// which libvirt's freecb releases the fanout.
///
/// Sendable: `@unchecked`; everything is guarded by `lock`.
final class EventRegistry: @unchecked Sendable {
    typealias CloseHandler = @Sendable (ConnectionCloseEvent) -> Void

    private struct Key: Hashable {
        let family: ObjectIdentifier
        let id: AnyHashable
    }

    private struct Registration {
        let callbackID: Int32
        let fanout: AnyEventFanout
        let deregister: (OpaquePointer, Int32) -> Int32
    }

    private let lock = NSLock()
    private var registrations: [Key: Registration] = [:]
    private var subscriptions: [Int: [Key]] = [:]
    private var closeHandlers: [Int: CloseHandler] = [:]
    /// Nil: no close callback registered; false: the driver can't report closes (the test
    /// driver can't lose its connection), subscribers are kept but never called.
    private var closeCallbackRegistered: Bool?
    private var nextToken = 1
    /// An atomic, not `lock`: fanouts are made and released (`deinit`) while `lock` is held.
    private let liveCallbacks = Atomic<Int>(0)

    /// C registrations libvirt still holds (fanouts made and not yet released by its freecb).
    var liveCallbackCount: Int { liveCallbacks.load(ordering: .relaxed) }

    /// Whether the driver reports closes (nil until the first close subscriber asked).
    var closeCallbackSupported: Bool? {
        lock.lock(); defer { lock.unlock() }
        return closeCallbackRegistered
    }

    /// Streams subscribed to events or closes.
    var subscriberCount: Int {
        lock.lock(); defer { lock.unlock() }
        return subscriptions.count + closeHandlers.count
    }

    fileprivate func callbackAdded() { liveCallbacks.add(1, ordering: .relaxed) }
    fileprivate func callbackFreed() { liveCallbacks.subtract(1, ordering: .relaxed) }

    private func newToken() -> Int {
        defer { nextToken += 1 }
        return nextToken
    }

    /// Subscribes `subscriber` to `ids` of `family` on the connection whose handle is `c`.
    /// Runs on a pool thread (registering talks to the daemon). On a failure nothing stays
    /// registered for this subscription.
    func subscribe<F: EventFamily>(
        _ family: F.Type, _ c: OpaquePointer, ids: Set<F.ID>, subscriber: EventSubscriber<F.Event>
    ) throws(LibvirtError) -> Int where F.Event: Hashable {
        lock.lock(); defer { lock.unlock() }
        let token = newToken()
        var added: [Key] = []
        for id in ids {
            let key = Key(family: ObjectIdentifier(family), id: AnyHashable(id))
            if let r = registrations[key], let fanout = r.fanout as? EventFanout<F.Event> {
                fanout.add(token, subscriber)
                added.append(key)
                continue
            }
            let fanout = EventFanout<F.Event>(registry: self, objectEvent: F.objectEvent)
            fanout.add(token, subscriber)
            let opaque = Unmanaged.passRetained(fanout).toOpaque()
            let callbackID = F.register(c, id, opaque, releaseFanout)
            if callbackID < 0 {
                let error = LibvirtError.takeLast(after: F.registerFunction)
                Unmanaged<EventFanout<F.Event>>.fromOpaque(opaque).release()  // libvirt didn't take it
                removeLocked(token, keys: added, c)
                throw error
            }
            registrations[key] = Registration(callbackID: callbackID, fanout: fanout, deregister: F.deregister)
            log.debug("event callback registered", metadata: ["function": "\(F.registerFunction)", "event": "\(id)", "callbackID": "\(callbackID)"])
            added.append(key)
        }
        subscriptions[token] = added
        return token
    }

    /// Ends a subscription; deregisters the IDs nobody else follows. `c` is nil when the
    /// connection is already closed (libvirt then frees the callbacks on disposal).
    func unsubscribe(_ token: Int, _ c: OpaquePointer?) {
        lock.lock(); defer { lock.unlock() }
        guard let keys = subscriptions.removeValue(forKey: token) else { return }
        removeLocked(token, keys: keys, c)
    }

    private func removeLocked(_ token: Int, keys: [Key], _ c: OpaquePointer?) {
        for key in keys {
            guard let r = registrations[key], r.fanout.remove(token) else { continue }
            registrations[key] = nil
            if let c {
                _ = r.deregister(c, r.callbackID)
                virResetLastError()
                log.debug("event callback deregistered", metadata: ["callbackID": "\(r.callbackID)"])
            }
        }
    }

    // MARK: - Close callbacks

    /// Adds a close handler; registers the connection's C close callback for the first one.
    func subscribeClose(_ c: OpaquePointer, _ handler: @escaping CloseHandler) throws(LibvirtError) -> Int {
        lock.lock(); defer { lock.unlock() }
        if closeCallbackRegistered == nil {
            let opaque = Unmanaged.passRetained(self).toOpaque()
            if virConnectRegisterCloseCallback(c, onClose, opaque, releaseRegistry) < 0 {
                let error = LibvirtError.takeLast(after: "virConnectRegisterCloseCallback")
                Unmanaged<EventRegistry>.fromOpaque(opaque).release()
                guard error.code == .noSupport else { throw error }
                closeCallbackRegistered = false
            } else {
                closeCallbackRegistered = true
            }
        }
        let token = newToken()
        closeHandlers[token] = handler
        return token
    }

    /// Removes a close handler; the last one unregisters the C callback
    /// (`virConnectUnregisterCloseCallback`). `c` is nil when the connection is closed.
    func unsubscribeClose(_ token: Int, _ c: OpaquePointer?) {
        lock.lock(); defer { lock.unlock() }
        guard closeHandlers.removeValue(forKey: token) != nil, closeHandlers.isEmpty else { return }
        if closeCallbackRegistered == true, let c {
            _ = virConnectUnregisterCloseCallback(c, onClose)
            virResetLastError()
        }
        if c != nil || closeCallbackRegistered == false { closeCallbackRegistered = nil }
    }

    fileprivate func fireClose(_ reason: Int32) {
        let event = ConnectionCloseEvent(reason: ConnectionCloseReason(rawValue: reason), timestamp: .now)
        lock.lock()
        let handlers = Array(closeHandlers.values)
        lock.unlock()
        for h in handlers { h(event) }  // outside the lock: a handler may end its stream
    }
}

// Run on libvirt's event-loop thread.
private let onClose: virConnectCloseFunc = { _, reason, opaque in
    guard let opaque else { return }
    Unmanaged<EventRegistry>.fromOpaque(opaque).takeUnretainedValue().fireClose(reason)
}
private let releaseRegistry: virFreeCallback = { opaque in
    if let opaque { Unmanaged<EventRegistry>.fromOpaque(opaque).release() }
}

extension Timestamp {
    /// The current wall-clock time.
    static var now: Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(sinceUnixEpoch: .seconds(Int64(ts.tv_sec)) + .nanoseconds(Int64(ts.tv_nsec)))
    }
}

extension Connection {
    /// Subscribes to `ids` of `family` (on a pool thread); returns the token for `unsubscribeEvents`.
    func subscribeEvents<F: EventFamily>(
        _ family: F.Type, ids: Set<F.ID>, subscriber: EventSubscriber<F.Event>
    ) async throws -> Int where F.Event: Hashable {
        try await call { c throws(LibvirtError) in try self.events.subscribe(family, c, ids: ids, subscriber: subscriber) }
    }

    /// Ends a subscription without waiting (from a stream's termination handler).
    func unsubscribeEvents(_ token: Int) {
        pool.execute {
            let done: Bool? = try? self.withHandle { c throws(LibvirtError) in self.events.unsubscribe(token, c); return true }
            if done == nil { self.events.unsubscribe(token, nil) }
        }
    }

    /// Adds a close handler (on a pool thread).
    func subscribeClose(_ handler: @escaping EventRegistry.CloseHandler) async throws -> Int {
        try await call { c throws(LibvirtError) in try self.events.subscribeClose(c, handler) }
    }

    /// Removes a close handler without waiting.
    func unsubscribeClose(_ token: Int) {
        pool.execute {
            let done: Bool? = try? self.withHandle { c throws(LibvirtError) in self.events.unsubscribeClose(token, c); return true }
            if done == nil { self.events.unsubscribeClose(token, nil) }
        }
    }

    /// Events of one family as an `AsyncStream`: for one object (`filter`) or all. The
    /// registrations are made before this returns, so every later event is delivered; a
    /// failure throws the typed `LibvirtError`. Events are buffered in the stream (unbounded:
    /// they are small and rare, and dropping one would lose a state change). Ending the
    /// consumer deregisters what nobody else follows; when the connection closes, the stream
    /// yields `.disconnected` and finishes (`EventMonitor` reconnects instead).
    func eventStream<F: EventFamily>(
        _ family: F.Type, ids: Set<F.ID>, filter: F.Event.ObjectKey?
    ) async throws -> AsyncStream<EventMessage<F.Event>> where F.Event: Hashable {
        let (stream, continuation) = AsyncStream<EventMessage<F.Event>>.makeStream()
        let token = try await subscribeEvents(family, ids: ids, subscriber: EventSubscriber(continuation, filter: filter))
        let closeToken: Int
        do {
            closeToken = try await subscribeClose { event in
                continuation.yield(.disconnected(event))
                continuation.finish()
            }
        } catch {
            unsubscribeEvents(token)
            throw error
        }
        continuation.onTermination = { [self] _ in
            unsubscribeEvents(token)
            unsubscribeClose(closeToken)
        }
        return stream
    }

    /// The connection's close events (`virConnectRegisterCloseCallback`): error, EOF (the
    /// daemon went away), keepalive timeout, or client close. A connection closes at most
    /// once, so the stream yields one event and finishes; ending the consumer unregisters.
    /// For drivers that can't close (the embedded test driver) the stream stays silent.
    public func closeEvents() async throws -> AsyncStream<ConnectionCloseEvent> {
        let (stream, continuation) = AsyncStream<ConnectionCloseEvent>.makeStream()
        let token = try await subscribeClose { event in
            continuation.yield(event)
            continuation.finish()
        }
        continuation.onTermination = { [self] _ in unsubscribeClose(token) }
        return stream
    }
}
