import Foundation
import VirtCore
import LibvirtFleet

/// Test-driver node files (`test:///ABS/PATH/node.xml`): each URI is a private libvirt host
/// with its own guests, embedded in the client library (no daemon).
enum NodeFiles {
    /// A folder for this process's node files.
    static let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-fleet-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// A node with `cpus` CPUs and `guests` guests `<prefix>-<i>` cycling through running,
    /// paused and shut off; guest i has i%4+1 vCPUs and (i%3+1)×64 MiB, and every even
    /// guest's vCPU 0 is pinned to CPU i % cpus.
    static func node(_ name: String, cpus: Int = 8, guests: Int, prefix: String? = nil) throws -> FleetHost {
        let prefix = prefix ?? name
        var xml = "<node>\n<cpu><mhz>2400</mhz><model>x86_64</model><active>\(cpus)</active><nodes>1</nodes><sockets>1</sockets><cores>\(cpus)</cores><threads>1</threads></cpu>\n<memory>16777216</memory>\n"
        let states = [1, 3, 5]
        for i in 0..<guests {
            let pin = i % 2 == 0 ? "<cputune><vcpupin vcpu='0' cpuset='\(i % cpus)'/></cputune>" : ""
            xml += "<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'><name>\(prefix)-\(i)</name>"
            xml += "<memory unit='MiB'>\((i % 3 + 1) * 64)</memory><vcpu>\(i % 4 + 1)</vcpu>\(pin)<os><type>hvm</type></os>"
            xml += "<test:runstate>\(states[i % states.count])</test:runstate></domain>\n"
        }
        xml += "</node>\n"
        let url = folder.appendingPathComponent("\(name).xml")
        try xml.write(to: url, atomically: true, encoding: .utf8)
        return FleetHost(name: name, uri: "test://\(url.path)", readOnly: true)
    }
}

/// A counter shared with operations running on pool threads.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    private var peak = 0
    func enter() { lock.lock(); value += 1; peak = max(peak, value); lock.unlock() }
    func leave() { lock.lock(); value -= 1; lock.unlock() }
    var current: Int { lock.lock(); defer { lock.unlock() }; return value }
    var maximum: Int { lock.lock(); defer { lock.unlock() }; return peak }
}

/// A gate an operation blocks on (on its pool thread, like a hung libvirt call) until opened.
final class Gate: @unchecked Sendable {
    private let cond = NSCondition()
    private var open = false
    private(set) var waiters = 0
    func wait() {
        cond.lock()
        waiters += 1
        while !open { cond.wait() }
        cond.unlock()
    }
    func release() { cond.lock(); open = true; cond.broadcast(); cond.unlock() }
    /// Waits on a plain thread, as a libvirt call to a stopped daemon does: blocking one of
    /// Swift's cooperative threads instead would stall every other test in the process.
    func block() async {
        _ = try? await Self.threads.run { self.wait() }
    }
    private static let threads = BlockingThreadPool(threadCount: 8, name: "vk-test-gate")
    var waiting: Int { cond.lock(); defer { cond.unlock() }; return waiters }
    var isOpen: Bool { cond.lock(); defer { cond.unlock() }; return open }
}
