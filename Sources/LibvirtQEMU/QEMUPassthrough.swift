import CLibvirt
import CLibvirtQEMU
import Foundation
import Libvirt
import VirtCore

// libvirt-qemu (`pkg-config libvirt-qemu`): pass-through to QEMU's monitor and guest agent
// and QEMU monitor events. libvirt marks a domain "tainted" after a monitor command that
// changes state behind its back; use these for what libvirt has no API for.

/// How `Domain.qemuMonitorCommand` speaks to QEMU.
public enum QEMUMonitorSyntax: Hashable, Sendable {
    /// QMP JSON (`{"execute": "query-status"}`): the reply is QMP JSON.
    case qmp
    /// Human monitor commands (`info status`), translated by libvirt.
    case hmp
}

/// One QEMU monitor event (`virConnectDomainQemuMonitorEventCallback`).
public struct QEMUMonitorEvent: Hashable, Sendable {
    public var domain: Domain
    /// QMP event name, e.g. `STOP`, `RESUME`, `BLOCK_JOB_COMPLETED`.
    public var name: String
    /// When QEMU emitted it.
    public var time: Timestamp
    /// The event's `data` member as JSON text; nil when the event has none.
    public var detailsJSON: String?
}

/// `virConnectDomainQemuMonitorEventRegisterFlags`: how `qemuMonitorEvents(named:)` matches names.
public struct QEMUMonitorEventMatch: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The name is a POSIX extended regular expression.
    public static let regex = Self(rawValue: VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_REGEX.rawValue)
    /// Case-insensitive.
    public static let noCase = Self(rawValue: VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_NOCASE.rawValue)
}

extension Domain {
    /// Sends a command to QEMU's monitor and returns the reply (`virDomainQemuMonitorCommand`).
    public func qemuMonitorCommand(_ command: String, syntax: QEMUMonitorSyntax = .qmp) async throws -> String {
        let flags = syntax == .hmp ? VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP.rawValue : 0
        return try await call { d throws(LibvirtError) in
            var reply: UnsafeMutablePointer<CChar>?
            try cCall("virDomainQemuMonitorCommand", virDomainQemuMonitorCommand(d, command, &reply, flags))
            return try takeString("virDomainQemuMonitorCommand", reply)
        }
    }

    /// Sends a QMP command with file descriptors for QEMU (`getfd`, `add-fd`) and returns
    /// the reply and any descriptors QEMU passed back, the caller's to close
    /// (`virDomainQemuMonitorCommandWithFiles`).
    public func qemuMonitorCommand(_ command: String, passing files: [Int32]) async throws -> (reply: String, files: [Int32]) {
        try await call { d throws(LibvirtError) in
            var inFiles = files
            var reply: UnsafeMutablePointer<CChar>?
            var outFiles: UnsafeMutablePointer<Int32>?
            var nOut: UInt32 = 0
            let rc = inFiles.withUnsafeMutableBufferPointer {
                virDomainQemuMonitorCommandWithFiles(d, command, UInt32($0.count), $0.baseAddress, &nOut, &outFiles, &reply, 0)
            }
            try cCall("virDomainQemuMonitorCommandWithFiles", rc)
            defer { free(outFiles) }
            let got = (0..<Int(nOut)).compactMap { outFiles?[$0] }
            return (try takeString("virDomainQemuMonitorCommandWithFiles", reply), got)
        }
    }

    /// Sends a JSON command to the QEMU guest agent and returns its reply
    /// (`virDomainQemuAgentCommand`); `timeout` nil blocks, else whole seconds (at least 1).
    /// Without a connected agent the error's `isAgentUnavailable` is true.
    public func qemuAgentCommand(_ command: String, timeout: Duration? = .seconds(5)) async throws -> String {
        let secs: Int32 = timeout.map { max(1, Int32(clamping: $0.components.seconds)) } ?? VIR_DOMAIN_QEMU_AGENT_COMMAND_BLOCK.rawValue
        return try await call { d throws(LibvirtError) in
            try takeString("virDomainQemuAgentCommand", virDomainQemuAgentCommand(d, command, secs, 0))
        }
    }
}

extension Connection {
    /// Attaches libvirt to a QEMU process started outside it (`virDomainQemuAttach`;
    /// deprecated by libvirt and refused by current QEMU drivers).
    public func qemuAttach(pid: UInt32) async throws -> Domain {
        try await call { c throws(LibvirtError) in
            let d = try cObject("virDomainQemuAttach", virDomainQemuAttach(c, pid, 0))
            defer { virDomainFree(d) }
            return Domain(retaining: d, connection: self)
        }
    }

    /// QEMU monitor events as they come (`virConnectDomainQemuMonitorEventRegister`):
    /// of `domain` (nil: all), named `name` (nil: all; `match` for a regex or case-insensitive
    /// name). The registration ends (`virConnectDomainQemuMonitorEventDeregister`) when the
    /// stream's consumer stops; the stream finishes when the connection closes.
    public func qemuMonitorEvents(for domain: Domain? = nil, named name: String? = nil,
                                  match: QEMUMonitorEventMatch = []) async throws -> AsyncStream<QEMUMonitorEvent> {
        let (stream, continuation) = AsyncStream<QEMUMonitorEvent>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        let box = QEMUEventBox(continuation, connection: self)
        let id = try await call { c throws(LibvirtError) in
            // libvirt owns one reference from here and drops it through the free callback.
            let opaque = Unmanaged.passRetained(box).toOpaque()
            let rc = virConnectDomainQemuMonitorEventRegister(c, domain?.handle, name, onQEMUMonitorEvent, opaque, releaseQEMUEventBox, match.rawValue)
            if rc < 0 { Unmanaged<QEMUEventBox>.fromOpaque(opaque).release() }  // never taken
            return try cCall("virConnectDomainQemuMonitorEventRegister", rc)
        }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            Task { try? await self.call { c throws(LibvirtError) in
                try cCall("virConnectDomainQemuMonitorEventDeregister", virConnectDomainQemuMonitorEventDeregister(c, id))
            } }
        }
        return stream
    }
}

/// What libvirt's event thread hands each callback: the stream to feed. Released by
/// libvirt (its free callback) when the registration ends.
/// Sendable: immutable; the continuation is thread-safe.
private final class QEMUEventBox: Sendable {
    let continuation: AsyncStream<QEMUMonitorEvent>.Continuation
    // The connection of the events' domains; weak so the registration does not keep it open.
    nonisolated(unsafe) weak var connection: Connection?
    init(_ c: AsyncStream<QEMUMonitorEvent>.Continuation, connection: Connection) {
        continuation = c
        self.connection = connection
    }
}

private let onQEMUMonitorEvent: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, Int64, UInt32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    _, dom, event, seconds, micros, details, opaque in
    guard let opaque, let dom else { return }
    let box = Unmanaged<QEMUEventBox>.fromOpaque(opaque).takeUnretainedValue()
    guard let conn = box.connection else { return }
    let time = Timestamp(sinceUnixEpoch: .seconds(seconds) + .microseconds(Int64(micros)))
    box.continuation.yield(QEMUMonitorEvent(domain: Domain(retaining: dom, connection: conn), name: event.map { String(cString: $0) } ?? "",
                                            time: time, detailsJSON: details.map { String(cString: $0) }))
}

private let releaseQEMUEventBox: @convention(c) (UnsafeMutableRawPointer?) -> Void = { opaque in
    guard let opaque else { return }
    let box = Unmanaged<QEMUEventBox>.fromOpaque(opaque).takeRetainedValue()
    box.continuation.finish()
}
