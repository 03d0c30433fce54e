import Foundation
import Libvirt

/// Custom test-driver nodes: writes a `<node>` XML file with the given domains to a temp
/// file and returns its `test:///ABS/PATH` URI. Unlike `test:///default` (one instance
/// shared by the whole process), each open of a file URI gets a private driver, so tests
/// that change state don't interfere.
enum TestNode {
    struct Guest {
        var name: String
        /// `virDomainState` raw value to start in (`<test:runstate>`): 1 running, 3 paused, 5 shutoff, …
        var runState: Int32 = 1
        var transient = false
        var vcpus = 2
        var memoryKiB = 65_536
    }

    /// A fleet of `count` guests cycling through running, paused, shut off, crashed
    /// and pmsuspended (every fifth shutoff one transient-free, every seventh running one transient).
    static func fleet(count: Int, prefix: String = "guest") -> [Guest] {
        let states: [Int32] = [1, 3, 5, 6, 7]
        return (0..<count).map { i in
            let s = states[i % states.count]
            return Guest(name: "\(prefix)-\(i)", runState: s, transient: s == 1 && i % 7 == 0)
        }
    }

    static func uri(_ guests: [Guest], cpus: Int = 8, tag: String = "node") throws -> String {
        var xml = """
        <node>
          <cpu><mhz>2400</mhz><model>x86_64</model><active>\(cpus)</active><nodes>1</nodes>
            <sockets>1</sockets><cores>\(cpus / 2)</cores><threads>2</threads></cpu>
          <memory>16777216</memory>

        """
        for g in guests {
            xml += """
              <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
                <name>\(g.name)</name><memory>\(g.memoryKiB)</memory><currentMemory>\(g.memoryKiB)</currentMemory>
                <vcpu>\(g.vcpus)</vcpu><os><type>hvm</type></os>
                <test:runstate>\(g.runState)</test:runstate>\(g.transient ? "<test:transient/>" : "")
              </domain>

            """
        }
        xml += "</node>\n"
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("virtkit-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).xml").path
        try xml.write(toFile: path, atomically: true, encoding: .utf8)
        return "test://\(path)"
    }

    /// A private node with one running guest named `test` (like `test:///default`'s).
    static func single(_ name: String = "test") async throws -> Connection {
        try await Connection.open(uri([Guest(name: name)], tag: "single"))
    }
}
