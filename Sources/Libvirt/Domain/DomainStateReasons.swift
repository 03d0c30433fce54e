import CLibvirt

// Generated once from libvirt 9.0.0's <libvirt/libvirt-domain.h> reason enums, plus
// VIR_DOMAIN_PAUSED_API_ERROR (14, libvirt 9.2) so a newer daemon's reason is named.
// Each reason's 0 (`*_UNKNOWN`, "libvirt doesn't know why") is `.unspecified`; raw values
// VirtKit doesn't know are kept as `.unknown(raw)`.

/// `virDomainNostateReason`: why a domain is in its state.
public enum NoStateReason: CEnum {
    /// `VIR_DOMAIN_NOSTATE_UNKNOWN` (0)
    case unspecified
    /// A value this VirtKit doesn't know (from a newer libvirt).
    case unknown(Int32)

    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: Int32 {
        switch self {
        case .unspecified: return 0
        case .unknown(let raw): return raw
        }
    }

    /// A short lower-case name like `virsh domstate --reason` prints.
    public var description: String {
        switch self {
        case .unspecified: return "unknown"
        case .unknown(let raw): return "reason \(raw)"
        }
    }
}

/// `virDomainRunningReason`: why a domain is in its state.
public enum RunningReason: CEnum {
    /// `VIR_DOMAIN_RUNNING_UNKNOWN` (0)
    case unspecified
    /// `VIR_DOMAIN_RUNNING_BOOTED` (1)
    case booted
    /// `VIR_DOMAIN_RUNNING_MIGRATED` (2)
    case migrated
    /// `VIR_DOMAIN_RUNNING_RESTORED` (3)
    case restored
    /// `VIR_DOMAIN_RUNNING_FROM_SNAPSHOT` (4)
    case fromSnapshot
    /// `VIR_DOMAIN_RUNNING_UNPAUSED` (5)
    case unpaused
    /// `VIR_DOMAIN_RUNNING_MIGRATION_CANCELED` (6)
    case migrationCanceled
    /// `VIR_DOMAIN_RUNNING_SAVE_CANCELED` (7)
    case saveCanceled
    /// `VIR_DOMAIN_RUNNING_WAKEUP` (8)
    case wakeup
    /// `VIR_DOMAIN_RUNNING_CRASHED` (9)
    case crashed
    /// `VIR_DOMAIN_RUNNING_POSTCOPY` (10)
    case postcopy
    /// `VIR_DOMAIN_RUNNING_POSTCOPY_FAILED` (11)
    case postcopyFailed
    /// A value this VirtKit doesn't know (from a newer libvirt).
    case unknown(Int32)

    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .booted
        case 2: self = .migrated
        case 3: self = .restored
        case 4: self = .fromSnapshot
        case 5: self = .unpaused
        case 6: self = .migrationCanceled
        case 7: self = .saveCanceled
        case 8: self = .wakeup
        case 9: self = .crashed
        case 10: self = .postcopy
        case 11: self = .postcopyFailed
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: Int32 {
        switch self {
        case .unspecified: return 0
        case .booted: return 1
        case .migrated: return 2
        case .restored: return 3
        case .fromSnapshot: return 4
        case .unpaused: return 5
        case .migrationCanceled: return 6
        case .saveCanceled: return 7
        case .wakeup: return 8
        case .crashed: return 9
        case .postcopy: return 10
        case .postcopyFailed: return 11
        case .unknown(let raw): return raw
        }
    }

    /// A short lower-case name like `virsh domstate --reason` prints.
    public var description: String {
        switch self {
        case .unspecified: return "unknown"
        case .booted: return "booted"
        case .migrated: return "migrated"
        case .restored: return "restored"
        case .fromSnapshot: return "from snapshot"
        case .unpaused: return "unpaused"
        case .migrationCanceled: return "migration canceled"
        case .saveCanceled: return "save canceled"
        case .wakeup: return "event wakeup"
        case .crashed: return "crashed"
        case .postcopy: return "post-copy"
        case .postcopyFailed: return "post-copy failed"
        case .unknown(let raw): return "reason \(raw)"
        }
    }
}

/// `virDomainBlockedReason`: why a domain is in its state.
public enum BlockedReason: CEnum {
    /// `VIR_DOMAIN_BLOCKED_UNKNOWN` (0)
    case unspecified
    /// A value this VirtKit doesn't know (from a newer libvirt).
    case unknown(Int32)

    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: Int32 {
        switch self {
        case .unspecified: return 0
        case .unknown(let raw): return raw
        }
    }

    /// A short lower-case name like `virsh domstate --reason` prints.
    public var description: String {
        switch self {
        case .unspecified: return "unknown"
        case .unknown(let raw): return "reason \(raw)"
        }
    }
}

/// `virDomainPausedReason`: why a domain is in its state.
public enum PausedReason: CEnum {
    /// `VIR_DOMAIN_PAUSED_UNKNOWN` (0)
    case unspecified
    /// `VIR_DOMAIN_PAUSED_USER` (1)
    case user
    /// `VIR_DOMAIN_PAUSED_MIGRATION` (2)
    case migration
    /// `VIR_DOMAIN_PAUSED_SAVE` (3)
    case save
    /// `VIR_DOMAIN_PAUSED_DUMP` (4)
    case dump
    /// `VIR_DOMAIN_PAUSED_IOERROR` (5)
    case ioError
    /// `VIR_DOMAIN_PAUSED_WATCHDOG` (6)
    case watchdog
    /// `VIR_DOMAIN_PAUSED_FROM_SNAPSHOT` (7)
    case fromSnapshot
    /// `VIR_DOMAIN_PAUSED_SHUTTING_DOWN` (8)
    case shuttingDown
    /// `VIR_DOMAIN_PAUSED_SNAPSHOT` (9)
    case snapshot
    /// `VIR_DOMAIN_PAUSED_CRASHED` (10)
    case crashed
    /// `VIR_DOMAIN_PAUSED_STARTING_UP` (11)
    case startingUp
    /// `VIR_DOMAIN_PAUSED_POSTCOPY` (12)
    case postcopy
    /// `VIR_DOMAIN_PAUSED_POSTCOPY_FAILED` (13)
    case postcopyFailed
    /// `VIR_DOMAIN_PAUSED_API_ERROR` (14)
    case apiError
    /// A value this VirtKit doesn't know (from a newer libvirt).
    case unknown(Int32)

    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .user
        case 2: self = .migration
        case 3: self = .save
        case 4: self = .dump
        case 5: self = .ioError
        case 6: self = .watchdog
        case 7: self = .fromSnapshot
        case 8: self = .shuttingDown
        case 9: self = .snapshot
        case 10: self = .crashed
        case 11: self = .startingUp
        case 12: self = .postcopy
        case 13: self = .postcopyFailed
        case 14: self = .apiError
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: Int32 {
        switch self {
        case .unspecified: return 0
        case .user: return 1
        case .migration: return 2
        case .save: return 3
        case .dump: return 4
        case .ioError: return 5
        case .watchdog: return 6
        case .fromSnapshot: return 7
        case .shuttingDown: return 8
        case .snapshot: return 9
        case .crashed: return 10
        case .startingUp: return 11
        case .postcopy: return 12
        case .postcopyFailed: return 13
        case .apiError: return 14
        case .unknown(let raw): return raw
        }
    }

    /// A short lower-case name like `virsh domstate --reason` prints.
    public var description: String {
        switch self {
        case .unspecified: return "unknown"
        case .user: return "user"
        case .migration: return "migrating"
        case .save: return "saving"
        case .dump: return "dumping"
        case .ioError: return "I/O error"
        case .watchdog: return "watchdog"
        case .fromSnapshot: return "from snapshot"
        case .shuttingDown: return "shutting down"
        case .snapshot: return "creating snapshot"
        case .crashed: return "crashed"
        case .startingUp: return "starting up"
        case .postcopy: return "post-copy"
        case .postcopyFailed: return "post-copy failed"
        case .apiError: return "api error"
        case .unknown(let raw): return "reason \(raw)"
        }
    }
}

/// `virDomainShutdownReason`: why a domain is in its state.
public enum ShutdownReason: CEnum {
    /// `VIR_DOMAIN_SHUTDOWN_UNKNOWN` (0)
    case unspecified
    /// `VIR_DOMAIN_SHUTDOWN_USER` (1)
    case user
    /// A value this VirtKit doesn't know (from a newer libvirt).
    case unknown(Int32)

    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .user
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: Int32 {
        switch self {
        case .unspecified: return 0
        case .user: return 1
        case .unknown(let raw): return raw
        }
    }

    /// A short lower-case name like `virsh domstate --reason` prints.
    public var description: String {
        switch self {
        case .unspecified: return "unknown"
        case .user: return "user"
        case .unknown(let raw): return "reason \(raw)"
        }
    }
}

/// `virDomainShutoffReason`: why a domain is in its state.
public enum ShutoffReason: CEnum {
    /// `VIR_DOMAIN_SHUTOFF_UNKNOWN` (0)
    case unspecified
    /// `VIR_DOMAIN_SHUTOFF_SHUTDOWN` (1)
    case shutdown
    /// `VIR_DOMAIN_SHUTOFF_DESTROYED` (2)
    case destroyed
    /// `VIR_DOMAIN_SHUTOFF_CRASHED` (3)
    case crashed
    /// `VIR_DOMAIN_SHUTOFF_MIGRATED` (4)
    case migrated
    /// `VIR_DOMAIN_SHUTOFF_SAVED` (5)
    case saved
    /// `VIR_DOMAIN_SHUTOFF_FAILED` (6)
    case failed
    /// `VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT` (7)
    case fromSnapshot
    /// `VIR_DOMAIN_SHUTOFF_DAEMON` (8)
    case daemon
    /// A value this VirtKit doesn't know (from a newer libvirt).
    case unknown(Int32)

    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .shutdown
        case 2: self = .destroyed
        case 3: self = .crashed
        case 4: self = .migrated
        case 5: self = .saved
        case 6: self = .failed
        case 7: self = .fromSnapshot
        case 8: self = .daemon
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: Int32 {
        switch self {
        case .unspecified: return 0
        case .shutdown: return 1
        case .destroyed: return 2
        case .crashed: return 3
        case .migrated: return 4
        case .saved: return 5
        case .failed: return 6
        case .fromSnapshot: return 7
        case .daemon: return 8
        case .unknown(let raw): return raw
        }
    }

    /// A short lower-case name like `virsh domstate --reason` prints.
    public var description: String {
        switch self {
        case .unspecified: return "unknown"
        case .shutdown: return "shutdown"
        case .destroyed: return "destroyed"
        case .crashed: return "crashed"
        case .migrated: return "migrated"
        case .saved: return "saved"
        case .failed: return "failed"
        case .fromSnapshot: return "from snapshot"
        case .daemon: return "daemon"
        case .unknown(let raw): return "reason \(raw)"
        }
    }
}

/// `virDomainCrashedReason`: why a domain is in its state.
public enum CrashedReason: CEnum {
    /// `VIR_DOMAIN_CRASHED_UNKNOWN` (0)
    case unspecified
    /// `VIR_DOMAIN_CRASHED_PANICKED` (1)
    case panicked
    /// A value this VirtKit doesn't know (from a newer libvirt).
    case unknown(Int32)

    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .panicked
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: Int32 {
        switch self {
        case .unspecified: return 0
        case .panicked: return 1
        case .unknown(let raw): return raw
        }
    }

    /// A short lower-case name like `virsh domstate --reason` prints.
    public var description: String {
        switch self {
        case .unspecified: return "unknown"
        case .panicked: return "panicked"
        case .unknown(let raw): return "reason \(raw)"
        }
    }
}

/// `virDomainPMSuspendedReason`: why a domain is in its state.
public enum PMSuspendedReason: CEnum {
    /// `VIR_DOMAIN_PMSUSPENDED_UNKNOWN` (0)
    case unspecified
    /// A value this VirtKit doesn't know (from a newer libvirt).
    case unknown(Int32)

    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: Int32 {
        switch self {
        case .unspecified: return 0
        case .unknown(let raw): return raw
        }
    }

    /// A short lower-case name like `virsh domstate --reason` prints.
    public var description: String {
        switch self {
        case .unspecified: return "unknown"
        case .unknown(let raw): return "reason \(raw)"
        }
    }
}
