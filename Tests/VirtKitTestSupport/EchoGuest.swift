import Foundation

/// A guest whose serial console echoes every byte it receives: it boots
/// `Scripts/lab-boot/echo.S` (a 149-byte boot sector, interrupt-driven 16550 echo, idle in
/// `hlt`) from a 1 MiB read-only raw image, so it answers within a second of `create` and
/// costs no CPU while idle. Used by the console tests and the console benchmark.
public enum EchoGuest {
    /// What the guest prints once its echo is armed.
    public static let banner = "virtkit echo ready\r\n"

    /// Where the image lives: libvirt's image directory (QEMU may read it; root only).
    public static let imageDirectory = "/var/lib/libvirt/images"

    /// Assembles `Scripts/lab-boot/<program>.S` (default `echo.S`; `channel.S` echoes on a
    /// virtio-serial channel instead) into `imageDirectory/virtkit-<program>-<source hash>.img`
    /// unless that file exists; returns its path. Blocks (clang and ld.lld run as child
    /// processes): call it from a plain thread or a `BlockingThreadPool`, not from a cooperative one.
    @available(*, noasync)
    public static func imagePathSync(program: String = "echo") throws -> String {
        let source = LiveEnvironment.packageRoot().appendingPathComponent("Scripts/lab-boot/\(program).S").path
        guard let text = FileManager.default.contents(atPath: source) else { throw BuildError("no \(source)") }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: a new program gets a new file
        for b in text { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
        let image = "\(imageDirectory)/virtkit-\(program)-\(String(hash, radix: 16)).img"
        if FileManager.default.fileExists(atPath: image) { return image }
        guard let (clang, lld) = toolchain() else { throw BuildError("no clang and ld.lld next to swift") }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("vk-echo-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        var (rc, _, err) = spawnAndWait(clang, ["--target=i386-unknown-none-elf", "-m16", "-c", source, "-o", "\(tmp)/echo.o"])
        guard rc == 0 else { throw BuildError("clang: \(err)") }
        (rc, _, err) = spawnAndWait(lld, ["-m", "elf_i386", "--image-base=0", "-Ttext=0x7c00", "-e", "start", "--oformat=binary",
                                          "-o", "\(tmp)/echo.bin", "\(tmp)/echo.o"])
        guard rc == 0 else { throw BuildError("ld.lld: \(err)") }
        guard var code = FileManager.default.contents(atPath: "\(tmp)/echo.bin").map(Array.init), code.count <= 510 else {
            throw BuildError("\(program).S does not fit a boot sector")
        }
        code += [UInt8](repeating: 0, count: 510 - code.count) + [0x55, 0xAA]
        code += [UInt8](repeating: 0, count: (1 << 20) - code.count)
        let partial = "\(image).\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: partial, contents: Data(code), attributes: [.posixPermissions: 0o644]) else {
            throw BuildError("cannot write \(partial)")
        }
        guard rename(partial, image) == 0 else { unlink(partial); throw BuildError("rename to \(image): errno \(errno)") }
        return image
    }

    /// The toolchain's clang and ld.lld (next to the real `swift`, else on PATH).
    static func toolchain() -> (String, String)? {
        var dirs: [String] = []
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/opt/swift/usr/bin"] {
            let swift = "\(dir)/swift"
            if FileManager.default.isExecutableFile(atPath: swift) {
                dirs.append(URL(fileURLWithPath: swift).resolvingSymlinksInPath().deletingLastPathComponent().path)
            }
            dirs.append(dir)
        }
        for d in dirs where FileManager.default.isExecutableFile(atPath: "\(d)/clang") && FileManager.default.isExecutableFile(atPath: "\(d)/ld.lld") {
            return ("\(d)/clang", "\(d)/ld.lld")
        }
        return nil
    }

    /// The domain XML of an echo guest: the boot image, COM1 as a pty serial console, and
    /// `virtioConsoles` extra virtio consoles (aliases `console1`…; they don't echo, but
    /// each is a console libvirt can open).
    public static func xml(name: String, image: String, virtioConsoles: Int = 0, extraDevices: String = "", extraDomain: String = "") -> String {
        let consoles = (0..<virtioConsoles).map { "<console type='pty'><target type='virtio' port='\($0 + 1)'/></console>" }.joined(separator: "\n    ")
        return """
        <domain type='\(TestGuest.domainType)'>
          <name>\(TestGuest.escape(name))</name>
          <memory unit='MiB'>16</memory>
          <vcpu placement='static'>1</vcpu>
          <os><type arch='x86_64' machine='pc'>hvm</type></os>
          \(extraDomain)
          <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
          <devices>
            <disk type='file' device='disk'>
              <driver name='qemu' type='raw'/>
              <source file='\(TestGuest.escape(image))'/>
              <target dev='vda' bus='virtio'/>
              <readonly/>
            </disk>
            <serial type='pty'><target port='0'/></serial>
            <console type='pty'><target type='serial' port='0'/></console>
            \(consoles)
            <controller type='usb' model='none'/>
            <memballoon model='none'/>
            \(extraDevices)
          </devices>
        </domain>
        """
    }

    public struct BuildError: Error, CustomStringConvertible {
        public let description: String
        public init(_ d: String) { description = d }
    }
}
