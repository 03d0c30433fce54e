import Foundation

/// A small, independent reader of the text exposition for assertions: samples with their
/// labels unescaped (`\\`, `\"`, `\n`), and the `# TYPE` of each family. Throws on any line
/// it cannot read, so a malformed exposition fails the test.
struct ParsedExposition {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }
    struct Malformed: Error, CustomStringConvertible {
        var line: String
        var description: String { "malformed exposition line: \(line)" }
    }

    var samples: [Sample] = []
    var types: [String: String] = [:]

    init(_ text: String) throws {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4 else { throw Malformed(line: String(line)) }
                types[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            samples.append(try Self.sample(Array(line.utf8), line: String(line)))
        }
    }

    func values(_ name: String) -> [Sample] { samples.filter { $0.name == name } }

    private static func sample(_ b: [UInt8], line: String) throws -> Sample {
        var i = 0
        while i < b.count, b[i] != UInt8(ascii: "{"), b[i] != UInt8(ascii: " ") { i += 1 }
        let name = String(decoding: b[0..<i], as: UTF8.self)
        var labels: [String: String] = [:]
        if i < b.count, b[i] == UInt8(ascii: "{") {
            i += 1
            while i < b.count, b[i] != UInt8(ascii: "}") {
                let keyStart = i
                while i < b.count, b[i] != UInt8(ascii: "=") { i += 1 }
                let key = String(decoding: b[keyStart..<i], as: UTF8.self)
                guard i + 1 < b.count, b[i + 1] == UInt8(ascii: "\"") else { throw Malformed(line: line) }
                i += 2
                var value: [UInt8] = []
                while i < b.count, b[i] != UInt8(ascii: "\"") {
                    if b[i] == UInt8(ascii: "\\") {
                        guard i + 1 < b.count else { throw Malformed(line: line) }
                        switch b[i + 1] {
                        case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                        case UInt8(ascii: "\\"), UInt8(ascii: "\""): value.append(b[i + 1])
                        default: throw Malformed(line: line)
                        }
                        i += 2
                    } else {
                        value.append(b[i])
                        i += 1
                    }
                }
                guard i < b.count else { throw Malformed(line: line) }
                i += 1  // closing quote
                labels[key] = String(decoding: value, as: UTF8.self)
                if i < b.count, b[i] == UInt8(ascii: ",") { i += 1 }
            }
            i += 1  // }
        }
        guard i < b.count, b[i] == UInt8(ascii: " "),
              let value = Double(String(decoding: b[(i + 1)...], as: UTF8.self).replacingOccurrences(of: "+Inf", with: "inf")) else {
            throw Malformed(line: line)
        }
        return Sample(name: name, labels: labels, value: value)
    }
}
