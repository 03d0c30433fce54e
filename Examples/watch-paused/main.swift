// watch-paused: print every guest that is or becomes paused, and why (I/O error, user,
// migration, …); keeps watching across libvirtd restarts.
//   swift run watch-paused [URI]          (default qemu:///system; Ctrl-C stops)
import Foundation
import Libvirt

let uri = CommandLine.arguments.dropFirst().first ?? "qemu:///system"
do {
    let monitor = try await EventMonitor.open(uri, readOnly: true)
    let events = try await monitor.domainEvents(ids: [.lifecycle, .ioError])
    for s in try await monitor.connection.allDomainStats(groups: .state) {
        if case .paused(let why)? = s.state { print("\(s.name): paused (\(why))") }
    }
    for await message in events {
        switch message {
        case .event(let e):
            switch e.kind {
            case .ioError(let io): print("\(e.domainName): I/O error on \(io.srcPath) (\(io.reason))")
            case .lifecycle(.suspended(let why)):
                // The event names the cause; the state (with its reason) is what libvirt keeps.
                let status = try? await monitor.connection.domain(named: e.domainName).state()
                print("\(e.domainName): suspended (\(why)) — now \(status.map { "\($0)" } ?? "gone")")
            default: break
            }
        case .disconnected(let c): print("connection lost (\(c.reason)); reconnecting")
        case .reconnected(let gap, _): print("reconnected after \(gap); events in the gap are lost")
        case .failed(let e): print("watch-paused: \(e)")
        }
    }
} catch {
    print("watch-paused: \(error)")
    exit(1)
}
