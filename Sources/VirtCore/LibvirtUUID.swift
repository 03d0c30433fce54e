/// The UUID of a libvirt object (domain, network, storage pool, secret, …): 16 bytes,
/// written `8-4-4-4-12` in lowercase hex. One type for every module: DomainXML's `<uuid>`,
/// `Domain.uuid` from the C API, and the other object kinds.
///
/// Kept free of Foundation so the XML modules need none; `Libvirt` converts to and from
/// Foundation's `UUID` where a caller has one.
public struct LibvirtUUID: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// The 16 bytes, in the order libvirt's `virDomainGetUUID` fills its buffer.
    public private(set) var bytes: [UInt8]

    /// libvirt's `virUUIDParse`: 32 hex digits, `-` allowed between byte pairs, blanks around.
    public init?(_ text: String) {
        let t = Array(text.trimmingASCIIWhitespace().utf8)
        var out: [UInt8] = []
        out.reserveCapacity(16)
        var i = 0
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: return nil
            }
        }
        while out.count < 16 {
            while i < t.count, t[i] == UInt8(ascii: "-") { i += 1 }
            guard i + 1 < t.count, let hi = hex(t[i]), let lo = hex(t[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        guard i == t.count else { return nil }
        bytes = out
    }

    /// From 16 bytes; nil for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    public var description: String {
        var s = ""
        s.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { s += "-" }
            let h = String(b, radix: 16)
            s += b < 16 ? "0" + h : h
        }
        return s
    }

    public static func < (a: Self, b: Self) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }

    /// Encodes as the canonical string.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let u = LibvirtUUID(text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "invalid UUID '\(text)'")
        }
        self = u
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
