import ArgumentParser

// Placeholder until its issue lands: shows only that the command is not built yet.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "probe", abstract: "(not built yet)")
    func run() async throws { throw CLIError("virtkit probe is not built yet") }
}
