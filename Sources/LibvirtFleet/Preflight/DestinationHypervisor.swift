import Libvirt
import LibvirtXML
import VirtCore

/// Why a preflight check blocks (or doubts) a migration, as data a control plane can act on.
public enum FleetPreflightReason: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The destination's hypervisor CPU lacks features the guest's CPU requires.
    case cpuFeaturesMissing([String])
    /// It has features the guest's CPU forbids.
    case cpuFeaturesForbidden([String])
    /// libvirt called the CPUs incompatible without naming features.
    case cpuIncompatible(String)
    /// No emulator for the guest's architecture and OS type (and domain type).
    case architectureMissing(String)
    /// The guest's emulator binary is not one the destination offers.
    case emulatorMissing(String)
    /// The guest's machine type is not offered for its architecture.
    case machineTypeMissing(String)
    /// The guest's firmware image is not among the destination's.
    case firmwareMissing(String)

    public var description: String {
        switch self {
        case .cpuFeaturesMissing(let f): "CPU features missing on the destination: \(f.joined(separator: ", "))"
        case .cpuFeaturesForbidden(let f): "CPU features the guest forbids are present: \(f.joined(separator: ", "))"
        case .cpuIncompatible(let m): "CPU incompatible: \(m)"
        case .architectureMissing(let a): "no emulator for \(a)"
        case .emulatorMissing(let e): "emulator \(e) not offered"
        case .machineTypeMissing(let m): "machine type \(m) not offered"
        case .firmwareMissing(let f): "firmware \(f) not offered"
        }
    }
}

/// How the guest's CPU definition compares with the destination's hypervisor CPU
/// (`virConnectCompareHypervisorCPU` with `VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE`, so
/// libvirt says which features are at fault).
public struct FleetCPUComparison: Sendable, Hashable, Codable {
    public enum Outcome: String, Sendable, Hashable, Codable {
        case identical, superset, incompatible
        /// The call failed or the guest's mode cannot be compared (`message` says why).
        case notCompared
    }
    public var outcome: Outcome
    public var missingFeatures: [String]
    public var forbiddenFeatures: [String]
    /// libvirt's message (incompatible or failed).
    public var message: String?

    public init(outcome: Outcome, missingFeatures: [String] = [], forbiddenFeatures: [String] = [], message: String? = nil) {
        self.outcome = outcome
        self.missingFeatures = missingFeatures
        self.forbiddenFeatures = forbiddenFeatures
        self.message = message
    }

    /// An incompatible result from libvirt's message: "… Host CPU does not provide required
    /// features: a, b" / "… Host CPU provides forbidden features: c".
    public init(incompatibleMessage message: String) {
        func list(after marker: String) -> [String] {
            guard let r = message.range(of: marker) else { return [] }
            let rest = message[r.upperBound...].prefix { $0 != ";" && $0 != "\n" }
            return rest.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        self.init(outcome: .incompatible, missingFeatures: list(after: "required features:"),
                  forbiddenFeatures: list(after: "forbidden features:"), message: message)
    }

    /// Compares `cpuXML` on `connection`'s hypervisor for the guest's architecture and domain type.
    public static func compare(cpuXML: String, arch: String?, virtType: String?, over connection: Connection) async -> FleetCPUComparison {
        do {
            switch try await connection.compareHypervisorCPU(xml: cpuXML, target: HypervisorTarget(arch: arch, virtType: virtType), failIfIncompatible: true) {
            case .identical: return FleetCPUComparison(outcome: .identical)
            case .superset: return FleetCPUComparison(outcome: .superset)
            case .incompatible: return FleetCPUComparison(outcome: .incompatible, message: "incompatible")
            case .unknown(let raw): return FleetCPUComparison(outcome: .notCompared, message: "libvirt answered \(raw)")
            }
        } catch let e as LibvirtError where e.code == .cpuIncompatible {
            return FleetCPUComparison(incompatibleMessage: e.message)
        } catch {
            return FleetCPUComparison(outcome: .notCompared, message: "\(error)")
        }
    }
}

/// What the destination's hypervisor offers: per guest architecture its emulators, machine
/// types and domain types (capabilities `<guest>`), and the firmware images for the guest's
/// emulator and machine (domain capabilities `<os><loader>`).
public struct FleetHypervisorOffer: Sendable, Hashable, Codable {
    public struct GuestArch: Sendable, Hashable, Codable {
        public var osType: String
        public var arch: String
        public var emulators: [String]
        /// Machine names and their canonical names (`pc` and `pc-i440fx-7.2`).
        public var machines: [String]
        public var domainTypes: [String]

        public init(osType: String, arch: String, emulators: [String], machines: [String], domainTypes: [String]) {
            self.osType = osType
            self.arch = arch
            self.emulators = emulators
            self.machines = machines
            self.domainTypes = domainTypes
        }
    }

    public var guests: [GuestArch]
    /// Firmware images listed for the guest's emulator and machine; nil when not read.
    public var firmwarePaths: [String]?

    public init(guests: [GuestArch], firmwarePaths: [String]? = nil) {
        self.guests = guests
        self.firmwarePaths = firmwarePaths
    }

    /// The `<guest>` entries of a capabilities document.
    public init(capabilitiesXML xml: String) throws(FleetCapabilitiesError) {
        do {
            let caps = try HostCapabilities(parsing: xml)
            var out: [GuestArch] = []
            for g in caps.guests {
                let a = g.arch
                guard let archName = try a.name.value else { continue }
                var emulators = [try a.emulator.value].compactMap { $0 }
                var machines: [String] = []
                func add(_ ms: ChildList<CapabilitiesMachine>) throws {
                    for m in ms {
                        if let n = try m.name.value { machines.append(n) }
                        if let c = try m.canonical.value { machines.append(c) }
                    }
                }
                try add(a.machines)
                var types: [String] = []
                for d in a.domains {
                    if let t = try d.type.value { types.append(t.description) }
                    if let e = try d.emulator.value { emulators.append(e) }
                    try add(d.machines)
                }
                out.append(GuestArch(osType: try g.osType.value?.description ?? "hvm", arch: archName, emulators: unique(emulators),
                                     machines: unique(machines), domainTypes: unique(types)))
            }
            self.init(guests: out)
        } catch {
            throw FleetCapabilitiesError("\(error)")
        }
    }

    /// The firmware image paths of a domain capabilities document (`<os><loader><value>`).
    public static func firmwarePaths(domainCapabilitiesXML xml: String) throws(FleetCapabilitiesError) -> [String] {
        do {
            let caps = try DomainCapabilities(parsing: xml)
            var out: [String] = []
            for v in caps.os.loader.paths { if let s = try v.value.value { out.append(s) } }
            return out
        } catch {
            throw FleetCapabilitiesError("\(error)")
        }
    }

    /// Reads what `connection`'s hypervisor offers `guest` (capabilities; domain capabilities
    /// for the guest's emulator and machine when it names a firmware image).
    public static func read(for guest: GuestMigrationFacts, over connection: Connection) async throws -> FleetHypervisorOffer {
        var offer = try FleetHypervisorOffer(capabilitiesXML: try await connection.capabilitiesXML())
        if guest.loader != nil {
            let target = HypervisorTarget(emulator: nil, arch: guest.arch, machine: guest.machine, virtType: guest.domainType)
            offer.firmwarePaths = try? firmwarePaths(domainCapabilitiesXML: try await connection.domainCapabilitiesXML(target))
        }
        return offer
    }
}

private func unique(_ xs: [String]) -> [String] {
    var seen = Set<String>()
    return xs.filter { seen.insert($0).inserted }
}
