import Foundation
@testable import Libvirt
import LibvirtQEMU
import Testing
import VirtCore
import VirtKitTestSupport

/// Block jobs, save/restore, checkpoints and backup, the guest-agent error path and
/// network filters against a real `qemu:///system`: guests on qcow2 chains made with
/// `qemu-img` (SeaBIOS finds nothing to boot and idles), each chain checked with
/// `qemu-img info` after the job. Serialized: they share the daemon and the host's CPUs.
@Suite(.serialized) struct LiveBlockAndSaveTests {
    static let imageDir = "/var/lib/libvirt/images"

    /// Runs a program on a plain thread (never a cooperative one) and returns its output.
    static func run(_ exe: String, _ args: [String]) async -> (Int32, String, String) {
        await withCheckedContinuation { c in Thread { c.resume(returning: spawnAndWait(exe, args)) }.start() }
    }

    @discardableResult
    static func qemuImg(_ args: String..., sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let (rc, out, err) = await run("/usr/bin/qemu-img", args)
        try #require(rc == 0, "qemu-img \(args.joined(separator: " ")): \(err)", sourceLocation: sourceLocation)
        return out
    }

    /// The backing chain of `path`, top first, from `qemu-img info --backing-chain`.
    static func chain(_ path: String) async throws -> [String] {
        let json = try await qemuImg("info", "-U", "--backing-chain", "--output=json", path)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        return list.compactMap { $0["filename"] as? String }
    }

    static func prefix(_ tag: String) -> String {
        "\(imageDir)/virtkit-test-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max) & 0xFFFFFF)"
    }

    static func diskGuestXML(name: String, disk: String, extraDevices: String = "") -> String {
        TestGuest.xml(name: name, extraDevices: """
            <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='\(disk)'/><target dev='vda' bus='virtio'/></disk>
            \(extraDevices)
            """, extraDomain: "")
            .replacingOccurrences(of: "<boot dev='hd'/>", with: "<boot dev='hd'/><bios rebootTimeout='-1'/>")
    }

    /// `LiveQEMUTests.withGuest` undefining the guest with its managed-save image and its
    /// checkpoint and snapshot metadata.
    static func withGuest(_ conn: Connection, xml: String, _ body: (Domain) async throws -> Void) async throws {
        try await LiveQEMUTests.withGuest(conn, xml: xml, undefineFlags: [.managedSave, .checkpointsMetadata, .snapshotsMetadata], body)
    }

    /// Waits for `disk`'s block job to reach a final status (or ready) through the event stream.
    static func awaitBlockJob(_ events: AsyncStream<DomainEventMessage>, disk: String, within: Duration = .seconds(120)) async -> (BlockJobType, BlockJobStatus)? {
        await withTaskGroup(of: (BlockJobType, BlockJobStatus)?.self) { group in
            group.addTask {
                for await m in events {
                    if case .event(let e) = m, case .blockJob(let d, let type, let status) = e.kind, d == disk || d.hasSuffix(".qcow2") {
                        return (type, status)
                    }
                }
                return nil
            }
            group.addTask { try? await Task.sleep(for: within); return nil }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    // MARK: Block jobs

    @Test func blockCommitPullCopyAndResize() async throws {
        guard let conn = await LiveQEMUTests.connect() else { return }
        defer { Task { await conn.close() } }
        // Debian 12's QEMU 7.2 segfaulted once in about ten runs during these jobs (dmesg:
        // "qemu-system-x86 segfault", the guest's log "shutting down, reason=crashed"). A crash
        // of QEMU itself gets one fresh attempt; any other failure, or a second crash, fails.
        for attempt in 1...2 {
            let name = TestGuest.uniqueName("blk")
            do {
                try await Self.blockJobs(conn, guest: name)
                return
            } catch where attempt == 1 && Self.qemuCrashed(name) {
                print("blockCommitPullCopyAndResize: QEMU crashed under \(name) (\(error)); one more attempt")
            }
        }
    }

    /// Whether libvirt logged the guest's QEMU as crashed.
    static func qemuCrashed(_ name: String) -> Bool {
        let log = (try? String(contentsOfFile: "/var/log/libvirt/qemu/\(name).log", encoding: .utf8)) ?? ""
        return log.contains("reason=crashed")
    }

    static func blockJobs(_ conn: Connection, guest name: String) async throws {
        let p = Self.prefix("blk")
        let (base, mid, top, copy, raw) = ("\(p)-base.qcow2", "\(p)-mid.qcow2", "\(p)-top.qcow2", "\(p)-copy.qcow2", "\(p)-raw.img")
        defer { for f in [base, mid, top, copy, raw] { unlink(f) } }
        try await Self.qemuImg("create", "-q", "-f", "raw", raw, "1M")
        _ = await Self.run("/usr/bin/qemu-io", ["-f", "raw", "-c", "write -P 0x5a 512 512", raw])
        try await Self.qemuImg("create", "-q", "-f", "qcow2", base, "64M")
        // Data in each layer, so commit and pull really move clusters.
        _ = await Self.run("/usr/bin/qemu-io", ["-f", "qcow2", "-c", "write -P 0xaa 0 1M", base])
        try await Self.qemuImg("create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", mid)
        _ = await Self.run("/usr/bin/qemu-io", ["-f", "qcow2", "-c", "write -P 0xbb 1M 1M", mid])
        try await Self.qemuImg("create", "-q", "-f", "qcow2", "-b", mid, "-F", "qcow2", top)
        #expect(try await Self.chain(top) == [top, mid, base])

        let rawDisk = "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='\(raw)'/><target dev='vdb' bus='virtio'/></disk>"
        try await Self.withGuest(conn, xml: Self.diskGuestXML(name: name, disk: top, extraDevices: rawDisk)) { dom in
            let info = try await dom.blockInfo(disk: "vda")
            #expect(info.capacity == .mebibytes(64))
            // blockPeek reads raw images only: the pattern qemu-io wrote; a qcow2 disk is refused, typed.
            #expect(try await dom.blockPeek(disk: "vdb", offset: 512, count: 512) == [UInt8](repeating: 0x5a, count: 512))
            #expect(try await dom.blockPeek(disk: "vdb", offset: 0, count: 16) == [UInt8](repeating: 0, count: 16))
            await ObjectKindTests.expectError(.operationUnsupported, "virDomainBlockPeek") { _ = try await dom.blockPeek(disk: "vda", offset: 0, count: 4) }
            let stats = try await dom.blockStats(disk: "vda")
            #expect(stats.readRequests != nil && stats.raw.count >= 5)
            #expect(try await dom.blockJobInfo(disk: "vda") == nil)

            // Commit mid into base: the chain loses mid.
            let events = try await conn.domainEvents(for: dom, .blockJob)
            try await dom.blockCommit(disk: "vda", base: base, top: mid)
            let committed = await Self.awaitBlockJob(events, disk: "vda")
            #expect(committed?.0 == .commit && committed?.1 == .completed)
            #expect(try await Self.chain(top) == [top, base])
            #expect(try await dom.xmlDescription().contains(mid) == false)

            // Pull base into top, following progress through the stream: no backing file left.
            try await dom.blockPull(disk: "vda", bytesPerSecond: 0)
            var readings = 0
            for try await r in dom.blockJobProgress(disk: "vda", every: .milliseconds(20)) {
                #expect(r.type == .pull && r.current <= r.end)
                readings += 1
            }
            #expect(try await eventually { try await dom.blockJobInfo(disk: "vda") == nil })
            #expect(try await Self.chain(top) == [top])

            // Copy to a new file, limited, then unlimited; pivot once ready.
            try await dom.blockCopy(disk: "vda", destinationXML: "<disk type='file'><source file='\(copy)'/><driver type='qcow2'/></disk>",
                                    parameters: BlockCopyParameters(bandwidthBytesPerSecond: 8 << 20), flags: .transientJob)
            let job = try #require(try await dom.blockJobInfo(disk: "vda"))
            #expect(job.type == .copy)
            try await dom.setBlockJobSpeed(disk: "vda", bytesPerSecond: 0)
            var ready = false
            for try await r in dom.blockJobProgress(disk: "vda", every: .milliseconds(50), untilReady: true) { ready = r.isReady }
            #expect(ready)
            try await dom.abortBlockJob(disk: "vda", flags: .pivot)
            #expect(try await eventually { try await dom.xmlDescription().contains(copy) })
            #expect(try await dom.blockJobInfo(disk: "vda") == nil)

            // Grow the disk under the running guest.
            try await dom.blockResize(disk: "vda", to: .mebibytes(128))
            #expect(try await dom.blockInfo(disk: "vda").capacity == .mebibytes(128))
            try await dom.setBlockThreshold(disk: "vda", .mebibytes(100))

            // Errors from QEMU's driver are typed and name the call.
            await ObjectKindTests.expectError(.invalidArg, "virDomainBlockCommit") { try await dom.blockCommit(disk: "vdz") }
            await ObjectKindTests.expectError(.invalidArg, "virDomainBlockJobAbort") { try await dom.abortBlockJob(disk: "vda") }
        }
    }

    // MARK: Save and restore

    /// What identifies the guest's running state: its vCPU registers (QEMU's `info registers`)
    /// and two windows of its RAM (SeaBIOS's data below 640 KiB, the BIOS area at 0xF0000).
    static func guestState(_ dom: Domain) async throws -> (registers: String, low: [UInt8], bios: [UInt8]) {
        (try await dom.qemuMonitorCommand("info registers", syntax: .hmp),
         try await dom.memoryPeek(start: 0x9_0000, count: 4096),
         try await dom.memoryPeek(start: 0xF_0000, count: 65536))
    }

    @Test func saveRestoreAndManagedSaveKeepGuestState() async throws {
        guard let conn = await LiveQEMUTests.connect() else { return }
        defer { Task { await conn.close() } }
        let p = Self.prefix("save")
        let (disk, image) = ("\(p).qcow2", "\(p).sav")
        defer { unlink(disk); unlink(image) }
        try await Self.qemuImg("create", "-q", "-f", "qcow2", disk, "16M")
        try await Self.withGuest(conn, xml: Self.diskGuestXML(name: TestGuest.uniqueName("save"), disk: disk)) { dom in
            // Let the firmware run (until its BIOS area is filled: seconds, or minutes on a loaded
            // host), then freeze the guest: its state must survive save and restore.
            _ = await eventually(timeout: .seconds(180), every: .milliseconds(500)) {
                (try? await dom.memoryPeek(start: 0xF_0000, count: 65536))?.contains { $0 != 0 } == true
            }
            try await dom.suspend()
            let state = try await Self.guestState(dom)
            #expect(state.registers.contains("IP=") && state.bios.contains { $0 != 0 }, "\(state.registers)")

            // Save to a file: the guest stops; the image holds its XML; restore brings it back paused.
            try await dom.save(to: image)
            #expect(try await dom.isActive() == false)
            let saved = try await conn.saveImageXML(path: image)
            #expect(saved.contains("<name>\(dom.name)</name>"))
            try await conn.defineSaveImageXML(path: image, xml: saved, flags: .paused)
            try await conn.restore(from: image)
            #expect(try await dom.state().state == .paused)
            let restored = try await Self.guestState(dom)
            #expect(restored.registers == state.registers)
            #expect(restored.low == state.low && restored.bios == state.bios)

            // Managed save: the next start restores the same state; the image goes.
            try await dom.managedSave()
            #expect(try await dom.isActive() == false)
            #expect(try await dom.hasManagedSaveImage())
            let managed = try await dom.managedSaveXML()
            #expect(managed.contains(dom.name))
            try await dom.defineManagedSaveXML(managed, flags: .paused)
            try await dom.start()
            #expect(try await dom.state().state == .paused)
            #expect(try await Self.guestState(dom).registers == state.registers)
            #expect(try await dom.hasManagedSaveImage() == false)

            // A managed-save image can be dropped: the next start boots afresh (reset vector).
            try await dom.managedSave()
            try await dom.removeManagedSaveImage()
            #expect(try await dom.hasManagedSaveImage() == false)
            try await dom.start(flags: .paused)
            let fresh = try await dom.qemuMonitorCommand("info registers", syntax: .hmp)
            #expect(fresh.contains("EIP=0000fff0") || fresh.contains("RIP=000000000000fff0"), "\(fresh)")
            await ObjectKindTests.expectError(.operationInvalid, "virDomainManagedSaveGetXMLDesc") { _ = try await dom.managedSaveXML() }
            await ObjectKindTests.expectError(.systemError, "virDomainRestore") { try await conn.restore(from: "\(image).missing") }
        }
    }

    // MARK: Guest agent errors

    @Test func agentCallsWithoutAnAgentAreTyped() async throws {
        guard let conn = await LiveQEMUTests.connect() else { return }
        defer { Task { await conn.close() } }
        // No agent channel at all.
        try await LiveQEMUTests.withGuest(conn, tag: "noagent") { dom in
            for (name, call) in Self.agentCalls(dom) {
                do {
                    try await call()
                    Issue.record("\(name): no error without an agent")
                } catch let e as LibvirtError {
                    #expect(e.isAgentUnavailable, "\(name): \(e)")
                    #expect(e.function == name)
                }
            }
        }
        // A channel, but nothing in the guest answers on it.
        let name = TestGuest.uniqueName("agentch")
        let xml = TestGuest.xml(name: name, extraDevices: "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>")
        try await Self.withGuest(conn, xml: xml) { dom in
            try await dom.setAgentResponseTimeout(.seconds(1))
            for (name, call) in Self.agentCalls(dom) {
                do {
                    try await call()
                    Issue.record("\(name): no error without an agent")
                } catch let e as LibvirtError {
                    #expect(e.code == .agentUnresponsive && e.isAgentUnavailable, "\(name): \(e)")
                    #expect(e.function == name)
                }
            }
        }
    }

    static func agentCalls(_ dom: Domain) -> [(String, @Sendable () async throws -> Void)] {
        [
            ("virDomainGetGuestInfo", { _ = try await dom.guestInfo() }),
            ("virDomainGetFSInfo", { _ = try await dom.fileSystems() }),
            ("virDomainInterfaceAddresses", { _ = try await dom.interfaceAddresses(source: .agent) }),
            ("virDomainSetUserPassword", { try await dom.setUserPassword(user: "root", password: "x") }),
            ("virDomainGetTime", { _ = try await dom.guestTime() }),
            ("virDomainFSFreeze", { try await dom.freezeFileSystems() }),
            ("virDomainFSThaw", { try await dom.thawFileSystems() }),
            ("virDomainGetHostname", { _ = try await dom.guestHostname(source: .agent) }),
            ("virDomainGetGuestVcpus", { _ = try await dom.guestVCPUs() }),
            ("virDomainAuthorizedSSHKeysGet", { _ = try await dom.authorizedSSHKeys(user: "root") }),
        ]
    }

    // MARK: Checkpoints and backup

    @Test func checkpointsAndPushBackup() async throws {
        guard let conn = await LiveQEMUTests.connect() else { return }
        defer { Task { await conn.close() } }
        let p = Self.prefix("bkp")
        let (disk, full, incr) = ("\(p).qcow2", "\(p)-full.qcow2", "\(p)-incr.qcow2")
        defer { for f in [disk, full, incr] { unlink(f) } }
        try await Self.qemuImg("create", "-q", "-f", "qcow2", disk, "32M")
        _ = await Self.run("/usr/bin/qemu-io", ["-f", "qcow2", "-c", "write -P 0xcc 0 2M", disk])
        try await Self.withGuest(conn, xml: Self.diskGuestXML(name: TestGuest.uniqueName("bkp"), disk: disk)) { dom in
            let events = try await conn.domainEvents(for: dom, .jobCompleted)
            // A full backup that also creates checkpoint c1.
            try await dom.beginBackup(
                xml: "<domainbackup><disks><disk name='vda' type='file'><target file='\(full)'/><driver type='qcow2'/></disk></disks></domainbackup>",
                checkpointXML: "<domaincheckpoint><name>c1</name></domaincheckpoint>")
            let done = await ObjectKindTests.first(events, within: .seconds(60))
            if case .jobCompleted(let stats)? = done?.kind { #expect(stats.operation == .backup) } else { Issue.record("no jobCompleted: \(String(describing: done))") }
            #expect(try await Self.chain(full) == [full])
            #expect(try await Self.qemuImg("info", "-U", full).contains("virtual size: 32 MiB"))
            await ObjectKindTests.expectError(.noDomainBackup, "virDomainBackupGetXMLDesc") { _ = try await dom.backupXML() }

            let c1 = try await dom.checkpoint(named: "c1")
            #expect(try await dom.listAllCheckpoints().map(\.name) == ["c1"])
            #expect(try await c1.xmlDescription(flags: [.noDomain, .size]).contains("<disk name='vda'"))
            // An incremental backup since c1, creating c2 whose parent is c1.
            try await dom.beginBackup(
                xml: "<domainbackup><incremental>c1</incremental><disks><disk name='vda' type='file'><target file='\(incr)'/><driver type='qcow2'/></disk></disks></domainbackup>",
                checkpointXML: "<domaincheckpoint><name>c2</name></domaincheckpoint>")
            _ = await ObjectKindTests.first(events, within: .seconds(60))
            #expect(FileManager.default.fileExists(atPath: incr))
            let c2 = try await dom.checkpoint(named: "c2")
            #expect(try await c2.parent() == c1)
            #expect(try await c1.children().map(\.name) == ["c2"])
            await ObjectKindTests.expectError(.noDomainCheckpoint, "virDomainCheckpointLookupByName") { _ = try await dom.checkpoint(named: "c9") }
            try await c1.delete(flags: .children)
            #expect(try await dom.listAllCheckpoints().isEmpty)
        }
    }

    // MARK: Network filters and host interfaces

    @Test func networkFiltersOnTheDaemon() async throws {
        guard let conn = await LiveQEMUTests.connect() else { return }
        defer { Task { await conn.close() } }
        let all = try await conn.listAllNetworkFilters()
        let arp = try #require(all.first { $0.name == "allow-arp" }, "libvirt's stock filters are defined")
        #expect(try await conn.networkFilter(named: "allow-arp") == arp)
        #expect(try await conn.networkFilter(uuid: arp.uuid).name == "allow-arp")
        #expect(try await conn.networkFilter(uuidString: arp.uuid.description).name == "allow-arp")
        // The classic listing (virConnectListNWFilters, each name looked up) gives the same filters.
        conn.modernCallsUnsupported.store(true, ordering: .relaxed)
        let classic = try await conn.listAllNetworkFilters()
        conn.modernCallsUnsupported.store(false, ordering: .relaxed)
        #expect(Set(classic.map(\.name)) == Set(all.map(\.name)))
        let name = "virtkit-test-filter-\(getpid())"
        let f = try await conn.defineNetworkFilter(xml: """
            <filter name='\(name)' chain='root'><filterref filter='allow-arp'/><rule action='drop' direction='in' priority='500'><all/></rule></filter>
            """)
        #expect(try await f.xmlDescription().contains("allow-arp"))
        try await f.undefine()
        await ObjectKindTests.expectError(.noNwfilter, "virNWFilterLookupByName") { _ = try await conn.networkFilter(named: name) }
        await ObjectKindTests.expectError(.xmlDetail, "virNWFilterDefineXMLFlags") { _ = try await conn.defineNetworkFilter(xml: "<filter") }
        // A binding of allow-arp to a port device (libvirt keeps it by name; no tap needed).
        let port = "vkb\(getpid() % 100_000)"
        let binding = try await conn.createNetworkFilterBinding(xml: """
            <filterbinding><owner><name>virtkit-test-binding</name><uuid>\(LibvirtUUID(bytes: (0..<16).map { _ in UInt8.random(in: 0...255) })!)</uuid></owner>
            <portdev name='\(port)'/><mac address='52:54:00:7e:5d:c4'/><filterref filter='allow-arp'/></filterbinding>
            """)
        #expect(binding.portDevice == port && binding.filterName == "allow-arp")
        #expect(try await conn.listAllNetworkFilterBindings().contains(binding))
        #expect(try await conn.networkFilterBinding(portDevice: port) == binding)
        #expect(try await binding.xmlDescription().contains("52:54:00:7e:5d:c4"))
        try await binding.delete()
        await ObjectKindTests.expectError(.noNwfilterBinding, "virNWFilterBindingLookupByPortDev") { _ = try await conn.networkFilterBinding(portDevice: port) }
        await ObjectKindTests.expectError(.internalError, "virNWFilterBindingCreateXML") { _ = try await conn.createNetworkFilterBinding(xml: "<filterbinding/>") }  // "no port dev name"

        // The host's interfaces (udev backend: read-only).
        let ifaces = try await conn.listAllInterfaces()
        #expect(!ifaces.isEmpty)
        if let up = try await conn.listAllInterfaces(flags: .active).first {
            #expect(try await conn.hostInterface(named: up.name) == up)
            #expect(try await up.xmlDescription().contains("name='\(up.name)'"))
        }
    }
}
