// `virtkit-bench libvirtxml`: every libvirt XML kind (capabilities, domain capabilities,
// networks, pools, volumes, node devices, secrets, snapshots, checkpoints, domains) vs
// python3-lxml, in the same run, per corpus folder.
//
// Per kind: parse (Swift `LosslessXMLDocument(parsing:)` vs `etree.fromstring`) and parse +
// node-by-node emission (`serializedBytes(walkingTree: true)`, every tag and text copied from
// its span) vs `etree.tostring(etree.fromstring(b))`; repetitions alternate Swift and the
// persistent lxml worker (DomainXMLBench.LxmlWorker). Ratios: best vs best, and the median of
// paired ratios. Memory: bytes held per document with every tree of the folder held at once.
import DomainXML
import Foundation
import LibvirtXML

enum LibvirtXMLBench {
    static let usage = """
    usage: virtkit-bench libvirtxml [--corpus DIR] [--repeat N] [--python PATH] [--no-reference] [--wall]
      DIR defaults to $VIRTKIT_CORPUS/libvirt-9.0.0 (its xml/* folders and domainxml);
      N defaults to 20; the reference is /usr/bin/python3 with python3-lxml.
      Both sides are timed in thread CPU time (a shared machine's preemption is not counted);
      --wall times both in wall-clock time instead.
    """

    static func run(arguments: [String]) async throws {
        var corpus: String?
        var repeats = 20
        var python = "/usr/bin/python3"
        var reference = true
        var wall = false
        var it = arguments.makeIterator()
        while let a = it.next() {
            switch a {
            case "--corpus": corpus = it.next()
            case "--repeat": repeats = max(1, Int(it.next() ?? "") ?? repeats)
            case "--python": python = it.next() ?? python
            case "--no-reference": reference = false
            case "--wall": wall = true
            default:
                FileHandle.standardError.write(Data("libvirtxml: unknown option \(a)\n\(usage)\n".utf8))
                exit(2)
            }
        }
        let base = ProcessInfo.processInfo.environment["VIRTKIT_CORPUS"].flatMap { $0.isEmpty ? nil : $0 } ?? "../shared/corpus"
        let root = corpus ?? base + "/libvirt-9.0.0"
        let kinds = ((try? FileManager.default.contentsOfDirectory(atPath: root + "/xml")) ?? []).sorted().map { root + "/xml/" + $0 }
            + [root + "/domainxml"]
        #if DEBUG
        print("libvirtxml: WARNING: debug build, figures are not meaningful (swift build -c release)")
        #endif
        print("libvirtxml: \(repeats) repetitions per pass; \(wall ? "wall-clock" : "thread CPU") time; MB/s best (MB = 10^6 bytes); ratio = lxml time / Swift time (best vs best, median of paired)")
        print("kind                        files    bytes   parse MB/s Swift / lxml   ratio          parse+emit MB/s Swift / lxml   ratio          held/doc Swift / lxml")
        var sink = 0
        for dir in kinds {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".xml") }.sorted()
            let files: [[UInt8]] = names.compactMap { FileManager.default.contents(atPath: dir + "/" + $0).map { [UInt8]($0) } }
            guard !files.isEmpty else { continue }
            let total = files.reduce(0) { $0 + $1.count }
            let rss0 = DomainXMLBench.currentRSS()
            var held: [LosslessXMLDocument] = []
            for f in files { held.append(try LosslessXMLDocument(parsing: f)) }
            let retained = DomainXMLBench.currentRSS() - rss0
            for (d, f) in zip(held, files) where d.serializedBytes(walkingTree: true) != f {
                throw DomainXMLBench.BenchError.notIdentical(1)
            }
            held.removeAll()
            var worker: DomainXMLBench.LxmlWorker?
            if reference { worker = try? DomainXMLBench.LxmlWorker(python: python, dir: dir, cpuTime: !wall) }
            // Small folders: repeat each pass enough times to be above timer resolution.
            let inner = max(1, 2_000_000 / max(total, 1))
            let passes: [(lxml: String, body: () throws -> Void)] = [
                ("parse", { for _ in 0..<inner { for f in files { sink &+= try LosslessXMLDocument(parsing: f).root.attributeNames.count } } }),
                ("roundtrip", { for _ in 0..<inner { for f in files { sink &+= try LosslessXMLDocument(parsing: f).serializedBytes(walkingTree: true).count } } }),
            ]
            var line = "\(dir.split(separator: "/").last.map(String.init)!.padding(toLength: 26, withPad: " ", startingAt: 0)) \(DomainXMLBench.fmt(Double(files.count), 6).dropLast(2))  \(String(total).padding(toLength: 8, withPad: " ", startingAt: 0))"
            for pass in passes {
                try pass.body()
                var mine: [Double] = [], theirs: [Double] = []
                for _ in 0..<repeats {
                    mine.append(try wall ? DomainXMLBench.time(pass.body) : DomainXMLBench.cpuTime(pass.body))
                    if let w = worker {
                        // The worker runs its pass once per call: scale to `inner` runs.
                        var t = 0.0
                        for _ in 0..<inner { t += try w.run(pass.lxml) }
                        theirs.append(t)
                    }
                }
                func mbps(_ t: Double) -> Double { Double(total * inner) / t / 1e6 }
                line += "  \(DomainXMLBench.fmt(mbps(mine.min()!), 7)) / "
                if theirs.isEmpty {
                    line += "      -      -               "
                } else {
                    let paired = median(zip(theirs, mine).map { $0 / $1 })
                    line += "\(DomainXMLBench.fmt(mbps(theirs.min()!), 6))   x\(DomainXMLBench.fmt(theirs.min()! / mine.min()!, 4)), x\(DomainXMLBench.fmt(paired, 4))"
                }
            }
            var memory = "  \(DomainXMLBench.fmt(Double(retained) / Double(files.count) / 1e3, 6)) kB"
            if let w = worker {
                let m = try w.memory()
                memory += " / \(DomainXMLBench.fmt(Double(m.retained) / Double(files.count) / 1e3, 6)) kB"
                w.stop()
            }
            print(line + memory)
        }
        if sink == 42 { print("") }
    }
}
