import ArgumentParser

// Placeholder until its issue lands: shows only that the command is not built yet.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "(not built yet)")
    func run() async throws { throw CLIError("virtkit validate is not built yet") }
}
