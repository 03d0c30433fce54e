/// A view whose element can also be a document of its own: a device for attach/detach
/// (`<disk>`), or the root of a document kind (`<domain>`, `<network>`, `<pool>`, …).
public protocol StandaloneView: ElementView {
    /// The element name (`disk`, `domain`, `pool`, …).
    static var elementName: String { get }
}

extension StandaloneView {
    /// Views `document`, whose root must be `elementName`.
    public init(document: LosslessXMLDocument) throws(TypedXMLError) {
        guard document.root.name == Self.elementName else {
            throw TypedXMLError(path: "/" + document.root.name,
                                reason: .wrongRootElement(expected: Self.elementName, found: document.root.name))
        }
        self.init(node: ElementRef(document.root, document: document))
    }

    /// Parses XML text; the root must be `elementName`.
    public init(parsing text: String, limits: XMLParseLimits = .default) throws(TypedXMLError) {
        try self.init(parsing: Array(text.utf8), limits: limits)
    }

    /// Parses UTF-8 bytes; the root must be `elementName`.
    public init(parsing bytes: [UInt8], limits: XMLParseLimits = .default) throws(TypedXMLError) {
        let document: LosslessXMLDocument
        do { document = try LosslessXMLDocument(parsing: bytes, limits: limits) } catch {
            throw TypedXMLError(path: "", reason: .malformedXML(error))
        }
        try self.init(document: document)
    }

    /// A new, empty `<elementName/>` in a document of its own, to fill in through its properties.
    public init() {
        let document = LosslessXMLDocument(root: LosslessXMLElement(name: Self.elementName))
        self.init(node: ElementRef(document.root, document: document))
    }
}

/// The root view of a document kind. Such a view always owns its document: one made from a
/// detached element gets a document of its own (`ElementRef.owningDocument()`).
public protocol DocumentView: StandaloneView {}

extension DocumentView {
    /// The document this view is the root of.
    public var document: LosslessXMLDocument {
        // `ElementRef.owningDocument()` guarantees it for every document view.
        node.document ?? LosslessXMLDocument(root: node.materialize())
    }

    /// The document as XML text (byte-identical to the input when unedited).
    public func serialize() -> String { document.serialize() }
}

extension ElementRef {
    /// This reference if it carries its document, else a new document rooted at its element:
    /// what a document view's `init(node:)` stores.
    public func owningDocument() -> ElementRef {
        if document != nil { return self }
        let document = LosslessXMLDocument(root: materialize())
        return ElementRef(document.root, document: document)
    }
}
