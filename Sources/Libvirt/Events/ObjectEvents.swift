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

/// The two C callbacks every object family registers: the lifecycle one (event, detail) for
/// ID 0 and the generic one for the family's other ID. The fanout makes the event.
let objectLifecycleCallback: LifecycleCallback = { _, object, event, _, opaque in
    AnyEventFanout.unretained(opaque)?.deliverObject(object, lifecycle: event)
}
let objectGenericCallback: GenericCallback = { _, object, opaque in AnyEventFanout.unretained(opaque)?.deliverObject(object, lifecycle: nil) }

/// A family of object events (networks, storage pools, node devices, secrets): ID 0 is the
/// lifecycle, any other ID the generic callback; only `make` differs.
protocol ObjectLifecycleFamily: EventFamily, Sendable where ID: RawRepresentable, ID.RawValue == Int32 {
    static var calls: ObjectEventCalls { get }
    /// The event of `object` and its lifecycle change (nil: the family's other event).
    static func make(_ object: OpaquePointer?, _ lifecycle: Int32?) -> Event
}

/// An object family's `virConnect…EventRegisterAny` / `…DeregisterAny` pair.
struct ObjectEventCalls: Sendable {
    typealias RegisterAny = @Sendable (OpaquePointer?, OpaquePointer?, Int32, GenericCallback?, UnsafeMutableRawPointer?, virFreeCallback?) -> Int32
    typealias DeregisterAny = @Sendable (OpaquePointer?, Int32) -> Int32
    let registerFunction: StaticString
    let register: RegisterAny
    let deregister: DeregisterAny
    init(_ registerFunction: StaticString, _ register: @escaping RegisterAny, _ deregister: @escaping DeregisterAny) {
        (self.registerFunction, self.register, self.deregister) = (registerFunction, register, deregister)
    }
}

extension ObjectLifecycleFamily {
    static var registerFunction: StaticString { calls.registerFunction }

    static func register(_ c: OpaquePointer, _ id: ID, _ opaque: UnsafeMutableRawPointer, _ free: virFreeCallback) -> Int32 {
        let cb = id.rawValue == 0 ? unsafeBitCast(objectLifecycleCallback, to: GenericCallback.self) : objectGenericCallback
        return calls.register(c, nil, id.rawValue, cb, opaque, free)
    }

    static func deregister(_ c: OpaquePointer, _ callbackID: Int32) -> Int32 { calls.deregister(c, callbackID) }

    static var objectEvent: (@Sendable (OpaquePointer?, Int32?) -> Event)? { { make($0, $1) } }
}

enum NetworkEventFamily: ObjectLifecycleFamily {
    typealias ID = NetworkEventID
    typealias Event = NetworkEvent
    static let calls = ObjectEventCalls("virConnectNetworkEventRegisterAny", virConnectNetworkEventRegisterAny, virConnectNetworkEventDeregisterAny)
    /// Networks have only the lifecycle event.
    static func make(_ net: OpaquePointer?, _ lifecycle: Int32?) -> NetworkEvent {
        NetworkEvent(networkName: name(net.flatMap { virNetworkGetName($0) }), networkUUID: net.flatMap { readUUID($0, virNetworkGetUUID) } ?? .zero,
                     lifecycle: NetworkLifecycle(rawValue: lifecycle ?? -1), received: .now, timestamp: .now)
    }
}

enum StoragePoolEventFamily: ObjectLifecycleFamily {
    typealias ID = StoragePoolEventID
    typealias Event = StoragePoolEvent
    static let calls = ObjectEventCalls("virConnectStoragePoolEventRegisterAny", virConnectStoragePoolEventRegisterAny, virConnectStoragePoolEventDeregisterAny)
    static func make(_ pool: OpaquePointer?, _ lifecycle: Int32?) -> StoragePoolEvent {
        StoragePoolEvent(poolName: name(pool.flatMap { virStoragePoolGetName($0) }), poolUUID: pool.flatMap { readUUID($0, virStoragePoolGetUUID) } ?? .zero,
                         lifecycle: lifecycle.map(StoragePoolLifecycle.init(rawValue:)), received: .now, timestamp: .now)
    }
}

enum NodeDeviceEventFamily: ObjectLifecycleFamily {
    typealias ID = NodeDeviceEventID
    typealias Event = NodeDeviceEvent
    static let calls = ObjectEventCalls("virConnectNodeDeviceEventRegisterAny", virConnectNodeDeviceEventRegisterAny, virConnectNodeDeviceEventDeregisterAny)
    static func make(_ dev: OpaquePointer?, _ lifecycle: Int32?) -> NodeDeviceEvent {
        NodeDeviceEvent(deviceName: name(dev.flatMap { virNodeDeviceGetName($0) }), lifecycle: lifecycle.map(NodeDeviceLifecycle.init(rawValue:)),
                        received: .now, timestamp: .now)
    }
}

enum SecretEventFamily: ObjectLifecycleFamily {
    typealias ID = SecretEventID
    typealias Event = SecretEvent
    static let calls = ObjectEventCalls("virConnectSecretEventRegisterAny", virConnectSecretEventRegisterAny, virConnectSecretEventDeregisterAny)
    static func make(_ s: OpaquePointer?, _ lifecycle: Int32?) -> SecretEvent {
        SecretEvent(secretUUID: s.flatMap { readUUID($0, virSecretGetUUID) } ?? .zero,
                    usageType: SecretUsageType(rawValue: s.map { virSecretGetUsageType($0) } ?? 0),
                    usageID: name(s.flatMap { virSecretGetUsageID($0) }), lifecycle: lifecycle.map(SecretLifecycle.init(rawValue:)),
                    received: .now, timestamp: .now)
    }
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
