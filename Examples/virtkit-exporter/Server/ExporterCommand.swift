#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Hummingbird
import Logging
import ServiceLifecycle
import VirtKitExporter

/// `virtkit-exporter`: Prometheus metrics for one or more libvirt hosts, on `/metrics`,
/// liveness on `/healthz`. SIGTERM/SIGINT stop it gracefully (in-flight scrapes finish,
/// then the libvirt connections close).
@main
struct ExporterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "virtkit-exporter",
        abstract: "Prometheus exporter for libvirt hosts: one bulk statistics call per host per scrape.")

    @Option(name: .customLong("uri"), help: "libvirt URI to export; repeat for several hosts (default qemu:///system).")
    var uris: [String] = []

    @Option(help: "Address to serve on, HOST:PORT.")
    var listen = "127.0.0.1:9177"

    @Option(help: "Seconds a scrape waits for a host before serving its last values as stale.")
    var deadline = 3.0

    @Option(name: .customLong("findings-interval"), help: "Seconds between diagnosis runs for virtkit_finding (local hosts; 0: off).")
    var findingsInterval = 60.0

    @Option(name: .customLong("host-files"), help: "Read guests' cgroups, PSI and hugepages from this machine: auto (local qemu URIs), on, off.")
    var hostFiles = "auto"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown log level '\(logLevel)'") }
        guard deadline > 0, deadline <= 600 else { throw ValidationError("--deadline must be in (0, 600] seconds") }
        guard findingsInterval >= 0, findingsInterval <= 86_400 else { throw ValidationError("--findings-interval must be in [0, 86400] seconds") }
        guard ["auto", "on", "off"].contains(hostFiles) else { throw ValidationError("--host-files takes auto, on or off") }
        _ = try address()
    }

    func address() throws -> (host: String, port: Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (0...65535).contains(port) else { throw ValidationError("--listen takes HOST:PORT, not '\(listen)'") }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    func run() async throws {
        // A daemon must not die of a vanished peer: a libvirt handle freed on a Swift thread
        // can send the connection's last close from there, an HTTP client can go away. With
        // SIGPIPE ignored, such a write fails with EPIPE instead.
        signal(SIGPIPE, SIG_IGN)
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "virtkit.exporter")
        let exporter = MetricsExporter(uris: uris.isEmpty ? ["qemu:///system"] : uris,
                                       deadline: .nanoseconds(Int64(deadline * 1e9)),
                                       readsHostFiles: hostFiles == "auto" ? nil : hostFiles == "on",
                                       findingsInterval: findingsInterval > 0 ? .nanoseconds(Int64(findingsInterval * 1e9)) : nil,
                                       logger: logger)

        let router = Router()
        router.get("metrics") { _, _ -> Response in
            let body = await exporter.metrics()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("healthz") { _, _ -> Response in
            let (healthy, text) = await exporter.health()
            return Response(status: healthy ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        let (host, port) = try address()
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "virtkit-exporter"),
            onServerRunning: { channel in
                logger.notice("serving /metrics", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")",
                                                             "hosts": "\(exporter.collectors.map(\.uri))"])
            },
            logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [app, CollectorService(exporter: exporter)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Opens the hosts before the first scrape, and closes them on graceful shutdown.
struct CollectorService: Service {
    let exporter: MetricsExporter

    func run() async throws {
        await exporter.warmUp()
        try? await gracefulShutdown()
        await exporter.shutdown()
    }
}
