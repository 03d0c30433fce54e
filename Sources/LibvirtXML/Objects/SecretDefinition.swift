import VirtCore

/// A secret (`virSecretDefineXML`): its identity, privacy and what it is used for. The value
/// itself never appears in the XML.
public struct SecretDefinition: DocumentView {
    public static let schema = Schema<Self>()
    public static let elementName = "secret"
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node.owningDocument() }
    public struct Keys: KeyTable {
        public init() {}
        public let ephemeral = Attr<Bool>("ephemeral")
        public let `private` = Attr<Bool>("private")
        public let uuid = ChildText<LibvirtUUID>("uuid")
        public let description = ChildText<String>("description")
        public let usage = Child<SecretUsage>("usage")
    }

    /// A private, persistent secret for `usage` (e.g. a Ceph client key: `.ceph("client.admin")`).
    public init(usage: SecretUsageKind, description: String? = nil) {
        self.init()
        self.ephemeral.set(false)
        self.private.set(true)
        if let description { self.description.set(description) }
        let u = self.usage
        switch usage {
        case .volume(let path): u.type.set("volume"); u.volume.set(path)
        case .ceph(let name): u.type.set("ceph"); u.name.set(name)
        case .iscsi(let target): u.type.set("iscsi"); u.target.set(target)
        case .tls(let name): u.type.set("tls"); u.name.set(name)
        case .vtpm(let name): u.type.set("vtpm"); u.name.set(name)
        }
    }
}

/// What a secret is for, as `SecretDefinition(usage:)` writes it.
public enum SecretUsageKind: Sendable, Hashable {
    case volume(path: String)
    case ceph(String)
    case iscsi(target: String)
    case tls(String)
    case vtpm(String)
}

/// `<usage type='volume|ceph|iscsi|tls|vtpm'>` with `<volume>`, `<name>` or `<target>`.
public struct SecretUsage: ElementView {
    public static let schema = Schema<Self>()
    public let node: ElementRef
    public init(node: ElementRef) { self.node = node }
    public struct Keys: KeyTable {
        public init() {}
        public let type = Attr<String>("type", required: true)
        public let volume = ChildText<String>("volume")
        public let name = ChildText<String>("name")
        public let target = ChildText<String>("target")
    }
}
