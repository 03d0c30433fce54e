import CLibvirt
import Foundation
import VirtCore

// The lifecycle event families of networks, storage pools, node devices and secrets, through
// the same `EventRegistry` as domain events. Each family has a lifecycle callback
// (event, detail) and one generic callback (`refresh`, `update`, `value-changed`); libvirt 9.0
// reports no details for these lifecycles, so only the event is decoded.

/// `virNetworkEventLifecycleType`.
public enum NetworkLifecycle: CEnumMirror {
    case defined, undefined, started, stopped
    case unknown(Int32)
    public static let known: [(Self, String)] = [(.defined, "defined"), (.undefined, "undefined"), (.started, "started"), (.stopped, "stopped")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virStoragePoolEventLifecycleType`.
public enum StoragePoolLifecycle: CEnumMirror {
    case defined, undefined, started, stopped, created, deleted
    case unknown(Int32)
    public static let known: [(Self, String)] = [
        (.defined, "defined"), (.undefined, "undefined"), (.started, "started"), (.stopped, "stopped"), (.created, "created"), (.deleted, "deleted"),
    ]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virNodeDeviceEventLifecycleType`.
public enum NodeDeviceLifecycle: CEnumMirror {
    case created, deleted, defined, undefined
    case unknown(Int32)
    public static let known: [(Self, String)] = [(.created, "created"), (.deleted, "deleted"), (.defined, "defined"), (.undefined, "undefined")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virSecretEventLifecycleType`.
public enum SecretLifecycle: CEnumMirror {
    case defined, undefined
    case unknown(Int32)
    public static let known: [(Self, String)] = [(.defined, "defined"), (.undefined, "undefined")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// Network event IDs (`virNetworkEventID`).
public enum NetworkEventID: Int32, CaseIterable, Hashable, Sendable {
    case lifecycle = 0
}

/// Storage pool event IDs (`virStoragePoolEventID`).
public enum StoragePoolEventID: Int32, CaseIterable, Hashable, Sendable {
    case lifecycle = 0
    /// The pool's volumes were rescanned (`virStoragePoolRefresh`).
    case refresh = 1
}

/// Node device event IDs (`virNodeDeviceEventID`).
public enum NodeDeviceEventID: Int32, CaseIterable, Hashable, Sendable {
    case lifecycle = 0
    /// The device's definition changed.
    case update = 1
}

/// Secret event IDs (`virSecretEventID`).
public enum SecretEventID: Int32, CaseIterable, Hashable, Sendable {
    case lifecycle = 0
    /// The secret's value was set.
    case valueChanged = 1
}

/// A network event.
public struct NetworkEvent: LibvirtEvent, Hashable, Sendable, CustomStringConvertible {
    public var networkName: String
    public var networkUUID: LibvirtUUID
    public var lifecycle: NetworkLifecycle
    /// When the C callback ran (monotonic) and its wall-clock time.
    public var received: ContinuousClock.Instant
    public var timestamp: Timestamp
    public var objectKey: LibvirtUUID { networkUUID }
    public var description: String { "\(networkName): \(lifecycle)" }
}

/// A storage pool event: a lifecycle change (`lifecycle` set) or a refresh (`lifecycle` nil).
public struct StoragePoolEvent: LibvirtEvent, Hashable, Sendable, CustomStringConvertible {
    public var poolName: String
    public var poolUUID: LibvirtUUID
    public var lifecycle: StoragePoolLifecycle?
    public var received: ContinuousClock.Instant
    public var timestamp: Timestamp
    public var objectKey: LibvirtUUID { poolUUID }
    public var description: String { "\(poolName): \(lifecycle?.description ?? "refresh")" }
}

/// A node device event: a lifecycle change (`lifecycle` set) or an update (`lifecycle` nil).
public struct NodeDeviceEvent: LibvirtEvent, Hashable, Sendable, CustomStringConvertible {
    public var deviceName: String
    public var lifecycle: NodeDeviceLifecycle?
    public var received: ContinuousClock.Instant
    public var timestamp: Timestamp
    public var objectKey: String { deviceName }
    public var description: String { "\(deviceName): \(lifecycle?.description ?? "update")" }
}

/// A secret event: a lifecycle change (`lifecycle` set) or a new value (`lifecycle` nil).
public struct SecretEvent: LibvirtEvent, Hashable, Sendable, CustomStringConvertible {
    public var secretUUID: LibvirtUUID
    public var usageType: SecretUsageType
    public var usageID: String
    public var lifecycle: SecretLifecycle?
    public var received: ContinuousClock.Instant
    public var timestamp: Timestamp
    public var objectKey: LibvirtUUID { secretUUID }
    public var description: String { "\(secretUUID): \(lifecycle?.description ?? "value-changed")" }
}

// MARK: - Families

typealias LifecycleCallback = @convention(c) (OpaquePointer?, OpaquePointer?, Int32, Int32, UnsafeMutableRawPointer?) -> Void
typealias GenericCallback = @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutableRawPointer?) -> Void

private func name(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }

enum NetworkEventFamily: EventFamily {
    typealias ID = NetworkEventID
    typealias Event = NetworkEvent
    static var registerFunction: StaticString { "virConnectNetworkEventRegisterAny" }
    static func register(_ c: OpaquePointer, _ id: NetworkEventID, _ opaque: UnsafeMutableRawPointer, _ free: virFreeCallback) -> Int32 {
        let cb: LifecycleCallback = { _, net, event, _, opaque in
            EventFanout<NetworkEvent>.from(opaque)?.deliver {
                NetworkEvent(networkName: name(net.flatMap { virNetworkGetName($0) }), networkUUID: net.flatMap { readUUID($0, virNetworkGetUUID) } ?? .zero,
                             lifecycle: NetworkLifecycle(rawValue: event), received: .now, timestamp: .now)
            }
        }
        return virConnectNetworkEventRegisterAny(c, nil, id.rawValue, unsafeBitCast(cb, to: virConnectNetworkEventGenericCallback.self), opaque, free)
    }
    static func deregister(_ c: OpaquePointer, _ callbackID: Int32) -> Int32 { virConnectNetworkEventDeregisterAny(c, callbackID) }
}

/// A family whose ID 0 is the lifecycle callback (event, detail) and whose other ID takes
/// the generic callback — storage pools, node devices, secrets: only the decoding differs.
protocol ObjectLifecycleFamily: EventFamily where ID: RawRepresentable, ID.RawValue == Int32 {
    typealias RegisterAny = (OpaquePointer?, OpaquePointer?, Int32, GenericCallback?, UnsafeMutableRawPointer?, virFreeCallback?) -> Int32
    static var registerAny: RegisterAny { get }
    static var onLifecycle: LifecycleCallback { get }
    static var onOther: GenericCallback { get }
}

extension ObjectLifecycleFamily {
    static func register(_ c: OpaquePointer, _ id: ID, _ opaque: UnsafeMutableRawPointer, _ free: virFreeCallback) -> Int32 {
        let cb = id.rawValue == 0 ? unsafeBitCast(onLifecycle, to: GenericCallback.self) : onOther
        return registerAny(c, nil, id.rawValue, cb, opaque, free)
    }
}

enum StoragePoolEventFamily: ObjectLifecycleFamily {
    typealias ID = StoragePoolEventID
    typealias Event = StoragePoolEvent
    static var registerFunction: StaticString { "virConnectStoragePoolEventRegisterAny" }
    static var registerAny: RegisterAny { virConnectStoragePoolEventRegisterAny }
    static func deregister(_ c: OpaquePointer, _ callbackID: Int32) -> Int32 { virConnectStoragePoolEventDeregisterAny(c, callbackID) }
    fileprivate static func make(_ pool: OpaquePointer?, _ lifecycle: StoragePoolLifecycle?) -> StoragePoolEvent {
        StoragePoolEvent(poolName: name(pool.flatMap { virStoragePoolGetName($0) }), poolUUID: pool.flatMap { readUUID($0, virStoragePoolGetUUID) } ?? .zero,
                         lifecycle: lifecycle, received: .now, timestamp: .now)
    }
    static let onLifecycle: LifecycleCallback = { _, pool, event, _, opaque in
        EventFanout<StoragePoolEvent>.from(opaque)?.deliver { StoragePoolEventFamily.make(pool, StoragePoolLifecycle(rawValue: event)) }
    }
    static let onOther: GenericCallback = { _, pool, opaque in EventFanout<StoragePoolEvent>.from(opaque)?.deliver { StoragePoolEventFamily.make(pool, nil) } }
}

enum NodeDeviceEventFamily: ObjectLifecycleFamily {
    typealias ID = NodeDeviceEventID
    typealias Event = NodeDeviceEvent
    static var registerFunction: StaticString { "virConnectNodeDeviceEventRegisterAny" }
    static var registerAny: RegisterAny { virConnectNodeDeviceEventRegisterAny }
    static func deregister(_ c: OpaquePointer, _ callbackID: Int32) -> Int32 { virConnectNodeDeviceEventDeregisterAny(c, callbackID) }
    fileprivate static func make(_ dev: OpaquePointer?, _ lifecycle: NodeDeviceLifecycle?) -> NodeDeviceEvent {
        NodeDeviceEvent(deviceName: name(dev.flatMap { virNodeDeviceGetName($0) }), lifecycle: lifecycle, received: .now, timestamp: .now)
    }
    static let onLifecycle: LifecycleCallback = { _, dev, event, _, opaque in
        EventFanout<NodeDeviceEvent>.from(opaque)?.deliver { NodeDeviceEventFamily.make(dev, NodeDeviceLifecycle(rawValue: event)) }
    }
    static let onOther: GenericCallback = { _, dev, opaque in EventFanout<NodeDeviceEvent>.from(opaque)?.deliver { NodeDeviceEventFamily.make(dev, nil) } }
}

enum SecretEventFamily: ObjectLifecycleFamily {
    typealias ID = SecretEventID
    typealias Event = SecretEvent
    static var registerFunction: StaticString { "virConnectSecretEventRegisterAny" }
    static var registerAny: RegisterAny { virConnectSecretEventRegisterAny }
    static func deregister(_ c: OpaquePointer, _ callbackID: Int32) -> Int32 { virConnectSecretEventDeregisterAny(c, callbackID) }
    fileprivate static func make(_ s: OpaquePointer?, _ lifecycle: SecretLifecycle?) -> SecretEvent {
        SecretEvent(secretUUID: s.flatMap { readUUID($0, virSecretGetUUID) } ?? .zero,
                    usageType: SecretUsageType(rawValue: s.map { virSecretGetUsageType($0) } ?? 0),
                    usageID: name(s.flatMap { virSecretGetUsageID($0) }), lifecycle: lifecycle, received: .now, timestamp: .now)
    }
    static let onLifecycle: LifecycleCallback = { _, s, event, _, opaque in
        EventFanout<SecretEvent>.from(opaque)?.deliver { SecretEventFamily.make(s, SecretLifecycle(rawValue: event)) }
    }
    static let onOther: GenericCallback = { _, s, opaque in EventFanout<SecretEvent>.from(opaque)?.deliver { SecretEventFamily.make(s, nil) } }
}

extension Connection {
    /// Network events for one network or all (`virConnectNetworkEventRegisterAny`); the same
    /// registration sharing, ending and close handling as `domainEvents`.
    public func networkEvents(for network: Network? = nil, ids: Set<NetworkEventID> = Set(NetworkEventID.allCases)) async throws -> AsyncStream<EventMessage<NetworkEvent>> {
        try await eventStream(NetworkEventFamily.self, ids: ids, filter: network?.uuid)
    }

    /// Storage pool events for one pool or all (`virConnectStoragePoolEventRegisterAny`).
    public func storagePoolEvents(for pool: StoragePool? = nil, ids: Set<StoragePoolEventID> = Set(StoragePoolEventID.allCases)) async throws -> AsyncStream<EventMessage<StoragePoolEvent>> {
        try await eventStream(StoragePoolEventFamily.self, ids: ids, filter: pool?.uuid)
    }

    /// Node device events for one device or all (`virConnectNodeDeviceEventRegisterAny`).
    public func nodeDeviceEvents(for device: NodeDevice? = nil, ids: Set<NodeDeviceEventID> = Set(NodeDeviceEventID.allCases)) async throws -> AsyncStream<EventMessage<NodeDeviceEvent>> {
        try await eventStream(NodeDeviceEventFamily.self, ids: ids, filter: device?.name)
    }

    /// Secret events for one secret or all (`virConnectSecretEventRegisterAny`).
    public func secretEvents(for secret: Secret? = nil, ids: Set<SecretEventID> = Set(SecretEventID.allCases)) async throws -> AsyncStream<EventMessage<SecretEvent>> {
        try await eventStream(SecretEventFamily.self, ids: ids, filter: secret?.uuid)
    }
}
