import DomainXML

/// Every libvirt XML document kind VirtKit types, recognised by its root element: what
/// `virtkit xml roundtrip`/`unmodeled` and the fuzz target use to pick the typed view.
public enum LibvirtDocumentKind: String, CaseIterable, Sendable {
    case domain
    case capabilities
    case domainCapabilities
    case network
    case networkPort
    case storagePool
    case storagePoolCapabilities
    case storageVolume
    case nodeDevice
    case secret
    case domainSnapshot
    case domainCheckpoint
    case domainBackup
    case hostInterface
    case networkFilter
    case networkFilterBinding

    /// The kind whose root element is `name`; nil for other documents.
    public init?(rootElement name: String) {
        guard let kind = Self.allCases.first(where: { $0.view.elementName == name }) else { return nil }
        self = kind
    }

    /// The kind of `document`, by its root element.
    public init?(document: LosslessXMLDocument) { self.init(rootElement: document.root.name) }

    /// The root view type.
    public var view: any DocumentView.Type {
        switch self {
        case .domain: DomainDefinition.self
        case .capabilities: HostCapabilities.self
        case .domainCapabilities: DomainCapabilities.self
        case .network: NetworkDefinition.self
        case .networkPort: NetworkPortDefinition.self
        case .storagePool: StoragePoolDefinition.self
        case .storagePoolCapabilities: StoragePoolCapabilities.self
        case .storageVolume: StorageVolumeDefinition.self
        case .nodeDevice: NodeDeviceDefinition.self
        case .secret: SecretDefinition.self
        case .domainSnapshot: DomainSnapshotDefinition.self
        case .domainCheckpoint: DomainCheckpointDefinition.self
        case .domainBackup: DomainBackupDefinition.self
        case .hostInterface: HostInterfaceDefinition.self
        case .networkFilter: NetworkFilterDefinition.self
        case .networkFilterBinding: NetworkFilterBindingDefinition.self
        }
    }

    /// The typed root view of `document` (whose root must be this kind's element).
    public func view(of document: LosslessXMLDocument) throws(TypedXMLError) -> any DocumentView {
        try view.init(document: document)
    }

    /// The typed root view of any known kind of document; nil for an unknown root element.
    public static func typedView(of document: LosslessXMLDocument) -> (any DocumentView)? {
        guard let kind = LibvirtDocumentKind(document: document) else { return nil }
        return try? kind.view(of: document)
    }
}
