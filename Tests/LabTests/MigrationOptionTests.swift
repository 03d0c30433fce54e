import Foundation
import Testing
import VirtCore
import VirtKitTestSupport
@testable import Libvirt

/// A → B live migrations on the two-host lab (`Scripts/lab.sh`) with the options of
/// `MigrationOptions`, each checked for its own evidence (not just "it completed"): the
/// migration sockets of the source QEMU, the transferred bytes, the auto-converge throttle,
/// the post-copy lifecycle events, the copied disk's contents on host B, the TLS certificate check.
/// Nested in `LabScenarioTests` so its `.serialized` covers both suites: they share the lab's
/// daemons, disks and migration ports (the scenarios restart host B's libvirtd). Every test has its
/// own 90 s deadline (`withDeadline`; Swift Testing's `.timeLimit` only takes minutes) and
/// removes its guest from both hosts whether it passed or not.
extension LabScenarioTests {
@Suite("Lab migration options", .serialized)
struct MigrationOptionRuns {
    static func name(_ what: String) -> String { "virtkit-lab-opt-\(what)-\(getpid())" }

    /// What a test body gets: the lab, connections to A and B, its guest (running on A).
    struct Env: Sendable {
        let lab: Lab
        let a: Connection
        let b: Connection
        let name: String
        let guest: Domain
    }

    static func baseOptions(_ lab: Lab) -> MigrationOptions {
        var o = MigrationOptions()
        o.live = true
        o.migrateURI = lab.b.migrateURI  // tcp://127.0.0.1: B's hostname doesn't resolve
        return o
    }

    /// Creates the guest on A (the lab's XML on `disk`, or `xml(name)`), runs `body` under
    /// a 90 s deadline, then removes the guest from both hosts and runs `cleanup`, also when
    /// the body failed.
    static func withGuest(
        _ what: String, disk: String = "shared",
        xml: (@Sendable (String) async throws -> String)? = nil,
        cleanup: @Sendable (String) -> Void = { _ in },
        _ body: @escaping @Sendable (Env) async throws -> Void
    ) async throws {
        guard let lab = await Lab.shared() else { return }
        let name = name(what)
        let a = try await Connection.open(lab.a.uri)
        let b = try await Connection.open(lab.b.uri)
        var failure: (any Error)?
        do {
            let domainXML: String
            if let xml { domainXML = try await xml(name) } else { domainXML = try await Lab.guestXML(name, disk: disk) }
            let guest = try await a.createDomain(xml: domainXML)
            let env = Env(lab: lab, a: a, b: b, name: name, guest: guest)
            try await withDeadline(.seconds(90)) { try await body(env) }
        } catch {
            failure = error
        }
        await destroyQuietly(a, name)
        await destroyQuietly(b, name)
        cleanup(name)
        await a.close()
        await b.close()
        if let failure { throw failure }
    }

    /// The guest runs on B (resumed by the migration) and A no longer knows it.
    static func expectLandedOnB(_ env: Env) async throws {
        let onB = try await env.b.domain(named: env.name)
        #expect(try await onB.state() == .running(.migrated))
        await #expect { _ = try await env.a.domain(named: env.name) } throws: { ($0 as? LibvirtError)?.code == .noDomain }
    }

    static func describe(_ s: JobStats) -> String {
        let keys = s.parameters.keys.sorted().map { k in "\(k)=\(s.parameters[k].map { "\($0)" } ?? "")" }
        return keys.joined(separator: " ")
    }

    // MARK: 1. Parallel connections (multifd)

    /// `parallelConnections = 2`. Evidence: while the job runs, the source QEMU holds three
    /// TCP connections to B's migration ports (main channel + 2 multifd channels); a plain
    /// migration holds one. (Multifd compression — zlib/zstd — needs libvirt ≥ 9.4; the lab's
    /// libvirt 9.0 rejects it: "Unsupported compression method 'zstd'".)
    @Test func parallelConnections() async throws {
        try await Self.withGuest("multifd") { env in
            try await Task.sleep(for: .seconds(1))
            let pid = try #require(qemuPID(env.name), "A's QEMU pid for \(env.name)")
            var o = Self.baseOptions(env.lab)
            o.parallelConnections = 2
            o.bandwidthMiBPerSecond = 1  // MiB/s: keeps the job running long enough to look at its sockets
            let sockets = MaxBox()
            let result = try await env.guest.migrate(to: .connection(env.b), options: o, pollInterval: .milliseconds(20)) { s in
                if s.isActive { sockets.record(migrationConnections(pid: pid)) }
            }
            let final = try #require(result.finalStats)
            print("multifd: max source→B migration connections \(sockets.max); final \(Self.describe(final))")
            #expect(final.type == .completed)
            #expect(sockets.max == 3, "main channel + 2 multifd channels, saw \(sockets.max)")
            #expect((final.memoryProcessed ?? .zero) > .zero)
            try await Self.expectLandedOnB(env)
        }
    }

    // MARK: 1b. xbzrle compression

    /// `compression = "xbzrle"` (the method libvirt 9.0 offers without parallel connections)
    /// on the busy guest, whose pages are re-sent every pass: from the second pass QEMU
    /// delta-encodes them against its cache. Evidence: the final stats carry the xbzrle
    /// counters (`compression_cache`, reported only with xbzrle on; cache lookups of the
    /// re-sent pages).
    @Test func xbzrleCompression() async throws {
        try await Self.withGuest("xbzrle", disk: "busy") { env in
            #expect(await waitUntilBusy(env), "the busy loop runs")
            var o = Self.baseOptions(env.lab)
            o.compression = "xbzrle"
            o.bandwidthMiBPerSecond = 8
            let result = try await env.guest.migrate(to: .connection(env.b), options: o, pollInterval: .milliseconds(50))
            let final = try #require(result.finalStats)
            print("xbzrle: final \(Self.describe(final))")
            #expect(final.type == .completed)
            let p = final.parameters
            #expect((p["compression_cache"]?.uint64 ?? 0) > 0, "xbzrle cache size reported")
            // Every page re-sent after pass 1 goes through xbzrle's cache: looked up (a miss the
            // first time), then delta-encoded or, when the delta is too big, an overflow.
            let xbzrle = ["compression_cache_misses", "compression_pages", "compression_overflow"].reduce(UInt64(0)) {
                $0 + (p[$1]?.uint64 ?? 0)
            }
            #expect(xbzrle > 0, "pages went through xbzrle")
            try await Self.expectLandedOnB(env)
        }
    }

    // MARK: 2. Auto-converge on the busy guest

    /// The busy guest rewrites 512 KiB in a loop: at 1 MiB/s a pass takes 0.5 s, more than
    /// the 300 ms default downtime, so pre-copy can't finish and QEMU's auto-converge throttles
    /// the vCPU (20 %, then +10 % per pass). Evidence: `auto_converge_throttle` rises in the
    /// progress. Throttling can't shrink a working set this small (the loop rewrites it within
    /// one 10 ms time slice), so once the throttle is seen the test lifts the bandwidth
    /// (`setMigrationBandwidth`) and the migration must then complete onto B.
    @Test func autoConvergeThrottlesTheBusyGuest() async throws {
        try await Self.withGuest("autoconv", disk: "busy") { env in
            #expect(await waitUntilBusy(env), "the busy loop runs")
            var o = Self.baseOptions(env.lab)
            o.autoConverge = true
            o.bandwidthMiBPerSecond = 1
            let throttle = MaxBox()
            let guest = env.guest
            let raise = Task { () -> Bool in
                // Wait for the first throttle step (20 %: QEMU throttled the vCPUs), then let the migration finish; a busy test process can leave the guest too little CPU to need a second step.
                while throttle.max < 20 {
                    if Task.isCancelled { return false }
                    try? await Task.sleep(for: .milliseconds(50))
                }
                try? await guest.setMigrationBandwidth(1000)
                return true
            }
            let result: MigrationResult
            do {
                result = try await env.guest.migrate(to: .connection(env.b), options: o, pollInterval: .milliseconds(50)) { s in
                    if let t = s.autoConvergeThrottle { throttle.record(t) }
                }
            } catch {
                raise.cancel()
                throw error
            }
            raise.cancel()
            let throttled = await raise.value
            let final = try #require(result.finalStats)
            print("auto-converge: max throttle \(throttle.max) %; final \(Self.describe(final))")
            #expect(throttled, "the throttle reached 20 %: max \(throttle.max)")
            #expect(final.type == .completed)
            #expect((final.memoryIteration ?? 0) >= 3, "several pre-copy passes")
            try await Self.expectLandedOnB(env)
        }
    }

    // MARK: 3. Post-copy

    /// `postCopy.switchAfterIteration = 2` on the busy guest at 1 MiB/s, which pre-copy can't
    /// finish: after the first pass `migrate` switches (`virDomainMigrateStartPostCopy`), the
    /// guest runs on B at once and B pulls the pages it still lacks from A on demand.
    /// Evidence: A's lifecycle events say suspended (post-copy) — the source paused for the
    /// switch —, B's say resumed, and the job completes with the guest on B. (Needs vm.unprivileged_userfaultfd=1,
    /// which `lab.sh up` sets: QEMU runs unprivileged.)
    @Test func postCopySwitchMovesANonConvergingGuest() async throws {
        try await Self.withGuest("postcopy", disk: "busy") { env in
            #expect(await waitUntilBusy(env), "the busy loop runs")
            var o = Self.baseOptions(env.lab)
            o.bandwidthMiBPerSecond = 1
            o.postCopy = .init(switchAfterIteration: 2, bandwidthMiBPerSecond: 100)
            let name = env.name
            let onA = EventRecorder(try await env.a.domainEvents(for: env.guest, .lifecycle))
            let onB = EventRecorder(try await env.b.domainEvents(ids: [.lifecycle]))
            let iterations = MaxBox()
            let result: MigrationResult
            do {
                result = try await env.guest.migrate(to: .connection(env.b), options: o, pollInterval: .milliseconds(50)) { s in
                    if let i = s.memoryIteration { iterations.record(Int(i)) }
                }
            } catch {
                await onA.stop(); await onB.stop()
                throw error
            }
            let lifecycle: @Sendable (DomainEventMessage) -> LifecycleEvent? = { m in
                guard case .event(let e) = m, e.domainName == name, case .lifecycle(let l) = e.kind else { return nil }
                return l
            }
            let suspended = await onA.first(timeout: .seconds(5)) { lifecycle($0).flatMap { $0 == .suspended(.postcopy) ? $0 : nil } }
            // libvirt 9.0 reports B's resume as "migrated" also in post-copy.
            let resumed = await onB.first(timeout: .seconds(5)) { m -> LifecycleEvent? in
                guard let l = lifecycle(m), case .resumed = l else { return nil }
                return l
            }
            let (eventsA, eventsB) = (await onA.messages.compactMap(lifecycle), await onB.messages.compactMap(lifecycle))
            await onA.stop(); await onB.stop()
            let final = try #require(result.finalStats)
            print("post-copy: A \(eventsA), B \(eventsB); final \(Self.describe(final))")
            #expect(final.type == .completed)
            #expect(iterations.max >= 2, "switched after pre-copy pass 2, saw \(iterations.max)")
            #expect(suspended != nil, "A: suspended (post-copy), got \(eventsA)")
            #expect(resumed != nil, "B: resumed, got \(eventsB)")
            let onBState = try await env.b.domain(named: env.name).state()
            #expect(onBState.state == .running, "runs on B: \(onBState)")
            await #expect { _ = try await env.a.domain(named: env.name) } throws: { ($0 as? LibvirtError)?.code == .noDomain }
        }
    }

    // MARK: 4. Peer-to-peer, tunnelled

    /// `tunnelled` (implies peer-to-peer): A's daemon opens B's socket URI itself and the
    /// memory travels inside that libvirt connection. Evidence: the source QEMU never holds a
    /// TCP connection to B's migration ports (a direct migration does: see the multifd test),
    /// yet the memory arrives. The sampler proves it can see: every sample that read QEMU's
    /// sockets found its NBD disk connection among them.
    @Test func peerToPeerTunnelled() async throws {
        try await Self.withGuest("tunnel") { env in
            try await Task.sleep(for: .seconds(1))
            let pid = try #require(qemuPID(env.name), "A's QEMU pid for \(env.name)")
            let nbdPort = try #require(env.lab.disk("shared").flatMap { URL(string: $0.uri)?.port }, "the shared disk's NBD port")
            var o = MigrationOptions()  // no migrateURI: the data goes through libvirtd
            o.live = true
            o.tunnelled = true
            o.bandwidthMiBPerSecond = 1
            let direct = MaxBox()
            let (samples, readable, sawNBD) = (MaxBox(), MaxBox(), MaxBox())  // counts (one callback at a time)
            let result = try await env.guest.migrate(to: .connection(env.b), options: o, pollInterval: .milliseconds(20)) { s in
                guard s.isActive else { return }
                samples.record(samples.max + 1)
                guard let ports = tcpRemotePorts(pid: pid) else { return }  // QEMU already gone
                readable.record(readable.max + 1)
                if ports.contains(nbdPort) { sawNBD.record(sawNBD.max + 1) }
                direct.record(ports.filter(bMigrationPorts.contains).count)
            }
            let final = try #require(result.finalStats)
            print("tunnelled: \(samples.max) samples, \(readable.max) read QEMU's sockets, \(sawNBD.max) saw its NBD connection; max direct connections \(direct.max); final \(Self.describe(final))")
            #expect(final.type == .completed)
            #expect(readable.max >= 3, "the job was observed running (\(samples.max) samples, \(readable.max) with QEMU's sockets)")
            #expect(sawNBD.max == readable.max, "the sampler saw QEMU's NBD connection (port \(nbdPort)) in every sample")
            #expect(direct.max == 0, "no direct QEMU→B migration connection")
            #expect((final.memoryProcessed ?? .zero) > .zero)
            #expect(result.destination == nil, "peer-to-peer: A's daemon drove it")
            try await Self.expectLandedOnB(env)
        }
    }

    // MARK: 5. Copy storage (all) of a local, non-shared disk

    /// A guest on a local qcow2 (not shared: `/var/lib/libvirt/images` is a different
    /// directory on each host; B's is `$LAB/hostb/lib/images`). The destination file is
    /// pre-created empty on B; `copyStorage = .all` mirrors the disk over NBD. Evidence:
    /// the final stats count the disk, and B's file then holds the pattern written on A.
    @Test func copyStorageAllMovesALocalDisk() async throws {
        let labDir = await Self.labDir()
        let fileA: @Sendable (String) -> String = { name in "/var/lib/libvirt/images/\(name).qcow2" }
        let fileB: @Sendable (String) -> String = { name in "\(labDir)/hostb/lib/images/\(name).qcow2" }
        try await Self.withGuest("copystorage", xml: { name in
            for f in [fileA(name), fileB(name)] {
                let (rc, _, err) = await run("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", f, "32M"])
                guard rc == 0 else { throw LabError("qemu-img create \(f): \(err)") }
            }
            let (rc, out, err) = await run("/usr/bin/qemu-io", ["-f", "qcow2", "-c", "write -P 0xa5 1M 4M", fileA(name)])
            guard rc == 0, !out.contains("failed") else { throw LabError("qemu-io write: \(out) \(err)") }
            return try await Self.localDiskXML(name, file: fileA(name))
        }, cleanup: { name in
            try? FileManager.default.removeItem(atPath: fileA(name))
            try? FileManager.default.removeItem(atPath: fileB(name))
        }) { env in
            try await Task.sleep(for: .seconds(1))
            var o = Self.baseOptions(env.lab)
            o.copyStorage = .all
            let result = try await env.guest.migrate(to: .connection(env.b), options: o, pollInterval: .milliseconds(50))
            let final = try #require(result.finalStats)
            print("copy-storage all: final \(Self.describe(final))")
            #expect(final.type == .completed)
            #expect((final.diskTotal ?? .zero) >= .mebibytes(32), "the disk was part of the job")
            #expect((final.diskProcessed ?? .zero) >= .mebibytes(4), "the written data was copied")
            try await Self.expectLandedOnB(env)
            // B's copy (read while B's QEMU holds it: -U) has the data written on A.
            let (rc, out, err) = await run("/usr/bin/qemu-io", ["-U", "-r", "-f", "qcow2", "-c", "read -P 0xa5 1M 4M", fileB(env.name)])
            #expect(rc == 0 && out.contains("read 4194304/4194304") && !out.contains("failed"), "B's disk: \(out) \(err)")
        }
    }

    // MARK: 6. TLS

    /// `tls = true`: QEMU's migration stream runs over TLS with the lab's throw-away CA
    /// (`lab.sh up`: $LAB/pki; the certificates name 127.0.0.1 and both hosts). Evidence that
    /// the handshake really happens: with `tlsDestination` set to a name the certificate does
    /// not carry, the source QEMU rejects B's certificate — a typed error, the guest still
    /// running on A — and with the default (the migrate URI's 127.0.0.1) the same guest moves.
    @Test func tlsMigrationChecksTheDestinationCertificate() async throws {
        try await Self.withGuest("tls") { env in
            try await Task.sleep(for: .seconds(1))
            var o = Self.baseOptions(env.lab)
            o.tls = true
            o.tlsDestination = "wrong.example"
            do {
                _ = try await env.guest.migrate(to: .connection(env.b), options: o)
                Issue.record("a TLS migration to a name the certificate lacks succeeded")
            } catch let e as LibvirtError {
                // Which QEMU's error libvirt reports first is a race: the source's own refusal of
                // the name, or the destination's TLS read failing when the source hangs up. The
                // two attempts differ only in the name, so either one is the name check refusing.
                #expect(e.message.contains("Certificate does not match the hostname wrong.example")
                        || e.message.contains("Cannot read from TLS channel"), "\(e)")
            }
            #expect(try await env.guest.state().state == .running, "the guest stays on A")
            o.tlsDestination = nil
            let result = try await env.guest.migrate(to: .connection(env.b), options: o)
            let final = try #require(result.finalStats)
            print("tls: final \(Self.describe(final))")
            #expect(final.type == .completed)
            try await Self.expectLandedOnB(env)
        }
    }

    // MARK: helpers

    /// The lab directory (`status --json`'s `labDir`).
    static func labDir() async -> String {
        struct Status: Decodable { var labDir: String }
        let (_, out, _) = await Lab.runAsync(["status", "--json"])
        return (try? JSONDecoder().decode(Status.self, from: Data(out.utf8)).labDir) ?? "/var/lib/virtkit-lab"
    }

    /// The lab guest's XML with its disk replaced by a local qcow2 file.
    static func localDiskXML(_ name: String, file: String) async throws -> String {
        let xml = try await Lab.guestXML(name, disk: "shared")
        guard let start = xml.range(of: "<disk "), let end = xml.range(of: "</disk>", range: start.upperBound..<xml.endIndex) else {
            throw LabError("no <disk> in the lab's XML")
        }
        let disk = """
            <disk type='file' device='disk'>
                  <driver name='qemu' type='qcow2' cache='none'/>
                  <source file='\(file)'/>
                  <target dev='vda' bus='virtio'/>
                </disk>
            """
        return xml.replacingCharacters(in: start.lowerBound..<end.upperBound, with: disk)
    }
}
}

/// Waits (up to 60 s) until the busy guest runs its boot sector's loop (`Lab.waitUntilBusy`).
private func waitUntilBusy(_ env: LabScenarioTests.MigrationOptionRuns.Env) async -> Bool {
    await Lab.waitUntilBusy(uri: env.lab.a.uri, name: env.name)
}

/// Runs a tool on a plain thread (not the cooperative pool), awaited.
private func run(_ exe: String, _ args: [String]) async -> (Int32, String, String) {
    await withCheckedContinuation { c in
        Thread { c.resume(returning: spawnAndWait(exe, args)) }.start()
    }
}

/// Runs `body`, failing with a `LabError` when it takes longer than `limit` (the body is
/// cancelled; a cancelled migration is aborted and rolled back by `Domain.migrate`).
private func withDeadline(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask { try await body(); return true }
        group.addTask { try await Task.sleep(for: limit); return false }
        let finished = try await group.next() ?? false
        group.cancelAll()
        if !finished { throw LabError("timed out after \(limit)") }
    }
}

/// Host A's QEMU process for `name` (libvirt's pid file; A's `/run/libvirt` is the real one).
private func qemuPID(_ name: String) -> Int32? {
    guard let s = try? String(contentsOfFile: "/run/libvirt/qemu/\(name).pid", encoding: .utf8) else { return nil }
    return Int32(s.trimmingCharacters(in: .whitespacesAndNewlines))
}

/// Host B's migration ports (`Scripts/lab.sh`: B's qemu.conf).
private let bMigrationPorts = 49300...49363

/// How many established TCP connections process `pid` holds to host B's migration ports.
private func migrationConnections(pid: Int32) -> Int {
    tcpRemotePorts(pid: pid)?.filter(bMigrationPorts.contains).count ?? 0
}

/// The remote ports of the established TCP connections of process `pid` (its fds' socket
/// inodes matched against /proc/net/tcp{,6}); nil when its fd table can't be read (it exited).
/// The tables are read whole with `RootedFileReader`: the kernel hands them out one page
/// (~27 sockets) per read(2), and Foundation's `String(contentsOfFile:)` kept only that first
/// page, so on a host with more sockets QEMU's were often past it and went unseen.
private func tcpRemotePorts(pid: Int32) -> [Int]? {
    let fdDir = "/proc/\(pid)/fd"
    guard let fds = try? FileManager.default.contentsOfDirectory(atPath: fdDir) else { return nil }
    var inodes = Set<Substring>()
    for fd in fds {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fdDir)/\(fd)"),
           target.hasPrefix("socket:[") {
            inodes.insert(Substring(target.dropFirst(8).dropLast()))
        }
    }
    let proc = RootedFileReader(root: "/")
    var ports: [Int] = []
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        guard let text = try? proc.readString(table, limit: RootedFileReader.Bound.table) else { return nil }
        for line in text.split(separator: "\n").dropFirst() {
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count > 9, f[3] == "01", inodes.contains(f[9]),
                  let portHex = f[2].split(separator: ":").last, let port = Int(portHex, radix: 16) else { continue }
            ports.append(port)
        }
    }
    return ports
}

/// The largest value recorded from the migration's callback thread.
private final class MaxBox: @unchecked Sendable {  // guarded by lock
    private let lock = NSLock()
    private var value = 0
    func record(_ v: Int) { lock.lock(); value = Swift.max(value, v); lock.unlock() }
    var max: Int { lock.lock(); defer { lock.unlock() }; return value }
}
