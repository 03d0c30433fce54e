// `virtkit-bench domainxml`: DomainXML document layer vs python3-lxml on the libvirt corpus.
//
// Both sides load every file into memory first and time only the work; repetitions alternate
// Swift and a persistent lxml worker process so machine load hits both alike. Passes:
// - parse: Swift `LosslessXMLDocument(parsing:)` (builds every element object with its links; values
//   stay byte spans) vs `etree.fromstring`;
// - parse + read every name/attribute/text: the lazy Strings paid in full, vs lxml iter();
// - round trip: parse + serializedBytes() (an unedited document is its original bytes),
//   parse + serialize() (String), and parse + node-by-node emission (every tag and text copied
//   from its span: the serializer's real cost) vs `etree.tostring(etree.fromstring(b))`;
// - parse + one attribute edit + emit (re-serializes the edited path) vs the lxml round trip.
// Ratios: best vs best, and the median of per-repetition paired ratios. Memory: bytes held by
// all parsed trees at once (RSS delta on a fresh heap) and each process's peak RSS.
import DomainXML
import Foundation

enum DomainXMLBench {
    static let usage = """
    usage: virtkit-bench domainxml [--corpus DIR] [--repeat N] [--python PATH] [--no-reference]
      DIR defaults to $VIRTKIT_CORPUS/libvirt-9.0.0/domainxml; N defaults to 30;
      the reference is /usr/bin/python3 with python3-lxml.
    """

    struct Options {
        var corpus: String?
        var repeats = 30
        var python = "/usr/bin/python3"
        var reference = true
    }

    static func run(arguments: [String]) async throws {
        var o = Options()
        var it = arguments.makeIterator()
        while let a = it.next() {
            switch a {
            case "--corpus": o.corpus = it.next()
            case "--repeat": o.repeats = max(1, Int(it.next() ?? "") ?? o.repeats)
            case "--python": o.python = it.next() ?? o.python
            case "--no-reference": o.reference = false
            default:
                FileHandle.standardError.write(Data("domainxml: unknown option \(a)\n\(usage)\n".utf8))
                exit(2)
            }
        }
        let base = ProcessInfo.processInfo.environment["VIRTKIT_CORPUS"].flatMap { $0.isEmpty ? nil : $0 } ?? "../shared/corpus"
        let dir = o.corpus ?? base + "/libvirt-9.0.0/domainxml"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir).filter({ $0.hasSuffix(".xml") }).sorted(),
              !names.isEmpty else {
            FileHandle.standardError.write(Data("domainxml: no corpus at \(dir) (set VIRTKIT_CORPUS or --corpus)\n\(usage)\n".utf8))
            exit(2)
        }
        let files: [[UInt8]] = names.compactMap { FileManager.default.contents(atPath: dir + "/" + $0).map { [UInt8]($0) } }
        let total = files.reduce(0) { $0 + $1.count }
        #if DEBUG
        print("domainxml: WARNING: debug build, figures are not meaningful (swift build -c release)")
        #endif
        print("domainxml: \(files.count) files, \(total) bytes, \(o.repeats) repetitions (best / median MB/s, MB = 10^6 bytes)")

        // Memory first, on a fresh heap: everything parsed and held at once.
        let rss0 = currentRSS()
        var held: [LosslessXMLDocument] = []
        held.reserveCapacity(files.count)
        for f in files { held.append(try LosslessXMLDocument(parsing: f)) }
        let retained = currentRSS() - rss0
        var identical = 0
        for (d, f) in zip(held, files) where d.serializedBytes(walkingTree: true) == f { identical += 1 }
        held.removeAll()
        guard identical == files.count else { throw BenchError.notIdentical(files.count - identical) }

        // The lxml worker runs the same passes on the same files; repetitions alternate
        // Swift / lxml so that load from other processes hits both sides alike.
        var worker: LxmlWorker?
        if o.reference {
            do { worker = try LxmlWorker(python: o.python, dir: dir) } catch {
                print("reference lxml: unavailable (\(error))")
            }
        }
        var sink = 0
        let swiftPasses: [(name: String, lxml: String?, body: () throws -> Void)] = [
            ("parse (full tree)", "parse", {
                for f in files { sink &+= try LosslessXMLDocument(parsing: f).root.attributeNames.count }
            }),
            ("parse + read every name/attr/text", "read", {
                // The lazy Strings are paid here: every element's name, attributes and text.
                for f in files {
                    var stack = [try LosslessXMLDocument(parsing: f).root]
                    while let e = stack.popLast() {
                        sink &+= e.name.utf8.count
                        for (n, v) in e.attributes { sink &+= n.utf8.count &+ v.utf8.count }
                        sink &+= e.text?.utf8.count ?? 0
                        stack.append(contentsOf: e.childElements)
                    }
                }
            }),
            ("round trip parse+serializedBytes", "roundtrip", {
                for f in files { sink &+= try LosslessXMLDocument(parsing: f).serializedBytes().count }
            }),
            ("round trip parse+serialize()->String", "roundtrip", {
                for f in files { sink &+= try LosslessXMLDocument(parsing: f).serialize().utf8.count }
            }),
            ("round trip, node-by-node emit", "roundtrip", {
                for f in files { sink &+= try LosslessXMLDocument(parsing: f).serializedBytes(walkingTree: true).count }
            }),
            ("parse + 1 attribute edit + emit", "roundtrip", {
                for f in files {
                    let d = try LosslessXMLDocument(parsing: f)
                    // A typical tool edit: one attribute deep in the tree, then serialize.
                    (d.root.firstChild(named: "vcpu") ?? d.root).setAttribute("current", "1")
                    sink &+= d.serializedBytes().count
                }
            }),
        ]
        func mbps(_ t: Double) -> Double { Double(total) / t / 1e6 }
        print("pass                                   Swift best/median MB/s    lxml best/median MB/s   ratio (best, median of paired)")
        for pass in swiftPasses {
            try pass.body() // warm-up
            var mine: [Double] = [], theirs: [Double] = []
            for _ in 0..<o.repeats {
                mine.append(try time(pass.body))
                if let w = worker, let cmd = pass.lxml { theirs.append(try w.run(cmd)) }
            }
            var text = "  \(pass.name.padding(toLength: 38, withPad: " ", startingAt: 0)) \(fmt(mbps(mine.min()!), 7)) / \(fmt(mbps(median(mine)), 7))"
            if !theirs.isEmpty {
                let paired = median(zip(theirs, mine).map { $0 / $1 })
                text += "      \(fmt(mbps(theirs.min()!), 7)) / \(fmt(mbps(median(theirs)), 7))      x\(fmt(theirs.min()! / mine.min()!, 4)), x\(fmt(paired, 4))"
            }
            print(text)
        }
        let peak = peakRSSKiB()
        print("memory: Swift: all \(files.count) trees held at once \(fmt(Double(retained) / 1e6, 1)) MB, process peak RSS \(fmt(Double(peak) / 1024, 1)) MiB")
        if let w = worker {
            let m = try w.memory()
            print("        lxml \(m.version): all \(files.count) trees held at once \(fmt(Double(m.retained) / 1e6, 1)) MB, process peak RSS \(fmt(Double(m.peakKiB) / 1024, 1)) MiB")
            w.stop()
        }
        if sink == 42 { print("") } // keeps the work observable
    }

    enum BenchError: Error {
        case notIdentical(Int)
        case reference(String)
    }


    static func time(_ body: () throws -> Void) rethrows -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    /// CPU seconds `body` took on this thread (CLOCK_THREAD_CPUTIME_ID): on a shared machine
    /// time spent preempted is not counted; the lxml worker then uses `time.thread_time()`.
    static func cpuTime(_ body: () throws -> Void) rethrows -> Double {
        func now() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
        }
        let t0 = now()
        try body()
        return now() - t0
    }

    static func fmt(_ v: Double, _ width: Int) -> String {
        let s = String(format: "%.1f", v)
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }

    /// Resident set size now, from /proc/self/statm (pages × page size).
    static func currentRSS() -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let f = s.split(separator: " ")
        return f.count > 1 ? (Int(f[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }

    static func peakRSSKiB() -> Int {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return u.ru_maxrss
    }

    /// A persistent python3-lxml process holding the same files in memory; each command runs
    /// one timed pass (`parse`: etree.fromstring of every file; `roundtrip`: etree.tostring of
    /// etree.fromstring; `read`: fromstring, then every element's tag, attributes and text
    /// through iter()) and answers with the seconds it took.
    final class LxmlWorker {
        static let script = """
        import sys, os, time, json, resource
        from lxml import etree
        d = sys.argv[1]
        clock = time.thread_time if len(sys.argv) > 2 and sys.argv[2] == 'cpu' else time.perf_counter
        data = [open(os.path.join(d, f), 'rb').read() for f in sorted(os.listdir(d)) if f.endswith('.xml')]
        def rss():
            with open('/proc/self/statm') as fh: return int(fh.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
        r0 = rss(); held = [etree.fromstring(b) for b in data]; retained = rss() - r0; del held
        def parse():
            for b in data: etree.fromstring(b)
        def roundtrip():
            for b in data: etree.tostring(etree.fromstring(b))
        def read():
            n = 0
            for b in data:
                for e in etree.fromstring(b).iter():
                    if isinstance(e.tag, str):
                        n += len(e.tag) + len(e.text or '')
                        for k, v in e.attrib.items(): n += len(k) + len(v)
            return n
        passes = {'parse': parse, 'roundtrip': roundtrip, 'read': read}
        for fn in passes.values(): fn()
        print('ready', flush=True)
        for line in sys.stdin:
            cmd = line.strip()
            if cmd in passes:
                t = clock(); passes[cmd](); print(clock() - t, flush=True)
            elif cmd == 'memory':
                print(json.dumps({'version': '.'.join(map(str, etree.LXML_VERSION)), 'retained': retained,
                                  'peakKiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}), flush=True)
            else:
                break
        """

        struct Memory: Decodable {
            var version: String
            var retained: Int
            var peakKiB: Int
        }

        let process = Process()
        let input = Pipe()
        let output = Pipe()

        /// `cpuTime`: the worker times its passes in thread CPU time (see `cpuTime(_:)`).
        init(python: String, dir: String, cpuTime: Bool = false) throws {
            signal(SIGPIPE, SIG_IGN) // a dead worker must fail the reference, not kill the bench
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = ["-c", Self.script, dir] + (cpuTime ? ["cpu"] : [])
            process.standardInput = input
            process.standardOutput = output
            try process.run()
            guard readLine() == "ready" else { throw BenchError.reference("lxml worker did not start (is python3-lxml installed?)") }
        }

        func readLine() -> String? {
            var line: [UInt8] = []
            while true {
                let d = output.fileHandleForReading.readData(ofLength: 1)
                guard let b = d.first else { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
                if b == 0x0A { return String(decoding: line, as: UTF8.self) }
                line.append(b)
            }
        }

        func send(_ cmd: String) -> String? {
            input.fileHandleForWriting.write(Data((cmd + "\n").utf8))
            return readLine()
        }

        func run(_ pass: String) throws -> Double {
            guard let r = send(pass), let t = Double(r) else { throw BenchError.reference("lxml worker failed on \(pass)") }
            return t
        }

        func memory() throws -> Memory {
            guard let r = send("memory") else { throw BenchError.reference("lxml worker gave no memory figures") }
            return try JSONDecoder().decode(Memory.self, from: Data(r.utf8))
        }

        func stop() {
            _ = send("quit")
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }
}
