import VirtCore

/// One way to fix a finding, as a typed change, with when it takes effect.
public struct Remedy: Sendable, Hashable, Codable, CustomStringConvertible {
    public var action: Action
    public var applies: Applicability
    /// What the change does, for people.
    public var summary: String

    public init(_ action: Action, applies: Applicability, _ summary: String) {
        self.action = action
        self.applies = applies
        self.summary = summary
    }

    /// When a change takes effect.
    public enum Applicability: String, Sendable, Hashable, Codable {
        /// On the running host and guests, now.
        case live
        /// At the guest's next start (shut down, start; a reboot from inside is not enough).
        case guestRestart = "guest-restart"
        /// At the host's next boot.
        case hostReboot = "host-reboot"
        /// A person has to do something (hardware, firmware, storage, inside the guest).
        case manual
    }

    /// The change itself.
    public enum Action: Sendable, Hashable {
        /// `sysctl -w name=value` (persist in `/etc/sysctl.d`).
        case sysctl(name: String, value: String)
        /// A write to a sysfs file (`/sys/kernel/mm/transparent_hugepage/enabled`).
        case sysfs(path: String, value: String)
        /// An edit of the guest's domain XML.
        case domainXML(DomainXMLEdit)
        /// A libvirt call on the running guest.
        case libvirt(LibvirtCall)
        /// A write to a cgroup file of the guest.
        case cgroup(path: String, file: String, value: String)
        /// Kernel command-line parameters to add (and remove) at the next boot.
        case kernelCommandLine(add: [String], remove: [String])
        /// Steps a person follows.
        case manual(String)
    }

    public var description: String { "[\(applies.rawValue)] \(summary) — \(action)" }

    private enum CodingKeys: String, CodingKey { case kind, applies, summary, name, value, path, file, edit, call, add, remove, steps }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(applies, forKey: .applies)
        try c.encode(summary, forKey: .summary)
        switch action {
        case .sysctl(let name, let value):
            try c.encode("sysctl", forKey: .kind)
            try c.encode(name, forKey: .name)
            try c.encode(value, forKey: .value)
        case .sysfs(let path, let value):
            try c.encode("sysfs", forKey: .kind)
            try c.encode(path, forKey: .path)
            try c.encode(value, forKey: .value)
        case .domainXML(let edit):
            try c.encode("domain-xml", forKey: .kind)
            try c.encode(edit, forKey: .edit)
        case .libvirt(let call):
            try c.encode("libvirt", forKey: .kind)
            try c.encode(call, forKey: .call)
        case .cgroup(let path, let file, let value):
            try c.encode("cgroup", forKey: .kind)
            try c.encode(path, forKey: .path)
            try c.encode(file, forKey: .file)
            try c.encode(value, forKey: .value)
        case .kernelCommandLine(let add, let remove):
            try c.encode("kernel-cmdline", forKey: .kind)
            try c.encode(add, forKey: .add)
            try c.encode(remove, forKey: .remove)
        case .manual(let steps):
            try c.encode("manual", forKey: .kind)
            try c.encode(steps, forKey: .steps)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        applies = try c.decode(Applicability.self, forKey: .applies)
        summary = try c.decode(String.self, forKey: .summary)
        switch try c.decode(String.self, forKey: .kind) {
        case "sysctl": action = .sysctl(name: try c.decode(String.self, forKey: .name), value: try c.decode(String.self, forKey: .value))
        case "sysfs": action = .sysfs(path: try c.decode(String.self, forKey: .path), value: try c.decode(String.self, forKey: .value))
        case "domain-xml": action = .domainXML(try c.decode(DomainXMLEdit.self, forKey: .edit))
        case "libvirt": action = .libvirt(try c.decode(LibvirtCall.self, forKey: .call))
        case "cgroup":
            action = .cgroup(path: try c.decode(String.self, forKey: .path), file: try c.decode(String.self, forKey: .file),
                             value: try c.decode(String.self, forKey: .value))
        case "kernel-cmdline":
            action = .kernelCommandLine(add: try c.decode([String].self, forKey: .add), remove: try c.decode([String].self, forKey: .remove))
        default: action = .manual(try c.decode(String.self, forKey: .steps))
        }
    }
}

/// A change to a guest's domain XML: set (or remove, `value == nil`) an attribute or an
/// element's text, or add an element, at a path of the form libvirt's docs use
/// (`devices/disk[target=vda]/driver`).
public struct DomainXMLEdit: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Operation: String, Sendable, Hashable, Codable {
        /// Set `attribute` (or the text when `attribute` is nil) to `value`; nil removes it.
        case set
        /// Add the element written in `value` under `path`.
        case add
        /// Remove the element at `path`.
        case remove
    }
    public var operation: Operation
    public var path: String
    public var attribute: String?
    public var value: String?

    public init(_ operation: Operation, _ path: String, attribute: String? = nil, value: String? = nil) {
        self.operation = operation
        self.path = path
        self.attribute = attribute
        self.value = value
    }

    public static func set(_ path: String, attribute: String? = nil, to value: String?) -> DomainXMLEdit {
        DomainXMLEdit(.set, path, attribute: attribute, value: value)
    }
    public static func add(_ path: String, _ element: String) -> DomainXMLEdit { DomainXMLEdit(.add, path, value: element) }
    public static func remove(_ path: String) -> DomainXMLEdit { DomainXMLEdit(.remove, path) }

    public var description: String {
        switch operation {
        case .set: "set \(path)\(attribute.map { "/@\($0)" } ?? "") = \(value ?? "(removed)")"
        case .add: "add \(value ?? "") under \(path)"
        case .remove: "remove \(path)"
        }
    }
}

/// A libvirt call on a running guest.
public enum LibvirtCall: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `virDomainResume`.
    case resume
    /// `virDomainDestroy`.
    case destroy
    /// `virDomainPinVcpuFlags(vcpu, cpus, LIVE|CONFIG)`.
    case pinVCPU(vcpu: Int, cpus: CPUSet)
    /// `virDomainPinEmulator(cpus, LIVE|CONFIG)`.
    case pinEmulator(cpus: CPUSet)
    /// `virDomainSetSchedulerParameters`: a named parameter (`vcpu_quota`, `global_quota`, …).
    case setSchedulerParameter(name: String, value: String)
    /// `virDomainSetNumaParameters(numa_mode, numa_nodeset)`.
    case setNUMAMemory(mode: String, nodes: NodeSet)
    /// `virDomainSetMemoryParameters` (`hard_limit`, …).
    case setMemoryParameter(name: String, value: MemorySize)

    /// The C function it maps to.
    public var function: String {
        switch self {
        case .resume: "virDomainResume"
        case .destroy: "virDomainDestroy"
        case .pinVCPU: "virDomainPinVcpuFlags"
        case .pinEmulator: "virDomainPinEmulator"
        case .setSchedulerParameter: "virDomainSetSchedulerParameters"
        case .setNUMAMemory: "virDomainSetNumaParameters"
        case .setMemoryParameter: "virDomainSetMemoryParameters"
        }
    }

    public var description: String {
        switch self {
        case .resume, .destroy: function
        case .pinVCPU(let v, let cpus): "\(function)(vcpu \(v) → \(cpus))"
        case .pinEmulator(let cpus): "\(function)(\(cpus))"
        case .setSchedulerParameter(let n, let v): "\(function)(\(n)=\(v))"
        case .setNUMAMemory(let m, let n): "\(function)(numa_mode=\(m), numa_nodeset=\(n))"
        case .setMemoryParameter(let n, let v): "\(function)(\(n)=\(v))"
        }
    }

    private enum CodingKeys: String, CodingKey { case function, vcpu, cpus, name, value, mode, nodes, bytes }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(function, forKey: .function)
        switch self {
        case .resume, .destroy: break
        case .pinVCPU(let v, let cpus):
            try c.encode(v, forKey: .vcpu)
            try c.encode(cpus.description, forKey: .cpus)
        case .pinEmulator(let cpus): try c.encode(cpus.description, forKey: .cpus)
        case .setSchedulerParameter(let n, let v):
            try c.encode(n, forKey: .name)
            try c.encode(v, forKey: .value)
        case .setNUMAMemory(let m, let n):
            try c.encode(m, forKey: .mode)
            try c.encode(n.description, forKey: .nodes)
        case .setMemoryParameter(let n, let v):
            try c.encode(n, forKey: .name)
            try c.encode(v.bytes, forKey: .bytes)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .function) {
        case "virDomainResume": self = .resume
        case "virDomainDestroy": self = .destroy
        case "virDomainPinVcpuFlags":
            self = .pinVCPU(vcpu: try c.decode(Int.self, forKey: .vcpu), cpus: try CPUSet(parsing: try c.decode(String.self, forKey: .cpus)))
        case "virDomainPinEmulator": self = .pinEmulator(cpus: try CPUSet(parsing: try c.decode(String.self, forKey: .cpus)))
        case "virDomainSetNumaParameters":
            self = .setNUMAMemory(mode: try c.decode(String.self, forKey: .mode), nodes: try NodeSet(parsing: try c.decode(String.self, forKey: .nodes)))
        case "virDomainSetMemoryParameters":
            self = .setMemoryParameter(name: try c.decode(String.self, forKey: .name), value: MemorySize(bytes: try c.decode(UInt64.self, forKey: .bytes)))
        default:
            self = .setSchedulerParameter(name: try c.decode(String.self, forKey: .name), value: try c.decode(String.self, forKey: .value))
        }
    }
}
