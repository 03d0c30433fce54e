import ArgumentParser
import DomainXML
import Foundation

/// `virtkit xml`: lossless domain XML checks over files (DomainXML).
struct XMLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xml",
        abstract: "Check DomainXML's lossless round trip and typed coverage on domain XML files.",
        subcommands: [XMLRoundtripCommand.self, XMLUnmodeledCommand.self]
    )
}

/// Expands directories to their `*.xml` files (sorted); files are taken as given.
private func xmlFiles(_ paths: [String]) throws -> [String] {
    var out: [String] = []
    let fm = FileManager.default
    for path in paths {
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw CLIError("no such file: \(path)") }
        if isDir.boolValue {
            let names = try fm.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".xml") }.sorted()
            out += names.map { (path as NSString).appendingPathComponent($0) }
        } else {
            out.append(path)
        }
    }
    return out
}

private func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// Where `a` and `b` first differ, with a little context from each.
private func firstDifference(_ a: String, _ b: String) -> String {
    let x = Array(a.utf8), y = Array(b.utf8)
    var i = 0
    while i < x.count, i < y.count, x[i] == y[i] { i += 1 }
    let from = max(0, i - 40)
    func excerpt(_ s: [UInt8]) -> String { String(decoding: s[min(from, s.count)..<min(i + 80, s.count)], as: UTF8.self) }
    return "at offset \(i): -…\(excerpt(x))… +…\(excerpt(y))…"
}

private func readBytes(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
    return [UInt8](data)
}

// The subcommands are synchronous: they only read files and compute, so there is nothing to
// await and no reason to block a cooperative-pool thread with file I/O.
struct XMLRoundtripCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roundtrip",
        abstract: "Parse, serialize (byte-identical?) and typed read-write (canonically equal?) each file."
    )

    @Argument(help: "Domain XML files or directories of them.")
    var paths: [String]

    @Option(name: .long, help: "Run the whole pass N times (timing; totals count every pass).")
    var `repeat` = 1

    @OptionGroup var output: OutputOptions

    struct Failure: Encodable {
        var file: String
        var reason: String
    }

    struct Totals: Encodable {
        var files = 0
        var parsed = 0
        var byteIdentical = 0
        var canonicalEqual = 0
        var bytes = 0
        var seconds = 0.0
        /// Typed property occurrences read and written back.
        var propertiesRewritten = 0
        /// Values that did not decode (kept untouched; listed in `invalidValues`).
        var invalidValueCount = 0
        /// Of `seconds`: time in the typed read-write pass (the rest is parse, serialize, compare).
        var typedSeconds = 0.0
    }

    struct Report: Encodable {
        var totals: Totals
        var failures: [Failure]
        var invalidValues: [Failure]
    }

    func run() throws {
        guard `repeat` >= 1 else { throw CLIError("--repeat must be at least 1") }
        let files = try xmlFiles(paths)
        let inputs = try files.map { ($0, try readBytes($0)) }
        var totals = Totals()
        var failures: [Failure] = []
        var invalid: [Failure] = []
        let clock = ContinuousClock()
        let start = clock.now
        var typedTime = Duration.zero
        for pass in 0..<`repeat` {
            let record = pass == 0
            for (file, bytes) in inputs {
                totals.files += 1
                totals.bytes += bytes.count
                let document: LosslessXMLDocument
                do { document = try LosslessXMLDocument(parsing: bytes) } catch {
                    if record { failures.append(Failure(file: file, reason: "parse: \(error)")) }
                    continue
                }
                totals.parsed += 1
                if document.serializedBytes() == bytes {
                    totals.byteIdentical += 1
                } else if record {
                    failures.append(Failure(file: file, reason: "serialize: output differs from input bytes"))
                }
                let before = document.canonicalForm()
                let domain: DomainDefinition
                do { domain = try DomainDefinition(document: document) } catch {
                    if record { failures.append(Failure(file: file, reason: "typed: \(error)")) }
                    continue
                }
                let typedStart = clock.now
                let summary = domain.rewriteModeledProperties()
                typedTime += typedStart.duration(to: clock.now)
                totals.propertiesRewritten += summary.rewritten
                totals.invalidValueCount += summary.unreadable.count
                if record { invalid += summary.unreadable.map { Failure(file: file, reason: $0.description) } }
                if document.canonicalForm() == before {
                    totals.canonicalEqual += 1
                } else if record {
                    failures.append(Failure(file: file, reason: "typed read-write changed the canonical form: " + firstDifference(before, document.canonicalForm())))
                }
            }
        }
        let elapsed = start.duration(to: clock.now)
        totals.seconds = seconds(elapsed)
        totals.typedSeconds = seconds(typedTime)

        if output.json {
            try printJSON(Report(totals: totals, failures: failures, invalidValues: invalid))
            if !failures.isEmpty { throw ExitCode(1) }
            return
        }
        let mb = Double(totals.bytes) / 1_000_000
        print("files:           \(totals.files)")
        print("parsed:          \(totals.parsed)")
        print("byte-identical:  \(totals.byteIdentical)")
        print("canonical-equal: \(totals.canonicalEqual) (after typed read-write of \(totals.propertiesRewritten) properties)")
        print("bytes:           \(totals.bytes) in \(String(format: "%.3f", totals.seconds)) s (\(String(format: "%.1f", totals.seconds > 0 ? mb / totals.seconds : 0)) MB/s overall; typed pass \(String(format: "%.3f", totals.typedSeconds)) s)")
        if !invalid.isEmpty {
            print("invalid values (\(invalid.count), left untouched):")
            for f in invalid.prefix(20) { print("  \(f.file): \(f.reason)") }
        }
        if !failures.isEmpty {
            print("failures (\(failures.count)):")
            for f in failures { print("  \(f.file): \(f.reason)") }
            throw ExitCode(1)
        }
    }
}

struct XMLUnmodeledCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unmodeled",
        abstract: "Typed coverage: element and attribute occurrences typed vs passed through untouched."
    )

    @Argument(help: "Domain XML files or directories of them.")
    var paths: [String]

    @Option(name: .long, help: "How many of the most common passthrough paths to list.")
    var top = 25

    @OptionGroup var output: OutputOptions

    struct Counts: Encodable {
        var typed: Int
        var passthrough: Int
        var coverage: Double
    }

    struct PathCount: Encodable {
        var path: String
        var count: Int
    }

    struct Report: Encodable {
        var files: Int
        var elements: Counts
        var attributes: Counts
        var passthrough: [PathCount]
        var failures: [XMLRoundtripCommand.Failure]
    }

    func run() throws {
        let files = try xmlFiles(paths)
        var total = CoverageReport()
        var failures: [XMLRoundtripCommand.Failure] = []
        for file in files {
            do {
                let domain = try DomainDefinition(document: LosslessXMLDocument(parsing: readBytes(file)))
                total.merge(domain.coverage())
            } catch {
                failures.append(.init(file: file, reason: "\(error)"))
            }
        }
        let report = Report(
            files: files.count,
            elements: Counts(typed: total.typedElements, passthrough: total.passthroughElements, coverage: total.elementCoverage),
            attributes: Counts(typed: total.typedAttributes, passthrough: total.passthroughAttributes, coverage: total.attributeCoverage),
            passthrough: total.top(top).map { PathCount(path: $0.path, count: $0.count) },
            failures: failures)
        if output.json {
            try printJSON(report)
            if !failures.isEmpty { throw ExitCode(1) }
            return
        }
        func pct(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }
        print("files:      \(files.count)")
        print("elements:   \(total.typedElements) typed, \(total.passthroughElements) passthrough (\(pct(total.elementCoverage)) typed)")
        print("attributes: \(total.typedAttributes) typed, \(total.passthroughAttributes) passthrough (\(pct(total.attributeCoverage)) typed)")
        if !report.passthrough.isEmpty {
            print("most common passthrough paths:")
            for p in report.passthrough { print(String(format: "%7d  ", p.count) + p.path) }
        }
        for f in failures { print("failed: \(f.file): \(f.reason)") }
        if !failures.isEmpty { throw ExitCode(1) }
    }
}
