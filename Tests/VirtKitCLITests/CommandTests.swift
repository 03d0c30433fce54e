import ArgumentParser
import CgroupControl
import Testing
import VirtCore
@testable import virtkit

/// Argument handling and failure output of the probe and cgroup commands.
@Suite struct CommandTests {
    @Test func probeOfAMissingRootIsOneLineAndFails() async throws {
        let cmd = try ProbeShowCommand.parse(["--root", "/no/such/virtkit-root"])
        await #expect {
            try await cmd.run()
        } throws: { error in
            guard let e = error as? CLIError else { return false }
            return e.description == "root /no/such/virtkit-root does not exist" && !e.description.contains("\n")
        }
        // ArgumentParser turns a thrown error into exit code 1.
        #expect(ProbeShowCommand.exitCode(for: CLIError("x")) == .failure)
    }

    @Test func validateOfARootWithoutSysFails() async throws {
        let cmd = try ValidateCommand.parse(["--root", "/proc/self/fdinfo"])
        await #expect(throws: CLIError.self) { try await cmd.run() }
    }

    /// The documented `--cpu-quota -1` (space, not `=`) means unlimited.
    @Test func negativeQuotaIsAccepted() throws {
        let cmd = try CgroupCommand.SetCommand.parse(["vm1", "--cpu-quota", "-1"])
        #expect(try cmd.changes() == [.cpuBandwidth(quota: .unlimited, period: nil)])
        let withPeriod = try CgroupCommand.SetCommand.parse(["vm1", "--cpu-quota", "50000/100000", "--memory-max", "max"])
        #expect(try withPeriod.changes() == [.cpuBandwidth(quota: .limited(.milliseconds(50)), period: .milliseconds(100)),
                                              .memoryMax(.unlimited)])
        #expect(throws: CLIError.self) { try CgroupCommand.SetCommand.parse(["vm1", "--cpu-quota", "-5"]).changes() }
    }
}
