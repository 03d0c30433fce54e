import CLibvirt
import Foundation
import VirtCore

/// `virSecretUsageType`: what a secret is for.
public enum SecretUsageType: CEnumMirror {
    case none, volume, ceph, iscsi, tls, vtpm
    case unknown(Int32)
    public static let known: [(Self, String)] = [(.none, "none"), (.volume, "volume"), (.ceph, "ceph"), (.iscsi, "iscsi"), (.tls, "tls"), (.vtpm, "vtpm")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// A secret (`virSecretPtr`): a passphrase or key libvirt keeps for volumes, Ceph, iSCSI,
/// TLS or vTPM. A `LibvirtObject`; UUID and usage come from the handle.
public final class Secret: LibvirtObject, ConnectionObject, @unchecked Sendable {
    static let kind = ObjectKind(ref: virSecretRef, free: virSecretFree)

    init(adopting handle: OpaquePointer, connection: Connection) {
        super.init(adopting: handle, connection: connection, kind: Self.kind)
    }

    /// The secret's UUID (`virSecretGetUUID`; from the handle).
    public var uuid: LibvirtUUID { readUUID(handle, virSecretGetUUID) ?? .zero }

    /// What the secret is for (`virSecretGetUsageType`; from the handle).
    public var usageType: SecretUsageType { SecretUsageType(rawValue: virSecretGetUsageType(handle)) }

    /// The usage-specific ID, e.g. a volume path or Ceph name (`virSecretGetUsageID`; from the handle).
    public var usageID: String { virSecretGetUsageID(handle).map { String(cString: $0) } ?? "" }

    override var identity: String { uuid.description }

    /// The secret's XML, without its value (`virSecretGetXMLDesc`).
    public func xmlDescription() async throws -> String {
        try await string("virSecretGetXMLDesc") { virSecretGetXMLDesc($0, 0) }
    }

    /// Sets the secret's value (`virSecretSetValue`).
    public func setValue(_ value: [UInt8]) async throws {
        try await check("virSecretSetValue") { s in value.withUnsafeBufferPointer { virSecretSetValue(s, $0.baseAddress, $0.count, 0) } }
    }

    /// The secret's value (`virSecretGetValue`); `.noSecret` when none was set, refused for
    /// private secrets.
    public func value() async throws -> [UInt8] {
        try await call { s throws(LibvirtError) in
            var size = 0
            guard let p = virSecretGetValue(s, &size, 0) else { throw LibvirtError.takeLast(after: "virSecretGetValue") }
            defer {
                memset(p, 0, size)  // don't leave the secret in freed memory
                free(p)
            }
            return Array(UnsafeBufferPointer(start: p, count: size))
        }
    }

    /// Deletes the secret (`virSecretUndefine`).
    public func undefine() async throws {
        try await check("virSecretUndefine") { virSecretUndefine($0) }
    }
}

extension Connection {
    /// `virConnectListAllSecretsFlags`.
    public struct SecretListFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let ephemeral = Self(rawValue: VIR_CONNECT_LIST_SECRETS_EPHEMERAL.rawValue)
        public static let noEphemeral = Self(rawValue: VIR_CONNECT_LIST_SECRETS_NO_EPHEMERAL.rawValue)
        public static let `private` = Self(rawValue: VIR_CONNECT_LIST_SECRETS_PRIVATE.rawValue)
        public static let noPrivate = Self(rawValue: VIR_CONNECT_LIST_SECRETS_NO_PRIVATE.rawValue)
    }

    /// Secrets matching `flags` (`virConnectListAllSecrets`; where that is unsupported and no
    /// flags are given, `virConnectListSecrets`' UUIDs, each looked up).
    public func listAllSecrets(flags: SecretListFlags = []) async throws -> [Secret] {
        try await list(Self.secretListing, flags: flags.rawValue)
    }

    /// The classic list holds UUID strings.
    static let secretListing = ObjectListing(
        "virConnectListAllSecrets", virConnectListAllSecrets,
        active: NameList("virConnectNumOfSecrets", virConnectNumOfSecrets, "virConnectListSecrets", virConnectListSecrets),
        lookup: virSecretLookupByUUIDString)

    /// A secret by its UUID as text (`virSecretLookupByUUIDString`); a malformed string is `.invalidArg`.
    public func secret(uuidString: String) async throws -> Secret {
        try await lookup("virSecretLookupByUUIDString") { virSecretLookupByUUIDString($0, uuidString) }
    }

    /// A secret by UUID (`virSecretLookupByUUID`); `.noSecret` if none.
    public func secret(uuid: LibvirtUUID) async throws -> Secret {
        try await lookup("virSecretLookupByUUID") { virSecretLookupByUUID($0, uuid.bytes) }
    }

    /// A secret by usage (`virSecretLookupByUsage`).
    public func secret(usage: SecretUsageType, id: String) async throws -> Secret {
        try await lookup("virSecretLookupByUsage") { virSecretLookupByUsage($0, usage.rawValue, id) }
    }

    /// Defines (or redefines) a secret from XML (`virSecretDefineXML`).
    public func defineSecret(xml: String, validate: Bool = false) async throws -> Secret {
        let flags = validate ? VIR_SECRET_DEFINE_VALIDATE.rawValue : 0
        return try await lookup("virSecretDefineXML") { virSecretDefineXML($0, xml, flags) }
    }
}
