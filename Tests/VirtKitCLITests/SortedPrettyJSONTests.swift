import Foundation
import HostProbe
import Testing
import VirtKitTestSupport
@testable import virtkit

/// The HostProbe fixture trees, materialised once for this target.
private let fixtures: String = {
    let dir = LiveEnvironment.packageRoot().appendingPathComponent("Tests/HostProbeTests/Fixtures")
    return (try? FixtureTree.materializeAll(from: dir, tag: "cli")) ?? "/nonexistent-fixtures"
}()

/// `virtkit probe --json` writes with SortedPrettyJSON; its bytes must be Foundation's.
@Suite("SortedPrettyJSON matches JSONEncoder byte for byte", .offCooperativePool)
struct SortedPrettyJSONTests {
    static func foundation<T: Encodable>(_ v: T) throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try e.encode(v))
    }

    @Test(arguments: ["2s4c2t-2n", "broken", "captured-epyc-kvm-guest-2cpu", "iommu-sriov", "offline-nonuma"])
    func fixtureSnapshots(name: String) throws {
        let snap = try HostProber(rootPath: fixtures + "/" + name).snapshotSync()
        let ours = try SortedPrettyJSON.encode(snap)
        #expect(ours == (try Self.foundation(snap)))
        #expect(!ours.isEmpty)
    }

    @Test func liveSnapshot() throws {
        let snap = try HostProber().snapshotSync()
        #expect(try SortedPrettyJSON.encode(snap) == (try Self.foundation(snap)))
    }

    @Test func sectionAliases() {
        #expect(ProbeSection(cliName: "cpu") == .topology)
        #expect(ProbeSection(cliName: "NET") == .network)
        #expect(ProbeSection(cliName: "sysctl") == .sysctls)
        #expect(ProbeSection(cliName: "bogus") == nil)
    }

    @Test func terminalOutputEscapesControlCharacters() {
        #expect(terminalSafe("eth0") == "eth0")
        #expect(terminalSafe("evil\u{1B}[2Jname\nsecond\u{7F}") == "evil\\u{1b}[2Jname\\u{a}second\\u{7f}")
        #expect(!terminalSafe("a\rb\u{9B}c").unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
    }

    struct Edge: Codable {
        var text: [String]
        var numbers: [Double]
        var keys: [String: Int]
        var intKeys: [Int: String]
        var empty: [Int]
        var emptyObject: [String: Int]
        var missing: Int?
        var nested: [[Bool]]
        var big: UInt64
        var float: Float
    }

    @Test func escapesNumbersKeyOrderAndEmptyContainers() throws {
        let e = Edge(text: ["q\"b\\s/l\n\r\t\u{8}\u{c}\u{1}\u{1b}\u{1f}\u{7f}é😀", ""],
                     numbers: [1.0, 1.5, 1e20, 0.1, 2400.123, -0.0, 123456789012.0, 1e-7],
                     keys: ["a10": 0, "a2": 1, "B": 2, "a": 3, "_x": 4, "HugePages_Total": 5, "Hugepagesize": 6, "é": 7, "e": 8, "Active(anon)": 9],
                     intKeys: [10: "ten", 3: "three"], empty: [], emptyObject: [:], missing: nil,
                     nested: [[], [true, false]], big: .max, float: 2.5)
        #expect(try SortedPrettyJSON.encode(e) == (try Self.foundation(e)))
    }

    @Test func nonFiniteFloatsThrowLikeFoundation() {
        #expect(throws: EncodingError.self) { try SortedPrettyJSON.encode([Double.nan]) }
        #expect(throws: EncodingError.self) { try SortedPrettyJSON.encode([Double.infinity]) }
    }
}
