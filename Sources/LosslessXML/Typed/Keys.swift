import VirtCore

/// An entry of a view's `Keys` table.
public protocol SchemaEntry: Sendable {
    func register(in builder: inout SpecBuilder)
}

/// A key holding one value (an attribute, a text, a flag, a memory amount).
public protocol LeafKey<Value>: SchemaEntry {
    associatedtype Value: Equatable
    /// The decoded value; nil when absent. `element` is the view's element.
    func read(_ element: LosslessXMLElement) throws(TypedXMLError) -> Value?
    /// The text as written, undecoded.
    func raw(_ element: LosslessXMLElement) -> String?
    /// Writes `value` (nil removes it), creating the view's element and children as needed.
    func write(_ value: Value?, node: ElementRef, spec: ElementSpec)
    /// Whether `validate()` reports the value's absence.
    var isRequired: Bool { get }
}

extension LeafKey {
    public var isRequired: Bool { false }

    func check(_ element: LosslessXMLElement) -> TypedXMLError? {
        do {
            if try read(element) == nil, isRequired {
                let child = (self as? any ChildNamed)?.childName.map { "/" + $0 } ?? ""
                return TypedXMLError(path: elementPath(element) + child, attribute: requiredAttributeName, reason: .missing)
            }
            return nil
        } catch {
            return error
        }
    }

    private var requiredAttributeName: String? { (self as? any AttributeNamed)?.attributeName }

    /// Reads the value and writes it back through the typed setter: `.success(true)` when a
    /// value was present and rewritten, `.success(false)` when absent (nothing written).
    func rewrite(_ node: ElementRef, spec: ElementSpec) -> Result<Bool, TypedXMLError> {
        guard let element = node.element else { return .success(false) }
        do {
            guard let value = try read(element) else { return .success(false) }
            write(value, node: node, spec: spec)
            return .success(true)
        } catch {
            return .failure(error)
        }
    }
}

protocol AttributeNamed { var attributeName: String { get } }
/// Keys whose value lives in a child element (for "missing" paths).
protocol ChildNamed { var childName: String? { get } }

extension ChildText: ChildNamed { var childName: String? { name } }
extension MemoryValue: ChildNamed {
    var childName: String? {
        if case .child(let name) = place { return name }
        return nil
    }
}

/// The text to write for `value`: the existing spelling when it already means `value` (so a
/// no-op write never re-spells `0,1,2` as `0-2` or `0x0a` as `0x000a`), else `codec.encode`.
private func spelling<V>(_ value: V, old: String?, codec: Codec<V>) -> String {
    if let old, let decoded = try? codec.decode(old), decoded == value { return old }
    return codec.encode(value)
}

private func decode<V>(_ text: String, _ codec: Codec<V>, at element: LosslessXMLElement, attribute: String?) throws(TypedXMLError) -> V {
    do {
        return try codec.decode(text)
    } catch {
        throw TypedXMLError(path: elementPath(element), attribute: attribute, value: text, reason: error.reason)
    }
}

// MARK: - Attributes and text

/// An attribute of the view's element: `<driver cache='none'>` → `Attr<DiskCache>("cache")`.
public struct Attr<Value: Equatable>: LeafKey, AttributeNamed {
    public let name: String
    public let codec: Codec<Value>
    public let isRequired: Bool
    var attributeName: String { name }

    public init(_ name: String, codec: Codec<Value>, required: Bool = false) {
        self.name = name
        self.codec = codec
        self.isRequired = required
    }

    public func register(in builder: inout SpecBuilder) {
        builder.attribute(name)
        builder.leaf(self)
    }

    public func raw(_ element: LosslessXMLElement) -> String? { element.attribute(name) }

    public func read(_ element: LosslessXMLElement) throws(TypedXMLError) -> Value? {
        guard let text = element.attribute(name) else { return nil }
        return try decode(text, codec, at: element, attribute: name)
    }

    public func write(_ value: Value?, node: ElementRef, spec: ElementSpec) {
        guard let value else {
            if let e = node.element, e.attribute(name) != nil {
                e.setAttribute(name, nil)
                node.pruneIfEmpty()
            }
            return
        }
        let e = node.materialize()
        e.setAttribute(name, spelling(value, old: e.attribute(name), codec: codec))
    }
}

extension Attr where Value: XMLValue {
    public init(_ name: String, required: Bool = false) {
        self.init(name, codec: Value.xmlCodec, required: required)
    }
}

/// The text of the view's element: `<vcpu>4</vcpu>` → `Text<Int>()`.
///
/// Only an element without child elements has a text value: libvirt's text-valued elements
/// (`<loader>`, `<nvram>`, `<backend>`) hold either a path or child elements, and with
/// children the text is just indentation. Setting a value on such an element replaces its
/// children (the path wins, as in libvirt); clearing it leaves them alone.
public struct Text<Value: Equatable>: LeafKey {
    public let codec: Codec<Value>
    /// Whether an existing element must have a value (`<vcpu></vcpu>` is an error, no
    /// `<vcpu>` at all is not: `validate()` only visits elements that exist).
    public let isRequired: Bool

    public init(codec: Codec<Value>, required: Bool = false) {
        self.codec = codec
        self.isRequired = required
    }

    public func register(in builder: inout SpecBuilder) {
        builder.modelsText = true
        builder.leaf(self)
    }

    public func raw(_ element: LosslessXMLElement) -> String? {
        element.childElements.isEmpty ? element.text : nil
    }

    public func read(_ element: LosslessXMLElement) throws(TypedXMLError) -> Value? {
        guard let text = raw(element) else {
            // An empty required value (`<vcpu></vcpu>`) is a bad value, not an absent one.
            if isRequired, element.childElements.isEmpty { throw TypedXMLError(path: elementPath(element), value: "", reason: .missing) }
            return nil
        }
        return try decode(text, codec, at: element, attribute: nil)
    }

    public func write(_ value: Value?, node: ElementRef, spec: ElementSpec) {
        guard let value else {
            if let e = node.element, raw(e) != nil {
                e.text = nil
                node.pruneIfEmpty()
            }
            return
        }
        let e = node.materialize()
        let old = raw(e)
        let text = spelling(value, old: old, codec: codec)
        if text != old ?? "" || old == nil { e.text = text }
    }
}

extension Text where Value: XMLValue {
    public init(required: Bool = false) { self.init(codec: Value.xmlCodec, required: required) }
}

/// A child element holding only text: `<name>vm1</name>` → `ChildText<String>("name")`.
public struct ChildText<Value: Equatable>: LeafKey {
    public let name: String
    public let codec: Codec<Value>
    public let isRequired: Bool

    public init(_ name: String, codec: Codec<Value>, required: Bool = false) {
        self.name = name
        self.codec = codec
        self.isRequired = required
    }

    public func register(in builder: inout SpecBuilder) {
        builder.child(name, .inline(attributes: []))
        builder.leaf(self)
    }

    public func raw(_ element: LosslessXMLElement) -> String? {
        guard let child = element.firstChild(named: name) else { return nil }
        return child.text ?? ""
    }

    public func read(_ element: LosslessXMLElement) throws(TypedXMLError) -> Value? {
        guard let child = element.firstChild(named: name) else { return nil }
        return try decode(child.text ?? "", codec, at: child, attribute: nil)
    }

    public func write(_ value: Value?, node: ElementRef, spec: ElementSpec) {
        guard let value else {
            if let child = node.element?.firstChild(named: name) {
                child.removeFromParent()
                node.pruneIfEmpty()
            }
            return
        }
        let child = node.child(name, in: spec).materialize()
        let old = child.text ?? ""
        let text = spelling(value, old: old, codec: codec)
        if text != old { child.text = text }   // `<genid/>` stays `<genid/>`
    }
}

extension ChildText where Value: XMLValue {
    public init(_ name: String, required: Bool = false) {
        self.init(name, codec: Value.xmlCodec, required: required)
    }
}

/// An attribute of a child that another key of the same view already models:
/// `<memory dumpCore='on'>` → `ChildAttr<Bool>("memory", "dumpCore")`.
public struct ChildAttr<Value: Equatable>: LeafKey {
    public let child: String
    public let name: String
    public let codec: Codec<Value>

    public init(_ child: String, _ name: String, codec: Codec<Value>) {
        self.child = child
        self.name = name
        self.codec = codec
    }

    public func register(in builder: inout SpecBuilder) {
        builder.child(child, .inline(attributes: [name]))
        builder.leaf(self)
    }

    public func raw(_ element: LosslessXMLElement) -> String? { element.firstChild(named: child)?.attribute(name) }

    public func read(_ element: LosslessXMLElement) throws(TypedXMLError) -> Value? {
        guard let c = element.firstChild(named: child), let text = c.attribute(name) else { return nil }
        return try decode(text, codec, at: c, attribute: name)
    }

    public func write(_ value: Value?, node: ElementRef, spec: ElementSpec) {
        guard let value else {
            if let c = node.element?.firstChild(named: child), c.attribute(name) != nil {
                c.setAttribute(name, nil)
            }
            return
        }
        let c = node.child(child, in: spec).materialize()
        c.setAttribute(name, spelling(value, old: c.attribute(name), codec: codec))
    }
}

/// An empty child whose presence is the value: `<readonly/>` → `Flag("readonly")`.
/// Reads true when present, false when absent; writing false or nil removes it.
public struct Flag: LeafKey {
    public typealias Value = Bool
    public let name: String

    public init(_ name: String) { self.name = name }

    public func register(in builder: inout SpecBuilder) {
        builder.child(name, .inline(attributes: []))
        builder.leaf(self)
    }

    public func raw(_ element: LosslessXMLElement) -> String? {
        element.firstChild(named: name) == nil ? nil : ""
    }

    public func read(_ element: LosslessXMLElement) throws(TypedXMLError) -> Bool? {
        element.firstChild(named: name) != nil
    }

    public func write(_ value: Bool?, node: ElementRef, spec: ElementSpec) {
        if value == true {
            _ = node.child(name, in: spec).materialize()
        } else if let child = node.element?.firstChild(named: name) {
            child.removeFromParent()
            node.pruneIfEmpty()
        }
    }
}

// MARK: - Memory amounts

/// A memory amount with libvirt's `unit` attribute, in one of three shapes:
/// `.text()` the element's own text (`<maxMemory unit='KiB'>`), `.attribute("size")` an
/// attribute beside `unit` (`<page size='2048' unit='KiB'/>`), `.child("memory")` a child's text
/// and unit (`<memory unit='KiB'>1048576</memory>`). No unit means `defaultUnit` (KiB in
/// domain XML). New values keep the existing unit when it is exact, else are written in KiB
/// (libvirt's own format), else in bytes.
public struct MemoryValue: LeafKey {
    public typealias Value = MemorySize
    enum Place: Sendable { case text, attribute(String), child(String) }
    let place: Place
    public let unitAttribute: String
    public let defaultUnit: MemorySize.Unit
    public let isRequired: Bool
    /// The largest amount accepted (libvirt's domain memory: `VIR_DOMAIN_MEMORY_PARAM_UNLIMITED`
    /// KiB); nil for no bound beyond `MemorySize`'s own.
    public var maximum: MemorySize? = nil

    /// libvirt's bound on domain memory sizes (`virDomainParseMemory`): 2^53 − 1 KiB.
    public static let domainMemoryMaximum = MemorySize.kibibytes(9_007_199_254_740_991)

    /// This key with `maximum` set.
    public func limited(to maximum: MemorySize) -> MemoryValue {
        var copy = self
        copy.maximum = maximum
        return copy
    }

    public static func text(unit: String = "unit", default d: MemorySize.Unit = .KiB) -> MemoryValue {
        MemoryValue(place: .text, unitAttribute: unit, defaultUnit: d, isRequired: false)
    }
    public static func attribute(_ name: String, unit: String = "unit", default d: MemorySize.Unit = .KiB) -> MemoryValue {
        MemoryValue(place: .attribute(name), unitAttribute: unit, defaultUnit: d, isRequired: false)
    }
    public static func child(_ name: String, unit: String = "unit", default d: MemorySize.Unit = .KiB, required: Bool = false) -> MemoryValue {
        MemoryValue(place: .child(name), unitAttribute: unit, defaultUnit: d, isRequired: required)
    }

    public func register(in builder: inout SpecBuilder) {
        registerPlace(in: &builder)
        builder.leaf(self)
    }

    /// The attributes and child this amount occupies (shared with `MemoryLimitValue`).
    func registerPlace(in builder: inout SpecBuilder) {
        switch place {
        case .text:
            builder.modelsText = true
            builder.attribute(unitAttribute)
        case .attribute(let name):
            builder.attribute(name)
            builder.attribute(unitAttribute)
        case .child(let name):
            builder.child(name, .inline(attributes: [unitAttribute]))
        }
    }

    /// The element carrying text/value and unit.
    private func holder(_ element: LosslessXMLElement) -> LosslessXMLElement? {
        if case .child(let name) = place { return element.firstChild(named: name) }
        return element
    }

    private func number(in holder: LosslessXMLElement) -> String? {
        if case .attribute(let name) = place { return holder.attribute(name) }
        return holder.text
    }

    public func raw(_ element: LosslessXMLElement) -> String? {
        guard let h = holder(element), let n = number(in: h) else { return nil }
        return h.attribute(unitAttribute).map { "\(n) \($0)" } ?? n
    }

    public func read(_ element: LosslessXMLElement) throws(TypedXMLError) -> MemorySize? {
        guard let h = holder(element), let n = number(in: h) else { return nil }
        let unit = h.attribute(unitAttribute)
        var attribute: String? = nil
        if case .attribute(let name) = place { attribute = name }
        // `virScaleInteger` reads the number with `strtoull`: leading blanks only.
        if let last = n.utf8.last, last == 0x20 || last == 0x09 || last == 0x0A || last == 0x0D {
            throw TypedXMLError(path: elementPath(h), attribute: attribute, value: n, reason: .invalidMemory("'\(n)' has trailing blanks"))
        }
        let size: MemorySize
        do {
            size = try MemorySize(value: n, unit: unit, defaultUnit: defaultUnit)
        } catch {
            throw TypedXMLError(path: elementPath(h), attribute: attribute, value: n, reason: .invalidMemory(error.description))
        }
        if let maximum, size > maximum {
            throw TypedXMLError(path: elementPath(h), attribute: attribute, value: n,
                                reason: .invalidMemory("\(n) \(unit ?? defaultUnit.rawValue) is above libvirt's maximum of \(maximum.bytes / 1024) KiB"))
        }
        return size
    }

    public func write(_ value: MemorySize?, node: ElementRef, spec: ElementSpec) {
        guard let value else {
            guard let e = node.element, let h = holder(e) else { return }
            switch place {
            case .child: h.removeFromParent()
            case .text: h.text = nil; h.setAttribute(unitAttribute, nil)
            case .attribute(let name): h.setAttribute(name, nil); h.setAttribute(unitAttribute, nil)
            }
            node.pruneIfEmpty()
            return
        }
        let h: LosslessXMLElement
        if case .child(let name) = place {
            h = node.child(name, in: spec).materialize()
        } else {
            h = node.materialize()
        }
        let oldNumber = number(in: h)
        let oldUnit = h.attribute(unitAttribute)
        let (text, unit) = spelled(value, oldNumber: oldNumber, oldUnit: oldUnit)
        // An unchanged number is not written: replacing the text would also drop any element
        // mixed into it (`<memory>1<x/>048576</memory>` reads as 1048576, as in libvirt).
        if text != oldNumber {
            if case .attribute(let name) = place { h.setAttribute(name, text) } else { h.text = text }
        }
        if unit != oldUnit { h.setAttribute(unitAttribute, unit) }
    }

    private func spelled(_ value: MemorySize, oldNumber: String?, oldUnit: String?) -> (String, String?) {
        if let oldNumber, let old = try? MemorySize(value: oldNumber, unit: oldUnit, defaultUnit: defaultUnit), old == value {
            return (oldNumber, oldUnit)
        }
        if oldNumber != nil, let u = oldUnit.flatMap(MemorySize.Unit.init(rawValue:)), let n = value.exactly(in: u) {
            return (String(n), oldUnit)
        }
        if oldNumber != nil, oldUnit == nil, let n = value.exactly(in: defaultUnit) {
            return (String(n), nil)
        }
        if let n = value.exactly(in: .KiB) { return (String(n), "KiB") }
        return (String(value.bytes), "b")
    }
}

// MARK: - Nested elements

/// A single child element with its own view: `Child<DiskDriver>("driver")`.
public struct Child<V: ElementView>: SchemaEntry {
    public let name: String
    let validatedWhen: (@Sendable (LosslessXMLElement) -> Bool)?

    public init(_ name: String) {
        self.name = name
        validatedWhen = nil
    }

    /// A child that `validate()` checks only when `condition` holds for it (the rest of the
    /// typed layer always sees it).
    public init(_ name: String, validatedWhen condition: @escaping @Sendable (LosslessXMLElement) -> Bool) {
        self.name = name
        validatedWhen = condition
    }

    public func register(in builder: inout SpecBuilder) {
        builder.child(name, .view({ V.schema.spec }))
        if let validatedWhen { builder.validationGuards[name] = validatedWhen }
    }
}

/// Repeated child elements of one name: `Children<DiskDevice>("disk")`.
public struct Children<V: ElementView>: SchemaEntry {
    public let name: String
    public init(_ name: String) { self.name = name }
    public func register(in builder: inout SpecBuilder) {
        builder.child(name, .view({ V.schema.spec }))
    }
}

/// A check `validate()` runs on the element beyond its values' own decoding: a constraint
/// between values, or a child or attribute libvirt's schema forbids in this place.
public struct Rule: SchemaEntry {
    let check: @Sendable (LosslessXMLElement) -> TypedXMLError?

    public init(_ check: @escaping @Sendable (LosslessXMLElement) -> TypedXMLError?) { self.check = check }

    /// Reports `attribute` on `child` (or on the element itself when `child` is nil) as not allowed.
    public static func forbidden(attribute: String, on child: String? = nil) -> Rule {
        Rule { element in
            guard let holder = child.map({ element.firstChild(named: $0) }) ?? element,
                  let value = holder.attribute(attribute) else { return nil }
            return TypedXMLError(path: elementPath(holder), attribute: attribute, value: value, reason: .notAllowed)
        }
    }

    public func register(in builder: inout SpecBuilder) { builder.rule(self) }
}

/// A child kept as opaque XML (`<metadata>`): modeled as a whole, never interpreted.
public struct RawChild: SchemaEntry {
    public let name: String
    public init(_ name: String) { self.name = name }
    public func register(in builder: inout SpecBuilder) {
        builder.child(name, .raw)
    }
}
