import CLibvirt
import Foundation

/// Which of libvirt's client libraries this process uses. libvirt 9.0's libvirt-admin.so
/// carries its own copy of libvirt's object types and registers them again: a process that
/// has opened a libvirt connection crashes in its first admin connection, and the other way
/// round (reproduced in plain C). So one process uses one of them: `Connection.open` and
/// `AdminConnection.open` claim their side and refuse, typed, when the other side is taken.
package enum LibvirtLibraryRole: Sendable {
    case connections, admin

    nonisolated(unsafe) private static var claimed: LibvirtLibraryRole?
    private static let lock = NSLock()

    /// Claims `role` for the process; `.operationUnsupported` if the other one was claimed.
    package static func claim(_ role: LibvirtLibraryRole) throws(LibvirtError) {
        lock.lock()
        defer { lock.unlock() }
        if let c = claimed, c != role {
            throw LibvirtError(code: .operationUnsupported, message: role == .admin
                ? "libvirt-admin can't be used in a process that opened libvirt connections (libvirt 9.0 registers its object types twice and crashes); use a separate process, e.g. `virtkit admin`"
                : "libvirt connections can't be opened in a process that used libvirt-admin (libvirt 9.0 registers its object types twice and crashes); use a separate process")
        }
        claimed = role
    }
}
