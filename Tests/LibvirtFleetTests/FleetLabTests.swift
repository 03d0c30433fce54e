import Foundation
import Libvirt
import LibvirtFleet
import Testing
import VirtCore
import VirtKitTestSupport

/// The three-host lab: A (system libvirtd), B and C (own namespaces; C over TLS).
struct ThreeHostLab: Sendable {
    struct HostC: Decodable, Sendable {
        var uri: String
        var tlsURI: String
        var libvirtdPID: Int32
    }
    var hosts: [FleetHost]
    var c: HostC
    var cliPKI: String

    static let script = LiveEnvironment.packageRoot(from: #filePath).appendingPathComponent("Scripts/lab.sh").path

    static func run(_ args: [String]) async -> (Int32, String, String) {
        await withCheckedContinuation { c in Thread { c.resume(returning: spawnAndWait("/bin/bash", [script] + args)) }.start() }
    }

    /// `lab.sh up` (idempotent) then `lab.sh up-c`; nil after a loud skip.
    static func bringUp(sourceLocation: SourceLocation = #_sourceLocation) async -> ThreeHostLab? {
        guard getuid() == 0 else {
            LiveEnvironment.unavailable("the lab needs root (Scripts/lab.sh up)", sourceLocation: sourceLocation)
            return nil
        }
        let (rcUp, _, errUp) = await run(["status"]).0 == 0 ? (0, "", "") : await run(["up"])
        guard rcUp == 0 else { LiveEnvironment.unavailable("lab.sh up failed: \(errUp.suffix(400))", sourceLocation: sourceLocation); return nil }
        let (rc, out, err) = await run(["up-c", "--json"])
        guard rc == 0, let c = try? JSONDecoder().decode(HostC.self, from: Data(out.utf8)) else {
            LiveEnvironment.unavailable("lab.sh up-c failed (rc \(rc)): \(err.suffix(400))", sourceLocation: sourceLocation)
            return nil
        }
        let lab = ProcessInfo.processInfo.environment["VIRTKIT_LAB_DIR"] ?? "/var/lib/virtkit-lab"
        let hosts = [
            FleetHost(name: "A", uri: "qemu+unix:///system?socket=\(lab)/hosta/run/libvirt-sock"),
            FleetHost(name: "B", uri: "qemu+unix:///system?socket=\(lab)/hostb/run/libvirt-sock"),
            FleetHost(name: "C", uri: "qemu+tls://127.0.0.1:\(URLComponents(string: c.tlsURI)?.port ?? 16516)/system",
                      tls: .init(pkiPath: "\(lab)/pki/client")),
        ]
        return ThreeHostLab(hosts: hosts, c: c, cliPKI: "\(lab)/pki/client")
    }
}

@Suite(.serialized) struct FleetLabTests {
    @Test func inventoryOfAllThreeHostsSeesAGuestOnCWithItsPins() async throws {
        guard let lab = await ThreeHostLab.bringUp() else { return }
        let fleet = try Fleet(hosts: lab.hosts, options: .init(concurrency: 3, deadline: .seconds(20)))
        // A small guest on C (over TLS), vCPU 0 pinned to CPU 0.
        let c = try await Connection.open(try lab.hosts[2].connectionURI())
        #expect(try await c.security().encrypted, "host C is reached over TLS")
        let name = "virtkit-lab-fleet-\(getpid())"
        let (rc, xml, err) = await ThreeHostLab.run(["xml", name, "shared"])
        try #require(rc == 0, "lab.sh xml: \(err)")
        let guest = try await c.createDomain(xml: xml)
        let inv: FleetInventory
        do {
            try await guest.pinVCPU(0, to: [0], flags: .live)
            inv = await fleet.inventory()
            try await guest.destroy()
            await c.close()
        } catch {
            try? await guest.destroy()
            throw error
        }
        #expect(inv.missing.isEmpty, "\(inv.missing)")
        #expect(inv.hosts.map(\.host) == ["A", "B", "C"])
        #expect(Set(inv.hosts.compactMap(\.hostname)).count == 3, "three distinct hosts: \(inv.hosts.map(\.hostname))")
        #expect(inv.hosts.allSatisfy { $0.topologySource == .capabilities && $0.topology.nodes.allSatisfy { $0.freeMemory != nil } })
        // By name, not position: a host missing from the inventory must fail here, not trap.
        let hostC = try #require(inv.hosts.first { $0.host == "C" })
        let onC = try #require(hostC.guests.first { $0.name == name })
        #expect(onC.state == "running" && onC.isActive)
        #expect(onC.vcpuPins == [[0]])
        #expect(onC.maxMemory == .mebibytes(64) && onC.vcpus == 1)
        #expect(hostC.occupancy.pinnedVCPUsByCPU[0] ?? 0 >= 1)
        #expect(inv.hosts.filter { $0.host != "C" }.allSatisfy { !$0.guests.contains { $0.name == name } })
        await fleet.shutdown()
    }

    @Test func aStoppedDaemonTimesOutAloneAndIsSeenAgainAfterSIGCONT() async throws {
        guard let lab = await ThreeHostLab.bringUp() else { return }
        // Long enough for A (qemu:///system) to answer while the whole test process runs beside it.
        let deadline = Duration.seconds(10)
        let fleet = try Fleet(hosts: lab.hosts, options: .init(concurrency: 3, deadline: deadline))
        let warm = await fleet.inventory()
        try #require(warm.missing.isEmpty, "\(warm.missing)")

        let pid = lab.c.libvirtdPID
        try #require(pid > 0 && kill(pid, SIGSTOP) == 0)
        var continued = false
        defer { if !continued { kill(pid, SIGCONT) } }
        let t0 = ContinuousClock.now
        let stopped = await fleet.inventory()
        let took = t0.duration(to: .now)
        #expect(stopped.summary.timedOut == 1 && stopped.missing.map(\.host) == ["C"] && stopped.missing.first?.result == "timedOut")
        #expect(stopped.hosts.map(\.host) == ["A", "B"])
        #expect(took < deadline + .seconds(2), "the run took \(took) with a \(deadline) deadline")
        #expect(await fleet.isBusy("C"))

        kill(pid, SIGCONT)
        continued = true
        let after = await fleet.inventory()
        #expect(after.missing.isEmpty, "\(after.missing)")
        #expect(after.hosts.map(\.host) == ["A", "B", "C"])
        await fleet.shutdown()
    }
}
