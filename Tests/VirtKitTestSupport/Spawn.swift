import Foundation
import Testing

/// Runs `exe args` and returns (status, stdout, stderr): posix_spawn + waitpid on the
/// calling thread. Not Foundation's `Process`: its exit monitoring (SIGCHLD) loses children
/// in a process that also runs libvirt's GLib event loop, and `waitUntilExit` then hangs.
public func spawnAndWait(_ exe: String, _ args: [String]) -> (Int32, String, String) {
    var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
    // Close-on-exec: a child spawned meanwhile by another test (say, a lab daemon that lives on)
    // must not inherit these write ends, or this read never sees end-of-file. The dup2 onto
    // 1 and 2 below gives our own child descriptors without the flag.
    // (Glibc's module lacks pipe2; the window between pipe and fcntl is a few instructions.)
    guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { return (-1, "", "pipe failed") }
    for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
    for fd in outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }
    let argv = ([exe] + args).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, exe, &actions, nil, argv, environ)
    close(outPipe[1]); close(errPipe[1])
    guard rc == 0 else { close(outPipe[0]); close(errPipe[0]); return (-1, "", "posix_spawn \(exe): \(rc)") }
    // Drain stderr on another thread so neither pipe can fill up and block the child.
    let errFD = errPipe[0]
    let errBox = ByteBox()
    let done = DispatchSemaphore(value: 0)
    Thread { errBox.bytes = readAll(errFD); done.signal() }.start()
    let outData = readAll(outPipe[0])
    done.wait()
    let errData = errBox.bytes
    close(outPipe[0]); close(errPipe[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return (exit, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

private func readAll(_ fd: Int32) -> [UInt8] {
    var data = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &buf, buf.count)
        if n > 0 { data += buf[0..<n] } else if n < 0 && errno == EINTR { continue } else { break }
    }
    return data
}

/// Bytes handed from the stderr reader thread. `@unchecked Sendable`: written by that
/// thread only, read after it signalled the semaphore.
private final class ByteBox: @unchecked Sendable { var bytes = [UInt8]() }

/// Writes `contents` to a fresh temporary `.xml` file, runs `exe` with the arguments
/// `arguments(path)` and removes the file again: for tools that take a document by path
/// (`virt-xml-validate FILE KIND`, `virsh define FILE`). nil when `exe` is not installed, after
/// a loud skip (a failure under VIRTKIT_REQUIRE_LIVE=1) naming `package`.
public func spawnOnTemporaryFile(_ contents: String, _ exe: String, package: String, arguments: (String) -> [String],
                                 sourceLocation: SourceLocation = #_sourceLocation) -> (Int32, String, String)? {
    guard FileManager.default.isExecutableFile(atPath: exe) else {
        LiveEnvironment.unavailable("\(exe) not installed (\(package))", sourceLocation: sourceLocation)
        return nil
    }
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).xml")
    defer { try? FileManager.default.removeItem(at: file) }
    do { try contents.write(to: file, atomically: true, encoding: .utf8) } catch { return (-1, "", "cannot write \(file.path): \(error)") }
    return spawnAndWait(exe, arguments(file.path))
}
