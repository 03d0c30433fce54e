import Foundation
import Libvirt
import Testing
import VirtKitTestSupport

extension LabScenarioTests {
/// `virtkit migrate` of an idle lab guest (the `shared` disk, `hlt`) at 1 MiB/s, A → B with
/// its output piped, then B → A on a pseudo-terminal (`script`): piped output holds JSON
/// progress lines and not one carriage return or escape sequence; the terminal gets the
/// redrawn bar. Every wait is bounded; the guest is removed from both hosts.
@Suite(.serialized) struct MigrateCLIProgressTests {
    @Test func migrateDrawsABarOnATerminalAndNoneWhenPiped() async throws {
        let cli = LiveEnvironment.packageRoot(from: #filePath).appendingPathComponent(".build/debug/virtkit").path
        guard FileManager.default.isExecutableFile(atPath: cli) else {
            LiveEnvironment.unavailable("no built CLI at \(cli) (swift build first)")
            return
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            LiveEnvironment.unavailable("no /usr/bin/script (util-linux) for a pseudo-terminal")
            return
        }
        guard let lab = await Lab.shared() else { return }
        let name = TestGuest.uniqueName("cli-migrate")
        let a = try await Connection.open(lab.a.uri)
        let b = try await Connection.open(lab.b.uri)
        do {
            _ = try await a.createDomain(xml: try await Lab.guestXML(name, disk: "shared"))
            // A → B, piped (BackgroundProcess writes stdout and stderr to a file).
            let piped = try BackgroundProcess(cli, ["migrate", name, "--uri", lab.a.uri, "--to", lab.b.uri, "--live",
                                                    "--migrate-uri", lab.b.migrateURI, "--bandwidth", "1"], tag: "cli-migrate-piped")
            let pipedStatus = await Self.exit(piped)
            let log = piped.log
            #expect(pipedStatus == 0, "\(log)")
            #expect(!log.contains("\r") && !log.contains("\u{1B}"), "piped output has no bar: \(log.debugDescription)")
            let events = log.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            }.compactMap { $0["event"] as? String }
            #expect(events.contains("progress"), "\(log)")
            #expect(events.last == "completed", "\(log)")

            // B → A on a pseudo-terminal: `script -e` runs the CLI with a tty on stdout and stderr.
            let command = [cli, "migrate", name, "--uri", lab.b.uri, "--to", lab.a.uri, "--live",
                           "--migrate-uri", lab.a.migrateURI, "--bandwidth", "1"].map(Self.shellQuoted).joined(separator: " ")
            let tty = try BackgroundProcess("/usr/bin/script", ["-qefc", command, "/dev/null"], tag: "cli-migrate-tty")
            let ttyStatus = await Self.exit(tty)
            let screen = tty.log
            #expect(ttyStatus == 0, "\(screen)")
            #expect(screen.contains("\r\u{1B}[K[#"), "a bar on the terminal: \(screen.debugDescription)")
            #expect(screen.contains("migrated \(name) in"), "\(screen)")
            #expect(!screen.contains("\"event\""), "no JSON lines on a terminal")
        } catch {
            Issue.record(error)
        }
        for (host, conn) in [("A", a), ("B", b)] {
            if let d = try? await conn.domain(named: name) {
                try? await d.abortJob()
                try? await d.destroy()
                try? await d.undefine()
            }
            #expect(await (try? conn.domain(named: name)) == nil, "guest left on host \(host)")
        }
        await a.close()
        await b.close()
    }

    /// The exit status within 120 s (an idle guest at 1 MiB/s takes a few); past that the
    /// CLI is interrupted (SIGINT aborts its migration) and nil is returned.
    static func exit(_ p: BackgroundProcess) async -> Int32? {
        let status = await withCheckedContinuation { c in
            Thread { c.resume(returning: p.waitForExit(within: .seconds(120))) }.start()
        }
        if status == nil {
            kill(p.pid, SIGINT)
            _ = await withCheckedContinuation { c in Thread { c.resume(returning: p.stop(grace: .seconds(20))) }.start() }
        }
        return status
    }

    static func shellQuoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
}
