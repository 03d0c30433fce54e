import ArgumentParser

// Placeholder until its issue lands: shows only that the command is not built yet.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "(not built yet)")
    func run() async throws { throw CLIError("virtkit report is not built yet") }
}
