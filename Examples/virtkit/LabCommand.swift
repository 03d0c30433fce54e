import ArgumentParser

// Placeholder until its issue lands: shows only that the command is not built yet.
struct LabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lab", abstract: "(not built yet)")
    func run() async throws { throw CLIError("virtkit lab is not built yet") }
}
