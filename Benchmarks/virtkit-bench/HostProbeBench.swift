import Foundation
import HostProbe

/// `virtkit-bench hostprobe [--reps N] [--sample-seconds S] [--corpus DIR]`
///
/// 1. Whole process, same run: `virtkit probe --root <256ia64-64n2s2c> --json` against
///    `lstopo-no-graphics --of console` with `HWLOC_FSROOT` on the same extracted tree.
/// 2. In-process: a full probe of the live host, and of the same tree.
/// 3. CPU cost of `sample(every: 1 s)` measured with the process CPU clock over S seconds.
enum HostProbeBench {
    static func run(arguments: [String]) async throws {
        var reps = 20
        var sampleSeconds = 10
        var corpus = ProcessInfo.processInfo.environment["VIRTKIT_CORPUS"] ?? "../shared/corpus"
        var i = 0
        while i < arguments.count {
            switch arguments[i] {
            case "--reps": reps = Int(arguments[i + 1]) ?? reps; i += 1
            case "--sample-seconds": sampleSeconds = Int(arguments[i + 1]) ?? sampleSeconds; i += 1
            case "--corpus": corpus = arguments[i + 1]; i += 1
            default: break
            }
            i += 1
        }
        let onlyInProcess = arguments.contains("--in-process")
        let archive = corpus + "/hwloc-2.9.0/linux/256ia64-64n2s2c.tar.bz2"
        guard FileManager.default.fileExists(atPath: archive) else {
            print("hostprobe: \(archive) not found (set VIRTKIT_CORPUS)")
            exit(2)
        }
        let tmp = NSTemporaryDirectory() + "virtkit-bench-hostprobe-\(getpid())"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        guard runQuiet("/usr/bin/tar", ["-xjf", archive, "-C", tmp]) == 0 else { print("hostprobe: tar failed"); exit(1) }
        let tree = tmp + "/256ia64-64n2s2c"

        // 1. Whole process.
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("virtkit").path
        let lstopo = ["/usr/bin/lstopo-no-graphics", "/usr/local/bin/lstopo-no-graphics"].first { FileManager.default.isExecutableFile(atPath: $0) }
        print("hostprobe: whole process on 256ia64-64n2s2c (256 CPUs, 64 nodes), \(reps) repetitions each, interleaved")
        if !onlyInProcess, FileManager.default.isExecutableFile(atPath: exe), let lstopo {
            var ours: [Double] = [], theirs: [Double] = []
            _ = timed(exe, ["probe", "--root", tree, "--json"], [:])
            _ = timed(lstopo, ["--of", "console"], ["HWLOC_FSROOT": tree])
            for _ in 0..<reps {
                ours.append(timed(exe, ["probe", "--root", tree, "--json"], [:]))
                theirs.append(timed(lstopo, ["--of", "console"], ["HWLOC_FSROOT": tree]))
            }
            let empty = (0..<reps).map { _ in timed(exe, ["--help"], [:]) }
            report("virtkit probe --json", ours)
            report("lstopo-no-graphics", theirs)
            report("virtkit --help (startup only)", empty)
            print(String(format: "  ratio lstopo/virtkit (median): %.2fx %@", median(theirs) / median(ours),
                         median(theirs) / median(ours) >= 10 ? "(goal ≥10x met)" : "(goal ≥10x NOT met)"))
            print(String(format: "  ratio lstopo/virtkit (min): %.2fx", (theirs.min() ?? .nan) / (ours.min() ?? .nan)))
            // What the probe adds to virtkit's own start (dynamic loading of libvirt's ~57
            // shared objects, runtime and ArgumentParser set-up), next to lstopo's whole run.
            print(String(format: "  virtkit probe minus virtkit --help (medians): %.2f ms, vs lstopo whole process %.2f ms",
                         median(ours) - median(empty), median(theirs)))
        } else {
            print("  skipped: virtkit (\(exe)) or lstopo-no-graphics not found")
        }

        // 2. In-process.
        let treeProbe = HostProber(rootPath: tree)
        var treeTimes: [Double] = []
        var liveTimes: [Double] = []
        _ = clock { _ = try? HostProber().snapshotSync() }  // warm-up
        for _ in 0..<reps {
            treeTimes.append(clock { _ = try? treeProbe.snapshotSync() })
            liveTimes.append(clock { _ = try? HostProber().snapshotSync() })
        }
        print("hostprobe: in-process")
        report("full probe of 256ia64-64n2s2c", treeTimes)
        let snap = try? await treeProbe.snapshot()
        for (name, fmt) in [("JSON encode, pretty+sorted (CLI)", JSONEncoder.OutputFormatting([.prettyPrinted, .sortedKeys])),
                            ("JSON encode, compact", JSONEncoder.OutputFormatting())] {
            let enc = JSONEncoder()
            enc.outputFormatting = fmt
            report("  " + name, (0..<max(reps / 4, 3)).map { _ in clock { _ = try? enc.encode(snap) } })
        }
        for section in ProbeSection.allCases {
            report("  section \(section.rawValue)", (0..<max(reps / 4, 3)).map { _ in clock { _ = try? treeProbe.snapshotSync(sections: [section]) } })
        }
        report("full probe of the live host", liveTimes)

        // 3. sample at 1 Hz.
        print("hostprobe: CPU cost of sample(every: 1 s) over \(sampleSeconds) s (process CPU clock, whole process)")
        let before = processCPUSeconds()
        let wallStart = Date()
        var n = 0
        for await _ in HostProber().sample(every: .seconds(1)) {
            n += 1
            if n >= sampleSeconds { break }
        }
        let cpu = processCPUSeconds() - before
        let wall = Date().timeIntervalSince(wallStart)
        print(String(format: "  %d samples in %.1f s wall: %.2f ms CPU total, %.3f ms CPU per sample, %.4f%% of one CPU",
                     n, wall, cpu * 1000, cpu * 1000 / Double(max(n, 1)), cpu / wall * 100))
    }

    static func runQuiet(_ path: String, _ args: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        do { try p.run() } catch { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// Wall milliseconds of one run, output discarded.
    static func timed(_ path: String, _ args: [String], _ env: [String: String]) -> Double {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        let t = DispatchTime.now().uptimeNanoseconds
        do { try p.run() } catch { return .nan }
        p.waitUntilExit()
        return Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6
    }

    static func clock(_ body: () -> Void) -> Double {
        let t = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6
    }

    static func report(_ what: String, _ xs: [Double]) {
        let s = xs.sorted()
        print(String(format: "  %-34@ median %8.3f ms  min %8.3f ms  max %8.3f ms", what as NSString, median(s), s.first ?? .nan, s.last ?? .nan))
    }
}
