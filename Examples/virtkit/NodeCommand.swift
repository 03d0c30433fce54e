import ArgumentParser

// Placeholder until its issue lands: shows only that the command is not built yet.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "node", abstract: "(not built yet)")
    func run() async throws { throw CLIError("virtkit node is not built yet") }
}
