// list-guests: every guest with its state and the reason for it, like
// `virsh list --all` + `virsh domstate --reason`.
//   swift run list-guests [URI]          (default test:///default)
import Foundation
import Libvirt

let uri = CommandLine.arguments.dropFirst().first ?? "test:///default"
do {
    let conn = try await Connection.open(uri, readOnly: true)
    let stats = try await conn.allDomainStats(groups: .state)   // one call for every guest
    for s in stats.sorted(by: { $0.name < $1.name }) {
        let state = s.state.map { "\($0.state.key) (\($0.reasonDescription))" } ?? "unknown"
        print("\(s.name.padding(toLength: 30, withPad: " ", startingAt: 0)) \(state)")
    }
    await conn.close()
} catch {
    print("list-guests: \(error)")
    exit(1)
}
