import ArgumentParser
import Foundation
import Libvirt
import VirtCore

/// `virtkit migrate`: live-migrates a domain, with a progress bar on a terminal (stderr, as
/// the volume transfers draw it) and JSON lines (one per progress sample, then the final
/// statistics) when stdout is not a terminal or with `--json`.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Migrate a domain to another host (Ctrl-C aborts; the guest stays on the source).")

    @Argument(help: "The domain (name or UUID).")
    var domain: String
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Destination libvirt URI, e.g. qemu+ssh://host/system.")
    var to: String
    @Flag(name: .long, help: "Live migration (keep the guest running while copying memory).")
    var live = false
    @Option(name: .long, help: "Bandwidth limit in MiB/s.")
    var bandwidth: UInt64?
    @Option(name: .long, help: "Data URI for QEMU, e.g. tcp://127.0.0.1 (default: the destination's hostname).")
    var migrateURI: String?
    @Flag(name: .long, help: "Peer-to-peer: the source daemon opens --to itself.")
    var p2p = false
    @Flag(name: .long, help: "Define the domain persistently on the destination.")
    var persistent = false
    @Flag(name: .long, help: "Remove the source's persistent definition.")
    var undefineSource = false
    @Flag(name: .long, help: "Print JSON lines (progress, then the result) even on a terminal.")
    var json = false

    func run() async throws {
        guard bandwidth.map({ $0 > 0 }) ?? true else { throw ValidationError("--bandwidth must be > 0") }
        let source = try await Connection.open(connection.resolvedURI)
        let dom: Domain
        dom = try await lookupDomain(domain, in: source)
        var options = MigrationOptions()
        options.live = live
        options.bandwidthMiBPerSecond = bandwidth
        options.migrateURI = migrateURI
        options.peerToPeer = p2p
        options.persistOnDestination = persistent
        options.undefineSource = undefineSource
        let target: MigrationTarget
        if p2p {
            target = .uri(to)
        } else {
            target = .connection(try await Connection.open(to))
        }
        let human = !json && Terminal.isTTY()
        let bar = ProgressBar(json: !human)
        let started = ContinuousClock.now
        let work = Task {
            try await dom.migrate(to: target, options: options) { stats in
                let line = ProgressLine(stats)
                if human {
                    bar.draw(fraction: (line.percent ?? 0) / 100, detail: line.barDetail)
                } else {
                    try? printJSONLine(line)
                }
            }
        }
        // Ctrl-C cancels the migration task, which aborts the libvirt job (virDomainAbortJob)
        // and leaves the guest running on the source, instead of killing the process mid-job.
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        interrupt.setEventHandler { work.cancel() }
        interrupt.resume()
        defer {
            interrupt.cancel()
            signal(SIGINT, SIG_DFL)
        }
        let result: MigrationResult
        do {
            result = try await work.value
        } catch is CancellationError {
            bar.clear()
            throw CLIError("migration aborted; \(dom.name) keeps running on the source")
        }
        let wall = ContinuousClock.now - started
        bar.clear()
        if human {
            print("migrated \(dom.name) in \(ms(wall)) ms" + (result.finalStats?.downtime.map { ", downtime \(ms($0)) ms" } ?? ""))
        } else {
            var line = result.finalStats.map(ProgressLine.init) ?? ProgressLine(JobStats(type: .completed, parameters: [:]))
            line.event = "completed"
            line.wallMs = ms(wall)
            try printJSONLine(line)
        }
    }
}

private func ms(_ d: Duration) -> Int64 { d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000 }

/// One progress sample (stable keys; absent values are omitted, "not reported" is not 0).
struct ProgressLine: Encodable {
    var event = "progress"
    var type: String
    var percent: Double?
    var dataTotal: UInt64?
    var dataProcessed: UInt64?
    var dataRemaining: UInt64?
    var memoryBytesPerSecond: UInt64?
    var dirtyPagesPerSecond: UInt64?
    var iteration: UInt64?
    var elapsedMs: Int64?
    var remainingMs: Int64?
    var downtimeMs: Int64?
    var wallMs: Int64?

    init(_ s: JobStats) {
        type = s.type.description
        percent = s.progress.map { ($0 * 1000).rounded() / 10 }
        dataTotal = s.dataTotal?.bytes
        dataProcessed = s.dataProcessed?.bytes
        dataRemaining = s.dataRemaining?.bytes
        memoryBytesPerSecond = s.memoryBytesPerSecond
        dirtyPagesPerSecond = s.memoryDirtyPagesPerSecond
        iteration = s.memoryIteration
        elapsedMs = s.timeElapsed.map(ms)
        remainingMs = s.timeRemaining.map(ms)
        downtimeMs = s.downtime.map(ms)
    }

    /// What follows the bar: `12.3 MiB/s  remaining 20.1 MiB  iteration 2`.
    var barDetail: String {
        let rate = memoryBytesPerSecond.map { String(format: "%.1f MiB/s", Double($0) / 1_048_576) } ?? "? MiB/s"
        let rem = dataRemaining.map { String(format: "%.1f MiB", Double($0) / 1_048_576) } ?? "?"
        return "\(rate)  remaining \(rem)" + (iteration.map { "  iteration \($0)" } ?? "")
    }
}
