import Foundation
import Testing
import VirtCore
import Libvirt
import HostProbe
import Tuning
import VirtKitTestSupport

/// The rules against real guests on qemu:///system and the lab's failing nbdkit disks
/// (`Scripts/lab.sh`). Serialized: they share the lab's error files and the host's CPUs.
@Suite(.serialized) struct LiveDiagnosisTests {
    struct LabStatus: Decodable {
        struct Disk: Decodable { var name: String; var up: Bool; var errorFile: String? }
        var disks: [Disk]
    }

    static let script = LiveEnvironment.packageRoot(from: #filePath).appendingPathComponent("Scripts/lab.sh").path

    /// `lab.sh ARGS` on a plain thread (it blocks), awaited.
    static func lab(_ args: [String]) async -> (Int32, String, String) {
        await withCheckedContinuation { c in Thread { c.resume(returning: spawnAndWait("/bin/bash", [script] + args)) }.start() }
    }

    /// The lab (brought up idempotently) and a qemu:///system connection, or nil after a loud skip.
    static func setUp() async -> (LabStatus, Connection)? {
        guard getuid() == 0 else {
            LiveEnvironment.unavailable("the lab needs root (Scripts/lab.sh up)")
            return nil
        }
        let (rc, out, err) = await lab(["up", "--json"])
        guard rc == 0, let status = try? JSONDecoder().decode(LabStatus.self, from: Data(out.utf8)) else {
            LiveEnvironment.unavailable("Scripts/lab.sh up failed (rc \(rc)): \(err.suffix(400))")
            return nil
        }
        guard let conn = try? await Connection.open("qemu:///system") else {
            LiveEnvironment.unavailable("qemu:///system is not reachable")
            return nil
        }
        return (status, conn)
    }

    static func name(_ what: String) -> String { "virtkit-lab-diag-\(what)-\(getpid())" }

    /// The lab's guest XML on `disk`, with `cputune` inserted after `<vcpu>`.
    static func guestXML(_ name: String, disk: String, cputune: String = "") async throws -> String {
        let (rc, out, err) = await lab(["xml", name, disk])
        guard rc == 0 else { throw LiveDiagnosisError("lab.sh xml: \(err)") }
        return out.replacingOccurrences(of: "<vcpu>1</vcpu>", with: "<vcpu>1</vcpu>\n  " + cputune)
    }

    static func destroy(_ conn: Connection, _ name: String) async {
        if let d = try? await conn.domain(named: name) {
            try? await d.destroy()
            try? await d.undefine()
        }
    }

    /// Creates the transient guest, runs `body` and destroys the guest however `body` ends:
    /// a failed `#require` must not leave a busy guest eating a CPU under later tests.
    static func withGuest(_ conn: Connection, _ name: String, xml: String, _ body: (Domain) async throws -> Void) async throws {
        let d = try await conn.createDomain(xml: xml)
        do { try await body(d) } catch { await destroy(conn, name); throw error }
        await destroy(conn, name)
    }

    /// Starts `taskset -c CPU sh -c 'while :; do :; done'`: a CPU hog pinned to one CPU.
    static func startHog(cpu: Int) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
        p.arguments = ["-c", String(cpu), "/bin/sh", "-c", "while :; do :; done"]
        try p.run()
        return p
    }

    /// SIGKILL (the shell loop outlives SIGTERM here) and reap.
    static func stopHog(_ p: Process) {
        guard p.isRunning else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    /// Waits until the guest's vCPU ran less than 5 % of a second (it reached its `hlt`).
    static func waitUntilHalted(_ conn: Connection, _ d: Domain) async -> Bool {
        await eventually(timeout: .seconds(120), every: .milliseconds(200)) {
            guard let a = try? await conn.domainStats([d], groups: .vcpu).first?.vcpu?.entries.first?.time else { return false }
            try? await Task.sleep(for: .seconds(1))
            guard let b = try? await conn.domainStats([d], groups: .vcpu).first?.vcpu?.entries.first?.time else { return false }
            return b >= a && b - a < .milliseconds(50)
        }
    }

    static func diagnose(_ conn: Connection, _ d: Domain, window: Duration?) async throws -> (DiagnosisReport, GuestFacts) {
        let input = try await DiagnosisGatherer(connection: conn, window: window).gather(domains: [d])
        let guest = try #require(input.guests.first)
        return (Diagnoser().diagnose(guest: guest.reference, in: input), guest)
    }

    @Test(arguments: ["eio", "enospc"])
    func pausedOnIOErrorNamesDiskAndErrno(disk: String) async throws {
        guard let (lab, conn) = await Self.setUp() else { return }
        let errorFile = try #require(lab.disks.first { $0.name == disk }?.errorFile)
        let name = Self.name(disk)
        #expect(FileManager.default.createFile(atPath: errorFile, contents: nil))
        defer { try? FileManager.default.removeItem(atPath: errorFile) }
        try await Self.withGuest(conn, name, xml: try await Self.guestXML(name, disk: disk)) { d in
            // SeaBIOS's boot-sector read fails about 8 s after start (more under load).
            let paused = await eventually(timeout: .seconds(180)) { (try? await d.state()) == .paused(.ioError) }
            #expect(paused, "\(name) paused on its I/O error")
            let (report, guest) = try await Self.diagnose(conn, d, window: nil)
            let f = try #require(report.findings(.guestPausedIOError).first, "findings: \(report.ids)")
            let errno = disk == "eio" ? "EIO" : "ENOSPC"
            #expect(f.severity == .critical)
            #expect(f.subject == .device(guest.reference, target: "vda"))
            #expect(f.pause?.disks.map(\.target) == ["vda"])
            #expect(f.pause?.disks.map(\.errno) == [errno])
            #expect(f.evidence.contains { $0.name == "vda error" && $0.value == .text(errno) })
            #expect(f.title.contains("vda (\(errno))"))
            // The overlay's file system was measured.
            guard case .fileSystem(let path, _, let size)? = f.pause?.disks.first?.storage else {
                Issue.record("no storage health for vda: \(String(describing: f.pause))")
                await Self.destroy(conn, name)
                return
            }
            #expect(path == "/var/lib/virtkit-lab/overlays")
            #expect(size > .zero)
            #expect(f.remedies.contains { $0.action == .libvirt(.resume) })
            // The one-guest entry point the Guardian uses gives the same finding.
            let single = try await DiagnosisGatherer(connection: conn).pausedGuestFinding(d, ioErrors: [IOErrorReport(alias: "virtio-disk0", sourcePath: "", reason: disk)])
            #expect(single?.id == .guestPausedIOError)
            #expect(single?.pause?.disks.map(\.errno) == [errno])
        }
        await conn.close()
    }

    @Test func busyGuestSharingItsCPUWithAHogShowsContention() async throws {
        guard let (_, conn) = await Self.setUp() else { return }
        let cpu = ProcessInfo.processInfo.activeProcessorCount > 1 ? 1 : 0
        let name = Self.name("contention")
        try await Self.withGuest(conn, name, xml: try await Self.guestXML(name, disk: "busy", cputune: "<cputune><vcpupin vcpu='0' cpuset='\(cpu)'/></cputune>")) { d in
            let hog = try Self.startHog(cpu: cpu)
            defer { Self.stopHog(hog) }
            try await Task.sleep(for: .seconds(2))
            let (report, guest) = try await Self.diagnose(conn, d, window: .seconds(4))
            Self.stopHog(hog)
            let f = try #require(report.findings(.guestVCPUContention).first, "findings: \(report.ids); window: \(String(describing: guest.window))")
            #expect(f.subject == .vcpu(guest.reference, index: 0))
            let delay = try #require(guest.window?.vcpus.first?.delay)
            let share = delay.inSeconds / (guest.window?.duration.inSeconds ?? 1)
            // Two busy threads on one CPU: each waits roughly half the time.
            #expect(share > 0.10, "measured delay \(delay.humanReadable) = \(share * 100) %")
            #expect(f.evidence.contains { $0.value == .duration(delay) })
            #expect(f.evidence.contains { $0.name == "last ran on host CPU" && $0.value == .count(cpu) })
        }
        await conn.close()
    }

    @Test func busyGuestWithLowQuotaIsThrottled() async throws {
        guard let (_, conn) = await Self.setUp() else { return }
        let name = Self.name("quota")
        // 10 ms of CPU per 100 ms period for the vCPU.
        try await Self.withGuest(conn, name, xml: try await Self.guestXML(name, disk: "busy", cputune: "<cputune><period>100000</period><quota>10000</quota></cputune>")) { d in
            try await Task.sleep(for: .seconds(2))
            let (report, guest) = try await Self.diagnose(conn, d, window: .seconds(3))
            let f = try #require(report.findings(.guestCPUThrottled).first, "findings: \(report.ids); throttling: \(String(describing: guest.window?.throttling))")
            let th = try #require(guest.window?.throttling)
            #expect((th.throttledFraction ?? 0) > 0.20)
            #expect(th.quota == .milliseconds(10))
            #expect(f.evidence.contains { $0.name == "throttled periods" })
        }
        await conn.close()
    }

    @Test func idleGuestStaysQuiet() async throws {
        guard let (_, conn) = await Self.setUp() else { return }
        let name = Self.name("idle")
        try await Self.withGuest(conn, name, xml: try await Self.guestXML(name, disk: "shared")) { d in
            // Past SeaBIOS, the program halts (`cli; hlt`): a halted vCPU never waits for a CPU.
            #expect(await Self.waitUntilHalted(conn, d), "\(name) reached its hlt")
            let (report, guest) = try await Self.diagnose(conn, d, window: .seconds(3))
            let lag = report.findings.filter { $0.subject.guest != nil && ($0.id == .guestVCPUContention || $0.id == .guestCPUThrottled || $0.id.isPausedGuest) }
            #expect(lag.isEmpty, "\(lag.map(\.title))")
            #expect(guest.window?.vcpus.count == 1, "the window measured the vCPU")
            #expect(guest.window?.vcpus.first?.delay != nil)
        }
        await conn.close()
    }

    /// virt-host-validate fails 'hardware virtualization' on this nested host (no vmx/svm in
    /// cpuinfo) while KVM_CREATE_VM works: the diagnosis must not call KVM unusable.
    @Test func noFalseFailWhereVirtHostValidateFails() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/virt-host-validate") else {
            LiveEnvironment.unavailable("virt-host-validate is not installed")
            return
        }
        let (_, out, _) = await withCheckedContinuation { c in
            Thread { c.resume(returning: spawnAndWait("/usr/bin/virt-host-validate", ["qemu"])) }.start()
        }
        let snapshot = try await HostProber().snapshot()
        let report = Diagnoser(rules: DiagnosisRule.hostRules).diagnose(DiagnosisInput(host: snapshot))
        let fails = out.split(separator: "\n").filter { $0.contains(": FAIL") }
        if snapshot.kvm?.usable == true {
            #expect(!report.ids.contains("host.kvm.unusable"), "KVM works here; virt-host-validate says: \(fails)")
        } else {
            #expect(report.ids.contains("host.kvm.unusable"))
        }
        // Where both look at the same thing they agree: /dev/vhost-net.
        let vhvVhost = out.split(separator: "\n").first { $0.contains("/dev/vhost-net") }
        #expect((vhvVhost?.contains("PASS") ?? false) == (snapshot.kvm?.vhostNet.present ?? false), "\(vhvVhost ?? "")")
    }
}

struct LiveDiagnosisError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
