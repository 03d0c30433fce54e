import VirtCore

/// One diagnosed problem: what is wrong, with which object, the measured evidence, how to fix
/// it and which published rule says so.
///
/// Findings are values (`Sendable`, `Codable` with stable keys) produced by pure rules over a
/// ``DiagnosisInput``; `virtkit advise` / `virtkit doctor` print them.
public struct Finding: Sendable, Hashable, Codable, Identifiable {
    /// Stable identifier such as `host.swappiness` or `guest.paused.io-error`. Several
    /// findings may share an id (one per guest, disk or vCPU); `id` + `subject` is unique.
    public var id: ID
    public var severity: Severity
    public var subject: Subject
    /// One-line summary naming the subject and the measured value.
    public var title: String
    /// One paragraph: why this matters and what the evidence shows.
    public var explanation: String
    public var evidence: [Evidence]
    public var remedies: [Remedy]
    public var source: RuleSource
    /// Typed details of a paused guest (the `guest.paused.*` findings); nil otherwise.
    public var pause: PauseDetail?

    public init(id: ID, severity: Severity, subject: Subject, title: String, explanation: String,
                evidence: [Evidence], remedies: [Remedy], source: RuleSource, pause: PauseDetail? = nil) {
        self.id = id
        self.severity = severity
        self.subject = subject
        self.title = title
        self.explanation = explanation
        self.evidence = evidence
        self.remedies = remedies
        self.source = source
        self.pause = pause
    }

    /// A finding id: a dotted lower-case name, stable across releases.
    public struct ID: RawRepresentable, Sendable, Hashable, Codable, Comparable, ExpressibleByStringLiteral,
        CustomStringConvertible
    {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { rawValue = value }
        public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(rawValue)
        }
        public var description: String { rawValue }
        public static func < (a: ID, b: ID) -> Bool { a.rawValue < b.rawValue }
        /// True for the `guest.paused.*` family.
        public var isPausedGuest: Bool { rawValue.hasPrefix("guest.paused.") }
    }

    /// How urgent a finding is. Ordered: `info < warning < critical`.
    public enum Severity: String, Sendable, Hashable, Codable, Comparable, CaseIterable {
        /// Worth knowing; performance left on the table.
        case info
        /// Hurts performance or reliability now.
        case warning
        /// A guest cannot run, is stopped, or the host cannot do its job.
        case critical

        private var rank: Int {
            switch self {
            case .info: 0
            case .warning: 1
            case .critical: 2
            }
        }
        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    }

    /// What a finding is about.
    public enum Subject: Sendable, Hashable, Codable, CustomStringConvertible {
        /// The host (its name when known).
        case host(name: String?)
        case guest(GuestReference)
        /// One of a guest's devices, by target (`vda`, `vnet0`) or alias.
        case device(GuestReference, target: String)
        /// One vCPU of a guest.
        case vcpu(GuestReference, index: Int)

        public var guest: GuestReference? {
            switch self {
            case .host: nil
            case .guest(let g), .device(let g, _), .vcpu(let g, _): g
            }
        }

        public var description: String {
            switch self {
            case .host(let name): "host" + (name.map { " \($0)" } ?? "")
            case .guest(let g): "guest \(g.name)"
            case .device(let g, let t): "guest \(g.name) disk/device \(t)"
            case .vcpu(let g, let i): "guest \(g.name) vCPU \(i)"
            }
        }

        private enum CodingKeys: String, CodingKey { case kind, name, uuid, target, vcpu }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .host(let name):
                try c.encode("host", forKey: .kind)
                try c.encodeIfPresent(name, forKey: .name)
            case .guest(let g):
                try c.encode("guest", forKey: .kind)
                try c.encode(g.name, forKey: .name)
                try c.encode(g.uuid, forKey: .uuid)
            case .device(let g, let t):
                try c.encode("device", forKey: .kind)
                try c.encode(g.name, forKey: .name)
                try c.encode(g.uuid, forKey: .uuid)
                try c.encode(t, forKey: .target)
            case .vcpu(let g, let i):
                try c.encode("vcpu", forKey: .kind)
                try c.encode(g.name, forKey: .name)
                try c.encode(g.uuid, forKey: .uuid)
                try c.encode(i, forKey: .vcpu)
            }
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let kind = try c.decode(String.self, forKey: .kind)
            if kind == "host" {
                self = .host(name: try c.decodeIfPresent(String.self, forKey: .name))
                return
            }
            let g = GuestReference(uuid: try c.decode(LibvirtUUID.self, forKey: .uuid), name: try c.decode(String.self, forKey: .name))
            switch kind {
            case "device": self = .device(g, target: try c.decode(String.self, forKey: .target))
            case "vcpu": self = .vcpu(g, index: try c.decode(Int.self, forKey: .vcpu))
            default: self = .guest(g)
            }
        }
    }
}

/// A guest as findings name it: libvirt UUID (the stable key) and name (for people).
public struct GuestReference: Sendable, Hashable, Codable, CustomStringConvertible {
    public var uuid: LibvirtUUID
    public var name: String
    public init(uuid: LibvirtUUID, name: String) {
        self.uuid = uuid
        self.name = name
    }
    public var description: String { "\(name) (\(uuid))" }
}

/// One measured or configured value behind a finding.
public struct Evidence: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What was measured (`vm.swappiness`, `vCPU 0 run-queue delay`).
    public var name: String
    public var value: Value
    /// Where it was read.
    public var source: Origin
    /// For rates: the sampling window they were computed over.
    public var window: Duration?

    public init(_ name: String, _ value: Value, from source: Origin, window: Duration? = nil) {
        self.name = name
        self.value = value
        self.source = source
        self.window = window
    }

    /// A value with its unit.
    public enum Value: Sendable, Hashable, CustomStringConvertible {
        case count(Int)
        /// A plain number with a unit spelled out (`vCPUs/core`, `pages/s`, `IOPS`, `switches/s`).
        case number(Double, unit: String)
        /// A percentage, 0…100 (or more for multi-CPU figures).
        case percent(Double)
        case memory(MemorySize)
        case duration(Duration)
        case cpus(CPUSet)
        case nodes(NodeSet)
        case flag(Bool)
        /// Text as read (a sysfs choice, an XML attribute, an errno name).
        case text(String)

        public var description: String {
            switch self {
            case .count(let n): "\(n)"
            case .number(let v, let unit): "\(formatNumber(v)) \(unit)"
            case .percent(let p): "\(formatNumber(p)) %"
            case .memory(let m): m.humanReadable
            case .duration(let d): d.humanReadable
            case .cpus(let s): s.isEmpty ? "(none)" : "CPUs \(s)"
            case .nodes(let s): s.isEmpty ? "(none)" : "nodes \(s)"
            case .flag(let b): b ? "yes" : "no"
            case .text(let t): t
            }
        }

        /// The unit name written to JSON.
        public var unit: String {
            switch self {
            case .count: "count"
            case .number(_, let unit): unit
            case .percent: "percent"
            case .memory: "bytes"
            case .duration: "seconds"
            case .cpus: "cpuset"
            case .nodes: "nodeset"
            case .flag: "boolean"
            case .text: "text"
            }
        }
    }

    /// Where a value was read.
    public struct Origin: Sendable, Hashable, Codable, CustomStringConvertible {
        public enum Kind: String, Sendable, Hashable, Codable {
            /// A file under `/sys` (path relative to the probe root).
            case sysfs
            /// A file under `/proc`.
            case procfs
            /// A libvirt API call (`virConnectGetAllDomainStats`, `virDomainGetDiskErrors`, …).
            case libvirt
            /// A cgroup file.
            case cgroup
            /// The guest's domain XML (an element/attribute path).
            case domainXML
            /// A device node or a system call (`/dev/kvm` `KVM_CREATE_VM`, `statvfs`, TCP connect).
            case system
            /// Computed from other evidence.
            case derived
        }
        public var kind: Kind
        public var location: String
        public init(_ kind: Kind, _ location: String) {
            self.kind = kind
            self.location = location
        }
        public var description: String { "\(kind.rawValue): \(location)" }

        public static func sysfs(_ path: String) -> Origin { Origin(.sysfs, path) }
        public static func procfs(_ path: String) -> Origin { Origin(.procfs, path) }
        public static func libvirt(_ call: String) -> Origin { Origin(.libvirt, call) }
        public static func cgroup(_ path: String) -> Origin { Origin(.cgroup, path) }
        public static func domainXML(_ path: String) -> Origin { Origin(.domainXML, path) }
        public static func system(_ what: String) -> Origin { Origin(.system, what) }
        public static func derived(_ how: String) -> Origin { Origin(.derived, how) }
    }

    public var description: String {
        var s = "\(name) = \(value)  [\(source)]"
        if let window { s += " over \(window.humanReadable)" }
        return s
    }

    private enum CodingKeys: String, CodingKey { case name, value, unit, display, source, windowSeconds }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(value.unit, forKey: .unit)
        try c.encode(value.description, forKey: .display)
        switch value {
        case .count(let n): try c.encode(n, forKey: .value)
        case .number(let v, _), .percent(let v): try c.encode(v, forKey: .value)
        case .memory(let m): try c.encode(m.bytes, forKey: .value)
        case .duration(let d): try c.encode(d.inSeconds, forKey: .value)
        case .cpus(let s): try c.encode(s.description, forKey: .value)
        case .nodes(let s): try c.encode(s.description, forKey: .value)
        case .flag(let b): try c.encode(b, forKey: .value)
        case .text(let t): try c.encode(t, forKey: .value)
        }
        try c.encode(source, forKey: .source)
        try c.encodeIfPresent(window?.inSeconds, forKey: .windowSeconds)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        source = try c.decode(Origin.self, forKey: .source)
        window = try c.decodeIfPresent(Double.self, forKey: .windowSeconds).map { .nanoseconds(Int64($0 * 1e9)) }
        let unit = try c.decode(String.self, forKey: .unit)
        switch unit {
        case "count": value = .count(try c.decode(Int.self, forKey: .value))
        case "percent": value = .percent(try c.decode(Double.self, forKey: .value))
        case "bytes": value = .memory(MemorySize(bytes: try c.decode(UInt64.self, forKey: .value)))
        case "seconds": value = .duration(.nanoseconds(Int64(try c.decode(Double.self, forKey: .value) * 1e9)))
        case "cpuset": value = .cpus(try CPUSet(parsing: try c.decode(String.self, forKey: .value)))
        case "nodeset": value = .nodes(try NodeSet(parsing: try c.decode(String.self, forKey: .value)))
        case "boolean": value = .flag(try c.decode(Bool.self, forKey: .value))
        case "text": value = .text(try c.decode(String.self, forKey: .value))
        default: value = .number(try c.decode(Double.self, forKey: .value), unit: unit)
        }
    }
}

/// The published rule a finding applies, and the threshold it crossed.
public struct RuleSource: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The document: a tuned profile, RHEL/libvirt guide section, kernel document, QEMU source.
    public var reference: String
    /// The threshold that was crossed (`host.overcommit.vcpu.warning > 3 vCPUs/core`); nil
    /// for configuration rules without a number.
    public var threshold: String?
    public init(_ reference: String, threshold: String? = nil) {
        self.reference = reference
        self.threshold = threshold
    }
    public var description: String { threshold.map { "\(reference) (threshold: \($0))" } ?? reference }
}

// MARK: - Formatting shared by evidence and titles

/// A number for people: integers as integers, others rounded to two decimals (one from 100 up).
func formatNumber(_ v: Double) -> String {
    if v.rounded() == v, abs(v) < 1e15 { return String(Int64(v)) }
    let scale = abs(v) >= 100 ? 10.0 : 100.0
    return String((v * scale).rounded() / scale)
}

/// `1 guest`, `3 guests`.
func plural(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
