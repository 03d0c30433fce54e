import Foundation
@testable import Libvirt
import Testing
import VirtCore
import VirtKitTestSupport

/// Block jobs, save/restore, guest-agent calls, checkpoints, host interfaces, network
/// filters and the remaining domain/host calls on the test driver (a private node per
/// test: one running domain `breadth` with disk `vda` and NIC `vnet7`, host interface
/// `eth7`). What the 9.0 test driver lacks must be a typed `.noSupport` naming the C
/// function; bad input a typed error from the function called.
@Suite struct APIBreadthTests {
    static func node(_ tag: String) async throws -> (Connection, Domain) {
        let xml = """
        <node>
          <cpu><mhz>2400</mhz><model>x86_64</model><active>4</active><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>2</threads></cpu>
          <memory>8388608</memory>
          <domain type='test'>
            <name>breadth</name><memory>1048576</memory><currentMemory>1048576</currentMemory>
            <vcpu>2</vcpu><os><type>hvm</type></os>
            <devices>
              <disk type='file' device='disk'><source file='/guest/breadth.img'/><target dev='vda' bus='virtio'/></disk>
              <interface type='network'><mac address='52:54:00:aa:bb:01'/><source network='default'/><target dev='vnet7'/></interface>
              <memballoon model='virtio'/>
            </devices>
          </domain>
          <network><name>default</name><bridge name='virbr0'/><ip address='192.168.122.1' netmask='255.255.255.0'/></network>
          <interface type='ethernet' name='eth7'><start mode='onboot'/><mac address='52:54:00:aa:bb:07'/>
            <protocol family='ipv4'><ip address='192.168.0.7' prefix='24'/></protocol></interface>
        </node>
        """
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("virtkit-breadth-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).xml").path
        try xml.write(toFile: path, atomically: true, encoding: .utf8)
        let conn = try await Connection.open("test://\(path)")
        return (conn, try await conn.domain(named: "breadth"))
    }


    // MARK: Block jobs and block devices

    @Test func blockDevicesAndJobs() async throws {
        let (conn, dom) = try await Self.node("block")
        defer { Task { await conn.close() } }
        let info = try await dom.blockInfo(disk: "vda")
        #expect(info.capacity.bytes > 0 && info.physical.bytes >= info.capacity.bytes)
        await ObjectKindTests.expectError(.invalidArg, "virDomainGetBlockInfo") { _ = try await dom.blockInfo(disk: "nope") }
        let basic = try await dom.blockStatsBasic(disk: "vda")
        #expect(basic.readRequests != nil && basic.writeBytes != nil)
        // The test driver has no block jobs at all: each call names its own function.
        await ObjectKindTests.expectError(.noSupport, "virDomainGetBlockJobInfo") { _ = try await dom.blockJobInfo(disk: "vda") }
        await ObjectKindTests.expectError(.noSupport, "virDomainBlockJobAbort") { try await dom.abortBlockJob(disk: "vda", flags: .pivot) }
        await ObjectKindTests.expectError(.noSupport, "virDomainBlockJobSetSpeed") { try await dom.setBlockJobSpeed(disk: "vda", bytesPerSecond: 1 << 20) }
        await ObjectKindTests.expectError(.noSupport, "virDomainBlockPull") { try await dom.blockPull(disk: "vda") }
        await ObjectKindTests.expectError(.noSupport, "virDomainBlockRebase") { try await dom.blockRebase(disk: "vda", base: nil) }
        await ObjectKindTests.expectError(.noSupport, "virDomainBlockCommit") { try await dom.blockCommit(disk: "vda", flags: .active) }
        await ObjectKindTests.expectError(.noSupport, "virDomainBlockCopy") {
            try await dom.blockCopy(disk: "vda", destinationXML: "<disk type='file'><source file='/tmp/x'/></disk>",
                                    parameters: BlockCopyParameters(bandwidthBytesPerSecond: 1 << 20, granularity: 65536))
        }
        await ObjectKindTests.expectError(.noSupport, "virDomainBlockResize") { try await dom.blockResize(disk: "vda", to: .mebibytes(64)) }
        await ObjectKindTests.expectError(.noSupport, "virDomainBlockStatsFlags") { _ = try await dom.blockStats(disk: "vda") }
        await ObjectKindTests.expectError(.noSupport, "virDomainBlockPeek") { _ = try await dom.blockPeek(disk: "vda", offset: 0, count: 512) }
        await ObjectKindTests.expectError(.noSupport, "virDomainSetBlockThreshold") { try await dom.setBlockThreshold(disk: "vda", .mebibytes(1)) }
        // Bad input is refused before any C call (no function named).
        do {
            _ = try await dom.blockPeek(disk: "vda", offset: 0, count: -1)
            Issue.record("negative count accepted")
        } catch let e as LibvirtError {
            #expect(e.code == .invalidArg && e.function == nil)
        }
        // The test driver's memory is a counting pattern: the bytes really come back.
        let mem = try await dom.memoryPeek(start: 0, count: 16)
        #expect(mem == (0..<16).map { UInt8($0) })
        // The progress stream ends with the first call's typed error.
        do {
            for try await _ in dom.blockJobProgress(disk: "vda") { Issue.record("a job appeared") }
            Issue.record("no error")
        } catch let e as LibvirtError {
            #expect(e.code == .noSupport && e.function == "virDomainGetBlockJobInfo")
        }
    }

    @Test func blockJobInfoDecoding() {
        let ready = BlockJobInfo(type: .copy, bandwidthBytesPerSecond: 0, current: 10, end: 10)
        #expect(ready.isReady && ready.progress == 1)
        let sizing = BlockJobInfo(type: .pull, bandwidthBytesPerSecond: 0, current: 0, end: 0)
        #expect(!sizing.isReady && sizing.progress == nil)
        #expect(BlockJobType(rawValue: 99) == .unknown(99))
    }

    /// libvirt's own readiness, from the live XML's `<mirror>`: only the named disk's counts.
    @Test func mirrorReadinessComesFromTheNamedDisk() {
        func disk(_ dev: String, _ file: String, mirror: String?) -> String {
            "<disk type='file' device='disk'><source file='\(file)'/>" + (mirror.map { "<mirror type='file' file='/c.qcow2' job='copy'\($0)><format type='qcow2'/></mirror>" } ?? "")
                + "<target dev='\(dev)' bus='virtio'/></disk>"
        }
        let xml = "<domain><devices>" + disk("vda", "/a.qcow2", mirror: "") + disk("vdb", "/b.qcow2", mirror: " ready='yes'") + "</devices></domain>"
        #expect(!Domain.mirrorIsReady(xml, disk: "vda"), "vda's mirror is not ready yet")
        #expect(Domain.mirrorIsReady(xml, disk: "vdb"))
        #expect(Domain.mirrorIsReady(xml, disk: "/b.qcow2"), "named by its source path")
        #expect(!Domain.mirrorIsReady(xml, disk: "vdc"))
        #expect(!Domain.mirrorIsReady("<domain><devices>" + disk("vda", "/a.qcow2", mirror: nil) + "</devices></domain>", disk: "vda"))
    }

    // MARK: Save, restore, managed save, core dump

    @Test func saveRestoreAndManagedSave() async throws {
        let (conn, dom) = try await Self.node("save")
        defer { Task { await conn.close() } }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-breadth-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sav").path
        defer { unlink(path) }
        try await dom.setMetadata(.title, "saved title")
        try await dom.save(to: path)
        #expect(try await dom.isActive() == false)
        let saved = try await conn.saveImageXML(path: path)
        #expect(saved.contains("<name>breadth</name>") && saved.contains("saved title"))
        try await conn.defineSaveImageXML(path: path, xml: saved.replacingOccurrences(of: "saved title", with: "edited title"))
        #expect(try await conn.saveImageXML(path: path).contains("edited title"))
        try await conn.restore(from: path)
        #expect(try await dom.isActive())
        #expect(try await dom.metadata(.title) == "edited title")
        await ObjectKindTests.expectError(.systemError, "virDomainRestore") { try await conn.restore(from: path + ".missing") }
        // The test driver takes no restore flags: refused, typed.
        await ObjectKindTests.expectError(.invalidArg, "virDomainRestoreFlags") { try await conn.restore(from: path, flags: .paused) }
        await ObjectKindTests.expectError(.noSupport, "virDomainRestoreParams") { try await conn.restore(parameters: ["file": .string(path)]) }

        // Managed save: the image exists until the next start or its removal.
        #expect(try await dom.hasManagedSaveImage() == false)
        try await dom.managedSave()
        #expect(try await dom.isActive() == false)
        #expect(try await dom.hasManagedSaveImage())
        await ObjectKindTests.expectError(.noSupport, "virDomainManagedSaveGetXMLDesc") { _ = try await dom.managedSaveXML() }
        await ObjectKindTests.expectError(.noSupport, "virDomainManagedSaveDefineXML") { try await dom.defineManagedSaveXML("<domain/>", flags: .paused) }
        try await dom.removeManagedSaveImage()
        #expect(try await dom.hasManagedSaveImage() == false)
        try await dom.start()
        try await dom.managedSave()
        try await dom.start()  // restores from the image, which goes
        #expect(try await dom.isActive())
        #expect(try await dom.hasManagedSaveImage() == false)

        // Saving an inactive domain is refused, typed.
        try await dom.destroy()
        await ObjectKindTests.expectError(.operationInvalid, "virDomainSave") { try await dom.save(to: path) }
        await ObjectKindTests.expectError(.invalidArg, "virDomainSaveFlags") { try await dom.save(to: path, flags: .bypassCache) }
        await ObjectKindTests.expectError(.operationInvalid, "virDomainManagedSave") { try await dom.managedSave() }
    }

    @Test func coreDump() async throws {
        let (conn, dom) = try await Self.node("dump")
        defer { Task { await conn.close() } }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-breadth-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).core").path
        defer { unlink(path) }
        try await dom.coreDump(to: path)
        #expect(FileManager.default.fileExists(atPath: path))
        unlink(path)
        try await dom.coreDump(to: path, format: .raw)
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(CoreDumpFormat(rawValue: 4) == .windowsDump && CoreDumpFormat(rawValue: 42) == .unknown(42))
        try await dom.destroy()
        await ObjectKindTests.expectError(.operationInvalid, "virDomainCoreDump") { try await dom.coreDump(to: path) }
        await ObjectKindTests.expectError(.operationInvalid, "virDomainCoreDumpWithFormat") { try await dom.coreDump(to: path, format: .raw) }
        // kdump formats need .memoryOnly, which the test driver does not take: refused, typed.
        await ObjectKindTests.expectError(.invalidArg, "virDomainCoreDumpWithFormat") { try await dom.coreDump(to: path, format: .kdumpZlib, flags: .memoryOnly) }
    }

    // MARK: Guest agent

    @Test func guestAgentCalls() async throws {
        let (conn, dom) = try await Self.node("agent")
        defer { Task { await conn.close() } }
        let fs = try await dom.fileSystems()
        #expect(fs.map(\.mountPoint) == ["/", "/boot"] && fs.first?.diskAliases == ["vda"] && fs.first?.type == "ext4")
        let addrs = try await dom.interfaceAddresses(source: .agent)
        let nic = try #require(addrs.first)
        #expect(nic.mac == "52:54:00:aa:bb:01")
        #expect(nic.addresses.first?.isIPv6 == false && nic.addresses.first?.prefix == 24)
        #expect(nic.addresses.first?.address.hasPrefix("192.168.122.") == true)
        try await dom.setGuestTime(Timestamp(sinceUnixEpoch: .seconds(1000) + .nanoseconds(5)))
        #expect(try await dom.guestTime() == Timestamp(sinceUnixEpoch: .seconds(1000) + .nanoseconds(5)))
        #expect(try await dom.freezeFileSystems() == 2)
        #expect(try await dom.thawFileSystems(["/"]) == 1)
        try await dom.trimFileSystem()
        try await dom.setUserPassword(user: "root", password: "secret")
        #expect(try await dom.guestHostname() == "breadthhost")  // the test driver's: name + "host"
        await ObjectKindTests.expectError(.noSupport, "virDomainGetGuestInfo") { _ = try await dom.guestInfo([.os, .hostname]) }
        await ObjectKindTests.expectError(.noSupport, "virDomainGetGuestVcpus") { _ = try await dom.guestVCPUs() }
        await ObjectKindTests.expectError(.noSupport, "virDomainSetGuestVcpus") { try await dom.setGuestVCPUs([1], online: false) }
        await ObjectKindTests.expectError(.noSupport, "virDomainAgentSetResponseTimeout") { try await dom.setAgentResponseTimeout(.seconds(5)) }
        await ObjectKindTests.expectError(.noSupport, "virDomainAuthorizedSSHKeysGet") { _ = try await dom.authorizedSSHKeys(user: "root") }
        await ObjectKindTests.expectError(.noSupport, "virDomainAuthorizedSSHKeysSet") { try await dom.setAuthorizedSSHKeys(user: "root", ["ssh-ed25519 AAAA x"], change: .append) }
        // Agent calls on a stopped guest: typed, naming the call.
        try await dom.destroy()
        await ObjectKindTests.expectError(.operationInvalid, "virDomainGetFSInfo") { _ = try await dom.fileSystems() }
        await ObjectKindTests.expectError(.operationInvalid, "virDomainFSFreeze") { try await dom.freezeFileSystems() }
        await ObjectKindTests.expectError(.operationInvalid, "virDomainGetTime") { _ = try await dom.guestTime() }
    }

    @Test func agentUnavailableClassification() {
        #expect(LibvirtError(code: .agentUnresponsive, message: "Guest agent is not responding: QEMU guest agent is not connected").isAgentUnavailable)
        #expect(LibvirtError(code: .argumentUnsupported, message: "argument unsupported: QEMU guest agent is not configured").isAgentUnavailable)
        #expect(!LibvirtError(code: .argumentUnsupported, message: "unsupported flags").isAgentUnavailable)
        #expect(!LibvirtError(code: .noSupport, message: "this function is not supported: guest agent").isAgentUnavailable)
        #expect(GuestInfo(["hostname": .string("h"), "timezone.offset": .int(-3600), "user.count": .uint(2)]).timezoneOffset == .seconds(-3600))
        #expect(InterfaceAddressSource(rawValue: 2) == .arp)
    }

    // MARK: Checkpoints

    @Test func checkpointsTree() async throws {
        let (conn, dom) = try await Self.node("ckpt")
        defer { Task { await conn.close() } }
        #expect(try await dom.listAllCheckpoints().isEmpty)
        let c1 = try await dom.createCheckpoint(xml: "<domaincheckpoint><name>c1</name><description>first</description></domaincheckpoint>")
        let c2 = try await dom.createCheckpoint(xml: "<domaincheckpoint><name>c2</name></domaincheckpoint>")
        #expect(c1.name == "c1" && c2.domain == dom)
        #expect(try await c1.xmlDescription(flags: .noDomain).contains("<description>first</description>"))
        #expect(try await c2.parent() == c1)
        #expect(try await c1.parent() == nil)
        #expect(try await c1.children().map(\.name) == ["c2"])
        #expect(Set(try await dom.listAllCheckpoints().map(\.name)) == ["c1", "c2"])
        #expect(try await dom.listAllCheckpoints(flags: .roots).map(\.name) == ["c1"])
        #expect(try await dom.checkpoint(named: "c2") == c2)
        await ObjectKindTests.expectError(.noDomainCheckpoint, "virDomainCheckpointLookupByName") { _ = try await dom.checkpoint(named: "nope") }
        await ObjectKindTests.expectError(.xmlDetail, "virDomainCheckpointCreateXML") { _ = try await dom.createCheckpoint(xml: "<domaincheckpoint>") }
        try await c1.delete(flags: .children)
        #expect(try await dom.listAllCheckpoints().isEmpty)
        await ObjectKindTests.expectError(.noDomainCheckpoint, "virDomainCheckpointGetXMLDesc") { _ = try await c2.xmlDescription() }
        // Backup jobs are not in the test driver.
        await ObjectKindTests.expectError(.noSupport, "virDomainBackupBegin") { try await dom.beginBackup(xml: "<domainbackup/>") }
        await ObjectKindTests.expectError(.noSupport, "virDomainBackupGetXMLDesc") { _ = try await dom.backupXML() }
    }

    // MARK: Host interfaces and network filters

    @Test func hostInterfaces() async throws {
        let (conn, _) = try await Self.node("iface")
        defer { Task { await conn.close() } }
        let all = try await conn.listAllInterfaces()
        #expect(all.map(\.name) == ["eth7"])
        let eth7 = try await conn.hostInterface(named: "eth7")
        #expect(eth7.mac == "52:54:00:aa:bb:07" && eth7 == all[0])
        #expect(try await conn.hostInterface(mac: "52:54:00:aa:bb:07") == eth7)
        #expect(try await eth7.isActive())
        #expect(try await eth7.xmlDescription().contains("192.168.0.7"))
        await ObjectKindTests.expectError(.noInterface, "virInterfaceLookupByName") { _ = try await conn.hostInterface(named: "nope0") }
        await ObjectKindTests.expectError(.noInterface, "virInterfaceLookupByMACString") { _ = try await conn.hostInterface(mac: "00:00:00:00:00:01") }

        // A transaction: define a bridge, roll back, and it is gone.
        try await conn.beginInterfaceChanges()
        let br = try await conn.defineInterface(xml: "<interface type='bridge' name='br7'><bridge><interface type='ethernet' name='eth8'/></bridge></interface>")
        #expect(try await br.isActive() == false)
        try await br.start()
        #expect(try await br.isActive())
        #expect(Set(try await conn.listAllInterfaces(flags: .active).map(\.name)) == ["eth7", "br7"])
        try await br.destroy()
        try await conn.rollbackInterfaceChanges()
        #expect(try await conn.listAllInterfaces().map(\.name) == ["eth7"])
        await ObjectKindTests.expectError(.operationInvalid, "virInterfaceChangeRollback") { try await conn.rollbackInterfaceChanges() }
        await ObjectKindTests.expectError(.operationInvalid, "virInterfaceChangeCommit") { try await conn.commitInterfaceChanges() }

        // Committed: it stays; undefine removes it.
        try await conn.beginInterfaceChanges()
        let br2 = try await conn.defineInterface(xml: "<interface type='bridge' name='br8'><bridge><interface type='ethernet' name='eth9'/></bridge></interface>")
        try await conn.commitInterfaceChanges()
        #expect(try await conn.listAllInterfaces(flags: .inactive).map(\.name).contains("br8"))
        try await br2.undefine()
        await ObjectKindTests.expectError(.noInterface, "virInterfaceLookupByName") { _ = try await conn.hostInterface(named: "br8") }
        await ObjectKindTests.expectError(.xmlDetail, "virInterfaceDefineXML") { _ = try await conn.defineInterface(xml: "<interface") }
    }

    @Test func networkFiltersAreNoSupportOnTheTestDriver() async throws {
        let (conn, _) = try await Self.node("nwfilter")
        defer { Task { await conn.close() } }
        // ListAll unsupported: the classic count ran next (and is unsupported too).
        await ObjectKindTests.expectError(.noSupport, "virConnectNumOfNWFilters") { _ = try await conn.listAllNetworkFilters() }
        await ObjectKindTests.expectError(.noSupport, "virNWFilterLookupByName") { _ = try await conn.networkFilter(named: "clean-traffic") }
        await ObjectKindTests.expectError(.noSupport, "virNWFilterDefineXML") { _ = try await conn.defineNetworkFilter(xml: "<filter name='x' chain='root'/>") }
        await ObjectKindTests.expectError(.noSupport, "virConnectListAllNWFilterBindings") { _ = try await conn.listAllNetworkFilterBindings() }
        await ObjectKindTests.expectError(.noSupport, "virNWFilterBindingLookupByPortDev") { _ = try await conn.networkFilterBinding(portDevice: "vnet0") }
    }

    // MARK: Domain control and host facts

    @Test func domainControlCalls() async throws {
        let (conn, dom) = try await Self.node("control")
        defer { Task { await conn.close() } }
        // Metadata: set, read back, remove; absent is a typed error.
        try await dom.setMetadata(.descriptionText, "a description")
        #expect(try await dom.metadata(.descriptionText) == "a description")
        try await dom.setMetadata(.element, "<app><tier>gold</tier></app>", key: "vk", uri: "https://virtkit.example/app")
        #expect(try await dom.metadata(.element, uri: "https://virtkit.example/app").contains("<tier>gold</tier>"))
        try await dom.setMetadata(.descriptionText, nil)
        await ObjectKindTests.expectError(.noDomainMetadata, "virDomainGetMetadata") { _ = try await dom.metadata(.descriptionText) }

        let mem = try await dom.memoryStats()
        #expect(mem.actualBalloon == .kibibytes(1_048_576) && mem.raw[Int32(6)] == 1_048_576)
        #expect(mem.swapIn == .kibibytes(0) && mem.rss == .kibibytes(524_288) && mem.lastUpdate != nil && mem.hugetlbFailures == 0)
        try await dom.setMemoryStatsPeriod(.seconds(5))
        let nic = try await dom.interfaceStats("52:54:00:aa:bb:01")
        #expect(nic.rxBytes != nil && nic.txPackets != nil)
        await ObjectKindTests.expectError(.invalidArg, "virDomainInterfaceStats") { _ = try await dom.interfaceStats("nope9") }
        #expect(try await dom.interfaceParameters("52:54:00:aa:bb:01")["inbound.average"]?.uint64 == 0)

        let perf = try await dom.perfEvents()
        #expect(perf["cpu_cycles"] == false)
        try await dom.setPerfEvents(["cpu_cycles": true])
        #expect(try await dom.perfEvents()["cpu_cycles"] == true)

        let vcpus = try await dom.vcpuInfo()
        #expect(vcpus.map(\.number) == [0, 1] && vcpus[0].hostCPU != nil && !vcpus[0].affinity.isEmpty)
        #expect(try await dom.maxVCPUs() == 2)
        #expect(try await dom.maxMemory() == .gibibytes(1))
        #expect(try await dom.osType() == "linux")  // the test driver's fixed answer
        #expect(try await dom.isUpdated() == false)
        try await dom.setLifecycleAction(.poweroff, .restart)
        #expect(try await dom.xmlDescription().contains("<on_poweroff>restart</on_poweroff>"))
        try await dom.sendKey([30, 48], hold: .milliseconds(50))
        try await dom.injectNMI()
        try await dom.reset()
        let label = try await dom.securityLabel()
        #expect(label.label == "libvirt-test" && label.enforcing)
        await ObjectKindTests.expectError(.noSupport, "virDomainGetSecurityLabelList") { _ = try await dom.securityLabels() }
        await ObjectKindTests.expectError(.noSupport, "virDomainPMSuspendForDuration") { try await dom.pmSuspend(.memory) }
        await ObjectKindTests.expectError(.noSupport, "virDomainPMWakeup") { try await dom.pmWakeup() }
        await ObjectKindTests.expectError(.noSupport, "virDomainAbortJobFlags") { try await dom.abortJob(postcopy: true) }
        await ObjectKindTests.expectError(.noSupport, "virDomainStartDirtyRateCalc") { try await dom.startDirtyRateCalculation(over: .seconds(1)) }
        await ObjectKindTests.expectError(.noSupport, "virDomainMigrateGetMaxSpeed") { _ = try await dom.migrationMaxSpeed() }
        await ObjectKindTests.expectError(.noSupport, "virDomainSetVcpu") { try await dom.setVCPUs([1], enabled: false) }
        #expect(try await dom.messages().allSatisfy { !$0.isEmpty })  // no taint or deprecation on the test driver
        await ObjectKindTests.expectError(.operationInvalid, "virDomainRename") { try await dom.rename(to: "renamed") }
        // File descriptors: the test driver starts with them (and ignores them).
        let fds = try await conn.createDomain(xml: "<domain type='test'><name>fds</name><memory>1024</memory><os><type>hvm</type></os></domain>", passing: [])
        #expect(fds.name == "fds")
        #expect(try await fds.isActive())
        #expect(try await fds.isPersistent() == false)
        await ObjectKindTests.expectError(.noSupport, "virDomainFDAssociate") { try await dom.associateFiles("grp", [0]) }
        await ObjectKindTests.expectError(.noSupport, "virDomainOpenGraphicsFD") { _ = try await dom.openGraphics() }
        try await dom.destroy()
        try await dom.start(passing: [])
        #expect(try await dom.isActive())
        await ObjectKindTests.expectError(.internalError, "virDomainCreateWithFiles") { try await dom.start(passing: []) }
        try await dom.destroy()
        try await dom.rename(to: "renamed")
        #expect(try await conn.domain(named: "renamed").uuid == dom.uuid)
        #expect(KeycodeSet(rawValue: 9) == .qnum && DomainLifecycleAction(rawValue: 2) == .restartRename && SuspendTarget(rawValue: 1) == .disk)
    }

    @Test func hostExtras() async throws {
        let (conn, _) = try await Self.node("host")
        defer { Task { await conn.close() } }
        #expect(try await conn.maxVCPUs() > 0)
        #expect(try await conn.sysinfoXML().hasPrefix("<sysinfo"))
        #expect(try await conn.securityModel().model == "testSecurity")
        #expect(try await conn.findStoragePoolSources(type: "logical").contains("<sources>"))
        await ObjectKindTests.expectError(.noSupport, "virNodeGetMemoryParameters") { _ = try await conn.nodeMemoryParameters() }
        await ObjectKindTests.expectError(.noSupport, "virNodeSetMemoryParameters") { try await conn.setNodeMemoryParameters(NodeMemoryParameters(pagesToScan: 100)) }
        await ObjectKindTests.expectError(.noSupport, "virNodeGetSEVInfo") { _ = try await conn.sevInfo() }
        await ObjectKindTests.expectError(.noSupport, "virConnectDomainXMLToNative") { _ = try await conn.nativeConfig("qemu-argv", fromDomainXML: "<domain/>") }
        await ObjectKindTests.expectError(.noSupport, "virStoragePoolLookupByTargetPath") { _ = try await conn.storagePool(targetPath: "/var/lib/libvirt/images") }
        let ksm = NodeMemoryParameters(pagesToScan: 200, sleep: .milliseconds(20), mergeAcrossNodes: false).encoded
        #expect(ksm["shm_pages_to_scan"] == .uint(200) && ksm["shm_sleep_millisecs"] == .uint(20) && ksm["shm_merge_across_nodes"] == .uint(0))
    }
}
