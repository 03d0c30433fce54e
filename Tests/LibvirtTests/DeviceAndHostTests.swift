import Foundation
@testable import Libvirt
import Testing
import VirtCore
import VirtKitTestSupport

/// IOThreads, block I/O tune, CPU statistics, free pages and CPU model names on the test
/// driver; what the 9.0 test driver lacks (hotplug, domain capabilities, CPU compare and
/// baseline, page allocation) must be a typed `.noSupport` naming the function called.
@Suite struct DeviceAndHostTests {
    @Test func ioThreadsAddPinRemove() async throws {
        let conn = try await Connection.open(try TestNode.uri(TestNode.fleet(count: 1), tag: "iothreads"))
        defer { Task { await conn.close() } }
        let dom = try #require(try await conn.listAllDomains(flags: .active).first)
        let before = try await dom.ioThreads()
        try await dom.addIOThread(id: 7, flags: .live)
        let added = try await dom.ioThreads()
        #expect(added.count == before.count + 1)
        let seven = try #require(added.first { $0.id == 7 })
        #expect(!seven.cpus.isEmpty)
        try await dom.pinIOThread(id: 7, to: [0], flags: .live)
        #expect(try await dom.ioThreads().first { $0.id == 7 }?.cpus == [0])
        try await dom.removeIOThread(id: 7, flags: .live)
        #expect(try await dom.ioThreads().map(\.id) == before.map(\.id))
        await ObjectKindTests.expectError(.invalidArg, "virDomainDelIOThread") { try await dom.removeIOThread(id: 7, flags: .live) }
    }

    @Test func blockIOTuneRoundTrip() async throws {
        let conn = try await Connection.open("test:///default")  // its domain `test` has a disk vda
        defer { Task { await conn.close() } }
        let dom = try await conn.domain(named: "test")
        let disk = "vda"
        let tune = try await dom.blockIOTune(disk: disk)
        #expect(tune.totalBytesPerSecond == 0 && tune.raw["total_bytes_sec"] == .ullong(0))
        try await dom.setBlockIOTune(disk: disk, BlockIOTune(readBytesPerSecond: 10 << 20, readBytesPerSecondMax: 20 << 20, writeIOPerSecond: 500, writeIOPerSecondMax: 1000), flags: .live)
        let after = try await dom.blockIOTune(disk: disk)
        #expect(after.readBytesPerSecond == 10 << 20 && after.writeIOPerSecond == 500 && after.totalBytesPerSecond == 0)
        #expect(after.readBytesPerSecondMax == 20 << 20 && after.raw["read_bytes_sec"] == .ullong(10 << 20))
        // A rate above its burst ceiling is refused by libvirt, typed.
        await ObjectKindTests.expectError(.invalidArg, "virDomainSetBlockIoTune") {
            try await dom.setBlockIOTune(disk: disk, BlockIOTune(totalIOPerSecond: 100, totalIOPerSecondMax: 10), flags: .live)
        }
        await ObjectKindTests.expectError(.invalidArg, "virDomainGetBlockIoTune") { _ = try await dom.blockIOTune(disk: "vdz") }
    }

    @Test func cpuStatsAndHostPages() async throws {
        let conn = try await Connection.open("test:///default")
        defer { Task { await conn.close() } }
        let dom = try await conn.domain(named: "test")
        let cpu = try await dom.cpuStatsTotal()
        #expect((cpu.cpuTime ?? .zero) > .zero && cpu.userTime != nil)
        let pages = try await conn.freePages(sizes: [.kibibytes(4), .mebibytes(2)])
        #expect(pages.count == 1)
        #expect(pages.first?[.kibibytes(4)] != nil && pages.first?[.mebibytes(2)] != nil)
        #expect(try await conn.cpuModelNames(arch: "x86_64").contains("qemu64"))
        await ObjectKindTests.expectError(.invalidArg, "virConnectGetCPUModelNames") { _ = try await conn.cpuModelNames(arch: "no-such-arch") }
    }

    @Test func whatTheTestDriverLacksIsTyped() async throws {
        let conn = try await Connection.open("test:///default")
        defer { Task { await conn.close() } }
        let dom = try await conn.domain(named: "test")
        let disk = "<disk type='file' device='disk'><source file='/tmp/vk.img'/><target dev='vdb' bus='virtio'/></disk>"
        // .live: after the Flags call, the classic one (its equivalent) was tried too.
        await ObjectKindTests.expectError(.noSupport, "virDomainAttachDevice") { try await dom.attachDevice(xml: disk, flags: .live) }
        await ObjectKindTests.expectError(.noSupport, "virDomainDetachDevice") { try await dom.detachDevice(xml: disk, flags: .live) }
        await ObjectKindTests.expectError(.noSupport, "virDomainAttachDeviceFlags") { try await dom.attachDevice(xml: disk, flags: [.live, .config]) }
        await ObjectKindTests.expectError(.noSupport, "virDomainUpdateDeviceFlags") { try await dom.updateDevice(xml: disk) }
        await ObjectKindTests.expectError(.noSupport, "virConnectGetDomainCapabilities") { _ = try await conn.domainCapabilitiesXML() }
        let cpuXML = "<cpu><arch>x86_64</arch><model>qemu64</model></cpu>"
        await ObjectKindTests.expectError(.noSupport, "virConnectCompareHypervisorCPU") { _ = try await conn.compareHypervisorCPU(xml: cpuXML) }
        await ObjectKindTests.expectError(.noSupport, "virConnectBaselineHypervisorCPU") { _ = try await conn.baselineHypervisorCPU(xmls: [cpuXML]) }
        await ObjectKindTests.expectError(.noSupport, "virNodeAllocPages") { try await conn.allocatePages([.mebibytes(2): 10]) }
    }

    /// On the real daemon: domain capabilities and CPU comparison/baseline against QEMU.
    @Test func hypervisorCPUOnTheDaemon() async throws {
        let conn: Connection
        do { conn = try await Connection.open("qemu:///system") } catch {
            LiveEnvironment.unavailable("cannot open qemu:///system: \(error)")
            return
        }
        defer { Task { await conn.close() } }
        let target = HypervisorTarget(arch: "x86_64", virtType: TestGuest.domainType)
        #expect(try await conn.domainCapabilitiesXML(target).contains("<domainCapabilities>"))
        let cpuXML = "<cpu><arch>x86_64</arch><model>qemu64</model></cpu>"
        let result = try await conn.compareHypervisorCPU(xml: cpuXML, target: target)
        #expect(result.unknownRaw == nil, "a known comparison result: \(result)")
        // Asked to fail on incompatibility: the same answer, or the typed error saying why.
        do {
            #expect(try await conn.compareHypervisorCPU(xml: cpuXML, target: target, failIfIncompatible: true) == result)
            #expect(result != .incompatible)
        } catch let e as LibvirtError {
            #expect(result == .incompatible && e.code == .cpuIncompatible, "\(e)")
        }
        let baseline = try await conn.baselineHypervisorCPU(xmls: [cpuXML], target: target)
        #expect(baseline.contains("<cpu"))
        await #expect(throws: LibvirtError.self) { _ = try await conn.compareHypervisorCPU(xml: "<cpu>", target: target) }
    }
}
