/// A problem found by the typed layer: a value that does not decode, a required node that is
/// missing, or a standalone document with the wrong root element.
///
/// Thrown at the access that hit it (`try domain.vcpu.count.value`) and collected all at once
/// by `validate()`. `path` is the element path with 1-based positions where siblings share a
/// name (`/domain/devices/disk[2]/driver`); `attribute` names the attribute when the value is one.
public struct TypedXMLError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: Hashable, Sendable {
        /// Not an integer in the accepted syntax, or outside the property's range.
        case invalidInteger
        /// Not one of the spellings this boolean property accepts (`yes`/`no` or `on`/`off`).
        case invalidBoolean(accepted: [String])
        /// `MemorySize.ParseError` rendered as text (value, unit and why).
        case invalidMemory(String)
        /// `IDSetParseError` rendered as text.
        case invalidIDSet(String)
        /// Not 32 hex digits (dashes allowed between pairs), libvirt's `virUUIDParse` rule.
        case invalidUUID
        /// A required attribute or child element is absent.
        case missing
        /// A standalone document whose root is not the element the view expects.
        case wrongRootElement(expected: String, found: String)
        /// The text is not well-formed XML.
        case malformedXML(XMLParseError)
        /// Present where libvirt's schema does not allow it.
        case notAllowed
        /// A value libvirt refuses for a reason the other cases do not name (`why` says it).
        case invalidValue(String)
    }

    public var path: String
    public var attribute: String?
    public var value: String?
    public var reason: Reason

    public init(path: String, attribute: String? = nil, value: String? = nil, reason: Reason) {
        self.path = path
        self.attribute = attribute
        self.value = value
        self.reason = reason
    }

    public var description: String {
        let at = attribute.map { "\(path)/@\($0)" } ?? path
        let shown = value.map { " '\($0)'" } ?? ""
        switch reason {
        case .invalidInteger: return "\(at):\(shown) is not a valid integer"
        case .invalidBoolean(let accepted): return "\(at):\(shown) is not one of \(accepted.joined(separator: "/"))"
        case .invalidMemory(let why): return "\(at): \(why)"
        case .invalidIDSet(let why): return "\(at): \(why)"
        case .invalidUUID: return "\(at):\(shown) is not a UUID"
        case .missing: return "\(at): required but missing"
        case .wrongRootElement(let expected, let found): return "\(at): expected <\(expected)>, found <\(found)>"
        case .malformedXML(let error): return "malformed XML: \(error)"
        case .notAllowed: return "\(at):\(shown) is not allowed here"
        case .invalidValue(let why): return "\(at):\(shown) \(why)"
        }
    }
}

/// The reason a codec rejected a string; the key that called it adds path and value.
public struct ValueProblem: Error, Hashable, Sendable {
    public var reason: TypedXMLError.Reason
    public init(_ reason: TypedXMLError.Reason) { self.reason = reason }
}

/// `/domain/devices/disk[2]/driver`: the element's path, positions only where needed.
package func elementPath(_ element: LosslessXMLElement) -> String {
    var parts: [String] = []
    var current: LosslessXMLElement? = element
    while let e = current {
        var part = e.name
        // Indexed once per parent: n errors among n same-named siblings stay linear.
        if let i = e.parent?.sameNamePosition(of: e) { part += "[\(i)]" }
        parts.append(part)
        current = e.parent
    }
    return "/" + parts.reversed().joined(separator: "/")
}
