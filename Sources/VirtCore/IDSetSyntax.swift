/// Why a CPU or node list could not be read.
public struct IDSetParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: Hashable, Sendable {
        case empty
        case invalidCharacter(Character)
        case invalidNumber(String)
        case reversedRange(Int, Int)
        /// `^N-M`: libvirt's `virBitmapParse` only excludes single IDs.
        case negatedRange
        case tooLarge(Int)
        case invalidHexMask
    }

    public var input: String
    /// 0-based UTF-8 byte offset of the offending item in `input`.
    public var offset: Int
    public var reason: Reason

    public var description: String {
        let what: String
        switch reason {
        case .empty: what = "empty list"
        case .invalidCharacter(let c): what = "unexpected character '\(c)'"
        case .invalidNumber(let s): what = "'\(s)' is not a number"
        case .reversedRange(let a, let b): what = "range \(a)-\(b) runs backwards"
        case .negatedRange: what = "'^' excludes single IDs only (libvirt rejects ^N-M)"
        case .tooLarge(let n): what = "\(n) exceeds the largest supported ID"
        case .invalidHexMask: what = "not a hex mask"
        }
        return "invalid ID list '\(input)' at offset \(offset): \(what)"
    }
}

extension IDSet {
    /// Parses libvirt's and the kernel's list syntax: comma-separated IDs and
    /// inclusive ranges, with `^N` excluding an ID added by an earlier item
    /// (libvirt's `virBitmapParse`, which refuses `^N-M`), e.g. `0-7,^2,10`. Whitespace around items is
    /// ignored. An empty string is an error unless `allowEmpty` is set (the kernel
    /// writes an empty line for an empty `cpuset.cpus`).
    public init(parsing text: String, allowEmpty: Bool = false) throws(IDSetParseError) {
        self.init()
        let bytes = Array(text.utf8)
        var i = 0
        var sawItem = false

        func fail(_ reason: IDSetParseError.Reason, at offset: Int) -> IDSetParseError {
            IDSetParseError(input: text, offset: offset, reason: reason)
        }
        func skipSpaces() { while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A { i += 1 } }
        func character(at offset: Int) -> Character {
            let tail = String(decoding: bytes[offset...], as: UTF8.self)
            return tail.first ?? "\u{FFFD}"
        }
        func number() throws(IDSetParseError) -> Int {
            let start = i
            var value = 0
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                value = value * 10 + Int(bytes[i] - 0x30)
                if value > Self.maxID { throw fail(.tooLarge(value), at: start) }
                i += 1
            }
            if i == start {
                if i < bytes.count { throw fail(.invalidCharacter(character(at: i)), at: i) }
                throw fail(.invalidNumber(""), at: i)
            }
            return value
        }

        skipSpaces()
        if i == bytes.count {
            if allowEmpty { return }
            throw fail(.empty, at: 0)
        }
        while true {
            skipSpaces()
            let itemStart = i
            var negate = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "^") { negate = true; i += 1 }
            let lo = try number()
            var hi = lo
            skipSpaces()
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") {
                if negate { throw fail(.negatedRange, at: itemStart) }
                i += 1
                skipSpaces()
                hi = try number()
                if hi < lo { throw fail(.reversedRange(lo, hi), at: itemStart) }
            }
            if negate {
                for id in lo...hi { clearBit(id) }
            } else {
                insert(range: lo...hi)
            }
            sawItem = true
            skipSpaces()
            if i == bytes.count { break }
            guard bytes[i] == UInt8(ascii: ",") else {
                throw fail(.invalidCharacter(character(at: i)), at: i)
            }
            i += 1
        }
        _ = sawItem
    }

    /// The canonical list form, ranges collapsed: `0-3,8,10-11`. Empty for an empty set.
    public var listString: String {
        var parts: [String] = []
        var it = makeIterator()
        guard var start = it.next() else { return "" }
        var end = start
        while let id = it.next() {
            if id == end + 1 { end = id; continue }
            parts.append(start == end ? "\(start)" : "\(start)-\(end)")
            start = id; end = id
        }
        parts.append(start == end ? "\(start)" : "\(start)-\(end)")
        return parts.joined(separator: ",")
    }

    /// Parses a hex mask: the kernel's comma-separated 32-bit groups
    /// (`/sys/.../cpumap`, `ff,ffffffff`) or a plain hex number with an optional `0x`.
    public init(hexMask text: String) throws(IDSetParseError) {
        self.init()
        var digits = text.filter { $0 != "," && !$0.isWhitespace }
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits.removeFirst(2) }
        guard !digits.isEmpty else { throw IDSetParseError(input: text, offset: 0, reason: .invalidHexMask) }
        var bit = 0
        for ch in digits.reversed() {
            guard let nibble = ch.hexDigitValue else {
                throw IDSetParseError(input: text, offset: 0, reason: .invalidHexMask)
            }
            for b in 0..<4 where nibble & (1 << b) != 0 {
                let id = bit + b
                if id > Self.maxID { throw IDSetParseError(input: text, offset: 0, reason: .tooLarge(id)) }
                setBit(id)
            }
            bit += 4
        }
    }

    /// The kernel's cpumask form: 32-bit groups of 8 hex digits, most significant first,
    /// separated by commas (`00000001,0000000f`). `"0"` for an empty set.
    public var hexMask: String {
        guard let top = max else { return "0" }
        let groups = top / 32 + 1
        var out: [String] = []
        for g in stride(from: groups - 1, through: 0, by: -1) {
            let word = words[g / 2]
            let value = UInt32(truncatingIfNeeded: g % 2 == 0 ? word : word >> 32)
            let hex = String(value, radix: 16)
            out.append(String(repeating: "0", count: 8 - hex.count) + hex)
        }
        return out.joined(separator: ",")
    }

    /// Reads a libvirt `cpumap` / `cpumaps` row: bit `i % 8` of byte `i / 8` is ID `i`.
    public init<C: Collection>(bitmap bytes: C) where C.Element == UInt8 {
        self.init()
        for (byteIndex, byte) in bytes.enumerated() where byte != 0 {
            for b in 0..<8 where byte & (1 << b) != 0 { setBit(byteIndex * 8 + b) }
        }
    }

    /// A libvirt `cpumap` of `length` bytes (`VIR_CPU_MAPLEN(maxcpus)`); IDs past it are dropped.
    public func bitmap(length: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        for id in self where id / 8 < length { out[id / 8] |= 1 << UInt8(id % 8) }
        return out
    }
}

extension IDSet: CustomStringConvertible, LosslessStringConvertible {
    public var description: String { listString }
    public init?(_ description: String) {
        guard let parsed = try? Self(parsing: description, allowEmpty: true) else { return nil }
        self = parsed
    }
}

extension IDSet: Codable {
    /// Encoded as the list string (`"0-3,8"`), the form every libvirt and kernel tool shows.
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = try Self(parsing: text, allowEmpty: true)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(listString)
    }
}
