import CgroupControl
import Foundation

/// `virtkit-bench cgroup`: the full statistics of N guest cgroup trees (top, emulator,
/// vCPUs), read through CgroupControl from a generated fixture host (v2 with systemd, and
/// v1 without), against, in the same run:
///   - a raw floor: Foundation `Data(contentsOf:)` of exactly the same files, no parsing;
///   - python3 reading and parsing the same files (`open().read()` + split), timed inside
///     python (a typical monitoring agent).
/// Reads are counted through CgroupControl's reader and compared with the minimum: one
/// read per statistics file that exists.
/// Options: --guests N (100), --vcpus V (4), --iterations K (30), --python PATH (/usr/bin/python3).
enum CgroupBench {
    struct Options {
        var guests = 100
        var vcpus = 4
        var iterations = 30
        var python = "/usr/bin/python3"
    }

    static func run(arguments: [String]) async throws {
        var o = Options()
        var it = arguments.makeIterator()
        while let a = it.next() {
            switch a {
            case "--guests": o.guests = max(1, Int(it.next() ?? "") ?? o.guests)
            case "--vcpus": o.vcpus = max(1, Int(it.next() ?? "") ?? o.vcpus)
            case "--iterations": o.iterations = max(3, Int(it.next() ?? "") ?? o.iterations)
            case "--python": o.python = it.next() ?? o.python
            default: throw BenchError("unknown option \(a)")
            }
        }
        for flavour in [Flavour.v2Systemd, .v1] {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-cgbench-\(flavour)-\(getpid())").path
            defer { try? FileManager.default.removeItem(atPath: root) }
            let gen = try generate(flavour, root: root, guests: o.guests, vcpus: o.vcpus)
            try measure(flavour, root: root, gen: gen, o: o)
        }
    }

    enum Flavour: String { case v2Systemd = "v2-systemd", v1 = "v1" }

    struct Generated {
        var pids: [Int32]
        /// Every statistics file, per guest (the minimum reads).
        var statsFiles: [[String]]
    }

    static func measure(_ flavour: Flavour, root: String, gen: Generated, o: Options) throws {
        let counter = ReadCounter()
        let sys = try CgroupSystem.detectSync(root: root, counter: counter)
        counter.reset()   // layout detection is once per host, not per guest
        let t0 = DispatchTime.now().uptimeNanoseconds
        let trees = try gen.pids.map { try sys.guestSync(pid: $0) }
        let discoverNs = DispatchTime.now().uptimeNanoseconds - t0
        let discoverReads = counter.count
        counter.reset()

        // Passes alternate CgroupControl and the raw floor, so both see the same host load;
        // wall time and this thread's CPU time are both kept (CPU time is steadier on a busy host).
        let allFiles = gen.statsFiles.flatMap { $0 }.map { root + $0 }
        var ours: [Sample] = [], floor: [Sample] = []
        var checksum: UInt64 = 0
        var bytes = 0
        for _ in 0..<o.iterations {
            ours.append(try Sample.measure {
                for g in trees {
                    let s = try sys.guestStatsSync(g)
                    checksum &+= UInt64(s["top"]?.cpu?.usage?.components.seconds ?? 0)
                }
            })
            floor.append(try Sample.measure {
                bytes = 0
                for f in allFiles { bytes += (FileManager.default.contents(atPath: f)?.count ?? 0) }
            })
        }
        let readsPerGuest = Double(counter.count) / Double(o.iterations * gen.pids.count)
        let minimum = Double(gen.statsFiles.reduce(0) { $0 + $1.count }) / Double(gen.pids.count)
        let py = try pythonReference(files: allFiles, iterations: o.iterations, python: o.python)

        let mw = median(ours.map(\.wall)), mc = median(ours.map(\.cpu))
        let fw = median(floor.map(\.wall)), fc = median(floor.map(\.cpu))
        print("cgroup bench (\(flavour.rawValue)): \(gen.pids.count) guests × (top, emulator, \(o.vcpus) vCPUs), \(o.iterations) passes, checksum \(checksum)")
        print(String(format: "  discovery from QEMU PIDs: %.2f ms for all guests, %.1f reads/guest", Double(discoverNs) / 1e6,
                     Double(discoverReads) / Double(gen.pids.count)))
        print(String(format: "  CgroupControl typed stats: %.2f ms wall, %.2f ms CPU per pass (%.1f µs CPU/guest); %.2f reads/guest vs minimum %.2f (ratio %.2f)",
                     mw * 1e3, mc * 1e3, mc * 1e6 / Double(gen.pids.count), readsPerGuest, minimum, readsPerGuest / minimum))
        print(String(format: "  raw Foundation read of the same %d files (no parsing, %d bytes): %.2f ms wall, %.2f ms CPU → CgroupControl/raw = %.2f× wall, %.2f× CPU",
                     allFiles.count, bytes, fw * 1e3, fc * 1e3, mw / fw, mc / fc))
        if let py {
            print(String(format: "  python3 read+parse of the same files: %.2f ms wall, %.2f ms CPU → CgroupControl is %.2f× faster (wall), %.2f× (CPU)",
                         py.wall * 1e3, py.cpu * 1e3, py.wall / mw, py.cpu / mc))
        } else {
            print("  python3 reference: SKIPPED (\(o.python) not runnable)")
        }
        fflush(nil)
    }

    /// Wall and thread-CPU seconds of one pass.
    struct Sample {
        var wall: Double
        var cpu: Double
        static func measure(_ body: () throws -> Void) throws -> Sample {
            let w0 = DispatchTime.now().uptimeNanoseconds, c0 = threadCPU()
            try body()
            return Sample(wall: Double(DispatchTime.now().uptimeNanoseconds - w0) / 1e9, cpu: threadCPU() - c0)
        }
        static func threadCPU() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
    }

    /// Runs python3 over the same files; returns its median wall and CPU seconds per pass.
    static func pythonReference(files: [String], iterations: Int, python: String) throws -> Sample? {
        guard FileManager.default.isExecutableFile(atPath: python) else { return nil }
        let list = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-cgbench-files-\(getpid()).txt").path
        try files.joined(separator: "\n").write(toFile: list, atomically: true, encoding: .utf8)
        defer { unlink(list) }
        let script = """
        import sys, time
        files = open(sys.argv[1]).read().split("\\n")
        times = []
        cpus = []
        for _ in range(int(sys.argv[2])):
            t = time.perf_counter()
            c = time.thread_time()
            out = 0
            for f in files:
                with open(f) as fh:
                    for line in fh.read().splitlines():
                        parts = line.split()
                        if len(parts) >= 2 and parts[-1].isdigit():
                            out += int(parts[-1])
            times.append(time.perf_counter() - t)
            cpus.append(time.thread_time() - c)
        times.sort()
        cpus.sort()
        print(times[len(times) // 2], cpus[len(cpus) // 2])
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", script, list, String(iterations)]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        let f = String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }
        return f.count == 2 ? Sample(wall: f[0], cpu: f[1]) : nil
    }

    // MARK: fixture generation

    /// Plain open/write/close: Foundation's writers fsync, which makes generating thousands
    /// of files take minutes on a busy disk.
    static func write(_ root: String, _ path: String, _ text: String) throws {
        let full = root + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BenchError("cannot create \(full): errno \(errno)") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw BenchError("cannot write \(full): errno \(errno)")
        }
    }

    static func generate(_ flavour: Flavour, root: String, guests: Int, vcpus: Int) throws -> Generated {
        var gen = Generated(pids: [], statsFiles: [])
        let psi = "some avg10=0.12 avg60=0.50 avg300=0.10 total=123456\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=2345\n"
        switch flavour {
        case .v2Systemd:
            try write(root, "/proc/self/mountinfo", "30 25 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n")
            try write(root, "/proc/cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t0\t1\t1\n")
            try write(root, "/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n")
            for i in 0..<guests {
                let id = i + 1
                let top = LibvirtNaming.guestTopPath(id: id, name: "guest-\(i)", systemd: true)
                let base = "/sys/fs/cgroup" + top
                let pid = Int32(10_000 + i)
                try write(root, "/proc/\(pid)/cgroup", "0::\(top)/emulator\n")
                gen.pids.append(pid)
                var files: [String] = []
                let cpuStat = "usage_usec \(9_000_000 + i)\nuser_usec 6000000\nsystem_usec 3000000\nnr_periods 400\nnr_throttled 12\nthrottled_usec 800000\nnr_bursts 0\nburst_usec 0\n"
                for child in ["", "/emulator"] + (0..<vcpus).map({ "/vcpu\($0)" }) {
                    try write(root, base + child + "/cpu.stat", cpuStat)
                    try write(root, base + child + "/cpu.pressure", psi)
                    files += [base + child + "/cpu.stat", base + child + "/cpu.pressure"]
                }
                let topFiles: [(String, String)] = [
                    ("memory.current", "1073741824\n"), ("memory.swap.current", "0\n"),
                    ("memory.events", "low 0\nhigh 3\nmax 1\noom 1\noom_kill 1\noom_group_kill 0\n"),
                    ("memory.stat", (0..<40).map { "stat_key_\($0) \($0 * 4096)" }.joined(separator: "\n") + "\n"),
                    ("memory.pressure", psi), ("io.stat", "8:0 rbytes=26828800 wbytes=77062144 rios=2256 wios=7849 dbytes=0 dios=0\n"),
                    ("io.pressure", psi), ("pids.current", "37\n"),
                ]
                for (f, t) in topFiles { try write(root, base + "/" + f, t); files.append(base + "/" + f) }
                gen.statsFiles.append(files)
            }
        case .v1:
            var mi = ""
            for (n, c) in ["cpu,cpuacct", "cpuset", "memory", "blkio", "pids"].enumerated() {
                mi += "\(32 + n) 31 0:\(29 + n) / /sys/fs/cgroup/\(c) rw - cgroup cgroup rw,\(c)\n"
            }
            try write(root, "/proc/self/mountinfo", mi)
            try write(root, "/proc/cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t1\t1\n")
            for i in 0..<guests {
                let top = LibvirtNaming.guestTopPath(id: i + 1, name: "guest-\(i)", systemd: false)
                let pid = Int32(10_000 + i)
                try write(root, "/proc/\(pid)/cgroup", "5:pids:\(top)\n4:blkio:\(top)\n3:memory:\(top)\n2:cpuset:\(top)/emulator\n1:cpu,cpuacct:\(top)/emulator\n")
                gen.pids.append(pid)
                var files: [String] = []
                let cpu = "/sys/fs/cgroup/cpu,cpuacct" + top
                for child in ["", "/emulator"] + (0..<vcpus).map({ "/vcpu\($0)" }) {
                    try write(root, "/sys/fs/cgroup/cpuset" + top + child + "/cpuset.cpus", "0-3\n")
                    for (f, t) in [("cpu.stat", "nr_periods 400\nnr_throttled 12\nthrottled_time 800000000\nnr_bursts 0\nburst_time 0\n"),
                                   ("cpuacct.usage", "\(9_000_000_000 + i)\n"), ("cpuacct.stat", "user 600\nsystem 300\n"),
                                   ("cpuacct.usage_percpu", "1000 2000 3000 4000\n")] {
                        try write(root, cpu + child + "/" + f, t)
                        files.append(cpu + child + "/" + f)
                    }
                }
                for (dir, f, t) in [("memory", "memory.usage_in_bytes", "1073741824\n"), ("memory", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"),
                                    ("memory", "memory.stat", (0..<40).map { "stat_key_\($0) \($0 * 4096)" }.joined(separator: "\n") + "\n"),
                                    ("blkio", "blkio.throttle.io_service_bytes", "8:0 Read 100\n8:0 Write 200\n8:0 Total 300\nTotal 300\n"),
                                    ("blkio", "blkio.throttle.io_serviced", "8:0 Read 1\n8:0 Write 2\n8:0 Total 3\nTotal 3\n"),
                                    ("pids", "pids.current", "37\n")] {
                    let p = "/sys/fs/cgroup/\(dir)" + top + "/" + f
                    try write(root, p, t)
                    files.append(p)
                }
                gen.statsFiles.append(files)
            }
        }
        return gen
    }
}
