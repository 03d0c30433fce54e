import ArgumentParser

// Placeholder until its issue lands: shows only that the command is not built yet.
struct DomainsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "domains", abstract: "(not built yet)")
    func run() async throws { throw CLIError("virtkit domains is not built yet") }
}
