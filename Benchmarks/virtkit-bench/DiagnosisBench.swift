import Foundation
import Libvirt
import Tuning
import VirtKitTestSupport

/// `diagnosis`: the cost of `virtkit advise` without its sampling window.
///
///   (a) a test-driver fleet of N guests (2 vCPUs pinned, virtio disk and NIC, VNC, agent, …)
///       on a HostProbe fixture host (2 sockets, 2 nodes): gather (list, definitions, host
///       snapshot) + every rule, in-process; then the rules alone.
///   (b) the CPU the sampling window costs on the live host (qemu:///system): process CPU
///       time during `gather` with a window, as a share of one CPU over the window.
///   Reference in the same run: python3-libvirt fetching and parsing the same N definitions
///   (the least a Python advisor has to do before running any rule).
///
/// Options: --guests N (100), --rounds R (20), --window S (2), --windows W (3), --skip-live,
///          --python PATH (/usr/bin/python3), --no-reference.
enum DiagnosisBench {
    static func run(arguments: [String]) async throws {
        var guests = 100, rounds = 20, window = 2.0, windows = 3, skipLive = false, reference = true
        var python = "/usr/bin/python3"
        var it = arguments.makeIterator()
        while let a = it.next() {
            switch a {
            case "--guests": guests = Int(it.next() ?? "") ?? guests
            case "--rounds": rounds = max(1, Int(it.next() ?? "") ?? rounds)
            case "--window": window = Double(it.next() ?? "") ?? window
            case "--windows": windows = max(1, Int(it.next() ?? "") ?? windows)
            case "--skip-live": skipLive = true
            case "--no-reference": reference = false
            case "--python": python = it.next() ?? python
            default: throw BenchError("unknown option \(a)")
            }
        }

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-bench-diagnosis-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fleet = dir.appendingPathComponent("node.xml").path
        try fleetXML(guests).write(toFile: fleet, atomically: true, encoding: .utf8)
        let trees = LiveEnvironment.packageRoot(from: #filePath).appendingPathComponent("Tests/HostProbeTests/Fixtures")
        let root = dir.appendingPathComponent("host").path
        try FixtureTree.materialize("2s4c2t-2n", from: trees, into: root)

        print("diagnosis (a): \(guests) test-driver guests on fixture host 2s4c2t-2n, \(rounds) rounds")
        let conn = try await Connection.open("test://\(fleet)")
        var total: [Double] = [], rules: [Double] = []
        var findings = 0
        for _ in 0..<rounds {
            let t0 = ContinuousClock.now
            let input = try await DiagnosisGatherer(connection: conn, root: root).gather()
            let t1 = ContinuousClock.now
            let report = Diagnoser().diagnose(input)
            let t2 = ContinuousClock.now
            guard input.guests.count == guests else { throw BenchError("gathered \(input.guests.count) guests, expected \(guests)") }
            findings = report.findings.count
            total.append((t2 - t0).inMilliseconds)
            rules.append((t2 - t1).inMilliseconds)
        }
        await conn.close()
        let medTotal = median(total), medRules = median(rules)
        print(String(format: "  gather + diagnose: median %.1f ms (min %.1f, max %.1f); rules alone: median %.2f ms; %d findings",
                     medTotal, total.min() ?? 0, total.max() ?? 0, medRules, findings))
        print(String(format: "  target < 100 ms: %@", medTotal < 100 ? "met" : "MISSED"))

        if reference, FileManager.default.isExecutableFile(atPath: python) {
            let script = """
            import libvirt, time, xml.etree.ElementTree as ET, statistics
            c = libvirt.openReadOnly('test://\(fleet)')
            ts = []
            for _ in range(\(rounds)):
                t = time.perf_counter()
                n = 0
                for d in c.listAllDomains():
                    e = ET.fromstring(d.XMLDesc(0))
                    n += int(e.find('vcpu').text) + len(e.findall('devices/disk')) + len(e.findall('cputune/vcpupin'))
                ts.append((time.perf_counter() - t) * 1000)
            print('%.2f' % statistics.median(ts))
            """
            let (rc, out, err) = spawnAndWait(python, ["-c", script])
            if rc == 0, let ms = Double(out.trimmingCharacters(in: .whitespacesAndNewlines)) {
                print(String(format: "  reference python3-libvirt (list + XMLDesc + ElementTree, no rules): median %.1f ms; VirtKit full diagnosis / reference = %.2f",
                             ms, medTotal / ms))
            } else {
                print("  reference skipped: \(err.split(separator: "\n").last ?? "python3-libvirt unavailable")")
            }
        }

        guard !skipLive else { return }
        print("diagnosis (b): sampling cost on qemu:///system, \(windows) windows of \(window) s")
        let live: Connection
        do { live = try await Connection.open("qemu:///system", readOnly: true) } catch {
            print("  skipped: qemu:///system unreachable (\(error))")
            return
        }
        let gatherer = DiagnosisGatherer(connection: live, window: .milliseconds(Int64(window * 1000)))
        // Configuration-only gather, to subtract what the window does not add.
        let c0 = processCPUSeconds()
        _ = try await DiagnosisGatherer(connection: live).gather()
        let configOnly = processCPUSeconds() - c0
        var shares: [Double] = []
        var count = 0
        for _ in 0..<windows {
            let cpu0 = processCPUSeconds()
            let w0 = ContinuousClock.now
            let input = try await gatherer.gather()
            let wall = (ContinuousClock.now - w0).inSeconds
            let cpu = max(processCPUSeconds() - cpu0 - configOnly, 0)
            count = input.guests.count
            shares.append(cpu / wall * 100)
        }
        await live.close()
        print(String(format: "  %d guests; sampling CPU: median %.3f %% of one CPU over the window (config-only gather %.1f ms CPU); target < 1 %%: %@",
                     count, median(shares), configOnly * 1000, median(shares) < 1 ? "met" : "MISSED"))
    }

    /// A test-driver node whose guests look like production ones: 2 vCPUs and memory bound to
    /// one of the fixture host's two nodes, 4 GiB, a virtio disk and NIC, VNC with virtio video, the agent channel. Every
    /// fifth is paused, every seventh shut off.
    static func fleetXML(_ n: Int) -> String {
        var xml = "<node>\n<cpu><mhz>2400</mhz><model>x86_64</model><active>16</active><nodes>2</nodes><sockets>2</sockets><cores>4</cores><threads>2</threads></cpu>\n<memory>33554432</memory>\n"
        for i in 0..<n {
            let state = i % 5 == 4 ? 3 : i % 7 == 6 ? 5 : 1
            let node = i % 2 == 0 ? "0-3,8-11" : "4-7,12-15"
            xml += """
            <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'><name>diag-\(i)</name>
            <memory unit='GiB'>4</memory><vcpu placement='static'>2</vcpu>
            <cputune><vcpupin vcpu='0' cpuset='\(node)'/><vcpupin vcpu='1' cpuset='\(node)'/><emulatorpin cpuset='\(node)'/></cputune>
            <numatune><memory mode='strict' nodeset='\(i % 2)'/></numatune>
            <os><type>hvm</type></os>
            <devices>
            <disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none'/><source file='/var/lib/libvirt/images/diag-\(i).qcow2'/><target dev='vda' bus='virtio'/></disk>
            <interface type='network'><source network='default'/><model type='virtio'/></interface>
            <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
            <graphics type='vnc' port='-1'/><video><model type='virtio'/></video>
            <watchdog model='i6300esb' action='reset'/><memballoon model='virtio'/>
            </devices><test:runstate>\(state)</test:runstate></domain>

            """
        }
        return xml + "</node>\n"
    }
}
