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
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = UInt32(parts[0]), let minor = UInt32(parts[1]) else { return nil }
        self.init(major: major, minor: minor)
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
