import Foundation
import VirtKitTestSupport

/// Test-driver nodes for exporter tests: `count` plain domains cycling through running,
/// paused, shut off, crashed and pmsuspended, plus optional hostile ones whose name, title
/// and disk path hold quotes and backslashes (libvirt refuses newlines in names and titles).
enum TestFleet {
    struct Hostile {
        static let name = #"q"uo\te"#
        static let title = #"say "hi" \ there"#
        static let diskPath = #"/var/lib/images/a"b\c.qcow2"#
    }

    /// Writes the node file and returns its `test:///PATH` URI and path.
    static func write(count: Int, hostile: Bool = false, tag: String = "fleet") throws -> (uri: String, path: String) {
        let states = [1, 3, 5, 6, 7]
        var xml = "<node>\n<cpu><mhz>2400</mhz><model>x86_64</model><active>8</active><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>2</threads></cpu>\n<memory>16777216</memory>\n"
        for i in 0..<count {
            xml += "<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'><name>g-\(i)</name><memory>65536</memory><vcpu>\(1 + i % 3)</vcpu><os><type>hvm</type></os><test:runstate>\(states[i % states.count])</test:runstate></domain>\n"
        }
        if hostile {
            xml += """
            <domain type='test'><name>\(TestGuest.escape(Hostile.name))</name><title>\(TestGuest.escape(Hostile.title))</title>
            <memory>131072</memory><vcpu>2</vcpu><os><type>hvm</type></os>
            <devices><disk type='file' device='disk'><source file='\(TestGuest.escape(Hostile.diskPath))'/><target dev='vda' bus='virtio'/></disk>
            <interface type='bridge'><source bridge='br "0"'/><target dev='vnet7'/></interface></devices></domain>

            """
        }
        xml += "</node>\n"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-exporter-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).xml").path
        try xml.write(toFile: path, atomically: true, encoding: .utf8)
        return ("test://\(path)", path)
    }
}
