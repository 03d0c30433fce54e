import DomainXML
import LosslessXML
import VirtCore

/// Carrying out a remedy's `DomainXMLEdit` on a definition, and checking that a definition
/// (as libvirt printed it back) still has it.
///
/// Paths are element names from `<domain>` down, `/`-separated; a segment `name[key=value]`
/// picks the child whose attribute `key`, or whose child element `key`'s text or any
/// attribute, equals `value` (`devices/disk[target=vda]/driver`,
/// `devices/interface[mac=52:54:00:…]/driver`). `set` creates missing plain segments (never
/// ones with a predicate); `add` under `devices` appends (devices are lists), elsewhere it
/// replaces the same-named child (`numatune/memory`, `memoryBacking/hugepages`).
extension DomainXMLEdit {
    /// Makes the edit on `definition`.
    public func apply(to definition: DomainDefinition) throws(ReconfigurationError) {
        let root = definition.document.root
        switch operation {
        case .set:
            if value == nil, attribute == nil {
                try find(root, create: false)?.removeFromParent()
                return
            }
            guard let e = try find(root, create: value != nil) else { return }   // removing from nothing
            if let attribute { e.setAttribute(attribute, value) } else { e.text = value }
        case .add:
            guard let xml = value else { throw .invalid("add under \(path): no element given") }
            let fragment: LosslessXMLElement
            do { fragment = try LosslessXMLDocument(parsing: xml, limits: XMLParseLimits(maxDepth: Self.maxDepth)).root } catch {
                throw .invalid("add under \(path): \(error)")
            }
            guard let parent = try find(root, create: true) else { return }
            if parent.name != "devices", let same = parent.firstChild(named: fragment.name) { parent.removeChild(same) }
            _ = parent.appendChild(LosslessXMLElement.copy(of: fragment))
        case .remove:
            try find(root, create: false)?.removeFromParent()
        }
    }

    /// Whether `definition` shows this edit made: the attribute or text has the value (CPU
    /// lists compared as sets), an added element is there with at least its attributes and
    /// children (libvirt adds addresses and defaults), a removed one is gone.
    public func isSatisfied(by definition: DomainDefinition) -> Bool {
        let root = definition.document.root
        let e: LosslessXMLElement?
        do { e = try find(root, create: false) } catch { return false }
        switch operation {
        case .set:
            if value == nil, attribute == nil { return e == nil }
            let have = attribute.map { e?.attribute($0) } ?? e?.text?.trimmingASCIIWhitespace()
            guard let want = value else { return have == nil }
            guard let have else { return false }
            if have == want { return true }
            if let a = try? CPUSet(parsing: have), let b = try? CPUSet(parsing: want) { return a == b }
            return false
        case .add:
            guard let e, let xml = value, let fragment = try? LosslessXMLDocument(parsing: xml).root else { return false }
            return e.children(named: fragment.name).contains { $0.contains(fragment) }
        case .remove:
            return e == nil
        }
    }

    /// How deep a path (and an added element) may go.
    static let maxDepth = 32

    /// The path's segments: `name` and an optional `(key, value)` predicate.
    var segments: [(name: String, key: String?, value: String?)] {
        var out: [(String, String?, String?)] = []
        var current = "", depth = 0
        for ch in path {
            if ch == "[" { depth += 1 } else if ch == "]" { depth -= 1 }
            if ch == "/" && depth == 0 { out.append(Self.segment(current)); current = "" } else { current.append(ch) }
        }
        if !current.isEmpty { out.append(Self.segment(current)) }
        return out
    }

    private static func segment(_ s: String) -> (String, String?, String?) {
        guard let open = s.firstIndex(of: "["), s.hasSuffix("]") else { return (s, nil, nil) }
        let inner = s[s.index(after: open)..<s.index(before: s.endIndex)]
        guard let eq = inner.firstIndex(of: "=") else { return (String(s[..<open]), String(inner), nil) }
        return (String(s[..<open]), String(inner[..<eq]), String(inner[inner.index(after: eq)...]))
    }

    /// The element at `path`; plain missing segments are created when `create` is set.
    private func find(_ root: LosslessXMLElement, create: Bool) throws(ReconfigurationError) -> LosslessXMLElement? {
        var e = root
        let segs = segments
        if segs.isEmpty || segs.contains(where: { $0.name.isEmpty }) { throw .invalid("'\(path)': not an element path") }
        // Domain XML is shallow (libvirt's deepest paths have under 10 levels): a longer path
        // would build a document too deep to parse back.
        if segs.count > Self.maxDepth { throw .invalid("'\(path.prefix(80))…': deeper than \(Self.maxDepth) elements") }
        for s in segs {
            if let key = s.key {
                guard let value = s.value else { throw .invalid("'\(path)': predicate [\(key)] has no value") }
                guard let match = e.children(named: s.name).first(where: { $0.matches(key: key, value: value) }) else {
                    if create { throw .invalid("the definition has no \(s.name)[\(key)=\(value)]") }
                    return nil
                }
                e = match
            } else if let next = e.child(named: s.name, create: create) {
                e = next
            } else {
                return nil
            }
        }
        return e
    }
}

extension LosslessXMLElement {
    /// `[key=value]`: the attribute, or a child `key` with that text or any attribute of that value.
    fileprivate func matches(key: String, value: String) -> Bool {
        if attribute(key) == value { return true }
        return children(named: key).contains { c in
            c.text?.trimmingASCIIWhitespace() == value || c.attributes.contains { $0.value == value }
        }
    }

    /// This element has `fragment`'s name, at least its attributes and, recursively, its children.
    fileprivate func contains(_ fragment: LosslessXMLElement) -> Bool {
        guard name == fragment.name else { return false }
        for a in fragment.attributes where attribute(a.name) != a.value { return false }
        if let t = fragment.text?.trimmingASCIIWhitespace(), !t.isEmpty, fragment.childElements.isEmpty,
           text?.trimmingASCIIWhitespace() != t { return false }
        return fragment.childElements.allSatisfy { f in children(named: f.name).contains { $0.contains(f) } }
    }

    /// A detached deep copy (an element keeps its document's storage; edits build new ones).
    fileprivate static func copy(of e: LosslessXMLElement) -> LosslessXMLElement {
        let c = LosslessXMLElement(name: e.name, attributes: e.attributes)
        if e.childElements.isEmpty, let t = e.text { c.text = t }
        for child in e.childElements { _ = c.appendChild(copy(of: child)) }
        return c
    }
}
