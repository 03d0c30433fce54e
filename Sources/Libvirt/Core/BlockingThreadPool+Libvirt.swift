import Foundation
import VirtCore

extension BlockingThreadPool {
    /// The pool every blocking libvirt call runs on unless a connection is given another one.
    /// Size: `$VIRTKIT_LIBVIRT_THREADS`, else 8 (they mostly sleep waiting on sockets, so more
    /// than the core count is fine).
    ///
    /// Errors: libvirt's last error is thread-local, so each closure run here reads it itself
    /// (`LibvirtError.takeLast`) before the thread takes the next job. A call that has started
    /// can't be interrupted — libvirt has no per-call cancellation — so it runs to completion.
    public static let libvirt: BlockingThreadPool = {
        let env = ProcessInfo.processInfo.environment["VIRTKIT_LIBVIRT_THREADS"].flatMap { Int($0) }
        return BlockingThreadPool(threadCount: max(1, min(env ?? 8, 256)), name: "vk-libvirt")
    }()
}
