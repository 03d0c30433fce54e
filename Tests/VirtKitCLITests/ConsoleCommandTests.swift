import Testing
@testable import virtkit

/// `virtkit console`: the escape key and a console the driver can't open (the live session
/// through the built binary is `LiveStreamTests.cliConsoleTypesEchoesAndLeavesOnEscape`).
@Suite struct ConsoleCommandTests {
    @Test func escapeKeyParsing() throws {
        #expect(try ConsoleCommand.escapeByte("^]") == 0x1D)
        #expect(try ConsoleCommand.escapeByte("^A") == 0x01)
        #expect(try ConsoleCommand.escapeByte("^a") == 0x01)
        #expect(try ConsoleCommand.escapeByte("^_") == 0x1F)
        for bad in ["]", "^", "^]]", "^1", "ctrl-]", ""] {
            #expect(throws: CLIError.self, "\(bad)") { try ConsoleCommand.escapeByte(bad) }
        }
    }

    @Test func aDriverWithoutConsolesFailsCleanly() async throws {
        let cmd = try ConsoleCommand.parse(["test", "--uri", "test:///default"])
        await #expect(throws: (any Error).self) { try await cmd.run() }
        let bad = try ConsoleCommand.parse(["test", "--uri", "test:///default", "--escape", "q"])
        await #expect(throws: CLIError.self) { try await bad.run() }
    }
}
