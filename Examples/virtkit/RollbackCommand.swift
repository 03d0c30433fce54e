import ArgumentParser
import Foundation
import Libvirt
import Tuning

/// `virtkit rollback JOURNAL`: undoes what an apply changed (also one killed half-way).
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Restore the live values and persistent definitions an apply changed, from its journal."
    )

    @Argument(help: "The journal file written by `virtkit plan … --apply`.")
    var journal: String

    func run() async throws {
        let entries: ReconfigurationJournal
        do { entries = try ReconfigurationJournal.read(from: journal) } catch {
            throw CLIError("cannot read journal \(journal): \(error)")
        }
        let connection = try await Connection.open(entries.uri)
        do {
            try await ReconfigurationApplier(connection: connection).rollback(journal: journal)
        } catch {
            await connection.close()
            throw CLIError("\(error)")
        }
        await connection.close()
        let undone = try ReconfigurationJournal.read(from: journal).entries.filter { $0.state == .undone }.count
        print("rolled back \(undone) step(s) from \(journal)")
    }
}
