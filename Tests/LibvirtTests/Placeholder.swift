import Testing
import VirtCore
// Replaced by this module's real tests when its issue lands.
@Test func placeholderSeesCore() { #expect(CPUSet([1]).count == 1) }
