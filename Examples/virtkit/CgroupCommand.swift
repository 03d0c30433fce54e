import ArgumentParser

// Placeholder until its issue lands: shows only that the command is not built yet.
struct CgroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cgroup", abstract: "(not built yet)")
    func run() async throws { throw CLIError("virtkit cgroup is not built yet") }
}
