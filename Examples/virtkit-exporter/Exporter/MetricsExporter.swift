import Logging

/// The exporter without HTTP: one `HostCollector` per libvirt URI, scraped concurrently
/// under one deadline and rendered as the Prometheus text exposition.
public final class MetricsExporter: Sendable {
    public let collectors: [HostCollector]
    /// How long a scrape waits for the hosts; a host that has not answered by then is
    /// served from its last result, marked `virtkit_scrape_stale`.
    public let deadline: Duration

    /// - Parameters:
    ///   - readsHostFiles: read guests' cgroups, PSI and hugepages from this machine's files
    ///     (and compute findings) for every URI (true), none (false), or local ones (nil,
    ///     `HostCollector.isLocal`).
    ///   - findingsInterval: how often findings are recomputed in the background; nil never.
    public init(uris: [String], deadline: Duration = .seconds(3), readsHostFiles: Bool? = nil,
                findingsInterval: Duration? = .seconds(60),
                logger: Logger = Logger(label: "virtkit.exporter", factory: { _ in SwiftLogNoOpLogHandler() })) {
        var seen = Set<String>()
        collectors = uris.filter { seen.insert($0).inserted }.map {
            HostCollector(uri: $0, readsHostFiles: readsHostFiles, findingsInterval: findingsInterval, logger: logger)
        }
        self.deadline = deadline
    }

    /// Every host's statistics as of the deadline (all hosts at once).
    public func scrape() async -> [HostScrape] {
        let deadline = ContinuousClock.now + deadline
        return await withTaskGroup(of: (Int, HostScrape).self) { g in
            for (i, c) in collectors.enumerated() { g.addTask { (i, await c.scrape(deadline: deadline)) } }
            var out = [HostScrape?](repeating: nil, count: collectors.count)
            for await (i, s) in g { out[i] = s }
            return out.compactMap { $0 }
        }
    }

    /// A whole `/metrics` body.
    public func metrics() async -> [UInt8] {
        let start = ContinuousClock.now
        let hosts = await scrape()
        return ExpositionRenderer.render(hosts, scrapeDuration: ContinuousClock.now - start)
    }

    /// Starts every host's first collection (connection, definitions) without waiting.
    public func warmUp() async {
        _ = await scrape()
    }

    /// The `/healthz` body and whether every host is up (no libvirt call).
    public func health() async -> (healthy: Bool, text: String) {
        var text = ""
        var healthy = true
        for c in collectors {
            let h = await c.health
            healthy = healthy && h.up
            text += "\(c.uri) \(h.up ? "up" : "down")\(h.error.map { ": \($0)" } ?? "")\n"
        }
        return (healthy, text)
    }

    public func shutdown() async {
        for c in collectors { await c.shutdown() }
    }
}
