import ArgumentParser

// Placeholder until its issue lands: shows only that the command is not built yet.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "(not built yet)")
    func run() async throws { throw CLIError("virtkit stats is not built yet") }
}
