import Foundation
import Libvirt
import Testing
import Tuning
import VirtKitTestSupport
@testable import VirtKitExporter

/// The families read from this machine's files (cgroup throttling, PSI, hugepages) and the
/// diagnosis findings, on the real `qemu:///system` daemon; each value is checked against the
/// kernel's own file read independently here. Nested in `LiveExporterTests` (serialized:
/// the guests of one test are domains every other test's scrape sees).
extension LiveExporterTests {
@Suite struct HostFilesExporterTests {
    init() { DaemonSignals.setUp() }

    /// A guest whose whole cgroup is capped at 2 ms per 10 ms period (`global_quota`) is
    /// throttled while SeaBIOS runs: the exporter's throttling counters of its `top` cgroup are
    /// positive and never ahead of the kernel's `cpu.stat` read afterwards; its PSI totals
    /// likewise against the unified hierarchy's `*.pressure` files.
    @Test func throttlingAndPressureOfARunningGuestMatchTheKernelFiles() async throws {
        guard let conn = await LiveExporterTests.open() else { return }
        let dom = try await conn.createDomain(xml: TestGuest.xml(name: TestGuest.uniqueName("exporter-throttle")))
        let exporter = MetricsExporter(uris: ["qemu:///system"], findingsInterval: nil)
        do {
            var p = SchedulerParameters()
            p.globalPeriod = .milliseconds(10)
            p.globalQuota = .limited(.milliseconds(2))
            try await dom.setSchedulerParameters(p, flags: .live)
            let uuid = HostCollector.key(dom.uuid)
            let pid = try #require(Self.qemuPID(dom.name), "no pid file for \(dom.name)")

            var parsed: ParsedExposition?
            let throttled = await eventually(timeout: .seconds(30), every: .milliseconds(500)) {
                let text = String(decoding: await exporter.metrics(), as: UTF8.self)
                parsed = try? ParsedExposition(text)
                // The kernel adds to the throttled time when a throttled period ends: wait for both.
                let top = { (family: String) in parsed?.values(family).first { $0.labels["uuid"] == uuid && $0.labels["cgroup"] == "top" }?.value ?? 0 }
                return top("virtkit_domain_cpu_throttled_periods_total") > 0 && top("virtkit_domain_cpu_throttled_seconds_total") > 0
            }
            let exposition = try #require(parsed)
            #expect(throttled, "the capped guest's top cgroup was throttled")
            let cpuDir = try #require(Self.cgroupDirectory(pid: pid, controller: "cpu"), "cpu cgroup of \(pid)")
            let kernel = try Self.keyed(cpuDir + "/cpu.stat")
            func value(_ family: String, _ extra: [String: String] = ["cgroup": "top"]) -> Double? {
                exposition.values(family).first { s in s.labels["uuid"] == uuid && extra.allSatisfy { s.labels[$0.key] == $0.value } }?.value
            }
            let periods = try #require(value("virtkit_domain_cpu_periods_total"))
            let nrThrottled = try #require(value("virtkit_domain_cpu_throttled_periods_total"))
            let throttledSeconds = try #require(value("virtkit_domain_cpu_throttled_seconds_total"))
            let kernelPeriods = Double(try #require(kernel["nr_periods"]))
            let kernelNrThrottled = Double(try #require(kernel["nr_throttled"]))
            #expect(nrThrottled <= periods && periods <= kernelPeriods)
            #expect(nrThrottled <= kernelNrThrottled)
            let kernelThrottled = kernel["throttled_usec"].map { Double($0) / 1e6 } ?? kernel["throttled_time"].map { Double($0) / 1e9 }
            #expect(throttledSeconds > 0 && throttledSeconds <= (kernelThrottled ?? 0) + 1e-9)
            #expect(exposition.values("virtkit_domain_cpu_periods_total").contains { $0.labels["uuid"] == uuid && $0.labels["cgroup"] == "vcpu0" })

            // PSI lives in the unified hierarchy (cgroup v2, or the `unified` mount of a hybrid host).
            if let unified = Self.cgroupDirectory(pid: pid, controller: ""), let top = Optional(unified.hasSuffix("/emulator") ? String(unified.dropLast(9)) : unified),
               FileManager.default.fileExists(atPath: top + "/cpu.pressure") {
                for resource in ["cpu", "io", "memory"] {
                    let totals = try Self.pressureTotals(top + "/\(resource).pressure")
                    for (kind, total) in totals {
                        let v = try #require(value("virtkit_domain_pressure_seconds_total", ["resource": resource, "kind": kind]), "\(resource) \(kind)")
                        #expect(v >= 0 && v <= Double(total) / 1e6 + 1e-9, "\(resource) \(kind): \(v) s vs kernel \(total) µs")
                    }
                }
            } else {
                LiveEnvironment.unavailable("no PSI in the guest's unified cgroup: pressure families not checked")
            }
            #expect(exposition.values("virtkit_domain_hugepages_bytes").allSatisfy { $0.labels["uuid"] != uuid }, "not hugepage-backed: no series")
            try promtoolAccepts(String(decoding: await exporter.metrics(), as: UTF8.self))
        } catch {
            Issue.record(error)
        }
        await exporter.shutdown()
        try? await dom.destroy()
        await conn.close()
    }

    /// Node 0's 2 MiB pool grows by two pages for the duration of the test (restored after):
    /// the exporter's pool and free bytes equal sysfs' `nr_hugepages`/`free_hugepages` times
    /// the page size, read before and after the scrape.
    @Test func hostHugepagePoolsPerNodeMatchSysfs() async throws {
        let dir = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB"
        guard getuid() == 0, let original = try? Self.number(dir + "/nr_hugepages") else {
            LiveEnvironment.unavailable("node0 2 MiB hugepage pool not writable here (root and sysfs needed)")
            return
        }
        try String(original + 2).write(toFile: dir + "/nr_hugepages", atomically: false, encoding: .utf8)
        let exporter = MetricsExporter(uris: ["qemu:///system"], findingsInterval: nil)
        do {
            let before = try Self.number(dir + "/nr_hugepages"), freeBefore = try Self.number(dir + "/free_hugepages")
            let parsed = try ParsedExposition(String(decoding: await exporter.metrics(), as: UTF8.self))
            let after = try Self.number(dir + "/nr_hugepages"), freeAfter = try Self.number(dir + "/free_hugepages")
            #expect(before > original, "the kernel gave the pool at least one page (\(original) → \(before))")
            func bytes(_ family: String) -> Double? {
                parsed.values(family).first { $0.labels["node"] == "0" && $0.labels["page_size"] == "2097152" && $0.labels["host"] == "qemu:///system" }?.value
            }
            let total = try #require(bytes("virtkit_host_hugepages_bytes"))
            let free = try #require(bytes("virtkit_host_hugepages_free_bytes"))
            if before == after { #expect(total == Double(before * 2_097_152)) }
            if freeBefore == freeAfter { #expect(free == Double(freeBefore * 2_097_152)) }
        } catch {
            Issue.record(error)
        }
        await exporter.shutdown()
        try? String(original).write(toFile: dir + "/nr_hugepages", atomically: false, encoding: .utf8)
        #expect((try? Self.number(dir + "/nr_hugepages")) == original, "pool restored")
    }

    /// A paused guest gets its `guest.paused.user` finding as `virtkit_finding` after a
    /// refresh, with the severity the rules give it; once resumed, a later refresh drops it.
    /// From its second scrape on, a guest's CPU time comes from its top cgroup's `cpu.stat`
    /// (the exporter no longer asks libvirt's cpu group for it): it lies between libvirt's
    /// own `cpu.time` read just before and just after the scrape, so the two sources are the
    /// same counter; user and system time are served too, and the guest is not stale.
    @Test func cpuTimeFromTheCgroupIsLibvirtsCounter() async throws {
        guard let conn = await LiveExporterTests.open() else { return }
        let dom = try await conn.createDomain(xml: TestGuest.xml(name: TestGuest.uniqueName("exporter-cpu")))
        let collector = HostCollector(uri: "qemu:///system", findingsInterval: nil)
        do {
            let uuid = HostCollector.key(dom.uuid)
            func sample() async -> DomainSample? {
                await collector.scrape(deadline: .now + .seconds(30)).domains.first { $0.metadata.uuid == uuid }
            }
            // The first scrapes locate the guest's cgroups (libvirt's cpu group meanwhile).
            #expect(await eventually(timeout: .seconds(20), every: .milliseconds(100)) {
                await sample()?.host?.cpu.contains { $0.cgroup == "top" } == true
            }, "the guest's cgroups were found")
            for _ in 0..<3 {
                let before = try #require(try await conn.domainStats([dom], groups: .cpuTotal).first?.cpu?.time)
                let s = try #require(await sample())
                let after = try #require(try await conn.domainStats([dom], groups: .cpuTotal).first?.cpu?.time)
                let served = try #require(s.stats.cpu?.time, "cpu time served")
                #expect(before <= served && served <= after, "libvirt \(before) ≤ served \(served) ≤ libvirt \(after)")
                #expect(s.stats.cpu?.user != nil && s.stats.cpu?.system != nil)
                #expect(!s.stale)
                try await Task.sleep(for: .milliseconds(200))
            }
        } catch {
            Issue.record(error)
        }
        await collector.shutdown()
        try? await dom.destroy()
        await conn.close()
    }

    @Test func findingsFollowAPausedGuest() async throws {
        guard let conn = await LiveExporterTests.open() else { return }
        let dom = try await conn.createDomain(xml: TestGuest.xml(name: TestGuest.uniqueName("exporter-finding")))
        let collector = HostCollector(uri: "qemu:///system", findingsInterval: .milliseconds(200), findingsWindow: .milliseconds(100))
        do {
            let uuid = HostCollector.key(dom.uuid)
            try await dom.suspend()
            func finding() async -> ParsedExposition.Sample? {
                let host = await collector.scrape(deadline: .now + .seconds(10))
                let text = String(decoding: ExpositionRenderer.render([host]), as: UTF8.self)
                return (try? ParsedExposition(text))?.values("virtkit_finding").first {
                    $0.labels["uuid"] == uuid && $0.labels["id"] == Finding.ID.guestPausedUser.rawValue
                }
            }
            var seen: ParsedExposition.Sample?
            #expect(await eventually(timeout: .seconds(60), every: .milliseconds(300)) {
                seen = await finding()
                return seen != nil
            }, "guest.paused.user exported")
            let direct = try await DiagnosisGatherer(connection: conn).pausedGuestFinding(dom)
            #expect(direct?.id == .guestPausedUser)
            #expect(seen?.labels["severity"] == direct?.severity.rawValue)
            #expect(seen?.labels["subject"] == "guest \(dom.name)")
            #expect(seen?.labels["domain"] == dom.name && seen?.value == 1)

            try await dom.resume()
            let runs = await collector.findingsRuns
            #expect(await eventually(timeout: .seconds(60), every: .milliseconds(300)) {
                let gone = await finding() == nil
                let now = await collector.findingsRuns
                return gone && now > runs
            }, "the finding leaves after the guest resumed")
        } catch {
            Issue.record(error)
        }
        await collector.shutdown()
        try? await dom.destroy()
        await conn.close()
    }

    // MARK: Kernel files, read here independently of CgroupControl and HostProbe

    static func qemuPID(_ name: String) -> Int32? {
        (try? String(contentsOfFile: "/run/libvirt/qemu/\(name).pid", encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// The process's cgroup directory for a v1 controller (`cpu`), or the unified one ("").
    static func cgroupDirectory(pid: Int32, controller: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard f.count == 3 else { continue }
            let controllers = f[1].split(separator: ",").map(String.init)
            if controller.isEmpty ? f[0] == "0" : controllers.contains(controller) {
                let path = String(f[2]).hasSuffix("/emulator") ? String(f[2].dropLast(9)) : String(f[2])
                for mount in controller.isEmpty ? ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] : ["/sys/fs/cgroup/\(controller)", "/sys/fs/cgroup/cpu,cpuacct"] {
                    if FileManager.default.fileExists(atPath: mount + path + "/cgroup.procs") { return mount + path }
                }
            }
        }
        return nil
    }

    static func keyed(_ file: String) throws -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        for line in try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 2, let v = UInt64(f[1]) { out[String(f[0])] = v }
        }
        return out
    }

    /// `some`/`full` → `total=` (µs) of a PSI file.
    /// The live host's steal, iowait and PSI series, scraped from `qemu:///system`, are
    /// positive where the kernel's are, never ahead of `/proc/stat` and `/proc/pressure/*`
    /// read here afterwards (USER_HZ ticks, µs), and promtool accepts the scrape.
    @Test func hostStealIOWaitAndPressureNeverRunAheadOfTheKernelFiles() async throws {
        guard let conn = await LiveExporterTests.open() else { return }
        await conn.close()
        let exporter = MetricsExporter(uris: ["qemu:///system"], findingsInterval: nil)
        let text = String(decoding: await exporter.metrics(), as: UTF8.self)
        await exporter.shutdown()
        let parsed = try ParsedExposition(text)
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        let cpu = try String(contentsOfFile: "/proc/stat", encoding: .utf8).split(separator: "\n")
            .first { $0.hasPrefix("cpu ") }.map { $0.split(separator: " ").dropFirst().compactMap { UInt64($0) } } ?? []
        try #require(cpu.count >= 8, "/proc/stat cpu line")
        for (family, ticks) in [("virtkit_host_cpu_iowait_seconds_total", cpu[4]), ("virtkit_host_cpu_steal_seconds_total", cpu[7])] {
            let v = try #require(parsed.values(family).first { $0.labels["host"] == "qemu:///system" }, "\(family)").value
            #expect(v >= 0 && v <= Double(ticks) / hz + 1e-9, "\(family): \(v) s vs kernel \(ticks) ticks")
            if ticks > 1_000 { #expect(v > 0, "\(family)") }
        }
        if FileManager.default.fileExists(atPath: "/proc/pressure/cpu") {
            for resource in ["cpu", "io", "memory"] {
                for (kind, total) in try Self.pressureTotals("/proc/pressure/" + resource) {
                    let v = try #require(parsed.values("virtkit_host_pressure_seconds_total").first {
                        $0.labels["resource"] == resource && $0.labels["kind"] == kind
                    }, "\(resource) \(kind)").value
                    #expect(v >= 0 && v <= Double(total) / 1e6 + 1e-9, "\(resource) \(kind): \(v) s vs kernel \(total) µs")
                }
            }
        } else {
            LiveEnvironment.unavailable("no /proc/pressure (kernel without PSI): host pressure not checked")
        }
        try promtoolAccepts(text)
    }

    static func pressureTotals(_ file: String) throws -> [(String, UInt64)] {
        try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            guard let kind = f.first, let t = f.first(where: { $0.hasPrefix("total=") }), let v = UInt64(t.dropFirst(6)) else { return nil }
            return (String(kind), v)
        }
    }

    static func number(_ file: String) throws -> UInt64 {
        guard let v = UInt64(try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return v
    }
}
}
