import Foundation
import Testing
@testable import DomainXML
@testable import LosslessXML
import VirtCore

/// Issue #10: enum values never mean "remove", a spelling is its case, and the typed values
/// use VirtCore's units (`MemorySize`, `Duration`, `Limit`).
@Suite("Enum spellings and units")
struct UnitsAndEnumsTests {
    @Test func aKnownSpellingIsItsCaseHoweverBuilt() {
        #expect(MemballoonModel.other("none") == .disabled)
        #expect(DomainType.other("test") == .test)
        #expect(DiskCache.other("none") == .bypass)
        #expect(MemballoonModel.other("none").isKnown)
        #expect(Set([DomainType.other("kvm"), .kvm]).count == 1)
        #expect(DomainType.other("kvm").hashValue == DomainType.kvm.hashValue)
        // Decoding never produces `.other` for a known spelling, so `switch` sees the case.
        if case .other = DiskCache(rawValue: "none") { Issue.record("known spelling decoded as .other") }
        // Unknown spellings stay unknown, distinct from each other and from every case.
        #expect(DiskCache.other("writearound") != .other("writeback-2"))
        #expect(!DiskCache.other("writearound").isKnown)
        #expect(DiskCache.other("writearound").rawValue == "writearound")
        #expect(DiskCache.allKnownDistinct)
    }

    @Test func settingTheNoneSpellingWritesIt() throws {
        let d = try #require(parseDomain(domainXML("  <devices>\n    <memballoon model='virtio'/>\n  </devices>")))
        // `set` takes a non-optional value: `.disabled` is libvirt's `model='none'`, never a removal.
        d.devices.memballoon.model.set(.disabled)
        #expect(d.serialize().contains("<memballoon model='none'/>"))
        #expect(try d.devices.memballoon.model.value == .disabled)
        d.devices.memballoon.model.set(.other("none"))
        #expect(d.serialize().contains("<memballoon model='none'/>"))
        // Removal is explicit.
        d.devices.memballoon.model.set(ifPresent: nil)
        #expect(d.devices.memballoon.model.raw == nil)
        d.devices.memballoon.model.set(ifPresent: .virtio)
        #expect(try d.devices.memballoon.model.value == .virtio)
        d.devices.memballoon.model.remove()
        #expect(d.devices.memballoon.model.raw == nil)
    }

    @Test func memtuneLimitsAreLimits() throws {
        let xml = domainXML("""
          <memtune>
            <hard_limit unit='KiB'>9007199254740991</hard_limit>
            <soft_limit unit='b'>9223372036854775807</soft_limit>
            <swap_hard_limit unit='KiB'>1048576</swap_hard_limit>
          </memtune>
        """)
        let d = try #require(parseDomain(xml))
        #expect(try d.memtune.hardLimit.value == .unlimited)
        #expect(try d.memtune.softLimit.value == .unlimited)
        #expect(try d.memtune.swapHardLimit.value == .limited(.gibibytes(1)))
        // Writing the value it already has keeps the spelling.
        d.memtune.softLimit.set(.unlimited)
        #expect(d.serialize() == xml)
        d.memtune.swapHardLimit.set(.unlimited)
        #expect(d.serialize().contains("<swap_hard_limit unit='KiB'>9007199254740991</swap_hard_limit>"))
        d.memtune.hardLimit.set(.limited(.gibibytes(2)))
        #expect(d.serialize().contains("<hard_limit unit='KiB'>2097152</hard_limit>"))
        let again = try #require(reparsed(d))
        #expect(try again.memtune.swapHardLimit.value == .unlimited)
        #expect(try again.memtune.hardLimit.value == .limited(.gibibytes(2)))
    }

    @Test func cfsPeriodsAndQuotasAreDurations() throws {
        let d = try #require(parseDomain(domainXML("  <cputune>\n    <period>100000</period>\n    <quota>-5</quota>\n  </cputune>")))
        #expect(try d.cputune.period.value == .milliseconds(100))
        #expect(try d.cputune.quota.value == .unlimited)
        d.cputune.quota.set(.limited(.microseconds(2500)))
        #expect(d.serialize().contains("<quota>2500</quota>"))
        d.cputune.quota.set(.unlimited)
        #expect(d.serialize().contains("<quota>-1</quota>"))
        d.cputune.period.set(.seconds(1))
        #expect(d.serialize().contains("<period>1000000</period>"))
        // A negative period is not a span.
        let bad = try #require(parseDomain(domainXML("  <cputune>\n    <period>-1</period>\n  </cputune>")))
        #expect(throws: TypedXMLError.self) { try bad.cputune.period.value }
    }

    @Test func durationUnitsConvertWithoutTrapping() {
        #expect(DurationUnit.hours.duration(2) == .seconds(7200))
        #expect(DurationUnit.microseconds.duration(1_500_001) == .seconds(1) + .microseconds(500_001))
        #expect(DurationUnit.hours.duration(UInt64.max) == nil)
        #expect(DurationUnit.milliseconds.count(.seconds(3) + .microseconds(1500)) == 3001)
        #expect(DurationUnit.seconds.count(.seconds(-1)) == nil)
        // An integer too large for a Duration is an invalid value, not a trap.
        let codec = Codec<Duration>.integer(.hours)
        #expect(throws: ValueProblem.self) { try codec.decode("18446744073709551615") }
    }
}

extension DiskCache {
    /// Every documented case compares equal only to itself.
    static var allKnownDistinct: Bool {
        for (a, _) in known {
            for (b, _) in known where (a == b) != (a.rawValue == b.rawValue) { return false }
        }
        return true
    }
}

/// Inputs the fuzzer found; each must pass the typed read-write pass unchanged.
@Suite("Fuzz findings")
struct FuzzFindingTests {
    /// `<memory unit='KiB'>1<lease expiry='0'/>048576</memory>`: the amount reads as 1048576 KiB
    /// (text around the child, as libvirt's XPath reads it); writing the same value back must
    /// not replace the content and drop the child.
    @Test func memoryWithAnElementInsideItsNumber() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/fuzz/memory-mixed-content.xml")
        let bytes = [UInt8](try Data(contentsOf: url))
        let document = try LosslessXMLDocument(parsing: bytes)
        let canonical = document.canonicalForm()
        let domain = try DomainDefinition(document: document)
        #expect(try domain.memory.value == .kibibytes(1_048_576))
        _ = domain.rewriteModeledProperties()
        #expect(document.canonicalForm() == canonical)
        #expect(document.serializedBytes() == bytes)
    }
}
