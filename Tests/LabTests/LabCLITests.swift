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
        let log = dir.appendingPathComponent("out.log").path

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let args: [String] = [cli, "lab", "status", "--script", script.path]
        let argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        #expect(posix_spawn(&pid, cli, &actions, nil, argv, environ) == 0)

        // The daemon sleeps 30 s; the CLI must be back long before.
        var status: Int32 = 0
        let deadline = ContinuousClock.now + .seconds(15)
        var exited = false
        while ContinuousClock.now < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { exited = true; break }
            usleep(50_000)
        }
        if !exited { kill(pid, SIGKILL); _ = waitpid(pid, &status, 0) }
        #expect(exited, "virtkit lab did not return while the script's daemon held its output")
        #expect(exited && (status & 0x7f) == 0 && (status >> 8) & 0xff == 0)
        #expect((try? String(contentsOfFile: log, encoding: .utf8))?.contains("fake lab status done") == true)
    }
}
