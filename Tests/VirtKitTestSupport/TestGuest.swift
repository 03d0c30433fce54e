import Foundation

/// Small test-guest definitions for live tests: diskless, no NIC, a pty console, so they
/// start in a fraction of a second on any host with QEMU. Dependency-free (plain strings).
public enum TestGuest {
    /// True when `/dev/kvm` can be opened read-write (then guests use `type='kvm'`).
    public static var kvmUsable: Bool {
        let fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    /// `kvm` when `/dev/kvm` works, else `qemu` (TCG).
    public static var domainType: String { kvmUsable ? "kvm" : "qemu" }

    /// A unique guest name for this test run: `virtkit-test-<tag>-<pid>-<random>`.
    public static func uniqueName(_ tag: String) -> String {
        "virtkit-test-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max) & 0xFFFFFF)"
    }

    /// The domain XML of a diskless guest.
    /// - Parameters:
    ///   - name: domain name (XML-escaped here).
    ///   - memoryMiB: guest memory.
    ///   - vcpus: vCPU count; `maxVCPUs` (≥ vcpus) allows hot-plug tests.
    ///   - type: `kvm` or `qemu`; default from `domainType`.
    ///   - extraDevices: raw XML inserted inside `<devices>`.
    ///   - extraDomain: raw XML inserted inside `<domain>` after `<os>` (e.g. `<cputune>`, `<numatune>`).
    public static func xml(
        name: String, memoryMiB: Int = 64, vcpus: Int = 1, maxVCPUs: Int? = nil, type: String? = nil,
        extraDevices: String = "", extraDomain: String = ""
    ) -> String {
        let maxV = max(maxVCPUs ?? vcpus, vcpus)
        let vcpuElement = maxV > vcpus ? "<vcpu placement='static' current='\(vcpus)'>\(maxV)</vcpu>" : "<vcpu placement='static'>\(vcpus)</vcpu>"
        return """
        <domain type='\(type ?? domainType)'>
          <name>\(escape(name))</name>
          <memory unit='MiB'>\(memoryMiB)</memory>
          <currentMemory unit='MiB'>\(memoryMiB)</currentMemory>
          \(vcpuElement)
          <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
          \(extraDomain)
          <on_poweroff>destroy</on_poweroff>
          <on_reboot>restart</on_reboot>
          <on_crash>destroy</on_crash>
          <devices>
            <console type='pty'/>
            <memballoon model='virtio'/>
            \(extraDevices)
          </devices>
        </domain>
        """
    }

    /// Escapes text for XML character data and attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "'": out += "&apos;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }
}
