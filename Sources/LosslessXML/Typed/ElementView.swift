import VirtCore

/// Where a typed view points: an element that exists, or the child a view would create on its
/// first write (virtinst's XMLProperty behaviour: reading a missing element gives nil, writing
/// creates it at its schema position, clearing the last value removes it again).
public struct ElementRef {
    indirect enum Location {
        case element(LosslessXMLElement)
        case child(parent: ElementRef, name: String, parentSpec: ElementSpec)
    }

    let location: Location
    /// Keeps a standalone document alive while views into it exist.
    public let document: LosslessXMLDocument?

    public init(_ element: LosslessXMLElement, document: LosslessXMLDocument? = nil) {
        location = .element(element)
        self.document = document
    }

    init(location: Location, document: LosslessXMLDocument?) {
        self.location = location
        self.document = document
    }

    /// The element, or nil when it does not exist (yet).
    public var element: LosslessXMLElement? {
        switch location {
        case .element(let e): return e
        case .child(let parent, let name, _): return parent.element.flatMap { firstTypedChild(of: $0, named: name) }
        }
    }

    /// The element, created (with any missing ancestors) at its schema position if needed.
    public func materialize() -> LosslessXMLElement {
        switch location {
        case .element(let e): return e
        case .child(let parent, let name, let parentSpec):
            let p = parent.materialize()
            if let e = firstTypedChild(of: p, named: name) { return e }
            let e = LosslessXMLElement(name: name)
            parentSpec.insert(e, into: p)
            declareNamespace(of: e)
            return e
        }
    }

    func child(_ name: String, in spec: ElementSpec) -> ElementRef {
        ElementRef(location: .child(parent: self, name: name, parentSpec: spec), document: document)
    }

    /// After a value was cleared: drop an element the typed layer created implicitly once it holds
    /// nothing (no attributes, no child elements, no text).
    func pruneIfEmpty() {
        guard case .child(let parent, _, _) = location, let e = element, e.isEmpty else { return }
        e.removeFromParent()
        parent.pruneIfEmpty()
    }
}

extension LosslessXMLElement {
    var isEmpty: Bool {
        attributeNames.isEmpty && childElements.isEmpty && (text?.trimmingASCIIWhitespace().isEmpty ?? true)
    }
}

/// A struct of schema keys (`Attr`, `ChildText`, `Child`, …): the single declaration of what a
/// view models. Views read and write through the keys; `ElementSpec` reflects over the same
/// struct for the `unmodeled` report, `validate()` and the read-write pass.
public protocol KeyTable: Sendable {
    init()
}

/// The per-view cache of its key table and derived spec (one line per view:
/// `public static let schema = Schema<Self>()`).
public final class Schema<View: ElementView>: Sendable {
    public let keys: View.Keys
    public let spec: ElementSpec

    public init() {
        keys = View.Keys()
        spec = ElementSpec(keys: keys)
    }
}

/// A typed view of one element. Keys declared in `Keys` appear as members through dynamic
/// member lookup: an `Attr<Int>` named `index` reads as `view.index` (a `Property<Int>`), a
/// `Child<DiskDriver>` as `view.driver` (a `DiskDriver`), `Children<V>` as a `ChildList<V>`.
@dynamicMemberLookup
public protocol ElementView: SendableMetatype {
    associatedtype Keys: KeyTable
    static var schema: Schema<Self> { get }
    var node: ElementRef { get }
    init(node: ElementRef)
}

extension ElementView {
    /// The element this view reads, or nil when it does not exist yet.
    public var element: LosslessXMLElement? { node.element }
    /// True when the element exists in the document.
    public var exists: Bool { node.element != nil }

    /// Creates the element (and missing ancestors) without setting anything, e.g. `<acpi/>`.
    @discardableResult
    public func create() -> Self { _ = node.materialize(); return self }

    /// Removes the element and everything under it.
    public func remove() { node.element?.removeFromParent() }

    /// This element alone as XML text (for attach/detach and for display).
    public var xmlString: String { node.element?.serialize() ?? "" }

    public subscript<K: LeafKey>(dynamicMember keyPath: KeyPath<Keys, K>) -> Property<K.Value> {
        Property(node: node, spec: Self.schema.spec, key: Self.schema.keys[keyPath: keyPath])
    }

    public subscript<V: ElementView>(dynamicMember keyPath: KeyPath<Keys, Child<V>>) -> V {
        V(node: node.child(Self.schema.keys[keyPath: keyPath].name, in: Self.schema.spec))
    }

    public subscript<V: ElementView>(dynamicMember keyPath: KeyPath<Keys, Children<V>>) -> ChildList<V> {
        ChildList(parent: node, name: Self.schema.keys[keyPath: keyPath].name, parentSpec: Self.schema.spec)
    }

    public subscript(dynamicMember keyPath: KeyPath<Keys, RawChild>) -> RawElement {
        RawElement(node: node.child(Self.schema.keys[keyPath: keyPath].name, in: Self.schema.spec))
    }

    /// Every value problem under this element, all at once.
    public func validate() -> [TypedXMLError] {
        guard let e = element else { return [] }
        var problems: [TypedXMLError] = []
        Self.schema.spec.walk(e, validating: true) { element, spec in
            for leaf in spec.leaves {
                if let p = leaf.check(element) { problems.append(p) }
            }
            for rule in spec.rules {
                if let p = rule.check(element) { problems.append(p) }
            }
        }
        return problems
    }
}

/// One typed value bound to its place in the document. Reading decodes the current text;
/// writing re-spells only this value's nodes, so everything else survives byte for byte.
public struct Property<Value: Equatable> {
    public let node: ElementRef
    let spec: ElementSpec
    let key: any LeafKey<Value>

    /// The decoded value, nil when absent; throws at this access when the text is invalid.
    public var value: Value? {
        get throws(TypedXMLError) {
            guard let e = node.element else { return nil }
            return try key.read(e)
        }
    }

    /// The value as written in the document, undecoded (nil when absent).
    public var raw: String? {
        guard let e = node.element else { return nil }
        return key.raw(e)
    }

    /// Writes `newValue`, creating the element(s) it lives in.
    ///
    /// Not optional on purpose: with `set(_: Value?)`, `memballoon.model.set(.none)` would compile
    /// as Swift's `Optional.none` and silently remove the value. Removal is `remove()`, and a
    /// value that may be absent goes through `set(ifPresent:)`.
    public func set(_ newValue: Value) {
        key.write(newValue, node: node, spec: spec)
    }

    /// Writes `newValue` when there is one, else removes the value: for copying an optional
    /// from elsewhere (`b.cache.set(ifPresent: try a.cache.value)`).
    public func set(ifPresent newValue: Value?) {
        key.write(newValue, node: node, spec: spec)
    }

    /// Removes the value (and an element the typed layer created for it, once empty).
    public func remove() { key.write(nil, node: node, spec: spec) }
}

/// The children of one name under a parent (`devices.disks`), as found when the list was taken
/// (`domain.devices.disks` reads the document again each time). Appending inserts at the schema
/// position: after the existing siblings of the same name.
public struct ChildList<V: ElementView>: RandomAccessCollection {
    let parent: ElementRef
    let name: String
    let parentSpec: ElementSpec
    let elements: [LosslessXMLElement]

    init(parent: ElementRef, name: String, parentSpec: ElementSpec) {
        self.parent = parent
        self.name = name
        self.parentSpec = parentSpec
        elements = parent.element.map { typedChildren(of: $0, named: name) } ?? []
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { elements.count }
    public subscript(i: Int) -> V { V(node: ElementRef(elements[i], document: parent.document)) }

    /// Appends a new, empty `<name/>` and returns its view, to be filled through its properties.
    @discardableResult
    public func append() -> V {
        let e = LosslessXMLElement(name: name)
        parentSpec.insert(e, into: parent.materialize())
        declareNamespace(of: e)
        return V(node: ElementRef(e, document: parent.document))
    }

    /// Moves `view`'s element (a standalone device, or one from another list or document) into
    /// this list and returns the view bound to its new place.
    /// An element cannot move into its own subtree; such a call appends a copy of its text instead.
    @discardableResult
    public func append(_ view: V) -> V {
        guard let source = view.element else { return append() }
        let target = parent.materialize()
        var e = source
        if isAncestor(source, of: target), let copy = try? LosslessXMLDocument(parsing: source.serialize()).root {
            e = copy
        }
        parentSpec.insert(e, into: target)
        return V(node: ElementRef(e, document: parent.document))
    }

    private func isAncestor(_ a: LosslessXMLElement, of b: LosslessXMLElement) -> Bool {
        var cur: LosslessXMLElement? = b
        while let c = cur {
            if c === a { return true }
            cur = c.parent
        }
        return false
    }

    /// Removes the element at `i` from the document.
    public func remove(at i: Int) { elements[i].removeFromParent() }

    /// Removes every element of this list.
    public func removeAll() { for e in elements { e.removeFromParent() } }
}

/// An element modeled as opaque XML (`<metadata>`): kept verbatim, readable and replaceable.
public struct RawElement {
    public let node: ElementRef
    public var element: LosslessXMLElement? { node.element }
    public var exists: Bool { node.element != nil }
    /// The whole element as written.
    public var xmlString: String? { node.element?.serialize() }
    /// The child elements (e.g. each application's metadata element).
    public var childElements: [LosslessXMLElement] { node.element?.childElements ?? [] }

    /// Parses `xml` and appends it as the last child of this element (created if needed).
    public func append(xml: String) throws(TypedXMLError) {
        let parsed: LosslessXMLDocument
        do { parsed = try LosslessXMLDocument(parsing: xml) } catch { throw TypedXMLError(path: "", reason: .malformedXML(error)) }
        node.materialize().appendChild(parsed.root)
    }

    public func remove() { node.element?.removeFromParent() }
}

