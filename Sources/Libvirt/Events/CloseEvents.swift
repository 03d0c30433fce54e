import CLibvirt
import Foundation

/// Fans one connection's close callback out to many subscribers.
///
/// libvirt allows a single close callback per connection (`virConnectRegisterCloseCallback`
/// fails with "A close callback is already registered"), while VirtKit wants one per event
/// stream plus any number of `closeEvents()` streams. One hub per open `Connection` (keyed
/// by object identity; the subscribers' closures keep the connection alive) holds the C
/// registration while it has subscribers; its context is a retained reference released by
/// the freecb when the last subscriber unregisters.
///
/// Sendable: `@unchecked`; the table and each hub's subscribers are guarded by `tableLock`.
final class CloseHub: @unchecked Sendable {
    typealias Handler = @Sendable (ConnectionCloseEvent) -> Void

    nonisolated(unsafe) private static var hubs: [ObjectIdentifier: CloseHub] = [:]
    private static let tableLock = NSLock()

    private var subscribers: [Int: Handler] = [:]
    private var nextToken = 1
    /// False for drivers without close callbacks (e.g. the embedded test driver, which can't
    /// lose its connection): subscribers are kept but never called.
    private var registered = false

    /// Adds `handler`; registers the C callback for the connection's first subscriber.
    /// Returns a token for `unsubscribe`.
    static func subscribe(_ connection: Connection, _ handler: @escaping Handler) async throws -> Int {
        try await connection.call { c throws(LibvirtError) -> Int in
            tableLock.lock(); defer { tableLock.unlock() }
            let key = ObjectIdentifier(connection)
            let hub: CloseHub
            if let h = hubs[key] {
                hub = h
            } else {
                hub = CloseHub()
                let opaque = Unmanaged.passRetained(hub).toOpaque()
                if virConnectRegisterCloseCallback(c, onClose, opaque, freeHub) < 0 {
                    let error = LibvirtError.takeLast(after: "virConnectRegisterCloseCallback")
                    Unmanaged<CloseHub>.fromOpaque(opaque).release()
                    guard error.code == .noSupport else { throw error }
                } else {
                    hub.registered = true
                }
                hubs[key] = hub
            }
            let token = hub.nextToken
            hub.nextToken += 1
            hub.subscribers[token] = handler
            return token
        }
    }

    /// Removes a subscriber; the last one unregisters the C callback
    /// (`virConnectUnregisterCloseCallback`). Call on a thread that may block.
    static func unsubscribe(_ connection: Connection, _ token: Int) {
        tableLock.lock(); defer { tableLock.unlock() }
        let key = ObjectIdentifier(connection)
        guard let hub = hubs[key] else { return }
        hub.subscribers[token] = nil
        guard hub.subscribers.isEmpty else { return }
        hubs[key] = nil
        if hub.registered {
            // Fails only if the connection object is already gone; then libvirt freed it.
            _ = try? connection.withHandle { c throws(LibvirtError) in
                _ = virConnectUnregisterCloseCallback(c, onClose)
                virResetLastError()
            }
        }
    }

    fileprivate func fire(_ reason: Int32) {
        let event = ConnectionCloseEvent(reason: ConnectionCloseReason(raw: reason), timestamp: Date())
        Self.tableLock.lock()
        let handlers = Array(subscribers.values)
        Self.tableLock.unlock()
        for h in handlers { h(event) }
    }
}

// Runs on libvirt's event-loop thread.
private let onClose: virConnectCloseFunc = { _, reason, opaque in
    guard let opaque else { return }
    Unmanaged<CloseHub>.fromOpaque(opaque).takeUnretainedValue().fire(reason)
}
private let freeHub: virFreeCallback = { opaque in
    if let opaque { Unmanaged<CloseHub>.fromOpaque(opaque).release() }
}

extension Connection {
    /// The connection's close events (`virConnectRegisterCloseCallback`): error, EOF (the
    /// daemon went away), keepalive timeout, or client close. A connection closes at most
    /// once, so the stream yields one event and finishes; ending the consumer unregisters.
    /// For drivers that can't close (the embedded test driver) the stream stays silent.
    public func closeEvents() async throws -> AsyncStream<ConnectionCloseEvent> {
        let (stream, continuation) = AsyncStream<ConnectionCloseEvent>.makeStream()
        let token = try await CloseHub.subscribe(self) { event in
            continuation.yield(event)
            continuation.finish()
        }
        continuation.onTermination = { [self] _ in
            pool.execute { CloseHub.unsubscribe(self, token) }
        }
        return stream
    }
}
