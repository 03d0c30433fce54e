import CgroupControl
import Foundation

/// `virtkit-bench mountinfo [--sizes 10000,100000,1000000] [--python PATH]`: time to turn a
/// mount table of N cgroup mounts into a `CgroupLayout` (`CgroupLayout.parse`), for two
/// shapes — N bind mounts of one hierarchy, and N distinct named hierarchies (the shape that
/// was quadratic) — against python3 splitting the same text into fields (the least any
/// parser does), in the same run. Reports seconds and the ratio; linear parsing keeps the
/// per-mount time flat as N grows.
enum MountinfoBench {
    static func run(arguments: [String]) async throws {
        var sizes = [10_000, 100_000, 1_000_000]
        var python = "/usr/bin/python3"
        var it = arguments.makeIterator()
        while let a = it.next() {
            switch a {
            case "--sizes": sizes = (it.next() ?? "").split(separator: ",").compactMap { Int($0) }
            case "--python": python = it.next() ?? python
            default: throw BenchError("unknown option \(a)")
            }
        }
        print("mountinfo: CgroupLayout.parse over N cgroup mounts; python3 str.split of the same lines as reference")
        print("  shape        N         VirtKit s   ns/mount   python3 s   VirtKit/python3")
        for shape in ["same-hierarchy", "distinct-named"] {
            for n in sizes {
                let text = table(n, distinct: shape == "distinct-named")
                let t0 = DispatchTime.now().uptimeNanoseconds
                let layout = try CgroupLayout.parse(mountinfo: text, mounts: nil, procCgroups: nil)
                let s = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                let py = pythonSplit(text, python: python)
                let ratio = py.map { String(format: "%.2f", s / $0) } ?? "-"
                print(String(format: "  %-14@ %-9d %9.3f %10.0f %11@ %@", shape as NSString, n, s, s / Double(n) * 1e9,
                             (py.map { String(format: "%.3f", $0) } ?? "-") as NSString, ratio as NSString)
                      + "   (\(layout.v1.count) v1 hierarchies)")
            }
        }
    }

    /// `N` cgroup v1 mount lines (plus a cgroup2 one) in mountinfo's format.
    static func table(_ n: Int, distinct: Bool) -> String {
        var lines: [String] = ["30 25 0:27 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw"]
        lines.reserveCapacity(n + 1)
        for i in 0..<n {
            let opts = distinct ? "rw,name=h\(i)" : "rw,cpu,cpuacct"
            lines.append("\(100 + i) 25 0:\(40 + i % 1000) / /sys/fs/cgroup/m\(i) rw,nosuid,nodev,noexec,relatime shared:\(i) - cgroup cgroup \(opts)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Seconds python3 takes to split the text's lines into fields, timed inside python.
    static func pythonSplit(_ text: String, python: String) -> Double? {
        guard FileManager.default.isExecutableFile(atPath: python) else { return nil }
        let file = NSTemporaryDirectory() + "virtkit-mountinfo-\(getpid()).txt"
        defer { try? FileManager.default.removeItem(atPath: file) }
        guard (try? text.write(toFile: file, atomically: false, encoding: .utf8)) != nil else { return nil }
        let script = "import sys,time\nt=open(sys.argv[1]).read()\ns=time.perf_counter()\nr=[l.split(' ') for l in t.split('\\n') if l]\nprint(time.perf_counter()-s)"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", script, file]
        let pipe = Pipe()
        p.standardOutput = pipe
        guard (try? p.run()) != nil else { return nil }
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Double(String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
