import Foundation
import Testing
import Libvirt
import Tuning
import VirtCore
import VirtKitTestSupport

/// Issue #17 on real daemons: guests on nbdkit disks that fail on demand (a private nbdkit
/// per test, so other suites toggling the lab's shared `eio` disk cannot interfere), a full
/// tmpfs for ENOSPC, and host B's libvirtd restarted under the guardian.
///
/// The guests' boot sector reads sector 2 of their disk every 0.5 s through the BIOS, so a
/// failing disk pauses them at once (`error_policy='stop'`) and a working one keeps them
/// running — "the guest runs" is checked by it staying running while it keeps reading.
@Suite("Guardian on the lab", .serialized)
struct GuardianLabTests {
    static func name(_ what: String) -> String { "virtkit-lab-guard-\(what)-\(getpid())" }

    /// Fast backoff for tests (the defaults: 2 s … 60 s).
    static func policy(_ actions: [GuardianTrigger: GuardianAction] = [:], minimumFree: MemorySize = .mebibytes(1)) -> GuardianPolicy {
        GuardianPolicy(actions: actions, backoff: GuardianBackoff(initial: .seconds(1), multiplier: 2, maximum: .seconds(4), jitter: 0.2),
                       health: GuardianHealthThresholds(minimumFreeSpace: minimumFree, networkTimeout: .seconds(3)))
    }

    // MARK: 1. EIO: waits while failing, resumes after the repair, the guest runs

    @Test func eioPauseWaitsWhileTheDiskFailsAndResumesAfterRepair() async throws {
        let disk = try GuardianTestDisk(errno: "EIO")
        defer { disk.stop() }
        guard let s = try await Scene.start("eio", host: \.a, policy: Self.policy(), isFailing: { disk.isFailing }) else { return }
        let (_, conn, name, guardian, log) = (s.lab, s.conn, s.name, s.guardian, s.log)
        let idleCPU = try await GuardianFigures.cpuWhile(seconds: 5)   // nothing in trouble: events only

        disk.fail()
        let guest = try await conn.createDomain(xml: disk.guestXML(name))
        #expect(await eventually(timeout: .seconds(40)) { (try? await guest.state()) == .paused(.ioError) }, "the guest pauses on EIO")
        // While the disk fails the guardian checks, backs off and waits.
        let outageCPU = try await GuardianFigures.cpuWhile(seconds: 10)
        let waits = await log.records(for: name).filter { $0.action == .wait }
        let soFar = await log.records(for: name).map(\.description)
        #expect(waits.count >= 2, "checked repeatedly while failing: \(soFar)")
        #expect(waits.allSatisfy { $0.checks.contains { $0.kind == .networkRead && $0.status == .failed && $0.detail.contains("EIO") } },
                "the failed NBD read is in the decision log")
        #expect(try await guest.state() == .paused(.ioError))

        let repaired = disk.repair()
        let resumed = await log.first(for: name, timeout: .seconds(20)) { $0.action == .resume && $0.outcome == .succeeded }
        let all = await log.records(for: name).map(\.description)
        let resumeRecord = try #require(resumed, "resumed after the repair: \(all)")
        let latency = resumeRecord.at - repaired
        print("GUARDIAN-FIGURE repair-to-resume \(latency.inSeconds) s (eio); CPU idle \(idleCPU) %, during outage \(outageCPU) %")
        #expect(latency < .seconds(6), "within the backoff cap (4 s) plus a check")
        // The guest runs: it keeps reading its disk and stays running.
        try await Task.sleep(for: .seconds(3))
        #expect(try await guest.state().state == .running)
        #expect(await log.resumesWhileFailing == 0, "no resume while the disk failed")
        await guardian.stop()
        #expect(try await guest.state().state == .running, "stopping the guardian leaves the guest as it is")
        await s.finish()
    }

    // MARK: 2. Three failures in a row: left paused with a critical finding

    @Test func threePausesInARowLeaveTheGuestPausedWithACriticalFinding() async throws {
        let disk = try GuardianTestDisk(errno: "EIO")
        defer { disk.stop() }
        guard let s = try await Scene.start("thrice", host: \.a, policy: Self.policy(), isFailing: { disk.isFailing }) else { return }
        let (_, conn, name, _, log) = (s.lab, s.conn, s.name, s.guardian, s.log)
        let guest = try await conn.createDomain(xml: disk.guestXML(name))
        try await Task.sleep(for: .seconds(1))

        for round in 1...3 {
            disk.fail()
            #expect(await eventually(timeout: .seconds(40)) { (try? await guest.state()) == .paused(.ioError) }, "pause \(round)")
            try await Task.sleep(for: .seconds(2))
            let repaired = disk.repair()
            if round < 3 {
                let r = await log.first(for: name, after: repaired, timeout: .seconds(20)) { $0.action == .resume && $0.outcome == .succeeded }
                #expect(r != nil, "round \(round) resumed")
                if let r { print("GUARDIAN-FIGURE repair-to-resume \((r.at - repaired).inSeconds) s (round \(round))") }
                #expect(await eventually(timeout: .seconds(10)) { (try? await guest.state())?.state == .running })
            }
        }
        let gaveUp = await log.first(for: name, timeout: .seconds(10)) { $0.action == .giveUp }
        #expect(gaveUp?.decision.alert?.id == "guest.paused.resume-limit")
        #expect(gaveUp?.decision.alert?.severity == "critical")
        #expect(gaveUp?.decision.pausesInWindow == 3)
        // Repaired, yet never resumed again.
        try await Task.sleep(for: .seconds(8))
        #expect(try await guest.state() == .paused(.ioError), "left paused after the limit")
        let resumesAfter = await log.records(for: name).filter { $0.action == .resume && $0.at > (gaveUp?.at ?? .now) }
        #expect(resumesAfter.isEmpty)
        #expect(await log.resumesWhileFailing == 0)
        await s.finish()
    }

    // MARK: 3. ENOSPC on a full filesystem: resumed only after space is freed

    @Test func enospcOnAFullFilesystemIsResumedOnlyAfterSpaceIsFreed() async throws {
        let fs = try GuardianFullFilesystem()
        defer { fs.remove() }
        guard let s = try await Scene.start("enospc", host: \.a, policy: Self.policy(minimumFree: .mebibytes(4)), isFailing: { fs.isFull }) else { return }
        let (_, conn, name, _, log) = (s.lab, s.conn, s.name, s.guardian, s.log)

        let guest = try await conn.createDomain(xml: fs.guestXML(name))   // the overlay, then the filler
        #expect(await eventually(timeout: .seconds(40)) { (try? await guest.state()) == .paused(.ioError) }, "pauses: copy-on-read into a full filesystem")
        #expect(try await guest.diskErrors().map(\.error) == [.noSpace])
        try await Task.sleep(for: .seconds(6))
        let waits = await log.records(for: name).filter { $0.action == .wait }
        #expect(!waits.isEmpty)
        #expect(waits.allSatisfy { w in w.checks.contains { $0.kind == .freeSpace && $0.status == .failed } }, "free space below the threshold is why it waits")
        #expect(await log.records(for: name).first?.diskErrors.contains { $0.kind == .noSpace } == true, "ENOSPC recorded")
        #expect(try await guest.state() == .paused(.ioError))

        let freed = fs.free()
        let resumed = await log.first(for: name, timeout: .seconds(20)) { $0.action == .resume && $0.outcome == .succeeded }
        #expect(resumed != nil, "resumed after space was freed")
        if let resumed { print("GUARDIAN-FIGURE repair-to-resume \((resumed.at - freed).inSeconds) s (enospc)") }
        try await Task.sleep(for: .seconds(2))
        #expect(try await guest.state().state == .running)
        #expect(await log.resumesWhileFailing == 0)
        await s.finish()
    }

    // MARK: 4. Host B's libvirtd restarted while its guest is paused

    @Test func hostBRestartedWhileItsGuestIsPausedIsRescannedAndRecovered() async throws {
        let disk = try GuardianTestDisk(errno: "EIO")
        defer { disk.stop() }
        // Quick reconnects for the test.
        guard let s = try await Scene.start("hostb", host: \.b, policy: Self.policy(), reconnect: ReconnectPolicy(initialDelay: .milliseconds(200), maxDelay: .seconds(1)), isFailing: { disk.isFailing }) else { return }
        let (lab, b, name, guardian, log) = (s.lab, s.conn, s.name, s.guardian, s.log)
        disk.fail()
        _ = try await b.createDomain(xml: disk.guestXML(name))
        #expect(await eventually(timeout: .seconds(40)) { (try? await b.domain(named: name).state()) == .paused(.ioError) })
        #expect(await log.first(for: name, timeout: .seconds(10)) { $0.action == .wait } != nil)

        let (rc, _, err) = await Lab.runAsync(["restart-b"])
        #expect(rc == 0, "restart-b: \(err)")
        // Repaired while the guardian reconnects; it must rescan and still recover the guest.
        let repaired = disk.repair()
        let resumed = await log.first(for: name, timeout: .seconds(40)) { $0.action == .resume && $0.outcome == .succeeded }
        let all = await log.records(for: name).map(\.description)
        #expect(resumed != nil, "recovered after the daemon restart: \(all)")
        if let resumed { print("GUARDIAN-FIGURE repair-to-resume \((resumed.at - repaired).inSeconds) s (host B restart)") }
        #expect(await guardian.statistics.reconnects >= 1, "reconnected")
        #expect(await guardian.statistics.scans >= 2, "rescanned after the reconnect")
        let b2 = try await Connection.open(lab.b.uri)
        #expect(await eventually(timeout: .seconds(10)) { (try? await b2.domain(named: name).state())?.state == .running })
        #expect(await log.resumesWhileFailing == 0)
        await destroyQuietly(b2, name)   // the scene's connection died with the old daemon
        await s.finish()
    }

    // MARK: 5. destroy policy (from the guest's own metadata)

    @Test func destroyPolicyFromMetadataDestroysAfterItsLimitAndSaysWhy() async throws {
        let disk = try GuardianTestDisk(errno: "EIO")
        defer { disk.stop() }
        guard let s = try await Scene.start("destroy", host: \.a, policy: Self.policy(), isFailing: { disk.isFailing }) else { return }
        let (_, conn, name, _, log) = (s.lab, s.conn, s.name, s.guardian, s.log)
        disk.fail()
        let metadata = "<metadata><guardian xmlns='\(GuardianGuestPolicy.namespace)' io-error='destroy:5s'/></metadata>"
        _ = try await conn.createDomain(xml: disk.guestXML(name, metadata: metadata))
        let observed = await log.first(for: name, timeout: .seconds(40)) { $0.action == .observe }
        #expect(observed?.decision.policy == .destroy(after: .seconds(5)), "the guest's metadata set the policy")
        let destroyed = await log.first(for: name, timeout: .seconds(20)) { $0.action == .destroy && $0.outcome == .succeeded }
        let issued = await log.first(for: name, timeout: .seconds(1)) { $0.action == .destroy && $0.outcome == .issued }
        #expect(destroyed != nil)
        #expect(issued?.decision.reason.contains("longer than the policy's limit of 5") == true, "\(issued?.decision.reason ?? "-")")
        if let o = observed, let d = destroyed {
            #expect(d.at - o.at >= .seconds(5) && d.at - o.at < .seconds(10), "destroyed after its limit: \(d.at - o.at)")
        }
        await #expect { _ = try await conn.domain(named: name) } throws: { ($0 as? LibvirtError)?.code == .noDomain }
        #expect(await log.records(for: name).allSatisfy { $0.action != .resume })
        await s.finish()
    }
}

// MARK: - Support

/// One scenario: the lab, a connection to one of its hosts, the guest's name, a started
/// guardian on that host and its decision log. `finish()` stops the guardian and removes the
/// guest; if a test ends early, deinit removes the guest.
final class Scene: Sendable {
    let lab: Lab
    let conn: Connection
    let name: String
    let guardian: Guardian
    let log: DecisionLog

    private init(lab: Lab, conn: Connection, name: String, guardian: Guardian, log: DecisionLog) {
        self.lab = lab
        self.conn = conn
        self.name = name
        self.guardian = guardian
        self.log = log
    }

    /// nil when the lab is unavailable (reported by `Lab.shared()`).
    static func start(_ what: String, host: KeyPath<Lab, Lab.Host>, policy: GuardianPolicy, reconnect: ReconnectPolicy = ReconnectPolicy(),
                      isFailing: @escaping @Sendable () -> Bool) async throws -> Scene? {
        guard let lab = await Lab.shared() else { return nil }
        let uri = lab[keyPath: host].uri
        let name = GuardianLabTests.name(what)
        // The hosts are shared: other suites pause guests on purpose. This guardian applies
        // the test's policy to its own guest only (a per-guest entry) and leaves every other.
        var own = policy
        own.guests[name] = Dictionary(uniqueKeysWithValues: GuardianTrigger.allCases.map { ($0, policy.action(for: $0, guest: GuardianGuest(uuid: LibvirtUUID(bytes: [UInt8](repeating: 0, count: 16))!, name: name))) })
        own.actions = Dictionary(uniqueKeysWithValues: GuardianTrigger.allCases.map { ($0, GuardianAction.leave) })
        let guardian = Guardian(uri: uri, policy: own, reconnect: reconnect)
        let scene = Scene(lab: lab, conn: try await Connection.open(uri), name: name, guardian: guardian,
                          log: DecisionLog(guardian, isFailing: isFailing))
        try await guardian.start()
        return scene
    }

    func finish() async {
        await guardian.stop()
        await destroyQuietly(conn, name)
    }

    deinit {
        let (conn, name) = (conn, name)
        Task { await destroyQuietly(conn, name) }
    }
}

/// A private nbdkit export (error filter) on a free TCP port, with the test guest's boot
/// program, and a per-guest qcow2 overlay on it (as the lab does: libvirt 9.0 drops the
/// I/O-error events of disks whose source is the network itself).
final class GuardianTestDisk: @unchecked Sendable {
    // @unchecked: the fields are set once in init; `process` is only terminated in stop().
    let dir: String
    let port: Int
    let errorFile: String
    private let process: Process

    /// Reads sector 2 through int 13h, waits 0.5 s (int 15h/86h), forever.
    static let bootProgram: [UInt8] = [
        0xFA, 0x31, 0xC0, 0x8E, 0xD8, 0x8E, 0xC0, 0x8E, 0xD0, 0xBC, 0x00, 0x7C, 0xFB,  // cli; zero ds/es/ss; sp=7c00; sti
        0xB8, 0x01, 0x02, 0xB9, 0x02, 0x00, 0x30, 0xF6, 0xB2, 0x80, 0xBB, 0x00, 0x80,  // ax=0201 cx=0002 dh=0 dl=80 bx=8000
        0xCD, 0x13,                                                                    // int 13h: read one sector
        0xB4, 0x86, 0xB9, 0x07, 0x00, 0xBA, 0x20, 0xA1, 0xCD, 0x15,                    // int 15h/86h: wait 0x7A120 µs
        0xEB, 0xE5,                                                                    // jmp back to the read
    ]

    static func image() -> Data {
        var d = Data(bootProgram)
        d.append(Data(repeating: 0, count: 510 - bootProgram.count))
        d.append(contentsOf: [0x55, 0xAA])
        d.append(Data(repeating: 0, count: (1 << 20) - 512))
        return d
    }

    init(errno: String) throws {
        dir = "/var/tmp/virtkit-guard-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o755)
        let img = "\(dir)/disk.img"
        guard FileManager.default.createFile(atPath: img, contents: Self.image()) else { throw LabError("cannot write \(img)") }
        errorFile = "\(dir)/failing"
        var lastError = ""
        for _ in 0..<10 {
            let port = Int.random(in: 20_000...40_000)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/nbdkit")
            p.arguments = ["-f", "--exit-with-parent", "-i", "127.0.0.1", "-p", String(port), "--filter=error", "file", "file=\(img)",
                           "error=\(errno)", "error-rate=100%", "error-file=\(errorFile)"]
            p.standardInput = FileHandle.nullDevice
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try p.run()
            // Up when it accepts connections (or gone when the port was taken).
            for _ in 0..<50 where p.isRunning {
                let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var a = sockaddr_in()
                a.sin_family = sa_family_t(AF_INET)
                a.sin_port = in_port_t(UInt16(port).bigEndian)
                a.sin_addr.s_addr = inet_addr("127.0.0.1")
                let ok = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
                close(s)
                if ok {
                    self.port = port
                    self.process = p
                    return
                }
                usleep(100_000)
            }
            lastError = "nbdkit on port \(port) did not start"
            kill(p.processIdentifier, SIGKILL)
        }
        throw LabError(lastError)
    }

    var isFailing: Bool { FileManager.default.fileExists(atPath: errorFile) }
    func fail() { _ = FileManager.default.createFile(atPath: errorFile, contents: nil) }
    /// Repairs and returns when.
    @discardableResult
    func repair() -> ContinuousClock.Instant {
        try? FileManager.default.removeItem(atPath: errorFile)
        return .now
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A guest on a fresh qcow2 overlay whose backing file is this export.
    func guestXML(_ name: String, metadata: String = "") throws -> String {
        let overlay = "\(dir)/\(name).qcow2"
        let (rc, _, err) = spawnAndWait("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", "nbd://127.0.0.1:\(port)", overlay])
        guard rc == 0 else { throw LabError("qemu-img create: \(err)") }
        return GuardianTestDisk.domainXML(name, metadata: metadata, disk: """
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2' cache='none' error_policy='stop' rerror_policy='stop'/>
              <source file='\(overlay)'/>
              <target dev='vda' bus='virtio'/>
              <boot order='1'/>
            </disk>
            """)
    }

    static func domainXML(_ name: String, metadata: String, disk: String) -> String {
        let kvm = access("/dev/kvm", W_OK) == 0
        return """
        <domain type='\(kvm ? "kvm" : "qemu")'>
          <name>\(name)</name>
          \(metadata)
          <memory unit='MiB'>64</memory>
          <vcpu>1</vcpu>
          <os><type arch='x86_64' machine='pc'>hvm</type></os>
          <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
          <devices>
            \(disk)
            <controller type='usb' model='none'/>
            <memballoon model='none'/>
          </devices>
        </domain>
        """
    }
}

/// A 16 MiB tmpfs holding a copy-on-read qcow2 overlay: the guest's first read copies a
/// cluster into the overlay, which fails with ENOSPC while a filler file takes all space.
final class GuardianFullFilesystem: @unchecked Sendable {
    // @unchecked: paths are constants; the filesystem is the shared state, touched by one test.
    let dir: String
    let mount: String
    let backing: String

    init() throws {
        dir = "/var/tmp/virtkit-guard-fs-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        mount = "\(dir)/small"
        backing = "\(dir)/base.img"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        chmod(dir, 0o755)
        guard FileManager.default.createFile(atPath: backing, contents: GuardianTestDisk.image()) else { throw LabError("cannot write \(backing)") }
        let (rc, _, err) = spawnAndWait("/bin/mount", ["-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", mount])
        guard rc == 0 else { throw LabError("mount tmpfs: \(err)") }
    }

    var isFull: Bool {
        var st = statvfs()
        return statvfs(mount, &st) == 0 && UInt64(st.f_bavail) * UInt64(st.f_frsize) < 1 << 20
    }

    /// Takes every free byte with a filler file.
    func fill() throws {
        let (_, _, _) = spawnAndWait("/bin/dd", ["if=/dev/zero", "of=\(mount)/filler", "bs=64k"])
        guard isFull else { throw LabError("\(mount) is not full") }
    }

    /// Removes the filler; returns when.
    func free() -> ContinuousClock.Instant {
        try? FileManager.default.removeItem(atPath: "\(mount)/filler")
        return .now
    }

    func guestXML(_ name: String) throws -> String {
        let overlay = "\(mount)/\(name).qcow2"
        // Created before the filler takes the space (the test fills after creating it).
        if !FileManager.default.fileExists(atPath: overlay) {
            try? FileManager.default.removeItem(atPath: "\(mount)/filler")
            let (rc, _, err) = spawnAndWait("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", backing, overlay])
            guard rc == 0 else { throw LabError("qemu-img create: \(err)") }
            try fill()
        }
        return GuardianTestDisk.domainXML(name, metadata: "", disk: """
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2' cache='none' copy_on_read='on' error_policy='stop' rerror_policy='stop'/>
              <source file='\(overlay)'/>
              <target dev='vda' bus='virtio'/>
              <boot order='1'/>
            </disk>
            """)
    }

    func remove() {
        _ = spawnAndWait("/bin/umount", ["-l", mount])
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// Keeps every decision with the monotonic time it arrived, and counts resumes issued while
/// the disk was failing (checked at the moment the decision arrived).
final class DecisionLog: Sendable {
    struct Entry: Sendable {
        var decision: GuardianDecision
        var at: ContinuousClock.Instant
        var action: GuardianActionTaken { decision.action }
        var outcome: GuardianOutcome { decision.outcome }
        var checks: [GuardianCheck] { decision.checks }
        var diskErrors: [GuardianDiskError] { decision.diskErrors }
        var description: String { decision.description }
    }
    actor Store {
        var entries: [Entry] = []
        var resumesWhileFailing = 0
        func add(_ e: Entry, failing: Bool) {
            entries.append(e)
            if e.action == .resume, e.outcome == .issued, failing { resumesWhileFailing += 1 }
        }
    }
    private let store = Store()
    private let task: Task<Void, Never>

    init(_ guardian: Guardian, isFailing: @escaping @Sendable () -> Bool) {
        let store = store
        task = Task {
            for await d in guardian.decisions {
                print("guardian: \(d)")
                await store.add(Entry(decision: d, at: .now), failing: isFailing())
            }
        }
    }

    func records(for guest: String) async -> [Entry] { await store.entries.filter { $0.decision.guest.name == guest } }
    var resumesWhileFailing: Int { get async { await store.resumesWhileFailing } }

    func first(for guest: String, after: ContinuousClock.Instant? = nil, timeout: Duration, _ match: @Sendable (Entry) -> Bool) async -> Entry? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let e = await records(for: guest).first(where: { e in (after.map { e.at >= $0 } ?? true) && match(e) }) { return e }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}

enum GuardianFigures {
    /// The process's CPU use (user + system, % of one CPU) over the next `seconds`.
    static func cpuWhile(seconds: Int) async throws -> Double {
        func cpu() -> Double {
            var u = rusage()
            getrusage(RUSAGE_SELF.rawValue, &u)
            return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
        }
        let c0 = cpu()
        let t0 = ContinuousClock.now
        try await Task.sleep(for: .seconds(seconds))
        return (cpu() - c0) / (ContinuousClock.now - t0).inSeconds * 100
    }
}
