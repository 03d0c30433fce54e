import Foundation
import Libvirt
import LibvirtJoins
import Testing
import VirtCore
import VirtKitTestSupport
@testable import CgroupControl

/// With a real guest on `qemu:///system`: its cgroups from the QEMU PID, libvirt's pinning
/// seen in the vCPU's cpuset, and quotas written here read back through libvirt.
@Suite(.serialized) struct LiveGuestTests {
    static let uri = "qemu:///system"

    static func withGuest(_ body: (CgroupSystem, Connection, Domain) async throws -> Void) async throws {
        guard geteuid() == 0 else { LiveEnvironment.unavailable("not root: cannot change a guest's cgroups"); return }
        let conn: Connection
        do { conn = try await Connection.open(uri) } catch {
            LiveEnvironment.unavailable("cannot open \(uri): \(error) (run Scripts/start-libvirt.sh)"); return
        }
        defer { Task { await conn.close() } }
        let sys = try await CgroupSystem.detect()
        let name = TestGuest.uniqueName("cgroup")
        let dom = try await conn.defineDomain(xml: TestGuest.xml(name: name, vcpus: 2, extraDomain: "<iothreads>1</iothreads>"))
        var failure: Error?
        do {
            try await dom.start()
            try await body(sys, conn, dom)
        } catch { failure = error }
        if (try? await dom.isActive()) == true { try? await dom.destroy() }
        try? await dom.undefine()
        if let failure { throw failure }
    }

    @Test func guestTreeFromPIDMatchesPrediction() async throws {
        try await Self.withGuest { sys, conn, dom in
            let id = try #require(dom.id)
            let pid = try await GuestLocator(cgroups: sys).locate(dom).pid
            let g = try await sys.guest(pid: pid)
            #expect(g.vcpus.keys.sorted() == [0, 1])
            #expect(g.emulator != nil)
            #expect(g.iothreads.keys.sorted() == [1])
            // The QEMU process itself is in the emulator group.
            #expect(try await sys.processes(in: try #require(g.emulator)).contains(pid))

            let p = GuestCgroups.predict(id: Int(id), name: dom.name, vcpus: 2, iothreads: [1],
                                         systemd: await sys.hostHasSystemd(), layout: sys.layout)
            for c in [Controller.cpu, .cpuset, .memory] {
                #expect(p.top.directory(for: c, in: sys.layout) == g.top.directory(for: c, in: sys.layout), "\(c)")
                #expect(p.vcpus[1]?.directory(for: c, in: sys.layout) == g.vcpus[1]?.directory(for: c, in: sys.layout), "\(c)")
            }
            for dir in g.top.directories(in: sys.layout) { #expect(FileManager.default.fileExists(atPath: dir), "\(dir)") }

            // Stats of the whole tree: the vCPUs have run.
            let stats = try await sys.guestStats(g)
            #expect((stats["vcpu0"]?.cpu?.usage ?? .zero) > .zero)
            #expect((stats["top"]?.memory?.current ?? .zero) > .zero)
        }
    }

    @Test func libvirtPinningShowsInVCPUCpuset() async throws {
        try await Self.withGuest { sys, conn, dom in
            let g = try #require(try await GuestLocator(cgroups: sys).locate(dom).cgroups)
            let vcpu1 = try #require(g.vcpus[1])
            let online = try #require(try await sys.settings(of: g.top).cpusetCPUsEffective)
            let target = CPUSet([online.max ?? 0])
            try await dom.pinVCPU(1, to: target)
            #expect(try await sys.settings(of: vcpu1).cpusetCPUs == target)
            // And the other vCPU keeps the whole set.
            #expect(try await sys.settings(of: try #require(g.vcpus[0])).cpusetCPUs == online)
        }
    }

    /// libvirt's `global_*` parameters are the guest's top cgroup, `vcpu_*` the vcpuN groups
    /// (libvirt reports vcpu0's), `emulator_*` the emulator group.
    @Test func quotaWrittenHereReadsBackThroughLibvirt() async throws {
        try await Self.withGuest { sys, conn, dom in
            let g = try #require(try await GuestLocator(cgroups: sys).locate(dom).cgroups)
            try await sys.apply([.cpuBandwidth(quota: .limited(.microseconds(50_000)), period: .microseconds(100_000))], to: g.top)
            var sp = try await dom.schedulerParameters()
            #expect(sp.globalQuota == .limited(.microseconds(50_000)))
            #expect(sp.globalPeriod == .microseconds(100_000))
            #expect(sp.vcpuQuota == .unlimited)   // children untouched

            for vcpu in g.vcpus.values {
                try await sys.apply([.cpuBandwidth(quota: .limited(.microseconds(25_000)), period: .microseconds(50_000))], to: vcpu)
            }
            try await sys.apply([.cpuBandwidth(quota: .limited(.microseconds(10_000)), period: nil)], to: try #require(g.emulator))
            sp = try await dom.schedulerParameters()
            #expect(sp.vcpuQuota == .limited(.microseconds(25_000)))
            #expect(sp.vcpuPeriod == .microseconds(50_000))
            #expect(sp.emulatorQuota == .limited(.microseconds(10_000)))
            #expect(sp.globalQuota == .limited(.microseconds(50_000)))

            // And the other way: libvirt writes, CgroupControl reads.
            var set = SchedulerParameters()
            set.globalQuota = .limited(.microseconds(70_000))
            try await dom.setSchedulerParameters(set)
            #expect(try await sys.settings(of: g.top).cpuQuota == .limited(.microseconds(70_000)))

            // A value libvirt's range forbids is refused before anything is written.
            await #expect(throws: CgroupError.self) {
                try await sys.apply([.cpuBandwidth(quota: .limited(.microseconds(500)), period: nil)], to: g.top)
            }
            #expect(try await dom.schedulerParameters().globalQuota == .limited(.microseconds(70_000)))
        }
    }

    /// A memory limit far below what the running guest uses: the kernel refuses it (v1:
    /// EBUSY after failed reclaim; v2 accepts and OOM-kills, so only v1 is asserted) and the
    /// CPU weight written before it is restored.
    @Test func refusedMemoryLimitRollsBackOnGuest() async throws {
        try await Self.withGuest { sys, conn, dom in
            guard sys.layout.version(of: .memory) == .v1 else {
                LiveEnvironment.unavailable("memory controller is v2 here: a tiny memory.max OOM-kills instead of failing"); return
            }
            let g = try #require(try await GuestLocator(cgroups: sys).locate(dom).cgroups)
            let before = try await sys.settings(of: g.top)
            do {
                try await sys.apply([.cpuWeight(300), .memoryMax(.limited(MemorySize(bytes: 1 << 20)))], to: g.top)
                Issue.record("the kernel accepted a 1 MiB limit for a running guest")
            } catch {
                guard case .transactionFailed(let f)? = error as? CgroupError else { Issue.record("unexpected \(error)"); return }
                #expect(f.reason.errno?.name == "EBUSY", "\(f)")
                #expect(f.failedWrite.file.hasSuffix("/memory.limit_in_bytes"))
                #expect(f.restored.count == 1 && f.restoreErrors.isEmpty)
            }
            let after = try await sys.settings(of: g.top)
            #expect(after.cpuWeight == before.cpuWeight)
            #expect(after.memoryMax == before.memoryMax)
            #expect(try await dom.isActive())
        }
    }
}
