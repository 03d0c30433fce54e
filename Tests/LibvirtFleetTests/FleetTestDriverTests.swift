import Foundation
import Libvirt
import LibvirtFleet
import Testing
import VirtCore

/// The fleet over libvirt's embedded test driver: one private host per node file.
@Suite struct FleetTestDriverTests {
    @Test func inventoryOfTestDriverHostsMatchesTheirNodeFiles() async throws {
        let sizes = ["td-a": 5, "td-b": 7, "td-c": 0]
        let hosts = try sizes.keys.sorted().map { try NodeFiles.node($0, cpus: 8, guests: sizes[$0]!) }
        let fleet = try Fleet(hosts: hosts + [FleetHost(name: "default", uri: "test:///default", readOnly: true)], options: .init(concurrency: 2))
        let inv = await fleet.inventory()
        #expect(inv.missing.isEmpty, "\(inv.missing)")
        #expect(inv.hosts.map(\.host) == ["td-a", "td-b", "td-c", "default"])
        for h in inv.hosts where h.host != "default" {
            let n = sizes[h.host]!
            #expect(h.guests.count == n)
            #expect(h.topologySource == .nodeInfo && h.topology.cpus.count == 8 && h.nodeInfo.cpus == 8)
            for g in h.guests {
                let i = try #require(Int(g.name.split(separator: "-").last!))
                #expect(g.state == ["running", "paused", "shutoff"][i % 3], "\(g.name)")
                #expect(g.isActive == (i % 3 != 2))
                #expect(g.vcpus == i % 4 + 1)
                #expect(g.maxMemory == .mebibytes(UInt64((i % 3 + 1) * 64)))
                if !g.isActive {
                    #expect(g.vcpuPins == nil, "pins are read for active guests only")
                } else if i % 2 == 0 {
                    #expect(g.vcpuPins?.first == CPUSet([i % 8]), "\(g.name)")
                } else {
                    #expect(g.vcpuPins?.first == CPUSet(0..<8), "\(g.name)")
                }
            }
            let active = (0..<n).filter { $0 % 3 != 2 }
            #expect(h.occupancy.activeGuests == active.count)
            #expect(h.occupancy.vcpus == active.reduce(0) { $0 + $1 % 4 + 1 })
            var pinned: [Int: Int] = [:]
            for i in active where i % 2 == 0 { pinned[i % 8, default: 0] += 1 }
            #expect(h.occupancy.pinnedVCPUsByCPU == pinned)
        }
        // test:///default lists two NUMA cells in its capabilities, with free memory per cell.
        let d = try #require(inv.hosts.first { $0.host == "default" })
        #expect(d.topologySource == .capabilities)
        #expect(d.topology.nodes.count == 2 && d.topology.cpus.count == 16)
        #expect(d.topology.nodes.allSatisfy { $0.freeMemory != nil && !$0.pagePools.isEmpty })
        // test:///default is one state for the whole test process: other suites define guests there too.
        #expect(d.guests.contains { $0.name == "test" })
        await fleet.shutdown()
    }

    @Test func aDeadHostFailsAloneAndThenBacksOff() async throws {
        let good = try NodeFiles.node("dead-neighbour", guests: 3)
        let dead = FleetHost(name: "dead", uri: "test://\(NodeFiles.folder.path)/no-such-node.xml")
        let fleet = try Fleet(hosts: [good, dead], options: .init(reconnect: ReconnectPolicy(initialDelay: .seconds(60))))
        let first = await fleet.run { conn, _ in try await conn.listAllDomains().count }
        #expect(first[host: "dead-neighbour"]?.result.value == 3)
        #expect(first[host: "dead"]?.result.error is LibvirtError)
        #expect(await fleet.health(of: "dead")?.failures == 1)
        // Within the backoff the dead host is refused without a new attempt.
        let second = await fleet.run { conn, _ in try await conn.listAllDomains().count }
        guard case .reconnectBackoff(_, 1, _)? = second[host: "dead"]?.result.error as? FleetError else {
            Issue.record("expected reconnectBackoff, got \(String(describing: second[host: "dead"]?.result))"); return
        }
        #expect(second[host: "dead-neighbour"]?.result.value == 3)
        await fleet.shutdown()
    }

    @Test func aHungHostTimesOutAloneGetsNoSecondCallAndComesBack() async throws {
        let hosts = try (0..<4).map { try NodeFiles.node("hang-\($0)", guests: $0 + 1) }
        let fleet = try Fleet(hosts: hosts, options: .init(concurrency: 4, deadline: .seconds(1)))
        let gate = Gate()
        let calls = Counter()
        let op: @Sendable (Connection, FleetHost) async throws -> Int = { conn, host in
            if host.name == "hang-2" {
                calls.enter()
                await gate.block()  // blocks a plain thread, like a call to a stopped daemon
            }
            return try await conn.listAllDomains().count
        }
        // The stuck call returns only when the gate opens. Were the run to wait for it, only this
        // watchdog would end the wait, and the gate would be open when the run returns.
        let watchdog = Task { try await Task.sleep(for: .seconds(300)); gate.release() }
        defer { watchdog.cancel() }
        let first = await fleet.run(op)
        #expect(!gate.isOpen, "the run returned only once the stuck call was let go")
        #expect(first[host: "hang-2"]?.result.isTimedOut == true)
        #expect(first.outcomes.filter { $0.host.name != "hang-2" }.map { $0.result.value } == [1, 2, 4])
        #expect(await fleet.isBusy("hang-2"))

        // The stuck call is still running: the next run starts no second call on that host.
        let second = await fleet.run(deadline: .milliseconds(300), op)
        #expect(second[host: "hang-2"]?.result.isTimedOut == true)
        #expect(calls.maximum == 1 && gate.waiting == 1)
        #expect(second.summary.ok == 3)

        // The call returns: the next run reconnects and sees the host again.
        gate.release()
        // A generous deadline: the released call, the reconnect and the listing must all fit
        // while the rest of the test process runs beside it.
        let third = await fleet.run(deadline: .seconds(30), op)
        #expect(third[host: "hang-2"]?.result.value == 3)
        #expect(third.summary.ok == 4)
        await fleet.shutdown()
    }

    @Test func concurrencyIsBoundedAndEveryHostRuns() async throws {
        let hosts = try (0..<12).map { try NodeFiles.node("limit-\($0)", guests: 1) }
        let fleet = try Fleet(hosts: hosts, options: .init(concurrency: 3))
        #expect(fleet.pool.threadCount == 6)
        let running = Counter()
        let report = await fleet.run { conn, host in
            running.enter()
            defer { running.leave() }
            usleep(40_000)  // a slow blocking call
            return host.name
        }
        #expect(report.outcomes.map { $0.result.value } == hosts.map(\.name))
        #expect(running.maximum == 3)
        await fleet.shutdown()
    }

    @Test func hostsCanBeAddedAndRemovedWhileARunIsInProgress() async throws {
        let a = try NodeFiles.node("grow-a", guests: 1), b = try NodeFiles.node("grow-b", guests: 2)
        let c = try NodeFiles.node("grow-c", guests: 3), d = try NodeFiles.node("grow-d", guests: 4)
        let fleet = try Fleet(hosts: [a, b, c], options: .init(concurrency: 1))
        let gate = Gate()
        let op: @Sendable (Connection, FleetHost) async throws -> Int = { conn, host in
            if host.name == "grow-a" { await gate.block() }
            return try await conn.listAllDomains().count
        }
        let run = Task { await fleet.run(op) }
        #expect(await eventuallyTrue { gate.waiting == 1 })
        try await fleet.remove(named: "grow-b")
        try await fleet.add(d)
        gate.release()
        let report = await run.value
        #expect(report.outcomes.map(\.host.name) == ["grow-a", "grow-b", "grow-c"])
        #expect(report[host: "grow-a"]?.result.value == 1 && report[host: "grow-c"]?.result.value == 3)
        #expect(report[host: "grow-b"]?.result.error as? FleetError == .hostRemoved("grow-b"))
        let next = await fleet.run(op)
        #expect(next.outcomes.map(\.host.name) == ["grow-a", "grow-c", "grow-d"])
        #expect(next.outcomes.map { $0.result.value } == [1, 3, 4])
        await fleet.shutdown()
        let after = await fleet.run(op)
        #expect(after.outcomes.allSatisfy { $0.result.error as? FleetError == .shutDown })
    }

    /// The deadline is an hour: only cancellation can end this run before the time limit.
    @Test(.timeLimit(.minutes(2))) func cancellingARunReturnsAtOnce() async throws {
        let fleet = try Fleet(hosts: [try NodeFiles.node("cancel-a", guests: 1)], options: .init(deadline: .seconds(3600)))
        let gate = Gate()
        let run = Task { await fleet.run { _, _ in await gate.block(); return 0 } }
        #expect(await eventuallyTrue { gate.waiting == 1 })
        run.cancel()
        let report = await run.value
        // The blocked call is still inside the gate: the run returned without waiting for it.
        #expect(gate.waiting == 1)
        #expect(report.outcomes.first?.result.error is CancellationError)
        gate.release()
        await fleet.shutdown()
    }
}

func eventuallyTrue(_ condition: @Sendable () async -> Bool) async -> Bool {
    for _ in 0..<200 {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(25))
    }
    return await condition()
}
