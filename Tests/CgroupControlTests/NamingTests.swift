import Foundation
import Testing
import VirtKitTestSupport
@testable import CgroupControl

@Suite(.offCooperativePool) struct NamingTests {
    /// Vectors from libvirt's tests/virsystemdtest.c (TEST_MACHINE), plus awkward names.
    @Test(arguments: [
        ("demo", 1, "qemu-1-demo"),
        ("demo-name", 2, "qemu-2-demo-name"),
        ("demo!name", 3, "qemu-3-demoname"),
        (".demo", 4, "qemu-4-demo"),
        ("bull\u{1F4A9}", 5, "qemu-5-bull"),
        ("demo..name", 6, "qemu-6-demo.name"),
        ("12345678901234567890123456789012345678901234567890123456789", 7,
         "qemu-7-123456789012345678901234567890123456789012345678901234567"),
        ("123456789012345678901234567890123456789012345678901234567890", 8,
         "qemu-8-123456789012345678901234567890123456789012345678901234567"),
        ("kstest-network-device-default-httpks_(c9eed63e-981e-48ec-acdc-56b3f8c5f678)", 100,
         "qemu-100-kstest-network-device-default-httpksc9eed63e-981e-48ec"),
        ("kstest-network-device-default-httpks_(c9eed63e-981e-48ec--cdc-56b3f8c5f678)", 10,
         "qemu-10-kstest-network-device-default-httpksc9eed63e-981e-48ec-c"),
        ("demo.-.test.", 11, "qemu-11-demo.test"),
        // An invalid character does not end a run of dots/dashes.
        (".!.demo", 12, "qemu-12-demo"),
        ("my vm with spaces", 13, "qemu-13-myvmwithspaces"),
        ("héllo wörld", 14, "qemu-14-hllowrld"),
        ("---", 15, "qemu-15"),
        ("", 16, "qemu-16"),
    ])
    func machineName(name: String, id: Int, expected: String) {
        let got = LibvirtNaming.machineName(id: id, name: name)
        #expect(got == expected)
        #expect(got.utf8.count <= 64)
    }

    /// systemd unit-name escaping (systemd-escape / libvirt's TEST_SCOPE vectors).
    @Test func systemdEscaping() {
        #expect(LibvirtNaming.scopeName(machineName: "qemu-3-demo") == "machine-qemu\\x2d3\\x2ddemo.scope")
        #expect(LibvirtNaming.systemdEscape("demo!name") == "demo\\x21name")
        #expect(LibvirtNaming.systemdEscape(".demo") == "\\x2edemo")
        #expect(LibvirtNaming.systemdEscape("a.b") == "a.b")
        #expect(LibvirtNaming.systemdEscape("bull\u{1F4A9}") == "bull\\xf0\\x9f\\x92\\xa9")
        #expect(LibvirtNaming.systemdEscape("a b/c\\d:e_f") == "a\\x20b-c\\x5cd:e_f")
        #expect(LibvirtNaming.sliceName(partition: "/machine") == "machine.slice")
        #expect(LibvirtNaming.sliceName(partition: "/machine/prod-db") == "machine-prod\\x2ddb.slice")
        #expect(LibvirtNaming.slicePath(sliceName: "machine-prod\\x2ddb.slice") == "/machine.slice/machine-prod\\x2ddb.slice")
    }

    @Test func predictedPaths() {
        #expect(LibvirtNaming.guestTopPath(id: 2, name: "cgx-probe", systemd: false) == "/machine/qemu-2-cgx-probe.libvirt-qemu")
        #expect(LibvirtNaming.guestTopPath(id: 1, name: "db.primary", systemd: true)
                == "/machine.slice/machine-qemu\\x2d1\\x2ddb.primary.scope/libvirt")
        // Custom partitions: ".partition" suffix and controller-name escaping (vircgrouptest's evil cases).
        #expect(LibvirtNaming.partitionPath("/cgroup.evil/net_cls.evil/_evil.evil", controllers: ["cpu", "cpuacct"])
                == "/_cgroup.evil/net_cls.evil/__evil.evil")
        #expect(LibvirtNaming.partitionPath("/virtualmachines", controllers: []) == "/virtualmachines.partition")
        #expect(LibvirtNaming.escapeCgroupName("cpu.foo.libvirt-lxc", controllers: ["cpu"]) == "_cpu.foo.libvirt-lxc")
    }

    /// Checks our implementation against libvirt's own code in the installed libvirt.so
    /// (private but exported symbols), on awkward names.
    @Test func agreesWithInstalledLibvirt() throws {
        guard let handle = dlopen("libvirt.so.0", RTLD_NOW) else {
            LiveEnvironment.unavailable("libvirt.so.0 cannot be loaded"); return
        }
        typealias MachineFn = @convention(c) (UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, Bool) -> UnsafeMutablePointer<CChar>?
        typealias ScopeFn = @convention(c) (UnsafePointer<CChar>?, UnsafePointer<CChar>?, Bool) -> UnsafeMutablePointer<CChar>?
        guard let m = dlsym(handle, "virDomainDriverGenerateMachineName"), let s = dlsym(handle, "virSystemdMakeScopeName") else {
            LiveEnvironment.unavailable("libvirt.so.0 does not export the naming functions"); return
        }
        let machine = unsafeBitCast(m, to: MachineFn.self)
        let scope = unsafeBitCast(s, to: ScopeFn.self)
        let names = ["demo", "a.b.c", "-lead", "trail-", "a--b..c.-d", "sp ace", "tab\tname", "ünïcödé", "日本語のゲスト",
                     "emoji\u{1F600}vm", "x_y(z)", String(repeating: "ab-", count: 40), String(repeating: "é", count: 70),
                     "cpu.name", "cgroup.procs", "...", "a\\b", "UPPER.lower-123"]
        for (i, name) in names.enumerated() {
            let id = Int32(i * 37 + 1)
            guard let c = machine("qemu", nil, id, name, true) else { Issue.record("libvirt returned NULL for \(name)"); continue }
            let theirs = String(cString: c)
            free(c)
            #expect(LibvirtNaming.machineName(id: Int(id), name: name) == theirs, "machine name of \(name)")
            guard let sc = scope(theirs, "qemu", false) else { Issue.record("libvirt returned NULL scope for \(theirs)"); continue }
            let theirScope = String(cString: sc)
            free(sc)
            #expect(LibvirtNaming.scopeName(machineName: theirs) == theirScope, "scope of \(theirs)")
            // The escaping itself, on the raw (unsanitised) name.
            guard let raw = scope(name, "qemu", true) else { Issue.record("libvirt returned NULL legacy scope for \(name)"); continue }
            let legacy = String(cString: raw)
            free(raw)
            #expect("machine-qemu\\x2d" + LibvirtNaming.systemdEscape(name) + ".scope" == legacy, "escape of \(name)")
        }
    }

    /// The escaping against systemd's own `systemd-escape` (the same `unit_name_escape`).
    @Test func agreesWithSystemdEscape() throws {
        let tool = "/usr/bin/systemd-escape"
        guard FileManager.default.isExecutableFile(atPath: tool) else {
            LiveEnvironment.unavailable("\(tool) not installed (apt systemd): escaping not checked against systemd"); return
        }
        let inputs = ["qemu-1-demo", ".hidden", "a b/c\\d:e_f.-.é", "tab\tname", "日本", "x/y/z", "UPPER_lower:9", "emoji\u{1F600}", "-", "a..b"]
        for input in inputs {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: tool)
            p.arguments = ["--", input]
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
            #expect(LibvirtNaming.systemdEscape(input) == out.trimmingCharacters(in: .newlines), "\(input)")
        }
    }
}

