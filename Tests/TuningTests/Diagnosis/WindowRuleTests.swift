import Foundation
import Testing
import VirtCore
import Libvirt
import Tuning
import VirtKitTestSupport

/// Console-lag rules on recorded rates: a loaded window fires, a calm one stays quiet.
@Suite(.offCooperativePool) struct WindowRuleTests {
    typealias F = DiagnosisFixtures

    /// The healthy guest as QEMU PID 1000 whose vCPU 0 (thread 1003, on CPU 5) waited
    /// `delayMs` in a 10 s window.
    static func guest(delayMs: Int64, throttled: UInt64 = 0) throws -> GuestFacts {
        var g = try F.guest("healthy", pid: 1000)
        g.window = GuestWindow(
            duration: .seconds(10),
            vcpus: [VCPUFigures(index: 0, delay: .milliseconds(delayMs), runTime: .seconds(4), delaySource: "virConnectGetAllDomainStats vcpu.0.delay",
                                threadID: 1003, hostCPU: 5, affinity: [5]),
                    VCPUFigures(index: 1, delay: .milliseconds(1), delaySource: "virConnectGetAllDomainStats vcpu.1.delay", threadID: 1004, hostCPU: 1)],
            throttling: CPUThrottling(cgroup: "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d1\\x2dhealthy.scope/libvirt", periods: 100, throttledPeriods: throttled,
                                      throttledTime: .milliseconds(Int64(throttled) * 50), quota: .milliseconds(10), period: .milliseconds(100)))
        return g
    }

    @Test func vcpuContentionNamesThreadCPUAndNeighbours() throws {
        let report = F.diagnose(F.input(rates: try F.rates("loaded"), [try Self.guest(delayMs: 5_500)]))
        let f = try #require(report.findings(.guestVCPUContention).first)
        #expect(report.findings(.guestVCPUContention).count == 1, "vCPU 1 waited 0.01 %: quiet")
        #expect(f.severity == .critical)
        #expect(f.subject == .vcpu(f.subject.guest!, index: 0))
        #expect(f.evidence.contains { $0.value == .duration(.milliseconds(5_500)) && $0.window == .seconds(10) })
        #expect(f.evidence.contains { e in
            guard e.name.hasPrefix("share of wall time"), case .percent(let p) = e.value else { return false }
            return abs(p - 55) < 1e-9
        })
        #expect(f.evidence.contains { $0.name == "vCPU 0 thread" && $0.value == .count(1003) })
        #expect(f.evidence.contains { $0.name == "host CPU 5 busy" && $0.value == .percent(100) })
        // What else runs on CPU 5: the hog, not the vCPU's own thread.
        #expect(f.evidence.contains { $0.name.contains("PID 4242 thread 4242 (stress)") && $0.value == .percent(55) })
        #expect(!f.evidence.contains { $0.name.contains("thread 1003") && $0.name.hasPrefix("also on") })
        #expect(f.source.threshold?.hasPrefix("vcpuDelayCritical") == true)
        // The live fix moves it to the least busy CPU.
        #expect(f.remedies.first?.action == .libvirt(.pinVCPU(vcpu: 0, cpus: [0])))
    }

    @Test func vcpuContentionThresholds() throws {
        let warn = F.diagnose(F.input(rates: try F.rates("calm"), [try Self.guest(delayMs: 1_500)]))
        #expect(warn.findings(.guestVCPUContention).first?.severity == .warning)
        let quiet = F.diagnose(F.input(rates: try F.rates("calm"), [try Self.guest(delayMs: 900)]))
        #expect(!quiet.ids.contains("guest.vcpu.contention"), "9 % is under the 10 % threshold")
        var t = DiagnosisThresholds()
        t.vcpuDelayWarning = 0.05
        #expect(F.diagnose(F.input(rates: try F.rates("calm"), [try Self.guest(delayMs: 900)]), t).ids.contains("guest.vcpu.contention"))
    }

    @Test func cpuThrottled() throws {
        let report = F.diagnose(F.input(rates: try F.rates("calm"), [try Self.guest(delayMs: 0, throttled: 60)]))
        let f = try #require(report.findings(.guestCPUThrottled).first)
        #expect(f.evidence.contains { e in
            guard e.name == "throttled share", case .percent(let p) = e.value else { return false }
            return abs(p - 60) < 1e-9
        })
        #expect(f.evidence.contains { $0.name == "quota" && $0.value == .duration(.milliseconds(10)) })
        #expect(f.remedies.first?.applies == .live)
        let quiet = F.diagnose(F.input(rates: try F.rates("calm"), [try Self.guest(delayMs: 0, throttled: 10)]))
        #expect(!quiet.ids.contains("guest.cpu.throttled"))
    }

    @Test func hostWindowRulesFireOnLoadedWindow() throws {
        let report = F.diagnose(F.input(rates: try F.rates("loaded"), [try Self.guest(delayMs: 5_500)]))
        for id in ["host.iowait", "host.context-switches", "host.psi.cpu", "host.tcp.retransmits", "host.memory.swapping"] {
            #expect(report.ids.contains(id), "\(id) in \(report.ids)")
        }
        // Host-wide findings cite the suffering vCPU.
        let psi = try #require(report.findings(.hostPSICPU).first)
        #expect(psi.evidence.contains { $0.name == "healthy vCPU 0 delay (on CPU 5)" })
        let swap = try #require(report.findings(.hostMemorySwapping).first)
        #expect(swap.severity == .warning, "4 GiB of guests on 32 GiB: not overcommitted")
        #expect(swap.evidence.contains { $0.value == .number(40, unit: "pages/s") && $0.source == .procfs("/proc/vmstat pswpin") })
    }

    @Test func calmWindowIsQuiet() throws {
        let report = F.diagnose(F.input(rates: try F.rates("calm"), [try Self.guest(delayMs: 10)]))
        #expect(report.findings.isEmpty, "\(report.ids)")
    }
}

/// The paused-guest rule.
@Suite(.offCooperativePool) struct PausedRuleTests {
    typealias F = DiagnosisFixtures

    @Test func ioErrorENOSPCNamesDiskAndStorage() throws {
        var g = try F.guest("healthy", .paused(.ioError))
        g.pause = PausedGuestFacts(diskErrors: [DiskErrorReport(disk: "vda", error: .noSpace)],
                                   storage: ["vda": .fileSystem(path: "/var/lib/libvirt/images", available: .zero, size: .gibibytes(100))])
        let f = try #require(PausedGuestRules.finding(for: g))
        #expect(f.id == .guestPausedIOError)
        #expect(f.severity == .critical)
        #expect(f.subject == .device(g.reference, target: "vda"))
        #expect(f.pause?.disks == [PausedDisk(target: "vda", errno: "ENOSPC", source: "/dev/nvme0n1", storage: g.pause?.storage["vda"])])
        #expect(f.pause?.storageLooksHealthy == false)
        #expect(f.remedies.map(\.applies) == [.manual, .live, .live])
        #expect(f.remedies.contains { $0.action == .libvirt(.resume) })
        #expect(f.title.contains("vda (ENOSPC)"))
    }

    @Test func ioErrorEventReasonRefinesDiskError() throws {
        var g = try F.guest("healthy", .paused(.ioError))
        g.definition.disks[0].alias = "virtio-disk0"
        g.pause = PausedGuestFacts(diskErrors: [DiskErrorReport(disk: "vda", error: .unspecified)],
                                   ioErrors: [IOErrorReport(alias: "virtio-disk0", sourcePath: "/dev/nvme0n1", reason: "eio")],
                                   storage: ["vda": .server(address: "127.0.0.1:10852", answers: true, detail: nil)])
        let f = try #require(PausedGuestRules.finding(for: g))
        #expect(f.pause?.disks.map(\.errno) == ["EIO"])
        #expect(f.pause?.storageLooksHealthy == true)
        #expect(f.evidence.contains { $0.name == "server 127.0.0.1:10852 answers" && $0.value == .flag(true) })
    }

    @Test func everyPausedReasonHasItsID() throws {
        let reasons: [(PausedReason, String, Finding.Severity)] = [
            (.watchdog, "guest.paused.watchdog", .critical), (.migration, "guest.paused.migration", .info),
            (.postcopyFailed, "guest.paused.postcopy-failed", .critical), (.user, "guest.paused.user", .info),
            (.crashed, "guest.paused.crashed", .critical), (.unknown(99), "guest.paused.unknown", .warning),
        ]
        for (reason, id, severity) in reasons {
            let f = try #require(PausedGuestRules.finding(for: try F.guest("healthy", .paused(reason))))
            #expect(f.id.rawValue == id)
            #expect(f.id.isPausedGuest)
            #expect(f.severity == severity, "\(id)")
            #expect(f.pause?.reason == reason)
        }
        #expect(PausedGuestRules.finding(for: try F.guest("healthy")) == nil)
        #expect(F.diagnose(F.input([try F.guest("healthy", .paused(.user))])).ids == ["guest.paused.user"])
    }
}
