import ArgumentParser
import Foundation
import Libvirt

/// `virtkit console DOMAIN`: an interactive serial console, like `virsh console`: the
/// terminal in raw mode, keys go to the guest, its output to the screen, `Ctrl-]` leaves.
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Attach to a guest's serial console (Ctrl-] leaves).")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Domain name or UUID.")
    var domain: String
    @Option(name: .long, help: "Console, serial or channel alias (default: the first console).")
    var device: String?
    @Flag(name: .long, help: "Take the console from another client that has it open.")
    var force = false
    @Flag(name: .long, help: "Open only if the driver guarantees one client at a time.")
    var safe = false
    @Option(name: .long, help: "The key that leaves, as ^X (default ^]).")
    var escape = "^]"

    func run() async throws {
        let escapeByte = try Self.escapeByte(escape)
        let conn = try await Connection.open(connection.resolvedURI)
        defer { Task { await conn.close() } }
        let dom = try await lookupDomain(domain, in: conn)
        var flags: Domain.ConsoleFlags = []
        if force { flags.insert(.force) }
        if safe { flags.insert(.safe) }
        let session = try await dom.openConsole(device: device, flags: flags)
        let terminal = RawTerminal()  // raw first: the lines below end in \r\n themselves
        FileHandle.standardError.write(Data("Connected to domain \(terminalSafe(dom.name))\r\nEscape character is \(escape)\r\n".utf8))

        defer { terminal.restore() }
        let keys = StandardInputReader.start(escape: escapeByte)
        let outcome = await withTaskGroup(of: String?.self) { group in
            group.addTask {
                do {
                    for try await chunk in session.output { writeStandardOutput(Data(chunk)) }
                    return "the console closed"
                } catch is CancellationError {
                    return nil
                } catch {
                    return "console error: \(error)"
                }
            }
            group.addTask {
                do {
                    for await bytes in keys { try await session.write(bytes) }
                    return nil  // the escape key or the end of input
                } catch {
                    return "console error: \(error)"
                }
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        try? await session.close()
        terminal.restore()
        FileHandle.standardError.write(Data("\r\n".utf8))
        if let outcome, outcome != "the console closed" { throw CLIError(outcome) }
    }

    /// `^]` → 0x1D, `^A` → 0x01, …: a control key.
    static func escapeByte(_ spec: String) throws -> UInt8 {
        let u = Array(spec.utf8)
        guard u.count == 2, u[0] == UInt8(ascii: "^"), (0x40...0x5F).contains(u[1] & 0xDF) else {
            throw CLIError("--escape takes a control key as ^X (^] ^A … ^_), not \(spec)")
        }
        return (u[1] & 0xDF) - 0x40
    }
}

/// The terminal on stdin in raw mode (no echo, no line editing, no signals from keys) until
/// `restore()`. Does nothing when stdin is not a terminal. `@unchecked Sendable`: set once.
final class RawTerminal: @unchecked Sendable {
    private var saved: termios?
    private let lock = NSLock()

    init() {
        guard isatty(STDIN_FILENO) == 1 else { return }
        var t = termios()
        guard tcgetattr(STDIN_FILENO, &t) == 0 else { return }
        saved = t
        cfmakeraw(&t)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &t)
    }

    func restore() {
        lock.lock(); defer { lock.unlock() }
        guard var t = saved else { return }
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &t)
        saved = nil
    }
}

/// Standard input read on a plain thread (a blocking `read` must not sit on a cooperative
/// thread), as an `AsyncStream` of byte runs that ends at the escape byte or the end of input.
enum StandardInputReader {
    static func start(escape: UInt8) -> AsyncStream<[UInt8]> {
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
        let thread = Thread {
            var buf = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(STDIN_FILENO, &buf, buf.count)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                let run = buf[0..<n]
                if let i = run.firstIndex(of: escape) {
                    if i > 0 { continuation.yield(Array(run[..<i])) }
                    break
                }
                continuation.yield(Array(run))
            }
            continuation.finish()
        }
        thread.name = "virtkit-console-stdin"
        thread.start()
        return stream
    }
}
