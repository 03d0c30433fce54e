import Foundation
import Testing
import Tuning
import VirtKitTestSupport
@testable import VirtKitExporter

@Suite struct ExpositionWriterTests {
    static let family = MetricFamily("t_metric", .gauge, "Help with \\ and\nnewline \"quoted\".", source: "test")

    func render(_ body: (inout ExpositionWriter) -> Void) -> String {
        var w = ExpositionWriter()
        body(&w)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    @Test func labelValuesEscapeBackslashQuoteAndNewline() throws {
        let hostile = "a\\b\"c\nd"
        let text = render { w in
            w.family(Self.family)
            w.sample(LabelSet(["k": hostile, "plain": "é ü"]), value: .integer(1))
        }
        #expect(text.contains(#"t_metric{k="a\\b\"c\nd",plain="é ü"} 1"#))
        let parsed = try ParsedExposition(text)
        #expect(parsed.samples == [.init(name: "t_metric", labels: ["k": hostile, "plain": "é ü"], value: 1)])
    }

    @Test func helpEscapesBackslashAndNewlineOnly() {
        let text = render { w in
            w.family(Self.family)
            w.sample(LabelSet([]), value: .integer(0))
        }
        #expect(text.hasPrefix("# HELP t_metric Help with \\\\ and\\nnewline \"quoted\".\n# TYPE t_metric gauge\nt_metric 0\n"))
    }

    @Test func aFamilyWithoutSamplesIsLeftOut() {
        let text = render { w in
            w.family(Self.family)
            w.family(MetricFamily("t_other", .counter, "Other.", source: "test"))
            w.sample(LabelSet(["a": "1"]), value: .integer(7))
        }
        #expect(!text.contains("t_metric"))
        #expect(text == "# HELP t_other Other.\n# TYPE t_other counter\nt_other{a=\"1\"} 7\n")
    }

    @Test(arguments: [
        (MetricValue.integer(0), "0"), (.integer(UInt64.max), "18446744073709551615"), (.integer(1024), "1024"),
        (.double(1.5), "1.5"), (.double(.nan), "NaN"), (.double(.infinity), "+Inf"), (.double(-.infinity), "-Inf"),
        (.seconds(Duration.milliseconds(1500)), "1.5"), (.seconds(Duration.nanoseconds(1)), "1e-09"),
    ])
    func valuesAreWrittenExactly(value: MetricValue, expected: String) {
        let text = render { w in
            w.family(Self.family)
            w.sample(LabelSet([]), value: value)
        }
        #expect(text.hasSuffix("t_metric \(expected)\n"))
    }

    /// The one-off labels written straight into the exposition read the same as a composed
    /// `LabelSet`, escaping included, with and without a prefix.
    @Test func extraLabelsWrittenInPlaceEqualAComposedLabelSet() {
        for prefix in [LabelSet(["host": #"h"1\"#]), LabelSet([])] {
            let direct = render { w in
                w.family(Self.family)
                w.sample(prefix, ["vcpu": "0", "reason": "a\"b\nc"], value: .integer(3))
            }
            let composed = render { w in
                w.family(Self.family)
                w.sample(LabelSet(prefix, ["vcpu": "0", "reason": "a\"b\nc"]), value: .integer(3))
            }
            #expect(direct == composed)
        }
    }

    @Test func labelSetsCompose() {
        let base = LabelSet(["host": "h"])
        #expect(String(decoding: LabelSet(base, ["vcpu": "0"]).escaped, as: UTF8.self) == #"host="h",vcpu="0""#)
        #expect(LabelSet(LabelSet([]), ["a": "b"]) == LabelSet(["a": "b"]))
    }

    @Test func everyFamilyIsDocumented() throws {
        let doc = try String(contentsOf: LiveEnvironment.packageRoot().appendingPathComponent("Documentation/Exporter.md"), encoding: .utf8)
        for f in MetricFamily.all {
            #expect(doc.contains("`\(f.name)`"), "Documentation/Exporter.md lacks \(f.name)")
        }
        #expect(Set(MetricFamily.all.map(\.name)).count == MetricFamily.all.count)
    }
}

@Suite struct HugepageMapsTests {
    /// `huge` mappings count per node in `hugepageBytesPerNode` (pages × kernelpagesize_kB);
    /// other mappings only in `bytesPerNode`.
    @Test func numaMapsHugeLinesArePerNodeHugepageBytes() {
        let maps = """
        7f0000000000 bind:0 file=/dev/hugepages/libvirt/qemu/1-g/qemu_back_mem.pc.ram huge dirty=3 N0=2 N1=1 kernelpagesize_kB=2048
        7f1000000000 default anon=10 dirty=10 N0=6 N1=4 kernelpagesize_kB=4
        7f2000000000 default file=/dev/hugepages1G/x huge N1=1 kernelpagesize_kB=1048576
        7f3000000000 default
        """
        let p = GuestMemoryPlacement(numaMaps: maps)
        let mib2: UInt64 = 2 << 20, gib1: UInt64 = 1 << 30, page: UInt64 = 4096
        let huge: [Int: UInt64] = [0: 2 * mib2, 1: mib2 + gib1]
        let all: [Int: UInt64] = [0: 2 * mib2 + 6 * page, 1: mib2 + gib1 + 4 * page]
        #expect(p.hugepageBytesPerNode == huge)
        #expect(p.bytesPerNode == all)
    }

    @Test func onlyLocalQemuURIsReadHostFiles() {
        for uri in ["qemu:///system", "qemu+unix:///system?socket=/run/x", "qemu:///session"] { #expect(HostCollector.isLocal(uri), "\(uri)") }
        for uri in ["qemu+ssh://hostb/system", "qemu+tcp://10.0.0.1/system", "test:///default", "xen:///system", "qemu", "qemu+ssh://u@h/system"] {
            #expect(!HostCollector.isLocal(uri), "\(uri)")
        }
    }
}
