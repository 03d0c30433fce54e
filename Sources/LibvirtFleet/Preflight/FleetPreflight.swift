import Libvirt
import VirtCore

/// One preflight check's result, with what it was decided on.
public struct FleetPreflightFinding: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Ordered by severity.
    public enum Verdict: String, Sendable, Hashable, Codable, Comparable {
        case pass, warning, unknown, blocker
        private var rank: Int { switch self { case .pass: 0; case .warning: 1; case .unknown: 2; case .blocker: 3 } }
        public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
    }

    /// `destination`, `cpu`, `machine`, `memory`, `hugepages`, `disks`, `devices`, `networks`, `tls`.
    public var check: String
    public var verdict: Verdict
    public var summary: String
    public var evidence: [String]
    /// Why it blocks or warns, as data (set by the CPU and machine checks).
    public var reason: FleetPreflightReason?

    public init(_ check: String, _ verdict: Verdict, _ summary: String, evidence: [String] = [], reason: FleetPreflightReason? = nil) {
        self.check = check
        self.verdict = verdict
        self.summary = summary
        self.evidence = evidence
        self.reason = reason
    }

    public var description: String { "\(verdict.rawValue.uppercased()) \(check): \(summary)" }
}

/// The answer to "can this guest move to that host?".
public struct FleetPreflightReport: Sendable, Hashable, Codable {
    public var guest: String
    public var destination: String
    public var findings: [FleetPreflightFinding]
    /// Some disk is not on storage the destination shares: migrate with copy-storage.
    public var needsCopyStorage: Bool
    /// Bytes to copy with copy-storage (sum of the local disks' allocation), when known.
    public var estimatedCopySize: MemorySize?

    /// No check blocks the migration (unknowns are not blockers, but say what was not checked).
    public var canMigrate: Bool { !findings.contains { $0.verdict == .blocker } }
    public var worst: FleetPreflightFinding.Verdict { findings.map(\.verdict).max() ?? .pass }
}

/// What the destination looks like to the preflight.
public struct FleetPreflightDestination: Sendable, Hashable {
    public var name: String
    /// The inventory, or why there is none (`failed: …`, `timedOut`).
    public var inventory: FleetHostInventory?
    public var unreachable: String?
    /// The control connection is encrypted (TLS or SSH).
    public var encrypted: Bool?
    /// The networks, bridges and storage the guest needs, looked up on the destination (nil: not looked up).
    public var resources: FleetDestinationResources?
    /// The guest's CPU compared with the destination's hypervisor CPU (nil: not compared).
    public var cpu: FleetCPUComparison?
    /// Emulators, machine types and firmware the destination offers (nil: not read).
    public var offer: FleetHypervisorOffer?

    public init(name: String, inventory: FleetHostInventory?, unreachable: String? = nil, encrypted: Bool? = nil,
                cpu: FleetCPUComparison? = nil, offer: FleetHypervisorOffer? = nil, resources: FleetDestinationResources? = nil) {
        self.name = name
        self.inventory = inventory
        self.unreachable = unreachable
        self.encrypted = encrypted
        self.resources = resources
        self.cpu = cpu
        self.offer = offer
    }
}

/// The migration preflight rules: pure, over a guest's facts and the destination's inventory.
///
/// Checks whose facts were not gathered report `unknown` and say which (a lookup, CPU compare
/// or capabilities read that failed).
public enum FleetPreflight {
    public static func evaluate(guest: GuestMigrationFacts, destination dest: FleetPreflightDestination, tlsRequested: Bool) -> FleetPreflightReport {
        var findings: [FleetPreflightFinding] = []
        guard let inv = dest.inventory else {
            findings.append(.init("destination", .blocker, "\(dest.name) does not answer", evidence: [dest.unreachable ?? "no inventory"]))
            return FleetPreflightReport(guest: guest.name, destination: dest.name, findings: findings, needsCopyStorage: false, estimatedCopySize: nil)
        }
        findings.append(.init("destination", .pass, "\(dest.name) answers",
                              evidence: ["hostname \(inv.hostname ?? "?")", "\(inv.nodeInfo.cpus) CPUs", "memory \(inv.nodeInfo.memory?.humanReadable ?? "?")"]))
        findings.append(cpu(guest, dest.cpu))
        findings.append(machine(guest, dest.offer))
        findings.append(memory(guest, inv))
        if let h = hugepages(guest, inv) { findings.append(h) }
        let (disks, copy, size) = self.disks(guest, dest)
        findings.append(disks)
        findings.append(devices(guest))
        findings.append(networks(guest, dest.resources))
        findings.append(tls(requested: tlsRequested, encrypted: dest.encrypted))
        return FleetPreflightReport(guest: guest.name, destination: dest.name, findings: findings, needsCopyStorage: copy, estimatedCopySize: size)
    }

    /// The guest's `<cpu>` against the destination's hypervisor CPU: incompatible blocks,
    /// naming the missing (or forbidden) features.
    static func cpu(_ g: GuestMigrationFacts, _ cmp: FleetCPUComparison?) -> FleetPreflightFinding {
        let evidence = ["guest CPU mode \(g.cpuMode ?? "none")"] + (g.requiredCPUFeatures.isEmpty ? [] : ["requires " + g.requiredCPUFeatures.joined(separator: ", ")])
        guard g.cpuXML != nil else { return .init("cpu", .pass, "the guest asks for no CPU model (the hypervisor's default)", evidence: evidence) }
        if g.cpuMode == "host-passthrough" || g.cpuMode == "maximum" {
            return .init("cpu", .warning, "\(g.cpuMode ?? "") CPU: the destination's CPU must be identical to the source's (not comparable)", evidence: evidence)
        }
        guard let cmp else { return .init("cpu", .unknown, "guest CPU not compared with the destination's", evidence: evidence) }
        let said = cmp.message.map { ["libvirt: \($0)"] } ?? []
        switch cmp.outcome {
        case .identical, .superset:
            return .init("cpu", .pass, "the destination's hypervisor CPU provides the guest's CPU (\(cmp.outcome.rawValue))", evidence: evidence)
        case .incompatible:
            if !cmp.missingFeatures.isEmpty {
                // libvirt lists the model's features too: name the guest's own first.
                let own = cmp.missingFeatures.filter { g.requiredCPUFeatures.contains($0) }
                let named = own + cmp.missingFeatures.filter { !own.contains($0) }
                return .init("cpu", .blocker, "the destination lacks CPU feature(s) \(named.joined(separator: ", "))",
                             evidence: evidence + said, reason: .cpuFeaturesMissing(named))
            }
            if !cmp.forbiddenFeatures.isEmpty {
                return .init("cpu", .blocker, "the destination has CPU feature(s) the guest forbids: \(cmp.forbiddenFeatures.joined(separator: ", "))",
                             evidence: evidence + said, reason: .cpuFeaturesForbidden(cmp.forbiddenFeatures))
            }
            return .init("cpu", .blocker, "the guest's CPU is incompatible with the destination's", evidence: evidence + said,
                         reason: .cpuIncompatible(cmp.message ?? "incompatible"))
        case .notCompared:
            return .init("cpu", .unknown, "guest CPU not compared with the destination's", evidence: evidence + said)
        }
    }

    /// Architecture, emulator, machine type (capabilities) and firmware (domain capabilities).
    static func machine(_ g: GuestMigrationFacts, _ offer: FleetHypervisorOffer?) -> FleetPreflightFinding {
        let evidence = ["arch \(g.arch ?? "default")", "machine \(g.machine ?? "default")", "emulator \(g.emulator ?? "default")"] + (g.loader.map { ["loader \($0)"] } ?? [])
        guard let offer else { return .init("machine", .unknown, "the destination's capabilities were not read", evidence: evidence) }
        let osType = g.osType ?? "hvm"
        let archs = offer.guests.filter { $0.osType == osType && (g.arch == nil || $0.arch == g.arch) }
            .filter { g.domainType == nil || $0.domainTypes.contains(g.domainType!) }
        let what = "\(g.arch ?? "any arch")/\(osType)" + (g.domainType.map { "/\($0)" } ?? "")
        guard !archs.isEmpty else {
            return .init("machine", .blocker, "the destination has no emulator for \(what)",
                         evidence: evidence + offer.guests.map { "offers \($0.arch)/\($0.osType) \($0.domainTypes.joined(separator: ","))" }, reason: .architectureMissing(what))
        }
        if let e = g.emulator, !archs.contains(where: { $0.emulators.contains(e) }) {
            return .init("machine", .blocker, "the destination has no emulator \(e)",
                         evidence: evidence + ["offers " + archs.flatMap(\.emulators).joined(separator: ", ")], reason: .emulatorMissing(e))
        }
        if let m = g.machine, !archs.contains(where: { $0.machines.contains(m) }) {
            return .init("machine", .blocker, "the destination's emulator offers no machine type \(m)",
                         evidence: evidence + ["\(archs.flatMap(\.machines).count) machine types offered"], reason: .machineTypeMissing(m))
        }
        if let loader = g.loader {
            guard let paths = offer.firmwarePaths else {
                return .init("machine", .unknown, "emulator and machine type offered; firmware \(loader) not looked up", evidence: evidence)
            }
            if !paths.contains(loader) {
                return .init("machine", .warning, "firmware \(loader) is not among the destination's firmware images (a custom image must exist at the same path)",
                             evidence: evidence + ["offers " + (paths.isEmpty ? "none" : paths.joined(separator: ", "))], reason: .firmwareMissing(loader))
            }
        }
        return .init("machine", .pass, "the destination offers the emulator, machine type" + (g.loader == nil ? "" : " and firmware"), evidence: evidence)
    }

    static func cellEvidence(_ inv: FleetHostInventory) -> [String] {
        inv.topology.nodes.map { "node \($0.id): free \($0.freeMemory?.humanReadable ?? "?") of \($0.memory?.humanReadable ?? "?")" }
    }

    /// The guest (or each guest NUMA cell) must fit in the free memory of a destination node.
    static func memory(_ g: GuestMigrationFacts, _ inv: FleetHostInventory) -> FleetPreflightFinding {
        let evidence = ["guest memory \(g.memory.humanReadable)"] + (g.numaCells.isEmpty ? [] : ["guest cells " + g.numaCells.map(\.humanReadable).joined(separator: ", ")]) + cellEvidence(inv)
        let free = inv.topology.nodes.compactMap { n in n.freeMemory.map { (n.id, $0) } }
        guard !free.isEmpty else { return .init("memory", .unknown, "the destination reports no free memory per node", evidence: evidence) }
        if !g.numaCells.isEmpty {
            // Largest guest cell first into the node with the most free memory left.
            var left = free
            var placed: [String] = []
            for (i, cell) in g.numaCells.enumerated().sorted(by: { $0.element > $1.element }) {
                guard let k = left.indices.max(by: { left[$0].1 < left[$1].1 }), left[k].1 >= cell else {
                    return .init("memory", .blocker, "guest cell \(i) (\(cell.humanReadable)) fits in no destination node", evidence: evidence)
                }
                placed.append("guest cell \(i) → node \(left[k].0)")
                left[k].1 = MemorySize(bytes: left[k].1.bytes - cell.bytes)
            }
            return .init("memory", .pass, "every guest cell fits in a destination node", evidence: evidence + placed)
        }
        if let fit = free.filter({ $0.1 >= g.memory }).max(by: { $0.1 < $1.1 }) {
            return .init("memory", .pass, "fits in node \(fit.0) (\(fit.1.humanReadable) free)", evidence: evidence)
        }
        let total = free.reduce(0) { $0 + $1.1.bytes }
        if total >= g.memory.bytes {
            return .init("memory", .warning, "fits only across nodes (\(MemorySize(bytes: total).humanReadable) free in all): remote memory access", evidence: evidence)
        }
        return .init("memory", .blocker, "\(g.memory.humanReadable) does not fit: \(MemorySize(bytes: total).humanReadable) free on the destination", evidence: evidence)
    }

    /// Huge pages of the guest's size must exist on the destination in a pool large enough.
    static func hugepages(_ g: GuestMigrationFacts, _ inv: FleetHostInventory) -> FleetPreflightFinding? {
        guard g.usesHugepages else { return nil }
        let size = g.hugepageSize ?? .mebibytes(2)
        let pools = inv.topology.nodes.compactMap { n in n.pagePool(of: size).map { (n.id, $0) } }
        let evidence = pools.map { "node \($0.0): \($0.1.total) × \(size.humanReadable)" + ($0.1.free.map { ", \($0) free" } ?? "") }
        let bytes = pools.reduce(UInt64(0)) { $0 + ($1.1.free ?? $1.1.total) * size.bytes }
        if bytes >= g.memory.bytes {
            return .init("hugepages", .pass, "\(size.humanReadable) pages for \(g.memory.humanReadable) exist on the destination", evidence: evidence)
        }
        return .init("hugepages", .blocker, "the destination's \(size.humanReadable) pools hold \(MemorySize(bytes: bytes).humanReadable), the guest needs \(g.memory.humanReadable)",
                     evidence: evidence.isEmpty ? ["no \(size.humanReadable) pool"] : evidence)
    }

    /// Disks on shared storage (network disks, volumes the destination finds in a pool of a
    /// shared type) move by reference; other writable disks need copy-storage. Read-only and
    /// shareable disks must exist on the destination; a `pool/volume` disk needs its pool
    /// active there.
    static func disks(_ g: GuestMigrationFacts, _ dest: FleetPreflightDestination) -> (FleetPreflightFinding, Bool, MemorySize?) {
        var evidence: [String] = []
        var copy: [GuestMigrationFacts.Disk] = []
        var mustExist: [String] = []
        var blocked: [String] = []
        let storage = dest.resources?.storage
        for d in g.disks where !d.isEmpty {
            let name = d.volume ?? d.path ?? "?"
            let seen = storage?[name]
            let there = seen.map { "; destination: \($0)" } ?? ""
            if d.isSharedByNature {
                evidence.append("\(d.target): \(d.networkProtocol ?? d.type) network storage, shared")
            } else if let seen, seen.isSharedStorage {
                evidence.append("\(d.target): \(name) shared\(there)")
            } else if d.volume != nil, let seen, seen.state == .inactive || (seen.state == .missing && seen.pool == nil) {
                blocked.append(d.target)
                evidence.append("\(d.target): \(name): its pool is \(seen.state == .inactive ? "not active" : "missing") on the destination\(there)")
            } else if d.readOnly || d.shareable {
                if seen?.state == .active {
                    evidence.append("\(d.target): \(name) (\(d.readOnly ? "read-only" : "shareable")) exists on the destination\(there)")
                } else {
                    mustExist.append(d.target)
                    evidence.append("\(d.target): \(name) (\(d.readOnly ? "read-only" : "shareable")) must exist at the same path on the destination\(there)")
                }
            } else {
                copy.append(d)
                evidence.append("\(d.target): \(name) local\(d.allocated.map { ", \($0.humanReadable) allocated" } ?? "")\(there)")
            }
        }
        if storage == nil && (!copy.isEmpty || !mustExist.isEmpty) {
            evidence.append("storage on the destination not looked up")
        }
        let known = copy.compactMap(\.allocated)
        let size = known.count == copy.count && !copy.isEmpty ? MemorySize(bytes: known.reduce(0) { $0 + $1.bytes }) : nil
        let copyText = "copy-storage needed for \(copy.map(\.target).joined(separator: ", "))" + (size.map { " (about \($0.humanReadable) to copy)" } ?? " (size unknown)")
        if !blocked.isEmpty {
            return (.init("disks", .blocker, "the storage pool of \(blocked.joined(separator: ", ")) is not usable on the destination"
                          + (copy.isEmpty ? "" : "; " + copyText), evidence: evidence), !copy.isEmpty, size)
        }
        if copy.isEmpty && mustExist.isEmpty {
            return (.init("disks", .pass, g.disks.isEmpty ? "no disks" : "every disk is on storage the destination shares", evidence: evidence), false, nil)
        }
        let summary = copy.isEmpty ? "read-only/shareable disks must already exist on the destination" : copyText
        return (.init("disks", .warning, summary, evidence: evidence), !copy.isEmpty, size)
    }

    static func devices(_ g: GuestMigrationFacts) -> FleetPreflightFinding {
        g.localDevices.isEmpty
            ? .init("devices", .pass, "no host devices or host-local devices")
            : .init("devices", .blocker, "\(g.localDevices.count) device(s) tie the guest to its host", evidence: g.localDevices)
    }

    /// The libvirt networks and host bridges the interfaces attach to must exist and be
    /// active on the destination (a host interface of a bridge's name must be a bridge).
    static func networks(_ g: GuestMigrationFacts, _ resources: FleetDestinationResources?) -> FleetPreflightFinding {
        let wanted = g.networks.map { ("network", $0, resources?.networks[$0]) } + g.bridges.map { ("bridge", $0, resources?.bridges[$0]) }
        guard !wanted.isEmpty else { return .init("networks", .pass, "no networks or bridges needed") }
        guard resources != nil else {
            return .init("networks", .unknown, "the destination's networks and bridges were not looked up", evidence: wanted.map { "\($0.0) \($0.1)" })
        }
        let evidence = wanted.map { "\($0.0) \($0.1): \($0.2?.description ?? "not looked up")" }
        let absent = wanted.filter { [.missing, .inactive, .unsuitable].contains($0.2?.state) }
        if !absent.isEmpty {
            let what: (FleetResourceSighting.State?) -> String = { $0 == .missing ? "missing" : $0 == .inactive ? "not active" : "not a bridge" }
            return .init("networks", .blocker, absent.map { "\($0.0) \($0.1) is \(what($0.2?.state))" }.joined(separator: ", ") + " on the destination",
                         evidence: evidence)
        }
        if wanted.contains(where: { $0.2 == nil || $0.2?.state == .notChecked }) {
            return .init("networks", .unknown, "some networks or bridges could not be looked up on the destination", evidence: evidence)
        }
        return .init("networks", .pass, "every network and bridge the guest needs is active on the destination", evidence: evidence)
    }

    static func tls(requested: Bool, encrypted: Bool?) -> FleetPreflightFinding {
        guard requested else { return .init("tls", .pass, "TLS not requested") }
        switch encrypted {
        case true?:
            return .init("tls", .warning, "the control connection is encrypted; QEMU's migration certificates (migrate_tls_x509_cert_dir) are not readable remotely",
                         evidence: ["destination connection encrypted"])
        case false?:
            return .init("tls", .warning, "TLS requested but the destination's control connection is not encrypted (certificates not checked)",
                         evidence: ["destination connection not encrypted"])
        case nil:
            return .init("tls", .unknown, "TLS requested; the destination's connection security is unknown")
        }
    }
}

extension Fleet {
    /// The migration preflight of guest `name` on host `source` to host `destination`: the
    /// guest's definition and disk allocation from the source, the destination's inventory
    /// and connection security, each under the fleet's deadline; then `FleetPreflight.evaluate`.
    public func preflight(guest name: String, from source: String, to destination: String, tls: Bool = false) async throws -> FleetPreflightReport {
        for host in [source, destination] where self.host(named: host) == nil { throw FleetError.unknownHost(host) }
        let src = await run(on: [source]) { conn, _ -> GuestMigrationFacts in
            let dom = try await conn.domain(named: name)
            var facts = try GuestMigrationFacts(domainXML: try await dom.xmlDescription())
            if try await dom.isActive() {
                let blocks = try await conn.domainStats([dom], groups: .block).first?.blocks ?? []
                for i in facts.disks.indices {
                    if let b = blocks.first(where: { $0.name == facts.disks[i].target && $0.backingIndex == nil }) ?? blocks.first(where: { $0.name == facts.disks[i].target }) {
                        facts.disks[i].allocated = b.physical ?? b.allocation  // bytes on the host: a fresh qcow2 has allocation 0
                    }
                }
            }
            // No block statistics (a guest that is not running): the source's storage pools may know the size.
            for i in facts.disks.indices where facts.disks[i].allocated == nil && !facts.disks[i].isEmpty && !facts.disks[i].isSharedByNature {
                facts.disks[i].allocated = await GuestMigrationFacts.allocation(of: facts.disks[i], over: conn)
            }
            return facts
        }
        guard let outcome = src.outcomes.first else { throw FleetError.unknownHost(source) }
        let facts: GuestMigrationFacts
        switch outcome.result {
        case .ok(let f): facts = f
        case .failed(let e): throw e
        case .timedOut: throw FleetError.sourceTimedOut(source)
        }
        let cache = factsCache
        let dst = await run(on: [destination]) { conn, host -> (FleetHostInventory, Bool?, FleetCPUComparison?, FleetHypervisorOffer?, FleetDestinationResources) in
            let inv = try await FleetHostInventory.gather(from: conn, host: host, cache: cache)
            var cpu: FleetCPUComparison?
            if let xml = facts.cpuXML, facts.cpuMode != "host-passthrough", facts.cpuMode != "maximum" {
                cpu = await FleetCPUComparison.compare(cpuXML: xml, arch: facts.arch, virtType: facts.domainType, over: conn)
            }
            return (inv, try? await conn.security().encrypted, cpu, try? await FleetHypervisorOffer.read(for: facts, over: conn),
                    await FleetDestinationResources.lookUp(for: facts, over: conn))
        }
        let d = dst.outcomes.first
        let v = d?.result.value
        let destination = FleetPreflightDestination(
            name: destination, inventory: v?.0,
            unreachable: d.map { o in o.result.error.map { "failed: \($0)" } ?? o.result.kind }, encrypted: v?.1 ?? nil, cpu: v?.2, offer: v?.3, resources: v?.4)
        return FleetPreflight.evaluate(guest: facts, destination: destination, tlsRequested: tls)
    }
}
