import ArgumentParser
import DomainXML
import Foundation
import LibvirtXML

/// `virtkit xml`: lossless XML checks over files of any libvirt kind (LosslessXML, DomainXML,
/// LibvirtXML), the kind recognised by the root element.
struct XMLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xml",
        abstract: "Check the lossless round trip and typed coverage of libvirt XML files (domain, network, pool, capabilities, …).",
        subcommands: [XMLRoundtripCommand.self, XMLUnmodeledCommand.self]
    )
}

/// The files named by `paths`, one at a time: a directory yields its `*.xml` entries (sorted;
/// only names are listed, nothing is read ahead), anything else is taken as given. A path that
/// cannot be listed is handed to `failed` and the walk goes on.
private func forEachXMLFile(_ paths: [String], failed: (String, String) -> Void, _ body: (String) -> Void) {
    let fm = FileManager.default
    for path in paths {
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            do {
                for name in try fm.contentsOfDirectory(atPath: path).filter({ $0.hasSuffix(".xml") }).sorted() {
                    body((path as NSString).appendingPathComponent(name))
                }
            } catch {
                failed(path, "cannot list directory: \(error.localizedDescription)")
            }
        } else {
            // Missing files, symlink loops and FIFOs are reported by the bounded reader.
            body(path)
        }
    }
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

// The subcommands are synchronous: they only read files and compute, so there is nothing to
// await and no reason to block a cooperative-pool thread with file I/O.
struct XMLRoundtripCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roundtrip",
        abstract: "Parse, serialize (byte-identical?) and typed read-write (canonically equal?) each file."
    )

    @Argument(help: "libvirt XML files (any kind) or directories of them.")
    var paths: [String]

    @Option(name: .long, help: "Run the whole pass N times (timing; totals count every pass).")
    var `repeat` = 1

    mutating func validate() throws {
        guard `repeat` >= 1 else { throw ValidationError("--repeat must be at least 1") }
    }

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
        /// Files per document kind (by root element), first pass.
        var kinds: [String: Int] = [:]
    }

    struct Report: Encodable {
        var totals: Totals
        var failures: [Failure]
        var invalidValues: [Failure]
    }

    func run() throws {
        var totals = Totals()
        var failures: [Failure] = []
        var invalid: [Failure] = []
        let clock = ContinuousClock()
        let start = clock.now
        var typedTime = Duration.zero
        for pass in 0..<`repeat` {
            let record = pass == 0
            // One file at a time: read (bounded), check, drop, next; a failure is recorded and
            // the batch goes on.
            forEachXMLFile(paths, failed: { if record { failures.append(Failure(file: $0, reason: $1)) } }) { file in
                totals.files += 1
                let bytes: [UInt8]
                do { bytes = try LosslessXMLDocument.readFileBlocking(atPath: file) } catch {
                    if record { failures.append(Failure(file: file, reason: "read: \(error)")) }
                    return
                }
                totals.bytes += bytes.count
                let document: LosslessXMLDocument
                do { document = try LosslessXMLDocument(parsing: bytes) } catch {
                    if record { failures.append(Failure(file: file, reason: "parse: \(error)")) }
                    return
                }
                totals.parsed += 1
                if document.serializedBytes() == bytes {
                    totals.byteIdentical += 1
                } else if record {
                    failures.append(Failure(file: file, reason: "serialize: output differs from input bytes"))
                }
                guard let kind = LibvirtDocumentKind(document: document) else {
                    if record { failures.append(Failure(file: file, reason: "typed: no typed view for <\(document.root.name)>")) }
                    return
                }
                if record { totals.kinds[kind.rawValue, default: 0] += 1 }
                let before = document.canonicalForm()
                let view: any DocumentView
                do { view = try kind.view(of: document) } catch {
                    if record { failures.append(Failure(file: file, reason: "typed: \(error)")) }
                    return
                }
                let typedStart = clock.now
                let summary = view.rewriteModeledProperties()
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
        totals.seconds = elapsed.inSeconds
        totals.typedSeconds = typedTime.inSeconds

        if output.json {
            try printJSON(Report(totals: totals, failures: failures, invalidValues: invalid))
            if !failures.isEmpty { throw ExitCode(1) }
            return
        }
        let mb = Double(totals.bytes) / 1_000_000
        print("files:           \(totals.files) (\(totals.kinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))")
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

    @Argument(help: "libvirt XML files (any kind) or directories of them.")
    var paths: [String]

    @Option(name: .long, help: "How many of the most common passthrough paths to list.")
    var top = 25

    mutating func validate() throws {
        guard top >= 0 else { throw ValidationError("--top must not be negative") }
    }

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
        var files = 0
        var total = CoverageReport()
        var failures: [XMLRoundtripCommand.Failure] = []
        forEachXMLFile(paths, failed: { failures.append(.init(file: $0, reason: $1)) }) { file in
            files += 1
            do {
                let document = try LosslessXMLDocument(parsing: LosslessXMLDocument.readFileBlocking(atPath: file))
                guard let kind = LibvirtDocumentKind(document: document) else {
                    failures.append(.init(file: file, reason: "no typed view for <\(document.root.name)>"))
                    return
                }
                total.merge(try kind.view(of: document).coverage())
            } catch {
                failures.append(.init(file: file, reason: "\(error)"))
            }
        }
        let report = Report(
            files: files,
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
        print("files:      \(files)")
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
