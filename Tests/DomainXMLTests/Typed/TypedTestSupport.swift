import Foundation
import Testing
@testable import DomainXML
@testable import LosslessXML
import VirtCore
import VirtKitTestSupport

/// A small domain around `inner` (lines already indented by the caller or not: whitespace is
/// irrelevant to the typed layer).
func domainXML(_ inner: String, type: String = "kvm") -> String {
    "<domain type='\(type)'>\n  <name>t</name>\n\(inner)\n</domain>\n"
}

/// Parses `xml` as a domain or records the failure.
func parseDomain(_ xml: String, sourceLocation: SourceLocation = #_sourceLocation) -> DomainDefinition? {
    do { return try DomainDefinition(parsing: xml) } catch {
        Issue.record("parse failed: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Serializes and parses again: what a later reader of the edited file sees.
func reparsed(_ domain: DomainDefinition, sourceLocation: SourceLocation = #_sourceLocation) -> DomainDefinition? {
    parseDomain(domain.serialize(), sourceLocation: sourceLocation)
}

/// The typed property contract on one value: `property` reads `expected` from `xml`; writing
/// `newValue` puts `fragment` in the serialized text; a re-parse reads `newValue` back; and the
/// rest of the document is unchanged (canonically, outside the edited value).
func checkProperty<V: Equatable>(
    _ xml: String,
    _ property: (DomainDefinition) -> Property<V>,
    reads expected: V?,
    write newValue: V,
    serializes fragment: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let domain = parseDomain(xml, sourceLocation: sourceLocation) else { return }
    #expect(domain.serialize() == xml, "unedited round trip", sourceLocation: sourceLocation)
    do {
        #expect(try property(domain).value == expected, sourceLocation: sourceLocation)
    } catch {
        Issue.record("read threw \(error)", sourceLocation: sourceLocation)
    }
    property(domain).set(newValue)
    let text = domain.serialize()
    #expect(text.contains(fragment), "\(fragment) not in:\n\(text)", sourceLocation: sourceLocation)
    guard let again = reparsed(domain, sourceLocation: sourceLocation) else { return }
    #expect((try? property(again).value) == newValue, sourceLocation: sourceLocation)
}

/// Runs `virt-xml-validate FILE domain` on each text (in parallel), returning the messages of
/// the ones libvirt's schema rejects, keyed by index; nil (after a loud skip, or a failure when
/// live resources are required) when the tool is not installed.
func virtXMLValidate(_ texts: [String], sourceLocation: SourceLocation = #_sourceLocation) -> [Int: String]? {
    let tool = "/usr/bin/virt-xml-validate"
    guard FileManager.default.isExecutableFile(atPath: tool) else {
        LiveEnvironment.unavailable("virt-xml-validate not installed (Debian libvirt-clients + libxml2-utils)", sourceLocation: sourceLocation)
        return nil
    }
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("virtkit-xmltyped-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let results = Results(count: texts.count)
    let workers = 4
    // Dispatch threads, not the cooperative pool: each worker blocks on its subprocesses.
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        for i in stride(from: w, to: texts.count, by: workers) {
            let file = dir.appendingPathComponent("doc-\(i).xml")
            do {
                try Data(texts[i].utf8).write(to: file)
                let (status, _, message) = spawnAndWait(tool, [file.path, "domain"])
                if status != 0 { results.set(i, message) }
            } catch {
                results.set(i, "could not write \(file.path): \(error)")
            }
        }
    }
    return results.failures
}

/// Thread-safe collection of per-index failures.
private final class Results: @unchecked Sendable {
    // @unchecked: every access goes through `lock`.
    private let lock = NSLock()
    private var store: [Int: String] = [:]
    init(count: Int) {}
    func set(_ i: Int, _ message: String) { lock.lock(); store[i] = message; lock.unlock() }
    var failures: [Int: String] { lock.lock(); defer { lock.unlock() }; return store }
}
