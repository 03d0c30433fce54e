import Foundation
import HostProbe
import Testing
import VirtCore
import VirtKitTestSupport

@Suite("Hand-made fixture trees", .offCooperativePool)
struct FixtureTests {
    @Test func twoSocketSMTTopology() throws {
        let s = try Fixtures.probe("2s4c2t-2n")
        let t = try #require(s.topology)
        #expect(t.cpus.count == 16)
        #expect(t.online == CPUSet(0...15))
        #expect(t.packageCount == 2)
        #expect(t.coreCount == 8)
        #expect(t.isolated == [2, 3, 10, 11])
        #expect(t.nohzFull == [2, 3, 10, 11])
        #expect(t.smtActive == true)
        let c13 = try #require(t.cpu(13))
        #expect(c13.package == 1 && c13.core == 1 && c13.die == 0 && c13.node == 1)
        #expect(c13.threadSiblings == [5, 13])
        #expect(c13.coreSiblings == CPUSet([4, 5, 6, 7, 12, 13, 14, 15]))
        // Caches: L1d, L1i, L2, L3 with the L3 shared by the package.
        #expect(c13.caches.map(\.level) == [1, 1, 2, 3])
        #expect(c13.caches.map(\.type) == ["Data", "Instruction", "Unified", "Unified"])
        #expect(c13.caches[3].size == .kibibytes(22528))
        #expect(c13.caches[3].sharedCPUs == c13.coreSiblings)
        // cpu0/cpufreq is a relative link to ../cpufreq/policy0.
        let f = try #require(t.cpu(0)?.cpufreq)
        #expect(f.governor == "performance" && f.driver == "intel_pstate")
        #expect(f.maxKHz == 3_900_000 && f.hardwareMinKHz == 1_000_000)
        #expect(t.cpu(1)?.cpufreq == nil)
        let info = try #require(t.cpuinfo)
        #expect(info.architecture == "x86")
        #expect(info.hardwareVirtualization == "vmx")
        #expect(!info.runsUnderHypervisor)
        #expect(info.processorCount == 16)
        #expect(info.mhz == 2100)
        #expect(s.diagnostics.isEmpty, "\(s.diagnostics)")
    }

    @Test func hugepagesOnSeveralNodes() throws {
        let s = try Fixtures.probe("2s4c2t-2n")
        let numa = try #require(s.numa)
        #expect(!numa.synthesized)
        #expect(numa.nodes.map(\.id) == [0, 1])
        #expect(numa.nodes[0].cpus == CPUSet([0, 1, 2, 3, 8, 9, 10, 11]))
        #expect(numa.nodes[1].distances == [21, 10])
        #expect(numa.nodes[0].memTotal == .kibibytes(16_384_000))
        #expect(numa.nodes[1].memFree == .kibibytes(10_000_001))
        #expect(numa.nodes[0].hugepages.map(\.size.kibibytes) == [2048, 1_048_576])
        #expect(numa.nodes[0].hugepages[0].total == 512 && numa.nodes[0].hugepages[0].free == 500)
        #expect(numa.nodes[1].hugepages[0].total == 256)
        #expect(numa.nodes[0].hugepages[1].free == 1)
        #expect(numa.withMemory == [0, 1])
        let mem = try #require(s.memory)
        #expect(mem.hugepages.map(\.size.kibibytes) == [2048, 1_048_576])
        #expect(mem.hugepages[0].reserved == 4)
        #expect(mem.defaultHugepageSize == .kibibytes(2048))
        #expect(mem.transparentHugepages?.enabled?.active == "madvise")
        #expect(mem.transparentHugepages?.enabled?.available == ["always", "madvise", "never"])
        #expect(mem.transparentHugepages?.defrag?.active == "madvise")
        #expect(mem.ksm?.run == 1 && mem.ksm?.pagesSharing == 1234 && mem.ksm?.mergeAcrossNodes == 0)
        #expect(mem.swaps.count == 1)
        #expect(mem.swaps.first.map { [$0.path, $0.type, "\($0.size?.kibibytes ?? 0)", "\($0.used?.kibibytes ?? 9)", "\($0.priority ?? 0)"] } == ["/dev/sda2", "partition", "2097148", "0", "-2"])
        let sc = try #require(s.sysctls)
        #expect(sc.swappiness == 10)
        #expect(sc["net.ipv4.tcp_congestion_control"] == "cubic")
        #expect(sc["net.ipv4.ip_local_port_range"] == "32768 60999")
        #expect(sc["vm.nr_hugepages"] == "768")
        // Validation sees the hugepages and the cgroup v2 controllers.
        let v = HostValidation.run(s)
        #expect(v.first { $0.id == "memory.hugepages" }?.status == .pass)
        #expect(v.first { $0.id == "cgroup.memory" }?.status == .pass)
        #expect(v.first { $0.id == "cgroup.devices" }?.status == .pass)
        #expect(v.first { $0.id == "cgroup.blkio" }?.status == .pass)
        #expect(v.first { $0.id == "cpu.virtualization" }?.status == .pass)
        #expect(v.first { $0.id == "kvm.usable" }?.status == .warn, "ioctls never run on a fixture root")
        #expect(v.first { $0.id == "vhost.net" }?.status == .warn)
        let k = try #require(s.kvm)
        #expect(k.nested == true && k.twoDimensionalPaging == true && k.haltPoll == .nanoseconds(200_000))
        #expect(k.device.present && k.device.isCharacterDevice == false)
        #expect(k.usable == nil)
        #expect(k.iommu.kernelParameters == ["intel_iommu": "on", "iommu": "pt"])
        #expect(k.cgroups.mode == "v2")
    }

    @Test func offlineCPUsAndNoNUMA() throws {
        let s = try Fixtures.probe("offline-nonuma")
        let t = try #require(s.topology)
        #expect(t.cpus.count == 8)
        #expect(t.online == [0, 1, 2, 3, 6])
        #expect(t.offline == [4, 5, 7])
        #expect(t.cpus.filter { !$0.online }.map(\.id) == [4, 5, 7])
        #expect(t.cpu(5)?.package == nil && t.cpu(5)?.core == nil)
        #expect(t.cpu(6)?.core == 2)
        #expect(t.cpuinfo?.runsUnderHypervisor == true)
        #expect(t.cpuinfo?.hardwareVirtualization == nil)
        // No node directory: one node 0 with the online CPUs and /proc/meminfo's memory.
        let numa = try #require(s.numa)
        #expect(numa.synthesized)
        #expect(numa.nodes.count == 1)
        #expect(numa.nodes[0].id == 0 && numa.nodes[0].cpus == [0, 1, 2, 3, 6])
        #expect(numa.nodes[0].memTotal == .kibibytes(8_000_000))
        #expect(numa.nodes[0].hugepages.first?.total == 16)
        #expect(t.cpus.allSatisfy { $0.node == 0 })
        #expect(s.memory?.transparentHugepages?.enabled?.active == "never")
        let v = HostValidation.run(s)
        #expect(v.first { $0.id == "memory.thp" }?.status == .warn)
        #expect(v.first { $0.id == "cpu.virtualization" }?.status == .fail)
        #expect(v.first { $0.id == "kvm.device" }?.status == .fail)
        // libvirt's view: 5 online of 8 present, all in one socket.
        let li = try #require(s.hostNodeInfo)
        #expect(li.cpus == 5)
        #expect(li.nodes == 1)
    }

    @Test func iommuGroupsAndSRIOV() throws {
        let s = try Fixtures.probe("iommu-sriov", [.pci, .kvm, .network, .block])
        let pci = try #require(s.pci)
        #expect(pci.devices.map(\.address) == ["0000:3a:00.0", "0000:3b:00.0", "0000:3b:02.0", "0000:3b:02.1"])
        let pf = try #require(pci.device("0000:3b:00.0"))
        #expect(pf.classCode == 0x020000 && pf.isNetwork)
        #expect(pf.vendor == 0x8086 && pf.device == 0x1572)
        #expect(pf.driver == "i40e")
        #expect(pf.numaNode == 1)
        #expect(pf.iommuGroup == 12)
        #expect(pf.sriovTotalVFs == 64 && pf.sriovNumVFs == 2)
        #expect(pf.linkSpeed == "8.0 GT/s PCIe" && pf.linkWidth == 8 && pf.maxLinkWidth == 8)
        let vf = try #require(pci.device("0000:3b:02.1"))
        #expect(vf.physicalFunction == "0000:3b:00.0")
        #expect(vf.driver == "vfio-pci" && vf.iommuGroup == 41)
        #expect(vf.sriovTotalVFs == nil)
        let io = try #require(s.kvm?.iommu)
        #expect(io.groups.map(\.id) == [11, 12, 40, 41])
        #expect(io.groups.first { $0.id == 40 }?.devices == ["0000:3b:02.0"])
        #expect(io.dmarTable && !io.ivrsTable)
        #expect(io.units == ["dmar0"])
        #expect(io.enabled)
        let net = try #require(s.network)
        let nic = try #require(net.interfaces.first { $0.name == "ens1f0" })
        #expect(nic.driver == "i40e" && nic.mtu == 9000 && nic.speedMbps == 10000 && nic.state == "up")
        #expect(nic.rxQueues == 4 && nic.txQueues == 4)
        #expect(nic.master == "br0")
        #expect(nic.numaNode == 1)
        #expect(nic.pciAddress == "0000:3b:00.0")
        #expect(!nic.isVirtual)
        let br = try #require(net.interfaces.first { $0.name == "br0" })
        #expect(br.isBridge && br.isVirtual && br.bridgePorts == ["ens1f0"])
        let nvme = try #require(s.block?.devices.first { $0.name == "nvme0n1" })
        #expect(nvme.scheduler?.active == "none")
        #expect(nvme.scheduler?.available == ["none", "mq-deadline", "kyber"])
        #expect(nvme.hardwareQueues == 4 && nvme.nrRequests == 1023 && nvme.rotational == false)
        #expect(nvme.size == MemorySize(bytes: 1_953_525_168 * 512))
        #expect(nvme.device == DeviceNumber(major: 259, minor: 0), "from dev: what CgroupChange.ioLimit takes")
        let v = HostValidation.run(s)
        #expect(v.first { $0.id == "iommu.support" }?.status == .pass)
        #expect(v.first { $0.id == "iommu.enabled" }?.status == .pass)
    }

    @Test func brokenSourcesGiveTypedDiagnostics() throws {
        let s = try Fixtures.probe("broken")
        func diag(_ path: String) -> ProbeDiagnostic? { s.diagnostics.first { $0.path == path } }
        // Garbled list: diagnostic, and the probe falls back to per-CPU facts.
        #expect(diag("/sys/devices/system/cpu/online")?.failure.kind == "garbled")
        #expect(diag("/sys/devices/system/cpu/cpu0/topology/core_id")?.failure == .garbled("'abc' is not an integer"))
        #expect(diag("/sys/devices/system/cpu/cpu1/topology/core_id")?.failure == .symlinkLoop)
        // A directory where a file belongs is refused after opening, never read.
        #expect(diag("/proc/cpuinfo")?.failure == .notARegularFile("directory"))
        #expect(diag("/sys/devices/system/node/node0/distance")?.section == .numa)
        #expect(diag("/sys/devices/system/node/node1/meminfo")?.failure == .missing)
        #expect(diag("/proc/meminfo")?.section == .memory)
        // …and everything readable is still there.
        let t = try #require(s.topology)
        #expect(t.cpus.map(\.id) == [0, 1])
        #expect(t.cpu(0)?.package == 0 && t.cpu(0)?.core == nil && t.cpu(0)?.threadSiblings == [0])
        let numa = try #require(s.numa)
        #expect(numa.nodes.count == 2)
        #expect(numa.nodes[0].memTotal == .kibibytes(1000) && numa.nodes[0].distances.isEmpty)
        #expect(numa.nodes[1].distances == [20, 10] && numa.nodes[1].cpus.isEmpty)
        #expect(s.memory != nil && s.kvm != nil)
        // Diagnostics survive a JSON round trip with their kinds.
        let data = try JSONEncoder().encode(s)
        let back = try JSONDecoder().decode(HostSnapshot.self, from: data)
        #expect(back == s)
    }

    /// Steal and iowait of the `cpu` line become spans through USER_HZ; the PSI `total=`
    /// values (µs) of all three resources come back exactly.
    @Test func stallCountersOfATreeAreItsProcStatAndPressureTotals() throws {
        let c = HostProber(root: Fixtures.root("2s4c2t-2n")).stallCountersSync()
        #expect(c.diagnostics.isEmpty, "\(c.diagnostics)")
        let cpu = try #require(c.cpu)
        #expect(cpu.steal == 678 && cpu.iowait == 345)
        #expect(c.steal == c.duration(ticks: 678) && c.iowait == c.duration(ticks: 345))
        // At 100 ticks per second, exactly 6.78 s and 3.45 s.
        let at100 = HostStallCounters(cpu: cpu, ticksPerSecond: 100)
        #expect(at100.steal == .milliseconds(6780) && at100.iowait == .milliseconds(3450))
        #expect(c.pressures.map(\.resource) == ["cpu", "io", "memory"])
        #expect(c.cpuPressure?.someTotal == .microseconds(1_500_000) && c.cpuPressure?.fullTotal == .zero)
        #expect(c.ioPressure?.someTotal == .microseconds(2_250_000) && c.ioPressure?.fullTotal == .microseconds(1_250_000))
        #expect(c.memoryPressure?.someTotal == .microseconds(12_345) && c.memoryPressure?.fullTotal == .microseconds(6_789))
    }

    /// A kernel without PSI has no `/proc/pressure`: no pressure and no diagnostic. A garbled
    /// `/proc/stat` is a typed diagnostic and no CPU counters, not zeros.
    @Test func stallCountersWithoutPSIOrWithAGarbledStat() {
        let broken = HostProber(root: Fixtures.root("broken")).stallCountersSync()
        #expect(broken.cpu == nil && broken.steal == nil && broken.iowait == nil)
        #expect(broken.diagnostics.map(\.failure.kind) == ["garbled"])
        #expect(broken.pressures.isEmpty)
        let noStat = HostProber(root: Fixtures.root("offline-nonuma")).stallCountersSync()
        #expect(noStat.cpu == nil && noStat.pressures.isEmpty)
        #expect(noStat.diagnostics.map(\.path) == ["/proc/stat"])
    }

    /// Ticks far beyond a `UInt64` of nanoseconds still convert (a long-running host with
    /// many CPUs), without a trap.
    @Test func stallTicksBeyondUInt64NanosecondsConvert() {
        let c = HostStallCounters(cpu: nil, ticksPerSecond: 100)
        #expect(c.duration(ticks: .max) == .seconds(Int64(UInt64.max / 100)) + .milliseconds(150))
    }

    @Test func garbledProcStatIsTypedInSamples() {
        guard case .failure(let f) = ProcStat.parse("cpu  1 2 three 4\n") else {
            Issue.record("garbled /proc/stat parsed")
            return
        }
        #expect(f.kind == "garbled")
    }
}
