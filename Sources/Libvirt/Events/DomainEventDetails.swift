// The typed details of libvirt's domain events, from libvirt 9.0.0's <libvirt/libvirt-domain.h>
// (virDomainEvent*DetailType, virDomainEventWatchdogAction, virDomainEventIOErrorAction,
// virConnectDomainEventBlockStatus, virDomainBlockJobType, the agent lifecycle enums,
// virDomainMetadataType). Every enum keeps a value from a newer libvirt as `.unknown(raw)`.
// `description` is the lower-case name `virsh event` prints.

/// `virDomainEventDefinedDetailType`
public enum DefinedDetail: CEnumMirror {
    case added, updated, renamed, fromSnapshot, unknown(Int32)
    public static let known: [(Self, String)] = [(.added, "added"), (.updated, "updated"), (.renamed, "renamed"), (.fromSnapshot, "snapshot")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virDomainEventUndefinedDetailType`
public enum UndefinedDetail: CEnumMirror {
    case removed, renamed, unknown(Int32)
    public static let known: [(Self, String)] = [(.removed, "removed"), (.renamed, "renamed")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virDomainEventStartedDetailType`
public enum StartedDetail: CEnumMirror {
    case booted, migrated, restored, fromSnapshot, wakeup, unknown(Int32)
    public static let known: [(Self, String)] = [(.booted, "booted"), (.migrated, "migrated"), (.restored, "restored"), (.fromSnapshot, "snapshot"), (.wakeup, "event wakeup")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virDomainEventSuspendedDetailType`
public enum SuspendedDetail: CEnumMirror {
    case paused, migrated, ioError, watchdog, restored, fromSnapshot, apiError, postcopy, postcopyFailed, unknown(Int32)
    public static let known: [(Self, String)] = [
        (.paused, "paused"), (.migrated, "migrated"), (.ioError, "I/O error"), (.watchdog, "watchdog"),
        (.restored, "restored"), (.fromSnapshot, "snapshot"), (.apiError, "api error"), (.postcopy, "post-copy"),
        (.postcopyFailed, "post-copy-error"),
    ]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virDomainEventResumedDetailType`
public enum ResumedDetail: CEnumMirror {
    case unpaused, migrated, fromSnapshot, postcopy, postcopyFailed, unknown(Int32)
    public static let known: [(Self, String)] = [(.unpaused, "unpaused"), (.migrated, "migrated"), (.fromSnapshot, "snapshot"), (.postcopy, "post-copy"), (.postcopyFailed, "post-copy-error")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virDomainEventStoppedDetailType`
public enum StoppedDetail: CEnumMirror {
    case shutdown, destroyed, crashed, migrated, saved, failed, fromSnapshot, unknown(Int32)
    public static let known: [(Self, String)] = [(.shutdown, "shutdown"), (.destroyed, "destroyed"), (.crashed, "crashed"), (.migrated, "migrated"), (.saved, "saved"), (.failed, "failed"), (.fromSnapshot, "snapshot")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virDomainEventShutdownDetailType`
public enum ShutdownDetail: CEnumMirror {
    case finished, guest, host, unknown(Int32)
    public static let known: [(Self, String)] = [(.finished, "finished"), (.guest, "on guest request"), (.host, "on host request")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virDomainEventPMSuspendedDetailType`
public enum PMSuspendedDetail: CEnumMirror {
    case memory, disk, unknown(Int32)
    public static let known: [(Self, String)] = [(.memory, "memory"), (.disk, "disk")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virDomainEventCrashedDetailType`
public enum CrashedDetail: CEnumMirror {
    case panicked, crashLoaded, unknown(Int32)
    public static let known: [(Self, String)] = [(.panicked, "panicked"), (.crashLoaded, "crashloaded")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// A lifecycle event (`VIR_DOMAIN_EVENT_ID_LIFECYCLE`, `virDomainEventType`) with the typed
/// detail that belongs to its type.
public enum LifecycleEvent: Hashable, Sendable, CustomStringConvertible {
    case defined(DefinedDetail)
    case undefined(UndefinedDetail)
    case started(StartedDetail)
    case suspended(SuspendedDetail)
    case resumed(ResumedDetail)
    case stopped(StoppedDetail)
    case shutdown(ShutdownDetail)
    case pmSuspended(PMSuspendedDetail)
    case crashed(CrashedDetail)
    /// An event type newer than libvirt 9.0.
    case unknown(event: Int32, detail: Int32)

    /// Decodes libvirt's `(event, detail)` pair.
    public init(event: Int32, detail: Int32) {
        switch event {
        case 0: self = .defined(.init(rawValue: detail))
        case 1: self = .undefined(.init(rawValue: detail))
        case 2: self = .started(.init(rawValue: detail))
        case 3: self = .suspended(.init(rawValue: detail))
        case 4: self = .resumed(.init(rawValue: detail))
        case 5: self = .stopped(.init(rawValue: detail))
        case 6: self = .shutdown(.init(rawValue: detail))
        case 7: self = .pmSuspended(.init(rawValue: detail))
        case 8: self = .crashed(.init(rawValue: detail))
        default: self = .unknown(event: event, detail: detail)
        }
    }

    /// The event type's name (`defined`, `started`, …).
    public var type: String {
        switch self {
        case .defined: "defined"
        case .undefined: "undefined"
        case .started: "started"
        case .suspended: "suspended"
        case .resumed: "resumed"
        case .stopped: "stopped"
        case .shutdown: "shutdown"
        case .pmSuspended: "pmsuspended"
        case .crashed: "crashed"
        case .unknown(let e, _): "event \(e)"
        }
    }

    /// The detail's name (`booted`, `I/O error`, …).
    public var detail: String {
        switch self {
        case .defined(let d): d.description
        case .undefined(let d): d.description
        case .started(let d): d.description
        case .suspended(let d): d.description
        case .resumed(let d): d.description
        case .stopped(let d): d.description
        case .shutdown(let d): d.description
        case .pmSuspended(let d): d.description
        case .crashed(let d): d.description
        case .unknown(_, let d): "detail \(d)"
        }
    }

    public var description: String { "\(type) \(detail)" }
}

/// `virDomainEventWatchdogAction`: what the hypervisor did when the watchdog fired.
public enum WatchdogEventAction: CEnumMirror {
    case none, pause, reset, poweroff, shutdown, debug, injectNMI, unknown(Int32)
    public static let known: [(Self, String)] = [(.none, "none"), (.pause, "pause"), (.reset, "reset"), (.poweroff, "poweroff"), (.shutdown, "shutdown"), (.debug, "debug"), (.injectNMI, "inject-nmi")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virDomainEventIOErrorAction`: what the hypervisor did after a disk I/O error.
public enum IOErrorAction: CEnumMirror {
    case none, pause, report, unknown(Int32)
    public static let known: [(Self, String)] = [(.none, "none"), (.pause, "pause"), (.report, "report")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virConnectDomainEventBlockStatus`
public enum BlockJobStatus: CEnumMirror {
    case completed, failed, canceled, ready, unknown(Int32)
    public static let known: [(Self, String)] = [(.completed, "completed"), (.failed, "failed"), (.canceled, "canceled"), (.ready, "ready")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virDomainBlockJobType`
public enum BlockJobType: CEnumMirror {
    case unspecified, pull, copy, commit, activeCommit, backup, unknown(Int32)
    public static let known: [(Self, String)] = [(.unspecified, "unknown"), (.pull, "pull"), (.copy, "copy"), (.commit, "commit"), (.activeCommit, "active commit"), (.backup, "backup")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virConnectDomainEventAgentLifecycleState` (starts at 1).
public enum AgentState: CEnumMirror {
    case connected, disconnected, unknown(Int32)
    public static let known: [(Self, String)] = [(.connected, "connected"), (.disconnected, "disconnected")]
    public static var firstRaw: Int32 { 1 }
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virConnectDomainEventAgentLifecycleReason`
public enum AgentReason: CEnumMirror {
    case unspecified, domainStarted, channel, unknown(Int32)
    public static let known: [(Self, String)] = [(.unspecified, "unknown"), (.domainStarted, "domain started"), (.channel, "channel event")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// `virDomainMetadataType`
public enum MetadataType: CEnumMirror {
    case descriptionText, title, element, unknown(Int32)
    public static let known: [(Self, String)] = [(.descriptionText, "description"), (.title, "title"), (.element, "element")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}
