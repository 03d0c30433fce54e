import Foundation
import Testing
import VirtKitTestSupport
@testable import CgroupControl

/// libvirt's own cgroup detection data (tests/vircgroupdata in libvirt 9.0.0), used in place.
@Suite(.offCooperativePool) struct LayoutConformanceTests {
    static func scenarios(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".mounts") }
            .map { String($0.dropLast(".mounts".count)) }
            .sorted()
    }

    static func read(_ dir: URL, _ name: String, _ ext: String) -> String? {
        try? String(contentsOf: dir.appendingPathComponent("\(name).\(ext)"), encoding: .utf8)
    }

    /// Every scenario has a `.mounts` file: a missing or unreadable one fails the test instead
    /// of reading as "nothing mounted".
    static func layout(_ dir: URL, _ name: String) throws -> CgroupLayout {
        let mounts = try String(contentsOf: dir.appendingPathComponent("\(name).mounts"), encoding: .utf8)
        // The corpus has no cgroup.controllers files: the v2 controllers come from /proc/cgroups.
        return try CgroupLayout.parse(mountinfo: nil, mounts: mounts, procCgroups: read(dir, name, "cgroups"))
    }

    @Test func everyParsedScenarioMatchesLibvirt() throws {
        guard let dir = LiveEnvironment.corpus("libvirt-9.0.0/vircgroupdata") else { return }
        var checked = 0
        for name in try Self.scenarios(dir) {
            guard let parsed = Self.read(dir, name, "parsed") else { continue }
            let expected = parsed.split(separator: "\n").map { line -> (String, String?) in
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                let mount = f.count > 1 ? String(f[1]) : ""
                return (String(f[0]), mount == "<null>" ? nil : mount)
            }
            let got = try Self.layout(dir, name).libvirtMounts()
            #expect(got.map(\.controller) == expected.map(\.0), "\(name): controller order")
            for ((c, want), (_, have)) in zip(expected, got) {
                #expect(have == want, "\(name): \(c) should be \(want ?? "<null>"), got \(have ?? "<null>")")
            }
            checked += 1
        }
        let parsedFiles = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".parsed") }
        #expect(checked == parsedFiles.count && checked >= 12, "checked \(checked) of \(parsedFiles.count) .parsed scenarios")
    }

    @Test func noCgroupsFailsCleanly() throws {
        guard let dir = LiveEnvironment.corpus("libvirt-9.0.0/vircgroupdata") else { return }
        // The scenario's mount table is real and non-empty; it just has no cgroup file system.
        let mounts = try String(contentsOf: dir.appendingPathComponent("no-cgroups.mounts"), encoding: .utf8)
        #expect(!MountEntry.parseMounts(mounts).isEmpty)
        #expect(throws: CgroupError.noCgroupsMounted(root: "")) { try Self.layout(dir, "no-cgroups") }
    }

    /// libvirt refuses a host with only `name=systemd` (vircgrouptest's logind case).
    @Test func logindOnlyHasNoResourceControllers() throws {
        guard let dir = LiveEnvironment.corpus("libvirt-9.0.0/vircgroupdata") else { return }
        let layout = try Self.layout(dir, "logind")
        #expect(layout.kind == .v1)
        #expect(layout.namedHierarchy("systemd")?.mountPoint == "/not/really/sys/fs/cgroup/systemd")
        #expect(throws: CgroupError.noResourceControllers) { try layout.libvirtMounts() }
    }

    /// The scenarios without `.parsed`, against vircgrouptest's own expectations.
    @Test func scenariosWithoutParsedFile() throws {
        guard let dir = LiveEnvironment.corpus("libvirt-9.0.0/vircgroupdata") else { return }
        let systemd = try Self.layout(dir, "systemd")
        #expect(systemd.kind == .v1)
        let m = Dictionary(uniqueKeysWithValues: try systemd.libvirtMounts().map { ($0.controller, $0.mountPoint) })
        #expect(m["cpu"] == "/not/really/sys/fs/cgroup/cpu,cpuacct")
        #expect(m["cpuacct"] == "/not/really/sys/fs/cgroup/cpu,cpuacct")
        #expect(m["devices"] == .some(nil))
        #expect(m["name=systemd"] == "/not/really/sys/fs/cgroup/systemd")

        let unified = try Self.layout(dir, "systemd-unified")
        #expect(unified.kind == .v2)
        #expect(unified.unified?.mountPoint == "/not/really/sys/fs/cgroup")
        #expect(unified.hierarchy(for: .memory)?.version == .v2)
        #expect(unified.hierarchy(for: .blkio)?.version == .v2)

        let legacy = try Self.layout(dir, "systemd-legacy")
        #expect(legacy.kind == .v1)
        #expect(legacy.hierarchy(for: .pids)?.mountPoint == "/not/really/sys/fs/cgroup/pids")
        #expect(legacy.hierarchy(for: .cpuacct)?.mountPoint == "/not/really/sys/fs/cgroup/cpuacct")
    }

    /// /proc/self/cgroup of every scenario parses, and names/co-mounts come out right.
    @Test func selfCgroupFilesParse() throws {
        guard let dir = LiveEnvironment.corpus("libvirt-9.0.0/vircgroupdata") else { return }
        for name in try Self.scenarios(dir) {
            let text = Self.read(dir, name, "self.cgroup") ?? ""
            let parsed = try ProcessCgroups.parse(text)
            #expect(parsed.entries.count == text.split(separator: "\n").count, "\(name)")
        }
        let systemd = try ProcessCgroups.parse(Self.read(dir, "systemd", "self.cgroup") ?? "")
        #expect(systemd.path(for: .cpu) == "/system")
        #expect(systemd.path(for: .cpuacct) == "/system")
        #expect(systemd.path(named: "systemd") == "/user/berrange/123")
        let unified = try ProcessCgroups.parse(Self.read(dir, "systemd-unified", "self.cgroup") ?? "")
        #expect(unified.unifiedPath == "/libvirt/emulator")
    }

    @Test func kindsOfCorpusLayouts() throws {
        guard let dir = LiveEnvironment.corpus("libvirt-9.0.0/vircgroupdata") else { return }
        #expect(try Self.layout(dir, "hybrid").kind == .hybrid)
        #expect(try Self.layout(dir, "unified").kind == .v2)
        #expect(try Self.layout(dir, "fedora-21").kind == .v1)
        // Co-mounted controllers share one hierarchy.
        let f21 = try Self.layout(dir, "fedora-21")
        #expect(f21.hierarchy(for: .cpu) == f21.hierarchy(for: .cpuacct))
        #expect(f21.hierarchy(for: .netPrio)?.mountPoint == "/sys/fs/cgroup/net_cls,net_prio")
        // Bind mounts: the last mount of a hierarchy wins.
        #expect(try Self.layout(dir, "kubevirt").hierarchy(for: .freezer)?.mountPoint == "/some/random/location/freezer")
    }
}

@Suite struct MountParsingTests {
    @Test func mountinfoUsesSuperOptionsAndUnescapes() {
        let text = "40 31 0:37 / /sys/fs/cgroup/with\\040space rw,relatime shared:3 master:1 - cgroup cgroup rw,name=systemd\n" +
            "41 31 0:38 /sub /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n" +
            "garbage line\n"
        let e = MountEntry.parseMountinfo(text)
        #expect(e.count == 2)
        #expect(e[0].mountPoint == "/sys/fs/cgroup/with space")
        #expect(e[0].options == ["rw", "name=systemd"])
        #expect(e[1].root == "/sub")
    }

    @Test func malformedProcCgroupIsTypedError() {
        #expect(throws: CgroupError.self) { try ProcessCgroups.parse("nonsense\n") }
        #expect(throws: CgroupError.self) { try ProcessCgroups.parse("x:cpu:/a\n") }
        // A ':' inside the path is kept.
        #expect((try? ProcessCgroups.parse("0::/a:b\n"))?.unifiedPath == "/a:b")
    }

    @Test func emptyInputHasNoCgroups() {
        #expect(throws: CgroupError.noCgroupsMounted(root: "")) { try CgroupLayout.parse(mountinfo: "", mounts: nil, procCgroups: nil) }
    }
}
