// `virtkit-bench domainxml`: DomainXML document layer vs python3-lxml on the libvirt corpus.
//
// Both sides load every file into memory first and time only the work, best and median of
// several repetitions, in the same run: parse alone (Swift: `XMLDocument(parsing:)`, which
// builds the whole navigable element tree; lxml: `etree.fromstring`) and round trip (parse +
// serialize; lxml: `etree.tostring(etree.fromstring(b))`). Memory: bytes retained by all
// parsed trees held at once (RSS delta on a fresh heap) and the process peak RSS.
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
                print(usage)
                throw BenchError.usage(a)
            }
        }
        let dir = o.corpus ?? ProcessInfo.processInfo.environment["VIRTKIT_CORPUS"].map { $0 + "/libvirt-9.0.0/domainxml" }
        guard let dir else { print(usage); throw BenchError.noCorpus }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".xml") }.sorted()
        let files: [[UInt8]] = names.compactMap { FileManager.default.contents(atPath: dir + "/" + $0).map { [UInt8]($0) } }
        let total = files.reduce(0) { $0 + $1.count }
        guard !files.isEmpty else { throw BenchError.noCorpus }
        print("domainxml: \(files.count) files, \(total) bytes, \(o.repeats) repetitions (best / median MB/s, MB = 10^6 bytes)")

        // Memory first, on a fresh heap: everything parsed and held at once.
        let rss0 = currentRSS()
        var held: [XMLDocument] = []
        held.reserveCapacity(files.count)
        for f in files { held.append(try XMLDocument(parsing: f)) }
        let retained = currentRSS() - rss0
        var identical = 0
        for (d, f) in zip(held, files) where d.serializedBytes(walkingTree: true) == f { identical += 1 }
        held.removeAll()
        guard identical == files.count else { throw BenchError.notIdentical(files.count - identical) }

        var sink = 0
        let parse = try measure(o.repeats) {
            for f in files {
                let d = try XMLDocument(parsing: f)
                sink &+= d.root.attributeNames.count
            }
        }
        let roundTrip = try measure(o.repeats) {
            for f in files { sink &+= try XMLDocument(parsing: f).serializedBytes().count }
        }
        let roundTripWalk = try measure(o.repeats) {
            for f in files { sink &+= try XMLDocument(parsing: f).serializedBytes(walkingTree: true).count }
        }
        let roundTripString = try measure(o.repeats) {
            for f in files { sink &+= try XMLDocument(parsing: f).serialize().utf8.count }
        }
        let editRoundTrip = try measure(o.repeats) {
            for f in files {
                let d = try XMLDocument(parsing: f)
                // A typical tool edit: one attribute deep in the tree, then serialize.
                (d.root.firstChild(named: "vcpu") ?? d.root).setAttribute("current", "1")
                sink &+= d.serializedBytes().count
            }
        }
        let peak = peakRSSKiB()

        var ref: Reference?
        if o.reference {
            do { ref = try runLxml(python: o.python, dir: dir, repeats: o.repeats) } catch {
                print("reference lxml: unavailable (\(error))")
            }
        }
        func mbps(_ t: Double) -> Double { Double(total) / t / 1e6 }
        func line(_ name: String, _ s: [Double], vs r: [Double]?) {
            let best = s.min()!, med = median(s)
            var text = "  \(name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(fmt(mbps(best), 7)) / \(fmt(mbps(med), 7)) MB/s"
            if let r, let rb = r.min() { text += "   x\(fmt(rb / best, 5)) lxml (median x\(fmt(median(r) / med, 5)))" }
            print(text)
        }
        print("DomainXML (Swift):")
        line("parse (full tree)", parse, vs: ref?.parse)
        line("round trip parse+serializedBytes", roundTrip, vs: ref?.roundtrip)
        line("round trip, node-by-node emit", roundTripWalk, vs: ref?.roundtrip)
        line("round trip, serialize() -> String", roundTripString, vs: ref?.roundtrip)
        line("parse + 1 attribute edit + emit", editRoundTrip, vs: ref?.roundtrip)
        print("  memory: all \(files.count) trees retained \(fmt(Double(retained) / 1e6, 1)) MB; peak RSS \(fmt(Double(peak) / 1024, 1)) MiB")
        if let ref {
            print("lxml \(ref.version) (python3, same files, same run):")
            print("  \("parse (etree.fromstring)".padding(toLength: 34, withPad: " ", startingAt: 0)) \(fmt(mbps(ref.parse.min()!), 7)) / \(fmt(mbps(median(ref.parse)), 7)) MB/s")
            print("  \("round trip fromstring+tostring".padding(toLength: 34, withPad: " ", startingAt: 0)) \(fmt(mbps(ref.roundtrip.min()!), 7)) / \(fmt(mbps(median(ref.roundtrip)), 7)) MB/s")
            print("  memory: all \(files.count) trees retained \(fmt(Double(ref.retained) / 1e6, 1)) MB; peak RSS \(fmt(Double(ref.peakKiB) / 1024, 1)) MiB")
        }
        if sink == 42 { print("") } // keeps the work observable
    }

    enum BenchError: Error {
        case usage(String)
        case noCorpus
        case notIdentical(Int)
        case reference(String)
    }

    struct Reference: Decodable {
        var version: String
        var parse: [Double]
        var roundtrip: [Double]
        var retained: Int
        var peakKiB: Int
    }

    static func measure(_ repeats: Int, _ body: () throws -> Void) rethrows -> [Double] {
        try body() // warm-up
        var times: [Double] = []
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return times
    }

    static func median(_ s: [Double]) -> Double { s.sorted()[s.count / 2] }

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

    static let lxmlScript = """
    import sys, os, time, json, resource
    from lxml import etree
    d, reps = sys.argv[1], int(sys.argv[2])
    data = [open(os.path.join(d, f), 'rb').read() for f in sorted(os.listdir(d)) if f.endswith('.xml')]
    def rss():
        with open('/proc/self/statm') as fh: return int(fh.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
    r0 = rss(); held = [etree.fromstring(b) for b in data]; retained = rss() - r0; del held
    def parse():
        for b in data: etree.fromstring(b)
    def roundtrip():
        for b in data: etree.tostring(etree.fromstring(b))
    def measure(fn):
        fn(); out = []
        for _ in range(reps):
            t = time.perf_counter(); fn(); out.append(time.perf_counter() - t)
        return out
    p = measure(parse); rt = measure(roundtrip)
    print(json.dumps({"version": ".".join(map(str, etree.LXML_VERSION)), "parse": p, "roundtrip": rt,
                      "retained": retained, "peakKiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
    """

    /// Runs the lxml reference as a subprocess on the same directory.
    static func runLxml(python: String, dir: String, repeats: Int) throws -> Reference {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", lxmlScript, dir, String(repeats)]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw BenchError.reference(String(decoding: errData, as: UTF8.self))
        }
        return try JSONDecoder().decode(Reference.self, from: data)
    }
}
