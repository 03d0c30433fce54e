import Foundation

/// The exporter's tests run its library in their own process as the `virtkit-exporter`
/// daemon runs it: with SIGPIPE ignored (`ExporterCommand.run`). A libvirt handle freed on
/// a Swift thread can send its connection's last close from that thread, and a test's HTTP
/// client can meet a server that is going away; with SIGPIPE at its default, either would
/// end the whole test process instead of failing one call with EPIPE. Each suite that talks
/// to libvirt or HTTP calls `setUp()` in its `init`.
enum DaemonSignals {
    private static let ignored: Void = { signal(SIGPIPE, SIG_IGN) }()
    static func setUp() { ignored }
}
