import HostProbe
import Libvirt
import Logging
import Tuning
import VirtCore

/// What one host contributed to one scrape.
public struct HostScrape: Sendable {
    public var uri: String
    /// `host="<uri>"`.
    public var labels: LabelSet
    /// The last statistics call succeeded (`libvirt_up`).
    public var up: Bool
    /// The served statistics are not from this scrape: the host did not answer before the
    /// deadline (the call goes on; its result serves a later scrape).
    public var stale: Bool
    /// Time since the served statistics were taken (nil: none yet).
    public var age: Duration?
    /// How long the served bulk call took.
    public var callDuration: Duration?
    public var domains: [DomainSample]
    public var node: NodeFigures?
    /// The diagnosis findings of the last refresh (nil: not computed for this host).
    public var findings: FindingsSnapshot?
    /// Why the host is down, for `/healthz` and the log.
    public var error: String?
}

/// One domain in a scrape.
public struct DomainSample: Sendable {
    public var metadata: DomainMetadata
    public var stats: DomainStats
    /// libvirt skipped groups this domain reported before (NOWAIT: a job held its monitor);
    /// those groups carry the previous values.
    public var stale: Bool
    /// Cgroup and hugepage figures from this machine's files (local hosts, running guests).
    public var host: GuestHostFigures?
}

/// The findings of one diagnosis run (`Diagnoser` over `DiagnosisGatherer`'s input).
public struct FindingsSnapshot: Sendable {
    public var findings: [Finding]
    public var takenAt: ContinuousClock.Instant
}

/// Host figures that cost one call each per scrape (or once).
public struct NodeFigures: Sendable {
    public var info: HostNodeInfo?
    /// Free memory per NUMA cell (`virNodeGetCellsFreeMemory`).
    public var freeMemoryPerCell: [MemorySize] = []
    /// `virNodeGetCPUStats` for all CPUs (nanoseconds), nil when the driver has none.
    public var cpu: NodeCPUStats?
    /// Hugepage pools per NUMA node (local hosts: sysfs through HostProbe).
    public var hugepages: [(node: Int, pool: HugepagePool)] = []
    /// Steal and iowait time and PSI totals (local hosts: `/proc/stat`, `/proc/pressure`).
    public var stall: HostStallCounters?
}

/// Collects one libvirt URI: a persistent read-only connection through `EventMonitor`
/// (reconnects with backoff), one `virConnectGetAllDomainStats(…NOWAIT)` per scrape, domain
/// XML read once per UUID and again only after a lifecycle, device or metadata event.
///
/// A scrape never waits past its deadline: the call in flight keeps running (libvirt calls
/// cannot be interrupted) and the scrape serves the last result marked stale; the next
/// scrape joins that same call instead of starting another, so a stuck daemon holds one
/// pool thread, not one per scrape.
public actor HostCollector {
    public nonisolated let uri: String
    public nonisolated let hostLabels: LabelSet
    /// How many domain XMLs are read at once when the cache misses.
    public nonisolated let definitionWidth: Int
    /// The daemon runs on this machine: guests' cgroups, PSI and hugepages are read from
    /// `/sys` and `/proc`, and findings are computed.
    public nonisolated let readsHostFiles: Bool
    /// How often the diagnosis findings are recomputed (in the background; scrapes serve
    /// the last result); nil: never. Only for hosts whose files are read.
    public nonisolated let findingsInterval: Duration?
    /// The sampling window of the findings' rates (vCPU delay, throttling, host rates).
    public nonisolated let findingsWindow: Duration
    /// Every domain, every state: one cheap call (no domain job, no QEMU monitor).
    static let stateGroup: DomainStatsGroups = .state
    /// What only an active domain has (its cgroups, its QEMU monitor): asked for the active
    /// domains only, `block` only for those whose definition has disks (libvirt asks the
    /// monitor for block statistics even when there are none).
    static let activeGroups: DomainStatsGroups = [.cpuTotal, .balloon, .vcpu, .interface]
    /// How many `virDomainListGetStats` calls share the active domains. libvirtd serves one
    /// connection's calls on several workers, so the per-domain monitor round trips of one
    /// call overlap the others' instead of queueing behind them.
    static let activeCallWidth = 4
    /// Events after which a domain's XML is read again.
    static let invalidatingEvents: Set<DomainEventID> = [.lifecycle, .deviceAdded, .deviceRemoved, .metadataChange]

    private let logger: Logger
    private var monitor: EventMonitor?
    private var eventTask: Task<Void, Never>?
    private var inFlight: Task<Void, Never>?
    private var waiters: [Int: (CheckedContinuation<Void, Never>, Task<Void, Never>)] = [:]
    private var nextWaiter = 0
    private var last: Collected?
    private var lastFailure: String?
    private var metadata: [String: DomainMetadata] = [:]
    private var dirty: Set<String> = []
    private var nodeInfo: HostNodeInfo?
    private var nodeCPUUnsupported = false
    private var isShutDown = false
    private let local: LocalHostReader?
    private var findings: FindingsSnapshot?
    private var findingsTask: Task<Void, Never>?
    private var findingsAttempt: ContinuousClock.Instant?
    /// Diagnosis runs finished (for tests).
    public private(set) var findingsRuns = 0

    struct Collected: Sendable {
        var domains: [DomainSample]
        var node: NodeFigures
        var takenAt: ContinuousClock.Instant
        var duration: Duration
    }

    /// - Parameters:
    ///   - readsHostFiles: nil decides from the URI (`isLocal(_:)`).
    ///   - findingsInterval: how often findings are recomputed; nil never.
    ///   - hostRoot: where this machine's own files are read (`/`; a captured tree in tests).
    public init(uri: String, definitionWidth: Int = 8, readsHostFiles: Bool? = nil,
                findingsInterval: Duration? = .seconds(60), findingsWindow: Duration = .seconds(1),
                hostRoot: ProbeRoot = .live,
                logger: Logger = Logger(label: "virtkit.exporter", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.uri = uri
        hostLabels = LabelSet(["host": uri])
        self.definitionWidth = max(1, definitionWidth)
        let local = readsHostFiles ?? Self.isLocal(uri)
        self.readsHostFiles = local
        self.findingsInterval = local ? findingsInterval.flatMap { $0 > .zero ? $0 : nil } : nil
        self.findingsWindow = findingsWindow
        var l = logger
        l[metadataKey: "uri"] = "\(uri)"
        self.logger = l
        self.local = local ? LocalHostReader(logger: l, hostRoot: hostRoot) : nil
    }

    /// A QEMU daemon on this machine: the `qemu` driver with no host name in the URI
    /// (`qemu:///system`, `qemu+unix:///system?socket=…`). Its guests' processes and cgroups
    /// are this machine's.
    public static func isLocal(_ uri: String) -> Bool {
        guard let sep = uri.range(of: "://") else { return false }
        let scheme = uri[..<sep.lowerBound]
        let driver = scheme.split(separator: "+", maxSplits: 1).first ?? ""
        let transport = scheme.split(separator: "+", maxSplits: 1).dropFirst().first
        let hostPart = uri[sep.upperBound...].prefix { $0 != "/" && $0 != "?" }
        return driver == "qemu" && hostPart.isEmpty && (transport == nil || transport == "unix")
    }

    /// The statistics as of `deadline` at the latest.
    public func scrape(deadline: ContinuousClock.Instant) async -> HostScrape {
        let generation = last?.takenAt
        if inFlight == nil, !isShutDown { startCollecting() }
        if inFlight != nil {
            let id = nextWaiter
            nextWaiter += 1
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let timer = Task { [weak self] in
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    await self?.wake(id)
                }
                waiters[id] = (c, timer)
            }
        }
        return snapshot(fresh: last != nil && last?.takenAt != generation)
    }

    /// Whether the last call succeeded, and why not (for `/healthz`; no libvirt call).
    public var health: (up: Bool, error: String?) { (lastFailure == nil && last != nil, lastFailure) }

    /// Number of cached domain definitions (for tests).
    public var cachedDefinitions: Int { metadata.values.filter(\.hasDefinition).count }
    /// Domain XMLs read so far (for tests: a scrape with a warm cache reads none).
    public private(set) var definitionReads = 0

    /// Stops collecting and closes the connection.
    public func shutdown() async {
        isShutDown = true
        eventTask?.cancel()
        eventTask = nil
        findingsTask?.cancel()
        if let t = findingsTask { await t.value }
        findingsTask = nil
        for id in Array(waiters.keys) { wake(id) }
        if let monitor { await monitor.shutdown() }
        monitor = nil
    }

    // MARK: - Collection

    private func startCollecting() {
        inFlight = Task {
            let result: Result<Collected, any Error>
            do { result = .success(try await collect()) } catch { result = .failure(error) }
            finish(result)
        }
    }

    private func finish(_ result: Result<Collected, any Error>) {
        inFlight = nil
        switch result {
        case .success(let c):
            if lastFailure != nil { logger.info("statistics flow again", metadata: ["domains": "\(c.domains.count)"]) }
            last = c
            lastFailure = nil
        case .failure(let e):
            if lastFailure == nil { logger.warning("statistics call failed", metadata: ["error": "\(e)"]) }
            lastFailure = "\(e)"
        }
        for id in Array(waiters.keys) { wake(id) }
    }

    private func wake(_ id: Int) {
        guard let (c, timer) = waiters.removeValue(forKey: id) else { return }
        timer.cancel()
        c.resume()
    }

    /// The exporter's own libvirt threads, shared by its host collectors.
    static let pool = BlockingThreadPool(threadCount: 8, name: "vk-exporter")

    private func connect() async throws -> Connection {
        if let monitor { return await monitor.connection }
        // Threads of its own: a scrape must not queue behind the process's other blocked
        // libvirt calls (or another host's hung ones) on the shared pool.
        let m = try await EventMonitor.open(uri, readOnly: true, pool: Self.pool)
        if isShutDown { await m.shutdown(); throw CancellationError() }
        monitor = m
        logger.info("connected (read-only)")
        let events = try await m.domainEvents(ids: Self.invalidatingEvents)
        let health = await m.healthEvents()
        eventTask = Task { [weak self] in
            await withTaskGroup(of: Void.self) { g in
                g.addTask { for await message in events { await self?.handle(message) } }
                g.addTask { for await h in health { await self?.log(h) } }
            }
        }
        return await m.connection
    }

    private func handle(_ message: DomainEventMessage) {
        switch message {
        case .event(let e):
            dirty.insert(Self.key(e.domainUUID))
        case .reconnected(let gap, _):
            // Events in the gap are lost: read every definition again.
            dirty.formUnion(metadata.keys)
            logger.info("reconnected; domain definitions will be read again", metadata: ["gap": "\(gap)"])
        case .disconnected, .failed:
            break
        }
    }

    private func log(_ h: ConnectionHealthEvent) {
        switch h {
        case .reconnectFailed: logger.debug("\(h)")
        case .reconnected: logger.info("\(h)")
        case .closed, .gaveUp: logger.warning("\(h)")
        }
    }

    private func collect() async throws -> Collected {
        let conn = try await connect()
        let start = ContinuousClock.now
        // The node calls run beside the bulk call rather than after it: one round of pool
        // hand-offs per scrape, not three in a row.
        if nodeInfo == nil { nodeInfo = try? await conn.nodeInfo() }
        async let freeMemory = try? conn.cellsFreeMemory()
        let wantsNodeCPU = !nodeCPUUnsupported
        async let nodeCPU: Result<NodeCPUStats, any Error>? = wantsNodeCPU ? await Self.attempt { try await conn.nodeCPUStats() } : nil
        var stats = try await conn.allDomainStats(groups: Self.stateGroup, flags: .noWait, handles: true)
        var duration = ContinuousClock.now - start

        // Definitions: only for domains that are new, renamed or changed since last read.
        var wanted: [(key: String, domain: Domain, name: String)] = []
        var keys: [String] = []
        keys.reserveCapacity(stats.count)
        for s in stats {
            guard let d = s.domain else { keys.append(""); continue }
            let k = key(of: d.uuid)
            keys.append(k)
            if let m = metadata[k], m.name == s.name, dirty.isEmpty || !dirty.contains(k) { continue }
            wanted.append((k, d, s.name))
        }
        for w in wanted { dirty.remove(w.key) }  // an event from now on marks it again
        for (k, m) in await readDefinitions(wanted) { metadata[k] = m }

        // This machine's files (running guests' cgroups, the host's counters) are read while
        // libvirt answers for the active domains: neither waits for the other.
        var localWanted: [LocalHostReader.Wanted] = []
        if local != nil {
            for i in stats.indices where !keys[i].isEmpty {
                guard let id = stats[i].domain?.id, let uuid = LibvirtUUID(keys[i]) else { continue }
                let meta = metadata[keys[i]]
                localWanted.append(.init(key: keys[i], name: meta?.name ?? stats[i].name, uuid: uuid, id: Int(id), hugepages: meta?.hugepageBacked ?? false))
            }
        }
        let reader = local, readerWanted = localWanted
        async let figures: LocalHostReader.Figures? = reader == nil ? nil : await reader?.read(readerWanted)
        // Guests whose top cgroup was read last scrape: their CPU time comes from its
        // `cpu.stat`, the file libvirt's cpu group reads, and libvirt is not asked for it.
        var cgroupCPU = Set<String>()
        for d in last?.domains ?? [] where d.host?.cpu.contains(where: { $0.cgroup == "top" && $0.stats.usage != nil }) == true {
            cgroupCPU.insert(d.metadata.uuid)
        }
        // The test driver reports only the state group.
        if !uri.hasPrefix("test:") {
            let activeStart = ContinuousClock.now
            await addActiveGroups(&stats, keys: keys, cgroupCPU: cgroupCPU, conn: conn)
            duration += ContinuousClock.now - activeStart
        }
        let hostFigures = await figures
        if let hostFigures, !cgroupCPU.isEmpty {
            for i in stats.indices where stats[i].cpu == nil && cgroupCPU.contains(keys[i]) {
                guard let top = hostFigures.guests[keys[i]]?.cpu.first(where: { $0.cgroup == "top" })?.stats, let usage = top.usage else { continue }
                stats[i].cpu = DomainStats.CPU(time: usage, user: top.userTime, system: top.systemTime)
            }
        }

        // Samples, with groups NOWAIT skipped filled from the previous scrape (found at the
        // same position when the domain list did not change, else through an index).
        let previous = last?.domains ?? []
        var previousIndex: [String: Int]?
        var domains: [DomainSample] = []
        domains.reserveCapacity(stats.count)
        for i in stats.indices where !keys[i].isEmpty {
            let k = keys[i]
            let meta = metadata[k] ?? DomainMetadata(name: stats[i].name, uuid: k, host: uri)
            var before: DomainStats?
            let position = domains.count
            if position < previous.count, previous[position].metadata.uuid == k {
                before = previous[position].stats
            } else if !previous.isEmpty {
                if previousIndex == nil {
                    previousIndex = Dictionary(previous.indices.map { (previous[$0].metadata.uuid, $0) }, uniquingKeysWith: { a, _ in a })
                }
                before = previousIndex?[k].map { previous[$0].stats }
            }
            let stale = before.map { Self.fillSkippedGroups(&stats[i], from: $0) } ?? false
            domains.append(DomainSample(metadata: meta, stats: stats[i], stale: stale))
        }
        // Every current domain has an entry now, so a larger cache holds undefined domains.
        if metadata.count > domains.count {
            let seen = Set(domains.map(\.metadata.uuid))
            metadata = metadata.filter { seen.contains($0.key) }
            keyCache = keyCache.filter { seen.contains($0.value) }
        }

        var node = NodeFigures()
        if let figures = hostFigures {
            for i in domains.indices { domains[i].host = figures.guests[domains[i].metadata.uuid] }
            node.hugepages = figures.hugepages
            node.stall = figures.stall
        }
        startFindingsIfDue(conn)

        node.info = nodeInfo
        node.freeMemoryPerCell = await freeMemory ?? []
        switch await nodeCPU {
        case .success(let c)?: node.cpu = c
        case .failure?: nodeCPUUnsupported = true
        case nil: break
        }
        return Collected(domains: domains, node: node, takenAt: start, duration: duration)
    }

    /// Asks for `activeGroups` (plus `block` where the definition has disks, or is not read
    /// yet; minus `cpuTotal` for the guests in `cgroupCPU`) of the active domains in up to
    /// `activeCallWidth` concurrent calls (NOWAIT), and merges them into `stats`. A call
    /// that fails leaves its domains' groups nil, as NOWAIT does for a busy domain: they are
    /// served from the previous scrape, marked stale.
    private func addActiveGroups(_ stats: inout [DomainStats], keys: [String], cgroupCPU: Set<String>, conn: Connection) async {
        var byGroups: [DomainStatsGroups: [(index: Int, domain: Domain)]] = [:]
        var total = 0
        for i in stats.indices where !keys[i].isEmpty {
            guard let d = stats[i].domain, d.id != nil else { continue }
            var groups = Self.activeGroups
            if let m = metadata[keys[i]], m.hasDefinition, m.disks.isEmpty {
                stats[i].blockCount = 0  // known to have none: nothing was skipped
            } else {
                groups.insert(.block)
            }
            if cgroupCPU.contains(keys[i]) { groups.remove(.cpuTotal) }
            byGroups[groups, default: []].append((i, d))
            total += 1
        }
        if total == 0 { return }
        let per = max(1, (total + Self.activeCallWidth - 1) / Self.activeCallWidth)
        var calls: [(groups: DomainStatsGroups, members: [(index: Int, domain: Domain)])] = []
        for (groups, list) in byGroups.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            var from = 0
            while from < list.count {
                calls.append((groups, Array(list[from..<min(from + per, list.count)])))
                from += per
            }
        }
        let log = logger
        let results = await withTaskGroup(of: [(Int, DomainStats)].self) { g in
            for call in calls {
                g.addTask {
                    let byName = Dictionary(call.members.map { ($0.domain.name, $0.index) }, uniquingKeysWith: { a, _ in a })
                    do {
                        let records = try await conn.domainStats(call.members.map(\.domain), groups: call.groups, flags: .noWait)
                        return records.compactMap { r in byName[r.name].map { ($0, r) } }
                    } catch {
                        log.debug("active-domain statistics call failed; its domains are served stale", metadata: ["domains": "\(call.members.count)", "error": "\(error)"])
                        return []
                    }
                }
            }
            var all: [(Int, DomainStats)] = []
            for await part in g { all += part }
            return all
        }
        for (i, r) in results {
            if r.cpu != nil { stats[i].cpu = r.cpu }
            stats[i].balloon = r.balloon
            stats[i].vcpu = r.vcpu
            stats[i].interfaceCount = r.interfaceCount
            stats[i].interfaces = r.interfaces
            if r.blockCount != nil || !r.blocks.isEmpty {
                stats[i].blockCount = r.blockCount
                stats[i].blocks = r.blocks
            }
        }
    }

    /// Reads the XML of `wanted` domains, `definitionWidth` at a time. A domain whose XML
    /// cannot be read or parsed keeps name and UUID only, and is tried again next scrape.
    private func readDefinitions(_ wanted: [(key: String, domain: Domain, name: String)]) async -> [(String, DomainMetadata)] {
        if wanted.isEmpty { return [] }
        definitionReads += wanted.count
        let host = uri
        var out: [(String, DomainMetadata)] = []
        out.reserveCapacity(wanted.count)
        var failed: [String] = []
        await withTaskGroup(of: (String, DomainMetadata, Bool).self) { g in
            var next = 0
            func add() {
                guard next < wanted.count else { return }
                let w = wanted[next]
                next += 1
                g.addTask {
                    do {
                        let xml = try await w.domain.xmlDescription()
                        return (w.key, try DomainMetadata(name: w.name, uuid: w.key, host: host, xml: xml), true)
                    } catch {
                        return (w.key, DomainMetadata(name: w.name, uuid: w.key, host: host), false)
                    }
                }
            }
            for _ in 0..<definitionWidth { add() }
            while let (k, m, ok) = await g.next() {
                out.append((k, m))
                if !ok { failed.append(k) }
                add()
            }
        }
        dirty.formUnion(failed)
        if !failed.isEmpty { logger.debug("domain XML unreadable; retrying next scrape", metadata: ["domains": "\(failed.count)"]) }
        return out
    }

    /// Copies the groups `previous` had and `s` lacks (NOWAIT skips what needs a busy
    /// domain's monitor); true when something was copied. Only while the domain still runs.
    static func fillSkippedGroups(_ s: inout DomainStats, from previous: DomainStats) -> Bool {
        guard let state = s.state?.state, state == .running || state == .paused || state == .blocked else { return false }
        var copied = false
        if s.balloon == nil, let b = previous.balloon { s.balloon = b; copied = true }
        if s.vcpu == nil, let v = previous.vcpu { s.vcpu = v; copied = true }
        if s.cpu == nil, let c = previous.cpu { s.cpu = c; copied = true }
        // A count of 0 is an answer (no disks, no NICs); a missing count is a skipped group.
        if s.blockCount == nil, s.blocks.isEmpty, !previous.blocks.isEmpty { s.blocks = previous.blocks; s.blockCount = previous.blockCount; copied = true }
        if s.interfaceCount == nil, s.interfaces.isEmpty, !previous.interfaces.isEmpty { s.interfaces = previous.interfaces; s.interfaceCount = previous.interfaceCount; copied = true }
        return copied
    }

    // MARK: - Findings

    /// Starts a diagnosis run in the background when the last one is older than the interval.
    private func startFindingsIfDue(_ conn: Connection) {
        guard let interval = findingsInterval, findingsTask == nil, !isShutDown else { return }
        if let t = findingsAttempt, ContinuousClock.now - t < interval { return }
        findingsAttempt = .now
        let window = findingsWindow
        let log = logger
        findingsTask = Task {
            var gatherer = DiagnosisGatherer(connection: conn, window: window)
            gatherer.readsHost = true
            let start = ContinuousClock.now
            do {
                let input = try await gatherer.gather()
                let report = Diagnoser().diagnose(input)
                self.finishFindings(FindingsSnapshot(findings: report.findings, takenAt: start))
                log.debug("findings refreshed", metadata: ["findings": "\(report.findings.count)", "took": "\(ContinuousClock.now - start)"])
            } catch {
                log.warning("diagnosis failed; findings kept from the last run", metadata: ["error": "\(error)"])
                self.finishFindings(nil)
            }
        }
    }

    private func finishFindings(_ f: FindingsSnapshot?) {
        if let f {
            findings = f
            findingsRuns += 1
        }
        findingsTask = nil
    }

    private func snapshot(fresh: Bool) -> HostScrape {
        let now = ContinuousClock.now
        let up = lastFailure == nil && last != nil
        return HostScrape(
            uri: uri, labels: hostLabels, up: up,
            stale: !fresh,
            age: last.map { now - $0.takenAt },
            callDuration: last?.duration,
            domains: lastFailure == nil ? (last?.domains ?? []) : [],
            node: last?.node, findings: findings, error: lastFailure ?? (last == nil ? "no answer yet" : nil))
    }

    static func attempt<T: Sendable>(_ body: @Sendable () async throws -> T) async -> Result<T, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    /// UUID → cache key, so a scrape does not format 1,000 UUIDs again.
    private var keyCache: [LibvirtUUID: String] = [:]

    private func key(of uuid: LibvirtUUID) -> String {
        if let k = keyCache[uuid] { return k }
        let k = Self.key(uuid)
        keyCache[uuid] = k
        return k
    }

    /// The cache key: the UUID in libvirt's lower-case spelling.
    static func key(_ uuid: some CustomStringConvertible) -> String { uuid.description.lowercased() }
}
