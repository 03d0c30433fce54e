import ArgumentParser
import Foundation

/// `--uri`: the libvirt connection. Default: `$LIBVIRT_DEFAULT_URI`, else the embedded
/// test driver, so every example works on a machine without a daemon.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "libvirt connection URI (default: $LIBVIRT_DEFAULT_URI, else test:///default).")
    var uri: String?

    var resolvedURI: String {
        if let uri, !uri.isEmpty { return uri }
        if let env = ProcessInfo.processInfo.environment["LIBVIRT_DEFAULT_URI"], !env.isEmpty { return env }
        return "test:///default"
    }
}

/// `--json`: machine-readable output with stable keys.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print machine-readable JSON instead of text.")
    var json = false
}

/// Writes `value` as pretty JSON with sorted keys, so key order is stable across runs.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    var data = try encoder.encode(value)
    data.append(0x0A)
    writeStandardOutput(data)
}

/// Writes `value` as one compact JSON line (for streams: events, samples, progress).
func printJSONLine<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    var data = try encoder.encode(value)
    data.append(0x0A)
    writeStandardOutput(data)
}

/// Writes to stdout; a reader that went away (`virtkit domains --json | head`) ends the
/// process quietly with status 0, as `cat` does, instead of the uncatchable exception
/// `FileHandle.write(_:)` raises on EPIPE.
func writeStandardOutput(_ data: Data) {
    do {
        try FileHandle.standardOutput.write(contentsOf: data)
    } catch {
        exit(0)
    }
}

/// A one-line failure for the operator; ArgumentParser prints it as `Error: …` and exits 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

/// Text from outside (file contents, domain and device names) made safe for a terminal: C0
/// and C1 control characters and DEL become `\u{…}` escapes, so a value can neither move the
/// cursor, change colours nor start a new line of output.
func terminalSafe(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: isControl) else { return text }
    var out = ""
    for u in text.unicodeScalars {
        if isControl(u) { out += "\\u{" + String(u.value, radix: 16) + "}" } else { out.unicodeScalars.append(u) }
    }
    return out
}

private func isControl(_ u: Unicode.Scalar) -> Bool {
    u.value < 0x20 || (0x7F...0x9F).contains(u.value)
}
