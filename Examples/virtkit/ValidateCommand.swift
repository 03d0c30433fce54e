import ArgumentParser
import Foundation
import HostProbe

/// `virtkit validate`: KVM host readiness as PASS/WARN/FAIL lines, like
/// virt-host-validate's QEMU checks but trusting a working KVM_CREATE_VM over cpuinfo.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check whether this host is ready to run KVM guests (PASS/WARN/FAIL with a hint each)."
    )

    @OptionGroup var rootOptions: RootOptions
    @OptionGroup var output: OutputOptions

    struct Report: Encodable {
        var root: String
        var results: [ValidationResult]
        var worst: ValidationStatus
        var diagnostics: [ProbeDiagnostic]
    }

    func run() async throws {
        let snap = try await rootOptions.snapshot(HostValidation.sections)
        let results = HostValidation.run(snap)
        let worst = results.map(\.status).max() ?? .pass
        if output.json {
            try printJSON(Report(root: snap.root, results: results, worst: worst, diagnostics: snap.diagnostics))
        } else {
            for r in results {
                let dots = String(repeating: " ", count: max(1, 62 - r.check.count))
                print(terminalSafe("\(r.check)\(dots): \(r.status.rawValue) (\(r.message))"))
                if let h = r.hint { print(terminalSafe("    hint: \(h)")) }
            }
        }
        // Same convention as virt-host-validate: non-zero when something fails.
        if worst == .fail { throw ExitCode(1) }
    }
}
