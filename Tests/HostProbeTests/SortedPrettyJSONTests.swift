import Foundation
import HostProbe
import Testing

/// `virtkit probe --json` writes with SortedPrettyJSON; its bytes must be Foundation's.
@Suite("SortedPrettyJSON matches JSONEncoder byte for byte")
struct SortedPrettyJSONTests {
    static func foundation<T: Encodable>(_ v: T) throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try e.encode(v))
    }

    @Test(arguments: ["2s4c2t-2n", "broken", "captured-epyc-kvm-guest-2cpu", "iommu-sriov", "offline-nonuma"])
    func fixtureSnapshots(name: String) throws {
        let snap = Fixtures.probe(name)
        let ours = try SortedPrettyJSON.encode(snap)
        #expect(ours == (try Self.foundation(snap)))
        #expect(!ours.isEmpty)
    }

    @Test func liveSnapshot() throws {
        let snap = HostProber().snapshotSync()
        #expect(try SortedPrettyJSON.encode(snap) == (try Self.foundation(snap)))
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
