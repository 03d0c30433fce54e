import Foundation
import Libvirt
import LibvirtAdmin
import LibvirtQEMU
import Testing
import VirtCore
import VirtKitTestSupport

/// libvirt-qemu (monitor and agent pass-through, QEMU monitor events) and libvirt-admin
/// (servers, worker pools, clients, logging) against the real daemon; on the test driver
/// the QEMU calls are a typed `.noSupport` naming the function.
@Suite(.serialized) struct QEMUAndAdminTests {
    @Test func qemuCallsOnTheTestDriverAreNoSupport() async throws {
        let conn = try await TestNode.single("qemu")
        defer { Task { await conn.close() } }
        let dom = try await conn.domain(named: "qemu")
        await ObjectKindTests.expectError(.noSupport, "virDomainQemuMonitorCommand") { _ = try await dom.qemuMonitorCommand("{\"execute\":\"query-status\"}") }
        await ObjectKindTests.expectError(.noSupport, "virDomainQemuAgentCommand") { _ = try await dom.qemuAgentCommand("{\"execute\":\"guest-ping\"}") }
        await ObjectKindTests.expectError(.noSupport, "virDomainQemuMonitorCommandWithFiles") { _ = try await dom.qemuMonitorCommand("{}", passing: []) }
        await ObjectKindTests.expectError(.noSupport, "virDomainQemuAttach") { _ = try await conn.qemuAttach(pid: UInt32(getpid())) }
        await ObjectKindTests.expectError(.noSupport, "virConnectDomainQemuMonitorEventRegister") { _ = try await conn.qemuMonitorEvents() }
    }

    @Test func monitorCommandsAgentAndMonitorEvents() async throws {
        guard let conn = await LiveQEMUTests.connect() else { return }
        defer { Task { await conn.close() } }
        try await LiveQEMUTests.withGuest(conn, tag: "qmp") { dom in
            let status = try await dom.qemuMonitorCommand("{\"execute\":\"query-status\"}")
            #expect(status.contains("\"running\""))
            #expect(try await dom.qemuMonitorCommand("info status", syntax: .hmp).contains("running"))
            // QMP errors come back as the reply; text that is not QMP is libvirt's typed error.
            #expect(try await dom.qemuMonitorCommand("{\"execute\":\"no-such-command\"}").contains("CommandNotFound"))
            await ObjectKindTests.expectError(.internalError, "virDomainQemuMonitorCommand") { _ = try await dom.qemuMonitorCommand("not json") }

            // Monitor events: STOP when the guest pauses, RESUME when it runs again.
            let events = try await conn.qemuMonitorEvents(for: dom, named: "STOP|RESUME", match: .regex)
            try await dom.suspend()
            try await dom.resume()
            var names: [String] = []
            for await e in events {
                #expect(e.domain == dom && e.time.sinceUnixEpoch > .zero)
                names.append(e.name)
                if names.count == 2 { break }
            }
            #expect(names == ["STOP", "RESUME"])

            // No agent channel: typed and recognisable as "no agent".
            do {
                _ = try await dom.qemuAgentCommand("{\"execute\":\"guest-ping\"}", timeout: .seconds(1))
                Issue.record("agent command answered without an agent")
            } catch let e as LibvirtError {
                #expect(e.isAgentUnavailable && e.function == "virDomainQemuAgentCommand", "\(e)")
            }
        }
    }

    /// libvirt 9.0 crashes when one process uses both libvirt-admin and libvirt connections
    /// (both register libvirt's object types): after a connection, admin is refused, typed.
    /// The admin calls themselves run in `virtkit admin` processes (AdminCLITests).
    @Test func adminIsRefusedInAProcessWithConnections() async throws {
        let conn = try await TestNode.single("adm")
        defer { Task { await conn.close() } }
        do {
            _ = try await AdminConnection.open("libvirtd:///system")
            Issue.record("admin opened beside a libvirt connection")
        } catch let e as LibvirtError {
            #expect(e.code == .operationUnsupported && e.message.contains("separate process"))
        }
        #expect(AdminClientTransport(rawValue: 2) == .tls && AdminClientTransport(rawValue: 7) == .unknown(7))
    }
}
