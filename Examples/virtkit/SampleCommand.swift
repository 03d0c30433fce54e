import ArgumentParser

// Placeholder until its issue lands: shows only that the command is not built yet.
struct SampleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sample", abstract: "(not built yet)")
    func run() async throws { throw CLIError("virtkit sample is not built yet") }
}
