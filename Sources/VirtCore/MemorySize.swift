/// An amount of memory in bytes, read and written with libvirt's units.
///
/// Libvirt's rule (`virScaleInteger`): no unit means the context's default (KiB for
/// domain XML); `b`/`byte`/`bytes` is 1; a letter of `k m g t p e` alone or followed by
/// `iB` is a power of 1024; followed by `B` it is a power of 1000 (`KB` = 1000,
/// `KiB` = `k` = 1024). The letter is case-insensitive.
public struct MemorySize: Hashable, Comparable, Sendable, Codable {
    public var bytes: UInt64

    public init(bytes: UInt64) { self.bytes = bytes }
    // The unit constructors and `+` saturate at `UInt64.max` bytes instead of trapping:
    // they take values reported by kernels and daemons (libvirt reports "unlimited" as
    // 2^53-1 KiB and some counters as UINT64_MAX), which must never crash the caller.
    public static func kibibytes(_ n: UInt64) -> Self { scaled(n, by: 1 << 10) }
    public static func mebibytes(_ n: UInt64) -> Self { scaled(n, by: 1 << 20) }
    public static func gibibytes(_ n: UInt64) -> Self { scaled(n, by: 1 << 30) }
    private static func scaled(_ n: UInt64, by factor: UInt64) -> Self {
        let (product, overflow) = n.multipliedReportingOverflow(by: factor)
        return Self(bytes: overflow ? .max : product)
    }
    public static let zero = Self(bytes: 0)

    /// Whole KiB, rounded down; libvirt's APIs mostly speak KiB.
    public var kibibytes: UInt64 { bytes / 1024 }
    public var mebibytes: Double { Double(bytes) / 1_048_576 }

    public static func < (a: Self, b: Self) -> Bool { a.bytes < b.bytes }
    public static func + (a: Self, b: Self) -> Self {
        let (sum, overflow) = a.bytes.addingReportingOverflow(b.bytes)
        return Self(bytes: overflow ? .max : sum)
    }

    /// A unit as libvirt spells it.
    public struct Unit: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public var rawValue: String
        /// Bytes per unit.
        public let multiplier: UInt64

        /// Parses a unit string; nil when libvirt would reject it.
        public init?(rawValue: String) {
            guard let m = Unit.multiplier(of: rawValue) else { return nil }
            self.rawValue = rawValue
            self.multiplier = m
        }

        public var description: String { rawValue }

        public static let bytes = Unit(rawValue: "b")!
        public static let KiB = Unit(rawValue: "KiB")!
        public static let MiB = Unit(rawValue: "MiB")!
        public static let GiB = Unit(rawValue: "GiB")!
        public static let TiB = Unit(rawValue: "TiB")!
        public static let KB = Unit(rawValue: "KB")!
        public static let MB = Unit(rawValue: "MB")!
        public static let GB = Unit(rawValue: "GB")!
        public static let TB = Unit(rawValue: "TB")!

        static func multiplier(of text: String) -> UInt64? {
            let lower = text.lowercased()
            if lower == "b" || lower == "byte" || lower == "bytes" { return 1 }
            let chars = Array(lower)
            guard let letter = chars.first, let power = "kmgtpe".firstIndex(of: letter) else { return nil }
            let exponent = "kmgtpe".distance(from: "kmgtpe".startIndex, to: power) + 1
            let base: UInt64
            let rest = String(chars.dropFirst())
            if rest.isEmpty || rest == "ib" {
                base = 1024
            } else if rest == "b" {
                base = 1000
            } else {
                return nil
            }
            var m: UInt64 = 1
            for _ in 0..<exponent { m *= base }
            return m
        }
    }

    /// Why a memory amount could not be read.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        public var value: String
        public var unit: String?
        public var reason: String
        public var description: String {
            "invalid memory size '\(value)\(unit.map { " \($0)" } ?? "")': \(reason)"
        }
    }

    /// `value` in `unit` (libvirt XML: `<memory unit='GiB'>4</memory>`); `defaultUnit`
    /// applies when `unit` is nil or empty.
    public init(value: String, unit: String?, defaultUnit: Unit = .KiB) throws(ParseError) {
        let trimmed = value.trimmingASCIIWhitespace()
        guard let n = UInt64(trimmed) else {
            throw ParseError(value: value, unit: unit, reason: "not a non-negative integer")
        }
        let u: Unit
        if let unit, !unit.isEmpty {
            guard let parsed = Unit(rawValue: unit) else {
                throw ParseError(value: value, unit: unit, reason: "unknown unit")
            }
            u = parsed
        } else {
            u = defaultUnit
        }
        let (product, overflow) = n.multipliedReportingOverflow(by: u.multiplier)
        if overflow { throw ParseError(value: value, unit: unit, reason: "too large") }
        self.bytes = product
    }

    /// A number with an optional unit suffix, as typed on a command line: `512M`, `4GiB`,
    /// `2048` (in `defaultUnit`).
    public init(parsing text: String, defaultUnit: Unit = .bytes) throws(ParseError) {
        let t = text.trimmingASCIIWhitespace()
        let digits = t.prefix { $0.isASCII && $0.isNumber }
        let suffix = t.dropFirst(digits.count).trimmingASCIIWhitespace()
        try self.init(value: String(digits), unit: suffix.isEmpty ? nil : suffix, defaultUnit: defaultUnit)
    }

    /// The amount in `unit`, when it divides exactly.
    public func exactly(in unit: Unit) -> UInt64? {
        bytes % unit.multiplier == 0 ? bytes / unit.multiplier : nil
    }
}

extension MemorySize: CustomStringConvertible {
    /// The largest binary unit that divides exactly: `4 GiB`, `1536 MiB`, `100 b`.
    public var description: String {
        for unit in [Unit.TiB, .GiB, .MiB, .KiB] where bytes != 0 && bytes % unit.multiplier == 0 {
            return "\(bytes / unit.multiplier) \(unit.rawValue)"
        }
        return "\(bytes) b"
    }
}

extension StringProtocol {
    /// Trims spaces, tabs and newlines without Foundation.
    public func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[start...end])
    }
}

extension MemorySize {
    /// For people: three significant figures in the largest binary unit below the value
    /// (`5.60 GiB`, `512 MiB`, `1.50 KiB`, `100 B`); `description` is the exact form.
    public var humanReadable: String {
        let units: [(UInt64, String)] = [(1 << 60, "EiB"), (1 << 50, "PiB"), (1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, name) in units where bytes >= size {
            return significant(Double(bytes) / Double(size)) + " " + name
        }
        return "\(bytes) B"
    }
}
