import Foundation
@testable import Libvirt
import LibvirtQEMU
import Testing
import VirtCore
import VirtKitTestSupport

/// A pull-mode backup (`<domainbackup mode='pull'>`) against a real `qemu:///system`: QEMU
/// exports the disk's point-in-time view over NBD on a UNIX socket; `qemu-img info` and
/// `qemu-io` read it back and compare it with the pattern written into the qcow2 before the
/// guest started; the job is read while it runs and ended with `abortJob()` (how a pull
/// backup ends), which libvirt reports as a completed backup job. A write inside the guest's
/// disk during the job (QEMU's `qemu-io` monitor command on the disk's backend) leaves the
/// export at the backup's point in time. Then an incremental pull since the checkpoint the first
/// one made: its dirty bitmap (read over NBD) names exactly the areas written since.
@Suite(.serialized) struct LiveBackupPullTests {
    /// `qemu-io` over NBD, read-only; returns its exit status and output.
    static func nbdRead(_ socket: String, _ commands: [String]) async -> (Int32, String) {
        let args = ["-r", "-f", "raw"] + commands.flatMap { ["-c", $0] } + ["nbd+unix:///vda?socket=\(socket)"]
        let (rc, out, err) = await LiveBlockAndSaveTests.run("/usr/bin/qemu-io", args)
        return (rc, out + err)
    }

    @Test func pullBackupExportsTheDiskOverNBD() async throws {
        guard let conn = await LiveQEMUTests.connect() else { return }
        defer { Task { await conn.close() } }
        let p = LiveBlockAndSaveTests.prefix("pull")
        let (disk, scratch) = ("\(p).qcow2", "\(p)-scratch.qcow2")
        // QEMU (user libvirt-qemu) creates the socket: a fresh directory it may write in.
        let socketDir = "/var/tmp/virtkit-nbd-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let socket = "\(socketDir)/nbd.sock"
        try FileManager.default.createDirectory(atPath: socketDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        _ = chmod(socketDir, 0o777)  // the umask trimmed the mode above
        defer { unlink(disk); unlink(scratch); try? FileManager.default.removeItem(atPath: socketDir) }
        try await LiveBlockAndSaveTests.qemuImg("create", "-q", "-f", "qcow2", disk, "32M")
        let (wrc, _, werr) = await LiveBlockAndSaveTests.run("/usr/bin/qemu-io", ["-f", "qcow2", "-c", "write -P 0xa5 0 1M", "-c", "write -P 0x3c 4M 64k", disk])
        try #require(wrc == 0, "qemu-io write: \(werr)")

        try await LiveBlockAndSaveTests.withGuest(conn, xml: LiveBlockAndSaveTests.diskGuestXML(name: TestGuest.uniqueName("pull"), disk: disk)) { dom in
            let events = try await conn.domainEvents(for: dom, .jobCompleted)
            try await dom.beginBackup(xml: """
                <domainbackup mode='pull'><server transport='unix' socket='\(socket)'/>
                <disks><disk name='vda' backup='yes' type='file'><scratch file='\(scratch)'/></disk></disks></domainbackup>
                """, checkpointXML: "<domaincheckpoint><name>c1</name></domaincheckpoint>")
            // The running job: an unbounded backup, its scratch space reported.
            let job = try await dom.jobStats()
            #expect(job.type == .unbounded && job.operation == .backup, "\(job)")
            #expect(job.parameters["disk_temp_total"]?.uint64 == 32 << 20, "\(job.parameters)")
            let live = try await dom.backupXML()
            #expect(live.contains("mode='pull'") && live.contains("exportname='vda'") && live.contains(socket), "\(live)")

            // The export answers: its size, then the disk's data (pattern, zeros, pattern).
            let (irc, info, ierr) = await LiveBlockAndSaveTests.run("/usr/bin/qemu-img", ["info", "--output=json", "nbd+unix:///vda?socket=\(socket)"])
            #expect(irc == 0, "qemu-img info over NBD: \(ierr)")
            let size = (try? JSONSerialization.jsonObject(with: Data(info.utf8)) as? [String: Any])?["virtual-size"] as? Int
            #expect(size == 32 << 20, "\(info)")
            let (rrc, rout) = await Self.nbdRead(socket, ["read -P 0xa5 0 1M", "read -P 0 1M 3M", "read -P 0x3c 4M 64k", "read -P 0 31M 1M"])
            #expect(rrc == 0 && !rout.contains("verification failed") && rout.components(separatedBy: "read ").count - 1 == 4, "\(rout)")
            // The check can fail: a pattern that isn't there is reported.
            let (nrc, nout) = await Self.nbdRead(socket, ["read -P 0x11 0 512"])
            #expect(nrc != 0 && nout.contains("Pattern verification failed"), "\(nout)")

            // Point in time: the guest's disk changes under the job (a write through the disk's own
            // block backend, so through the backup's copy-before-write filter), the export does
            // not, and the old data went to the scratch file.
            let backend = "/machine/peripheral/virtio-disk0/virtio-backend"
            let wrote = try await dom.qemuMonitorCommand("qemu-io -d \(backend) \"write -P 0x5a 0 64k\"", syntax: .hmp)
            let check = try await dom.qemuMonitorCommand("qemu-io -d \(backend) \"read -P 0x5a 0 64k\"", syntax: .hmp)
            #expect(!wrote.contains("rror") && !check.contains("failed") && !check.contains("rror"), "\(wrote) \(check)")
            let (prc, pout) = await Self.nbdRead(socket, ["read -P 0xa5 0 1M"])
            #expect(prc == 0 && !pout.contains("verification failed"), "the export kept the data of the backup's start: \(pout)")
            let used = try await dom.jobStats().parameters["disk_temp_used"]?.uint64
            #expect((used ?? 0) >= 64 << 10, "scratch space used: \(String(describing: used))")

            // (No second `beginBackup` here: on libvirt 9.0 it holds the domain's state-change
            // lock until the 30 s job timeout, blocking the abort below.)

            // Aborting ends a pull backup: the job-completed event names it, the job is gone,
            // the export closes and the scratch file is removed.
            try await dom.abortJob()
            let done = await ObjectKindTests.first(events, within: .seconds(120))
            if case .jobCompleted(let stats)? = done?.kind {
                #expect(stats.operation == .backup, "\(stats)")
            } else {
                Issue.record("no jobCompleted after abortJob: \(String(describing: done))")
            }
            #expect(try await eventually { try await dom.jobStats().type == JobType.none })
            await ObjectKindTests.expectError(.noDomainBackup, "virDomainBackupGetXMLDesc") { _ = try await dom.backupXML() }
            let (arc, aout) = await Self.nbdRead(socket, ["read 0 512"])
            #expect(arc != 0, "the export still answers after the abort: \(aout)")
            #expect(try await dom.isActive(), "the guest runs on")

            // An incremental pull since checkpoint c1 (made at the first backup's start): the
            // export's dirty bitmap names exactly what changed since — the write above at 0 and
            // one more at 8 MiB (qemu-img map with x-dirty-bitmap shows dirty areas as data: false).
            _ = try await dom.qemuMonitorCommand("qemu-io -d \(backend) \"write -P 0x77 8M 64k\"", syntax: .hmp)
            try await dom.beginBackup(xml: """
                <domainbackup mode='pull'><incremental>c1</incremental><server transport='unix' socket='\(socket)'/>
                <disks><disk name='vda' backup='yes' type='file'><scratch file='\(scratch)'/></disk></disks></domainbackup>
                """, checkpointXML: "<domaincheckpoint><name>c2</name></domaincheckpoint>")
            #expect(try await dom.backupXML().contains("exportbitmap='backup-vda'"))
            let (mrc, map, merr) = await LiveBlockAndSaveTests.run("/usr/bin/qemu-img", [
                "map", "--output=json", "--image-opts",
                "driver=nbd,server.type=unix,server.path=\(socket),export=vda,x-dirty-bitmap=qemu:dirty-bitmap:backup-vda",
            ])
            #expect(mrc == 0, "qemu-img map over NBD: \(merr)")
            let extents = (try? JSONSerialization.jsonObject(with: Data(map.utf8)) as? [[String: Any]]) ?? []
            let dirty = extents.filter { $0["data"] as? Bool == false }.compactMap { e in
                (e["start"] as? Int).flatMap { start in (e["length"] as? Int).map { [start, $0] } }
            }
            #expect(dirty == [[0, 64 << 10], [8 << 20, 64 << 10]], "\(map)")
            let (crc, cout) = await Self.nbdRead(socket, ["read -P 0x5a 0 64k", "read -P 0x77 8M 64k", "read -P 0xa5 64k 960k"])
            #expect(crc == 0 && !cout.contains("verification failed"), "\(cout)")
            try await dom.abortJob()
            _ = await ObjectKindTests.first(events, within: .seconds(120))
            #expect(try await dom.listAllCheckpoints().map(\.name).sorted() == ["c1", "c2"])
            #expect(try await dom.checkpoint(named: "c2").parent() == dom.checkpoint(named: "c1"))
        }
    }
}
