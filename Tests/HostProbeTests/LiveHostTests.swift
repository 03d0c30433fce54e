import CNUMA
import Foundation
import HostProbe
import Testing
import VirtCore
import VirtKitTestSupport

@Suite("Live host", .offCooperativePool)
struct LiveHostTests {
    /// sysfs topology vs libnuma (numa(3)) on this machine.
    @Test func topologyAgreesWithLibnuma() throws {
        guard numa_available() >= 0 else {
            LiveEnvironment.unavailable("libnuma reports no NUMA support (numa_available() < 0)")
            return
        }
        let s = try HostProber().snapshotSync(sections: [.topology, .numa])
        let numa = try #require(s.numa)
        let topo = try #require(s.topology)
        #expect(numa.nodes.count == Int(numa_max_node()) + 1 || numa.nodes.map(\.id).max() == Int(numa_max_node()))
        #expect(numa.nodes.map(\.id).max() == Int(numa_max_node()))
        for cpu in topo.cpus where cpu.online {
            #expect(cpu.node == Int(numa_node_of_cpu(Int32(cpu.id))), "node of CPU \(cpu.id)")
        }
        for a in numa.nodes {
            for (j, b) in numa.nodes.enumerated() {
                #expect(a.distances[j] == Int(numa_distance(Int32(a.id), Int32(b.id))), "distance \(a.id)→\(b.id)")
            }
            var free: Int64 = 0
            let size = numa_node_size64(Int32(a.id), &free)
            #expect(a.memTotal.map { Int64($0.bytes) } == size, "size of node \(a.id)")
        }
    }

    @Test func liveProbeSeesThisMachine() async throws {
        let s = try await HostProber().snapshot()
        let topo = try #require(s.topology)
        #expect(topo.online.count == sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #expect(s.memory?.total.map { $0.bytes > 0 } == true)
        #expect(s.numa?.nodes.isEmpty == false)
        #expect(s.diagnostics.filter { $0.failure != .missing }.isEmpty, "\(s.diagnostics)")
    }

    /// Each block device's number from sysfs is the `st_rdev` of its /dev node (the number
    /// cgroup I/O limits are keyed by).
    @Test func blockDeviceNumbersMatchTheDeviceNodes() throws {
        let devices = try #require(try HostProber().snapshotSync(sections: [.block]).block?.devices)
        var checked = 0
        for d in devices {
            var st = stat()
            guard stat("/dev/\(d.name)", &st) == 0 else { continue }
            #expect(d.device == DeviceNumber(rawDeviceNumber: UInt64(st.st_rdev)), "\(d.name)")
            checked += 1
        }
        if checked == 0 { LiveEnvironment.unavailable("no block device with a /dev node on this host") }
    }

    /// KVM_GET_API_VERSION and KVM_CREATE_VM on the real /dev/kvm.
    @Test func kvmIoctls() throws {
        guard FileManager.default.fileExists(atPath: "/dev/kvm") else {
            LiveEnvironment.unavailable("/dev/kvm does not exist")
            return
        }
        let k = try #require(try HostProber().snapshotSync(sections: [.kvm]).kvm)
        #expect(k.device.present && k.device.isCharacterDevice == true)
        #expect(k.device.major == 10 && k.device.minor == 232)
        guard k.device.accessible == true else {
            LiveEnvironment.unavailable("/dev/kvm is not accessible to this user")
            return
        }
        #expect(k.apiVersion == 12)
        #expect(k.createVMSucceeded == true, "\(k.liveCheckError ?? "")")
        #expect(k.usable == true)
        #expect((k.maxVCPUs ?? 0) >= 1)
        let v = HostValidation.run(try HostProber().snapshotSync(sections: HostValidation.sections))
        #expect(v.first { $0.id == "cpu.virtualization" }?.status == .pass, "a working KVM_CREATE_VM passes even without vmx/svm flags")
    }

    @Test func sampleYieldsDeltas() async throws {
        let pid = Int(getpid())
        // Keep one thread busy so the process shows CPU time.
        let stop = ManagedAtomicFlag()
        let burner = Thread { var x = 0.0; while !stop.isSet { x += 1 }; _ = x }
        burner.start()
        defer { stop.set() }
        var samples: [RateSample] = []
        for await s in HostProber().sample(every: .milliseconds(200), processes: [pid]) {
            samples.append(s)
            if samples.count == 3 { break }
        }
        #expect(samples.count == 3)
        let online = try await HostProber().snapshot(sections: [.topology]).topology?.online.count ?? 0
        for s in samples {
            #expect(s.interval > 0.1 && s.interval < 5)
            let total = try #require(s.total)
            #expect(total.busy >= 0 && total.busy <= 100.001)
            #expect(abs(total.user + total.nice + total.system + total.idle + total.iowait + total.irq + total.softirq + total.steal - 100) < 0.5)
            #expect(s.perCPU.count == online)
            #expect((s.contextSwitchesPerSecond ?? 0) > 0)
            #expect(s.loadAverage.count == 3)
            #expect(s.threads.contains { $0.tid == pid })
            #expect(s.diagnostics.isEmpty, "\(s.diagnostics)")
        }
        // The burner thread used CPU: the process's threads together show it.
        let last = samples[2]
        #expect(last.threads.map(\.cpuPercent).reduce(0, +) > 5)
    }

    /// The live host's counters, read on the file-I/O pool, never run ahead of `/proc/stat`
    /// and `/proc/pressure` read independently afterwards, and never go backwards.
    @Test func liveStallCountersAreMonotoneAgainstTheKernelFiles() async throws {
        let first = try #require(await HostProber().stallCounters())
        let second = try #require(await HostProber().stallCounters())
        #expect(first.diagnostics.isEmpty, "\(first.diagnostics)")
        let stat = try String(contentsOfFile: "/proc/stat", encoding: .utf8)
        let cpu = try #require(stat.split(separator: "\n").first { $0.hasPrefix("cpu ") }).split(separator: " ").dropFirst().compactMap { UInt64($0) }
        try #require(cpu.count >= 8)
        let a = try #require(first.cpu), b = try #require(second.cpu)
        #expect(a.iowait <= b.iowait && b.iowait <= cpu[4])
        #expect(a.steal <= b.steal && b.steal <= cpu[7])
        #expect(a.user + a.system > 0)
        if FileManager.default.fileExists(atPath: "/proc/pressure/cpu") {
            #expect(first.pressures.map(\.resource) == ["cpu", "io", "memory"])
            for (resource, p) in second.pressures {
                let text = try String(contentsOfFile: "/proc/pressure/" + resource, encoding: .utf8)
                let some = PressureCounters.parse(text)
                #expect((p.someTotalMicroseconds ?? .max) <= (some.someTotalMicroseconds ?? 0), "\(resource)")
                #expect(p.someTotal != nil)
            }
        } else {
            #expect(first.pressures.isEmpty)
        }
    }

    @Test func processThreadCounters() throws {
        let threads = try ProcessThreads.read(pid: Int(getpid())).get()
        let main = try #require(threads.first { $0.tid == Int(getpid()) })
        #expect(main.voluntarySwitches != nil)
        #expect(main.runNanoseconds.map { $0 > 0 } == true)
        #expect(main.processor != nil)
        #expect(throws: ReadFailure.missing) { try ProcessThreads.read(pid: 999_999_999).get() }
    }
}

/// A stop flag shared with a plain Thread (the burner reads it, the test sets it).
final class ManagedAtomicFlag: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
