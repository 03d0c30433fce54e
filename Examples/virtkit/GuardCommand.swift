import ArgumentParser
import Foundation
import Tuning

/// `virtkit guard`: runs the paused-guest guardian (issue #17) and prints each decision.
struct GuardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guard",
        abstract: "Recover paused guests by policy: resume after checked storage repairs, leave, or destroy after a limit.",
        discussion: """
            Runs until interrupted (Ctrl-C leaves every guest as it is) and prints each decision. \
            --policy reads a JSON policy (see Documentation/Guardian.md); a guest's own \
            <metadata><guardian xmlns='\(GuardianGuestPolicy.namespace)' io-error='…'/></metadata> wins over it. \
            --once scans once, checks and acts at most once per guest, and exits (status 2 when a guest \
            was given up on).
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @Option(name: .long, help: "JSON policy file.")
    var policy: String?
    @Flag(name: .long, help: "One scan, one check and at most one action per guest, then exit.")
    var once = false

    func run() async throws {
        var p = GuardianPolicy()
        if let policy {
            guard let data = FileManager.default.contents(atPath: policy) else { throw CLIError("cannot read \(policy)") }
            do { p = try GuardianPolicy(json: Array(data)) } catch { throw CLIError("\(policy): \(error)") }
        }
        let guardian = Guardian(uri: connection.resolvedURI, policy: p)
        if once {
            let made = try await guardian.runOnce()
            for d in made { try printDecision(d) }
            if made.contains(where: { $0.action == .giveUp }) { throw ExitCode(2) }
            return
        }
        // Ctrl-C / SIGTERM: stop the guardian (guests stay as they are), then exit.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { Task { await guardian.stop() } }
            s.resume()
            return s
        }
        defer { sources.forEach { $0.cancel() } }
        try await guardian.start()
        if !output.json {
            writeStandardOutput(Data("guarding \(connection.resolvedURI) (Ctrl-C to stop)\n".utf8))
        }
        for await d in guardian.decisions { try printDecision(d) }
    }

    private func printDecision(_ d: GuardianDecision) throws {
        if output.json {
            var line = try d.jsonLine()
            line.append(0x0A)
            writeStandardOutput(line)
            return
        }
        var text = "\(d.time.map { "\($0)" } ?? "-")  \(d)\n"
        for c in d.checks { text += "    \(c.status.rawValue.uppercased()) \(c.disk) \(c.kind.rawValue) \(c.subject): \(c.detail)\n" }
        if let a = d.alert { text += "    CRITICAL \(a.id): \(a.remedy)\n" }
        writeStandardOutput(Data(text.utf8))
    }
}
