import Foundation
@testable import Libvirt
import Testing
import VirtCore
import VirtKitTestSupport

/// `Domain.openChannel(_:)` (`virDomainOpenChannel`) against a real `qemu:///system`: a guest
/// booting `Scripts/lab-boot/channel.S`, which drives its virtio-serial device directly and
/// echoes every byte that arrives on port 1 — the guest's first `<channel type='unix'>`
/// (target `org.virtkit.echo.0`). Bytes typed through VirtKit's stream reach the guest and
/// its answer comes back on the same stream; one client at a time, `force` takes over.
@Suite(.serialized) struct LiveChannelTests {
    static let channelName = "org.virtkit.echo.0"

    /// Starts a channel-echo guest (transient), waits for the guest to open its port (the
    /// live XML's channel `state='connected'`), runs `body`, destroys it whatever happened.
    static func withChannelGuest(_ conn: Connection, _ body: (Domain) async throws -> Void) async throws {
        let image = try await withCheckedThrowingContinuation { (c: CheckedContinuation<String, Error>) in
            Thread { c.resume(with: Result { try EchoGuest.imagePathSync(program: "channel") }) }.start()
        }
        // libvirt 9.0 opens only UNIX-socket channels; the pty one is there for the typed refusal.
        let channels = """
            <channel type='unix'><target type='virtio' name='\(channelName)'/><address type='virtio-serial' controller='0' bus='0' port='1'/></channel>
            <channel type='pty'><target type='virtio' name='org.virtkit.pty.0'/><address type='virtio-serial' controller='0' bus='0' port='2'/></channel>
            """
        let dom = try await conn.createDomain(xml: EchoGuest.xml(name: TestGuest.uniqueName("chan"), image: image, extraDevices: channels))
        var failure: Error?
        do {
            // SeaBIOS takes seconds (more on a loaded host) before the boot sector runs.
            let opened = try await eventually(timeout: .seconds(180), every: .milliseconds(200)) {
                try await dom.xmlDescription().contains("name='\(channelName)' state='connected'")
            }
            guard opened else { throw EchoGuest.BuildError("the guest never opened its virtio-serial port") }
            try await body(dom)
        } catch { failure = error }
        try? await dom.destroy()
        if let failure { throw failure }
    }

    @Test(.timeLimit(.minutes(5)))
    func channelCarriesBytesBothWays() async throws {
        guard let conn = await LiveStreamTests.connect() else { return }
        defer { Task { await conn.close() } }
        try await Self.withChannelGuest(conn) { dom in
            let session = try await dom.openChannel(Self.channelName)
            #expect(session.device == Self.channelName)
            var it = session.output.makeAsyncIterator()
            // Host -> guest -> host: the guest writes back what it received (one 256-byte
            // buffer at a time, so the long word comes back in pieces).
            for word in ["hello", "virtkit channel 🚀", String(repeating: "0123456789", count: 60)] {
                #expect(try await LiveStreamTests.echoes(session, word, from: &it), "echo of \(word.prefix(20))")
            }

            // One client at a time: a second open is refused, typed, until `force` takes over,
            // which ends the first session's output. By alias this time.
            do {
                _ = try await dom.openChannel(Self.channelName)
                Issue.record("a second client opened a held channel")
            } catch let e as LibvirtError {
                #expect(e.code == .operationFailed && e.function == "virDomainOpenChannel", "\(e)")
            }
            let second = try await dom.openChannel("channel0", force: true)
            #expect(await LiveStreamTests.runsToEnd(&it), "the first session ended when the second took the channel")
            var it2 = second.output.makeAsyncIterator()
            #expect(try await LiveStreamTests.echoes(second, "again", from: &it2))
            try await second.close()

            // Closed: a plain open (nil name: the first channel) succeeds and echoes.
            let third = try await dom.openChannel(nil)
            var it3 = third.output.makeAsyncIterator()
            #expect(try await LiveStreamTests.echoes(third, "third", from: &it3))
            try await third.close()

            // A pty channel is refused by libvirt 9.0's QEMU driver; an unknown name too.
            for (name, reason) in [("org.virtkit.pty.0", "is not using a UNIX socket"), ("org.virtkit.nope.0", "cannot find channel")] {
                do {
                    _ = try await dom.openChannel(name)
                    Issue.record("channel \(name) was opened")
                } catch let e as LibvirtError {
                    #expect(e.code == .internalError && e.function == "virDomainOpenChannel" && e.message.contains(reason), "\(name): \(e)")
                }
            }
        }
    }
}
