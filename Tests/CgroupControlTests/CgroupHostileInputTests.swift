import Foundation
import Testing
import VirtCore
import VirtKitTestSupport
@testable import CgroupControl

/// Hostile cgroup roots built at test time from the v2 fixture: special files where tables
/// belong, huge files, mount points and links that try to leave the root (with decoys
/// next to it), overflowing values. Each case ends within seconds with a typed error or
/// value, and nothing outside the root is read.
@Suite(.serialized, .offCooperativePool) struct CgroupHostileInputTests {
    /// A copy of `v2-systemd` at `…/root`, with a decoy cgroup2 root next to it whose
    /// `cgroup.controllers` lists `hugetlb rdma` (the fixture's own lists `cpu …`).
    static func tree() throws -> (root: String, outside: String) {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("cghostile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let root = outside + "/root"
        try FileManager.default.copyItem(atPath: Fixture.path("v2-systemd"), toPath: root)
        for dir in [outside + "/decoy", outside + "/sys/fs/cgroup"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try "hugetlb rdma\n".write(toFile: dir + "/cgroup.controllers", atomically: false, encoding: .utf8)
        }
        return (root, outside)
    }

    static let mountinfo = "/proc/self/mountinfo"

    static func detect(_ root: String) -> Hostile.Outcome<Result<CgroupSystem, CgroupError>> {
        Hostile.bounded { Result { () throws(CgroupError) in try CgroupSystem.detectSync(root: root) } }
    }

    static func refusal(_ r: Result<CgroupSystem, CgroupError>?) -> CgroupIOError.Refusal? {
        guard case .failure(.io(let e))? = r else { return nil }
        return e.refusal
    }

    @Test func fifoMountinfoIsRefusedWithoutBlocking() throws {
        let (root, outside) = try Self.tree()
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try Hostile.fifo(at: root + Self.mountinfo)
        let r = Self.detect(root)
        #expect(r.value != nil && r.seconds < 5, "took \(r.seconds) s")
        #expect(Self.refusal(r.value) == .notARegularFile(kind: "FIFO"))
    }

    @Test func deviceMountinfoIsRefused() throws {
        let (root, outside) = try Self.tree()
        defer { try? FileManager.default.removeItem(atPath: outside) }
        guard try Hostile.zeroDevice(at: root + Self.mountinfo) else { return }
        let r = Self.detect(root)
        #expect(r.value != nil && r.seconds < 5)
        #expect(Self.refusal(r.value) == .notARegularFile(kind: "character device"))
        #expect(r.peakGrowthKiB < 64 << 10)
    }

    @Test func hugeMountinfoStopsAtItsBound() throws {
        let (root, outside) = try Self.tree()
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try Hostile.sparse(at: root + Self.mountinfo, size: 1 << 30)
        let r = Self.detect(root)
        #expect(r.value != nil && r.seconds < 5, "took \(r.seconds) s")
        #expect(Self.refusal(r.value) == .tooLarge(limit: RootedFileReader.Bound.table))
        // Its size is known: refused before reading. Never more than about one bound.
        #expect(r.peakGrowthKiB < (RootedFileReader.Bound.table >> 10) * 5 / 4, "peak RSS grew by \(r.peakGrowthKiB) KiB")
    }

    /// A guest tree whose children are links: out of the root (absolute, and relative
    /// climbing past it), and inside it. Read as one directory batch (relative to the top's
    /// directory), every link still resolves inside the root: the decoy's values never
    /// appear, the inside link reads its target.
    @Test func guestTreeLinksStayInsideTheRoot() throws {
        let (root, outside) = try Self.tree()
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let sys = try CgroupSystem.detectSync(root: root)
        let g = try sys.guestSync(pid: 5151)
        let before = try sys.guestStatsSync(g)
        #expect(before["vcpu3"]?.cpu?.usage != nil)
        let decoy = outside + "/decoy-vcpu"
        try FileManager.default.createDirectory(atPath: decoy, withIntermediateDirectories: true)
        try "usage_usec 999\n".write(toFile: decoy + "/cpu.stat", atomically: false, encoding: .utf8)
        let libvirt = root + "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d1\\x2ddb\\x2dprimary.scope/libvirt"
        try Hostile.link(at: libvirt + "/vcpu3", to: decoy)
        try Hostile.link(at: libvirt + "/vcpu2", to: "../../../../../../../../decoy-vcpu")
        try Hostile.link(at: libvirt + "/vcpu1", to: "vcpu0")
        try Hostile.link(at: libvirt + "/emulator/cpu.stat", to: decoy + "/cpu.stat")
        let after = try sys.guestStatsSync(g)
        #expect(after["vcpu3"]?.cpu == nil && after["vcpu2"]?.cpu == nil, "links out of the root must land inside it (nothing there)")
        #expect(after["emulator"]?.cpu == nil)
        #expect(after["vcpu1"] == before["vcpu0"])
        #expect(after["top"] == before["top"] && after["vcpu0"] == before["vcpu0"])
        #expect(!after.values.contains { $0.cpu?.usage == .microseconds(999) })
        // One cgroup at a time (a batch of its own) reads the same.
        for (label, cg) in g.all {
            #expect(try sys.statsSync(of: cg, scope: label == "top" ? .full : .cpu) == after[label], "\(label)")
        }
    }

    /// Mount points that climb out (`/../..`, `\057..` escapes, relative) resolve inside the
    /// root: the v2 controllers come from the root's own files, never the decoy's.
    @Test(arguments: ["/../../decoy", "\\057..\\057..\\057decoy", "../decoy", "decoy"])
    func mountPointsCannotLeaveTheRoot(mountPoint: String) throws {
        let (root, outside) = try Self.tree()
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try FileManager.default.createDirectory(atPath: root + "/decoy", withIntermediateDirectories: true)
        try "pids\n".write(toFile: root + "/decoy/cgroup.controllers", atomically: false, encoding: .utf8)
        try "30 25 0:27 / \(mountPoint) rw - cgroup2 cgroup2 rw\n".write(toFile: root + Self.mountinfo, atomically: false, encoding: .utf8)
        let sys = try CgroupSystem.detectSync(root: root)
        #expect(sys.layout.unified?.controllers == [.pids], "\(mountPoint)")
    }

    /// `sys/fs/cgroup` as a link out of the root (absolute or relative) stays inside it.
    @Test(arguments: ["ABSOLUTE", "../../../sys/fs/cgroup"])
    func symlinkedCgroupRootCannotEscape(target: String) throws {
        let (root, outside) = try Self.tree()
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let cg = root + "/sys/fs/cgroup"
        try FileManager.default.moveItem(atPath: cg, toPath: root + "/real-cgroup")
        try Hostile.link(at: cg, to: target == "ABSOLUTE" ? outside + "/sys/fs/cgroup" : target)
        // Inside the root both targets lead nowhere (absolute restarts at the root; `..`
        // stops there), so the controllers come from /proc/cgroups, not from the decoy.
        let sys = try CgroupSystem.detectSync(root: root)
        // (/proc/cgroups has no rdma; only the decoy lists it.)
        #expect(sys.layout.unified != nil)
        #expect(sys.layout.unified?.controllers.contains(Controller("rdma")) == false)
        #expect(!sys.fs.exists("/sys/fs/cgroup/cgroup.controllers"))
    }

    @Test func overflowingValuesAreTypedNeverATrap() throws {
        let root = try Fixture.copy("v1-libvirt")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sys = try CgroupSystem.detectSync(root: root)
        let top = try sys.guestSync(pid: 4242).top
        let cpu = try #require(top.directory(for: .cpu, in: sys.layout))
        try "92233720368547759\n".write(toFile: root + cpu + "/cpu.shares", atomically: false, encoding: .utf8)
        #expect {
            try sys.settingsSync(of: top)
        } throws: { error in
            guard case CgroupError.outOfRange(let file, _, _) = error else { return false }
            return file == cpu + "/cpu.shares"
        }
        // cpuacct.stat ticks beyond µs-in-UInt64: an exact Duration, no trap.
        let acct = try #require(top.directory(for: .cpuacct, in: sys.layout))
        try "user 18446744073710\nsystem 18446744073709551615\n".write(toFile: root + acct + "/cpuacct.stat", atomically: false, encoding: .utf8)
        try "1\n".write(toFile: root + acct + "/cpuacct.usage", atomically: false, encoding: .utf8)
        let st = try sys.statsSync(of: top)
        let hz = Int64(sysconf(Int32(_SC_CLK_TCK)))
        #expect(st.cpu?.userTime.map { $0 >= .seconds(18_446_744_073_710 / hz) } == true)
        #expect(st.cpu?.systemTime.map { $0 >= .seconds(Int64(UInt64.max / UInt64(hz))) } == true)
        // A number beyond 2^64 is out of range.
        try "18446744073709551616\n".write(toFile: root + acct + "/cpuacct.usage", atomically: false, encoding: .utf8)
        #expect {
            try sys.statsSync(of: top)
        } throws: { error in
            if case CgroupError.outOfRange = error { return true }
            return false
        }
    }

    @Test func invalidUTF8IsEscapedNotDropped() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cgutf8-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Hostile.write([0x61, 0xFF, 0x62, 0xC3, 0x0A], to: dir + "/f")
        #expect(try CgroupFS(root: dir).read("/f") == "a\\xffb\\xc3\n")
    }
}
