import CLibvirt
import Foundation
import VirtCore

/// A screenshot: the image bytes in the format the hypervisor chose (`mimeType`, e.g.
/// `image/png` or QEMU's `image/x-portable-pixmap`).
public struct DomainScreenshot: Hashable, Sendable {
    public var mimeType: String
    public var data: [UInt8]
}

/// An open serial console, parallel port or channel of a guest: what the guest writes comes
/// as `output` (an `AsyncSequence` of byte chunks), `write(_:)` types into it. A
/// non-blocking `LibvirtStream` underneath: an idle session holds no thread. `close()`
/// (or dropping the session) releases the device for other clients.
public final class ConsoleSession: Sendable {
    public let domain: Domain
    /// The device alias asked for (nil: the first console or serial port).
    public let device: String?
    public let stream: LibvirtStream

    init(domain: Domain, device: String?, stream: LibvirtStream) {
        self.domain = domain
        self.device = device
        self.stream = stream
    }

    /// What the guest writes, as it arrives; ends when the console closes (the guest
    /// stopped, another client took it with `.force`).
    public var output: LibvirtStream.Chunks { stream.chunks }

    /// Sends bytes to the guest.
    public func write(_ bytes: [UInt8]) async throws { try await stream.write(bytes) }

    /// Sends text as UTF-8.
    public func write(_ text: String) async throws { try await stream.write(text) }

    /// Closes the session (`virStreamAbort`; a console has no end-of-data to confirm).
    public func close() async throws { try await stream.abort() }
}

extension Domain {
    /// `virDomainConsoleFlags`.
    public struct ConsoleFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `VIR_DOMAIN_CONSOLE_FORCE`: take the console from a client that has it open.
        public static let force = Self(rawValue: VIR_DOMAIN_CONSOLE_FORCE.rawValue)
        /// `VIR_DOMAIN_CONSOLE_SAFE`: open only if the driver guarantees one client at a time.
        public static let safe = Self(rawValue: VIR_DOMAIN_CONSOLE_SAFE.rawValue)
    }

    /// Opens a console, serial or parallel port (`virDomainOpenConsole`) on a new
    /// non-blocking stream. `device`: its alias (`serial0`, `console1`, …), nil for the first.
    /// Without `.force`, a console another client holds is refused (`.operationFailed`).
    public func openConsole(device: String? = nil, flags: ConsoleFlags = [], readAhead: Int = 1 << 20) async throws -> ConsoleSession {
        let stream = try await connection.newStream(nonBlocking: true, readAhead: readAhead)
        _ = try await stream.attach(direction: .both) { [self] st throws(LibvirtError) in
            try cCall("virDomainOpenConsole", virDomainOpenConsole(handle, device, st, flags.rawValue))
        }
        return ConsoleSession(domain: self, device: device, stream: stream)
    }

    /// Opens a guest channel (`virDomainOpenChannel`, e.g. `org.qemu.guest_agent.0`, or a
    /// channel's alias; nil: the first channel) on a new non-blocking stream; `force` takes
    /// it from another client (without it a held channel is `.operationFailed`). libvirt
    /// 9.0's QEMU driver opens `<channel type='unix'>` channels only.
    public func openChannel(_ name: String?, force: Bool = false, readAhead: Int = 1 << 20) async throws -> ConsoleSession {
        let stream = try await connection.newStream(nonBlocking: true, readAhead: readAhead)
        let flags: UInt32 = force ? VIR_DOMAIN_CHANNEL_FORCE.rawValue : 0
        _ = try await stream.attach(direction: .both) { [self] st throws(LibvirtError) in
            try cCall("virDomainOpenChannel", virDomainOpenChannel(handle, name, st, flags))
        }
        return ConsoleSession(domain: self, device: name, stream: stream)
    }

    /// Takes a screenshot of display `screen` (`virDomainScreenshot`): the image streamed
    /// into memory (at most `limit` bytes).
    public func screenshot(screen: UInt32 = 0, limit: Int = 256 << 20) async throws -> DomainScreenshot {
        let stream = try await connection.newStream()
        let mime = try await stream.attach(direction: .read) { [self] st throws(LibvirtError) in
            try takeString("virDomainScreenshot", virDomainScreenshot(handle, st, screen, 0))
        }
        return DomainScreenshot(mimeType: mime, data: try await stream.readAll(limit: limit))
    }
}
