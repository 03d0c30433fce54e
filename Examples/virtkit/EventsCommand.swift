import ArgumentParser

// Placeholder until its issue lands: shows only that the command is not built yet.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "(not built yet)")
    func run() async throws { throw CLIError("virtkit events is not built yet") }
}
