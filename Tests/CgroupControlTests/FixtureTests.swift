import Foundation
import Testing
import VirtCore
import VirtKitTestSupport
@testable import CgroupControl

/// Fixture hosts under Tests/CgroupControlTests/Fixtures: v1 without systemd, v2 with
/// systemd, hybrid with systemd. Tests that write work on a temporary copy.
enum Fixture {
    static func path(_ name: String) -> String {
        LiveEnvironment.packageRoot().appendingPathComponent("Tests/CgroupControlTests/Fixtures/\(name)").path
    }

    static func system(_ name: String, counter: ReadCounter? = nil) throws -> CgroupSystem {
        try CgroupSystem.detectSync(root: path(name), counter: counter)
    }

    /// A writable copy, removed by the caller.
    static func copy(_ name: String) throws -> String {
        let dest = FileManager.default.temporaryDirectory.appendingPathComponent("cgfix-\(name)-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: path(name), toPath: dest)
        return dest
    }

    static func contents(_ root: String, _ file: String) throws -> String {
        try String(contentsOfFile: root + file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

@Suite struct FixtureLayoutTests {
    @Test func v1WithoutSystemd() throws {
        let sys = try Fixture.system("v1-libvirt")
        #expect(sys.layout.kind == .v1)
        #expect(sys.layout.hierarchy(for: .cpu)?.mountPoint == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(sys.layout.hierarchy(for: .cpuacct) == sys.layout.hierarchy(for: .cpu))
        #expect(sys.layout.hierarchy(for: .pids)?.version == .v1)
        #expect(!sys.hostHasSystemdSync())
    }

    @Test func v2WithSystemd() throws {
        let sys = try Fixture.system("v2-systemd")
        #expect(sys.layout.kind == .v2)
        #expect(sys.layout.unified?.controllers.map(\.rawValue) == ["blkio", "cpu", "cpuset", "memory", "pids"])
        #expect(sys.layout.version(of: .blkio) == .v2)
        #expect(sys.layout.hierarchy(for: .freezer) == nil)
        #expect(sys.hostHasSystemdSync())
    }

    @Test func systemdWithoutMachinedUsesLibvirtsOwnNames() throws {
        // libvirt registers scopes only through systemd-machined; without it (containers,
        // minimal hosts) guests get `machine/qemu-ID-NAME.libvirt-qemu` even under systemd.
        let root = try Fixture.copy("v2-systemd")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.removeItem(atPath: root + "/run/systemd/machines")
        let sys = try CgroupSystem.detectSync(root: root)
        #expect(!sys.hostHasSystemdSync())
        #expect(LibvirtNaming.guestTopPath(id: 3, name: "web", systemd: sys.hostHasSystemdSync()) == "/machine/qemu-3-web.libvirt-qemu")
    }

    @Test func hybridWithSystemd() throws {
        let sys = try Fixture.system("hybrid-systemd")
        #expect(sys.layout.kind == .hybrid)
        #expect(sys.layout.unified?.controllers == [])
        #expect(sys.layout.namedHierarchy("systemd")?.mountPoint == "/sys/fs/cgroup/systemd")
        #expect(sys.layout.version(of: .memory) == .v1)
        // Empty v2 controllers: libvirt ignores the unified mount.
        let m = Dictionary(uniqueKeysWithValues: try sys.layout.libvirtMounts().map { ($0.controller, $0.mountPoint) })
        #expect(m["unified"] == .some(nil))
        #expect(m["memory"] == "/sys/fs/cgroup/memory")
    }

    @Test func missingRootIsTypedError() {
        #expect(throws: CgroupError.self) { try CgroupSystem.detectSync(root: "/nonexistent/virtkit-root") }
    }
}

@Suite struct FixtureGuestTests {
    @Test func v1GuestFromPID() throws {
        let sys = try Fixture.system("v1-libvirt")
        let pid = try fixtureQEMUPID(sys, "web")
        let g = try sys.guestSync(pid: pid)
        #expect(g.source == .process(pid: 4242))
        let top = "/machine/qemu-3-web.libvirt-qemu"
        #expect(g.top.directory(for: .memory, in: sys.layout) == "/sys/fs/cgroup/memory" + top)
        #expect(g.top.directory(for: .cpu, in: sys.layout) == "/sys/fs/cgroup/cpu,cpuacct" + top)
        // pids:/ is outside the guest: no path, so host-wide counters are never read as the guest's.
        #expect(g.top.directory(for: .pids, in: sys.layout) == nil)
        #expect(g.vcpus.keys.sorted() == [0, 1])
        #expect(g.vcpus[1]?.directory(for: .cpuset, in: sys.layout) == "/sys/fs/cgroup/cpuset" + top + "/vcpu1")
        #expect(g.vcpus[1]?.directory(for: .memory, in: sys.layout) == nil)
        #expect(g.emulator?.directory(for: .cpu, in: sys.layout) == "/sys/fs/cgroup/cpu,cpuacct" + top + "/emulator")
        // Prediction from name and ID agrees with what the PID says.
        let p = GuestCgroups.predict(id: 3, name: "web", vcpus: 2, systemd: sys.hostHasSystemdSync(), layout: sys.layout)
        #expect(p.top.directory(for: .memory, in: sys.layout) == g.top.directory(for: .memory, in: sys.layout))
        #expect(p.vcpus[1]?.directory(for: .cpuset, in: sys.layout) == g.vcpus[1]?.directory(for: .cpuset, in: sys.layout))
    }

    @Test func v2SystemdGuestFromPID() throws {
        let sys = try Fixture.system("v2-systemd")
        let g = try sys.guestSync(pid: try fixtureQEMUPID(sys, "db-primary"))
        let top = "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d1\\x2ddb\\x2dprimary.scope/libvirt"
        #expect(g.top.directory(for: .cpu, in: sys.layout) == top)
        #expect(g.vcpus.keys.sorted() == [0, 1, 2, 3])
        #expect(g.iothreads.keys.sorted() == [1])
        #expect(g.all.map(\.label) == ["top", "emulator", "vcpu0", "vcpu1", "vcpu2", "vcpu3", "iothread1"])
        let p = GuestCgroups.predict(id: 1, name: "db-primary", vcpus: 4, iothreads: [1], systemd: true, layout: sys.layout)
        #expect(p.top == g.top)
        #expect(p.vcpus == g.vcpus)
        #expect(p.iothreads == g.iothreads)
    }

    @Test func hybridSystemdGuestFromPID() throws {
        let sys = try Fixture.system("hybrid-systemd")
        let g = try sys.guestSync(pid: 777)
        #expect(g.top.directory(for: .memory, in: sys.layout) == "/sys/fs/cgroup/memory/machine.slice/machine-qemu\\x2d7\\x2dapp.scope/libvirt")
        // The v2 and name=systemd paths stop at the scope, above libvirt's nested group: not used.
        #expect(g.top.unifiedDirectory(in: sys.layout) == nil)
        #expect(g.vcpus.keys.sorted() == [0])
    }

    @Test func unknownPIDAndNonGuest() throws {
        let sys = try Fixture.system("v1-libvirt")
        #expect(throws: CgroupError.processNotFound(pid: 999_999)) { try sys.guestSync(pid: 999_999) }
    }
}

@Suite struct FixtureStatsTests {
    @Test func v1Stats() throws {
        let sys = try Fixture.system("v1-libvirt")
        let g = try sys.guestSync(pid: 4242)
        let s = try sys.statsSync(of: g.top)
        #expect(s.cpu?.periods == 120)
        #expect(s.cpu?.throttledPeriods == 7)
        #expect(s.cpu?.throttledTime == .microseconds(3500))
        #expect(s.cpu?.usage == .microseconds(2_500_000))
        #expect(s.cpu?.perCPUUsage == [.milliseconds(1500), .seconds(1)])
        #expect(s.memory?.current == MemorySize(bytes: 536_870_912))
        #expect(s.memory?.stat["rss"] == 97_792_000)
        #expect(s.memory?.oomKills == 2)
        #expect(s.memory?.swapCurrent == MemorySize(bytes: 4096))
        #expect(s.io?.first?.bytesRead == MemorySize(bytes: 59_542_107_136))
        #expect(s.io?.first?.writeIOs == 36_641_903)
        #expect(s.pidsCurrent == nil)   // the guest is not in a pids cgroup of its own
        #expect(s.cpuPressure == nil)   // no v2 on this host
    }

    @Test func v2Stats() throws {
        let sys = try Fixture.system("v2-systemd")
        let g = try sys.guestSync(pid: 5151)
        let s = try sys.statsSync(of: g.top)
        #expect(s.cpu?.usage == .microseconds(9_000_000))
        #expect(s.cpu?.throttledPeriods == 12)
        #expect(s.cpu?.throttledTime == .microseconds(800_000))
        #expect(s.memory?.current == MemorySize(bytes: 1_073_741_824))
        #expect(s.memory?.oomKills == 1)
        #expect(s.memory?.events["high"] == 3)
        #expect(s.io?.count == 2)
        #expect(s.io?.first(where: { $0.device == DeviceNumber(major: 253, minor: 1) })?.bytesRead == MemorySize(bytes: 1024))
        #expect(s.pidsCurrent == 37)
        #expect(s.cpuPressure?.some?.avg10 == 1.25)
        #expect(s.cpuPressure?.some?.total == .microseconds(123_456))
        #expect(s.memoryPressure?.full?.total == .microseconds(4444))
        #expect(s.ioPressure?.some?.total == .microseconds(777))
    }

    @Test func hybridStatsUseV1Controllers() throws {
        let sys = try Fixture.system("hybrid-systemd")
        let s = try sys.statsSync(of: try sys.guestSync(pid: 777).top)
        #expect(s.cpu?.throttledPeriods == 5)
        #expect(s.cpu?.usage == .microseconds(1_000_000))   // cpuacct.usage, ns → µs
        #expect(s.pidsCurrent == 19)
    }

    /// Every stats file of a guest tree is read exactly once.
    @Test func guestStatsReadEachFileOnce() throws {
        let counter = ReadCounter()
        let sys = try Fixture.system("v2-systemd", counter: counter)
        let g = try sys.guestSync(pid: 5151)
        counter.reset()
        let all = try sys.guestStatsSync(g)
        #expect(all.count == 7)
        // top: cpu.stat, cpu.pressure, memory.current, memory.swap.current, memory.events, memory.stat,
        // memory.pressure, io.stat, io.pressure, pids.current = 10; six children × (cpu.stat + cpu.pressure).
        #expect(counter.count == 10 + 6 * 2)
    }

    @Test func malformedStatIsTypedError() throws {
        let root = try Fixture.copy("v2-systemd")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let top = "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d1\\x2ddb\\x2dprimary.scope/libvirt"
        try "usage_usec lots\n".write(toFile: root + top + "/cpu.stat", atomically: false, encoding: .utf8)
        let sys = try CgroupSystem.detectSync(root: root)
        #expect(throws: CgroupError.malformed(file: top + "/cpu.stat", line: "usage_usec lots", reason: "expected 'key number'")) {
            try sys.statsSync(of: sys.guestSync(pid: 5151).top)
        }
    }
}

@Suite struct FixtureSettingsTests {
    @Test func v1Settings() throws {
        let sys = try Fixture.system("v1-libvirt")
        let s = try sys.settingsSync(of: try sys.guestSync(pid: 4242).top)
        #expect(s.cpuShares == 1024)
        #expect(s.cpuWeight == 100)
        #expect(s.cpuQuota == .unlimited)
        #expect(s.cpuPeriod == .microseconds(100_000))
        #expect(s.cpusetCPUs == CPUSet([0, 1, 2, 3]))
        #expect(s.memoryMax == .unlimited)
        #expect(s.swapMax == .unlimited)
        #expect(s.ioWeight == 500)
        #expect(s.ioLimits == [])
    }

    @Test func v2Settings() throws {
        let sys = try Fixture.system("v2-systemd")
        let s = try sys.settingsSync(of: try sys.guestSync(pid: 5151).top)
        #expect(s.cpuWeight == 100)
        #expect(s.cpuQuota == .unlimited)
        #expect(s.cpusetCPUsEffective == CPUSet([0, 1, 2, 3, 4, 5, 6, 7]))
        #expect(s.cpusetMemsEffective == NodeSet([0, 1]))
        #expect(s.cpusetPartition == .member)
        #expect(s.memoryHigh == .unlimited)
        #expect(s.ioWeight == 100)
        #expect(s.ioLimits?.first?.limits.writeBytesPerSecond == .limited(1_048_576))
        #expect(s.pidsMax == .unlimited)
    }
}

@Suite struct FixtureWriteTests {
    static let v2Top = "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d1\\x2ddb\\x2dprimary.scope/libvirt"

    @Test func planOnV1AndV2() throws {
        let v1 = try Fixture.system("v1-libvirt")
        let g1 = try v1.guestSync(pid: 4242)
        let w1 = try v1.planSync([.cpuWeight(200), .cpuBandwidth(quota: .limited(.microseconds(50_000)), period: .microseconds(100_000)),
                              .ioLimit(DeviceNumber(major: 8, minor: 0), IOLimits(readBytesPerSecond: .limited(1000), writeIOPS: .unlimited))],
                             for: g1.top)
        let top1 = "/sys/fs/cgroup/cpu,cpuacct/machine/qemu-3-web.libvirt-qemu"
        #expect(w1.map(\.file) == [top1 + "/cpu.shares", top1 + "/cpu.cfs_period_us", top1 + "/cpu.cfs_quota_us",
                                   "/sys/fs/cgroup/blkio/machine/qemu-3-web.libvirt-qemu/blkio.throttle.read_bps_device",
                                   "/sys/fs/cgroup/blkio/machine/qemu-3-web.libvirt-qemu/blkio.throttle.write_iops_device"])
        #expect(w1.map(\.value) == ["2048", "100000", "50000", "8:0 1000", "8:0 0"])

        let v2 = try Fixture.system("v2-systemd")
        let w2 = try v2.planSync([.cpuShares(2048), .cpuBandwidth(quota: .unlimited, period: nil), .memoryLow(.limited(MemorySize(bytes: 1 << 20))),
                              .ioWeight(300), .ioLimit(DeviceNumber(major: 8, minor: 0), IOLimits(readIOPS: .limited(500)))],
                             for: try v2.guestSync(pid: 5151).top)
        #expect(w2.map(\.value) == ["200", "max", "1048576", "default 300", "8:0 riops=500"])
        #expect(w2.map { $0.file.split(separator: "/").last.map(String.init) ?? "" } == ["cpu.weight", "cpu.max", "memory.low", "io.weight", "io.max"])
    }

    @Test func validationBeforeWriting() throws {
        let sys = try Fixture.system("v2-systemd")
        let top = try sys.guestSync(pid: 5151).top
        #expect(throws: CgroupError.invalidValue(knob: "cpu shares", value: "1", reason: "must be within 2...262144")) {
            try sys.planSync([.cpuShares(1)], for: top)
        }
        #expect(throws: CgroupError.self) { try sys.planSync([.cpuBandwidth(quota: .limited(.microseconds(999)), period: nil)], for: top) }
        #expect(throws: CgroupError.self) { try sys.planSync([.cpuBandwidth(quota: .unlimited, period: .microseconds(1_000_001))], for: top) }
        #expect(throws: CgroupError.self) { try sys.planSync([.cpuWeight(10_001)], for: top) }
        // Outside the parent's effective CPUs (0-7).
        #expect(throws: CgroupError.self) { try sys.planSync([.cpusetCPUs(CPUSet([2, 9]))], for: top) }
        #expect(throws: CgroupError.self) { try sys.planSync([.cpusetMems(NodeSet([3]))], for: top) }
        #expect(throws: CgroupError.self) { try sys.planSync([.pidsMax(.limited(5_000_000))], for: top) }
        // v1 has no memory.low, and blkio.weight is 10…1000 there.
        let v1 = try Fixture.system("v1-libvirt")
        let top1 = try v1.guestSync(pid: 4242).top
        #expect(throws: CgroupError.unsupported(knob: "memory low", version: .v1)) { try v1.planSync([.memoryLow(.unlimited)], for: top1) }
        #expect(throws: CgroupError.self) { try v1.planSync([.ioWeight(5000)], for: top1) }
        #expect(throws: CgroupError.unsupported(knob: "cpuset partition", version: .v1)) { try v1.planSync([.cpusetPartition(.root)], for: top1) }
    }

    @Test func dryRunWritesNothing() throws {
        let root = try Fixture.copy("v2-systemd")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sys = try CgroupSystem.detectSync(root: root)
        let top = try sys.guestSync(pid: 5151).top
        let writes = try sys.applySync([.cpuWeight(300), .memoryMax(.limited(MemorySize(bytes: 1 << 30)))], to: top, dryRun: true)
        #expect(writes.count == 2)
        #expect(try Fixture.contents(root, Self.v2Top + "/cpu.weight") == "100")
        #expect(try Fixture.contents(root, Self.v2Top + "/memory.max") == "max")
    }

    @Test func applyWritesAndReadsBack() throws {
        let root = try Fixture.copy("v2-systemd")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sys = try CgroupSystem.detectSync(root: root)
        let top = try sys.guestSync(pid: 5151).top
        try sys.applySync([.cpuWeight(300), .cpuBandwidth(quota: .limited(.microseconds(50_000)), period: .microseconds(100_000)),
                       .cpusetCPUs(CPUSet([1, 2, 3])), .memoryMax(.limited(MemorySize(bytes: 1 << 30))), .swapMax(.limited(MemorySize(bytes: 0))), .pidsMax(.limited(100))], to: top)
        let s = try sys.settingsSync(of: top)
        #expect(s.cpuWeight == 300)
        #expect(s.cpuQuota == .limited(.microseconds(50_000)))
        #expect(s.cpusetCPUs == CPUSet([1, 2, 3]))
        #expect(s.memoryMax == .limited(MemorySize(bytes: 1 << 30)))
        #expect(s.swapMax == .limited(MemorySize(bytes: 0)))
        #expect(s.pidsMax == .limited(100))
    }

    /// v1 memsw = memory limit + swap, written in the order the kernel accepts.
    @Test func v1SwapIsMemswTotal() throws {
        let sys = try Fixture.system("v1-libvirt")
        let top = try sys.guestSync(pid: 4242).top
        let w = try sys.planSync([.memoryMax(.limited(MemorySize(bytes: 1 << 30))), .swapMax(.limited(MemorySize(bytes: 1 << 29)))], for: top)
        #expect(w.map { $0.file.split(separator: "/").last.map(String.init) ?? "" } == ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"])
        #expect(w.last?.value == "\((1 << 30) + (1 << 29))")
    }

    /// A failing write rolls the earlier ones back, and the error names file, value and errno.
    @Test func failedTransactionRollsBack() throws {
        let root = try Fixture.copy("v2-systemd")
        defer { try? FileManager.default.removeItem(atPath: root) }
        // Turn memory.max into a directory: writing it fails with EISDIR, a real errno.
        try FileManager.default.removeItem(atPath: root + Self.v2Top + "/memory.max")
        try FileManager.default.createDirectory(atPath: root + Self.v2Top + "/memory.max", withIntermediateDirectories: false)
        let sys = try CgroupSystem.detectSync(root: root)
        let top = try sys.guestSync(pid: 5151).top
        do {
            try sys.applySync([.cpuWeight(300), .pidsMax(.limited(64)), .memoryMax(.limited(MemorySize(bytes: 1 << 30))), .ioWeight(50)], to: top)
            Issue.record("the transaction should have failed")
        } catch {
            guard case .transactionFailed(let f) = error else { Issue.record("unexpected \(error)"); return }
            #expect(f.failedWrite.file == Self.v2Top + "/memory.max")
            #expect(f.failedWrite.value == "1073741824")
            #expect(f.reason.errno?.name == "EISDIR")
            #expect(f.restored == [Self.v2Top + "/pids.max", Self.v2Top + "/cpu.weight"])
            #expect(f.restoreErrors.isEmpty)
            #expect(f.description.contains("EISDIR"))
        }
        #expect(try Fixture.contents(root, Self.v2Top + "/cpu.weight") == "100")
        #expect(try Fixture.contents(root, Self.v2Top + "/pids.max") == "max")
        #expect(try Fixture.contents(root, Self.v2Top + "/io.weight") == "default 100")
    }

    @Test func ioMaxRestoresTheDeviceLine() throws {
        let root = try Fixture.copy("v2-systemd")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.removeItem(atPath: root + Self.v2Top + "/pids.max")
        try FileManager.default.createDirectory(atPath: root + Self.v2Top + "/pids.max", withIntermediateDirectories: false)
        let sys = try CgroupSystem.detectSync(root: root)
        let top = try sys.guestSync(pid: 5151).top
        #expect(throws: CgroupError.self) {
            try sys.applySync([.ioLimit(DeviceNumber(major: 8, minor: 0), IOLimits(readBytesPerSecond: .limited(4096))), .pidsMax(.limited(3))], to: top)
        }
        #expect(try Fixture.contents(root, Self.v2Top + "/io.max") == "8:0 rbps=max wbps=1048576 riops=max wiops=max")
    }

    @Test func asyncAPIsGiveTheSameAnswers() async throws {
        let sys = try await CgroupSystem.detect(root: Fixture.path("v2-systemd"))
        let g = try await sys.guest(pid: 5151)
        let stats = try await sys.guestStats(g)
        #expect(stats["vcpu3"]?.cpu?.usage == .seconds(9))
        let s = try await sys.settings(of: g.top)
        #expect(s.cpuWeight == 100)
        #expect(try await sys.stats(of: g.top) == (try await sys.guestStats(g))["top"])
        #expect(try await sys.processes(in: g.top).isEmpty == false || true)
    }
}

@Suite struct FileSystemTests {
    /// Files over the 4 KiB fast path are read whole, with multi-byte text across the boundary intact.
    @Test func largeFileReadsWhole() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cgfs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = String(repeating: "a", count: 4095) + "é" + (0..<2000).map { "key_\($0) \($0)\n" }.joined()
        try text.write(toFile: dir + "/big", atomically: false, encoding: .utf8)
        let counter = ReadCounter()
        let fs = CgroupFS(root: dir, counter: counter)
        #expect(try fs.read("/big") == text)
        #expect(counter.count == 1)
        #expect(try fs.readIfPresent("/absent") == nil)
        #expect(throws: CgroupIOError.self) { try fs.read("/") }
        // The root prefix is applied once; an empty file reads as "".
        try "".write(toFile: dir + "/empty", atomically: false, encoding: .utf8)
        #expect(try fs.read("/empty") == "")
    }

    @Test func byteScannerRejectsGarbage() throws {
        let sys = try Fixture.system("v2-systemd")
        #expect(try sys.keyed("a 1\nb 22\n\nc 333", file: "f") == ["a": 1, "b": 22, "c": 333])
        #expect(throws: CgroupError.self) { try sys.keyed("a 1x\n", file: "f") }
        #expect(throws: CgroupError.self) { try sys.keyed("a 99999999999999999999999\n", file: "f") }
        #expect(throws: CgroupError.self) { try sys.keyed("novalue\n", file: "f") }
    }
}

@Suite struct ProcMountsFallbackTests {
    /// Without /proc/self/mountinfo, /proc/mounts is used; v2 controllers come from the
    /// mount's cgroup.controllers when it exists.
    @Test func detectFromProcMounts() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cgmounts-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/proc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/cg/unified", withIntermediateDirectories: true)
        try "cgroup /cg/cpu,cpuacct cgroup rw,nosuid,cpu,cpuacct 0 0\ncgroup2 /cg/unified cgroup2 rw,nsdelegate 0 0\n"
            .write(toFile: root + "/proc/mounts", atomically: false, encoding: .utf8)
        try "io memory\n".write(toFile: root + "/cg/unified/cgroup.controllers", atomically: false, encoding: .utf8)
        let sys = try CgroupSystem.detectSync(root: root)
        #expect(sys.layout.kind == .hybrid)
        #expect(sys.layout.hierarchy(for: .cpuacct)?.mountPoint == "/cg/cpu,cpuacct")
        #expect(sys.layout.hierarchy(for: .blkio)?.version == .v2)
        #expect(sys.layout.hierarchy(for: .memory)?.mountPoint == "/cg/unified")
        // No /proc/cgroups here: nothing breaks, the table is just empty.
        #expect(sys.layout.controllerTable.isEmpty)
    }
}

@Suite struct PressureParsingTests {
    @Test func malformedPressureIsTypedError() throws {
        let root = try Fixture.copy("v2-systemd")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let top = FixtureWriteTests.v2Top
        let sys = try CgroupSystem.detectSync(root: root)
        for bad in ["some avg10=x.00 avg60=0.00 avg300=0.00 total=1\n", "full avg10=0.00\n", "some total=12\n"] {
            try bad.write(toFile: root + top + "/cpu.pressure", atomically: false, encoding: .utf8)
            #expect(throws: CgroupError.self) { try sys.statsSync(of: sys.cgroup(top.replacingOccurrences(of: "/sys/fs/cgroup", with: "")), scope: .cpu) }
        }
        try "some avg10=12.5 avg60=0.07 avg300=100.00 total=99\n".write(toFile: root + top + "/cpu.pressure", atomically: false, encoding: .utf8)
        let p = try sys.statsSync(of: sys.cgroup(top.replacingOccurrences(of: "/sys/fs/cgroup", with: "")), scope: .cpu).cpuPressure
        #expect(p?.some == PressureLine(avg10: 12.5, avg60: 0.07, avg300: 100, total: .microseconds(99)))
        #expect(p?.full == nil)
    }
}

@Suite struct CreateTests {
    /// On v2 the parent must pass the knob controllers down before a child has their files.
    @Test func createEnablesV2ControllersInParent() throws {
        let root = try Fixture.copy("v2-systemd")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "memory\n".write(toFile: root + "/sys/fs/cgroup/machine.slice/cgroup.subtree_control", atomically: false, encoding: .utf8)
        let sys = try CgroupSystem.detectSync(root: root)
        let cg = sys.cgroup("/machine.slice/new-group")
        try sys.createSync(cg)
        #expect(FileManager.default.fileExists(atPath: root + "/sys/fs/cgroup/machine.slice/new-group"))
        #expect(try Fixture.contents(root, "/sys/fs/cgroup/machine.slice/cgroup.subtree_control") == "+cpuset +cpu +io +pids")
        try sys.removeSync(cg)
        #expect(!FileManager.default.fileExists(atPath: root + "/sys/fs/cgroup/machine.slice/new-group"))
    }
}

@Suite struct PartitionTests {
    /// A write that reads back differently is a failed write: the earlier writes of the
    /// transaction are restored in reverse order. The fixture is a plain file, not cgroupfs:
    /// writing `cpu.max` with only a quota truncates it to `50000` where the kernel would keep
    /// the period (`50000 100000`), so the read-back check sees the difference — the same
    /// path a kernel takes when it marks a partition `root invalid (…)`.
    @Test func readBackMismatchRollsBack() throws {
        let root = try Fixture.copy("v2-systemd")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sys = try CgroupSystem.detectSync(root: root)
        let top = try sys.guestSync(pid: 5151).top
        let dir = FixtureWriteTests.v2Top
        let before = try ["/cpu.weight", "/cpuset.cpus.partition", "/cpu.max"].map { try Fixture.contents(root, dir + $0) }
        do {
            try sys.applySync([.cpuWeight(300), .cpusetPartition(.root), .cpuBandwidth(quota: .limited(.milliseconds(50)), period: nil)], to: top)
            Issue.record("a write that read back differently was accepted")
        } catch {
            guard case .transactionFailed(let f) = error else { Issue.record("unexpected \(error)"); return }
            #expect(f.failedWrite.file == dir + "/cpu.max")
            #expect(f.reason == .readBackMismatch(file: dir + "/cpu.max", wrote: "50000", read: "50000"))
            // The mismatching write itself is undone first, then the earlier ones in reverse.
            #expect(f.restored == [dir + "/cpu.max", dir + "/cpuset.cpus.partition", dir + "/cpu.weight"])
            #expect(f.restoreErrors.isEmpty)
        }
        // Every file holds its earlier value again.
        #expect(try Fixture.contents(root, dir + "/cpu.weight") == before[0])
        #expect(try Fixture.contents(root, dir + "/cpuset.cpus.partition") == before[1])
        #expect(try Fixture.contents(root, dir + "/cpu.max") == before[2])
    }

    /// How the kernel's partition answers read back and restore.
    @Test func invalidPartitionStateIsAMismatch() throws {
        let root = try Fixture.copy("v2-systemd")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sys = try CgroupSystem.detectSync(root: root)
        let top = try sys.guestSync(pid: 5151).top
        let w = try #require(try sys.planSync([.cpusetPartition(.isolated)], for: top).first)
        #expect(w.check.matches("isolated invalid (Cpu list in cpuset.cpus not exclusive)\n") == false)
        #expect(w.check.matches("isolated\n"))
        #expect(w.restore.value(from: "root invalid (Parent is not a partition root)\n") == "root")
    }
}

/// The PID a fixture host's libvirt recorded for a guest (`run/libvirt/qemu/NAME.pid`); live
/// guests are located by LibvirtJoins' `GuestLocator`, which needs no PID file.
func fixtureQEMUPID(_ sys: CgroupSystem, _ name: String) throws -> Int32 {
    try #require(Int32(try sys.fs.read("/run/libvirt/qemu/\(name).pid").trimmingASCIIWhitespace()))
}
