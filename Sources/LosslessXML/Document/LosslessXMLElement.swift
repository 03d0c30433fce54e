// The element node of the lossless document model.

import Synchronization

/// One child node of an element, decoded.
public enum LosslessXMLNode {
    case element(LosslessXMLElement)
    /// Character data with references resolved and line ends normalized.
    case text(String)
    /// The content of a CDATA section, as written.
    case cdata(String)
    /// The content of a comment, as written.
    case comment(String)
    case processingInstruction(target: String, data: String)
}

/// An XML element. A parsed element keeps its name, attributes and content as spans into the
/// original bytes: an unedited element serializes as exactly those bytes, an edited one
/// re-emits only what changed (see `LosslessXMLDocument`).
///
/// Not thread-safe: a tree is used from one task at a time (it is deliberately not `Sendable`).
public final class LosslessXMLElement {
    enum Content {
        case empty
        /// Parsed children not looked at yet: record `n` of `storage.records` says where they
        /// are. Reading `content` turns them into nodes (element objects made once, on demand).
        case unread(UInt32)
        /// The single text child of a leaf (`<name>foo</name>`), kept without an array.
        case text(UInt32, UInt32)
        case nodes([NodeStorage])
    }

    /// An attribute after the first attribute edit on this element.
    enum AttrEntry {
        case original(AttrSpan)
        /// Original attribute with a new value: keeps position, spacing and quote style.
        case replaced(AttrSpan, String)
        case added(name: String, value: String)
    }

    struct Flags: OptionSet {
        let rawValue: UInt8
        static let parsed = Flags(rawValue: 1)
        static let selfClosing = Flags(rawValue: 2)
        static let startTagDirty = Flags(rawValue: 4)
        static let contentDirty = Flags(rawValue: 8)
        /// This element or a descendant was edited: serialization walks it.
        static let subtreeDirty = Flags(rawValue: 16)
    }

    let storage: SourceStorage
    /// Cleared by the parent's deinit and by every detach, so it never dangles; unowned(unsafe)
    /// avoids the side-table allocation a weak reference costs per element.
    unowned(unsafe) var _parent: LosslessXMLElement?
    /// Offset of `<`; the name is `bytes[start+1..<nameEnd]` (built elements store `<name`).
    let start: UInt32
    let nameEnd: UInt32
    /// Offset after the start tag's `>`.
    let startTagEnd: UInt32
    var endTagStart: UInt32
    /// Offset after the end tag (or after `/>`).
    var end: UInt32
    let attrFirst: UInt32
    let attrCount: UInt32
    /// The child list as stored; `.unread` until first read through `content`.
    var _content: Content = .empty
    /// The child list, made from the parsed records on first access.
    var content: Content {
        get {
            if case let .unread(r) = _content { materialize(r) }
            return _content
        }
        set { _content = newValue }
    }
    var editedAttrs: [AttrEntry]?
    var flags: Flags
    /// Cache for `isMixed`: 0 unknown, 1 no character data, 2 mixed content.
    var mixedState: UInt8 = 0
    /// The child elements by name, built on the first lookup that needs it (error paths, or a
    /// by-name lookup in a long child list); every change of the child list (`takeNodes`,
    /// `setStoredNodes`) drops it.
    var childIndex: ChildIndex?

    /// The element of parsed record `index`; its children stay unread until asked for.
    init(record index: UInt32, in storage: SourceStorage) {
        let r = storage.records[Int(index)]
        self.storage = storage
        self.start = r.start
        self.nameEnd = r.nameEnd
        self.startTagEnd = r.startTagEnd
        self.endTagStart = r.endTagStart
        self.end = r.end
        self.attrFirst = r.attrFirst
        self.attrCount = r.attrCount
        self.flags = r.selfClosing ? [.parsed, .selfClosing] : [.parsed]
        self._content = r.childCount == 0 ? .empty : .unread(index)
    }

    /// Makes the child list of record `index`: a lone text child stays a span, elements
    /// become objects parented here.
    @inline(never)
    func materialize(_ index: UInt32) {
        let r = storage.records[Int(index)]
        let first = Int(r.childFirst), count = Int(r.childCount)
        let table = storage.children
        if count == 1, table[first].kind == .text {
            _content = .text(table[first].a, table[first].b)
            return
        }
        var nodes: [NodeStorage] = []
        nodes.reserveCapacity(count)
        for k in first..<first + count {
            let c = table[k]
            if c.kind == .element {
                let e = LosslessXMLElement(record: c.a, in: storage)
                e._parent = self
                nodes.append(.element(e))
            } else {
                nodes.append(c.spanNode)
            }
        }
        _content = .nodes(nodes)
    }

    /// Builds a new element (serialized with libvirt's 2-space indentation; empty text is
    /// written as `<name/>`, like libvirt). A name that is not
    /// a valid XML name has its offending bytes replaced by `_` so the output stays well-formed.
    public init(name: String, attributes: [(name: String, value: String)] = [], text: String? = nil) {
        let nameBytes = sanitizedName(name)
        self.storage = SourceStorage(bytes: [0x3C] + nameBytes)
        self.start = 0
        self.nameEnd = UInt32(nameBytes.count + 1)
        self.startTagEnd = 0
        self.endTagStart = 0
        self.end = 0
        self.attrFirst = 0
        self.attrCount = 0
        self.flags = [.startTagDirty, .contentDirty, .subtreeDirty]
        var entries: [AttrEntry] = []
        for a in attributes {
            let n = String(decoding: sanitizedName(a.name), as: UTF8.self)
            if let k = entries.firstIndex(where: { if case let .added(x, _) = $0 { x == n } else { false } }) {
                entries[k] = .added(name: n, value: a.value)
            } else {
                entries.append(.added(name: n, value: a.value))
            }
        }
        self.editedAttrs = entries
        if let text, !text.isEmpty { self.content = .nodes([.newText(NewText(text))]) }
    }

    deinit {
        if case let .nodes(nodes) = _content {
            for node in nodes { if case let .element(c) = node { c._parent = nil } }
        }
    }

    var isParsed: Bool { flags.contains(.parsed) }

    // MARK: Names

    /// The qualified name as written, e.g. `qemu:commandline`.
    public var name: String {
        storage.bytes.withUnsafeBufferPointer { b in
            String(decoding: UnsafeBufferPointer(rebasing: b[Int(start) + 1..<Int(nameEnd)]), as: UTF8.self)
        }
    }

    /// The part after the prefix: `commandline` for `qemu:commandline`.
    public var localName: String {
        let n = name
        guard let c = n.utf8.firstIndex(of: 0x3A) else { return n }
        return String(n[n.utf8.index(after: c)...])
    }

    /// The namespace prefix, e.g. `qemu`, or nil.
    public var prefix: String? {
        let n = name
        guard let c = n.utf8.firstIndex(of: 0x3A) else { return nil }
        return String(n[..<c])
    }

    /// The namespace URI bound to this element's prefix (or the default namespace) by the
    /// nearest `xmlns`/`xmlns:prefix` attribute on it or an ancestor; nil when unbound.
    public var namespaceURI: String? {
        let key = prefix.map { "xmlns:" + $0 } ?? "xmlns"
        var e: LosslessXMLElement? = self
        while let cur = e {
            if let v = cur.attribute(key) { return v.isEmpty ? nil : v }
            e = cur.parent
        }
        return nil
    }

    /// True when the qualified name equals `name` (byte comparison, no String created).
    @inline(__always) func hasName(_ name: String) -> Bool {
        spanEquals(storage.bytes, Int(start) + 1, Int(nameEnd), name)
    }

    /// Where the element's start tag begins in the parsed input (1-based line, 1-based byte
    /// column, 0-based byte offset), for error messages; nil for a built element.
    public var sourcePosition: (line: Int, column: Int, offset: Int)? {
        guard isParsed else { return nil }
        let e = storage.bytes.withUnsafeBufferPointer {
            XMLParseError.at(Int(start), in: $0.baseAddress, count: $0.count, .unexpectedEnd)
        }
        return (e.line, e.column, e.offset)
    }

    /// The parent element, or nil for a root or detached element.
    public var parent: LosslessXMLElement? { _parent }

    // MARK: Attributes

    func entryName(_ e: AttrEntry) -> String {
        switch e {
        case let .original(s), let .replaced(s, _):
            return storage.bytes.withUnsafeBufferPointer {
                String(decoding: UnsafeBufferPointer(rebasing: $0[Int(s.nameStart)..<Int(s.nameEnd)]), as: UTF8.self)
            }
        case let .added(n, _): return n
        }
    }

    func entryHasName(_ e: AttrEntry, _ name: String) -> Bool {
        switch e {
        case let .original(s), let .replaced(s, _): spanEquals(storage.bytes, Int(s.nameStart), Int(s.nameEnd), name)
        case let .added(n, _): n == name
        }
    }

    func entryValue(_ e: AttrEntry) -> String {
        switch e {
        case let .original(s): decodeSpan(storage.bytes, Int(s.valueStart), Int(s.valueEnd), attribute: true)
        case let .replaced(_, v), let .added(_, v): v
        }
    }

    /// Attribute names (qualified, as written) in document order.
    public var attributeNames: [String] {
        if let edited = editedAttrs { return edited.map(entryName) }
        var out: [String] = []
        out.reserveCapacity(Int(attrCount))
        let attrs = storage.attrs
        for k in Int(attrFirst)..<Int(attrFirst + attrCount) { out.append(entryName(.original(attrs[k]))) }
        return out
    }

    /// All attributes in document order, values decoded.
    public var attributes: [(name: String, value: String)] {
        if let edited = editedAttrs { return edited.map { (entryName($0), entryValue($0)) } }
        let attrs = storage.attrs
        return (Int(attrFirst)..<Int(attrFirst + attrCount)).map { k in
            (entryName(.original(attrs[k])), entryValue(.original(attrs[k])))
        }
    }

    /// The decoded value of attribute `name` (qualified, as written), or nil.
    public func attribute(_ name: String) -> String? {
        if let edited = editedAttrs {
            for e in edited where entryHasName(e, name) { return entryValue(e) }
            return nil
        }
        guard attrCount > 0 else { return nil }
        let attrs = storage.attrs
        for k in Int(attrFirst)..<Int(attrFirst + attrCount) {
            let s = attrs[k]
            if spanEquals(storage.bytes, Int(s.nameStart), Int(s.nameEnd), name) {
                return decodeSpan(storage.bytes, Int(s.valueStart), Int(s.valueEnd), attribute: true)
            }
        }
        return nil
    }

    /// Sets (or with nil removes) an attribute. An existing attribute keeps its position,
    /// spacing and quote style; a new one is appended. Setting the current value is a no-op,
    /// so the element stays byte-identical.
    public func setAttribute(_ name: String, _ value: String?) {
        let name = String(decoding: sanitizedName(name), as: UTF8.self) // same rule as new elements
        if attribute(name) == value { return }
        var edited = editedAttrs ?? storageEntries()
        editedAttrs = nil // keep `edited` uniquely referenced: edit in place, no copy
        if let k = edited.firstIndex(where: { entryHasName($0, name) }) {
            if let value {
                switch edited[k] {
                case let .original(s), let .replaced(s, _): edited[k] = .replaced(s, value)
                case .added: edited[k] = .added(name: entryName(edited[k]), value: value)
                }
            } else {
                edited.remove(at: k)
            }
        } else if let value {
            edited.append(.added(name: name, value: value))
        }
        editedAttrs = edited
        flags.insert(.startTagDirty)
        markDirty()
    }

    func storageEntries() -> [AttrEntry] {
        guard attrCount > 0 else { return [] }
        return storage.attrs[Int(attrFirst)..<Int(attrFirst + attrCount)].map { .original($0) }
    }

    // MARK: Children

    /// Child nodes in storage form (a copy; arrays are copy-on-write).
    var storedNodes: [NodeStorage] {
        switch content {
        case .empty, .unread: [] // `content` has made the list: `.unread` is never returned
        case let .text(a, b): [.text(a, b)]
        case let .nodes(ns): ns
        }
    }

    /// Moves the child list out (leaving the element empty) so it can be edited in place
    /// without copying the array and retaining every child; put it back with `setStoredNodes`
    /// or `restoreNodes`.
    func takeNodes() -> [NodeStorage] {
        let ns = storedNodes
        content = .empty
        childIndex = nil
        return ns
    }

    /// Puts back an unchanged list taken with `takeNodes` (no dirty marking).
    func restoreNodes(_ nodes: [NodeStorage]) {
        content = nodes.isEmpty ? .empty : .nodes(nodes)
    }

    func setStoredNodes(_ nodes: [NodeStorage]) {
        content = nodes.isEmpty ? .empty : .nodes(nodes)
        childIndex = nil
        flags.insert(.contentDirty)
        markDirty()
    }

    /// Marks this element and its ancestors for re-serialization.
    func markDirty() {
        var e: LosslessXMLElement? = self
        while let cur = e, !cur.flags.contains(.subtreeDirty) {
            cur.flags.insert(.subtreeDirty)
            e = cur._parent
        }
    }

    /// Child elements in document order.
    public var childElements: [LosslessXMLElement] {
        guard case let .nodes(ns) = content else { return [] }
        var out: [LosslessXMLElement] = []
        for node in ns { if case let .element(e) = node { out.append(e) } }
        return out
    }

    /// The 1-based position of `child` among this element's child elements of the same
    /// qualified name; nil when no sibling shares its name or it is not a child. The first
    /// call indexes the whole child list (one pass); later calls are a lookup, so naming every
    /// one of n same-named siblings (error paths) is linear, not quadratic.
    func sameNamePosition(of child: LosslessXMLElement) -> Int? {
        index().position(of: child)
    }

    /// Child lists longer than this are looked up by name through `childIndex` (one pass to
    /// build it, then a hash lookup) instead of a scan per lookup: typed views look up dozens
    /// of names per element, so a scan would cost (keys × children) on a flood of siblings.
    static let indexedLookupMinimum = 64

    func index() -> ChildIndex {
        if let built = childIndex { return built }
        let built = ChildIndex(childElements)
        childIndex = built
        return built
    }

    /// The qualified name's bytes as written.
    var nameBytes: [UInt8] { Array(storage.bytes[Int(start) + 1..<Int(nameEnd)]) }

    /// The first child element whose qualified name is `name`.
    public func firstChild(named name: String) -> LosslessXMLElement? {
        guard case let .nodes(ns) = content else { return nil }
        if ns.count > Self.indexedLookupMinimum { return index().byName[Array(name.utf8)]?.first }
        for node in ns { if case let .element(e) = node, e.hasName(name) { return e } }
        return nil
    }

    /// All child elements whose qualified name is `name`, in order.
    public func children(named name: String) -> [LosslessXMLElement] {
        guard case let .nodes(ns) = content else { return [] }
        if ns.count > Self.indexedLookupMinimum { return index().byName[Array(name.utf8)] ?? [] }
        var out: [LosslessXMLElement] = []
        for node in ns { if case let .element(e) = node, e.hasName(name) { out.append(e) } }
        return out
    }

    /// The first child element named `name`; when there is none and `create` is true, a new
    /// empty one is appended (indented like its siblings) and returned.
    @discardableResult
    public func child(named name: String, create: Bool) -> LosslessXMLElement? {
        if let c = firstChild(named: name) { return c }
        return create ? appendChild(LosslessXMLElement(name: name)) : nil
    }

    /// Every child node in order, decoded.
    public var nodes: [LosslessXMLNode] {
        storedNodes.map { publicNode($0) }
    }

    func publicNode(_ node: NodeStorage) -> LosslessXMLNode {
        let bytes = storage.bytes
        switch node {
        case let .element(e): return .element(e)
        case let .text(a, b): return .text(decodeSpan(bytes, Int(a), Int(b), attribute: false))
        case let .newText(t): return .text(t.value)
        case let .newComment(t): return .comment(t.value)
        case let .cdata(a, b): return .cdata(rawString(Int(a) + 9, Int(b) - 3))
        case let .comment(a, b): return .comment(rawString(Int(a) + 4, Int(b) - 3))
        case let .pi(a, b):
            var te = Int(a) + 2
            while te < Int(b) - 2 && !isXMLSpace(bytes[te]) && bytes[te] != 0x3F { te += 1 }
            var ds = te
            while ds < Int(b) - 2 && isXMLSpace(bytes[ds]) { ds += 1 }
            return .processingInstruction(target: rawString(Int(a) + 2, te), data: rawString(ds, Int(b) - 2))
        }
    }

    func rawString(_ s: Int, _ e: Int) -> String {
        guard s < e else { return "" }
        return storage.bytes.withUnsafeBufferPointer {
            String(decoding: UnsafeBufferPointer(rebasing: $0[s..<e]), as: UTF8.self)
        }
    }

    /// Decoded text: the text and CDATA children concatenated; nil when there are none.
    /// Setting replaces all content (children included) with one text node; nil or "" empties
    /// it (an element that is already empty is left byte-identical, e.g. `<genid/>`).
    public var text: String? {
        get {
            switch content {
            case .empty, .unread: return nil // `.unread` is never returned by `content`
            case let .text(a, b): return decodeSpan(storage.bytes, Int(a), Int(b), attribute: false)
            case let .nodes(ns):
                var out = ""
                var any = false
                for node in ns {
                    switch node {
                    case let .text(a, b): out += decodeSpan(storage.bytes, Int(a), Int(b), attribute: false)
                    case let .newText(t): out += t.value
                    case let .cdata(a, b): out += rawString(Int(a) + 9, Int(b) - 3)
                    default: continue
                    }
                    any = true
                }
                return any ? out : nil
            }
        }
        set {
            // "" and nil are the same XML (no character data): `<a/>` stays `<a/>`.
            let value = newValue.flatMap { $0.isEmpty ? nil : $0 }
            if value == text, childElements.isEmpty { return }
            if value == nil, case .empty = content { return }
            for e in childElements { e._parent = nil }
            mixedState = 0
            setStoredNodes(value.map { [.newText(NewText($0))] } ?? [])
        }
    }

    // MARK: Editing the tree

    /// True for a whitespace-only text node (no allocation).
    func isWhitespaceNode(_ node: NodeStorage) -> Bool {
        switch node {
        case let .text(a, b): isWhitespaceOnly(storage.bytes, Int(a), Int(b))
        case let .newText(t): t.value.utf8.allSatisfy(isXMLSpace)
        default: false
        }
    }

    /// Whether the children include real character data (mixed content). Cached: appending,
    /// inserting and removing elements never change it; only parsing and `text` do.
    func isMixed(_ ns: [NodeStorage]) -> Bool {
        if mixedState == 0 { mixedState = ns.contains(where: isCharacterData) ? 2 : 1 }
        return mixedState == 2
    }

    /// Bytes of a whitespace-only text node, or nil.
    func whitespace(_ node: NodeStorage) -> [UInt8]? {
        switch node {
        case let .text(a, b):
            return isWhitespaceOnly(storage.bytes, Int(a), Int(b)) ? Array(storage.bytes[Int(a)..<Int(b)]) : nil
        case let .newText(t):
            return t.value.utf8.allSatisfy(isXMLSpace) ? Array(t.value.utf8) : nil
        default:
            return nil
        }
    }

    /// The indentation of the line this element starts on (whitespace after the last newline
    /// of the preceding whitespace text), "" for a root; nil when it is not on its own line.
    func lineIndent() -> [UInt8]? {
        guard let parent = _parent else { return [] }
        let ns = parent.storedNodes
        guard let k = ns.firstIndex(where: { if case let .element(e) = $0 { e === self } else { false } }) else { return nil }
        guard k > 0, let ws = parent.whitespace(ns[k - 1]), let nl = ws.lastIndex(of: 0x0A) else { return nil }
        return Array(ws[(nl + 1)...])
    }

    /// Inserting an element into itself or its own descendant would make a cycle: that is a
    /// programming error (not an input error) and traps with a clear message.
    func checkInsertable(_ child: LosslessXMLElement) {
        var e: LosslessXMLElement? = self
        while let cur = e {
            precondition(cur !== child, "LosslessXMLElement: cannot insert an element into itself or its descendant")
            e = cur._parent
        }
    }

    /// Appends `child` after the last child element, indented like its siblings (or one
    /// level below this element when it had none). A child attached elsewhere is moved.
    @discardableResult
    public func appendChild(_ child: LosslessXMLElement) -> LosslessXMLElement {
        checkInsertable(child)
        child.removeFromParent()
        appendNode(.element(child))
        child._parent = self
        markDirty()
        return child
    }

    /// Appends a comment `<!--text-->` after the last child, indented like an appended child.
    /// A `--` in `text` is stored and written as `- -` (XML forbids it in comments).
    public func appendComment(_ text: String) {
        var body = text.replacingDashes()
        if body.hasSuffix("-") { body += " " }
        appendNode(.newComment(NewText(body)))
    }

    func appendNode(_ child: NodeStorage) {
        var ns = takeNodes()
        if !isParsed {
            // Built elements are indented when serialized.
            ns.append(child)
        } else if let last = ns.lastIndex(where: { !isWhitespaceNode($0) }), !isMixed(ns) {
            if last > 0, let ws = whitespace(ns[last - 1]) {
                ns.insert(contentsOf: [wsNode(ws, like: ns[last - 1]), child], at: last + 1)
            } else {
                ns.insert(child, at: last + 1)
            }
        } else if ns.allSatisfy(isWhitespaceNode), let indent = lineIndent() {
            let inner = "\n" + String(decoding: indent, as: UTF8.self)
            ns = [.newText(NewText(inner + "  ")), child, .newText(NewText(inner))]
        } else {
            ns.append(child)
        }
        setStoredNodes(ns)
    }

    /// Text or CDATA that is not whitespace-only (mixed content: never re-indented).
    func isCharacterData(_ node: NodeStorage) -> Bool {
        switch node {
        case .text, .newText: !isWhitespaceNode(node)
        case .cdata: true
        default: false
        }
    }

    /// Reuses the sibling's whitespace node (a span costs nothing and serializes identically).
    func wsNode(_ ws: [UInt8], like node: NodeStorage) -> NodeStorage {
        if case .text = node { return node }
        return .newText(NewText(String(decoding: ws, as: UTF8.self)))
    }

    /// Inserts `child` so that it becomes child element number `index` (clamped), indented
    /// like the element it is inserted before.
    public func insertChild(_ child: LosslessXMLElement, at index: Int) {
        checkInsertable(child)
        child.removeFromParent()
        var ns = takeNodes()
        var seen = 0
        var pos: Int?
        for (k, node) in ns.enumerated() {
            if case .element = node {
                if seen == max(0, index) { pos = k; break }
                seen += 1
            }
        }
        guard let pos else {
            restoreNodes(ns)
            appendChild(child)
            return
        }
        if isParsed, pos > 0, !isMixed(ns), let ws = whitespace(ns[pos - 1]) {
            ns.insert(contentsOf: [.element(child), wsNode(ws, like: ns[pos - 1])], at: pos)
        } else {
            ns.insert(.element(child), at: pos)
        }
        child._parent = self
        setStoredNodes(ns)
    }

    /// Removes `child` (no-op if it is not a child) together with the whitespace-only text
    /// right before it (its indentation), so no blank line is left behind — except in mixed
    /// content, where whitespace next to real text is kept.
    public func removeChild(_ child: LosslessXMLElement) {
        var ns = takeNodes()
        guard let k = ns.firstIndex(where: { if case let .element(e) = $0 { e === child } else { false } }) else {
            restoreNodes(ns)
            return
        }
        // In mixed content (real text beside elements) whitespace is data: leave it alone.
        if k > 0, isWhitespaceNode(ns[k - 1]), !isMixed(ns) {
            ns.removeSubrange(k - 1...k)
        } else {
            ns.remove(at: k)
        }
        child._parent = nil
        setStoredNodes(ns)
    }

    /// Detaches this element from its parent (no-op without one).
    public func removeFromParent() {
        _parent?.removeChild(self)
    }

    // MARK: Serialization

    /// This element alone (e.g. device XML for attach/detach): its original bytes when
    /// unedited, otherwise re-emitted with only the edited parts changed.
    public func serialize() -> String {
        var out: [UInt8] = []
        write(into: &out, indent: lineIndent() ?? [], walk: false)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends this element. `walk` forces node-by-node emission even for unedited subtrees
    /// (a losslessness check and an honest benchmark of the serializer); `indent` is the
    /// indentation of the line the element starts on, used for built elements' children.
    func write(into out: inout [UInt8], indent: [UInt8], walk: Bool) {
        storage.bytes.withUnsafeBufferPointer { buf in
            // Storage bytes are never empty (a built element stores `<name`).
            guard let p = buf.baseAddress else { return }
            write(into: &out, p, indent: indent, walk: walk)
        }
    }

    /// `write` with `p` = `storage.bytes`' base address (taken once per storage, not per node:
    /// spans are appended from the pointer, with no array slices and their retains).
    func write(into out: inout [UInt8], _ p: UnsafePointer<UInt8>, indent: [UInt8], walk: Bool) {
        @inline(__always) func span(_ s: Int, _ e: Int, _ out: inout [UInt8]) {
            out.append(contentsOf: UnsafeBufferPointer(start: p + s, count: e - s))
        }
        if isParsed && !walk && !flags.contains(.subtreeDirty) {
            span(Int(start), Int(end), &out)
            return
        }
        let nodes: [NodeStorage]
        switch _content {
        case let .unread(r):
            // Children never looked at are unedited: emitted from the records, node by node
            // (unless the start tag itself was edited: then through the general path).
            if !flags.contains(.startTagDirty) {
                writeRecord(r, into: &out, p)
                return
            }
            nodes = storedNodes
        case .empty:
            nodes = []
        case let .text(a, b):
            // Fast path for the common leaf `<x a='1'>text</x>`: no node array needed.
            if isParsed, !flags.contains(.startTagDirty), !flags.contains(.selfClosing) {
                span(Int(start), Int(startTagEnd), &out)
                span(Int(a), Int(b), &out)
                span(Int(endTagStart), Int(end), &out)
                return
            }
            nodes = [.text(a, b)]
        case let .nodes(ns):
            nodes = ns
        }
        let hasContent = !nodes.isEmpty
        // Start tag.
        if isParsed && !flags.contains(.startTagDirty) && !(flags.contains(.selfClosing) && hasContent) {
            span(Int(start), Int(startTagEnd), &out)
        } else {
            writeStartTag(into: &out, hasContent: hasContent)
        }
        if isParsed && flags.contains(.selfClosing) && !hasContent { return }
        if !isParsed && !hasContent { return } // writeStartTag emitted "/>"
        // Content.
        let pretty = !isParsed && !nodes.contains { n in
            switch n {
            case .text, .newText, .cdata: true
            default: false
            }
        }
        let childIndent = pretty ? indent + [0x20, 0x20] : []
        nodes.withUnsafeBufferPointer { ns in
            for k in ns.indices {
                if pretty { out.append(0x0A); out.append(contentsOf: childIndent) }
                switch ns[k] {
                case let .element(e):
                    // Only built elements use the indentation (parsed ones carry their own).
                    let ind: [UInt8]
                    if pretty {
                        ind = childIndent
                    } else if e.isParsed {
                        ind = indent
                    } else if k > 0, let ws = whitespace(ns[k - 1]), let nl = ws.lastIndex(of: 0x0A) {
                        ind = Array(ws[(nl + 1)...])
                    } else {
                        ind = indent
                    }
                    if e.storage === storage {
                        e.write(into: &out, p, indent: ind, walk: walk)
                    } else {
                        e.write(into: &out, indent: ind, walk: walk)
                    }
                case let .text(a, b), let .cdata(a, b), let .comment(a, b), let .pi(a, b):
                    span(Int(a), Int(b), &out)
                case let .newText(t):
                    appendEscapedText(t.value, to: &out)
                case let .newComment(t):
                    out.append(contentsOf: Array("<!--".utf8))
                    out.append(contentsOf: t.value.utf8)
                    out.append(contentsOf: Array("-->".utf8))
                }
            }
        }
        if pretty { out.append(0x0A); out.append(contentsOf: indent) }
        // End tag.
        if isParsed && !flags.contains(.selfClosing) {
            span(Int(endTagStart), Int(end), &out)
        } else {
            out.append(0x3C); out.append(0x2F)
            span(Int(start) + 1, Int(nameEnd), &out)
            out.append(0x3E)
        }
    }

    /// Emits parsed record `index` tag by tag and node by node from its spans (the walk of an
    /// unedited subtree whose element objects were never made).
    func writeRecord(_ index: UInt32, into out: inout [UInt8], _ p: UnsafePointer<UInt8>) {
        guard let records = storage.records.baseAddress else { return }
        Self.writeRecord(Int(index), records, storage.children.baseAddress, p, &out)
    }

    static func writeRecord(_ index: Int, _ records: UnsafePointer<ElementRecord>, _ children: UnsafePointer<ChildRecord>?,
                            _ p: UnsafePointer<UInt8>, _ out: inout [UInt8]) {
        let r = records[index]
        out.append(contentsOf: UnsafeBufferPointer(start: p + Int(r.start), count: Int(r.startTagEnd - r.start)))
        if r.selfClosing { return }
        if let children {
            for k in Int(r.childFirst)..<Int(r.childFirst + r.childCount) {
                let c = children[k]
                if c.kind == .element {
                    writeRecord(Int(c.a), records, children, p, &out)
                } else {
                    out.append(contentsOf: UnsafeBufferPointer(start: p + Int(c.a), count: Int(c.b - c.a)))
                }
            }
        }
        out.append(contentsOf: UnsafeBufferPointer(start: p + Int(r.endTagStart), count: Int(r.end - r.endTagStart)))
    }

    /// Re-emits the start tag after an attribute edit: untouched attributes as written,
    /// replaced ones with their original spacing and quote, new ones appended with the
    /// element's quote style (libvirt's `'` by default).
    func writeStartTag(into out: inout [UInt8], hasContent: Bool) {
        let bytes = storage.bytes
        out.append(contentsOf: bytes[Int(start)..<Int(nameEnd)])
        let entries = editedAttrs ?? storageEntries()
        var quote: UInt8 = 0x27
        for e in entries {
            switch e {
            case let .original(s):
                out.append(contentsOf: bytes[Int(s.rawStart)..<Int(s.valueEnd) + 1])
                quote = bytes[Int(s.valueEnd)]
            case let .replaced(s, v):
                out.append(contentsOf: bytes[Int(s.rawStart)..<Int(s.valueStart)])
                appendEscapedAttribute(v, to: &out)
                out.append(bytes[Int(s.valueEnd)])
                quote = bytes[Int(s.valueEnd)]
            case let .added(n, v):
                out.append(0x20)
                out.append(contentsOf: n.utf8)
                out.append(0x3D); out.append(quote)
                appendEscapedAttribute(v, to: &out)
                out.append(quote)
            }
        }
        guard isParsed else {
            if hasContent { out.append(0x3E) } else { out.append(contentsOf: [0x2F, 0x3E]) }
            return
        }
        // The original tail after the last original attribute: spacing, then `>` or `/>`.
        let tailStart = attrCount > 0 ? Int(storage.attrs[Int(attrFirst + attrCount) - 1].valueEnd) + 1 : Int(nameEnd)
        var tailEnd = Int(startTagEnd)
        if flags.contains(.selfClosing) && hasContent {
            tailEnd -= 2 // drop "/>"
            while tailEnd > tailStart && isXMLSpace(bytes[tailEnd - 1]) { tailEnd -= 1 }
            out.append(contentsOf: bytes[tailStart..<tailEnd])
            out.append(0x3E)
        } else {
            out.append(contentsOf: bytes[tailStart..<tailEnd])
        }
    }
}


extension String {
    /// `--` → `- -` until none is left (comments must not contain `--`).
    func replacingDashes() -> String {
        var bytes = Array(utf8)
        var i = 0
        while i + 1 < bytes.count {
            if bytes[i] == 0x2D && bytes[i + 1] == 0x2D { bytes.insert(0x20, at: i + 1) }
            i += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The child elements of one child list grouped by their qualified name's bytes (exact, as
/// `hasName` compares), in document order; positions among same-named siblings on demand.
final class ChildIndex {
    let byName: [[UInt8]: [LosslessXMLElement]]
    private var positions: [ObjectIdentifier: Int]?

    /// Counts sibling visits made while indexing, for the linearity test (task-local, so
    /// tests running in parallel do not see each other's visits).
    @TaskLocal static var visitCounter: VisitCounter?

    init(_ children: [LosslessXMLElement]) {
        Self.visitCounter?.add(children.count)
        var byName: [[UInt8]: [LosslessXMLElement]] = [:]
        for child in children { byName[child.nameBytes, default: []].append(child) }
        self.byName = byName
    }

    /// The 1-based position among same-named siblings; nil for a unique name or a non-child.
    func position(of child: LosslessXMLElement) -> Int? {
        if positions == nil {
            var built: [ObjectIdentifier: Int] = [:]
            for group in byName.values where group.count > 1 {
                for (k, e) in group.enumerated() { built[ObjectIdentifier(e)] = k + 1 }
            }
            positions = built
        }
        return positions?[ObjectIdentifier(child)]
    }
}

/// A thread-safe counter (see `ChildIndex.visitCounter`).
final class VisitCounter: Sendable {
    let count = Atomic<Int>(0)
    func add(_ n: Int) { count.add(n, ordering: .relaxed) }
}
