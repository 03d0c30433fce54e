import VirtCore
import Libvirt

/// Typed details of a `guest.paused.*` finding: why the guest is paused and, for I/O errors,
/// which disks failed how and what their storage looks like now.
public struct PauseDetail: Sendable, Hashable, Codable {
    /// libvirt's paused reason.
    public var reason: PausedReason
    /// The disks with an I/O error (empty for other reasons).
    public var disks: [PausedDisk]
    /// How long the guest has been paused, when a watcher saw it pause.
    public var pausedFor: Duration?

    public init(reason: PausedReason, disks: [PausedDisk] = [], pausedFor: Duration? = nil) {
        self.reason = reason
        self.disks = disks
        self.pausedFor = pausedFor
    }

    /// True when every failed disk's storage was checked and looks healthy again (free space
    /// on the file system, the network server answers): resuming is worth a try.
    public var storageLooksHealthy: Bool {
        !disks.isEmpty && disks.allSatisfy { $0.storage?.looksHealthy == true }
    }

    private enum CodingKeys: String, CodingKey { case reason, disks, pausedForSeconds }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(PausedGuestRules.slug(reason), forKey: .reason)
        try c.encode(disks, forKey: .disks)
        try c.encodeIfPresent(pausedFor?.inSeconds, forKey: .pausedForSeconds)
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let slug = try c.decode(String.self, forKey: .reason)
        reason = PausedGuestRules.reason(slug: slug)
        disks = try c.decode([PausedDisk].self, forKey: .disks)
        pausedFor = try c.decodeIfPresent(Double.self, forKey: .pausedForSeconds).map { .nanoseconds(Int64($0 * 1e9)) }
    }
}

/// One disk a paused guest failed on.
public struct PausedDisk: Sendable, Hashable, Codable {
    /// Target (`vda`) as in the domain XML; the alias or path when the target is unknown.
    public var target: String
    /// `EIO`, `ENOSPC`, or QEMU's reason upper-cased (`EPERM`, …); `EIO` for libvirt's
    /// unspecified disk error.
    public var errno: String
    /// The disk's source (file, device, `nbd://host:port/…`).
    public var source: String?
    public var storage: StorageHealth?

    public init(target: String, errno: String, source: String? = nil, storage: StorageHealth? = nil) {
        self.target = target
        self.errno = errno
        self.source = source
        self.storage = storage
    }

    public var isNoSpace: Bool { errno == "ENOSPC" }
}

extension StorageHealth: Codable {
    private enum CodingKeys: String, CodingKey { case kind, path, availableBytes, sizeBytes, address, answers, detail }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .fileSystem(let path, let available, let size):
            try c.encode("file-system", forKey: .kind)
            try c.encode(path, forKey: .path)
            try c.encode(available.bytes, forKey: .availableBytes)
            try c.encode(size.bytes, forKey: .sizeBytes)
        case .server(let address, let answers, let detail):
            try c.encode("server", forKey: .kind)
            try c.encode(address, forKey: .address)
            try c.encode(answers, forKey: .answers)
            try c.encodeIfPresent(detail, forKey: .detail)
        case .unknown(let why):
            try c.encode("unknown", forKey: .kind)
            try c.encode(why, forKey: .detail)
        }
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .kind) {
        case "file-system":
            self = .fileSystem(path: try c.decode(String.self, forKey: .path), available: MemorySize(bytes: try c.decode(UInt64.self, forKey: .availableBytes)),
                               size: MemorySize(bytes: try c.decode(UInt64.self, forKey: .sizeBytes)))
        case "server":
            self = .server(address: try c.decode(String.self, forKey: .address), answers: try c.decode(Bool.self, forKey: .answers),
                           detail: try c.decodeIfPresent(String.self, forKey: .detail))
        default: self = .unknown(try c.decodeIfPresent(String.self, forKey: .detail) ?? "")
        }
    }

    /// Free space left (at least 1 MiB or 1 %), or the server answers.
    public var looksHealthy: Bool {
        switch self {
        case .fileSystem(_, let available, let size): available.bytes >= max(1 << 20, size.bytes / 100)
        case .server(_, let answers, _): answers
        case .unknown: false
        }
    }

    var evidence: Evidence {
        switch self {
        case .fileSystem(let path, let available, let size):
            Evidence("free space of \(path)", .memory(available), from: .system("statvfs(\(path)) of \(size.humanReadable)"))
        case .server(let address, let answers, let detail):
            Evidence("server \(address) answers", .flag(answers), from: .system("TCP connect \(address)" + (detail.map { ": \($0)" } ?? "")))
        case .unknown(let why):
            Evidence("storage", .text("not checked: \(why)"), from: .derived("gatherer"))
        }
    }
}

/// The `guest.paused.*` rule: one finding per paused guest, named after libvirt's reason.
public enum PausedGuestRules {
    /// Findings for every paused guest of `input`.
    public static func findings(_ input: DiagnosisInput) -> [Finding] {
        input.guests.compactMap { finding(for: $0) }
    }

    /// The finding for one guest; nil unless it is paused.
    public static func finding(for guest: GuestFacts, now: ContinuousClock.Instant = .now) -> Finding? {
        guard case .paused(let reason) = guest.status else { return nil }
        let facts = guest.pause ?? PausedGuestFacts()
        let pausedFor = facts.pausedSince.map { now - $0 }
        var evidence = [Evidence("state", .text("paused (\(reason))"), from: .libvirt("virDomainGetState"))]
        if let pausedFor { evidence.append(Evidence("paused for", .duration(pausedFor), from: .libvirt("lifecycle event suspended"))) }
        let id = Finding.ID(rawValue: "guest.paused." + slug(reason))
        let g = guest.reference
        let resume = Remedy(.libvirt(.resume), applies: .live, "resume the guest")
        let destroy = Remedy(.libvirt(.destroy), applies: .live, "or power it off (unsaved guest state is lost)")
        switch reason {
        case .ioError:
            let disks = pausedDisks(guest, facts)
            for d in disks {
                evidence.append(Evidence("\(d.target) error", .text(d.errno), from: facts.ioErrors.isEmpty ? .libvirt("virDomainGetDiskErrors") : .libvirt("VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON")))
                if let s = d.source { evidence.append(Evidence("\(d.target) source", .text(s), from: .domainXML("devices/disk[target=\(d.target)]/source"))) }
                if let st = d.storage { evidence.append(st.evidence) }
            }
            let noSpace = disks.contains(where: \.isNoSpace)
            let names = disks.isEmpty ? "an unknown disk" : disks.map { "\($0.target) (\($0.errno))" }.joined(separator: ", ")
            var remedies: [Remedy] = []
            if noSpace {
                remedies.append(Remedy(.manual("Free space on, or extend, the storage holding " + disks.filter(\.isNoSpace).map { $0.source ?? $0.target }.joined(separator: ", ") + "."), applies: .manual, "make room on the full storage"))
            }
            if disks.contains(where: { !$0.isNoSpace }) || disks.isEmpty {
                remedies.append(Remedy(.manual("Repair the storage behind " + (disks.isEmpty ? "the guest's disks" : disks.filter { !$0.isNoSpace }.map { $0.source ?? $0.target }.joined(separator: ", ")) + " (server reachable, device healthy, path present)."), applies: .manual, "repair the failing storage"))
            }
            remedies += [resume, destroy]
            return Finding(
                id: id, severity: .critical, subject: disks.count == 1 ? .device(g, target: disks[0].target) : .guest(g),
                title: "\(g.name) is paused on an I/O error of \(names)",
                explanation: "QEMU stopped the guest because a disk request failed and the disk's error policy is stop (QEMU's default for ENOSPC). The guest is frozen, not crashed: once the storage works again a resume retries the failed request and the guest continues. " + (noSpace ? "ENOSPC: the backing storage is full. " : "EIO: the storage returned an error or could not be reached. ") + "Resuming before the storage is repaired just pauses it again.",
                evidence: evidence, remedies: remedies,
                source: RuleSource(RuleReference.pausedIOError, threshold: "any I/O-error pause"),
                pause: PauseDetail(reason: reason, disks: disks, pausedFor: pausedFor))
        default:
            let (severity, explanation, remedies) = advice(for: reason, resume: resume, destroy: destroy)
            return Finding(
                id: id, severity: severity, subject: .guest(g),
                title: "\(g.name) is paused (\(reason))",
                explanation: explanation, evidence: evidence, remedies: remedies,
                source: RuleSource(RuleReference.pausedGeneral),
                pause: PauseDetail(reason: reason, pausedFor: pausedFor))
        }
    }

    /// The failed disks: libvirt's disk errors and the watcher's I/O-error events, joined to
    /// the definition by target, alias or source.
    static func pausedDisks(_ guest: GuestFacts, _ facts: PausedGuestFacts) -> [PausedDisk] {
        let disks = guest.definition.disks
        func find(_ key: String) -> GuestDiskFacts? {
            disks.first { $0.target == key || $0.alias == key || $0.sourcePath == key || $0.sourceDescription == key }
        }
        var out: [PausedDisk] = []
        func add(_ key: String, _ errno: String) {
            let d = find(key)
            let target = d?.target ?? key
            if let i = out.firstIndex(where: { $0.target == target }) {
                // An event's QEMU reason (eio, enospc, eperm) is more specific than libvirt's code.
                if out[i].errno == "EIO" { out[i].errno = errno }
                return
            }
            out.append(PausedDisk(target: target, errno: errno, source: d?.sourceDescription, storage: facts.storage[target]))
        }
        for e in facts.diskErrors {
            switch e.error {
            case .none: continue
            case .noSpace: add(e.disk, "ENOSPC")
            case .unspecified: add(e.disk, "EIO")
            case .unknown(let raw): add(e.disk, "disk error \(raw)")
            }
        }
        for ev in facts.ioErrors {
            let key = ev.alias.isEmpty ? ev.sourcePath : ev.alias
            add(find(key) == nil && !ev.sourcePath.isEmpty ? ev.sourcePath : key, ev.reason.isEmpty ? "EIO" : ev.reason.uppercased())
        }
        return out
    }

    static func advice(for reason: PausedReason, resume: Remedy, destroy: Remedy) -> (Finding.Severity, String, [Remedy]) {
        switch reason {
        case .watchdog:
            return (.critical, "The guest's watchdog expired and its action is pause: the guest OS stopped feeding it (hung or overloaded). It stays frozen until someone acts.",
                    [Remedy(.manual("Look at the console and logs (virsh dump --memory-only for a post-mortem)."), applies: .manual, "find out why the guest hung"),
                     resume, destroy,
                     Remedy(.domainXML(.set("devices/watchdog", attribute: "action", to: "reset")), applies: .guestRestart, "let future expiries reset the guest instead")])
        case .postcopyFailed:
            return (.critical, "A post-copy migration failed part-way: memory is split between source and destination, so neither side can run the guest alone.",
                    [Remedy(.manual("Recover the migration: virsh migrate --postcopy --postcopy-resume (libvirt ≥ 8.5) once the network works; otherwise the guest is lost."), applies: .manual, "resume the post-copy migration"), destroy])
        case .crashed:
            return (.critical, "The guest crashed (panic device) and libvirt left it paused for inspection.",
                    [Remedy(.manual("Collect a dump (virsh dump), then restart it."), applies: .manual, "inspect, then restart"), destroy])
        case .migration, .postcopy:
            return (.info, "The guest is paused by a migration in progress; this normally lasts only the final switch-over.",
                    [Remedy(.manual("Check the job with virsh domjobinfo; abort it with virsh domjobabort if it is stuck."), applies: .manual, "check the migration job")])
        case .user:
            return (.info, "Someone paused the guest (virsh suspend or an API call). It uses memory but no CPU until resumed.", [resume])
        case .save, .dump, .snapshot, .fromSnapshot, .startingUp, .shuttingDown:
            return (.info, "The guest is paused while libvirt \(reason); this ends by itself when that job finishes.",
                    [Remedy(.manual("If it lasts, check virsh domjobinfo."), applies: .manual, "wait for the job")])
        case .apiError:
            return (.warning, "libvirt paused the guest after an API call failed half-way.", [resume, destroy])
        case .unspecified, .ioError, .unknown:
            return (.warning, "The guest is paused for a reason libvirt does not report.", [resume, destroy])
        }
    }

    /// The id suffix for a reason (`io-error`, `postcopy-failed`, …).
    public static func slug(_ reason: PausedReason) -> String {
        switch reason {
        case .ioError: "io-error"
        case .watchdog: "watchdog"
        case .migration: "migration"
        case .postcopy: "postcopy"
        case .postcopyFailed: "postcopy-failed"
        case .user: "user"
        case .save: "save"
        case .dump: "dump"
        case .snapshot: "snapshot"
        case .fromSnapshot: "from-snapshot"
        case .shuttingDown: "shutting-down"
        case .crashed: "crashed"
        case .startingUp: "starting-up"
        case .apiError: "api-error"
        case .unspecified, .unknown: "unknown"
        }
    }

    static func reason(slug: String) -> PausedReason {
        for raw in Int32(0)...14 where Self.slug(PausedReason(rawValue: raw)) == slug { return PausedReason(rawValue: raw) }
        return .unspecified
    }
}
