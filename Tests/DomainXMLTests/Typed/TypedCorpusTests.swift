import Foundation
import Testing
@testable import DomainXML
@testable import LosslessXML
import VirtCore
import VirtKitTestSupport

/// Conformance of the typed layer over the libvirt 9.0.0 domain XML corpus (1,070 documents).
@Suite("Typed layer over the corpus", .offCooperativePool)
struct TypedCorpusTests {
    /// Every modeled property is read and written back through its typed setter: the document
    /// must stay canonically equal to the original, for 100% of the corpus.
    @Test func typedReadWriteKeepsEveryDocumentCanonicallyEqual() throws {
        guard let corpus = DocCorpus.load() else { return }
        #expect(corpus.count == 1070)
        var equal = 0
        var rewritten = 0
        var invalid: [String] = []
        for (name, bytes) in corpus {
            let document = try LosslessXMLDocument(parsing: bytes)
            let before = document.canonicalForm()
            let domain = try DomainDefinition(document: document)
            let summary = domain.rewriteModeledProperties()
            rewritten += summary.rewritten
            invalid += summary.unreadable.map { "\(name): \($0)" }
            if document.canonicalForm() == before {
                equal += 1
            } else {
                Issue.record("\(name): typed read-write changed the document")
            }
            // No unmodeled byte moved: an unedited-equal rewrite leaves the bytes alone too.
            #expect(document.serializedBytes() == bytes, "\(name): bytes changed")
        }
        print("typed read-write: \(equal)/\(corpus.count) canonically equal, \(rewritten) values rewritten, \(invalid.count) invalid")
        #expect(equal == corpus.count)
        #expect(rewritten > 40_000)
        // The values the typed layer rejects are libvirt's own negative tests:
        // `<bootmenu timeout='65536'/>` (above 65535 ms), `<driver queues='-5'/>` and
        // `<memory nodeset='0,^0'/>` (an empty node set).
        #expect(invalid == [
            "boot-menu-enable-with-timeout-invalid.xml: /domain/os/bootmenu/@timeout: '65536' is not a valid integer",
            "numatune-memory-invalid-nodeset.xml: /domain/numatune/memory/@nodeset: invalid ID list '0,^0': no NUMA node left",
            "vhost_queues-invalid.xml: /domain/devices/interface/driver/@queues: '-5' is not a valid integer",
        ])
    }

    /// Stronger than the pass above: every value is re-written in the typed layer's own
    /// spelling (`encode`, not the original text), then read back; the typed values must be equal.
    @Test func everyCorpusValueSurvivesItsOwnEncoding() throws {
        guard let corpus = DocCorpus.load() else { return }
        var reencoded = 0
        var unreadable: [String] = []
        for (name, bytes) in corpus {
            let domain = try DomainDefinition(document: LosslessXMLDocument(parsing: bytes))
            let root = try #require(domain.element)
            DomainDefinition.schema.spec.walk(root) { element, spec in
                for leaf in spec.leaves {
                    switch leaf.reencodeCheck(element, spec: spec) {
                    case .absent: break
                    case .reencoded: reencoded += 1
                    case .unreadable(let why): unreadable.append("\(name): \(why)")
                    case .changed(let why): Issue.record("\(name): \(why)")
                    }
                }
            }
        }
        print("re-encoded \(reencoded) present values; \(unreadable.count) unreadable")
        // Values present in the corpus and re-encoded (leaves without a value do not count).
        #expect(reencoded > 40_000)
        // Only the corpus' deliberately invalid values may fail to read: the same three the
        // read-write pass reports.
        #expect(unreadable.count == 3, "\(unreadable)")
    }

    /// Typed coverage of element and attribute occurrences (the `unmodeled` report); the goal is ≥ 95%.
    @Test func typedCoverageOfTheCorpus() throws {
        guard let corpus = DocCorpus.load() else { return }
        var total = CoverageReport()
        for (_, bytes) in corpus {
            total.merge(try DomainDefinition(document: LosslessXMLDocument(parsing: bytes)).coverage())
        }
        let elementPct = total.elementCoverage * 100
        let attributePct = total.attributeCoverage * 100
        print("typed coverage: elements \(total.typedElements)/\(total.typedElements + total.passthroughElements) (\(elementPct)%), attributes \(total.typedAttributes)/\(total.typedAttributes + total.passthroughAttributes) (\(attributePct)%)")
        print("most common passthrough: \(total.top(8).map { "\($0.path)×\($0.count)" }.joined(separator: ", "))")
        #expect(total.typedElements + total.passthroughElements > 29_000)
        #expect(total.elementCoverage >= 0.95)
        #expect(total.attributeCoverage >= 0.95)
    }

    /// The tuning edits a KVM tool makes (vCPUs, vcpupin/emulatorpin, numatune, hugepages,
    /// interface queues) keep every schema-valid corpus document valid for libvirt's schema.
    @Test func tuningEditsKeepSchemaValidDocumentsValid() throws {
        guard let corpus = DocCorpus.load() else { return }
        let originals = corpus.map { $0.bytes.utf8String }
        guard let rejectedBefore = virtXMLValidate(originals) else { return }
        var edited: [String] = []
        var names: [String] = []
        for (i, (name, bytes)) in corpus.enumerated() where rejectedBefore[i] == nil {
            let domain = try DomainDefinition(document: LosslessXMLDocument(parsing: bytes))
            try TuningEdit.apply(to: domain)
            let text = domain.serialize()
            // The edits are really there for the next reader.
            let again = try DomainDefinition(parsing: text)
            #expect(try again.vcpu.count.value == 4, "\(name)")
            #expect(try again.cputune.vcpupin.first { (try? $0.vcpu.value) == 0 }?.cpuset.value == [0, 1], "\(name)")
            #expect(try again.numatune.memory.nodeset.value == [0], "\(name)")
            #expect(!again.memoryBacking.hugepages.page.isEmpty, "\(name)")
            edited.append(text)
            names.append(name)
        }
        print("virt-xml-validate: \(corpus.count - rejectedBefore.count)/\(corpus.count) corpus documents valid before the edits")
        #expect(edited.count > 1000)
        guard let rejectedAfter = virtXMLValidate(edited) else { return }
        for (i, message) in rejectedAfter.sorted(by: { $0.key < $1.key }) {
            Issue.record("\(names[i]) invalid after typed tuning edits: \(message.prefix(600))")
        }
        print("virt-xml-validate: \(edited.count - rejectedAfter.count)/\(edited.count) still valid after the tuning edits")
    }
}

/// The typed edits the validity test applies.
enum TuningEdit {
    static func apply(to domain: DomainDefinition) throws {
        // vCPUs: 4, and `current` not above it.
        domain.vcpu.count.set(4)
        if let current = try domain.vcpu.current.value, current > 4 { domain.vcpu.current.set(4) }
        // Pin vCPU 0 and the emulator.
        domain.cputune.pin(vcpu: 0, to: [0, 1])
        domain.cputune.emulatorpin.cpuset.set([2, 3])
        // Strict memory policy on node 0 (a static nodeset replaces placement='auto').
        domain.numatune.memory.mode.set(.strict)
        domain.numatune.memory.nodeset.set([0])
        if try domain.numatune.memory.placement.value == .auto { domain.numatune.memory.placement.remove() }
        // 2 MiB hugepages unless pages are configured already.
        if domain.memoryBacking.hugepages.page.isEmpty {
            domain.memoryBacking.hugepages.page.append().size.set(.mebibytes(2))
        }
        // Multiqueue on every virtio NIC (libvirt's schema has no queues for hostdev NICs).
        for nic in domain.devices.interfaces {
            if try nic.model.type.value == .virtio, try nic.type.value != .hostdev { nic.driver.queues.set(4) }
        }
    }
}

/// The outcome of re-encoding one leaf's value.
enum ReencodeOutcome {
    case absent, reencoded
    case unreadable(String)
    case changed(String)
}

extension LeafKey {
    /// Writes the current value in the codec's own spelling and checks it reads back equal.
    func reencodeCheck(_ element: LosslessXMLElement, spec: ElementSpec) -> ReencodeOutcome {
        let value: Value
        do {
            guard let v = try read(element) else { return .absent }
            value = v
        } catch {
            return .unreadable(error.description)
        }
        // A scratch copy, so the corpus document itself is not changed.
        guard let copy = try? LosslessXMLDocument(parsing: element.serialize()) else { return .changed("copy failed") }
        let ref = ElementRef(copy.root, document: copy)
        write(nil, node: ref, spec: spec)   // drop the stored spelling so `write` encodes afresh
        write(value, node: ref, spec: spec)
        let back: Value?
        do { back = try read(copy.root) } catch {
            return .changed("\(elementPath(element)): re-encoded value does not decode: \(error)")
        }
        return back == value ? .reencoded : .changed("\(elementPath(element)): \(String(describing: value)) re-encoded reads \(String(describing: back))")
    }
}
