import ArgumentParser
import Foundation
import HostProbe

/// `virtkit sample`: live host rates, one line per interval.
struct SampleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Print live CPU, scheduler, memory, pressure and TCP rates every interval."
    )

    @Option(name: .long, help: "Seconds between samples (fractions allowed).")
    var interval: Double = 1
    @Option(name: .long, help: "Number of samples (0 = until interrupted).")
    var count: Int = 5
    @Option(name: .long, help: "Also report each thread of this process (e.g. a QEMU PID). Repeatable.")
    var pid: [Int] = []
    @Flag(name: .long, help: "Include per-CPU usage in the text output.")
    var perCPU = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard interval >= 0.01, interval <= 3600 else { throw ValidationError("--interval must be between 0.01 and 3600 seconds") }
        guard count >= 0 else { throw ValidationError("--count must be ≥ 0") }
    }

    func run() async throws {
        var n = 0
        if !output.json {
            print("   busy   usr   sys  iowt steal |   cs/s  intr/s | run blk |  flt/s swpin swpout | psi cpu  mem   io | retx/s")
        }
        for await s in HostProber().sample(every: .milliseconds(Int(interval * 1000)), processes: pid) {
            if output.json {
                try printJSONLine(s)
            } else {
                print(Self.line(s))
                if perCPU {
                    for c in s.perCPU { print(String(format: "   cpu%-3d %5.1f%% usr %5.1f sys %5.1f iowait %5.1f steal %5.1f", c.cpu ?? -1, c.busy, c.user, c.system, c.iowait, c.steal)) }
                }
                for t in s.threads {
                    print(terminalSafe(String(format: "   %6d/%-7d %-16@ %@ cpu%3@ %5.1f%% vcs/s %7.1f ivcs/s %7.1f rq-wait %7.2f ms/s",
                                 t.pid, t.tid, t.name as NSString, t.state as NSString, (t.processor.map { String($0) } ?? "?") as NSString,
                                 t.cpuPercent, t.voluntarySwitchesPerSecond ?? 0, t.involuntarySwitchesPerSecond ?? 0, t.runQueueWaitMsPerSecond ?? 0)))
                }
                for d in s.diagnostics { print(terminalSafe("   ! \(d)")) }
            }
            n += 1
            if count > 0, n >= count { break }
        }
    }

    static func line(_ s: RateSample) -> String {
        let t = s.total
        func f(_ v: Double?, _ w: Int, _ p: Int = 1) -> String {
            guard let v else { return String(repeating: " ", count: w - 1) + "-" }
            return String(format: "%\(w).\(p)f", v)
        }
        let psi = ["cpu", "memory", "io"].map { f(s.pressure[$0]?.somePercent, 4) }.joined(separator: " ")
        return "\(f(t?.busy, 6))% \(f(t?.user, 5)) \(f(t?.system, 5)) \(f(t?.iowait, 5)) \(f(t?.steal, 5)) | \(f(s.contextSwitchesPerSecond, 6, 0)) \(f(s.interruptsPerSecond, 7, 0)) | \(String(format: "%3d %3d", s.running ?? -1, s.blocked ?? -1)) | \(f(s.pageFaultsPerSecond, 6, 0)) \(f(s.swapInPagesPerSecond, 5, 0)) \(f(s.swapOutPagesPerSecond, 6, 0)) |    \(psi) | \(f(s.tcpRetransmitsPerSecond, 6, 1))"
    }
}
