import Foundation
import Testing
@testable import DomainXML
@testable import LosslessXML
import VirtKitTestSupport

/// Issue #18: memory per input byte is bounded, and the unmodeled report stays linear.
@Suite("XML resource bounds", .offCooperativePool)
struct XMLResourceBoundTests {
    static func residentBytes() -> Int? {
        guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let f = s.split(separator: " ")
        guard f.count > 1, let pages = Int(f[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    @Test func elementCountIsLimited() {
        let many = "<a>" + String(repeating: "<b/>", count: 1_000_000) + "</a>"
        let e = parseError(many)
        #expect(e?.reason == .elementLimitExceeded(1_000_000))
        let small = XMLParseLimits(maxElements: 10)
        #expect(parseError("<a>" + String(repeating: "<b/>", count: 10) + "</a>", limits: small)?.reason == .elementLimitExceeded(10))
        #expect(parseError("<a>" + String(repeating: "<b/>", count: 9) + "</a>", limits: small) == nil)
    }

    /// The densest input, `<b/>` (4 bytes per element), costs one element object each: the
    /// bound is 100 bytes of RSS per input byte (measured ~65, ~260 per element in a debug
    /// build), and `maxElements` caps a tree at 1,000,000 elements (~260 MB) whatever the size.
    @Test func memoryPerInputByteIsBounded() throws {
        let count = 400_000
        let bytes = Array(("<a>" + String(repeating: "<b/>", count: count) + "</a>").utf8)
        guard let before = Self.residentBytes() else {
            Issue.record("cannot read /proc/self/statm")
            return
        }
        let doc = try LosslessXMLDocument(parsing: bytes)
        let after = try #require(Self.residentBytes())
        let perByte = Double(after - before) / Double(bytes.count)
        print("memory: \(after - before) bytes of RSS for \(bytes.count) input bytes (\(perByte) per byte, \(Double(after - before) / Double(count)) per element)")
        #expect(doc.root.childElements.count == count)
        #expect(perByte < 100)
    }

    /// Deep paths of long names: the report is built in time linear in the input (each path is
    /// capped), so 200 levels of 2 KB names take well under a second, not hours.
    @Test func unmodeledReportIsLinearInDeepLongPaths() throws {
        let name = String(repeating: "n", count: 2000)
        let depth = 200
        let xml = "<domain><name>x</name>" + String(repeating: "<\(name) a='1'>", count: depth) + String(repeating: "</\(name)>", count: depth) + "</domain>"
        let domain = try DomainDefinition(parsing: xml)
        let clock = ContinuousClock()
        var report = CoverageReport()
        let elapsed = clock.measure { report = domain.coverage() }
        #expect(report.passthroughElements == depth)
        #expect(report.passthrough.keys.allSatisfy { $0.utf8.count <= maxCoveragePath + 8 })
        #expect(elapsed < .seconds(20), "\(elapsed)")  // loose: the process shares 2 cores; the caps above are the proof
    }
}
