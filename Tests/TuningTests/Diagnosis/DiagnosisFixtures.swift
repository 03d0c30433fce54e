import Foundation
import Testing
import VirtCore
import HostProbe
import DomainXML
import Libvirt
import Tuning
import VirtKitTestSupport

/// Fixture hosts (HostProbe's committed trees, copied and edited per test) and fixture guests
/// (domain XML documents under `Fixtures/guests`).
enum DiagnosisFixtures {
    static let root = LiveEnvironment.packageRoot(from: #filePath)
    static let guestDir = root.appendingPathComponent("Tests/TuningTests/Diagnosis/Fixtures/guests")
    static let hostTrees = root.appendingPathComponent("Tests/HostProbeTests/Fixtures")

    /// Edits that make the 2-node tree a well-tuned virtualization host: vhost-net present,
    /// no huge page pools reserved, the guests' NVMe on the `none` scheduler.
    static let healthyEdits: [String: String?] = {
        var e: [String: String?] = [
            "/dev/vhost-net": "",
            "/sys/block/nvme0n1/dev": "259:0\n",
            "/sys/block/nvme0n1/queue/scheduler": "[none] mq-deadline kyber\n",
        ]
        for size in ["2048kB", "1048576kB"] {
            for file in ["nr_hugepages", "free_hugepages"] {
                e["/sys/kernel/mm/hugepages/hugepages-\(size)/\(file)"] = "0\n"
                for node in 0...1 { e["/sys/devices/system/node/node\(node)/hugepages/hugepages-\(size)/\(file)"] = "0\n" }
            }
        }
        return e
    }()

    private static let baseDir: String = {
        do { return try FixtureTree.materializeAll(from: hostTrees, tag: "diagnosis") } catch {
            Issue.record("cannot materialise the fixture trees: \(error)")
            return "/nonexistent-fixtures"
        }
    }()
    static func base(_ tree: String) -> String { baseDir + "/" + tree }

    /// A fresh copy of `tree` with `healthyEdits` (when `healthy`) and then `edits` applied
    /// (nil content deletes the file), probed in full.
    static func host(_ edits: [String: String?] = [:], tree: String = "2s4c2t-2n", healthy: Bool = true) -> HostSnapshot {
        let dst = NSTemporaryDirectory() + "virtkit-diagnosis-\(getpid())-\(UUID().uuidString.prefix(8))"
        // A hard-linked copy of the tree materialised once per run: edits unlink before writing.
        let (rc, _, err) = spawnAndWait("/bin/cp", ["-al", base(tree), dst])
        #expect(rc == 0, "cp -al: \(err)")
        defer { try? FileManager.default.removeItem(atPath: dst) }
        // Healthy edits of huge page counters apply only where the tree has them.
        let baseline = (healthy ? healthyEdits : [:]).filter { !$0.key.contains("hugepages") || FileManager.default.fileExists(atPath: dst + $0.key) }
        for (path, content) in baseline.merging(edits, uniquingKeysWith: { _, new in new }) {
            let full = dst + path
            try? FileManager.default.removeItem(atPath: full)
            if let content {
                try? FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                #expect(FileManager.default.createFile(atPath: full, contents: Data(content.utf8)), "write \(full)")
            }
        }
        do { return try HostProber(rootPath: dst).snapshotSync() } catch {
            Issue.record("probe of \(dst): \(error)")
            return HostSnapshot(root: dst)
        }
    }

    /// The guest `name` (`Fixtures/guests/NAME.xml`) with `status`.
    static func guest(_ name: String, _ status: DomainStatus = .running(.booted), pid: Int? = nil) throws -> GuestFacts {
        let text = try String(contentsOf: guestDir.appendingPathComponent(name + ".xml"), encoding: .utf8)
        let definition = try DomainDefinition(parsing: text)
        let uuid = try #require(try definition.uuid.value)
        let facts = GuestDefinitionFacts(definition)
        #expect(facts.unreadable.isEmpty, "\(name): \(facts.unreadable)")
        return GuestFacts(reference: GuestReference(uuid: uuid, name: name), status: status, definition: facts, pid: pid)
    }

    static func input(host: HostSnapshot? = host(), rates: RateSample? = nil, _ guests: [GuestFacts]) -> DiagnosisInput {
        DiagnosisInput(hostName: "fixture", host: host, hostRates: rates, guests: guests)
    }

    /// Recorded host rates (`Fixtures/rates/NAME.json`, RateSample's JSON form).
    static func rates(_ name: String) throws -> RateSample {
        let url = root.appendingPathComponent("Tests/TuningTests/Diagnosis/Fixtures/rates/\(name).json")
        return try JSONDecoder().decode(RateSample.self, from: Data(contentsOf: url))
    }

    static func diagnose(_ input: DiagnosisInput, _ thresholds: DiagnosisThresholds = DiagnosisThresholds()) -> DiagnosisReport {
        Diagnoser(thresholds: thresholds).diagnose(input)
    }
}

extension DiagnosisReport {
    var ids: Set<String> { Set(findings.map(\.id.rawValue)) }
}
