import Foundation
import Libvirt
import Logging
import Synchronization
import Testing
import VirtLogging

/// Records every message it gets (`@unchecked`: the box is a Mutex).
struct CapturingHandler: LogHandler {
    final class Box: Sendable { let lines = Mutex<[(label: String, level: Logger.Level, message: String, metadata: Logger.Metadata)]>([]) }
    let label: String
    let box: Box
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        box.lines.withLock { $0.append((label, event.level, "\(event.message)", event.metadata ?? [:])) }
    }
}

/// One suite, serialized: the switch is process-wide.
@Suite(.serialized) struct VirtLoggingTests {
    @Test func silentUntilEnabledAndMessagesAreNotEvenBuilt() {
        VirtKitLogging.disable()
        let logger = ModuleLogger(label: "virtkit.test")
        var built = 0
        func message() -> Logger.Message { built += 1; return "x" }
        logger.info(message())
        #expect(built == 0)
        #expect(logger.logger == nil)
        #expect(!VirtKitLogging.isEnabled)
    }

    @Test func libvirtLogsConnectionsUnderItsLabelOnceEnabled() async throws {
        let box = CapturingHandler.Box()
        VirtKitLogging.enable { label in Logger(label: label) { CapturingHandler(label: $0, box: box) } }
        defer { VirtKitLogging.disable() }
        // A URI of this test's own (a node file), so other suites' connections can't be taken for it.
        let node = FileManager.default.temporaryDirectory.appendingPathComponent("vk-logging-\(getpid())-\(Int.random(in: 0...1_000_000)).xml")
        try "<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>1</cores><threads>1</threads></cpu></node>".write(to: node, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: node) }
        let uri = "test://" + node.path
        let conn = try await Connection.open(uri, readOnly: true)
        await conn.close()
        await #expect(throws: LibvirtError.self) { try await Connection.open("bogus-driver:///nowhere") }
        let lines = box.lines.withLock { $0 }
        // Other suites may open connections meanwhile: look for this test's own.
        let opened = lines.first { $0.message == "connection opened" && $0.metadata["uri"] == "\(uri)" }
        #expect(opened?.label == "virtkit.libvirt")
        #expect(opened?.level == .info)
        #expect(opened?.metadata["readOnly"] == "true")
        #expect(lines.contains { $0.message == "connection closed" && $0.level == .debug && $0.metadata["uri"] == "\(uri)" })
        #expect(lines.contains { $0.message == "connection failed" && $0.metadata["uri"] == "bogus-driver:///nowhere" })

        VirtKitLogging.disable()
        let before = box.lines.withLock { $0.count }
        let again = try await Connection.open("test:///default", readOnly: true)
        await again.close()
        #expect(box.lines.withLock { $0.count } == before, "nothing after disable()")
    }
}
