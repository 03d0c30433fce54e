import ArgumentParser

// Placeholder until its issue lands: shows only that the command is not built yet.
struct XMLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "xml", abstract: "(not built yet)")
    func run() async throws { throw CLIError("virtkit xml is not built yet") }
}
