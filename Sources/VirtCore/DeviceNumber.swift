/// A device number, `MAJOR:MINOR`: how sysfs (`/sys/block/NAME/dev`), cgroup I/O files
/// (`io.max`, `io.stat`, `blkio.throttle.*`) and `stat`'s `st_rdev` name a device. Shared
/// so a device HostProbe finds can be limited with CgroupControl directly.
///
/// Codable as the string `"8:0"`.
public struct DeviceNumber: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// Device major number.
    public var major: UInt32
    /// Device minor number.
    public var minor: UInt32

    public init(major: UInt32, minor: UInt32) {
        self.major = major
        self.minor = minor
    }

    /// Splits a `dev_t` (`stat`'s `st_rdev`) as glibc's `major()`/`minor()` do: 12 bits of
    /// major at bit 8 plus the rest from bit 32; 8 bits of minor plus the rest from bit 12.
    public init(rawDeviceNumber d: UInt64) {
        self.init(major: UInt32(truncatingIfNeeded: (d >> 8) & 0xfff | (d >> 32) & ~0xfff),
                  minor: UInt32(truncatingIfNeeded: d & 0xff | (d >> 12) & ~0xff))
    }

    /// Parses `8:0` (decimal, nothing around it); nil otherwise.
    public init?(_ text: some StringProtocol) {
        var s = String(text)
        guard let d = s.withUTF8({ DeviceNumber(utf8: $0) }) else { return nil }
        self = d
    }

    /// Parses `8:0` from UTF-8 bytes (decimal digits only, nothing around them); nil
    /// otherwise. For parsers that work on a file's bytes.
    public init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        var parts: (UInt32, UInt32) = (0, 0)
        var index = 0, digits = 0
        for b in bytes {
            if b == UInt8(ascii: ":") {
                guard index == 0, digits > 0 else { return nil }
                index = 1
                digits = 0
                continue
            }
            guard b >= 0x30, b <= 0x39 else { return nil }
            var v = index == 0 ? parts.0 : parts.1
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt32(b - 0x30))
            guard !o1, !o2 else { return nil }
            v = a
            if index == 0 { parts.0 = v } else { parts.1 = v }
            digits += 1
        }
        guard index == 1, digits > 0 else { return nil }
        self.init(major: parts.0, minor: parts.1)
    }

    public var description: String { "\(major):\(minor)" }

    public static func < (a: Self, b: Self) -> Bool { (a.major, a.minor) < (b.major, b.minor) }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        guard let d = DeviceNumber(try c.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected MAJOR:MINOR")
        }
        self = d
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
