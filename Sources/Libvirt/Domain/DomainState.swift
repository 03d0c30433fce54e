import CLibvirt
import VirtCore

/// `virDomainState`.
public enum DomainState: CEnum {
    case noState, running, blocked, paused, shutdown, shutoff, crashed, pmSuspended
    /// A value this VirtKit doesn't know (from a newer libvirt).
    case unknown(Int32)

    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .noState
        case 1: self = .running
        case 2: self = .blocked
        case 3: self = .paused
        case 4: self = .shutdown
        case 5: self = .shutoff
        case 6: self = .crashed
        case 7: self = .pmSuspended
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: Int32 {
        switch self {
        case .noState: 0
        case .running: 1
        case .blocked: 2
        case .paused: 3
        case .shutdown: 4
        case .shutoff: 5
        case .crashed: 6
        case .pmSuspended: 7
        case .unknown(let raw): raw
        }
    }

    /// The name `virsh domstate` prints.
    public var description: String {
        switch self {
        case .noState: "no state"
        case .running: "running"
        case .blocked: "blocked"
        case .paused: "paused"
        case .shutdown: "in shutdown"
        case .shutoff: "shut off"
        case .crashed: "crashed"
        case .pmSuspended: "pmsuspended"
        case .unknown(let raw): "state \(raw)"
        }
    }

    /// A stable lower-case key for JSON output (`running`, `shutoff`, `pmsuspended`, …).
    public var key: String {
        switch self {
        case .noState: "nostate"
        case .running: "running"
        case .blocked: "blocked"
        case .paused: "paused"
        case .shutdown: "shutdown"
        case .shutoff: "shutoff"
        case .crashed: "crashed"
        case .pmSuspended: "pmsuspended"
        case .unknown(let raw): "unknown-\(raw)"
        }
    }
}

/// A domain state together with the reason for it, as returned by `virDomainGetState`
/// (and the `state.state`/`state.reason` bulk stats). The reason's type depends on the state.
public enum DomainStatus: Hashable, Sendable, CustomStringConvertible {
    case noState(NoStateReason)
    case running(RunningReason)
    case blocked(BlockedReason)
    case paused(PausedReason)
    case shutdown(ShutdownReason)
    case shutoff(ShutoffReason)
    case crashed(CrashedReason)
    case pmSuspended(PMSuspendedReason)
    /// A state this VirtKit doesn't know, with its raw reason.
    case unknown(state: Int32, reason: Int32)

    /// Decodes libvirt's (state, reason) pair.
    public init(state: Int32, reason: Int32) {
        switch DomainState(rawValue: state) {
        case .noState: self = .noState(.init(rawValue: reason))
        case .running: self = .running(.init(rawValue: reason))
        case .blocked: self = .blocked(.init(rawValue: reason))
        case .paused: self = .paused(.init(rawValue: reason))
        case .shutdown: self = .shutdown(.init(rawValue: reason))
        case .shutoff: self = .shutoff(.init(rawValue: reason))
        case .crashed: self = .crashed(.init(rawValue: reason))
        case .pmSuspended: self = .pmSuspended(.init(rawValue: reason))
        case .unknown: self = .unknown(state: state, reason: reason)
        }
    }

    /// The state without its reason.
    public var state: DomainState {
        switch self {
        case .noState: .noState
        case .running: .running
        case .blocked: .blocked
        case .paused: .paused
        case .shutdown: .shutdown
        case .shutoff: .shutoff
        case .crashed: .crashed
        case .pmSuspended: .pmSuspended
        case .unknown(let s, _): .unknown(s)
        }
    }

    /// The raw reason code.
    public var reasonRawValue: Int32 {
        switch self {
        case .noState(let r): r.rawValue
        case .running(let r): r.rawValue
        case .blocked(let r): r.rawValue
        case .paused(let r): r.rawValue
        case .shutdown(let r): r.rawValue
        case .shutoff(let r): r.rawValue
        case .crashed(let r): r.rawValue
        case .pmSuspended(let r): r.rawValue
        case .unknown(_, let r): r
        }
    }

    /// The reason's short name (`user`, `booted`, `destroyed`, …).
    public var reasonDescription: String {
        switch self {
        case .noState(let r): r.description
        case .running(let r): r.description
        case .blocked(let r): r.description
        case .paused(let r): r.description
        case .shutdown(let r): r.description
        case .shutoff(let r): r.description
        case .crashed(let r): r.description
        case .pmSuspended(let r): r.description
        case .unknown(_, let r): "reason \(r)"
        }
    }

    /// `running (booted)`, like `virsh domstate --reason`.
    public var description: String { "\(state) (\(reasonDescription))" }
}

/// The state of a domain's control interface (`virDomainControlInfo`, from `virDomainGetControlInfo`).
public struct DomainControlInfo: Hashable, Sendable {
    /// `virDomainControlState`: `.ok` (ready for commands), `.job` (a background job runs),
    /// `.occupied` (busy with a command), `.error` (unusable; the domain can only be destroyed).
    public enum State: CEnumMirror {
        case ok, job, occupied, error
        case unknown(Int32)
        public static let known: [(Self, String)] = [(.ok, "ok"), (.job, "job"), (.occupied, "occupied"), (.error, "error")]
        public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
        public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
    }

    /// `virDomainControlErrorReason` (only meaningful in state `.error`).
    public enum ErrorReason: CEnumMirror {
        case none, unspecified, monitor, `internal`
        case unknown(Int32)
        public static let known: [(Self, String)] = [(.none, "none"), (.unspecified, "unknown"), (.monitor, "monitor"), (.internal, "internal")]
        public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
        public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
    }

    public var state: State
    /// Why the state is `.error`; for other states libvirt reports `.none`.
    public var errorReason: ErrorReason
    /// How long the current state has lasted (zero for `.ok`).
    public var stateTime: Duration
}

/// An I/O error libvirt recorded for a disk (`virDomainDiskError`, from `virDomainGetDiskErrors`).
public struct DomainDiskError: Hashable, Sendable {
    /// `virDomainDiskErrorCode`: `.none`, `.unspecified` I/O error, `.noSpace` left on the device.
    public enum Code: CEnumMirror {
        case none, unspecified, noSpace
        case unknown(Int32)
        public static let known: [(Self, String)] = [(.none, "none"), (.unspecified, "unspecified"), (.noSpace, "no space")]
        public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
        public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
    }

    /// The disk (source path or target, as libvirt reports it).
    public var disk: String
    public var error: Code
}

/// Basic domain figures (`virDomainInfo`, from `virDomainGetInfo`).
public struct DomainInfo: Hashable, Sendable {
    public var state: DomainState
    /// Maximum memory the domain may use.
    public var maxMemory: MemorySize
    /// Memory the domain uses now.
    public var memory: MemorySize
    public var vcpus: Int
    /// CPU time used.
    public var cpuTime: Duration
}
