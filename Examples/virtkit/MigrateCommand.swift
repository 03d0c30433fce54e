import ArgumentParser

// Placeholder until its issue lands: shows only that the command is not built yet.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "(not built yet)")
    func run() async throws { throw CLIError("virtkit migrate is not built yet") }
}
