import Foundation
import Testing
import DomainXML
@testable import LibvirtXML
@testable import LosslessXML
import VirtCore
import VirtKitTestSupport

/// One corpus folder of libvirt 9.0.0's test documents for a kind.
struct KindCorpus: Sendable, CustomTestStringConvertible {
    let folder: String
    let kind: LibvirtDocumentKind
    /// libvirt's own count for the folder: an emptied or partial folder fails.
    let count: Int
    /// Documents libvirt itself rejects (its tests expect a parse or schema failure).
    let invalid: Set<String>

    var testDescription: String { folder }

    static let all: [KindCorpus] = [
        KindCorpus(folder: "capabilities", kind: .capabilities, count: 4, invalid: []),
        KindCorpus(folder: "capabilities-from-sysfs", kind: .capabilities, count: 11, invalid: []),
        KindCorpus(folder: "domaincaps", kind: .domainCapabilities, count: 31, invalid: []),
        KindCorpus(folder: "network", kind: .network, count: 46, invalid: []),
        KindCorpus(folder: "networkport", kind: .networkPort, count: 7, invalid: []),
        KindCorpus(folder: "storagepool", kind: .storagePool, count: 39, invalid: []),
        KindCorpus(folder: "storagevol", kind: .storageVolume, count: 26, invalid: []),
        KindCorpus(folder: "nodedev", kind: .nodeDevice, count: 50, invalid: [
            "ccw_0_0_10000-invalid.xml", "css_0_0_10000-invalid.xml", "css_0_0_ffff_channel_dev_addr-invalid.xml",
        ]),
        KindCorpus(folder: "secret", kind: .secret, count: 7, invalid: []),
        KindCorpus(folder: "snapshot", kind: .domainSnapshot, count: 12, invalid: [
            "disk-invalid.xml", "disk-network-seclabel-invalid.xml",
        ]),
        KindCorpus(folder: "checkpoint", kind: .domainCheckpoint, count: 6, invalid: [
            "disk-invalid.xml", "name-invalid.xml",
        ]),
    ]

    /// The documents, (file name, bytes); nil after a loud skip when the corpus is missing.
    func load() -> [(name: String, bytes: [UInt8])]? {
        guard let dir = LiveEnvironment.corpus("libvirt-9.0.0/xml/" + folder) else { return nil }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
            .filter { $0.hasSuffix(".xml") }.sorted()
        #expect(names.count == count, "\(dir.path) holds \(names.count) documents, expected \(count)")
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent(name).path) else {
                Issue.record("cannot read \(name)")
                return nil
            }
            return (name, [UInt8](data))
        }
    }
}

@Suite("Every libvirt XML kind over libvirt's own test documents", .offCooperativePool)
struct KindCorpusTests {
    /// 100 % parse, byte-identical unedited round trip, typed view by root element, canonical
    /// equality after reading and writing back every modeled value; libvirt's invalid documents
    /// rejected by `validate()` with a path, and no problem reported on the valid ones.
    @Test(arguments: KindCorpus.all)
    func losslessAndTyped(_ corpus: KindCorpus) throws {
        guard let docs = corpus.load() else { return }
        var rewritten = 0
        var typed = 0
        for (name, bytes) in docs {
            let document = try LosslessXMLDocument(parsing: bytes)
            #expect(document.serializedBytes() == bytes, "\(name): not byte-identical")
            #expect(document.serializedBytes(walkingTree: true) == bytes, "\(name): node-by-node not byte-identical")
            #expect(LibvirtDocumentKind(document: document) == corpus.kind, "\(name): kind")
            let view = try corpus.kind.view(of: document)
            let problems = view.validate()
            if corpus.invalid.contains(name) {
                #expect(!problems.isEmpty, "\(name): libvirt rejects it, validate() found nothing")
                for p in problems { #expect(p.path.hasPrefix("/" + corpus.kind.view.elementName), "\(name): \(p)") }
            } else {
                #expect(problems.isEmpty, "\(name): \(problems)")
            }
            let before = document.canonicalForm()
            let summary = view.rewriteModeledProperties()
            rewritten += summary.rewritten
            #expect(document.canonicalForm() == before, "\(name): typed read-write changed the document")
            #expect(document.serializedBytes() == bytes, "\(name): typed read-write changed bytes")
            typed += 1
        }
        #expect(typed == corpus.count)
        // Every document has typed values: a view that models nothing fails here.
        #expect(rewritten >= corpus.count, "\(corpus.folder): only \(rewritten) values rewritten")
        print("\(corpus.folder): \(typed)/\(corpus.count) parsed, byte-identical and canonically equal after \(rewritten) typed rewrites")
    }

    /// Typed coverage per kind: what the unmodeled report counts.
    @Test(arguments: KindCorpus.all)
    func coverage(_ corpus: KindCorpus) throws {
        guard let docs = corpus.load() else { return }
        var total = CoverageReport()
        for (_, bytes) in docs {
            total.merge(try corpus.kind.view(of: LosslessXMLDocument(parsing: bytes)).coverage())
        }
        print("\(corpus.folder) coverage: elements \(String(format: "%.1f", total.elementCoverage * 100))%, attributes \(String(format: "%.1f", total.attributeCoverage * 100))%; top passthrough: \(total.top(5).map { "\($0.path)×\($0.count)" })")
        #expect(total.typedElements > 0)
        #expect(total.elementCoverage >= 0.95, "\(total.top(10))")
        #expect(total.attributeCoverage >= 0.95, "\(total.top(10))")
    }

    @Test func everyKindSchemaIsSound() {
        func problems<V: DocumentView>(_ view: V.Type) -> [String] {
            V.schema.spec.reachable().flatMap(\.declarationProblems)
        }
        for kind in LibvirtDocumentKind.allCases {
            let view: any DocumentView.Type = kind.view
            let found = problems(view)
            #expect(found.isEmpty, "\(kind): \(found)")
            #expect(LibvirtDocumentKind(rootElement: kind.view.elementName) == kind)
        }
        #expect(LibvirtDocumentKind(rootElement: "html") == nil)
    }
}
