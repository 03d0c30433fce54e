import Foundation
import Testing
import VirtCore
import Tuning
import VirtKitTestSupport

@Suite(.offCooperativePool) struct FindingModelTests {
    typealias F = DiagnosisFixtures

    @Test func jsonHasStableKeysAndRoundTrips() throws {
        let report = F.diagnose(F.input(host: F.host(["/proc/sys/vm/swappiness": "60\n"]), rates: try F.rates("loaded"),
                                        [try WindowRuleTests.guest(delayMs: 5_500, throttled: 50), try F.guest("disk-cache")]))
        #expect(report.findings.count >= 8)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(report)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let findings = try #require(object["findings"] as? [[String: Any]])
        for f in findings {
            for key in ["id", "severity", "subject", "evidence", "remedies", "source", "title", "explanation"] {
                #expect(f[key] != nil, "finding lacks \(key)")
            }
            for e in f["evidence"] as? [[String: Any]] ?? [] {
                #expect(Set(e.keys).isSuperset(of: ["name", "value", "unit", "display", "source"]))
            }
            for r in f["remedies"] as? [[String: Any]] ?? [] {
                #expect(Set(r.keys).isSuperset(of: ["kind", "applies", "summary"]))
            }
        }
        let back = try JSONDecoder().decode(DiagnosisReport.self, from: data)
        #expect(back == report)
    }

    @Test func severityOrderAndSorting() throws {
        #expect(Finding.Severity.info < .warning && Finding.Severity.warning < .critical)
        let report = F.diagnose(F.input([try F.guest("disk-cache"), try F.guest("no-agent")]))
        #expect(report.findings.first?.severity == .critical)
        #expect(report.findings.map(\.severity) == report.findings.map(\.severity).sorted(by: >))
    }

    @Test func thresholdOverrides() throws {
        let t = try DiagnosisThresholds(overrides: ["vcpuDelayWarning": "0.05", "largeGuestMemoryGiB": "8"])
        #expect(t.vcpuDelayWarning == 0.05)
        #expect(t.largeGuestMemory == .gibibytes(8))
        #expect(throws: DiagnosisThresholdError.unknownName("nope")) { try DiagnosisThresholds(overrides: ["nope": "1"]) }
        #expect(throws: DiagnosisThresholdError.badValue(name: "iowaitPercent", value: "lots")) { try DiagnosisThresholds(overrides: ["iowaitPercent": "lots"]) }
    }

    @Test func doctorViewKeepsOneGuestAndTheHost() throws {
        let a = try F.guest("no-agent"), b = try F.guest("pinned-cpu13")
        let input = F.input(host: F.host(["/proc/sys/vm/swappiness": "60\n"]), [a, b])
        let report = Diagnoser().diagnose(guest: a.reference, in: input)
        #expect(report.ids == ["guest.agent.missing", "host.swappiness"])
    }
}

