import Foundation
import Testing
@testable import VirtCore

/// RootedFileReader on trees built at test time: the kernel's in-root resolution
/// (`openat2`) and the reader's own walk must agree on every hostile shape, reads stop at
/// their bound, and an oversize read holds about one bound of memory, not a multiple.
@Suite(.serialized) struct RootedFileReaderTests {
    /// `…/root` with files, links and special files, and a decoy tree next to it holding
    /// `DECOY` wherever an escape would land.
    static func tree() throws -> (root: String, outside: String) {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("rooted-\(UUID().uuidString)").path
        let root = outside + "/root"
        let fm = FileManager.default
        for d in ["/a/b", "/sys/fs/cgroup/x", "/loop", "/proc"] { try fm.createDirectory(atPath: root + d, withIntermediateDirectories: true) }
        try fm.createDirectory(atPath: outside + "/decoy", withIntermediateDirectories: true)
        try "DECOY\n".write(toFile: outside + "/decoy/value", atomically: false, encoding: .utf8)
        try "DECOY\n".write(toFile: outside + "/value", atomically: false, encoding: .utf8)
        try "inside\n".write(toFile: root + "/a/b/value", atomically: false, encoding: .utf8)
        try "top\n".write(toFile: root + "/value", atomically: false, encoding: .utf8)
        try "12\n".write(toFile: root + "/sys/fs/cgroup/x/cpu.weight", atomically: false, encoding: .utf8)
        try fm.createSymbolicLink(atPath: root + "/a/up", withDestinationPath: "../../../../../..")        // climbs out: stops at the root
        try fm.createSymbolicLink(atPath: root + "/a/abs", withDestinationPath: outside + "/decoy/value")  // absolute: restarts at the root
        try fm.createSymbolicLink(atPath: root + "/a/rel", withDestinationPath: "../../value")             // relative, escapes by one level
        try fm.createSymbolicLink(atPath: root + "/a/inside", withDestinationPath: "b/value")              // an ordinary link inside
        try fm.createSymbolicLink(atPath: root + "/a/toabs", withDestinationPath: "/a/b/value")            // absolute, lands inside
        try fm.createSymbolicLink(atPath: root + "/loop/l", withDestinationPath: "l")                      // ELOOP
        try fm.createSymbolicLink(atPath: root + "/sys/fs/cgroup/link", withDestinationPath: "x")          // a linked directory
        try fm.createSymbolicLink(atPath: root + "/proc/self", withDestinationPath: "/")                   // a link to the root itself
        guard mkfifo(root + "/fifo", 0o644) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return (root, outside)
    }

    /// Every outcome as text, so the two resolutions can be compared case by case.
    static func outcome(_ r: RootedFileReader, _ path: String) -> String {
        do { return "ok " + (try r.readString(path)) } catch { return "error \(error)" }
    }

    static let paths = [
        "/a/b/value", "/a/up/value", "/a/up/decoy/value", "/a/abs", "/a/rel", "/a/inside", "/a/toabs",
        "/loop/l", "/loop/l/x", "/fifo", "/a", "/a/b/missing", "/missing/x", "/a/b/value/x",
        "/sys/fs/cgroup/link/cpu.weight", "/sys/fs/cgroup/x/../x/cpu.weight", "/../../value", "//a/./b//value",
        "/proc/self/a/b/value", "/proc/self/proc/self/value", "/a/up/a/up/a/abs",
    ]

    /// Blocking file work runs on VirtCore's file pool, never on a cooperative thread; the
    /// expectations are checked back in the test's task.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await BlockingThreadPool.fileIO.run(body)
    }

    @Test func kernelResolutionAndTheWalkAgreeAndStayInside() async throws {
        let r = try await Self.offPool { () throws -> (kernel: Bool, walk: Bool, outcomes: [(String, String, String)]) in
            let (root, outside) = try Self.tree()
            defer { try? FileManager.default.removeItem(atPath: outside) }
            let kernel = RootedFileReader(root: root)
            let walk = RootedFileReader(root: root, kernelResolution: false)
            return (kernel.usesKernelResolution, walk.usesKernelResolution,
                    Self.paths.map { ($0, Self.outcome(kernel, $0), Self.outcome(walk, $0)) })
        }
        #if os(Linux)
        #expect(r.kernel, "openat2 is available on Linux 5.6+")
        #endif
        #expect(!r.walk)
        for (p, k, w) in r.outcomes {
            #expect(k == w, "\(p): openat2 \(k), walk \(w)")
            #expect(!k.contains("DECOY"), "\(p) escaped the root")
        }
        // Spot checks of what the shared answers are.
        let kernel = Dictionary(uniqueKeysWithValues: r.outcomes.map { ($0.0, $0.1) })
        #expect(kernel["/a/up/value"] == "ok top\n")
        #expect(kernel["/a/abs"] == "error \(RootedReadError.system(errno: ENOENT))")
        #expect(kernel["/a/rel"] == "ok top\n")
        #expect(kernel["/a/toabs"] == "ok inside\n")
        #expect(kernel["/loop/l"] == "error \(RootedReadError.system(errno: ELOOP))")
        #expect(kernel["/fifo"] == "error \(RootedReadError.notARegularFile(.fifo))")
        #expect(kernel["/a"] == "error \(RootedReadError.notARegularFile(.directory))")
        #expect(kernel["/sys/fs/cgroup/link/cpu.weight"] == "ok 12\n")
    }

    /// Reads inside a directory batch (files opened relative to a directory opened once,
    /// links refused on that short walk and resolved in the root instead) give exactly what
    /// single reads give, in every order: twice through the hostile paths.
    @Test func directoryBatchesReadWhatSingleReadsRead() async throws {
        let r = try await Self.offPool { () throws -> (expected: [String], batched: [String], directories: [String], escaped: String, escapedDirectories: [String]) in
            let (root, outside) = try Self.tree()
            defer { try? FileManager.default.removeItem(atPath: outside) }
            let plain = RootedFileReader(root: root)
            let expected = Self.paths.map { Self.outcome(plain, $0) }
            let (batched, directories) = plain.withDirectoryBatch { r in
                ((Self.paths + Self.paths.reversed()).map { Self.outcome(r, $0) }, r.batchDirectories)
            }
            // A copy that outlives its batch reads the plain way.
            let escaped = plain.withDirectoryBatch { $0 }
            return (expected, batched, directories, Self.outcome(escaped, "/a/b/value"), escaped.batchDirectories)
        }
        #expect(r.batched == r.expected + r.expected.reversed())
        // The batch really opened directories (the first one: the first file's own).
        #expect(r.directories.first == "/a/b", "\(r.directories)")
        #expect(r.directories.count > 3 && r.directories.count <= 16)
        #expect(r.escaped == "ok inside\n")
        #expect(r.escapedDirectories.isEmpty)
    }

    /// On the live root a batch uses the kernel's own resolution for its directories and
    /// agrees with single reads (`/proc/mounts` is a link: it takes the full path).
    @Test func liveDirectoryBatchAgrees() async throws {
        let paths = ["/proc/sys/kernel/ostype", "/proc/sys/kernel/osrelease", "/proc/sys/kernel/no-such-file",
                     "/proc/mounts", "/proc/sys/kernel", "/proc/sys/vm/overcommit_memory", "/no/such/dir/file"]
        let (expected, batched) = try await Self.offPool {
            let live = RootedFileReader(root: "/")
            return (paths.map { Self.outcome(live, $0) }, live.withDirectoryBatch { r in paths.map { Self.outcome(r, $0) } })
        }
        #expect(batched == expected)
        #expect(expected[0] == "ok Linux\n")
    }

    /// What `normalize` leaves unchanged is exactly what `isNormalized` accepts (the fast
    /// path must never skip a path the split would change).
    @Test(arguments: ["/", "/a", "/a/b", "/a/", "a/b", "", "//", "/a//b", "/./a", "/a/.", "/a/..", "/..", "/...", "/a/.../b",
                      "/.a", "/a./b", "/a/..b", "/a/b..", "/a/b/.", "/a/.b/", "/ä/b", "/a b/c"])
    func isNormalizedMatchesNormalize(path: String) {
        var parts: [Substring] = []
        for c in path.split(separator: "/") where c != "." {
            if c == ".." { _ = parts.popLast() } else { parts.append(c) }
        }
        let reference = "/" + parts.joined(separator: "/")
        #expect(RootedFileReader.isNormalized(path) == (reference == path), "\(path) → \(reference)")
        #expect(RootedFileReader.normalize(path) == reference)
    }

    @Test func invalidUTF8IsEscapedFromBothEntryPoints() async throws {
        let (text, bytes) = try await Self.offPool { () throws -> (String, [UInt8]) in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rooted-utf8-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try Data([0x61, 0xFF, 0x62, 0xC3, 0x0A, 0xC3, 0xA4]).write(to: URL(fileURLWithPath: dir + "/f"))
            return (try RootedFileReader(root: dir).readString("/f"), try RootedFileReader(root: dir).read("/f"))
        }
        #expect(text == "a\\xffb\\xc3\nä")
        #expect(bytes == [0x61, 0xFF, 0x62, 0xC3, 0x0A, 0xC3, 0xA4])
    }

    /// A file whose size is known and beyond the bound is refused before a byte is read or
    /// a byte of buffer allocated; one whose size is not known (procfs, cgroupfs report 0)
    /// is read until the bound + 1 and no further, in one buffer that never exceeds that.
    @Test func oversizeReadsHoldAboutOneBound() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rooted-big-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/big"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(ftruncate(fd, 1 << 30) == 0)   // 1 GiB, sparse
        close(fd)
        let bound = RootedFileReader.Bound.table

        let (sized, streamed, growthKiB) = try await BlockingThreadPool.fileIO.run { () throws(RootedReadError) -> (Int, Int, Int) in
            // Size known: refused unread.
            let known = try RootedFileReader.openSizedForReading(path)
            defer { close(known.fd) }
            var a = RootedFileReader.Buffer()
            let refusedUnread = Result { () throws(RootedReadError) in try RootedFileReader.readAll(known.fd, limit: bound, sizeHint: known.size, into: &a) }
            guard case .failure(.tooLarge(bound)) = refusedUnread else { return (-1, -1, -1) }

            // Size unknown: streamed to the bound + 1, with the peak RSS measured around it.
            // The peak is the process's: the least of three reads, so another test's
            // allocation in one window does not count as this reader's.
            var capacity = Int.max, growth = Int.max
            for _ in 0..<3 {
                let unknown = try RootedFileReader.openSizedForReading(path)
                defer { close(unknown.fd) }
                let start = PeakRSS.reset()
                var b = RootedFileReader.Buffer()
                let streamed = Result { () throws(RootedReadError) in try RootedFileReader.readAll(unknown.fd, limit: bound, sizeHint: 0, into: &b) }
                growth = min(growth, PeakRSS.kib() - start)
                guard case .failure(.tooLarge(bound)) = streamed else { return (a.capacity, -1, growth) }
                capacity = min(capacity, b.capacity)
            }
            return (a.capacity, capacity, growth)
        }
        #expect(sized == 0, "a file known to be too large allocated \(sized) bytes")
        #expect(streamed == bound + 1, "the buffer grew to \(streamed) bytes for a \(bound)-byte bound")
        #if os(Linux)
        // One bound (64 MiB) and at most the previous growth step (a quarter of it) while
        // `realloc` moves it: not the 2.3x of a zero-filled, doubling array.
        #expect(growthKiB > 0 && growthKiB < (bound >> 10) * 3 / 2, "peak RSS grew by \(growthKiB) KiB for a \(bound >> 10) KiB bound")
        #endif
    }
}

/// The peak resident set of this process (`VmHWM`), reset to the current RSS by writing 5
/// to `/proc/self/clear_refs`, so a growth measured after a reset is this window's peak,
/// not the highest the whole test run ever reached.
enum PeakRSS {
    /// Resets the peak; returns the current RSS (KiB), the base of the measurement.
    static func reset() -> Int {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        if fd >= 0 { _ = write(fd, "5", 1); close(fd) }
        return field("VmRSS:")
    }

    /// The peak since the last reset, KiB.
    static func kib() -> Int { field("VmHWM:") }

    private static func field(_ name: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name) }) else { return -1 }
        return Int(line.dropFirst(name.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? -1
    }
}
