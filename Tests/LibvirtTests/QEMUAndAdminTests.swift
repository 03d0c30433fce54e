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
            await ObjectKindTests.expectError(.internalError, "virDomainQemuMonitorCommand") { _ = try await dom.qemuMonitorCommand("{\"execute\":\"no-such-command\"}") }

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

    @Test func adminServersClientsAndLogging() async throws {
        let admin: AdminConnection
        do {
            admin = try await AdminConnection.open("libvirtd:///system")
        } catch {
            LiveEnvironment.unavailable("libvirtd admin socket: \(error)")
            return
        }
        defer { Task { await admin.close() } }
        #expect(try await admin.uri() == "libvirtd:///system")
        #expect(try await admin.daemonVersion() >= Version(major: 9, minor: 0, release: 0))
        #expect(try AdminConnection.libraryVersion() >= Version(major: 9, minor: 0, release: 0))
        #expect(await admin.isAlive())
        let names = try await admin.servers().map(\.name)
        #expect(names.contains("libvirtd") && names.contains("admin"))
        let server = try await admin.server(named: "libvirtd")
        await ObjectKindTests.expectError(.noServer, "virAdmConnectLookupServer") { _ = try await admin.server(named: "nope") }

        // The worker pool: read, resize, read back, restore.
        let pool = try await server.threadPool()
        let minWorkers = try #require(pool.minWorkers), maxWorkers = try #require(pool.maxWorkers)
        #expect(pool.currentWorkers != nil && pool.jobQueueDepth != nil && minWorkers <= maxWorkers)
        try await server.setThreadPool(AdminThreadPool(maxWorkers: maxWorkers + 1))
        #expect(try await server.threadPool().maxWorkers == maxWorkers + 1)
        try await server.setThreadPool(AdminThreadPool(maxWorkers: maxWorkers))
        await ObjectKindTests.expectError(.invalidArg, "virAdmServerSetThreadPoolParameters") {
            try await server.setThreadPool(AdminThreadPool(minWorkers: maxWorkers + 10, maxWorkers: 1))
        }

        // Our own libvirt connection shows up as a client, with our PID.
        let conn = try await Connection.open("qemu:///system")
        defer { Task { await conn.close() } }
        let clients = try await server.clients()
        var mine: AdminClient?
        for c in clients where try await c.info()["unix_process_id"]?.int64 == Int64(getpid()) { mine = c }
        let client = try #require(mine, "this process's connection is listed")
        #expect(client.transport == .unix && client.connectedSince != nil)
        #expect(try await server.client(id: client.id).id == client.id)
        await ObjectKindTests.expectError(.noClient, "virAdmServerLookupClient") { _ = try await server.client(id: UInt64.max) }
        let limits = try await server.clientLimits()
        #expect(limits.maxClients != nil && (limits.currentClients ?? 0) >= 1)
        try await server.setClientLimits(AdminClientLimits(maxClients: limits.maxClients))

        // Logging: filters set and restored.
        let filters = try await admin.loggingFilters()
        _ = try await admin.loggingOutputs()
        try await admin.setLoggingFilters("3:remote 4:event")
        #expect(try await admin.loggingFilters().contains("3:remote"))
        try await admin.setLoggingFilters(filters.isEmpty ? nil : filters)
        await ObjectKindTests.expectError(.configUnsupported, "virAdmConnectSetLoggingFilters") { try await admin.setLoggingFilters("9:nonsense") }

        // Disconnecting a client: its connection is no longer alive.
        try await client.disconnect()
        #expect(try await eventually { await conn.isAlive() == false })
        await admin.close()
        do {
            _ = try await admin.uri()
            Issue.record("a closed admin connection answered")
        } catch let e as LibvirtError {
            #expect(e.code == .invalidConn && e.function == nil)
        }
    }
}
