/// A limit that may be absent: the one spelling of "unlimited" across VirtKit.
///
/// libvirt, domain XML and cgroups each write "no limit" their own way (`-1`, `max`,
/// `VIR_DOMAIN_MEMORY_PARAM_UNLIMITED` = 2^53-1 KiB, an empty element); the modules translate
/// those at their edge, so callers only ever see `.unlimited` or `.limited(value)`.
public enum Limit<Value: Sendable & Hashable>: Sendable, Hashable {
    case unlimited
    case limited(Value)

    /// The value, or nil for `.unlimited`.
    public var value: Value? {
        if case .limited(let v) = self { return v }
        return nil
    }

    public var isUnlimited: Bool { self == .unlimited }
}

extension Limit: Comparable where Value: Comparable {
    /// `.unlimited` is above every value.
    public static func < (a: Self, b: Self) -> Bool {
        switch (a, b) {
        case (.limited(let x), .limited(let y)): return x < y
        case (.limited, .unlimited): return true
        case (.unlimited, _): return false
        }
    }
}

extension Limit: CustomStringConvertible {
    public var description: String {
        switch self {
        case .unlimited: return "unlimited"
        case .limited(let v): return "\(v)"
        }
    }
}

/// Encodes as the string `"unlimited"` or as the value's own encoding (stable JSON).
extension Limit: Codable where Value: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self), s == "unlimited" {
            self = .unlimited
        } else {
            self = .limited(try c.decode(Value.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .unlimited: try c.encode("unlimited")
        case .limited(let v): try c.encode(v)
        }
    }
}
