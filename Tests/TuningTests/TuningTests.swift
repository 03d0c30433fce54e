import Testing
import Tuning
import VirtCore

// Tuning has no behaviour yet; this checks that the module links against
// VirtCore's value types, the one thing it promises today.
@Test func tuningSeesSharedValueTypes() throws {
    let cpus = try CPUSet(parsing: "0-3")
    #expect(cpus.count == 4)
}
