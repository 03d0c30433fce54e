import Foundation
import Testing
@testable import DomainXML
import VirtCore
import VirtKitTestSupport

/// Issue #18: the typed layer's validation agrees with libvirt 9.0's own parser. Each case is
/// defined on libvirt's test driver (`virsh -c test:///default define`, libvirt's real XML
/// parser) and the outcome compared with `validate()`: what libvirt refuses VirtKit reports,
/// and what libvirt accepts VirtKit does not.
@Suite("Typed validation agrees with libvirt's parser", .offCooperativePool)
struct LibvirtAgreementTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        var memory = "1048576"
        var vcpuAttributes = ""
        var vcpu = "2"
        var extra = ""
        var testDescription: String { label }

        var xml: String {
            "<domain type='test'>\n  <name>virtkit-agree-\(label.filter { $0.isLetter || $0.isNumber })</name>\n  <memory unit='KiB'>\(memory)</memory>\n  <vcpu\(vcpuAttributes)>\(vcpu)</vcpu>\n\(extra)  <os>\n    <type>hvm</type>\n  </os>\n</domain>\n"
        }
    }

    static let cases: [Case] = [
        Case(label: "memory 2^53-1 KiB", memory: "9007199254740991"),
        Case(label: "memory 2^53 KiB", memory: "9007199254740992"),
        Case(label: "memory trailing blank", memory: "1048576 "),
        Case(label: "memory leading blank", memory: " 1048576"),
        Case(label: "vcpu trailing blank", vcpu: "2 "),
        Case(label: "vcpu leading blank", vcpu: " 2"),
        Case(label: "vcpu plus sign", vcpu: "+2"),
        Case(label: "vcpu empty", vcpu: ""),
        Case(label: "cpuset 65535", vcpuAttributes: " cpuset='65535'"),
        Case(label: "cpuset 16383", vcpuAttributes: " cpuset='16383'"),
        Case(label: "cpuset trailing comma", vcpuAttributes: " cpuset='0,'"),
        Case(label: "cpuset double comma", vcpuAttributes: " cpuset='0,,1'"),
        Case(label: "cpuset leading comma", vcpuAttributes: " cpuset=',0'"),
        Case(label: "cpuset blanks", vcpuAttributes: " cpuset='0 , 1'"),
        Case(label: "cpuset all excluded", vcpuAttributes: " cpuset='0,^0'"),
        Case(label: "iothreads -1", extra: "  <iothreads>-1</iothreads>\n"),
        Case(label: "iothreads trailing blank", extra: "  <iothreads>1 </iothreads>\n"),
        Case(label: "iothreads 4", extra: "  <iothreads>4</iothreads>\n"),
        Case(label: "vcpupin 2^32", extra: "  <cputune>\n    <vcpupin vcpu='4294967296' cpuset='0'/>\n  </cputune>\n"),
        Case(label: "vcpupin 1", extra: "  <cputune>\n    <vcpupin vcpu='1' cpuset='0'/>\n  </cputune>\n"),
    ]

    /// libvirt's verdict: nil when it accepted the definition (then undefined again), else its message.
    static func libvirtRefuses(_ xml: String, sourceLocation: SourceLocation = #_sourceLocation) -> String?? {
        // test:///default is private to the virsh process: nothing to clean up.
        guard let (status, _, err) = spawnOnTemporaryFile(xml, "/usr/bin/virsh", package: "Debian libvirt-clients",
                                                          arguments: { ["-q", "-c", "test:///default", "define", $0] },
                                                          sourceLocation: sourceLocation) else { return .none }
        return .some(status == 0 ? nil : err)
    }

    @Test(arguments: cases)
    func agrees(_ c: Case) throws {
        guard let verdict = Self.libvirtRefuses(c.xml) else { return }
        let problems = try DomainDefinition(parsing: c.xml).validate()
        if let refusal = verdict {
            #expect(!problems.isEmpty, "libvirt refuses (\(refusal.trimmingCharacters(in: .whitespacesAndNewlines))), VirtKit accepts")
        } else {
            #expect(problems.isEmpty, "libvirt accepts, VirtKit reports \(problems)")
        }
    }
}
