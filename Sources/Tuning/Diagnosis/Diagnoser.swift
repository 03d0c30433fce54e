/// A diagnosis rule: a pure function from the input and the thresholds to findings.
public struct DiagnosisRule: Sendable {
    /// The finding ids it can produce.
    public var ids: [Finding.ID]
    public var evaluate: @Sendable (DiagnosisInput, DiagnosisThresholds) -> [Finding]

    public init(ids: [Finding.ID], _ evaluate: @escaping @Sendable (DiagnosisInput, DiagnosisThresholds) -> [Finding]) {
        self.ids = ids
        self.evaluate = evaluate
    }

    /// Host configuration rules.
    public static var hostRules: [DiagnosisRule] { HostRules.rules }
    /// Guest configuration rules.
    public static var guestRules: [DiagnosisRule] { GuestRules.rules }
    /// Rules over the sampling window (console lag, performance loss).
    public static var windowRules: [DiagnosisRule] { WindowRules.rules }
    /// The paused-guest rule (`guest.paused.*`).
    public static var pausedRules: [DiagnosisRule] { [DiagnosisRule(ids: Finding.ID.pausedIDs) { input, _ in PausedGuestRules.findings(input) }] }
    /// Every built-in rule.
    public static var all: [DiagnosisRule] { hostRules + guestRules + windowRules + pausedRules }
}

/// Runs rules over an input.
public struct Diagnoser: Sendable {
    public var thresholds: DiagnosisThresholds
    public var rules: [DiagnosisRule]

    public init(thresholds: DiagnosisThresholds = DiagnosisThresholds(), rules: [DiagnosisRule] = DiagnosisRule.all) {
        self.thresholds = thresholds
        self.rules = rules
    }

    /// Every finding about the host and its guests, most severe first.
    public func diagnose(_ input: DiagnosisInput) -> DiagnosisReport {
        DiagnosisReport(findings: rules.flatMap { $0.evaluate(input, thresholds) })
    }

    /// The findings about one guest (its devices and vCPUs included) plus the host findings
    /// that affect every guest.
    public func diagnose(guest: GuestReference, in input: DiagnosisInput) -> DiagnosisReport {
        let all = diagnose(input).findings
        return DiagnosisReport(findings: all.filter { f in
            guard let g = f.subject.guest else { return true }
            return g.uuid == guest.uuid
        })
    }
}

/// Findings, most severe first (then by id and subject), with stable JSON keys.
public struct DiagnosisReport: Sendable, Hashable, Codable {
    public var findings: [Finding]

    public init(findings: [Finding]) {
        self.findings = findings.sorted { a, b in
            if a.severity != b.severity { return a.severity > b.severity }
            if a.id != b.id { return a.id < b.id }
            return a.subject.description < b.subject.description
        }
    }

    public var highestSeverity: Finding.Severity? { findings.first?.severity }
    public var hasCritical: Bool { highestSeverity == .critical }
    public func findings(_ id: Finding.ID) -> [Finding] { findings.filter { $0.id == id } }
}

extension Finding.ID {
    public static let hostOvercommitVCPU: Self = "host.overcommit.vcpu"
    public static let hostMemorySwapping: Self = "host.memory.swapping"
    public static let hostSwappiness: Self = "host.swappiness"
    public static let hostTHPDisabled: Self = "host.thp.disabled"
    public static let hostKSMMergeAcrossNodes: Self = "host.ksm.merge-across-nodes"
    public static let hostHugepagesUnavailable: Self = "host.hugepages.unavailable"
    public static let hostHugepagesUnused: Self = "host.hugepages.unused"
    public static let hostNUMABalancingPinnedGuests: Self = "host.numa-balancing.pinned-guests"
    public static let hostBlockScheduler: Self = "host.block.scheduler"
    public static let hostVhostNetMissing: Self = "host.vhost-net.missing"
    public static let hostKVMUnusable: Self = "host.kvm.unusable"
    public static let hostIOMMUOff: Self = "host.iommu.off"
    public static let hostIOWait: Self = "host.iowait"
    public static let hostContextSwitches: Self = "host.context-switches"
    public static let hostPSICPU: Self = "host.psi.cpu"
    public static let hostTCPRetransmits: Self = "host.tcp.retransmits"

    public static let guestNUMASpread: Self = "guest.numa.spread"
    public static let guestNUMARemoteMemory: Self = "guest.numa.remote-memory"
    public static let guestEmulatorOnVCPUCPUs: Self = "guest.emulator.on-vcpu-cpus"
    public static let guestPinningOverlap: Self = "guest.pinning.overlap"
    public static let guestDiskCache: Self = "guest.disk.cache"
    public static let guestDiskIOThreads: Self = "guest.disk.iothreads"
    public static let guestNetQueues: Self = "guest.net.queues"
    public static let guestConsoleVideoModel: Self = "guest.console.video-model"
    public static let guestMemoryBalloonHugepages: Self = "guest.memory.balloon-hugepages"
    public static let guestMemoryNoHugepages: Self = "guest.memory.no-hugepages"
    public static let guestAgentMissing: Self = "guest.agent.missing"
    public static let guestWatchdogAction: Self = "guest.watchdog.action"
    public static let guestMemoryLockedUnbounded: Self = "guest.memory.locked-unbounded"
    public static let guestVCPUContention: Self = "guest.vcpu.contention"
    public static let guestCPUThrottled: Self = "guest.cpu.throttled"

    public static let guestPausedIOError: Self = "guest.paused.io-error"
    public static let guestPausedWatchdog: Self = "guest.paused.watchdog"
    public static let guestPausedMigration: Self = "guest.paused.migration"
    public static let guestPausedPostcopy: Self = "guest.paused.postcopy"
    public static let guestPausedPostcopyFailed: Self = "guest.paused.postcopy-failed"
    public static let guestPausedUser: Self = "guest.paused.user"
    public static let guestPausedSave: Self = "guest.paused.save"
    public static let guestPausedDump: Self = "guest.paused.dump"
    public static let guestPausedSnapshot: Self = "guest.paused.snapshot"
    public static let guestPausedFromSnapshot: Self = "guest.paused.from-snapshot"
    public static let guestPausedShuttingDown: Self = "guest.paused.shutting-down"
    public static let guestPausedCrashed: Self = "guest.paused.crashed"
    public static let guestPausedStartingUp: Self = "guest.paused.starting-up"
    public static let guestPausedAPIError: Self = "guest.paused.api-error"
    public static let guestPausedUnknown: Self = "guest.paused.unknown"

    /// Every `guest.paused.*` id.
    public static let pausedIDs: [Self] = [
        .guestPausedIOError, .guestPausedWatchdog, .guestPausedMigration, .guestPausedPostcopy, .guestPausedPostcopyFailed,
        .guestPausedUser, .guestPausedSave, .guestPausedDump, .guestPausedSnapshot, .guestPausedFromSnapshot,
        .guestPausedShuttingDown, .guestPausedCrashed, .guestPausedStartingUp, .guestPausedAPIError, .guestPausedUnknown,
    ]
}
