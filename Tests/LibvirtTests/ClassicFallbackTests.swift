import CLibvirt
import Foundation
@testable import Libvirt
import Testing
import VirtCore
import VirtKitTestSupport

/// The classic calls VirtKit falls back to where a driver or an older daemon lacks the
/// modern one (`withClassicFallback`), the host-CPU comparison, the UUID-string lookups and
/// libvirt's error reporting. Two ways the classic path runs here: naturally, where the 9.0
/// test driver lacks the modern call (attach/detach, job stats, nwfilters, secrets, wipe),
/// and through a connection's `modernCallsUnsupported` switch, which makes every call with a
/// classic equivalent take it, as against a daemon without the modern call.
@Suite struct ClassicFallbackTests {
    /// A private test-driver node: a running and a shut-off domain, a network, a pool with
    /// two volumes, an interface and a node device (all active, as the test driver loads them).
    static func node() throws -> String {
        let xml = """
        <node>
          <cpu><mhz>2400</mhz><model>x86_64</model><active>4</active><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>2</threads></cpu>
          <memory>8388608</memory>
          <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
            <name>run</name><memory>262144</memory><currentMemory>262144</currentMemory><vcpu>2</vcpu><os><type>hvm</type></os>
            <test:runstate>1</test:runstate>
          </domain>
          <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
            <name>off</name><memory>131072</memory><currentMemory>131072</currentMemory><vcpu>1</vcpu><os><type>hvm</type></os>
            <test:runstate>5</test:runstate>
          </domain>
          <network><name>net-a</name><uuid>0b0e0f00-0000-4000-8000-00000000000a</uuid><bridge name='vkbr-a'/></network>
          <pool type='dir'><name>pool-a</name><uuid>0b0e0f00-0000-4000-8000-0000000000b0</uuid>
            <capacity>1000000000</capacity><allocation>0</allocation><available>1000000000</available>
            <target><path>/pool-a</path></target>
            <volume><name>v1.img</name><capacity>1048576</capacity><allocation>0</allocation><target><path>/pool-a/v1.img</path></target></volume>
            <volume><name>v2.img</name><capacity>1048576</capacity><allocation>0</allocation><target><path>/pool-a/v2.img</path></target></volume>
          </pool>
          <interface type='ethernet' name='eth7'><start mode='onboot'/><mac address='aa:bb:cc:dd:ee:07'/></interface>
          <device><name>computer</name><capability type='system'><hardware><vendor>VirtKit</vendor><uuid>0b0e0f00-0000-4000-8000-0000000000c0</uuid></hardware></capability></device>
        </node>
        """
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("virtkit-classic-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).xml").path
        try xml.write(toFile: path, atomically: true, encoding: .utf8)
        return "test://\(path)"
    }

    static func expectError(_ code: LibvirtError.Code, _ function: String, _ body: () async throws -> Void,
                            sourceLocation: SourceLocation = #_sourceLocation) async {
        await ObjectKindTests.expectError(code, function, body, sourceLocation: sourceLocation)
    }

    /// Runs `body` with the connection's modern calls switched off, then on again.
    static func classic<T>(_ conn: Connection, _ body: () async throws -> T) async rethrows -> T {
        conn.modernCallsUnsupported.store(true, ordering: .relaxed)
        defer { conn.modernCallsUnsupported.store(false, ordering: .relaxed) }
        return try await body()
    }

    /// `body` fails the same way through the modern and through the classic call, and each
    /// error names the call that ran.
    static func sameFailure(_ conn: Connection, _ modern: String, _ classic: String, _ body: () async throws -> Void,
                            sourceLocation: SourceLocation = #_sourceLocation) async throws {
        func failure() async -> LibvirtError? {
            do { try await body() } catch let e as LibvirtError { return e } catch { Issue.record("untyped \(error)", sourceLocation: sourceLocation) }
            return nil
        }
        let m = try #require(await failure(), "\(modern) did not fail", sourceLocation: sourceLocation)
        let c = try #require(await Self.classic(conn) { await failure() }, "\(classic) did not fail", sourceLocation: sourceLocation)
        #expect(m.function == modern && c.function == classic, sourceLocation: sourceLocation)
        #expect(m.code == c.code, "\(m) vs \(c)", sourceLocation: sourceLocation)
    }

    // MARK: - The decision

    /// `withClassicFallback` alone: the classic call runs only after `VIR_ERR_NO_SUPPORT`,
    /// other errors and a missing classic equivalent keep the modern error, and the switch
    /// skips the modern call entirely.
    @Test func fallbackRunsTheClassicCallOnlyOnNoSupport() async throws {
        let conn = try await Connection.open(try Self.node())
        defer { Task { await conn.close() } }
        func run(_ modernError: LibvirtError.Code?, classic: Bool) -> (result: String?, error: LibvirtError?, modernRan: Bool) {
            var modernRan = false
            do {
                let r = try withClassicFallback(conn, { () throws(LibvirtError) -> String in
                    modernRan = true
                    if let modernError { throw LibvirtError(code: modernError, message: "modern", function: "modern") }
                    return "modern"
                }, classic: classic ? { () throws(LibvirtError) -> String in "classic" } : nil)
                return (r, nil, modernRan)
            } catch { return (nil, error, modernRan) }
        }
        #expect(run(nil, classic: true).result == "modern")
        #expect(run(.noSupport, classic: true).result == "classic")
        #expect(run(.noSupport, classic: false).error?.function == "modern")
        #expect(run(.operationInvalid, classic: true).error?.code == .operationInvalid, "only NO_SUPPORT falls back")
        let switched = await Self.classic(conn) { run(nil, classic: true) }
        #expect(switched.result == "classic" && !switched.modernRan)
        let noClassic = await Self.classic(conn) { run(nil, classic: false) }
        #expect(noClassic.result == "modern", "without a classic equivalent the modern call runs even when switched off")
    }

    // MARK: - Listings

    /// Every `listAll…` answers the same through the classic lists (active and inactive
    /// names, each looked up) as through `ListAll`, for no flag, active, inactive and both.
    @Test func classicListingsAgreeWithListAll() async throws {
        let conn = try await Connection.open(try Self.node())
        defer { Task { await conn.close() } }
        // Inactive objects of each kind next to the node's active ones.
        _ = try await conn.defineDomain(xml: "<domain type='test'><name>defined</name><memory>65536</memory><os><type>hvm</type></os></domain>")
        _ = try await conn.defineNetwork(xml: "<network><name>net-b</name><bridge name='vkbr-b'/></network>")
        _ = try await conn.defineStoragePool(xml: "<pool type='dir'><name>pool-b</name><target><path>/pool-b</path></target></pool>")
        _ = try await conn.defineInterface(xml: "<interface type='ethernet' name='eth8'><mac address='aa:bb:cc:dd:ee:08'/></interface>")
        let run = try await conn.domain(named: "run")
        let s1 = try await run.createSnapshot(xml: "<domainsnapshot><name>s1</name></domainsnapshot>")
        _ = try await run.createSnapshot(xml: "<domainsnapshot><name>s2</name></domainsnapshot>")
        _ = try await run.createSnapshot(xml: "<domainsnapshot><name>s3</name></domainsnapshot>")

        func both<T: LibvirtObject>(_ what: String, expect: Set<String>, _ list: () async throws -> [T], name: (T) -> String,
                                    sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let modern = Set(try await list().map(name))
            let classic = Set(try await Self.classic(conn) { try await list() }.map(name))
            #expect(modern == expect, "\(what) ListAll", sourceLocation: sourceLocation)
            #expect(classic == expect, "\(what) classic lists", sourceLocation: sourceLocation)
        }
        try await both("domains", expect: ["run", "off", "defined"], { try await conn.listAllDomains() }, name: \.name)
        try await both("running domains", expect: ["run"], { try await conn.listAllDomains(flags: .active) }, name: \.name)
        try await both("inactive domains", expect: ["off", "defined"], { try await conn.listAllDomains(flags: .inactive) }, name: \.name)
        try await both("domains, both states", expect: ["run", "off", "defined"], { try await conn.listAllDomains(flags: [.active, .inactive]) }, name: \.name)
        try await both("networks", expect: ["net-a", "net-b"], { try await conn.listAllNetworks() }, name: \.name)
        try await both("inactive networks", expect: ["net-b"], { try await conn.listAllNetworks(flags: .inactive) }, name: \.name)
        try await both("active pools", expect: ["pool-a"], { try await conn.listAllStoragePools(flags: .active) }, name: \.name)
        try await both("pools", expect: ["pool-a", "pool-b"], { try await conn.listAllStoragePools() }, name: \.name)
        try await both("interfaces", expect: ["eth7", "eth8"], { try await conn.listAllInterfaces() }, name: \.name)
        try await both("inactive interfaces", expect: ["eth8"], { try await conn.listAllInterfaces(flags: .inactive) }, name: \.name)
        try await both("node devices", expect: ["computer"], { try await conn.listAllNodeDevices() }, name: \.name)
        let pool = try await conn.storagePool(named: "pool-a")
        try await both("volumes", expect: ["v1.img", "v2.img"], { try await pool.listAllVolumes() }, name: \.name)
        try await both("snapshots", expect: ["s1", "s2", "s3"], { try await run.listAllSnapshots() }, name: \.name)
        try await both("root snapshots", expect: ["s1"], { try await run.listAllSnapshots(flags: .roots) }, name: \.name)
        try await both("children", expect: ["s2"], { try await s1.children() }, name: \.name)
        try await both("descendants", expect: ["s2", "s3"], { try await s1.children(flags: .descendants) }, name: \.name)

        // Flags the classic lists can't answer keep the modern call.
        let persistent = try await Self.classic(conn) { try await conn.listAllDomains(flags: .persistent) }
        #expect(Set(persistent.map(\.name)) == ["run", "off", "defined"])
        // The handles are real: they answer calls.
        let viaClassic = try await Self.classic(conn) { try await conn.listAllDomains(flags: .active) }
        #expect(try await viaClassic.first?.isActive() == true)
    }

    /// Where the test driver lacks the modern call, the fallback happens by itself and the
    /// error names the classic call that ran last.
    @Test func theTestDriverTakesTheClassicPathByItself() async throws {
        let conn = try await Connection.open(try Self.node())
        defer { Task { await conn.close() } }
        await Self.expectError(.noSupport, "virConnectNumOfNWFilters") { _ = try await conn.listAllNetworkFilters() }
        await Self.expectError(.noSupport, "virConnectNumOfSecrets") { _ = try await conn.listAllSecrets() }
        await Self.expectError(.noSupport, "virConnectListAllSecrets") { _ = try await conn.listAllSecrets(flags: .ephemeral) }
        await Self.expectError(.noSupport, "virNWFilterDefineXML") { _ = try await conn.defineNetworkFilter(xml: "<filter name='x' chain='root'/>") }
        await Self.expectError(.noSupport, "virNWFilterDefineXMLFlags") {
            _ = try await conn.defineNetworkFilter(xml: "<filter name='x' chain='root'/>", validate: true)
        }
        let run = try await conn.domain(named: "run")
        // Job statistics: neither call is in the test driver; the classic one was tried.
        await Self.expectError(.noSupport, "virDomainGetJobInfo") { _ = try await run.jobStats() }
        await Self.expectError(.noSupport, "virDomainGetJobStats") { _ = try await run.jobStats(flags: .completed) }
        let disk = "<disk type='file' device='disk'><source file='/tmp/vk.img'/><target dev='vdb' bus='virtio'/></disk>"
        await Self.expectError(.noSupport, "virDomainAttachDevice") { try await run.attachDevice(xml: disk, flags: .live) }
        await Self.expectError(.noSupport, "virDomainAttachDeviceFlags") { try await run.attachDevice(xml: disk, flags: .config) }
        await Self.expectError(.noSupport, "virDomainDetachDevice") { try await run.detachDevice(xml: disk, flags: .live) }
        await Self.expectError(.noSupport, "virDomainDetachDeviceFlags") { try await run.detachDevice(xml: disk) }
        let vol = try await conn.storagePool(named: "pool-a").volume(named: "v1.img")
        await Self.expectError(.noSupport, "virStorageVolWipe") { try await vol.wipe() }
        await Self.expectError(.noSupport, "virStorageVolWipePattern") { try await vol.wipe(.nnsa) }
        let computer = try await conn.nodeDevice(named: "computer")
        await Self.expectError(.noSupport, "virNodeDeviceDettach") { try await computer.detach() }
    }

    // MARK: - Domains through the classic calls

    /// Start, shutdown, destroy, define and undefine through the classic calls: the state
    /// changes as with the modern ones, and errors name the call that ran.
    @Test func domainLifecycleThroughTheClassicCalls() async throws {
        let conn = try await Connection.open(try Self.node())
        defer { Task { await conn.close() } }
        let off = try await conn.domain(named: "off")
        // The same refusal from either call, each naming itself.
        try await Self.sameFailure(conn, "virDomainDestroyFlags", "virDomainDestroy") { try await off.destroy() }
        try await Self.sameFailure(conn, "virDomainShutdownFlags", "virDomainShutdown") { try await off.shutdown() }
        try await Self.classic(conn) {
            try await off.start()
            #expect(try await off.state().state == .running)
            try await off.destroy()
            #expect(try await off.state().state == .shutoff)
            try await off.start()
            try await off.shutdown()
            #expect(try await off.state().state == .shutoff)
            // A flag: only the modern call takes it (the test driver refuses this one).
            await Self.expectError(.invalidArg, "virDomainCreateWithFlags") { try await off.start(flags: .paused) }
            try await off.start()
        }
        try await Self.sameFailure(conn, "virDomainCreateWithFlags", "virDomainCreate") { try await off.start() }
        try await Self.classic(conn) {

            let xml = "<domain type='test'><name>classic</name><memory>65536</memory><os><type>hvm</type></os></domain>"
            let defined = try await conn.defineDomain(xml: xml)
            #expect(try await defined.isPersistent())
            #expect(try await defined.isActive() == false)
            await Self.expectError(.xmlDetail, "virDomainDefineXML") { _ = try await conn.defineDomain(xml: "<domain>") }
            await Self.expectError(.xmlDetail, "virDomainDefineXMLFlags") { _ = try await conn.defineDomain(xml: "<domain>", flags: .validate) }
            try await defined.undefine()
            await Self.expectError(.noDomain, "virDomainLookupByName") { _ = try await conn.domain(named: "classic") }
            await Self.expectError(.noDomain, "virDomainUndefine") { try await defined.undefine() }
        }
    }

    /// Memory, vCPUs, pinning and scheduler parameters through the classic calls, read back.
    @Test func domainTuningThroughTheClassicCalls() async throws {
        let conn = try await Connection.open(try Self.node())
        defer { Task { await conn.close() } }
        let run = try await conn.domain(named: "run")
        let off = try await conn.domain(named: "off")
        try await Self.classic(conn) {
            try await run.setMemory(.mebibytes(200), flags: .live)
            #expect(try await run.info().memory == .mebibytes(200))
            // The classic maximum call refuses a running domain in the test driver; a shut-off one takes it.
            await Self.expectError(.operationInvalid, "virDomainSetMaxMemory") { try await run.setMemory(.mebibytes(300), maximum: true) }
            try await off.setMemory(.mebibytes(192), maximum: true)
            #expect(try await off.info().maxMemory == .mebibytes(192))
            try await run.setVCPUCount(1, flags: .live)
            #expect(try await run.vcpuCount(flags: .live) == 1)
            await Self.expectError(.operationInvalid, "virDomainSetVcpus") { try await off.setVCPUCount(1, flags: .live) }
            try await run.pinVCPU(0, to: [1], flags: .live)
            #expect(try await run.vcpuPinning(flags: .live).first == [1])
            await Self.expectError(.operationInvalid, "virDomainPinVcpu") { try await off.pinVCPU(0, to: [1], flags: .live) }
            try await run.setSchedulerParameters(raw: ["weight": .uint(77)])  // validated, not stored, by the test driver
            await Self.expectError(.invalidArg, "virDomainSetSchedulerParameters") { try await run.setSchedulerParameters(raw: ["weight": .string("x")]) }
        }
    }

    /// `virDomainJobInfo` under `virDomainGetJobStats`' names, so one `JobStats` serves both.
    @Test func classicJobInfoDecodesLikeJobStats() {
        var info = virDomainJobInfo()
        info.type = Int32(VIR_DOMAIN_JOB_UNBOUNDED.rawValue)
        info.timeElapsed = 1500
        info.dataTotal = 4096
        info.dataRemaining = 1024
        info.fileTotal = 512
        let stats = JobStats(classic: info)
        #expect(stats.type == .unbounded && stats.isActive)
        #expect(stats.timeElapsed == .milliseconds(1500))
        #expect(stats.dataTotal == MemorySize(bytes: 4096) && stats.dataRemaining == MemorySize(bytes: 1024))
        #expect(stats.diskTotal == MemorySize(bytes: 512))
        #expect(stats.progress == 0.75)
        #expect(JobStats(classic: virDomainJobInfo()).parameters.isEmpty, "no job: nothing reported")
    }

    // MARK: - Networks

    @Test func networksThroughTheClassicCalls() async throws {
        let conn = try await Connection.open(try Self.node())
        defer { Task { await conn.close() } }
        try await Self.classic(conn) {
            let created = try await conn.createNetwork(xml: "<network><name>net-c</name><bridge name='vkbr-c'/></network>")
            #expect(try await created.isActive())
            #expect(try await created.isPersistent() == false)
            let defined = try await conn.defineNetwork(xml: "<network><name>net-d</name><bridge name='vkbr-d'/></network>")
            #expect(try await defined.isPersistent())
            #expect(try await defined.isActive() == false)
            await Self.expectError(.xmlDetail, "virNetworkCreateXML") { _ = try await conn.createNetwork(xml: "<network>") }
            await Self.expectError(.xmlDetail, "virNetworkDefineXML") { _ = try await conn.defineNetwork(xml: "<network>") }
            await Self.expectError(.xmlDetail, "virNetworkDefineXMLFlags") { _ = try await conn.defineNetwork(xml: "<network>", validate: true) }
        }
    }

    /// The classic calls on the real QEMU driver, with the connection's modern calls switched
    /// off: define, start, list, USB hot-plug, pinning, scheduler, balloon, job info, destroy
    /// and undefine of a diskless guest.
    @Test func classicCallsOnTheDaemon() async throws {
        guard let conn = await LiveQEMUTests.connect() else { return }
        defer { Task { await conn.close() } }
        let alias = "ua-virtkit-classic-tablet"
        let tablet = "<input type='tablet' bus='usb'><alias name='\(alias)'/></input>"
        let xml = TestGuest.xml(name: TestGuest.uniqueName("classic"), vcpus: 2, extraDevices: "<controller type='usb' model='qemu-xhci'/>")
        try await Self.classic(conn) {
            let dom = try await conn.defineDomain(xml: xml)  // virDomainDefineXML
            var failure: Error?
            do {
                try await dom.start()  // virDomainCreate
                #expect(try await dom.state() == .running(.booted))
                #expect(try await conn.listAllDomains(flags: .active).contains(dom))  // virConnectListDomains + lookups
                try await dom.attachDevice(xml: tablet, flags: .live)  // virDomainAttachDevice
                #expect(try await dom.xmlDescription().contains("<alias name='\(alias)'/>"))
                try await dom.detachDevice(xml: tablet, flags: .live)  // virDomainDetachDevice; QEMU unplugs USB by itself
                var gone = false
                for _ in 0..<100 where !gone {
                    gone = !(try await dom.xmlDescription().contains(alias))
                    if !gone { try await Task.sleep(for: .milliseconds(200)) }
                }
                #expect(gone, "the tablet left the live XML")
                try await dom.pinVCPU(1, to: [0], flags: .live)  // virDomainPinVcpu
                #expect(try await dom.vcpuPinning(flags: .live).last == [0])
                try await dom.setSchedulerParameters(SchedulerParameters(vcpuPeriod: .milliseconds(100), vcpuQuota: .limited(.milliseconds(40))))
                let sched = try await dom.schedulerParameters(flags: .live)
                #expect(sched.vcpuPeriod == .milliseconds(100) && sched.vcpuQuota == .limited(.milliseconds(40)))
                try await dom.setMemory(.mebibytes(48), flags: .live)  // virDomainSetMemory (the balloon target)
                await Self.expectError(.operationInvalid, "virDomainSetMaxMemory") { try await dom.setMemory(.mebibytes(96), maximum: true) }
                let job = try await dom.jobStats()  // virDomainGetJobInfo
                #expect(job.type == JobType.none && job.parameters.isEmpty)
                try await dom.destroy()  // virDomainDestroy
                #expect(try await dom.state().state == .shutoff)
            } catch {
                failure = error
            }
            if (try? await dom.isActive()) == true { try? await dom.destroy() }
            try? await dom.undefine()  // virDomainUndefine
            if let failure { throw failure }
            await Self.expectError(.noDomain, "virDomainLookupByUUID") { _ = try await conn.domain(uuid: dom.uuid) }
        }
    }

    // MARK: - Lookups by UUID string

    @Test func lookupsByUUIDString() async throws {
        let conn = try await Connection.open(try Self.node())
        defer { Task { await conn.close() } }
        let net = try await conn.network(named: "net-a")
        #expect(try await conn.network(uuidString: "0b0e0f00-0000-4000-8000-00000000000a") == net)
        #expect(try await conn.network(uuidString: net.uuid.description) == net)
        let pool = try await conn.storagePool(named: "pool-a")
        #expect(try await conn.storagePool(uuidString: "0B0E0F00-0000-4000-8000-0000000000B0") == pool, "libvirt reads either case")
        await Self.expectError(.invalidArg, "virNetworkLookupByUUIDString") { _ = try await conn.network(uuidString: "not-a-uuid") }
        await Self.expectError(.noNetwork, "virNetworkLookupByUUIDString") { _ = try await conn.network(uuidString: "0b0e0f00-0000-4000-8000-0000000000ff") }
        await Self.expectError(.invalidArg, "virStoragePoolLookupByUUIDString") { _ = try await conn.storagePool(uuidString: "") }
        await Self.expectError(.noSupport, "virNWFilterLookupByUUIDString") { _ = try await conn.networkFilter(uuidString: net.uuid.description) }
        await Self.expectError(.noSupport, "virSecretLookupByUUIDString") { _ = try await conn.secret(uuidString: net.uuid.description) }
        await Self.expectError(.noSupport, "virNetworkPortLookupByUUIDString") { _ = try await net.port(uuidString: net.uuid.description) }
    }

    // MARK: - Host CPU

    static let haswell = "<cpu><arch>x86_64</arch><model>Haswell-noTSX</model><vendor>Intel</vendor></cpu>"

    /// `virConnectBaselineCPU` on the test driver (which has it); `virConnectCompareCPU` it
    /// lacks, a typed error.
    @Test func hostCPUBaselineAndCompareOnTheTestDriver() async throws {
        let conn = try await Connection.open(try Self.node())
        defer { Task { await conn.close() } }
        let baseline = try await conn.baselineHostCPU(xmls: [Self.haswell])
        #expect(baseline.contains("Haswell-noTSX") && baseline.contains("Intel"))
        let expanded = try await conn.baselineHostCPU(xmls: [Self.haswell], expandFeatures: true)
        let features = { (s: String) in s.components(separatedBy: "<feature").count - 1 }
        #expect(features(expanded) > features(baseline), "expandFeatures lists the model's features")
        await Self.expectError(.invalidArg, "virConnectBaselineCPU") { _ = try await conn.baselineHostCPU(xmls: []) }
        await #expect(throws: LibvirtError.self) { _ = try await conn.baselineHostCPU(xmls: ["<cpu>"]) }
        await Self.expectError(.noSupport, "virConnectCompareCPU") { _ = try await conn.compareHostCPU(xml: Self.haswell) }
    }

    /// On the real daemon: the host's own CPU (from its capabilities) compares identical to
    /// the host, and a CPU from another vendor's line does not compare as a superset.
    @Test func hostCPUCompareOnTheDaemon() async throws {
        let conn: Connection
        do { conn = try await Connection.open("qemu:///system", readOnly: true) } catch {
            LiveEnvironment.unavailable("cannot open qemu:///system: \(error)")
            return
        }
        defer { Task { await conn.close() } }
        let caps = try await conn.capabilitiesXML()
        let cpu = try #require(caps.range(of: "<cpu>").flatMap { start in caps.range(of: "</cpu>", range: start.lowerBound..<caps.endIndex).map { String(caps[start.lowerBound..<$0.upperBound]) } })
        #expect(try await conn.compareHostCPU(xml: cpu) == .identical)
        let baseline = try await conn.baselineHostCPU(xmls: [cpu, cpu])
        #expect(baseline.contains("<model"))
        await #expect(throws: LibvirtError.self) { _ = try await conn.compareHostCPU(xml: "<cpu><arch>x86_64</arch><model>no-such-model</model></cpu>") }
    }

    // MARK: - Errors

    /// A failing call's libvirt error never reaches stderr (libvirt's default handler would
    /// print `libvirt: … error : …`): VirtKit's handler takes it (debug log) and the caller gets
    /// the typed error. fd 2 goes to a file around the call.
    @Test func libvirtErrorsDoNotReachStderr() async throws {
        let conn = try await Connection.open(try Self.node())
        defer { Task { await conn.close() } }
        let name = "virtkit-no-such-\(UInt32.random(in: 0...UInt32.max))"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).stderr").path
        let file = open(path, O_CREAT | O_TRUNC | O_RDWR, 0o600)
        try #require(file >= 0)
        defer { close(file); unlink(path) }
        let saved = dup(2)
        try #require(saved >= 0)
        dup2(file, 2)
        var caught: LibvirtError?
        do { _ = try await conn.network(named: name) } catch let e as LibvirtError { caught = e }
        dup2(saved, 2)
        close(saved)
        let written = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        if !written.isEmpty { FileHandle.standardError.write(Data(written.replacingOccurrences(of: name, with: "<name>").utf8)) }  // others' output
        #expect(caught?.code == .noNetwork && caught?.message.contains(name) == true, "\(String(describing: caught))")
        #expect(!written.contains(name) && !written.contains("libvirt: "), "libvirt printed the error to stderr: \(written)")
    }
}
