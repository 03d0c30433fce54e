import VirtCore

/// What one view models, derived by reflection from its `Keys` table: the attributes, whether its
/// text is a value, each child element (a nested view, an inline value, or raw XML), the order
/// new children are inserted in, and the leaf keys for `validate()` and the read-write pass.
public final class ElementSpec: Sendable {
    public let attributes: Set<String>
    public let modelsText: Bool
    let children: [String: ChildKind]
    /// Position of each modeled child name, from declaration order (libvirt's format order).
    let rank: [String: Int]
    let leaves: [any LeafKey]
    /// Checks across values (`Rule`s), run by `validate()`.
    let rules: [Rule]
    /// Child views that `validate()` enters only when the predicate holds (a legacy short form
    /// such as a snapshot's `<domain><uuid>…</uuid></domain>`).
    let validationGuards: [String: @Sendable (LosslessXMLElement) -> Bool]
    /// Declaration mistakes found while reflecting over the key table: fields that are not
    /// schema entries, and child names declared twice with different kinds. Tests keep it empty.
    let declarationProblems: [String]

    enum ChildKind: Sendable {
        /// A nested view; its spec is fetched lazily so recursive schemas (backingStore) work.
        case view(@Sendable () -> ElementSpec)
        /// A child read by a key of the parent (`ChildText`, `Flag`, …).
        case inline(attributes: Set<String>)
        /// Opaque XML kept as is (`<metadata>`): the whole subtree counts as modeled.
        case raw
    }

    init<K: KeyTable>(keys: K) {
        var builder = SpecBuilder()
        var problems: [String] = []
        for child in Mirror(reflecting: keys).children {
            if let entry = child.value as? any SchemaEntry {
                entry.register(in: &builder)
            } else {
                problems.append("\(K.self).\(child.label ?? "?") is not a schema entry")
            }
        }
        declarationProblems = problems + builder.conflicts.map { "\(K.self): \($0)" }
        attributes = builder.attributes
        modelsText = builder.modelsText
        children = builder.children
        var rank: [String: Int] = [:]
        for (i, name) in builder.order.enumerated() where rank[name] == nil { rank[name] = i }
        self.rank = rank
        leaves = builder.leaves
        rules = builder.rules
        validationGuards = builder.validationGuards
    }

    /// Inserts `child` before the first existing sibling that the schema orders after it, so a new
    /// element lands where libvirt would format it (the schema's `interleave`s allow any order,
    /// some `group`s do not).
    func insert(_ child: LosslessXMLElement, into parent: LosslessXMLElement) {
        guard let r = rank[child.name] else { parent.appendChild(child); return }
        for (i, sibling) in parent.childElements.enumerated() {
            if let s = rank[schemaName(of: sibling, in: rank)], s > r {
                parent.insertChild(child, at: i)
                return
            }
        }
        parent.appendChild(child)
    }

    /// Every spec reachable from this one (each once), for checks over the whole schema.
    func reachable() -> [ElementSpec] {
        var seen: Set<ObjectIdentifier> = [ObjectIdentifier(self)]
        var out: [ElementSpec] = [self]
        var k = 0
        while k < out.count {
            for kind in out[k].children.values {
                if case .view(let spec) = kind {
                    let s = spec()
                    if seen.insert(ObjectIdentifier(s)).inserted { out.append(s) }
                }
            }
            k += 1
        }
        return out
    }

    /// Visits `element` and every modeled descendant element with its spec (inline and raw
    /// children belong to their parent's keys). `validating` skips the subtrees whose
    /// validation guard says they are in a form not to be checked.
    func walk(_ element: LosslessXMLElement, validating: Bool = false, _ visit: (LosslessXMLElement, ElementSpec) -> Void) {
        visit(element, self)
        for child in element.childElements {
            let name = schemaName(of: child, in: children)
            guard case .view(let spec)? = children[name] else { continue }
            if validating, let guardFn = validationGuards[name], !guardFn(child) { continue }
            spec().walk(child, validating: validating, visit)
        }
    }
}

/// Collects the entries of a key table.
public struct SpecBuilder {
    var attributes: Set<String> = []
    var modelsText = false
    var children: [String: ElementSpec.ChildKind] = [:]
    var order: [String] = []
    var leaves: [any LeafKey] = []
    var rules: [Rule] = []
    var validationGuards: [String: @Sendable (LosslessXMLElement) -> Bool] = [:]
    var conflicts: [String] = []

    package mutating func attribute(_ name: String) { attributes.insert(name) }
    mutating func child(_ name: String, _ kind: ElementSpec.ChildKind) {
        switch (children[name], kind) {
        case (nil, _):
            children[name] = kind
        case (.inline(let more)?, .inline(let extra)):
            children[name] = .inline(attributes: more.union(extra))   // two keys on one inline child
        default:
            conflicts.append("child <\(name)> declared twice with different kinds")
        }
        order.append(name)
    }
    package mutating func leaf(_ key: any LeafKey) { leaves.append(key) }
    package mutating func rule(_ rule: Rule) { rules.append(rule) }
}

// MARK: - Coverage ("unmodeled") and the read-write pass

/// How much of a document the typed views cover, and what passes through untyped.
public struct CoverageReport: Sendable, Codable, Hashable {
    public var typedElements = 0
    public var passthroughElements = 0
    public var typedAttributes = 0
    public var passthroughAttributes = 0
    /// Element paths (`/domain/devices/audio`) and attribute paths (`/domain/os/loader@secure`)
    /// that no typed view covers, with occurrence counts.
    public var passthrough: [String: Int] = [:]

    public init() {}

    public var elementCoverage: Double {
        let all = typedElements + passthroughElements
        return all == 0 ? 1 : Double(typedElements) / Double(all)
    }
    public var attributeCoverage: Double {
        let all = typedAttributes + passthroughAttributes
        return all == 0 ? 1 : Double(typedAttributes) / Double(all)
    }

    public mutating func merge(_ other: CoverageReport) {
        typedElements += other.typedElements
        passthroughElements += other.passthroughElements
        typedAttributes += other.typedAttributes
        passthroughAttributes += other.passthroughAttributes
        for (k, v) in other.passthrough { passthrough[k, default: 0] += v }
    }

    /// The most frequent passthrough paths, most common first.
    public func top(_ n: Int) -> [(path: String, count: Int)] {
        passthrough.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .prefix(max(0, n)).map { ($0.key, $0.value) }
    }
}

/// The report's path of a child: `parent/name`, except that a path is never extended past
/// `maxCoveragePath` bytes (it ends in `/…` instead). Building and hashing a path then costs
/// at most that much per element, so the report stays linear in the input even for deep
/// trees of long names (4096-byte names 256 levels deep would be 1 MiB per path).
func coveragePath(_ parent: String, _ name: String) -> String {
    if parent.utf8.count + 1 + name.utf8.count <= maxCoveragePath { return parent + "/" + name }
    return parent.hasSuffix("/…") ? parent : parent + "/…"
}

/// See `coveragePath`.
let maxCoveragePath = 1024

/// Namespace declarations are syntax, not data: not counted either way.
private func isNamespaceDeclaration(_ name: String) -> Bool {
    name == "xmlns" || name.hasPrefix("xmlns:")
}

extension ElementSpec {
    /// Counts `element` (at `path`) and its subtree as typed or passthrough against this spec.
    func coverage(of element: LosslessXMLElement, path: String, into report: inout CoverageReport) {
        report.typedElements += 1
        countAttributes(element, path: path, modeled: attributes, into: &report)
        for child in element.childElements {
            let childPath = coveragePath(path, child.name)
            switch children[schemaName(of: child, in: children)] {
            case .view(let spec)?:
                spec().coverage(of: child, path: childPath, into: &report)
            case .inline(let attrs)?:
                report.typedElements += 1
                countAttributes(child, path: childPath, modeled: attrs, into: &report)
                for grandchild in child.childElements {
                    passthrough(grandchild, path: coveragePath(childPath, grandchild.name), into: &report)
                }
            case .raw?:
                typedSubtree(child, into: &report)
            case nil:
                passthrough(child, path: childPath, into: &report)
            }
        }
    }

    private func countAttributes(_ e: LosslessXMLElement, path: String, modeled: Set<String>, into report: inout CoverageReport) {
        for name in e.attributeNames where !isNamespaceDeclaration(name) {
            if modeled.contains(name) {
                report.typedAttributes += 1
            } else {
                report.passthroughAttributes += 1
                report.passthrough[path + "@" + name, default: 0] += 1
            }
        }
    }

    private func passthrough(_ e: LosslessXMLElement, path: String, into report: inout CoverageReport) {
        report.passthroughElements += 1
        report.passthrough[path, default: 0] += 1
        for name in e.attributeNames where !isNamespaceDeclaration(name) {
            report.passthroughAttributes += 1
            report.passthrough[path + "@" + name, default: 0] += 1
        }
        for child in e.childElements { passthrough(child, path: coveragePath(path, child.name), into: &report) }
    }

    private func typedSubtree(_ e: LosslessXMLElement, into report: inout CoverageReport) {
        report.typedElements += 1
        report.typedAttributes += e.attributeNames.filter { !isNamespaceDeclaration($0) }.count
        for child in e.childElements { typedSubtree(child, into: &report) }
    }
}

/// The outcome of reading every modeled property and writing the same value back.
public struct RewriteSummary: Sendable, Hashable {
    /// Property values (present in the document) read and written back.
    public var rewritten = 0
    /// Values that did not decode; they are left untouched.
    public var unreadable: [TypedXMLError] = []
}

extension ElementView {
    /// Coverage of this element's subtree by the typed views.
    public func coverage() -> CoverageReport {
        var report = CoverageReport()
        if let e = element { Self.schema.spec.coverage(of: e, path: "/" + e.name, into: &report) }
        return report
    }

    /// Reads every modeled property under this element and writes the same value back through
    /// its typed setter: the conformance pass behind `virtkit xml roundtrip`.
    @discardableResult
    public func rewriteModeledProperties() -> RewriteSummary {
        var summary = RewriteSummary()
        guard let e = element else { return summary }
        Self.schema.spec.walk(e) { element, spec in
            let ref = ElementRef(element, document: node.document)
            for leaf in spec.leaves {
                switch leaf.rewrite(ref, spec: spec) {
                case .success(true): summary.rewritten += 1
                case .success(false): break
                case .failure(let problem): summary.unreadable.append(problem)
                }
            }
        }
        return summary
    }
}
