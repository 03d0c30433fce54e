#if canImport(Glibc)
import Glibc
#endif
import VirtCore
import Libvirt
import LibvirtJoins
import DomainXML
import HostProbe
import CgroupControl

/// Reads a ``DiagnosisInput`` from a live host: libvirt (domains, states, definitions, bulk
/// statistics, disk errors), HostProbe (the host snapshot and rates over the window),
/// LibvirtJoins (QEMU PID, vCPU threads, cgroups), CgroupControl (throttling), `/proc/PID/numa_maps`.
///
/// With a fixture root (`root` other than `/`) only the host snapshot and the domain
/// definitions are read: nothing is sampled and no process is looked up.
public struct DiagnosisGatherer: Sendable {
    public var connection: Connection
    public var root: String
    /// The sampling window; nil reads no rates (configuration rules only).
    public var window: Duration?
    /// How long a network disk's server gets to accept a TCP connection.
    public var serverTimeout: Duration = .seconds(1)
    /// Read the host's `/sys` and `/proc` (or `root`): false for a connection to another host,
    /// whose facts this machine cannot see.
    public var readsHost = true

    public init(connection: Connection, root: String = "/", window: Duration? = nil) {
        self.connection = connection
        self.root = root
        self.window = window
    }

    /// Domains read at once.
    static let concurrentDomains = 8

    var isLive: Bool { readsHost && (root == "/" || root.isEmpty) }

    /// Gathers the host and every domain (or only `domains`).
    public func gather(domains only: [Domain]? = nil) async throws -> DiagnosisInput {
        let domains: [Domain]
        if let only { domains = only } else { domains = try await connection.listAllDomains() }
        let prober = readsHost ? HostProber(rootPath: isLive ? "/" : root) : nil
        async let snapshot = prober?.snapshot()
        // Domains are read concurrently (each read is a libvirt round trip on the blocking pool).
        var results: [(Int, GuestFacts, GuestLocation?)] = []
        try await withThrowingTaskGroup(of: (Int, GuestFacts, GuestLocation?)?.self) { group in
            var next = 0
            func add() {
                let i = next, d = domains[i], me = self
                group.addTask {
                    do {
                        let (g, l) = try await me.guestFacts(d)
                        return (i, g, l)
                    } catch let e as LibvirtError where e.code == .noDomain {
                        return nil  // undefined between the listing and this read: nothing to diagnose
                    }
                }
                next += 1
            }
            while next < min(domains.count, Self.concurrentDomains) { add() }
            while let r = try await group.next() {
                if let r { results.append(r) }
                if next < domains.count { add() }
            }
        }
        results.sort { $0.0 < $1.0 }
        let guests = results.map(\.1)
        var locations: [LibvirtUUID: GuestLocation] = [:]
        for (_, g, l) in results { if let l { locations[g.reference.uuid] = l } }
        let host = try await snapshot
        var input = DiagnosisInput(hostName: try? await connection.hostname(), host: host, guests: guests)
        guard isLive else { return input }

        if let window, window > .zero {
            try await sample(&input, domains: domains, locations: locations, window: window)
        }
        if let numa = host?.numa, !numa.synthesized, numa.nodes.count > 1 {
            for i in input.guests.indices {
                guard let pid = input.guests[i].pid else { continue }
                input.guests[i].memoryPlacement = try? await BlockingThreadPool.fileIO.run { () throws -> GuestMemoryPlacement in
                    try GuestMemoryPlacement(numaMaps: String(decoding: readFileBytes("/proc/\(pid)/numa_maps"), as: UTF8.self))
                }
            }
        }
        return input
    }

    /// The `guest.paused.*` finding for one domain (nil unless it is paused): its disk errors
    /// and storage health read now, joined with the I/O-error events and pause time a watcher saw.
    public func pausedGuestFinding(_ domain: Domain, ioErrors: [IOErrorReport] = [],
                                   pausedSince: ContinuousClock.Instant? = nil) async throws -> Finding? {
        var (g, _) = try await guestFacts(domain, locate: false)
        g.pause?.ioErrors = ioErrors
        g.pause?.pausedSince = pausedSince
        return PausedGuestRules.finding(for: g)
    }

    /// One domain's identity, state, definition facts and (running) location; paused guests
    /// also get their disk errors and storage health.
    func guestFacts(_ d: Domain, locate: Bool = true) async throws -> (GuestFacts, GuestLocation?) {
        let status = try? await d.state()
        let active = status?.hasProcess ?? false
        let definition = try await d.definition(active ? .live : .persistent)
        var facts = GuestDefinitionFacts(definition)
        let uuid = (try? definition.uuid.value) ?? LibvirtUUID("\(d.uuid)") ?? LibvirtUUID(bytes: Array(repeating: 0, count: 16))!
        var location: GuestLocation?
        if active && isLive && locate {
            location = try? await d.location()
        }
        if isLive {
            for i in facts.disks.indices { facts.disks[i].hostBlockDevice = await hostBlockDevice(of: facts.disks[i]) }
        }
        var g = GuestFacts(reference: GuestReference(uuid: uuid, name: d.name), status: status, definition: facts,
                           pid: location.map { Int($0.pid) })
        if case .paused(let reason) = status {
            var pause = PausedGuestFacts()
            if reason == .ioError {
                pause.diskErrors = ((try? await d.diskErrors()) ?? []).map(DiskErrorReport.init)
                if isLive {
                    for disk in facts.disks where pause.diskErrors.contains(where: { $0.disk == disk.target || $0.disk == disk.sourcePath }) {
                        pause.storage[disk.target] = await storageHealth(of: disk)
                    }
                }
            }
            g.pause = pause
        }
        return (g, location)
    }

    /// Counters before and after the window, turned into rates.
    func sample(_ input: inout DiagnosisInput, domains: [Domain], locations: [LibvirtUUID: GuestLocation], window: Duration) async throws {
        let active = domains.filter { $0.id != nil }
        let cgroups = isLive ? try? await CgroupSystem.detect() : nil
        let pids = locations.values.map { Int($0.pid) }

        let before = try await connection.domainStats(active, groups: [.vcpu, .block])
        let cgBefore = await cgroupCPU(locations, cgroups)
        let clock = ContinuousClock()
        let start = clock.now
        let rates = await HostProber(rootPath: "/").sampleOnce(over: window, processes: pids)
        let after = try await connection.domainStats(active, groups: [.vcpu, .block])
        let cgAfter = await cgroupCPU(locations, cgroups)
        let elapsed = clock.now - start
        input.hostRates = rates

        let beforeByName = Dictionary(before.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for i in input.guests.indices {
            let g = input.guests[i]
            guard let b = after.first(where: { $0.name == g.reference.name }), let a = beforeByName[g.reference.name] else { continue }
            let loc = locations[g.reference.uuid]
            var w = GuestWindow(duration: elapsed)
            let threadRates = rates?.threads ?? []
            let vcpusA = a.vcpu?.entries ?? [], vcpusB = b.vcpu?.entries ?? []
            for (index, vb) in vcpusB.enumerated() where index < vcpusA.count {
                let va = vcpusA[index]
                let thread = loc?.vcpuThreads[index]
                let tid = thread.map { Int($0.tid) }
                var delay: Duration?
                var source = "virConnectGetAllDomainStats vcpu.\(index).delay"
                if let da = va.delay, let db = vb.delay, db >= da {
                    delay = db - da
                } else if let tid, let r = threadRates.first(where: { $0.tid == tid })?.runQueueWaitMsPerSecond,
                          case let ns = r * 1e6 * elapsed.inSeconds, ns.isFinite, ns >= 0, ns < 9e18 {
                    // libvirt < 7.2 reports no delay: the thread's schedstat wait, same quantity.
                    // (A thread that ended during the window can leave a non-finite rate.)
                    delay = .nanoseconds(Int64(ns))
                    source = "/proc/\(loc.map { String($0.pid) } ?? "PID")/task/\(tid)/schedstat"
                }
                var run: Duration?
                if let ta = va.time, let tb = vb.time, tb >= ta { run = tb - ta }
                let lastCPU = tid.flatMap { t in threadRates.first { $0.tid == t }?.processor } ?? thread?.lastCPU
                w.vcpus.append(VCPUFigures(index: index, delay: delay, runTime: run, delaySource: source,
                                           threadID: tid, hostCPU: lastCPU, affinity: thread?.affinity))
            }
            for blk in b.blocks {
                guard let name = blk.name, let prev = a.blocks.first(where: { $0.name == name }) else { continue }
                let reqs = { (x: DomainStats.Block) in (x.readRequests ?? 0) &+ (x.writeRequests ?? 0) }
                let dr = reqs(blk) >= reqs(prev) ? reqs(blk) - reqs(prev) : 0
                w.diskIOPS[name] = Double(dr) / max(elapsed.inSeconds, 1e-9)
            }
            if let cb = cgAfter[g.reference.uuid], let ca = cgBefore[g.reference.uuid] {
                w.throttling = worstThrottling(ca, cb)
            }
            input.guests[i].window = w
        }
    }

    /// `cpu.stat` (and the quota) of each guest's cgroups, by label.
    typealias CgroupCPU = [String: (path: String, stats: CPUStats, quota: Limit<Duration>?, period: Duration?)]

    func cgroupCPU(_ locations: [LibvirtUUID: GuestLocation], _ system: CgroupSystem?) async -> [LibvirtUUID: CgroupCPU] {
        guard let system else { return [:] }
        var out: [LibvirtUUID: CgroupCPU] = [:]
        for (uuid, loc) in locations {
            guard let guest = loc.cgroups else { continue }
            var entry: CgroupCPU = [:]
            for (label, cg) in guest.all where label == "top" || label.hasPrefix("vcpu") {
                guard let stats = try? await system.stats(of: cg), let cpu = stats.cpu else { continue }
                let settings = try? await system.settings(of: cg)
                entry[label] = (cg.displayPath, cpu, settings?.cpuQuota, settings?.cpuPeriod)
            }
            out[uuid] = entry
        }
        return out
    }

    func worstThrottling(_ a: CgroupCPU, _ b: CgroupCPU) -> CPUThrottling? {
        var worst: CPUThrottling?
        for (label, nb) in b {
            guard let na = a[label], let pb = nb.stats.periods, let pa = na.stats.periods, pb > pa,
                  let tb = nb.stats.throttledPeriods, let ta = na.stats.throttledPeriods, tb >= ta else { continue }
            var t = CPUThrottling(cgroup: nb.path, periods: pb - pa, throttledPeriods: tb - ta)
            if let ub = nb.stats.throttledTime, let ua = na.stats.throttledTime, ub >= ua { t.throttledTime = ub - ua }
            if case .limited(let q)? = nb.quota, q > .zero { t.quota = q }
            if let p = nb.period, p > .zero { t.period = p }
            if (t.throttledFraction ?? 0) > (worst?.throttledFraction ?? -1) { worst = t }
        }
        return worst
    }

    /// The whole-disk host block device under a guest disk (`nvme0n1` for a partition of it).
    func hostBlockDevice(of disk: GuestDiskFacts) async -> String? {
        guard let path = disk.sourcePath, path.hasPrefix("/"), disk.type == "block" || disk.type == "file" else { return nil }
        return try? await BlockingThreadPool.fileIO.run { () -> String? in
            var st = stat()
            guard stat(path, &st) == 0 else { return nil }
            let dev = disk.type == "block" ? st.st_rdev : st.st_dev
            let number = DeviceNumber(rawDeviceNumber: UInt64(dev))
            guard let link = realpath("/sys/dev/block/\(number)", nil) else { return nil }
            defer { free(link) }
            var sys = String(cString: link)
            // A partition's directory has a `partition` file; its parent is the disk.
            if access(sys + "/partition", F_OK) == 0, let slash = sys.lastIndex(of: "/") { sys = String(sys[..<slash]) }
            return sys.split(separator: "/").last.map(String.init)
        }
    }

    /// Free space of a file disk's file system, or whether a network disk's server answers.
    func storageHealth(of disk: GuestDiskFacts) async -> StorageHealth {
        if let host = disk.networkHosts.first {
            let timeout = serverTimeout
            let parts = host.split(separator: ":")
            let name = String(parts.first ?? "")
            let port = parts.count > 1 ? Int(parts[1]) : defaultPort(disk.networkProtocol)
            guard let port else { return .unknown("no port for \(disk.networkProtocol ?? "?")") }
            // nil: the server accepted the connection. (`try?` would flatten that nil into
            // "cancelled" and report every answering server as silent.)
            let result: String?
            do { result = try await BlockingThreadPool.fileIO.run { tcpConnect(host: name, port: port, timeout: timeout) } } catch { result = "cancelled" }
            return .server(address: "\(name):\(port)", answers: result == nil, detail: result)
        }
        if let path = disk.sourcePath, disk.type == "file" {
            let dir = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
            let r = try? await BlockingThreadPool.fileIO.run { () -> StorageHealth in
                var s = statvfs()
                guard statvfs(dir.isEmpty ? "/" : dir, &s) == 0 else { return .unknown("statvfs \(dir): errno \(errno)") }
                let frsize = UInt64(s.f_frsize)
                return .fileSystem(path: dir, available: MemorySize(bytes: UInt64(s.f_bavail) * frsize), size: MemorySize(bytes: UInt64(s.f_blocks) * frsize))
            }
            return r ?? .unknown("cancelled")
        }
        return .unknown("\(disk.type ?? "?") disk")
    }

    func defaultPort(_ proto: String?) -> Int? {
        switch proto {
        case "nbd": 10809
        case "iscsi": 3260
        case "rbd": 6789
        case "gluster": 24007
        case "http": 80
        case "https": 443
        case "ssh": 22
        default: nil
        }
    }
}

/// Reads a whole procfs or sysfs file through VirtCore's bounded reader (procfs tables such
/// as numa_maps grow with the process: the table bound applies).
func readFileBytes(_ path: String) throws -> [UInt8] {
    do { return try RootedFileReader(root: "/").read(path, limit: RootedFileReader.Bound.table) } catch {
        throw GatherError(what: path, errno: error.errno)
    }
}

/// A file the gatherer could not read.
struct GatherError: Error, CustomStringConvertible {
    var what: String
    var errno: Int32
    var description: String { "\(what): \(String(cString: strerror(errno)))" }
}

/// Opens a TCP connection to host:port within `timeout`; nil on success, else why not.
func tcpConnect(host: String, port: Int, timeout: Duration) -> String? {
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var res: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, String(port), &hints, &res) == 0, let ai = res else { return "cannot resolve \(host)" }
    defer { freeaddrinfo(res) }
    let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
    guard fd >= 0 else { return String(cString: strerror(errno)) }
    defer { close(fd) }
    if connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { return nil }
    guard errno == EINPROGRESS else { return String(cString: strerror(errno)) }
    var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
    let ms = Int32(min(timeout.inMilliseconds, 60_000))
    guard poll(&pfd, 1, ms) == 1 else { return "no answer within \(timeout.humanReadable)" }
    var err: Int32 = 0
    var len = socklen_t(MemoryLayout<Int32>.size)
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
    return err == 0 ? nil : String(cString: strerror(err))
}

extension GuestMemoryPlacement {
    /// Parses `/proc/PID/numa_maps`: every mapping's `N<node>=<pages>` counts times its
    /// `kernelpagesize_kB`. Lines without node counts (unpopulated) add nothing; lines with
    /// the `huge` flag (hugetlbfs mappings) count in `hugepageBytesPerNode` too.
    public init(numaMaps text: String) {
        var bytes: [Int: UInt64] = [:]
        var huge: [Int: UInt64] = [:]
        for line in text.split(separator: "\n") {
            var pageKiB: UInt64 = 4
            var isHuge = false
            var counts: [(Int, UInt64)] = []
            for token in line.split(separator: " ") {
                if token == "huge" { isHuge = true }
                if token.hasPrefix("kernelpagesize_kB="), let v = UInt64(token.dropFirst(18)) { pageKiB = v }
                if token.first == "N", let eq = token.firstIndex(of: "="),
                   let node = Int(token[token.index(after: token.startIndex)..<eq]), let pages = UInt64(token[token.index(after: eq)...]) {
                    counts.append((node, pages))
                }
            }
            for (node, pages) in counts {
                bytes[node, default: 0] &+= pages &* pageKiB &* 1024
                if isHuge { huge[node, default: 0] &+= pages &* pageKiB &* 1024 }
            }
        }
        self.init(bytesPerNode: bytes, hugepageBytesPerNode: huge)
    }
}
