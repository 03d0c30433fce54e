import VirtCore

/// The parts of a ``HostSnapshot``; each can be probed alone (`virtkit probe --sections`).
public enum ProbeSection: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Logical CPUs, caches, cpufreq, isolation, `/proc/cpuinfo` (JSON key `topology`).
    case topology
    case numa
    case memory
    case sysctls
    case kvm
    case pci
    case block
    case network

    public var description: String { rawValue }
}

/// A source HostProbe could not use: which section, what it wanted, the file, and why.
/// The section still carries everything else it could read.
public struct ProbeDiagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    public var section: ProbeSection
    /// What the value was for, e.g. `"CPU 3 core id"`.
    public var what: String
    /// The virtual path (inside the probe root) of the file.
    public var path: String
    public var failure: ReadFailure

    public init(section: ProbeSection, what: String, path: String, failure: ReadFailure) {
        self.section = section
        self.what = what
        self.path = path
        self.failure = failure
    }

    public var description: String { "\(section): \(what): \(path): \(failure)" }
}

extension ReadFailure {
    private enum CodingKeys: String, CodingKey { case kind, errno, message, limit }

    /// Stable short name used as the JSON `kind`.
    public var kind: String {
        switch self {
        case .missing: return "missing"
        case .permissionDenied: return "permissionDenied"
        case .symlinkLoop: return "symlinkLoop"
        case .error: return "error"
        case .garbled: return "garbled"
        case .tooLarge: return "tooLarge"
        case .notARegularFile: return "notARegularFile"
        case .outOfRange: return "outOfRange"
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try c.decode(String.self, forKey: .kind)
        switch kind {
        case "missing": self = .missing
        case "permissionDenied": self = .permissionDenied
        case "symlinkLoop": self = .symlinkLoop
        case "garbled": self = .garbled(try c.decodeIfPresent(String.self, forKey: .message) ?? "")
        case "tooLarge": self = .tooLarge(limit: try c.decodeIfPresent(Int.self, forKey: .limit) ?? 0)
        case "notARegularFile": self = .notARegularFile(try c.decodeIfPresent(String.self, forKey: .message) ?? "")
        case "outOfRange": self = .outOfRange(try c.decodeIfPresent(String.self, forKey: .message) ?? "")
        default:
            self = .error(errno: try c.decodeIfPresent(Int32.self, forKey: .errno) ?? 0,
                          message: try c.decodeIfPresent(String.self, forKey: .message) ?? kind)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        switch self {
        case .error(let e, let m):
            try c.encode(e, forKey: .errno)
            try c.encode(m, forKey: .message)
        case .garbled(let m), .notARegularFile(let m), .outOfRange(let m):
            try c.encode(m, forKey: .message)
        case .tooLarge(let limit):
            try c.encode(limit, forKey: .limit)
            try c.encode(description, forKey: .message)
        default:
            try c.encode(description, forKey: .message)
        }
    }
}

/// One probe run's reader plus the diagnostics of the section being read.
final class ProbeContext {
    let reader: SourceReader
    var diagnostics: [ProbeDiagnostic] = []
    var section: ProbeSection = .topology

    init(reader: SourceReader) { self.reader = reader }

    var root: ProbeRoot { reader.root }

    func note(_ what: String, _ path: String, _ failure: ReadFailure) {
        var f = failure
        // A diagnostic quotes at most a short prefix of a bad value, whatever the parser put in.
        if case .garbled(let m) = f, m.utf8.count > 200 { f = .garbled(String(m.prefix(160)) + "… (\(m.utf8.count) bytes)") }
        diagnostics.append(ProbeDiagnostic(section: section, what: what, path: path, failure: f))
    }

    /// The file's text; on failure a diagnostic, except a missing optional file.
    func text(_ path: String, _ what: @autoclosure () -> String, required: Bool = false) -> String? {
        switch reader.read(path) {
        case .success(let s): return s
        case .failure(.missing) where !required: return nil
        case .failure(let f):
            note(what(), path, f)
            return nil
        }
    }

    /// The first line, trimmed (sysfs attributes are one value and a newline).
    func line(_ path: String, _ what: @autoclosure () -> String, required: Bool = false) -> String? {
        switch reader.readTrimmed(path) {
        case .success(let s): return s
        case .failure(.missing) where !required: return nil
        case .failure(let f):
            note(what(), path, f)
            return nil
        }
    }

    /// A decimal integer attribute; garbled content is a diagnostic.
    func int(_ path: String, _ what: @autoclosure () -> String, required: Bool = false) -> Int? {
        guard let s = line(path, what(), required: required) else { return nil }
        if let v = Int(s) { return v }
        note(what(), path, Self.numberFailure(s, "an integer"))
        return nil
    }

    func uint64(_ path: String, _ what: @autoclosure () -> String, required: Bool = false) -> UInt64? {
        guard let s = line(path, what(), required: required) else { return nil }
        if let v = UInt64(s) { return v }
        note(what(), path, Self.numberFailure(s, "a non-negative integer"))
        return nil
    }

    /// KiB from a kernel table as a `MemorySize`; beyond 2^64 bytes is an out-of-range
    /// diagnostic and nil, never a silent saturation.
    func kib(_ v: UInt64?, _ what: @autoclosure () -> String, _ path: String) -> MemorySize? {
        guard let v else { return nil }
        if let m = MemorySize.exactKiB(v) { return m }
        note(what(), path, .outOfRange("\(v) KiB is beyond 2^64 bytes"))
        return nil
    }

    /// Digits that do not fit are out of range; anything else is garbled.
    static func numberFailure(_ s: String, _ kind: String) -> ReadFailure {
        let digits = s.utf8.drop { $0 == UInt8(ascii: "-") }
        if !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return .outOfRange("\(RootedFileReader.quote(s)) does not fit \(kind)")
        }
        return .garbled("\(RootedFileReader.quote(s)) is not \(kind)")
    }

    /// A CPU list (`0-3,8`); garbled content is a diagnostic.
    func cpuList(_ path: String, _ what: @autoclosure () -> String, required: Bool = false) -> CPUSet? {
        guard let s = line(path, what(), required: required) else { return nil }
        do { return try CPUSet(parsing: s, allowEmpty: true) } catch {
            note(what(), path, .garbled(error.description))
            return nil
        }
    }

    /// A kernel hex cpumask (`ff,00000001`).
    func cpuMask(_ path: String, _ what: @autoclosure () -> String, required: Bool = false) -> CPUSet? {
        guard let s = line(path, what(), required: required) else { return nil }
        if let set = parseHexMask(s) { return set }
        note(what(), path, .garbled("'\(s.prefix(40))' is not a hex CPU mask"))
        return nil
    }

    /// `*_list` when present, else the hex mask beside it (kernels before 2.6.2x only
    /// have the mask, e.g. hwloc's older archives).
    func cpuListOrMask(_ dir: String, _ base: String, _ what: @autoclosure () -> String) -> CPUSet? {
        switch reader.readTrimmed(dir + "/" + base + "_list") {
        case .success(let s):
            do { return try CPUSet(parsing: s, allowEmpty: true) } catch {
                note(what(), dir + "/" + base + "_list", .garbled(error.description))
                return nil
            }
        case .failure(.missing):
            return cpuMask(dir + "/" + base, what())
        case .failure(let f):
            note(what(), dir + "/" + base + "_list", f)
            return nil
        }
    }

    /// The first of several spellings that exists (`core_cpus` is the kernel's new name for
    /// `thread_siblings`; some trees only have one of them).
    func cpuListOrMask(_ dir: String, anyOf bases: [String], _ what: @autoclosure () -> String) -> CPUSet? {
        for b in bases {
            if let s = cpuListOrMask(dir, b, what()) { return s }
        }
        return nil
    }

    func list(_ path: String, _ what: @autoclosure () -> String, required: Bool = false) -> [DirEntry] {
        switch reader.list(path) {
        case .success(let e): return e
        case .failure(.missing) where !required: return []
        case .failure(let f):
            note(what(), path, f)
            return []
        }
    }

    /// The last path component of a symlink's target (`driver` → `virtio-pci`).
    func linkName(_ path: String) -> String? {
        guard case .success(let t) = reader.readLink(path) else { return nil }
        return t.split(separator: "/").last.map(String.init)
    }
}

/// `cpu12` → 12 for names with a prefix and a decimal suffix.
func numberedName(_ name: String, prefix: String) -> Int? {
    guard name.hasPrefix(prefix) else { return nil }
    let rest = name.utf8.dropFirst(prefix.utf8.count)
    guard !rest.isEmpty, rest.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
    return Int(Substring(rest))
}

/// Parses `Key:   123 kB` lines (`/proc/meminfo`, node `meminfo` with its `Node N `
/// prefix stripped) into KiB or plain counts.
func parseMeminfo(_ text: String) -> [String: UInt64] {
    // Byte-wise: 65 node meminfo files per probe of a 64-node tree made the
    // split-based version show in profiles. Same rules: empty lines skipped; `Node N `
    // (one space after N) dropped; the key is everything before the first `:`; the value
    // is the first space-separated token after it.
    var out: [String: UInt64] = [:]
    var copy = text
    copy.withUTF8 { buf in
        let n = buf.count
        let space = UInt8(ascii: " ")
        var i = 0
        while i < n {
            var eol = i
            while eol < n, buf[eol] != 0x0A { eol += 1 }
            defer { i = eol + 1 }
            var s = i
            if eol - s >= 5, buf[s] == UInt8(ascii: "N"), buf[s + 1] == UInt8(ascii: "o"), buf[s + 2] == UInt8(ascii: "d"),
               buf[s + 3] == UInt8(ascii: "e"), buf[s + 4] == space {
                // Tokens "Node", N, then the rest after the single space that ends N.
                s += 5
                while s < eol, buf[s] == space { s += 1 }
                guard s < eol else { continue }
                while s < eol, buf[s] != space { s += 1 }
                s += 1
                guard s < eol else { continue }
            }
            var colon = s
            while colon < eol, buf[colon] != UInt8(ascii: ":") { colon += 1 }
            guard colon < eol else { continue }
            var vs = colon + 1
            while vs < eol, buf[vs] == space { vs += 1 }
            var ve = vs
            while ve < eol, buf[ve] != space { ve += 1 }
            guard ve > vs,
                  let v = UInt64(String(decoding: UnsafeBufferPointer(rebasing: buf[vs..<ve]), as: UTF8.self)) else { continue }
            out[String(decoding: UnsafeBufferPointer(rebasing: buf[s..<colon]), as: UTF8.self)] = v
        }
    }
    return out
}

/// The kernel's hex cpumask (`ff,0000000f`, optional `0x`) read byte by byte: the same
/// syntax as `CPUSet(hexMask:)`, without its per-Character Unicode lookups, which showed
/// in profiles of 256-CPU trees (thousands of masks per probe).
func parseHexMask(_ text: String) -> CPUSet? {
    var ids: [Int] = []
    var bit = 0
    var digits = 0
    var u = Array(text.utf8)
    if u.count >= 2, u[0] == UInt8(ascii: "0"), u[1] == UInt8(ascii: "x") || u[1] == UInt8(ascii: "X") { u.removeFirst(2) }
    for b in u.reversed() {
        let nibble: Int
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = Int(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = Int(b - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = Int(b - UInt8(ascii: "A")) + 10
        case UInt8(ascii: ","), 0x20, 0x0A, 0x09: continue
        default: return nil
        }
        digits += 1
        if nibble != 0 {
            if bit + 3 > CPUSet.maxID { return nil }
            for k in 0..<4 where nibble & (1 << k) != 0 { ids.append(bit + k) }
        }
        bit += 4
    }
    return digits == 0 ? nil : CPUSet(ids)
}

extension MemorySize {
    /// `n` KiB, or nil when that is beyond 2^64 − 1 bytes (no saturation).
    static func exactKiB(_ n: UInt64) -> MemorySize? {
        let (b, o) = n.multipliedReportingOverflow(by: 1024)
        return o ? nil : MemorySize(bytes: b)
    }
}
