import Foundation
import Testing
import VirtCore
@testable import Tuning
import VirtKitTestSupport

/// Disk layers from domain XML (pure) and the real health checks on local files and an
/// nbdkit export (no libvirt needed).
@Suite("Guardian health checks", .offCooperativePool)
struct GuardianHealthTests {
    static let liveXML = """
    <domain type='kvm' id='3'>
      <name>vm1</name>
      <devices>
        <disk type='file' device='disk'>
          <driver name='qemu' type='qcow2' cache='none' error_policy='stop'/>
          <source file='/var/lib/virtkit-lab/overlays/vm1.qcow2' index='2'/>
          <backingStore type='network' index='1'>
            <format type='raw'/>
            <source protocol='nbd' name='exp'><host name='127.0.0.1' port='10852'/></source>
            <backingStore/>
          </backingStore>
          <target dev='vda' bus='virtio'/>
        </disk>
        <disk type='network' device='disk'>
          <source protocol='nbd'><host transport='unix' socket='/run/nbd.sock'/></source>
          <target dev='vdb' bus='virtio'/>
        </disk>
        <disk type='network' device='disk'>
          <source protocol='iscsi' name='iqn.2013-06.com.example:iscsi-pool/1'><host name='san.example' /></source>
          <target dev='sda' bus='scsi'/>
        </disk>
        <disk type='block' device='disk'>
          <source dev='/dev/vg/lv1'/>
          <target dev='vdc' bus='virtio'/>
          <readonly/>
        </disk>
        <disk type='file' device='cdrom'>
          <target dev='hdc' bus='ide'/>
          <readonly/>
        </disk>
      </devices>
    </domain>
    """

    @Test func layersFollowTheBackingChainAndNameTheirServers() throws {
        let layers = try GuardianDiskLayer.layers(domainXML: Self.liveXML)
        #expect(layers.map(\.description) == [
            "vda[0] /var/lib/virtkit-lab/overlays/vm1.qcow2",
            "vda[1] nbd://127.0.0.1:10852/exp",
            "vdb[0] nbd+unix:///?socket=/run/nbd.sock",
            "sda[0] iscsi://san.example:3260/iqn.2013-06.com.example:iscsi-pool/1",
            "vdc[0] /dev/vg/lv1",
        ])
        #expect(layers.map(\.writable) == [true, false, true, true, false])
        #expect(throws: (any Error).self) { try GuardianDiskLayer.layers(domainXML: "<domain><devices><disk") }
    }

    @Test func fileChecksPassOnAWritableDirectoryAndFailWhenTheThresholdIsNotMet() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("guardian-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = "\(dir)/disk.img"
        _ = FileManager.default.createFile(atPath: image, contents: Data(repeating: 7, count: 8192))
        let top = GuardianDiskLayer(disk: "vda", depth: 0, source: .file(path: image), writable: true)
        let backing = GuardianDiskLayer(disk: "vda", depth: 1, source: .file(path: image), writable: false)

        let ok = await GuardianHealthChecker(thresholds: GuardianHealthThresholds(minimumFreeSpace: .kibibytes(4))).check([top, backing])
        #expect(ok.checks.map(\.kind) == [.freeSpace, .testWrite, .firstBlockRead])
        #expect(ok.isHealthy, "\(ok.checks)")
        #expect(ok.checks.first?.available.map { $0 > .zero } == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["disk.img"], "the test block is removed")

        let tooFull = await GuardianHealthChecker(thresholds: GuardianHealthThresholds(minimumFreeSpace: MemorySize(bytes: .max))).check([top])
        #expect(!tooFull.isHealthy)
        #expect(tooFull.failures.map(\.kind) == [.freeSpace])

        let missing = GuardianDiskLayer(disk: "vdb", depth: 0, source: .file(path: "/nonexistent-\(getpid())/x.img"), writable: true)
        let bad = await GuardianHealthChecker().check([missing])
        #expect(bad.failures.map(\.kind) == [.freeSpace, .testWrite], "\(bad.checks)")
        #expect(bad.failures.last?.detail.contains("ENOENT") == true)
        let unreadable = GuardianDiskLayer(disk: "vdb", depth: 1, source: .file(path: "/nonexistent-\(getpid())/x.img"), writable: false)
        #expect(await GuardianHealthChecker().check([unreadable]).failures.map(\.kind) == [.firstBlockRead])
    }

    @Test func nbdProbeReadsAWorkingExportAndReportsTheServersErrno() async throws {
        guard let nbdkit = GuardianHealthChecker.findExecutable("nbdkit") else {
            print("⚠️  SKIPPED: nbdkit is not installed")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("guardian-nbd-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = "\(dir)/d.img"
        _ = FileManager.default.createFile(atPath: image, contents: Data(repeating: 1, count: 1 << 20))
        let errorFile = "\(dir)/fail"
        let socket = "\(dir)/nbd.sock"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: nbdkit)
        p.arguments = ["-f", "--exit-with-parent", "-U", socket, "--filter=error", "file", "file=\(image)",
                       "error=EIO", "error-rate=100%", "error-file=\(errorFile)"]
        try p.run()
        defer { kill(p.processIdentifier, SIGKILL) }  // (Foundation's waitUntilExit can hang on Linux)
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) { try await Task.sleep(for: .milliseconds(50)) }

        let layer = GuardianDiskLayer(disk: "vda", depth: 1, source: .network(protocol: "nbd", name: nil, hosts: [.init(transport: "unix", socket: socket)], tls: false), writable: false)
        let checker = GuardianHealthChecker(thresholds: GuardianHealthThresholds(networkTimeout: .seconds(3)))
        let good = await checker.check([layer])
        #expect(good.isHealthy, "\(good.checks)")
        #expect(good.checks.map(\.kind) == [.serverAnswers, .networkRead])
        #expect(good.checks.first?.detail.contains("1048576 bytes") == true, "\(good.checks)")

        _ = FileManager.default.createFile(atPath: errorFile, contents: nil)
        let failing = await checker.check([layer])
        #expect(!failing.isHealthy)
        #expect(failing.checks.map(\.status) == [.passed, .failed], "the server answers; the read fails")
        #expect(failing.failures.first?.detail.contains("EIO") == true, "\(failing.checks)")

        // Nobody listening: the server does not answer.
        let nobody = GuardianDiskLayer(disk: "vdb", depth: 0, source: .network(protocol: "nbd", name: nil, hosts: [.init(name: "127.0.0.1", port: 1)], tls: false), writable: true)
        let down = await checker.check([nobody])
        #expect(down.failures.map(\.kind) == [.serverAnswers])
        #expect(down.failures.first?.detail.contains("ECONNREFUSED") == true, "\(down.checks)")
    }
}
