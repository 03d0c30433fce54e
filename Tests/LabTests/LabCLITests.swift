import Foundation
import Testing
import VirtKitTestSupport

/// `virtkit lab …` with its output in a file: the CLI must return when the script ends, even
/// though the script left a background daemon holding the CLI's stdout (as `lab.sh up` does).
@Suite struct LabCLITests {
    @Test func labCommandReturnsWhileTheScriptsDaemonKeepsStdoutOpen() throws {
        let root = LiveEnvironment.packageRoot(from: #filePath)
        let cli = root.appendingPathComponent(".build/debug/virtkit").path
        guard FileManager.default.isExecutableFile(atPath: cli) else {
            LiveEnvironment.unavailable("no built CLI at \(cli) (swift build first)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vk-labcli-\(getpid())-\(Int.random(in: 0...1_000_000))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("fake-lab.sh")
        // A "daemon" that outlives the script and keeps its stdout and stderr.
        try "#!/bin/bash\n( exec sleep 30 ) &\necho \"fake lab $1 done\"\n".write(to: script, atomically: true, encoding: .utf8)
        // BackgroundProcess puts the CLI's output in a log file, where `lab up > log` hung.
        let process = try BackgroundProcess(cli, ["lab", "status", "--script", script.path], tag: "labcli")
        // The daemon sleeps 30 s; the CLI must be back long before.
        let status = process.waitForExit(within: .seconds(15))
        if status == nil { process.stop(grace: .zero) }
        #expect(status != nil, "virtkit lab did not return while the script's daemon held its output")
        #expect(status == 0)
        #expect(process.log.contains("fake lab status done"))
    }
}
