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

// Nested in the serialized lab scenarios: these stop host C's daemon (SIGSTOP), which no
// other lab test may meet half-way.
extension LabScenarioTests {
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
}

extension LabScenarioTests.FleetLabTests {
    @Test func preflightOnTheLabLocalDiskNeedsCopyAndAnOversizedGuestIsRefused() async throws {
        guard let lab = await ThreeHostLab.bringUp() else { return }
        let fleet = try Fleet(hosts: lab.hosts, options: .init(deadline: .seconds(20)))
        let a = try await Connection.open(try lab.hosts[0].connectionURI())
        let pid = getpid()
        // A running guest on a local qcow2 (SeaBIOS finds nothing to boot and idles).
        let image = "/var/lib/libvirt/images/virtkit-lab-fleet-\(pid).qcow2"
        let (rc, _, err) = await withCheckedContinuation { c in
            Thread { c.resume(returning: spawnAndWait("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", image, "64M"])) }.start()
        }
        try #require(rc == 0, "qemu-img: \(err)")
        defer { unlink(image) }
        let kvm = access("/dev/kvm", R_OK | W_OK) == 0
        let local = try await a.createDomain(xml: """
            <domain type='\(kvm ? "kvm" : "qemu")'><name>virtkit-lab-fleet-local-\(pid)</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
            <os><type arch='x86_64' machine='pc'>hvm</type><bios rebootTimeout='-1'/></os>
            <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='\(image)'/><target dev='vda' bus='virtio'/></disk>
            <controller type='usb' model='none'/><memballoon model='none'/></devices></domain>
            """)
        // A defined guest larger than any of B's cells (never started), on a network B lacks
        // and on "bridge" lo (B's loopback: an interface, not a bridge).
        let network = "virtkit-lab-nonet-\(pid)"
        let huge = try await a.defineDomain(xml: """
            <domain type='kvm'><name>virtkit-lab-fleet-huge-\(pid)</name><memory unit='TiB'>4</memory><vcpu>1</vcpu>
            <os><type arch='x86_64' machine='pc'>hvm</type></os><devices><interface type='network'><source network='\(network)'/></interface>
            <interface type='bridge'><source bridge='lo'/></interface></devices></domain>
            """)
        defer { Task { try? await local.destroy(); try? await huge.undefine(); await a.close() } }

        let r1 = try await fleet.preflight(guest: local.name, from: "A", to: "B")
        let disks = try #require(r1.findings.first { $0.check == "disks" })
        #expect(r1.needsCopyStorage && disks.summary.contains("copy-storage needed for vda"), "\(disks)")
        #expect((r1.estimatedCopySize?.bytes ?? 0) > 0, "allocation of the local qcow2 as the copy estimate")
        #expect(disks.evidence.contains { $0.hasPrefix("vda: \(image) local") && $0.contains("; destination: ") }, "looked up on B: \(disks.evidence)")
        #expect(r1.findings.first { $0.check == "memory" }?.verdict == .pass)
        #expect(r1.findings.first { $0.check == "destination" }?.evidence.contains("hostname virtkit-lab-b") == true)

        let r2 = try await fleet.preflight(guest: huge.name, from: "A", to: "B")
        let mem = try #require(r2.findings.first { $0.check == "memory" })
        #expect(mem.verdict == .blocker && !r2.canMigrate)
        #expect(mem.evidence.contains { $0.hasPrefix("node 0: free ") }, "cell sizes as evidence: \(mem.evidence)")
        let net = try #require(r2.findings.first { $0.check == "networks" })
        #expect(net.verdict == .blocker && net.evidence == ["network \(network): missing", "bridge lo: unsuitable (ethernet interface, not a bridge)"], "\(net)")

        // To C over TLS: the connection is encrypted.
        let r3 = try await fleet.preflight(guest: local.name, from: "A", to: "C", tls: true)
        #expect(r3.findings.first { $0.check == "tls" }?.evidence == ["destination connection encrypted"])
        try? await local.destroy()
        try? await huge.undefine()
        await fleet.shutdown()
    }
}

extension LabScenarioTests.FleetLabTests {
    /// `virConnectCompareHypervisorCPU` on B for guests defined on A (never started):
    /// pentium3 alone is usable here; pentium3 requiring `amx-tile` (which this CPU lacks) is
    /// refused with the feature named. Machine type, emulator: B's capabilities.
    @Test func preflightRefusesACPUFeatureTheDestinationLacksAndNamesIt() async throws {
        guard let lab = await ThreeHostLab.bringUp() else { return }
        let fleet = try Fleet(hosts: lab.hosts, options: .init(deadline: .seconds(20)))
        let a = try await Connection.open(try lab.hosts[0].connectionURI())
        let pid = getpid()
        func define(_ what: String, feature: String?, machine: String = "pc") async throws -> Domain {
            try await a.defineDomain(xml: """
                <domain type='kvm'><name>virtkit-lab-fleet-\(what)-\(pid)</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
                <os><type arch='x86_64' machine='\(machine)'>hvm</type></os>
                <cpu mode='custom' match='exact'><model fallback='forbid'>pentium3</model>\(feature.map { "<feature policy='require' name='\($0)'/>" } ?? "")</cpu>
                <devices/></domain>
                """)
        }
        let plain = try await define("cpuok", feature: nil)
        let amx = try await define("cpuamx", feature: "amx-tile")
        defer { Task { try? await plain.undefine(); try? await amx.undefine(); await a.close() } }

        let ok = try await fleet.preflight(guest: plain.name, from: "A", to: "B")
        let cpuOK = try #require(ok.findings.first { $0.check == "cpu" })
        #expect(cpuOK.verdict == .pass, "\(cpuOK) \(cpuOK.evidence)")
        let machine = try #require(ok.findings.first { $0.check == "machine" })
        #expect(machine.verdict == .pass, "\(machine) \(machine.evidence)")

        let refused = try await fleet.preflight(guest: amx.name, from: "A", to: "B")
        let cpu = try #require(refused.findings.first { $0.check == "cpu" })
        #expect(cpu.verdict == .blocker && !refused.canMigrate, "\(cpu) \(cpu.evidence)")
        #expect(cpu.reason == .cpuFeaturesMissing(["amx-tile"]), "\(String(describing: cpu.reason))")
        #expect(cpu.summary.contains("amx-tile"))
        try? await plain.undefine()
        try? await amx.undefine()
        await fleet.shutdown()
    }
}
