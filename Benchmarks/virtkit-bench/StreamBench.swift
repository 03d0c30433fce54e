import Foundation
import Libvirt
import VirtCore
import VirtKitTestSupport

/// `virtkit-bench streams` (root, `qemu:///system`):
///   (1) volume transfer throughput: upload and download of an N MiB raw volume in a `dir`
///       pool under /var/tmp, VirtKit (event-driven, and one blocking pool thread) vs
///       `virsh vol-upload`/`vol-download` (the issue's reference) and python3-libvirt
///       (`sendAll`/`recvAll`), R rounds in rotated order, same run; MiB/s medians and
///       ratios. virsh is timed as a whole process: its start-up and connect (timed with
///       `virsh vol-info`) is also printed and taken off in the "virsh (transfer)" column.
///       Every download is checked byte for byte against the source.
///   (2) console round trip: one byte typed into the serial console of an echo guest
///       (`Scripts/lab-boot/echo.S`) until it comes back, VirtKit (`ConsoleSession`) vs
///       python3-libvirt (non-blocking stream, event-loop thread, callback), idle and with a
///       CPU hog on the host CPU the guest's vCPU is pinned to; median and p99. VirtKit runs
///       twice: from a plain task, and as a task on the libvirt pool (`withTaskExecutorPreference`).
/// Options: --size-mib N (512), --rounds R (3), --samples S (300), --python PATH,
///          --skip-transfer, --skip-console.
enum StreamBench {
    static let uri = "qemu:///system"

    static func run(arguments: [String]) async throws {
        var sizeMiB = 512, rounds = 3, samples = 300
        var python = "/usr/bin/python3"
        var transfer = true, console = true
        var it = arguments.makeIterator()
        while let a = it.next() {
            switch a {
            case "--size-mib": sizeMiB = Int(it.next() ?? "") ?? sizeMiB
            case "--rounds": rounds = Int(it.next() ?? "") ?? rounds
            case "--samples": samples = Int(it.next() ?? "") ?? samples
            case "--python": python = it.next() ?? python
            case "--skip-transfer": transfer = false
            case "--skip-console": console = false
            default: throw BenchError("unknown option \(a)")
            }
        }
        guard getuid() == 0 else { throw BenchError("run as root (a pool directory, the echo image)") }
        let conn = try await Connection.open(uri)
        defer { Task { await conn.close() } }
        if transfer { try await transferBench(conn, sizeMiB: sizeMiB, rounds: rounds, python: python) }
        if console { try await consoleBench(conn, samples: samples, python: python) }
    }

    static func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

    static func shell(_ exe: String, _ args: [String]) throws -> String {
        let (rc, out, err) = spawnAndWait(exe, args)
        guard rc == 0 else { throw BenchError("\(exe) \(args.joined(separator: " ")): \(err)") }
        return out
    }

    /// Runs `body` on a plain thread (child processes and big file I/O stay off the
    /// cooperative pool).
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in Thread { c.resume(with: Result { try body() }) }.start() }
    }

    // MARK: (1) Transfers

    enum Engine: String, CaseIterable {
        case virtkit = "VirtKit event-driven", virtkitBlocking = "VirtKit blocking thread", virsh = "virsh", python = "python3-libvirt"
    }

    static func transferBench(_ conn: Connection, sizeMiB: Int, rounds: Int, python: String) async throws {
        let size = sizeMiB << 20
        let dir = "/var/tmp/virtkit-bench-streams-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = "\(dir)-source", back = "\(dir)-back"
        defer { for f in [source, back] { try? FileManager.default.removeItem(atPath: f) } }
        say("streams bench — \(sizeMiB) MiB raw volume, dir pool on \(dir), \(rounds) rounds")
        try await onThread { try writePattern(source, size: size) }
        let pool = try await conn.createStoragePool(xml: "<pool type='dir'><name>vk-bench-\(getpid())</name><target><path>\(dir)</path></target></pool>")
        do {
            try await transferRounds(pool, sizeMiB: sizeMiB, rounds: rounds, source: source, back: back, python: python)
        } catch {
            for v in (try? await pool.listAllVolumes()) ?? [] { try? await v.delete() }
            try? await pool.destroy()
            throw error
        }
        for v in (try? await pool.listAllVolumes()) ?? [] { try? await v.delete() }
        try? await pool.destroy()
    }

    static func transferRounds(_ pool: StoragePool, sizeMiB: Int, rounds: Int, source: String, back: String, python: String) async throws {
        let size = sizeMiB << 20
        let vol = try await pool.createVolume(xml: "<volume><name>bench.raw</name><capacity>\(size)</capacity><target><format type='raw'/></target></volume>")
        let volPath = try await vol.path()
        let script = """
        import libvirt, os, sys, time
        mode, uri, path, file = sys.argv[1:5]
        c = libvirt.open(uri)
        v = c.storageVolLookupByPath(path)
        st = c.newStream(0)
        t0 = time.perf_counter()
        if mode == "up":
            f = open(file, "rb"); size = os.fstat(f.fileno()).st_size
            v.upload(st, 0, size, 0)
            st.sendAll(lambda s, n, f: f.read(n), f)
        else:
            f = open(file, "wb")
            v.download(st, 0, 0, 0)
            st.recvAll(lambda s, d, f: f.write(d), f)
        st.finish()
        f.close()
        print(time.perf_counter() - t0)
        """
        let startup = try await onThread { () throws -> Double in
            var xs: [Double] = []
            for _ in 0..<5 {
                let t0 = ContinuousClock.now
                _ = try shell("/usr/bin/virsh", ["-q", "-c", uri, "vol-info", volPath])
                xs.append((ContinuousClock.now - t0).inSeconds)
            }
            return median(xs)
        }
        var up: [Engine: [Double]] = [:], down: [Engine: [Double]] = [:]
        let engines = Engine.allCases
        for round in 0..<rounds {
            for k in 0..<engines.count {
                let e = engines[(k + round) % engines.count]
                up[e, default: []].append(try await time(e, upload: true, vol: vol, volPath: volPath, file: source, python: python, script: script))
                try? FileManager.default.removeItem(atPath: back)
                down[e, default: []].append(try await time(e, upload: false, vol: vol, volPath: volPath, file: back, python: python, script: script))
                let same = try await onThread { try filesEqual(source, back) }
                guard same else { throw BenchError("\(e.rawValue): the downloaded file differs from the source") }
            }
        }
        say(String(format: "  virsh start-up + connect (vol-info): %.1f ms (taken off the virsh (transfer) figures)", startup * 1000))
        for (title, table) in [("upload", up), ("download", down)] {
            say("  \(title) MiB/s (median of \(rounds)):")
            func mibps(_ e: Engine, adjust: Double = 0) -> Double { Double(sizeMiB) / (median(table[e] ?? []) - adjust) }
            for e in engines { say("    " + e.rawValue.padding(toLength: 26, withPad: " ", startingAt: 0) + String(format: "%8.1f", mibps(e))) }
            say("    " + "virsh (transfer)".padding(toLength: 26, withPad: " ", startingAt: 0) + String(format: "%8.1f", mibps(.virsh, adjust: startup)))
            say(String(format: "    ratio VirtKit event-driven / virsh: %.2fx (vs virsh transfer only: %.2fx); / python3-libvirt: %.2fx",
                       mibps(.virtkit) / mibps(.virsh), mibps(.virtkit) / mibps(.virsh, adjust: startup), mibps(.virtkit) / mibps(.python)))
            say(String(format: "    ratio VirtKit blocking thread / virsh: %.2fx (vs virsh transfer only: %.2fx); / python3-libvirt: %.2fx",
                       mibps(.virtkitBlocking) / mibps(.virsh), mibps(.virtkitBlocking) / mibps(.virsh, adjust: startup), mibps(.virtkitBlocking) / mibps(.python)))
        }
    }

    /// One timed transfer between the volume and `file` (`upload`: file → volume).
    static func time(_ e: Engine, upload: Bool, vol: StorageVolume, volPath: String, file: String, python: String, script: String) async throws -> Double {
        switch e {
        case .virtkit, .virtkitBlocking:
            let mode: StreamTransferMode = e == .virtkit ? .eventDriven : .blockingThread
            let t0 = ContinuousClock.now
            if upload { _ = try await vol.upload(fromFile: file, mode: mode) } else { _ = try await vol.download(toFile: file, mode: mode) }
            return (ContinuousClock.now - t0).inSeconds
        case .virsh:
            return try await onThread {
                let t0 = ContinuousClock.now
                _ = try shell("/usr/bin/virsh", ["-q", "-c", uri, upload ? "vol-upload" : "vol-download", volPath, file])
                return (ContinuousClock.now - t0).inSeconds
            }
        case .python:
            return try await onThread {
                let out = try shell(python, ["-c", script, upload ? "up" : "down", uri, volPath, file])
                guard let t = Double(out.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw BenchError("python printed \(out)") }
                return t
            }
        }
    }

    /// `size` pseudo-random bytes (no runs of zeros a filesystem could skip).
    static func writePattern(_ path: String, size: Int) throws {
        guard let out = FileHandle(forWritingAtPath: path) ?? {
            FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }() else { throw BenchError("cannot create \(path)") }
        defer { try? out.close() }
        try out.truncate(atOffset: 0)
        var state: UInt64 = 0x1234_5678
        var block = [UInt64](repeating: 0, count: 1 << 17)  // 1 MiB
        var left = size
        while left > 0 {
            for i in block.indices { state &+= 0x9E37_79B9_7F4A_7C15; block[i] = state ^ (state >> 29) }
            let n = min(left, 1 << 20)
            try block.withUnsafeBytes { try out.write(contentsOf: Data($0.prefix(n))) }
            left -= n
        }
    }

    static func filesEqual(_ a: String, _ b: String) throws -> Bool {
        guard let fa = FileHandle(forReadingAtPath: a), let fb = FileHandle(forReadingAtPath: b) else { return false }
        defer { try? fa.close(); try? fb.close() }
        while true {
            let x = try fa.read(upToCount: 1 << 22) ?? Data()
            let y = try fb.read(upToCount: 1 << 22) ?? Data()
            if x != y { return false }
            if x.isEmpty { return true }
        }
    }

    // MARK: (2) Console round trip

    static func consoleBench(_ conn: Connection, samples: Int, python: String) async throws {
        let image = try await onThread { try EchoGuest.imagePathSync() }
        let name = "virtkit-bench-console-\(getpid())"
        let pin = "<cputune><vcpupin vcpu='0' cpuset='0'/></cputune>"
        let dom = try await conn.createDomain(xml: EchoGuest.xml(name: name, image: image, extraDomain: pin))
        do {
            try await consoleRounds(dom, name: name, samples: samples, python: python)
        } catch {
            try? await dom.destroy()
            throw error
        }
        try? await dom.destroy()
    }

    static func consoleRounds(_ dom: Domain, name: String, samples: Int, python: String) async throws {
        say("console round trip — echo guest \(name), vCPU pinned to host CPU 0, \(samples) samples per engine and load")
        // Wait for the banner once, so the guest's echo is armed.
        do {
            let s = try await dom.openConsole()
            var seen: [UInt8] = []
            for try await chunk in s.output {
                seen += chunk
                if String(decoding: seen, as: UTF8.self).contains("ready") { break }
            }
            try await s.close()
        }
        let script = """
        import libvirt, sys, threading, time
        uri, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
        libvirt.virEventRegisterDefaultImpl()
        def loop():
            while True: libvirt.virEventRunDefaultImpl()
        threading.Thread(target=loop, daemon=True).start()
        c = libvirt.open(uri)
        d = c.lookupByName(name)
        st = c.newStream(libvirt.VIR_STREAM_NONBLOCK)
        d.openConsole(None, st, 0)
        got = bytearray(); cond = threading.Condition()
        def cb(stream, events, opaque):
            while True:
                try: b = stream.recv(4096)
                except libvirt.libvirtError: return
                if b == -2 or not b: return
                with cond:
                    got.extend(b); cond.notify()
        st.eventAddCallback(libvirt.VIR_STREAM_EVENT_READABLE, cb, None)
        out = []
        for i in range(n):
            ch = bytes([65 + i % 26])
            with cond: got.clear()
            t0 = time.perf_counter()
            st.send(ch)
            with cond:
                while ch not in got: cond.wait()
            out.append(time.perf_counter() - t0)
        st.eventRemoveCallback(); st.abort()
        print(" ".join("%.9f" % x for x in out))
        """
        for load in ["idle", "CPU hog on the guest's host CPU"] {
            var hog: BackgroundProcess?
            if load != "idle" {
                hog = try BackgroundProcess("/usr/bin/taskset", ["-c", "0", "/bin/sh", "-c", "while :; do :; done"], tag: "console-hog")
            }
            defer { _ = hog?.stop(grace: .seconds(1)) }
            var vk: [Double] = [], vkPool: [Double] = [], py: [Double] = []
            // Two halves each, alternating, so a drift of the host's load hits all three.
            for _ in 0..<2 {
                vk += try await virtkitRoundTrips(dom, count: samples / 2)
                // The same loop as a task on the libvirt pool (its sends run in place, the
                // echo resumes it there): python's shape, a thread that may block.
                vkPool += try await withTaskExecutorPreference(BlockingThreadPool.libvirt) {
                    try await virtkitRoundTrips(dom, count: samples / 2)
                }
                let out = try await onThread { try shell(python, ["-c", script, uri, name, String(samples / 2)]) }
                py += out.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
            guard !vk.isEmpty, !py.isEmpty else { throw BenchError("no samples") }
            say("  \(load):")
            say(String(format: "    VirtKit          median %7.3f ms  p99 %7.3f ms", median(vk) * 1000, percentile(vk, 99) * 1000))
            say(String(format: "    VirtKit on pool  median %7.3f ms  p99 %7.3f ms", median(vkPool) * 1000, percentile(vkPool, 99) * 1000))
            say(String(format: "    python3-libvirt  median %7.3f ms  p99 %7.3f ms", median(py) * 1000, percentile(py, 99) * 1000))
            say(String(format: "    ratio VirtKit / python3-libvirt: median %.2fx, p99 %.2fx (target: under 200 ms)",
                       median(vk) / median(py), percentile(vk, 99) / percentile(py, 99)))
            say(String(format: "    ratio VirtKit on pool / python3-libvirt: median %.2fx, p99 %.2fx",
                       median(vkPool) / median(py), percentile(vkPool, 99) / percentile(py, 99)))
        }
    }

    /// `count` round trips through a `ConsoleSession`: one byte out, wait for it to come back.
    static func virtkitRoundTrips(_ dom: Domain, count: Int) async throws -> [Double] {
        let session = try await dom.openConsole()
        defer { Task { try? await session.close() } }
        var it = session.output.makeAsyncIterator()
        var out: [Double] = []
        for i in 0..<count {
            let ch = UInt8(65 + i % 26)
            let t0 = ContinuousClock.now
            try await session.write([ch])
            var back = false
            while !back {
                guard let chunk = try await it.next() else { throw BenchError("the console closed") }
                back = chunk.contains(ch)
            }
            out.append((ContinuousClock.now - t0).inSeconds)
        }
        try await session.close()
        return out
    }
}
