import ArgumentParser
import Foundation
import VirtCore

/// `virtkit lab up|down|status`: the two-host lab (Scripts/lab.sh does the work; this
/// finds the script and passes the arguments through).
struct LabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Start, stop or describe the two-host lab (host B in its own namespace, nbdkit disks).")

    @Argument(help: "up | down | status | restart-b | fail eio|enospc | repair eio|enospc")
    var action: String
    @Argument(help: "Argument of fail/repair.")
    var disk: String?
    @OptionGroup var output: OutputOptions
    @Option(name: .long, help: "Path of lab.sh (default: $VIRTKIT_LAB_SCRIPT, else Scripts/lab.sh next to the package).")
    var script: String?

    func validate() throws {
        guard ["up", "down", "status", "restart-b", "fail", "repair"].contains(action) else {
            throw ValidationError("unknown action '\(action)' (up, down, status, restart-b, fail, repair)")
        }
    }

    func run() async throws {
        let path = try findScript()
        var args = [path, action]
        if let disk { args.append(disk) }
        if output.json { args.append("--json") }
        let argv = args
        // The script is the one implementation; it runs with our stdio, and we wait for it on
        // a blocking-pool thread (waitpid), off the cooperative pool.
        let status = try await BlockingThreadPool.fileIO.run { spawnInheritingStdio("/bin/bash", argv) }
        if status != 0 { throw ExitCode(status) }
    }

    private func findScript() throws -> String {
        let fm = FileManager.default
        var candidates: [String] = []
        if let script { candidates.append(script) }
        if let env = ProcessInfo.processInfo.environment["VIRTKIT_LAB_SCRIPT"] { candidates.append(env) }
        candidates.append(fm.currentDirectoryPath + "/Scripts/lab.sh")
        // The executable lives in <package>/.build*/…/debug: walk up to the package.
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while url.path != "/" {
            candidates.append(url.appendingPathComponent("Scripts/lab.sh").path)
            url.deleteLastPathComponent()
        }
        guard let found = candidates.first(where: { fm.isExecutableFile(atPath: $0) || fm.fileExists(atPath: $0) }) else {
            throw CLIError("can't find Scripts/lab.sh; pass --script PATH or set VIRTKIT_LAB_SCRIPT")
        }
        return found
    }
}

/// Runs `exe` with this process's stdin/stdout/stderr and returns its exit status
/// (posix_spawn + waitpid). Not Foundation's `Process`: its exit monitoring never saw
/// lab.sh end once the script had started background daemons, so `virtkit lab up > log`
/// hung after the lab was up.
func spawnInheritingStdio(_ exe: String, _ args: [String]) -> Int32 {
    let argv = ([exe] + args).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, exe, nil, nil, argv, environ) == 0 else { return 127 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        if errno != EINTR { return 127 }
    }
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}
