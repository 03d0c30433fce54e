import VirtCore

/// A DHCP lease time: `expiry` with its `unit` (`seconds`, `minutes` — the default — or
/// `hours`); `expiry='0'` is a lease that never expires (`.unlimited`). New values are written
/// in the existing unit when exact, else in the largest exact unit.
public struct LeaseExpiry: LeafKey {
    public typealias Value = Limit<Duration>
    static let units: [(String, DurationUnit)] = [("hours", .hours), ("minutes", .minutes), ("seconds", .seconds)]

    public init() {}

    public func register(in builder: inout SpecBuilder) {
        builder.attribute("expiry")
        builder.attribute("unit")
        builder.leaf(self)
    }

    public func raw(_ element: LosslessXMLElement) -> String? {
        guard let n = element.attribute("expiry") else { return nil }
        return element.attribute("unit").map { "\(n) \($0)" } ?? n
    }

    public func read(_ element: LosslessXMLElement) throws(TypedXMLError) -> Limit<Duration>? {
        guard let text = element.attribute("expiry") else { return nil }
        let unitName = element.attribute("unit") ?? "minutes"
        guard let unit = Self.units.first(where: { $0.0 == unitName })?.1 else {
            throw TypedXMLError(path: elementPath(element), attribute: "unit", value: unitName,
                                reason: .invalidValue("is not one of seconds/minutes/hours"))
        }
        guard let n = UInt64(text.trimmingASCIIWhitespace()), let d = unit.duration(n) else {
            throw TypedXMLError(path: elementPath(element), attribute: "expiry", value: text, reason: .invalidInteger)
        }
        return n == 0 ? .unlimited : .limited(d)
    }

    public func write(_ value: Limit<Duration>?, node: ElementRef, spec: ElementSpec) {
        guard let value else {
            if let e = node.element {
                e.setAttribute("expiry", nil)
                e.setAttribute("unit", nil)
            }
            return
        }
        let e = node.materialize()
        if let e = node.element, (try? read(e)) == value { return }   // keep the spelling
        switch value {
        case .unlimited:
            e.setAttribute("expiry", "0")
        case .limited(let d):
            let current = e.attribute("unit").flatMap { u in Self.units.first { $0.0 == u } }
            let candidates = (current.map { [$0] } ?? []) + Self.units
            for (name, unit) in candidates {
                if let n = unit.count(d), n > 0, unit.duration(n) == d {
                    e.setAttribute("expiry", String(n))
                    e.setAttribute("unit", name)
                    return
                }
            }
            // Finer than a second: round up to whole seconds (libvirt's smallest unit).
            e.setAttribute("expiry", String((DurationUnit.seconds.count(d) ?? 0) + 1))
            e.setAttribute("unit", "seconds")
        }
    }
}
