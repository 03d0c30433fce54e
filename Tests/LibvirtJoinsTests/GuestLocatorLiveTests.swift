import Foundation
import Libvirt
import LibvirtJoins
import Testing
import VirtCore
import VirtKitTestSupport

/// On a real qemu:///system guest: the process, its vCPU threads, their pinning as libvirt set
/// it, and the guest's cgroups.
@Suite(.serialized) struct GuestLocatorLiveTests {
    @Test func locatesARealGuestAndSeesLibvirtsPinning() async throws {
        let conn: Connection
        do { conn = try await Connection.open("qemu:///system") } catch {
            LiveEnvironment.unavailable("cannot open qemu:///system: \(error) (run Scripts/start-libvirt.sh)")
            return
        }
        let dom = try await conn.defineDomain(xml: TestGuest.xml(name: TestGuest.uniqueName("locate"), vcpus: 2))
        do {
            try await dom.start()
            let hostCPUs = ProcessInfo.processInfo.activeProcessorCount
            let target = hostCPUs - 1
            try await dom.pinVCPU(0, to: CPUSet([target]), flags: .live)
            let loc = try await dom.location()
            #expect(loc.pid > 1)
            #expect(loc.vcpuThreads.keys.sorted() == [0, 1])
            #expect(loc.vcpuThreads[0]?.affinity == CPUSet([target]))
            #expect(loc.emulatorThreads.contains { $0.tid == loc.pid })
            let cg = try #require(loc.cgroups, "cgroups: \(loc.cgroupNote ?? "")")
            #expect(cg.vcpus.keys.sorted() == [0, 1])
            #expect(loc.name == dom.name)
            // Stopped guests have no location, with a typed reason.
            try await dom.destroy()
            await #expect(throws: GuestLocationError.self) { try await dom.location() }
        } catch {
            if (try? await dom.isActive()) == true { try? await dom.destroy() }
            try? await dom.undefine()
            throw error
        }
        try? await dom.undefine()
        await conn.close()
    }
}
