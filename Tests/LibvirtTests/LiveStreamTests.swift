import Foundation
@testable import Libvirt
import Testing
import VirtCore
import VirtKitTestSupport

/// Streams against the real `qemu:///system`: volume upload and download in a `dir` pool made
/// through VirtKit under a temporary directory (byte-for-byte, sparse, ranges, bad input),
/// the serial console of a guest that echoes (`Scripts/lab-boot/echo.S`), 20 consoles open
/// at once on a 2-thread pool, and a VNC guest's screenshot. Guests are transient and named
/// `virtkit-test-<tag>-<pid>-<rand>`; pools and files are removed whatever happens.
@Suite(.serialized) struct LiveStreamTests {
    static let uri = "qemu:///system"

    static func connect(pool: BlockingThreadPool = .libvirt, sourceLocation: SourceLocation = #_sourceLocation) async -> Connection? {
        guard getuid() == 0 else {
            LiveEnvironment.unavailable("live stream tests need root (a pool directory and the echo image)", sourceLocation: sourceLocation)
            return nil
        }
        do {
            let conn = try await Connection.open(uri, pool: pool)
            await LiveQEMUTests.sweepStaleGuests(conn)
            return conn
        } catch {
            LiveEnvironment.unavailable("cannot open \(uri): \(error) (run Scripts/start-libvirt.sh)", sourceLocation: sourceLocation)
            return nil
        }
    }

    // MARK: Volumes

    /// A transient `dir` pool over a fresh directory; destroyed and removed afterwards.
    static func withDirPool(_ conn: Connection, _ body: (StoragePool, String) async throws -> Void) async throws {
        let dir = "/var/tmp/virtkit-streams-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let name = URL(fileURLWithPath: dir).lastPathComponent
        let pool = try await conn.createStoragePool(xml: """
            <pool type='dir'><name>\(name)</name><target><path>\(dir)</path></target></pool>
            """)
        var failure: Error?
        do { try await body(pool, dir) } catch { failure = error }
        for v in (try? await pool.listAllVolumes()) ?? [] { try? await v.delete() }
        try? await pool.destroy()
        if let failure { throw failure }
    }

    /// Deterministic pseudo-random bytes (SplitMix64), so a mismatch is reproducible.
    static func pattern(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { buf in
            var i = 0
            while i < count {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                withUnsafeBytes(of: z) { word in
                    for b in word where i < count { buf[i] = b; i += 1 }
                }
            }
        }
        return out
    }

    static func tempFile(_ tag: String) -> String {
        "/var/tmp/vk-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    static func contents(_ path: String) -> [UInt8]? { FileManager.default.contents(atPath: path).map(Array.init) }

    @Test(.timeLimit(.minutes(5)))
    func volumeUploadAndDownloadRoundTripByteForByte() async throws {
        guard let conn = await Self.connect() else { return }
        defer { Task { await conn.close() } }
        try await Self.withDirPool(conn) { pool, dir in
            let size = 48 << 20  // several hundred chunks, with a partial last one
            let data = Self.pattern(size - 12_345, seed: 13)
            let source = Self.tempFile("src"), back = Self.tempFile("back")
            defer { for f in [source, back] { try? FileManager.default.removeItem(atPath: f) } }
            FileManager.default.createFile(atPath: source, contents: Data(data))
            let vol = try await pool.createVolume(xml: "<volume><name>data.raw</name><capacity>\(size)</capacity><target><format type='raw'/></target></volume>")
            #expect(try await vol.path() == "\(dir)/data.raw")

            // Event-driven upload and download (the defaults), with progress.
            let seen = ProgressBox()
            #expect(try await vol.upload(fromFile: source, progress: { seen.record($0) }) == UInt64(data.count))
            #expect(seen.last == UInt64(data.count) && seen.monotonic)
            #expect(Self.contents("\(dir)/data.raw").map { Array($0.prefix(data.count)) } == data, "the volume holds the uploaded bytes")
            #expect(try await vol.download(toFile: back, length: UInt64(data.count)) == UInt64(data.count))
            #expect(Self.contents(back) == data, "downloaded bytes equal uploaded bytes")

            // The same through one blocking pool thread (virStreamSendAll / RecvAll).
            let other = Self.pattern(data.count, seed: 99)
            FileManager.default.createFile(atPath: source, contents: Data(other))
            #expect(try await vol.upload(fromFile: source, mode: .blockingThread) == UInt64(other.count))
            #expect(try await vol.download(toFile: back, length: UInt64(other.count), mode: .blockingThread) == UInt64(other.count))
            #expect(Self.contents(back) == other)

            // A range: offset and length.
            let st = try await vol.download(offset: 1_000_000, length: 70_000)
            #expect(try await st.readAll() == Array(other[1_000_000..<1_070_000]))

            // A chunk-by-chunk upload at an offset through the stream itself.
            let up = try await vol.upload(offset: 4096, length: 10)
            try await up.write(Array("0123456789".utf8))
            try await up.finish()
            let check = try await vol.download(offset: 4090, length: 20)
            #expect(try await check.readAll() == Array(other[4090..<4096]) + Array("0123456789".utf8) + Array(other[4106..<4110]))
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func sparseTransfersKeepHoles() async throws {
        guard let conn = await Self.connect() else { return }
        defer { Task { await conn.close() } }
        try await Self.withDirPool(conn) { pool, dir in
            let size = 32 << 20
            // A sparse source: data at 0, 8 MiB and in the last 64 KiB; holes elsewhere.
            let source = Self.tempFile("sparse"), back = Self.tempFile("sparse-back")
            defer { for f in [source, back] { try? FileManager.default.removeItem(atPath: f) } }
            let fd = open(source, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            try #require(fd >= 0)
            let pieces: [(Int, [UInt8])] = [(0, Self.pattern(100_000, seed: 1)), (8 << 20, Self.pattern(300_000, seed: 2)),
                                            (size - 65_536, Self.pattern(65_536, seed: 3))]
            for (at, bytes) in pieces { _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, bytes.count, off_t(at)) } }
            close(fd)
            var expected = [UInt8](repeating: 0, count: size)
            for (at, bytes) in pieces { expected.replaceSubrange(at..<(at + bytes.count), with: bytes) }

            let vol = try await pool.createVolume(xml: "<volume><name>sparse.raw</name><capacity>\(size)</capacity><allocation>0</allocation><target><format type='raw'/></target></volume>")
            for mode in [StreamTransferMode.eventDriven, .blockingThread] {
                #expect(try await vol.upload(fromFile: source, sparse: true, mode: mode) == UInt64(size))
                #expect(try await vol.download(toFile: back, sparse: true, mode: mode) == UInt64(size))
                #expect(Self.contents(back) == expected, "\(mode): same bytes, holes read as zeros")
                var st = stat()
                #expect(stat(back, &st) == 0)
                #expect(Int(st.st_blocks) * 512 < size / 2, "\(mode): the downloaded file kept its holes (\(st.st_blocks * 512) bytes allocated)")
                #expect(stat("\(dir)/sparse.raw", &st) == 0)
                #expect(Int(st.st_blocks) * 512 < size / 2, "\(mode): the volume kept its holes")
            }
            // The sparse stream reports holes as holes.
            let segs = try await vol.download(sparse: true)
            var holes: UInt64 = 0, data = 0
            for try await s in segs.segments {
                switch s {
                case .hole(let n): holes += n
                case .data(let d): data += d.count
                }
            }
            #expect(holes > UInt64(size / 2) && UInt64(data) + holes == UInt64(size), "holes \(holes), data \(data)")
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func badTransfersAreTypedErrors() async throws {
        guard let conn = await Self.connect() else { return }
        defer { Task { await conn.close() } }
        try await Self.withDirPool(conn) { pool, dir in
            let vol = try await pool.createVolume(xml: "<volume><name>small.raw</name><capacity>65536</capacity><target><format type='raw'/></target></volume>")
            let big = Self.tempFile("big")
            defer { try? FileManager.default.removeItem(atPath: big) }
            FileManager.default.createFile(atPath: big, contents: Data(Self.pattern(200_000, seed: 5)))
            for mode in [StreamTransferMode.eventDriven, .blockingThread] {
                do {
                    _ = try await vol.upload(fromFile: big, mode: mode)
                    Issue.record("\(mode): a file larger than the volume was uploaded")
                } catch let e as LibvirtError {
                    #expect(e.code == .invalidArg && e.function == nil, "\(mode): \(e)")
                }
            }
            do {
                _ = try await vol.download(offset: 1 << 30, length: 10)
                Issue.record("a download past the end was accepted")
            } catch let e as LibvirtError {
                #expect(e.code == .invalidArg && e.function == nil, "\(e)")
            }
            #expect(Self.contents("\(dir)/small.raw")?.count == 65536, "the refused upload left the volume alone")
            // A download into a directory that doesn't exist fails before libvirt is asked.
            do {
                _ = try await vol.download(toFile: "/nonexistent-\(getpid())/x")
                Issue.record("a download into a missing directory succeeded")
            } catch let e as LibvirtError {
                #expect(e.code == .systemError && e.function == nil, "\(e)")
            }
            // The volume is still usable afterwards.
            #expect(try await vol.download(length: 100).readAll().count == 100)
        }
    }

    // MARK: Consoles

    /// Starts an echo guest (transient), runs `body`, destroys it whatever happened.
    static func withEchoGuest(_ conn: Connection, tag: String, virtioConsoles: Int = 0, extraDevices: String = "",
                              _ body: (Domain) async throws -> Void) async throws {
        let image = try await withCheckedThrowingContinuation { (c: CheckedContinuation<String, Error>) in
            Thread { c.resume(with: Result { try EchoGuest.imagePathSync() }) }.start()
        }
        let name = TestGuest.uniqueName(tag)
        let dom = try await conn.createDomain(xml: EchoGuest.xml(name: name, image: image, virtioConsoles: virtioConsoles, extraDevices: extraDevices))
        var failure: Error?
        do {
            // SeaBIOS takes seconds (more on a loaded nested host) before the boot sector runs;
            // bytes typed before the program armed the UART are dropped by its FIFO reset.
            let first = try await dom.openConsole()
            var it = first.output.makeAsyncIterator()
            var seen: [UInt8] = []
            guard try await read(first, until: EchoGuest.banner, from: &it, into: &seen) else {
                throw EchoGuest.BuildError("the echo guest's console closed before its banner")
            }
            try await first.close()
            try await body(dom)
        } catch { failure = error }
        try? await dom.destroy()
        if let failure { throw failure }
    }

    /// Reads `session` until its accumulated output contains `text`; nil if it ends first.
    static func read(_ session: ConsoleSession, until text: String, from iterator: inout LibvirtStream.Chunks.Iterator, into seen: inout [UInt8]) async throws -> Bool {
        let needle = Array(text.utf8)
        while !contains(seen, needle) {
            guard let chunk = try await iterator.next() else { return false }
            seen += chunk
        }
        return true
    }

    /// Writes `text` to `session` and reads until it comes back.
    static func echoes(_ session: ConsoleSession, _ text: String, from iterator: inout LibvirtStream.Chunks.Iterator) async throws -> Bool {
        var seen: [UInt8] = []
        try await session.write(text)
        return try await read(session, until: text, from: &iterator, into: &seen)
    }

    /// True once `iterator`'s session ended: its output ran out, or libvirt reported the end
    /// (a takeover by another client may come as an error of the old stream).
    static func runsToEnd(_ iterator: inout LibvirtStream.Chunks.Iterator) async -> Bool {
        do {
            while try await iterator.next() != nil {}
            return true
        } catch is LibvirtError {
            return true
        } catch {
            return false
        }
    }

    static func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= hay.count else { return false }
        return (0...(hay.count - needle.count)).contains { hay[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    @Test(.timeLimit(.minutes(3)))
    func serialConsoleEchoesWhatIsTyped() async throws {
        guard let conn = await Self.connect() else { return }
        defer { Task { await conn.close() } }
        try await Self.withEchoGuest(conn, tag: "console") { dom in
            let session = try await dom.openConsole(flags: .safe)
            var it = session.output.makeAsyncIterator()
            for word in ["hello", "virtkit 🚀", String(repeating: "x", count: 200)] {
                #expect(try await Self.echoes(session, word, from: &it), "echo of \(word.prefix(20))")
            }
            // A second client is refused while the first holds it; `.force` takes it over,
            // which ends the first session's output.
            do {
                _ = try await dom.openConsole()
                Issue.record("a second client opened a held console")
            } catch let e as LibvirtError {
                #expect(e.function == "virDomainOpenConsole", "\(e)")
            }
            let second = try await dom.openConsole(device: "serial0", flags: .force)
            #expect(await Self.runsToEnd(&it))
            var it2 = second.output.makeAsyncIterator()
            #expect(try await Self.echoes(second, "again", from: &it2))
            try await second.close()
            // An unknown device is libvirt's typed error.
            do {
                _ = try await dom.openConsole(device: "nope0")
                Issue.record("a console that doesn't exist was opened")
            } catch let e as LibvirtError {
                #expect(e.function == "virDomainOpenConsole", "\(e)")
            }
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func cancellingTheReaderAbortsTheConsole() async throws {
        guard let conn = await Self.connect() else { return }
        defer { Task { await conn.close() } }
        try await Self.withEchoGuest(conn, tag: "cancel") { dom in
            let session = try await dom.openConsole()
            let started = AsyncGate()
            let reader = Task {
                var n = 0
                started.open()
                for try await chunk in session.output { n += chunk.count }  // waits: the guest is silent after its banner
                return n
            }
            await started.wait()
            reader.cancel()
            do {
                _ = try await reader.value
                Issue.record("the reader ended without an error")
            } catch {
                #expect(error is CancellationError, "\(error)")
            }
            #expect(session.stream.isClosed, "cancellation aborted the stream")
            // The console is free again: a plain open (no force) succeeds and echoes.
            let again = try await dom.openConsole()
            var it = again.output.makeAsyncIterator()
            var seen: [UInt8] = []
            try await again.write("after")
            #expect(try await Self.read(again, until: "after", from: &it, into: &seen))
            try await again.close()
        }
    }

    /// 20 consoles open at once on a connection whose pool has 2 threads: none of them holds
    /// a thread, other calls are still served, and a console still echoes.
    @Test(.timeLimit(.minutes(3)))
    func twentyOpenConsolesHoldNoPoolThread() async throws {
        let pool = BlockingThreadPool(threadCount: 2, name: "vk-consoles")
        defer { pool.shutdown() }
        guard let conn = await Self.connect(pool: pool) else { return }
        defer { Task { await conn.close() } }
        try await Self.withEchoGuest(conn, tag: "twenty", virtioConsoles: 19) { dom in
            var sessions: [ConsoleSession] = [try await dom.openConsole(device: "serial0")]
            for i in 1...19 { sessions.append(try await dom.openConsole(device: "console\(i)")) }
            #expect(sessions.count == 20)
            // Readers parked on consoles 1…19: each waits for data, none on a thread.
            let readers = sessions.dropFirst().map { s in Task { try await s.stream.nextSegment() } }
            #expect(await eventually { pool.load.running == 0 && pool.load.queued == 0 }, "idle consoles hold no pool thread: \(pool.load)")
            // Other calls still run on the 2 threads.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<40 { group.addTask { _ = try await dom.info() } }
                try await group.waitForAll()
            }
            var it = sessions[0].output.makeAsyncIterator()
            var seen: [UInt8] = []
            try await sessions[0].write("ping")
            #expect(try await Self.read(sessions[0], until: "ping", from: &it, into: &seen), "\(String(decoding: seen, as: UTF8.self))")
            for s in sessions { try await s.close() }
            for r in readers { _ = try? await r.value }
        }
    }

    /// `virtkit console` as a process: text on its stdin reaches the guest, the echo reaches
    /// its stdout, and the escape byte ends it with status 0.
    @Test(.timeLimit(.minutes(3)))
    func cliConsoleTypesEchoesAndLeavesOnEscape() async throws {
        let exe = builtProductsDirectory.appendingPathComponent("virtkit").path
        guard FileManager.default.isExecutableFile(atPath: exe) else {
            LiveEnvironment.unavailable("\(exe) not built (swift build --build-tests)")
            return
        }
        guard let conn = await Self.connect() else { return }
        defer { Task { await conn.close() } }
        try await Self.withEchoGuest(conn, tag: "cli") { dom in
            let cli = try PipedChild(exe, ["console", dom.name, "--uri", Self.uri])
            defer { cli.kill() }
            cli.send(Array("typed-through-cli".utf8))
            #expect(await eventually(timeout: .seconds(60)) { Self.contains(cli.output, Array("typed-through-cli".utf8)) },
                    "echo on stdout: \(String(decoding: cli.output, as: UTF8.self))")
            cli.send([0x1D])
            let status = await withCheckedContinuation { c in Thread { c.resume(returning: cli.wait()) }.start() }
            #expect(status == 0, "exit status \(status); stderr-and-stdout: \(String(decoding: cli.output, as: UTF8.self))")
            // The console was released: a plain open succeeds.
            try await dom.openConsole().close()
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func screenshotOfAVNCGuest() async throws {
        guard let conn = await Self.connect() else { return }
        defer { Task { await conn.close() } }
        let graphics = "<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/><video><model type='vga'/></video>"
        try await Self.withEchoGuest(conn, tag: "shot", extraDevices: graphics) { dom in
            let shot = try await dom.screenshot()
            // QEMU ≥ 7.1 writes PNG (IHDR: width and height, big-endian), older ones binary PPM.
            let w: Int, h: Int
            switch shot.mimeType {
            case "image/png":
                try #require(shot.data.count > 24 && Array(shot.data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
                func be32(_ at: Int) -> Int { shot.data[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
                #expect(String(decoding: shot.data[12..<16], as: UTF8.self) == "IHDR")
                (w, h) = (be32(16), be32(20))
            case "image/x-portable-pixmap":
                let header = String(decoding: shot.data.prefix(32), as: UTF8.self).split(whereSeparator: \.isWhitespace)
                try #require(header.count >= 4 && header[0] == "P6", "\(header)")
                (w, h) = (Int(header[1]) ?? 0, Int(header[2]) ?? 0)
                #expect(shot.data.count >= w * h * 3, "\(shot.data.count) bytes for \(w)x\(h)")
            default:
                Issue.record("unexpected image type \(shot.mimeType)")
                return
            }
            #expect(w >= 320 && h >= 200, "\(w)x\(h)")
            do {
                _ = try await dom.screenshot(screen: 7)
                Issue.record("a screenshot of a screen that doesn't exist")
            } catch let e as LibvirtError {
                #expect(e.function == "virDomainScreenshot", "\(e)")
            }
        }
    }
}

/// Progress values seen by a transfer. `@unchecked Sendable`: guarded by `lock`.
final class ProgressBox: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [UInt64] = []
    func record(_ v: UInt64) { lock.lock(); values.append(v); lock.unlock() }
    var last: UInt64? { lock.lock(); defer { lock.unlock() }; return values.last }
    var monotonic: Bool { lock.lock(); defer { lock.unlock() }; return zip(values, values.dropFirst()).allSatisfy { $0 <= $1 } }
}

/// A one-shot gate a task can await. `@unchecked Sendable`: guarded by `lock`.
final class AsyncGate: @unchecked Sendable {
    private let lock = NSLock()
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    func open() {
        lock.lock(); isOpen = true; let w = waiters; waiters = []; lock.unlock()
        for c in w { c.resume() }
    }
    func wait() async {
        await withCheckedContinuation { c in
            lock.lock()
            if isOpen { lock.unlock(); c.resume() } else { waiters.append(c); lock.unlock() }
        }
    }
}

/// A child process with a pipe on its stdin and its stdout and stderr collected by a thread.
/// `@unchecked Sendable`: `collected` is guarded by `lock`; the descriptors are immutable.
final class PipedChild: @unchecked Sendable {
    let pid: pid_t
    private let input: Int32
    private let lock = NSLock()
    private var collected: [UInt8] = []
    private var reaped = false

    init(_ exe: String, _ args: [String]) throws {
        var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0]
        guard pipe(&inPipe) == 0, pipe(&outPipe) == 0 else { throw EchoGuest.BuildError("pipe: errno \(errno)") }
        for fd in inPipe + outPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }  // as spawnAndWait: no other child inherits them
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 2)
        for fd in inPipe + outPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        let argv = ([exe] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, exe, &actions, nil, argv, environ)
        close(inPipe[0]); close(outPipe[1])
        guard rc == 0 else { close(inPipe[1]); close(outPipe[0]); throw EchoGuest.BuildError("posix_spawn: \(rc)") }
        self.pid = pid
        input = inPipe[1]
        let outFD = outPipe[0]
        Thread { [self] in
            var buf = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(outFD, &buf, buf.count)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                lock.lock(); collected += buf[0..<n]; lock.unlock()
            }
            close(outFD)
        }.start()
    }

    var output: [UInt8] { lock.lock(); defer { lock.unlock() }; return collected }

    func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { write(input, $0.baseAddress, bytes.count) } }

    /// Waits for the exit (blocking: call from a plain thread); the exit status.
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        lock.lock(); reaped = true; lock.unlock()
        close(input)
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Kills a child that is still running (after a failed expectation).
    func kill() {
        lock.lock(); let done = reaped; lock.unlock()
        guard !done else { return }
        Foundation.kill(pid, SIGKILL)
        _ = wait()
    }
}
