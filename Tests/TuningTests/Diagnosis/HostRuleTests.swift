import Foundation
import Testing
import VirtCore
import HostProbe
import Tuning
import VirtKitTestSupport

/// Each host rule on an edited fixture tree (fires) and on the healthy tree (quiet).
@Suite(.offCooperativePool) struct HostRuleTests {
    typealias F = DiagnosisFixtures

    @Test func healthyHostAndGuestAreQuiet() throws {
        let report = F.diagnose(F.input([try F.guest("healthy")]))
        #expect(report.findings.isEmpty, "\(report.findings.map { "\($0.id): \($0.title)" })")
    }

    @Test func swappiness() throws {
        let report = F.diagnose(F.input(host: F.host(["/proc/sys/vm/swappiness": "60\n"]), [try F.guest("healthy")]))
        let f = try #require(report.findings(.hostSwappiness).first)
        #expect(f.evidence.first?.value == .count(60))
        #expect(f.evidence.first?.source == .procfs("/proc/sys/vm/swappiness"))
        #expect(f.remedies.first?.action == .sysctl(name: "vm.swappiness", value: "10"))
        #expect(f.remedies.first?.applies == .live)
        #expect(f.source.threshold == "maxSwappiness = 10")
        // Quiet without active guests: nothing to protect.
        let idle = F.diagnose(F.input(host: F.host(["/proc/sys/vm/swappiness": "60\n"]), [try F.guest("healthy", .shutoff(.shutdown))]))
        #expect(!idle.ids.contains("host.swappiness"))
    }

    @Test func transparentHugepagesNever() throws {
        let report = F.diagnose(F.input(host: F.host(["/sys/kernel/mm/transparent_hugepage/enabled": "always madvise [never]\n"]), [try F.guest("healthy")]))
        let f = try #require(report.findings(.hostTHPDisabled).first)
        #expect(f.evidence.contains { $0.value == .text("never") && $0.source.location == "/sys/kernel/mm/transparent_hugepage/enabled" })
        #expect(f.remedies.map(\.applies) == [.live, .hostReboot])
    }

    @Test func ksmMergeAcrossNodes() throws {
        let report = F.diagnose(F.input(host: F.host(["/sys/kernel/mm/ksm/merge_across_nodes": "1\n"]), [try F.guest("healthy")]))
        let f = try #require(report.findings(.hostKSMMergeAcrossNodes).first)
        #expect(f.severity == .warning)
        #expect(f.evidence.contains { $0.name == "NUMA nodes" && $0.value == .count(2) })
        // One 4 GiB guest on a 32 GiB host: not overcommitted, so stopping KSM comes first.
        #expect(f.remedies.first?.action == .sysfs(path: "/sys/kernel/mm/ksm/run", value: "2"))
        // Single-node host: merging across nodes is harmless.
        let flat = F.diagnose(F.input(host: F.host(["/sys/kernel/mm/ksm/run": "1\n", "/sys/kernel/mm/ksm/merge_across_nodes": "1\n"], tree: "offline-nonuma", healthy: false), [try F.guest("healthy")]))
        #expect(!flat.ids.contains("host.ksm.merge-across-nodes"))
    }

    @Test func hugepagesUnusedPools() throws {
        // The unedited tree reserves 768 × 2 MiB and 2 × 1 GiB pages; the healthy guest uses none.
        let report = F.diagnose(F.input(host: F.host(["/dev/vhost-net": ""], healthy: false), [try F.guest("healthy")]))
        let unused = report.findings(.hostHugepagesUnused)
        #expect(unused.count == 2)
        #expect(unused.contains { $0.title.hasPrefix("1.50 GiB reserved as 2.00 MiB") })
        // A guest on 2 MiB pages uses that pool: only the 1 GiB pool is left unused.
        let using = F.diagnose(F.input(host: F.host(["/dev/vhost-net": ""], healthy: false), [try F.guest("balloon-hugepages")]))
        #expect(using.findings(.hostHugepagesUnused).count == 1)
    }

    @Test func hugepagesUnavailableBlocksStart() throws {
        let stopped = try F.guest("hugepages-1g-node1", .shutoff(.shutdown))
        // Node 1 has no free 1 GiB page; the guest needs 4 there.
        let report = F.diagnose(F.input(host: F.host(["/dev/vhost-net": ""], healthy: false), [stopped]))
        let f = try #require(report.findings(.hostHugepagesUnavailable).first)
        #expect(f.severity == .critical)
        #expect(f.evidence.contains { $0.name == "pages needed" && $0.value == .count(4) })
        #expect(f.evidence.contains { $0.name == "free pages" && $0.value == .count(0) })
        // Enough free 1 GiB pages on node 1: it can start.
        var edits: [String: String?] = ["/dev/vhost-net": ""]
        for f in ["nr_hugepages", "free_hugepages"] { edits["/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/\(f)"] = "4\n" }
        let ok = F.diagnose(F.input(host: F.host(edits, healthy: false), [stopped]))
        #expect(!ok.ids.contains("host.hugepages.unavailable"))
        // A running guest already holds its pages.
        let running = F.diagnose(F.input(host: F.host(["/dev/vhost-net": ""], healthy: false), [try F.guest("hugepages-1g-node1")]))
        #expect(!running.ids.contains("host.hugepages.unavailable"))
    }

    @Test func numaBalancingWithPinnedGuests() throws {
        let report = F.diagnose(F.input(host: F.host(["/proc/sys/kernel/numa_balancing": "1\n"]), [try F.guest("healthy")]))
        let f = try #require(report.findings(.hostNUMABalancingPinnedGuests).first)
        #expect(f.severity == .warning)
        #expect(f.remedies.first?.action == .sysctl(name: "kernel.numa_balancing", value: "0"))
        let unpinned = F.diagnose(F.input(host: F.host(["/proc/sys/kernel/numa_balancing": "1\n"]), [try F.guest("many-vcpus")]))
        #expect(!unpinned.ids.contains("host.numa-balancing.pinned-guests"))
    }

    @Test func blockSchedulerUnderGuestDisks() throws {
        let report = F.diagnose(F.input(host: F.host(["/sys/block/nvme0n1/queue/scheduler": "none [mq-deadline] kyber\n"]), [try F.guest("healthy")]))
        let f = try #require(report.findings(.hostBlockScheduler).first)
        #expect(f.evidence.first?.value == .text("mq-deadline"))
        #expect(f.evidence.contains { $0.value == .text("healthy:vda") })
        #expect(f.remedies.first?.action == .sysfs(path: "/sys/block/nvme0n1/queue/scheduler", value: "none"))
    }

    @Test func vhostNetMissing() throws {
        let report = F.diagnose(F.input(host: F.host(["/dev/vhost-net": nil]), [try F.guest("healthy")]))
        let f = try #require(report.findings(.hostVhostNetMissing).first)
        #expect(f.evidence.first?.value == .flag(false))
    }

    @Test func kvmMissing() throws {
        let report = F.diagnose(F.input(host: F.host(["/dev/kvm": nil]), [try F.guest("healthy")]))
        let f = try #require(report.findings(.hostKVMUnusable).first)
        #expect(f.severity == .critical)
        #expect(report.hasCritical)
    }

    @Test func iommuOffWithPassthrough() throws {
        let report = F.diagnose(F.input([try F.guest("pci-hostdev")]))
        let f = try #require(report.findings(.hostIOMMUOff).first)
        #expect(f.severity == .critical)
        // The Intel fixture CPU gets the kernel parameter; never iommu=pt (weakens isolation).
        #expect(f.remedies.first?.action == .kernelCommandLine(add: ["intel_iommu=on"], remove: []))
        // A host with IOMMU groups is fine.
        let sriov = F.diagnose(F.input(host: F.host(["/dev/vhost-net": ""], tree: "iommu-sriov", healthy: false), [try F.guest("pci-hostdev")]))
        #expect(!sriov.ids.contains("host.iommu.off"))
    }

    @Test func vcpuOvercommit() throws {
        // 8 cores: one 20-vCPU guest is critical by itself.
        let big = F.diagnose(F.input([try F.guest("many-vcpus")]))
        let perGuest = try #require(big.findings(.hostOvercommitVCPU).first { $0.subject.guest != nil })
        #expect(perGuest.severity == .critical)
        // 20 vCPUs / 8 cores = 2.5: under the warning level of 3.
        #expect(big.findings(.hostOvercommitVCPU).allSatisfy { $0.subject.guest != nil })
        // 13 guests × 2 vCPUs = 26 / 8 = 3.25 per core: warning.
        let many = try (0..<13).map { i -> GuestFacts in
            var g = try F.guest("no-agent")
            g.reference = GuestReference(uuid: LibvirtUUID(bytes: Array(repeating: UInt8(i + 1), count: 16))!, name: "g\(i)")
            return g
        }
        let crowded = F.diagnose(F.input(many))
        let f = try #require(crowded.findings(.hostOvercommitVCPU).first)
        #expect(f.severity == .warning)
        #expect(f.evidence.contains { $0.value == .number(3.25, unit: "vCPUs/core") })
        // The threshold is the caller's: at 4 per core it stays quiet.
        var t = DiagnosisThresholds()
        t.vcpusPerCoreWarning = 4
        #expect(!F.diagnose(F.input(many), t).ids.contains("host.overcommit.vcpu"))
    }
}
