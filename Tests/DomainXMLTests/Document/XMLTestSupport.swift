import Foundation
import Testing
@testable import DomainXML
@testable import LosslessXML
import VirtKitTestSupport

/// The libvirt 9.0.0 domain XML corpus, loaded once: (file name, bytes). Nil (after a loud skip,
/// or a failure under VIRTKIT_REQUIRE_LIVE=1) when $VIRTKIT_CORPUS is missing.
enum DocCorpus {
    /// libvirt 9.0.0's `qemuxml2argvdata` holds 1,070 domain documents.
    static let minimumCount = 1070

    static func load() -> [(name: String, bytes: [UInt8])]? {
        guard let dir = LiveEnvironment.corpus("libvirt-9.0.0/domainxml") else { return nil }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
            .filter { $0.hasSuffix(".xml") }
            .sorted()
        // A floor, so a missing or emptied corpus fails every test that uses it.
        #expect(names.count >= minimumCount, "\(dir.path) holds \(names.count) documents, expected \(minimumCount)")
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent(name).path) else {
                Issue.record("cannot read \(name)")
                return nil
            }
            return (name, [UInt8](data))
        }
    }
}

extension Array where Element == UInt8 {
    var utf8String: String { String(decoding: self, as: UTF8.self) }
}

/// Parses or records the failure.
func parseOrNil(_ bytes: [UInt8], limits: XMLParseLimits = .default) -> LosslessXMLDocument? {
    do { return try LosslessXMLDocument(parsing: bytes, limits: limits) } catch { return nil }
}

/// The error thrown for `text`, or nil when it parsed.
func parseError(_ text: String, limits: XMLParseLimits = .default) -> XMLParseError? {
    parseError(Array(text.utf8), limits: limits)
}

func parseError(_ bytes: [UInt8], limits: XMLParseLimits = .default) -> XMLParseError? {
    do {
        _ = try LosslessXMLDocument(parsing: bytes, limits: limits)
        return nil
    } catch {
        return error
    }
}

/// Depth-first list of every element under (and including) `e`.
func allElements(_ e: LosslessXMLElement) -> [LosslessXMLElement] {
    var out = [e]
    var k = 0
    while k < out.count {
        out.append(contentsOf: out[k].childElements)
        k += 1
    }
    return out
}
