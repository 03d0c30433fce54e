import DomainXML
import Libvirt

/// Which of a domain's two definitions: the persistent one (used at the next start) or the
/// live one of the running guest. libvirt keeps them apart; so do these calls.
public enum DomainDefinitionScope: Sendable, Hashable {
    /// `VIR_DOMAIN_XML_INACTIVE`: what `virsh edit` edits; changes apply at the next start.
    case persistent
    /// The running guest's definition (ids, aliases, live-only state); read-only here.
    case live
}

/// The result of an edit-and-redefine cycle: both texts, so the change can be shown as a diff
/// and undone byte for byte by defining `before` again.
public struct DomainDefinitionEdit: Sendable, Hashable {
    public var before: String
    public var after: String
    /// False when `edit` left the document as it was (then nothing was defined).
    public var changed: Bool { before != after }
}

/// Why an edited definition was not defined.
public struct DomainDefinitionRejected: Error, Sendable, CustomStringConvertible {
    /// Every invalid value the typed layer found (path, attribute, value, reason).
    public var problems: [TypedXMLError]
    public var description: String {
        "edited definition is invalid: " + problems.map { "\($0)" }.joined(separator: "; ")
    }
}

extension Domain {
    /// The typed definition (`virDomainGetXMLDesc`; `VIR_DOMAIN_XML_INACTIVE` for
    /// `.persistent`, `VIR_DOMAIN_XML_SECURE` when `secure`).
    public func definition(_ scope: DomainDefinitionScope = .persistent, secure: Bool = false) async throws -> sending DomainDefinition {
        var flags: XMLFlags = scope == .persistent ? .inactive : []
        if secure { flags.insert(.secure) }
        return try DomainDefinition(parsing: try await xmlDescription(flags: flags))
    }
}

extension Connection {
    /// Defines (or redefines, for an existing name/UUID) a domain from a typed definition
    /// (`virDomainDefineXMLFlags`). The typed layer's `validate()` runs first and any problem
    /// is thrown as `DomainDefinitionRejected` before libvirt sees the document.
    @discardableResult
    public func define(_ definition: DomainDefinition, flags: DefineFlags = []) async throws -> Domain {
        let problems = definition.validate()
        guard problems.isEmpty else { throw DomainDefinitionRejected(problems: problems) }
        return try await defineDomain(xml: definition.serialize(), flags: flags)
    }

    /// The edit-and-redefine cycle on a domain's persistent definition (what `virsh edit`
    /// does): reads it with secrets (so a redefine keeps them), lets `edit` change the typed
    /// document, validates, and defines it again. Unknown XML survives (DomainXML is
    /// lossless); an edit that changes nothing defines nothing. The running guest is not
    /// touched: live changes are libvirt's live calls.
    @discardableResult
    public func editDefinition(of domain: Domain, _ edit: (DomainDefinition) throws -> Void) async throws -> DomainDefinitionEdit {
        let before = try await domain.xmlDescription(flags: [.inactive, .secure])
        let definition = try DomainDefinition(parsing: before)
        try edit(definition)
        let after = definition.serialize()
        guard after != before else { return DomainDefinitionEdit(before: before, after: after) }
        try await define(definition)
        return DomainDefinitionEdit(before: before, after: after)
    }
}
