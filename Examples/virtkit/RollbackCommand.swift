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

/// Applies `plan` with its journal at `journal` (`virtkit plan --apply`, `advise/doctor --fix`)
/// and prints where the journal is; returns its path.
func applyReconfiguration(_ plan: ReconfigurationPlan, connection: Connection, journal path: String, hostRoot: String = "/") async throws -> String {
    // Fault injection for the crash-recovery test: die after N steps.
    let kill = ProcessInfo.processInfo.environment["VIRTKIT_PLAN_KILL_AFTER_STEPS"].flatMap(Int.init)
    do {
        try await ReconfigurationApplier(connection: connection, hostRoot: hostRoot, killAfterSteps: kill).apply(plan, journal: path)
    } catch {
        throw CLIError("\(error) (journal: \(path))")
    }
    print("applied \(plan.steps.count) step(s); journal: \(path) (undo: virtkit rollback \(path))")
    return path
}
