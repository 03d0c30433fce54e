import Foundation
import Libvirt
@testable import LibvirtJoins
import Testing
import VirtCore
import VirtKitTestSupport

@Suite struct GuestLocatorParsingTests {
    @Test(arguments: [
        ("CPU 0/KVM\n", GuestThreadRole.vcpu(0)), ("CPU 17/KVM", .vcpu(17)), ("CPU 3/TCG", .vcpu(3)),
        ("IO iothread2\n", .iothread(2)), ("IO mon_iothread", .emulator), ("qemu-system-x86", .emulator),
        ("CPU x/KVM", .emulator), ("CPU -1/KVM", .emulator), ("worker", .emulator), ("", .emulator),
    ])
    func threadRolesFromQEMUThreadNames(_ comm: String, _ role: GuestThreadRole) {
        #expect(GuestThreadRole(comm: comm) == role)
    }

    @Test func lastCPUIsField39CountedAfterTheCommParenthesis() {
        // comm with a space and a parenthesis inside, as `(CPU 0/KVM)` and odd names have.
        let fields = (3...52).map { $0 == 39 ? "5" : "0" }.joined(separator: " ")
        #expect(GuestLocator.lastCPU(stat: "4242 (CPU 0/KVM) (x) " + fields) == 5)
        #expect(GuestLocator.lastCPU(stat: "4242 (short) S 1 2") == nil)
        #expect(GuestLocator.lastCPU(stat: "garbage") == nil)
    }

    @Test func allowedCPUsFromStatus() {
        #expect(GuestLocator.allowedCPUs(status: "Name:\tCPU 0/KVM\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1,4\n") == CPUSet([0, 1, 4]))
        #expect(GuestLocator.allowedCPUs(status: "Name:\tx\n") == nil)
        #expect(GuestLocator.allowedCPUs(status: "Cpus_allowed_list:\tnot-a-list\n") == nil)
    }

    @Test func uuidMatchesOnlyTheUUIDArgument() throws {
        let uuid = try #require(LibvirtUUID("4dea22b3-1d52-d8f3-2516-782e98ab3fa0"))
        let args = ["/usr/bin/qemu-system-x86_64", "-name", "guest=a,debug-threads=on", "-uuid", "4DEA22B3-1D52-D8F3-2516-782E98AB3FA0", "-m", "64"]
        #expect(GuestLocator.commandLine(Array(args.joined(separator: "\0").utf8) + [0], hasUUID: uuid))
        // The UUID elsewhere (a name, a file path) is not the guest's identity.
        let other = ["qemu", "-name", "guest=4dea22b3-1d52-d8f3-2516-782e98ab3fa0", "-uuid", "00000000-0000-0000-0000-000000000001"]
        #expect(!GuestLocator.commandLine(Array(other.joined(separator: "\0").utf8), hasUUID: uuid))
        #expect(!GuestLocator.commandLine(Array("-uuid".utf8), hasUUID: uuid))
    }
}

/// A fake host: proc/ with one QEMU process and its threads, sys/ with two NUMA nodes.
@Suite struct GuestLocatorFixtureTests {
    static func makeRoot(uuid: String) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("vk-locate-\(UUID().uuidString)")
        func write(_ path: String, _ text: String) throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        try write("proc/1/cmdline", "/sbin/init\0")
        try write("proc/777/cmdline", ["/usr/bin/qemu-system-x86_64", "-name", "guest=vm1,debug-threads=on", "-uuid", uuid].joined(separator: "\0") + "\0")
        let threads: [(Int, String, Int, String)] = [(777, "qemu-system-x86", 0, "0-3"), (780, "CPU 0/KVM", 2, "2"), (781, "CPU 1/KVM", 3, "3"), (782, "IO iothread1", 1, "0-1")]
        for (tid, comm, cpu, allowed) in threads {
            let fields = (3...52).map { $0 == 39 ? String(cpu) : "0" }.joined(separator: " ")
            try write("proc/777/task/\(tid)/comm", comm + "\n")
            try write("proc/777/task/\(tid)/stat", "\(tid) (\(comm)) " + fields + "\n")
            try write("proc/777/task/\(tid)/status", "Name:\t\(comm)\nCpus_allowed_list:\t\(allowed)\n")
        }
        try write("sys/devices/system/node/node0/cpulist", "0-1\n")
        try write("sys/devices/system/node/node1/cpulist", "2-3\n")
        return root
    }

    @Test func locatesProcessThreadsCPUsAndNodes() async throws {
        let uuidText = "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"
        let root = try Self.makeRoot(uuid: uuidText)
        defer { try? FileManager.default.removeItem(at: root) }
        let uuid = try #require(LibvirtUUID(uuidText))
        let loc = try await GuestLocator(root: root.path).locate(name: "vm1", uuid: uuid, id: 5)
        #expect(loc.pid == 777)
        #expect(loc.vcpuThreads.mapValues(\.tid) == [0: 780, 1: 781])
        #expect(loc.iothreadThreads.mapValues(\.tid) == [1: 782])
        #expect(loc.emulatorThreads.map(\.tid) == [777])
        #expect(loc.vcpuThreads[1]?.affinity == CPUSet([3]))
        #expect(loc.vcpuHostCPUs == CPUSet([2, 3]))
        #expect(loc.vcpuHostNodes == NodeSet([1]))
        // The fixture has no cgroup tree: said, not invented.
        #expect(loc.cgroups == nil)
        #expect(loc.cgroupNote != nil)
    }

    @Test func anotherUUIDIsNotFound() async throws {
        let root = try Self.makeRoot(uuid: "4dea22b3-1d52-d8f3-2516-782e98ab3fa0")
        defer { try? FileManager.default.removeItem(at: root) }
        let other = try #require(LibvirtUUID("00000000-0000-0000-0000-000000000002"))
        await #expect(throws: GuestLocationError.self) {
            try await GuestLocator(root: root.path).locate(name: "vm1", uuid: other, id: 5)
        }
    }
}
