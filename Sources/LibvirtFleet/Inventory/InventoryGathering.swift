import Libvirt
import Synchronization
import VirtCore

extension FleetHostInventory {
    /// Reads one host's inventory over `connection`: hostname, node info, capabilities
    /// (topology and page pools), free memory per cell, one bulk `allDomainStats` call for
    /// the guests' state, size and vCPU counts, then per active guest its pins and `numatune`
    /// (libvirt has no bulk call for those). Per-host calls run in place on the calling
    /// pool thread when the task prefers the fleet's pool (as `Fleet.run` arranges).
    ///
    /// - Parameter cache: hostname, node info and parsed capabilities kept between runs.
    public static func gather(from connection: Connection, host: FleetHost, cache: FleetHostFactsCache? = nil) async throws -> FleetHostInventory {
        var warnings: [String] = []
        let (hostname, info, topology, source) = try await hostFacts(of: host, over: connection, cache: cache, warnings: &warnings)

        // NOWAIT: a guest whose job is busy (a migration, a stuck monitor) does not hold up the
        // host's inventory; what needs no job (state, sizes, vCPU counts) is still reported.
        let stats = try await connection.allDomainStats(groups: [.state, .balloon, .vcpu], flags: .noWait, handles: true)
        // A call the driver refused as unsupported for one guest is not asked for the others
        // (the test driver has no emulator pin or NUMA parameters: 2 error paths per guest).
        var unsupported = Set<String>()
        var guests: [FleetGuest] = []
        guests.reserveCapacity(stats.count)
        for s in stats {
            guard let dom = s.domain else { continue }
            let status: DomainStatus
            if let st = s.state { status = st } else {
                do { status = try await dom.state() } catch { warnings.append("\(s.name): state: \(error)"); continue }
            }
            let active = isActive(status.state)
            var g = FleetGuest(
                name: s.name, uuid: dom.uuid.description, state: status.state.key, reason: status.reasonDescription, isActive: active,
                vcpus: s.vcpu?.current, maxVCPUs: s.vcpu?.maximum,
                memory: s.balloon?.current, maxMemory: s.balloon?.maximum)
            if g.vcpus == nil || g.memory == nil {
                // Drivers whose stats have no balloon/vcpu groups (the test driver): one virDomainGetInfo.
                if let i = try? await dom.info() {
                    g.vcpus = g.vcpus ?? i.vcpus
                    g.memory = g.memory ?? i.memory
                    g.maxMemory = g.maxMemory ?? i.maxMemory
                }
            }
            // Pins only of active guests: they are what holds host CPUs and memory now, and
            // each costs a daemon round trip per guest (no bulk call exists).
            if active {
                g.vcpuPins = await optional("vCPU pins", of: s.name, &warnings, &unsupported) { try await dom.vcpuPinning() }
                g.emulatorPin = await optional("emulator pin", of: s.name, &warnings, &unsupported) { try await dom.emulatorPinning() }
                if let numa = await optional("numatune", of: s.name, &warnings, &unsupported, { try await dom.numaParameters() }) {
                    g.memoryNodes = numa.nodeset.flatMap { $0.isEmpty ? nil : $0 }
                    g.memoryMode = numa.mode.map { "\($0)" }
                }
            }
            guests.append(g)
        }
        let occupancy = FleetHostOccupancy(guests: guests, onlineCPUs: topology.onlineCPUs)
        return FleetHostInventory(
            host: host.name, uri: host.uri, hostname: hostname, nodeInfo: info, topology: topology, topologySource: source,
            guests: guests, occupancy: occupancy, warnings: warnings)
    }


    /// The host's topology now: capabilities (cached per `cache`), else node info; free
    /// memory per cell read fresh.
    public static func currentTopology(of host: FleetHost, over connection: Connection, cache: FleetHostFactsCache? = nil) async throws -> HostTopology {
        var ignored: [String] = []
        return try await hostFacts(of: host, over: connection, cache: cache, warnings: &ignored).topology
    }

    private static func hostFacts(
        of host: FleetHost, over connection: Connection, cache: FleetHostFactsCache?, warnings: inout [String]
    ) async throws -> (hostname: String?, info: HostNodeInfo, topology: HostTopology, source: TopologySource) {
        let hostname: String?
        let info: HostNodeInfo
        if let cache {
            (hostname, info) = try await cache.identity(of: host.name, over: connection)
        } else {
            hostname = try? await connection.hostname()
            info = try await connection.nodeInfo()
        }
        let parsed: HostTopology?
        if let cache {
            parsed = try await cache.topology(of: host.name, over: connection)
        } else {
            parsed = try hostTopology(fromCapabilitiesXML: try await connection.capabilitiesXML())
        }
        guard var topology = parsed else { return (hostname, info, HostTopology(nodeInfo: info), .nodeInfo) }
        // Free memory per cell only where the capabilities list cells (the test driver's
        // node files have none and refuse the call).
        do {
            let free = try await connection.cellsFreeMemory(startCell: 0, maxCells: Int32(max(1, topology.nodes.count)))
            for i in topology.nodes.indices where i < free.count { topology.nodes[i].freeMemory = free[i] }
        } catch let e as LibvirtError where e.code == .noSupport {
        } catch {
            warnings.append("free memory per cell: \(error)")
        }
        return (hostname, info, topology, .capabilities)
    }
}

/// What the inventory keeps per host between runs, so a run costs fewer daemon round trips
/// and less daemon work: hostname and node info per connection (they do not change while it
/// is open; a new connection reads them again), and the capabilities per connection for
/// `capabilitiesMaxAge` (the QEMU driver rebuilds the document on every request — sysfs
/// probes under its lock — and only page pool totals change at run time), parsed again only
/// when the document changed. Free memory per cell is read on every run.
public final class FleetHostFactsCache: Sendable {
    private struct Entry {
        var connection: ObjectIdentifier?
        var hostname: String?
        var nodeInfo: HostNodeInfo?
        var xml: String?
        var topology: HostTopology?
        var capabilitiesConnection: ObjectIdentifier?
        var capabilitiesRead: ContinuousClock.Instant?
    }
    private let entries = Mutex<[String: Entry]>([:])
    /// Topologies by capabilities document, shared by hosts whose documents are identical
    /// (a fleet of like servers, a simulated fleet): each distinct document is parsed once.
    private let parsedDocuments = Mutex<[String: HostTopology?]>([:])
    private static let parsedDocumentLimit = 64
    public let capabilitiesMaxAge: Duration

    public init(capabilitiesMaxAge: Duration = .seconds(60)) {
        self.capabilitiesMaxAge = capabilitiesMaxAge
    }

    /// The topology in `host`'s capabilities read over `connection`: reused while younger than
    /// `capabilitiesMaxAge` on the same connection, else fetched (and parsed if it changed).
    public func topology(of host: String, over connection: Connection) async throws -> HostTopology? {
        let id = ObjectIdentifier(connection)
        if let e = entries.withLock({ $0[host] }), e.capabilitiesConnection == id, let at = e.capabilitiesRead,
           at.duration(to: .now) < capabilitiesMaxAge, e.xml != nil {
            return e.topology
        }
        let xml = try await connection.capabilitiesXML()
        let t = try topology(for: host, xml: xml)
        entries.withLock { all in
            all[host]?.capabilitiesConnection = id
            all[host]?.capabilitiesRead = .now
        }
        return t
    }

    /// The hostname and node info of `host` read over `connection`, from the cache when read
    /// over the same connection before.
    public func identity(of host: String, over connection: Connection) async throws -> (hostname: String?, nodeInfo: HostNodeInfo) {
        let id = ObjectIdentifier(connection)
        if let e = entries.withLock({ $0[host] }), e.connection == id, let info = e.nodeInfo { return (e.hostname, info) }
        let hostname = try? await connection.hostname()
        let info = try await connection.nodeInfo()
        entries.withLock { all in
            var e = all[host] ?? Entry()
            e.connection = id
            e.hostname = hostname
            e.nodeInfo = info
            all[host] = e
        }
        return (hostname, info)
    }

    /// The topology of `xml` for `host`, parsed or reused.
    public func topology(for host: String, xml: String) throws -> HostTopology? {
        if let e = entries.withLock({ $0[host] }), e.xml == xml { return e.topology }
        let t: HostTopology?
        if let shared = parsedDocuments.withLock({ $0[xml] }) {
            t = shared
        } else {
            t = try hostTopology(fromCapabilitiesXML: xml)
            parsedDocuments.withLock { docs in
                if docs.count >= Self.parsedDocumentLimit { docs.removeAll(keepingCapacity: true) }
                docs[xml] = .some(t)
            }
        }
        entries.withLock { all in
            var e = all[host] ?? Entry()
            e.xml = xml
            e.topology = t
            all[host] = e
        }
        return t
    }
}

/// A guest is active while it has a QEMU process.
func isActive(_ state: DomainState) -> Bool {
    switch state {
    case .running, .blocked, .paused, .shutdown, .pmSuspended: true
    case .noState, .shutoff, .crashed, .unknown: false
    }
}

/// `body`'s value; nil when the driver does not support the call (silently, and `what` joins
/// `unsupported`, which skips it from then on) or it failed (with a warning naming `guest`):
/// a missing detail never fails the host's inventory.
private func optional<T>(_ what: String, of guest: String, _ warnings: inout [String], _ unsupported: inout Set<String>,
                         _ body: () async throws -> T) async -> T? {
    if unsupported.contains(what) { return nil }
    do { return try await body() } catch let e as LibvirtError where e.code == .noSupport || e.code == .operationUnsupported {
        unsupported.insert(what)
        return nil
    } catch {
        warnings.append("\(guest): \(what): \(error)")
        return nil
    }
}

extension HostTopology {
    /// One node holding every CPU, from `virNodeGetInfo` (hosts whose capabilities list no cells).
    init(nodeInfo info: HostNodeInfo) {
        let ids = Array(0..<max(0, info.cpus))
        self.init(cpus: ids.map { HostTopology.CPU(id: $0, node: 0) }, nodes: [HostTopology.Node(id: 0, cpus: CPUSet(ids), memory: info.memory)])
    }
}

extension Fleet {
    /// The inventory of every host (or of `names`), each under the fleet's deadline.
    public func inventory(of names: [String]? = nil, deadline: Duration? = nil) async -> FleetInventory {
        let cache = factsCache
        return FleetInventory(await run(on: names, deadline: deadline) { conn, host in
            try await FleetHostInventory.gather(from: conn, host: host, cache: cache)
        })
    }
}
