import Foundation
@testable import HostProbe
import Testing
import VirtCore
import VirtKitTestSupport

@Suite("libvirt 9.0.0 virhostcpudata conformance", .offCooperativePool)
struct LibvirtConformanceTests {
    /// `linux-x86_64-test1` → (arch `x86_64`, sysfs dir `linux-test1`), as virhostcputest pairs them.
    static func split(_ name: String) -> (arch: String, dir: String)? {
        for arch in ["x86_64", "aarch64", "armv6l", "ppc64", "ppc", "s390x"] where name.hasPrefix("linux-\(arch)-") {
            return (arch, "linux-" + name.dropFirst("linux-\(arch)-".count))
        }
        return nil
    }

    @Test func nodeInfoAgreesWithLibvirt() throws {
        guard let dir = LiveEnvironment.corpus("libvirt-9.0.0/virhostcpudata") else { return }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        let empty = makeTempDir("libvirt-root")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        var checked = 0
        for exp in files.filter({ $0.hasSuffix(".expected") }).sorted() {
            let name = String(exp.dropLast(".expected".count))
            guard let (arch, sysdir) = Self.split(name), files.contains(sysdir) else { continue }
            // Read the corpus in place: its folders appear at /sys/devices/system and /proc/cpuinfo.
            let root = ProbeRoot(path: empty, binds: [
                .init(virtualPath: "/sys/devices/system", hostPath: dir.appendingPathComponent(sysdir).path),
                .init(virtualPath: "/proc/cpuinfo", hostPath: dir.appendingPathComponent(name + ".cpuinfo").path),
            ])
            let snap = try HostProber(root: root).snapshotSync(sections: [.topology, .numa])
            let expected = try String(contentsOf: dir.appendingPathComponent(exp), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let mine = snap.hostNodeInfo?.description ?? "(no node info)"
            if arch == "x86_64" || arch == "aarch64" || arch == "armv6l" {
                checked += 1
                #expect(mine == expected, "\(name)")
            } else if mine != expected {
                let why = arch.hasPrefix("ppc")
                    ? "on POWER libvirt counts offline secondary SMT threads as online using threads-per-subcore from a KVM ioctl (mocked in its test), which a sysfs reader cannot know"
                    : "\(arch) is outside the x86/ARM scope"
                print("libvirt \(name) [\(arch)]: HostProbe '\(mine)' vs libvirt '\(expected)' — \(why)")
            }
        }
        #expect(checked >= 12, "x86/ARM cases checked: \(checked)")
    }

    /// libvirt's `virHostCPUGetStatsLinux` view of `/proc/stat`: kernel = system + irq +
    /// softirq, user = user + nice, idle, iowait — from HostProbe's parse of the same file.
    @Test func cpuStatParsingMatchesLibvirt() throws {
        guard let dir = LiveEnvironment.corpus("libvirt-9.0.0/virhostcpudata") else { return }
        let stat = try String(contentsOf: dir.appendingPathComponent("linux-cpustat-24cpu.stat"), encoding: .utf8)
        let out = try String(contentsOf: dir.appendingPathComponent("linux-cpustat-24cpu.out"), encoding: .utf8)
        let parsed = try ProcStat.parse(stat).get()
        var expected: [String: [String: UInt64]] = [:]
        var current = ""
        for line in out.split(separator: "\n") {
            if line.hasSuffix(":") { current = String(line.dropLast()); continue }
            let kv = line.split(separator: ":")
            if kv.count == 2, let v = UInt64(kv[1].trimmingCharacters(in: .whitespaces)) { expected[current, default: [:]][String(kv[0])] = v }
        }
        #expect(expected.count == 25)
        func view(_ t: CPUTimes) -> [String: UInt64] {
            ["kernel": t.system + t.irq + t.softirq, "user": t.user + t.nice, "idle": t.idle, "iowait": t.iowait]
        }
        #expect(view(parsed.total) == expected["cpu"])
        #expect(parsed.cpus.count == 24)
        for (id, t) in parsed.cpus { #expect(view(t) == expected["cpu\(id)"], "cpu\(id)") }
    }
}
