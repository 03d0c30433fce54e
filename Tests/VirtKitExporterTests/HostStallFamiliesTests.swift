import Foundation
import HostProbe
import Testing
import VirtKitTestSupport
@testable import VirtKitExporter

/// The host-level families read from this machine's files (steal, iowait, PSI, hugepage
/// pools) on a captured host tree: HostProbe's `2s4c2t-2n` fixture, materialised.
@Suite(.offCooperativePool) struct HostStallFamiliesTests {
    init() { DaemonSignals.setUp() }

    static let tree: String? = {
        let fixtures = LiveEnvironment.packageRoot().appendingPathComponent("Tests/HostProbeTests/Fixtures")
        let dest = NSTemporaryDirectory() + "virtkit-exporter-tree-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try FixtureTree.materialize("2s4c2t-2n", from: fixtures, into: dest)
            return dest
        } catch {
            Issue.record("cannot materialise 2s4c2t-2n: \(error)")
            return nil
        }
    }()

    /// The tree's `/proc/stat` steal 678 and iowait 345 ticks and its PSI totals come back
    /// as seconds, every pressure series with its resource and kind; node 0's and node 1's
    /// hugepage pools as pages × page size; promtool accepts the exposition.
    @Test func stealIOWaitPressureAndPoolsOfATreeAreExportedInSeconds() async throws {
        let root = try #require(Self.tree)
        let (uri, path) = try TestFleet.write(count: 2, tag: "stall")
        defer { unlink(path) }
        let collector = HostCollector(uri: uri, readsHostFiles: true, findingsInterval: nil, hostRoot: ProbeRoot(path: root))
        let scrape = await collector.scrape(deadline: .now + .seconds(600))
        await collector.shutdown()
        let text = String(decoding: ExpositionRenderer.render([scrape]), as: UTF8.self)
        let parsed = try ParsedExposition(text)

        // Independently: USER_HZ of this machine, as HostProbe converts the ticks.
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        let steal = try #require(parsed.values("virtkit_host_cpu_steal_seconds_total").first)
        let iowait = try #require(parsed.values("virtkit_host_cpu_iowait_seconds_total").first)
        #expect(abs(steal.value - 678 / hz) < 1e-9 && steal.labels == ["host": uri])
        #expect(abs(iowait.value - 345 / hz) < 1e-9)
        #expect(parsed.types["virtkit_host_cpu_steal_seconds_total"] == "counter")
        #expect(parsed.types["virtkit_host_pressure_seconds_total"] == "counter")

        var psi: [String: Double] = [:]
        for s in parsed.values("virtkit_host_pressure_seconds_total") {
            psi["\(s.labels["resource"] ?? "?")/\(s.labels["kind"] ?? "?")"] = s.value
        }
        #expect(psi == ["cpu/some": 1.5, "cpu/full": 0, "io/some": 2.25, "io/full": 1.25,
                        "memory/some": 0.012345, "memory/full": 0.006789])

        var pools: [String: Double] = [:]
        for s in parsed.values("virtkit_host_hugepages_bytes") {
            pools["\(s.labels["node"] ?? "?")/\(s.labels["page_size"] ?? "?")"] = s.value
        }
        #expect(pools == ["0/2097152": 512 * 2_097_152, "0/1073741824": 2 * 1_073_741_824,
                          "1/2097152": 256 * 2_097_152, "1/1073741824": 0])
        try promtoolAccepts(text)
    }

    /// A host whose files are not read (a remote URI) has none of these families: absent,
    /// not 0.
    @Test func remoteHostsHaveNoHostFileFamilies() async throws {
        let (uri, path) = try TestFleet.write(count: 1, tag: "stall-remote")
        defer { unlink(path) }
        let collector = HostCollector(uri: uri, readsHostFiles: false, findingsInterval: nil)
        let scrape = await collector.scrape(deadline: .now + .seconds(600))
        await collector.shutdown()
        let parsed = try ParsedExposition(String(decoding: ExpositionRenderer.render([scrape]), as: UTF8.self))
        #expect(parsed.values("libvirt_up").map(\.value) == [1])
        for family in ["virtkit_host_cpu_steal_seconds_total", "virtkit_host_cpu_iowait_seconds_total",
                       "virtkit_host_pressure_seconds_total", "virtkit_host_hugepages_bytes"] {
            #expect(parsed.values(family).isEmpty, "\(family)")
        }
    }
}
