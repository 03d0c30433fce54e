import Foundation
import VirtCore

/// Which domain events to subscribe to: one libvirt event ID each
/// (`virDomainEventID`, registered with `virConnectDomainEventRegisterAny`).
public enum DomainEventID: Int32, CaseIterable, Hashable, Sendable, Codable, CustomStringConvertible {
    case lifecycle = 0            // VIR_DOMAIN_EVENT_ID_LIFECYCLE
    case reboot = 1               // VIR_DOMAIN_EVENT_ID_REBOOT
    case rtcChange = 2            // VIR_DOMAIN_EVENT_ID_RTC_CHANGE
    case watchdog = 3             // VIR_DOMAIN_EVENT_ID_WATCHDOG
    case ioError = 6              // VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON (carries the reason)
    case controlError = 7         // VIR_DOMAIN_EVENT_ID_CONTROL_ERROR
    case trayChange = 10          // VIR_DOMAIN_EVENT_ID_TRAY_CHANGE
    case pmWakeup = 11            // VIR_DOMAIN_EVENT_ID_PMWAKEUP
    case pmSuspend = 12           // VIR_DOMAIN_EVENT_ID_PMSUSPEND
    case balloonChange = 13       // VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE
    case pmSuspendDisk = 14       // VIR_DOMAIN_EVENT_ID_PMSUSPEND_DISK
    case deviceRemoved = 15       // VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED
    case blockJob = 16            // VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2 (names the disk by target)
    case tunable = 17             // VIR_DOMAIN_EVENT_ID_TUNABLE
    case agentLifecycle = 18      // VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE
    case deviceAdded = 19         // VIR_DOMAIN_EVENT_ID_DEVICE_ADDED
    case migrationIteration = 20  // VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION
    case jobCompleted = 21        // VIR_DOMAIN_EVENT_ID_JOB_COMPLETED
    case deviceRemovalFailed = 22 // VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED
    case metadataChange = 23      // VIR_DOMAIN_EVENT_ID_METADATA_CHANGE
    case blockThreshold = 24      // VIR_DOMAIN_EVENT_ID_BLOCK_THRESHOLD

    /// The event's name, as `virsh event --list` spells it.
    public var description: String {
        switch self {
        case .lifecycle: "lifecycle"
        case .reboot: "reboot"
        case .rtcChange: "rtc-change"
        case .watchdog: "watchdog"
        case .ioError: "io-error-reason"
        case .controlError: "control-error"
        case .trayChange: "tray-change"
        case .pmWakeup: "pm-wakeup"
        case .pmSuspend: "pm-suspend"
        case .balloonChange: "balloon-change"
        case .pmSuspendDisk: "pm-suspend-disk"
        case .deviceRemoved: "device-removed"
        case .blockJob: "block-job-2"
        case .tunable: "tunable"
        case .agentLifecycle: "agent-lifecycle"
        case .deviceAdded: "device-added"
        case .migrationIteration: "migration-iteration"
        case .jobCompleted: "job-completed"
        case .deviceRemovalFailed: "device-removal-failed"
        case .metadataChange: "metadata-change"
        case .blockThreshold: "block-threshold"
        }
    }
}

extension Set where Element == DomainEventID {
    /// Every event VirtKit decodes.
    public static var all: Set<DomainEventID> { Set(DomainEventID.allCases) }
}

/// What happened (the typed payload of one libvirt domain event callback).
public enum DomainEventKind: Hashable, Sendable, CustomStringConvertible {
    /// `virConnectDomainEventCallback`: lifecycle change with its typed detail.
    case lifecycle(LifecycleEvent)
    /// `VIR_DOMAIN_EVENT_ID_REBOOT`
    case reboot
    /// Guest RTC changed; its offset from the host's UTC.
    case rtcChange(offset: Duration)
    /// The watchdog fired and the hypervisor did `action`.
    case watchdog(WatchdogEventAction)
    /// A disk I/O error (`virConnectDomainEventIOErrorReasonCallback`): the disk's source
    /// path and device alias, what the hypervisor did, and QEMU's reason (`"enospc"`, or
    /// `""`/`"eio"`-like text for other errors).
    case ioError(IOErrorEvent)
    /// libvirt lost its control channel to the hypervisor (QEMU monitor).
    case controlError
    /// Removable media tray opened (`true`) or closed on `alias`.
    case trayChange(alias: String, opened: Bool)
    case pmWakeup
    case pmSuspend
    case pmSuspendDisk
    /// The guest's balloon changed its current memory.
    case balloonChange(MemorySize)
    /// A block job on `disk` (target name, e.g. `vda`) reached `status`.
    case blockJob(disk: String, type: BlockJobType, status: BlockJobStatus)
    /// Tunables changed (raw typed parameters).
    case tunable(TypedParameters)
    case agentLifecycle(state: AgentState, reason: AgentReason)
    case deviceAdded(alias: String)
    case deviceRemoved(alias: String)
    case deviceRemovalFailed(alias: String)
    /// Migration started iteration `n` (pre-copy pass over dirty memory).
    case migrationIteration(Int)
    /// A job finished; its final statistics.
    case jobCompleted(JobStats)
    /// Metadata of `type` changed (`namespace` is the URI for `.element`).
    case metadataChange(type: MetadataType, namespace: String?)
    /// A disk's write threshold was crossed (`excess`: how far past it the write went).
    case blockThreshold(disk: String, path: String?, threshold: MemorySize, excess: MemorySize)

    /// The event's ID (what to subscribe to for it).
    public var id: DomainEventID {
        switch self {
        case .lifecycle: .lifecycle
        case .reboot: .reboot
        case .rtcChange: .rtcChange
        case .watchdog: .watchdog
        case .ioError: .ioError
        case .controlError: .controlError
        case .trayChange: .trayChange
        case .pmWakeup: .pmWakeup
        case .pmSuspend: .pmSuspend
        case .pmSuspendDisk: .pmSuspendDisk
        case .balloonChange: .balloonChange
        case .blockJob: .blockJob
        case .tunable: .tunable
        case .agentLifecycle: .agentLifecycle
        case .deviceAdded: .deviceAdded
        case .deviceRemoved: .deviceRemoved
        case .deviceRemovalFailed: .deviceRemovalFailed
        case .migrationIteration: .migrationIteration
        case .jobCompleted: .jobCompleted
        case .metadataChange: .metadataChange
        case .blockThreshold: .blockThreshold
        }
    }

    public var description: String {
        switch self {
        case .lifecycle(let l): "lifecycle: \(l)"
        case .reboot: "reboot"
        case .rtcChange(let o): "rtc-change: \(o)"
        case .watchdog(let a): "watchdog: \(a)"
        case .ioError(let e): "io-error: \(e.devAlias) (\(e.srcPath)) \(e.action) \(e.reason)"
        case .controlError: "control-error"
        case .trayChange(let a, let o): "tray-change: \(a) \(o ? "opened" : "closed")"
        case .pmWakeup: "pm-wakeup"
        case .pmSuspend: "pm-suspend"
        case .pmSuspendDisk: "pm-suspend-disk"
        case .balloonChange(let m): "balloon-change: \(m)"
        case .blockJob(let d, let t, let s): "block-job: \(d) \(t) \(s)"
        case .tunable(let p): "tunable: \(p.keys.sorted().joined(separator: ","))"
        case .agentLifecycle(let s, let r): "agent-lifecycle: \(s) (\(r))"
        case .deviceAdded(let a): "device-added: \(a)"
        case .deviceRemoved(let a): "device-removed: \(a)"
        case .deviceRemovalFailed(let a): "device-removal-failed: \(a)"
        case .migrationIteration(let n): "migration-iteration: \(n)"
        case .jobCompleted(let s): "job-completed: \(s.type)"
        case .metadataChange(let t, let ns): "metadata-change: \(t)\(ns.map { " " + $0 } ?? "")"
        case .blockThreshold(let d, _, let t, let e): "block-threshold: \(d) threshold \(t) excess \(e)"
        }
    }
}

/// The payload of `VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON`.
public struct IOErrorEvent: Hashable, Sendable {
    /// The disk's source (file path, or e.g. `nbd://…` for network disks; may be empty).
    public var srcPath: String
    /// The device alias (e.g. `virtio-disk0`).
    public var devAlias: String
    public var action: IOErrorAction
    /// QEMU's reason text: `"enospc"` for no space, else e.g. `"eio"`, `"eperm"` or `""`.
    public var reason: String

    /// True when the reason is "no space left on the device".
    public var isNoSpace: Bool { reason == "enospc" }
}

/// One domain event as it reached the consumer.
public struct DomainEvent: Hashable, Sendable, CustomStringConvertible {
    /// The domain's name, UUID and (while running) ID, read from the event's handle.
    public var domainName: String
    public var domainUUID: LibvirtUUID
    public var domainID: UInt32?
    public var kind: DomainEventKind
    /// When the C callback ran (monotonic), for latency measurement.
    public var received: ContinuousClock.Instant
    /// Wall-clock time of the callback.
    public var timestamp: Timestamp

    public var description: String { "\(domainName): \(kind)" }
}

extension DomainEvent: LibvirtEvent {
    public var objectKey: LibvirtUUID { domainUUID }
}

/// How a connection closed (`virConnectCloseReason`).
public enum ConnectionCloseReason: CEnumMirror {
    /// `VIR_CONNECT_CLOSE_REASON_ERROR`: I/O error on the socket.
    case error
    /// `VIR_CONNECT_CLOSE_REASON_EOF`: the daemon closed the connection (e.g. it restarted).
    case eof
    /// `VIR_CONNECT_CLOSE_REASON_KEEPALIVE`: keepalive probes went unanswered.
    case keepalive
    /// `VIR_CONNECT_CLOSE_REASON_CLIENT`: this process closed it.
    case client
    case unknown(Int32)
    public static let known: [(Self, String)] = [(.error, "error"), (.eof, "eof"), (.keepalive, "keepalive"), (.client, "client")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// A connection close notification (`virConnectRegisterCloseCallback`).
public struct ConnectionCloseEvent: Hashable, Sendable {
    public var reason: ConnectionCloseReason
    public var timestamp: Timestamp
}

/// What a domain event stream delivers: events, and the connection's health in between.
public typealias DomainEventMessage = EventMessage<DomainEvent>
