// Limits and typed errors of the DomainXML document parser.

/// Resource limits applied while parsing. Every limit is checked before the work it bounds,
/// so hostile input (deep nesting, huge documents, attribute floods) fails early with
/// an `XMLParseError` instead of exhausting memory or the stack.
public struct XMLParseLimits: Sendable, Hashable {
    /// Maximum element nesting depth (the root element is depth 1). Default 256, like libxml2's
    /// default `xmlParserMaxDepth`. Values above ``hardMaxDepth`` are clamped to it, because
    /// tree teardown and serialization recurse once per level.
    public var maxDepth: Int
    /// Maximum document size in bytes. Default 64 MiB. Clamped to ``hardMaxDocumentBytes``
    /// because source spans are stored as 32-bit offsets.
    public var maxDocumentBytes: Int
    /// Maximum number of attributes on one element. Default 4096.
    public var maxAttributes: Int
    /// Maximum length in bytes of an element, attribute, entity or PI target name. Default 4096.
    public var maxNameLength: Int
    /// Maximum number of elements in the document. Default 1,000,000 (libvirt's largest
    /// documents, capabilities of big hosts and domain capabilities, hold ~10k). Each element
    /// is one object, so this bounds the tree's memory independently of how small the elements
    /// are: 64 MiB of `<a/>` would otherwise be 16 million objects.
    public var maxElements: Int

    /// Hard ceiling for ``maxDepth``.
    public static let hardMaxDepth = 2048
    /// Hard ceiling for ``maxDocumentBytes`` (offsets are 32-bit).
    public static let hardMaxDocumentBytes = Int(Int32.max)

    public init(maxDepth: Int = 256, maxDocumentBytes: Int = 64 << 20, maxAttributes: Int = 4096, maxNameLength: Int = 4096,
                maxElements: Int = 1_000_000) {
        self.maxDepth = maxDepth
        self.maxDocumentBytes = maxDocumentBytes
        self.maxAttributes = maxAttributes
        self.maxNameLength = maxNameLength
        self.maxElements = maxElements
    }

    /// The defaults: depth 256, 64 MiB, 4096 attributes per element, names up to 4096 bytes,
    /// 1,000,000 elements.
    public static let `default` = XMLParseLimits()

    var effectiveDepth: Int { max(1, min(maxDepth, Self.hardMaxDepth)) }
    var effectiveBytes: Int { max(0, min(maxDocumentBytes, Self.hardMaxDocumentBytes)) }
}

/// A malformed or refused document: where (1-based line and byte column, 0-based byte offset)
/// and why. Thrown by `LosslessXMLDocument.init(parsing:)`; the parser never traps on input.
public struct XMLParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Why the parser stopped.
    public enum Reason: Sendable, Hashable, CustomStringConvertible {
        /// The input ended inside a construct (truncated document, unclosed element).
        case unexpectedEnd
        /// A byte that cannot appear here; `found` is the character, `expected` says what could.
        case unexpectedCharacter(found: String, expected: String)
        /// An end tag that does not match the open element.
        case mismatchedTag(expected: String, found: String)
        /// The bytes are not well-formed UTF-8 (overlong, surrogate, truncated sequence, > U+10FFFF).
        case invalidUTF8
        /// A code point that XML 1.0 does not allow in documents (C0 controls other than
        /// tab/LF/CR, U+FFFE, U+FFFF).
        case invalidCharacter(UInt32)
        /// `&#…;` that is malformed or names a character XML does not allow.
        case invalidCharacterReference(String)
        /// `&name;` other than the five predefined entities (never expanded, never fetched).
        case undefinedEntity(String)
        /// A DOCTYPE with an internal subset, a second DOCTYPE, or one after the root element.
        case doctypeNotAllowed
        /// An `<!ENTITY …>` declaration (refused: no entity expansion, no billion laughs).
        case entityDeclarationNotAllowed
        /// Nesting deeper than the limit.
        case depthLimitExceeded(Int)
        /// Document larger than the limit (bytes).
        case sizeLimitExceeded(Int)
        /// More attributes on one element than the limit.
        case attributeLimitExceeded(Int)
        /// More elements than `XMLParseLimits.maxElements`.
        case elementLimitExceeded(Int)
        /// A name longer than the limit (bytes).
        case nameTooLong(Int)
        /// The same attribute twice on one element.
        case duplicateAttribute(String)
        /// The XML declaration names an encoding other than UTF-8 (or its ASCII subset).
        case unsupportedEncoding(String)
        /// The XML declaration is malformed (missing version, bad pseudo-attribute).
        case invalidXMLDeclaration
        /// A processing instruction whose target is `xml` in any case, outside the declaration.
        case reservedProcessingInstructionTarget(String)
        /// `--` inside a comment.
        case doubleHyphenInComment
        /// `]]>` in character data.
        case cdataEndInText
        /// No root element at all.
        case missingRootElement
        /// Character data outside the root element.
        case textOutsideRootElement
        /// A second top-level element.
        case multipleRootElements

        public var description: String {
            switch self {
            case .unexpectedEnd: "unexpected end of input"
            case let .unexpectedCharacter(found, expected): "unexpected \(found), expected \(expected)"
            case let .mismatchedTag(expected, found): "end tag </\(found)> does not match <\(expected)>"
            case .invalidUTF8: "invalid UTF-8"
            case let .invalidCharacter(c): "character U+\(String(c, radix: 16, uppercase: true)) is not allowed in XML"
            case let .invalidCharacterReference(r): "invalid character reference &\(r);"
            case let .undefinedEntity(n): "undefined entity &\(n);"
            case .doctypeNotAllowed: "DOCTYPE with an internal subset (or misplaced DOCTYPE) is not allowed"
            case .entityDeclarationNotAllowed: "entity declarations are not allowed"
            case let .depthLimitExceeded(d): "nesting deeper than \(d) elements"
            case let .sizeLimitExceeded(s): "document larger than \(s) bytes"
            case let .attributeLimitExceeded(c): "more than \(c) attributes on one element"
            case let .elementLimitExceeded(c): "more than \(c) elements"
            case let .nameTooLong(l): "name longer than \(l) bytes"
            case let .duplicateAttribute(n): "duplicate attribute \(n)"
            case let .unsupportedEncoding(e): "unsupported encoding \(e) (only UTF-8)"
            case .invalidXMLDeclaration: "malformed XML declaration"
            case let .reservedProcessingInstructionTarget(t): "processing instruction target \(t) is reserved"
            case .doubleHyphenInComment: "'--' inside a comment"
            case .cdataEndInText: "']]>' in character data"
            case .missingRootElement: "no root element"
            case .textOutsideRootElement: "character data outside the root element"
            case .multipleRootElements: "more than one root element"
            }
        }
    }

    /// 1-based line number (lines end at LF).
    public var line: Int
    /// 1-based column, counted in bytes from the start of the line.
    public var column: Int
    /// 0-based byte offset into the input.
    public var offset: Int
    /// Why parsing stopped.
    public var reason: Reason

    public init(reason: Reason, line: Int, column: Int, offset: Int) {
        self.reason = reason
        self.line = line
        self.column = column
        self.offset = offset
    }

    public var description: String { "XML error at line \(line), column \(column) (offset \(offset)): \(reason)" }

    /// Builds the error for `offset`, computing line and column from the input bytes.
    static func at(_ offset: Int, in p: UnsafePointer<UInt8>?, count n: Int, _ reason: Reason) -> XMLParseError {
        var line = 1
        var lineStart = 0
        let end = min(max(offset, 0), n)
        if let p {
            var i = 0
            while i < end {
                if p[i] == 0x0A { line += 1; lineStart = i + 1 }
                i += 1
            }
        }
        return XMLParseError(reason: reason, line: line, column: end - lineStart + 1, offset: end)
    }
}
