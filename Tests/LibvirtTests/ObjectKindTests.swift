import Foundation
@testable import Libvirt
import Testing
import VirtCore
import VirtKitTestSupport

/// Storage pools and volumes, networks, node devices, secrets and snapshots on libvirt's
/// embedded test driver (a fresh `test:///default` per connection), with their error paths
/// and their lifecycle events through the generic event registry.
@Suite struct ObjectKindTests {
    /// The first event of a stream, bounded by a deadline (the events come from calls made
    /// before awaiting, so a missing one is a failure, not a race).
    static func first<E: Sendable>(_ stream: AsyncStream<EventMessage<E>>, within: Duration = .seconds(10)) async -> E? {
        await withTaskGroup(of: E?.self) { group in
            group.addTask {
                for await m in stream { if case .event(let e) = m { return e } }
                return nil
            }
            group.addTask { try? await Task.sleep(for: within); return nil }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    static func expectError(_ code: LibvirtError.Code, _ function: String?, _ body: () async throws -> Void,
                            sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            try await body()
            Issue.record("no error (expected \(code) from \(function ?? "VirtKit"))", sourceLocation: sourceLocation)
        } catch let e as LibvirtError {
            #expect(e.code == code, "\(e)", sourceLocation: sourceLocation)
            #expect(e.function == function, sourceLocation: sourceLocation)
        } catch {
            Issue.record("untyped error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func storagePoolsAndVolumes() async throws {
        let conn = try await Connection.open("test:///default")
        defer { Task { await conn.close() } }
        let pools = try await conn.listAllStoragePools()
        let pool = try await conn.storagePool(named: "default-pool")
        #expect(pools.contains(pool))
        #expect(try await conn.storagePool(uuid: pool.uuid) == pool)
        #expect(try await pool.isActive())
        #expect(try await pool.isPersistent())
        let info = try await pool.info()
        #expect(info.state == .running && info.capacity > .zero && info.capacity >= info.allocation)
        #expect(try await pool.xmlDescription().contains("<name>default-pool</name>"))
        // The 9.0 test driver has no pool capabilities: a typed error naming the call.
        await Self.expectError(.noSupport, "virConnectGetStoragePoolCapabilities") { _ = try await conn.storagePoolCapabilitiesXML() }
        #expect(try await conn.listAllStoragePools(flags: .active).contains(pool))

        // Volumes: create, look up three ways, resize, clone, wipe, delete.
        let before = try await pool.volumeCount()
        let vol = try await pool.createVolume(xml: "<volume><name>vk.img</name><capacity unit='MiB'>8</capacity></volume>")
        #expect(vol.name == "vk.img")
        #expect(try await pool.volumeCount() == before + 1)
        #expect(try await pool.listAllVolumes().contains(vol))
        let path = try await vol.path()
        #expect(try await conn.storageVolume(path: path) == vol)
        #expect(try await conn.storageVolume(key: vol.key) == vol)
        #expect(try await pool.volume(named: "vk.img") == vol)
        #expect(try await vol.pool() == pool)
        await Self.expectError(.noSupport, "virStorageVolGetInfoFlags") { _ = try await vol.info(physical: true) }  // not in the test driver
        let vinfo = try await vol.info()
        #expect(vinfo.capacity == .mebibytes(8) && vinfo.type == .file)
        await Self.expectError(.noSupport, "virStorageVolResize") { try await vol.resize(to: .mebibytes(16)) }  // not in the test driver
        #expect(try await vol.xmlDescription().contains("<name>vk.img</name>"))
        let clone = try await pool.createVolume(xml: "<volume><name>vk-clone.img</name><capacity unit='MiB'>8</capacity></volume>", cloning: vol)
        #expect(try await clone.info().capacity == .mebibytes(8))
        // Not in the test driver: the classic virStorageVolWipe was tried after virStorageVolWipePattern.
        await Self.expectError(.noSupport, "virStorageVolWipe") { try await vol.wipe() }
        try await clone.delete()
        try await vol.delete()
        #expect(try await pool.volumeCount() == before)

        // Error paths name the function called.
        await Self.expectError(.noStorageVol, "virStorageVolLookupByName") { _ = try await pool.volume(named: "vk.img") }
        await Self.expectError(.noStoragePool, "virStoragePoolLookupByName") { _ = try await conn.storagePool(named: "nope") }
        await Self.expectError(.noStorageVol, "virStorageVolLookupByPath") { _ = try await conn.storageVolume(path: "/no/such") }
        await Self.expectError(.xmlDetail, "virStorageVolCreateXML") { _ = try await pool.createVolume(xml: "<volume>") }
        await Self.expectError(.operationInvalid, "virStoragePoolUndefine") { try await pool.undefine() }  // still active
    }

    @Test func storagePoolLifecycleAndEvents() async throws {
        let conn = try await Connection.open("test:///default")
        defer { Task { await conn.close() } }
        let events = try await conn.storagePoolEvents()
        let xml = "<pool type='dir'><name>vk-pool</name><target><path>/vk-pool</path></target></pool>"
        let pool = try await conn.defineStoragePool(xml: xml)
        let defined = await Self.first(events)
        #expect(defined?.poolName == "vk-pool" && defined?.lifecycle == .defined && defined?.poolUUID == pool.uuid)
        #expect(try await pool.isActive() == false)
        #expect(try await conn.listAllStoragePools(flags: .inactive).map(\.name).contains("vk-pool"))
        #expect(try await conn.listAllStoragePools(flags: .active).map(\.name).contains("vk-pool") == false)
        try await pool.build()
        try await pool.start()
        #expect(try await pool.info().state == .running)
        try await pool.refresh()
        try await pool.setAutostart(true)
        #expect(try await pool.autostart())
        try await pool.destroy()
        try await pool.undefine()
        await Self.expectError(.noStoragePool, "virStoragePoolLookupByUUID") { _ = try await conn.storagePool(uuid: pool.uuid) }

        // One pool's stream sees its refresh and ignores the other pool.
        let other = try await conn.createStoragePool(xml: xml.replacingOccurrences(of: "vk-pool", with: "vk-other"))
        let mine = try await conn.storagePool(named: "default-pool")
        let refreshes = try await conn.storagePoolEvents(for: mine, ids: [.refresh])
        try await other.refresh()
        try await mine.refresh()
        let refreshed = await Self.first(refreshes)
        #expect(refreshed?.poolName == "default-pool" && refreshed?.lifecycle == nil)
        try await other.destroy()  // transient: gone
        await Self.expectError(.noStoragePool, "virStoragePoolLookupByName") { _ = try await conn.storagePool(named: "vk-other") }
    }

    @Test func networksAndEvents() async throws {
        let conn = try await Connection.open("test:///default")
        defer { Task { await conn.close() } }
        let net = try await conn.network(named: "default")
        #expect(try await conn.listAllNetworks().contains(net))
        #expect(try await conn.network(uuid: net.uuid) == net)
        #expect(try await net.isActive())
        #expect(try await net.isPersistent())
        #expect(try await net.bridgeName() == "virbr0")
        #expect(try await net.xmlDescription().contains("<name>default</name>"))

        let events = try await conn.networkEvents()
        let xml = "<network><name>vk-net</name><bridge name='vkbr0'/></network>"
        let mine = try await conn.defineNetwork(xml: xml)
        #expect(await Self.first(events)?.lifecycle == .defined)
        let started = try await conn.networkEvents(for: mine)
        try await mine.start()
        let e = await Self.first(started)
        #expect(e?.networkName == "vk-net" && e?.lifecycle == .started)
        try await mine.setAutostart(true)
        #expect(try await mine.autostart())
        try await mine.destroy()
        try await mine.undefine()
        await Self.expectError(.noNetwork, "virNetworkLookupByName") { _ = try await conn.network(named: "vk-net") }
        await Self.expectError(.xmlDetail, "virNetworkDefineXMLFlags") { _ = try await conn.defineNetwork(xml: "<network>") }
    }

    @Test func nodeDevices() async throws {
        let conn = try await Connection.open("test:///default")
        defer { Task { await conn.close() } }
        let all = try await conn.listAllNodeDevices()
        #expect(!all.isEmpty)
        let computer = try await conn.nodeDevice(named: "computer")
        #expect(all.contains(computer))
        await Self.expectError(.internalError, "virNodeDeviceGetParent") { _ = try await computer.parentName() }  // the root
        #expect(try await computer.capabilities() == ["system"])
        #expect(try await computer.xmlDescription().contains("<name>computer</name>"))
        // A child device names its parent.
        for d in all where d.name != "computer" {
            #expect(try await !d.parentName().isEmpty, "\(d.name) has a parent")
        }
        await Self.expectError(.noNodeDevice, "virNodeDeviceLookupByName") { _ = try await conn.nodeDevice(named: "nope") }
    }

    /// The 9.0 test driver has no secret driver: every entry point is a typed `.noSupport`
    /// naming its function, and nothing stays registered.
    @Test func secretsOnTheTestDriverAreTypedErrors() async throws {
        let conn = try await Connection.open("test:///default")
        defer { Task { await conn.close() } }
        await Self.expectError(.noSupport, "virConnectSecretEventRegisterAny") { _ = try await conn.secretEvents() }
        #expect(conn.events.liveCallbackCount == 0 && conn.events.subscriberCount == 0, "nothing left registered")
        await Self.expectError(.noSupport, "virSecretDefineXML") { _ = try await conn.defineSecret(xml: "<secret/>") }
        await Self.expectError(.noSupport, "virConnectNumOfSecrets") { _ = try await conn.listAllSecrets() }  // after ListAll
    }

    /// Secrets on the real daemon's secret driver: define, look up by UUID and usage, set and
    /// read the value, the value-changed and lifecycle events, undefine.
    @Test func secretsOnTheDaemon() async throws {
        let conn: Connection
        do { conn = try await Connection.open("qemu:///system") } catch {
            LiveEnvironment.unavailable("cannot open qemu:///system: \(error)")
            return
        }
        defer { Task { await conn.close() } }
        let usage = "/virtkit-test/\(getpid())-\(UInt32.random(in: 0...UInt32.max)).img"
        let events = try await conn.secretEvents()
        let xml = "<secret ephemeral='no' private='no'><usage type='volume'><volume>\(usage)</volume></usage></secret>"
        let secret = try await conn.defineSecret(xml: xml)
        do {
            let defined = await Self.first(events)
            #expect(defined?.lifecycle == .defined && defined?.secretUUID == secret.uuid && defined?.usageType == .volume)
            #expect(secret.usageType == .volume && secret.usageID == usage)
            #expect(try await conn.secret(uuid: secret.uuid) == secret)
            #expect(try await conn.secret(uuidString: secret.uuid.description) == secret)
            // The classic listing (UUID strings, each looked up) finds it too.
            conn.modernCallsUnsupported.store(true, ordering: .relaxed)
            let classic = try await conn.listAllSecrets()
            conn.modernCallsUnsupported.store(false, ordering: .relaxed)
            #expect(classic.contains(secret))
            #expect(try await conn.secret(usage: .volume, id: usage) == secret)
            #expect(try await conn.listAllSecrets().contains(secret))
            await Self.expectError(.noSecret, "virSecretGetValue") { _ = try await secret.value() }
            let changes = try await conn.secretEvents(for: secret, ids: [.valueChanged])
            try await secret.setValue(Array("s3cr3t".utf8))
            let changed = await Self.first(changes)
            #expect(changed?.secretUUID == secret.uuid && changed?.lifecycle == nil)
            #expect(try await secret.value() == Array("s3cr3t".utf8))
            #expect(try await secret.xmlDescription().contains(usage))
        } catch {
            try? await secret.undefine()
            throw error
        }
        try await secret.undefine()
        await Self.expectError(.noSecret, "virSecretLookupByUUID") { _ = try await conn.secret(uuid: secret.uuid) }
    }

    @Test func domainSnapshots() async throws {
        let conn = try await Connection.open("test:///default")
        defer { Task { await conn.close() } }
        let dom = try await conn.domain(named: "test")
        #expect(try await dom.currentSnapshot() == nil)
        #expect(try await dom.listAllSnapshots().isEmpty)
        let s1 = try await dom.createSnapshot(xml: "<domainsnapshot><name>one</name></domainsnapshot>")
        let s2 = try await dom.createSnapshot(xml: "<domainsnapshot><name>two</name></domainsnapshot>")
        #expect(s1.name == "one" && s2.domain == dom)
        #expect(try await dom.currentSnapshot() == s2)
        #expect(try await s2.isCurrent())
        #expect(try await s1.isCurrent() == false)
        #expect(try await s2.parent() == s1)
        #expect(try await s1.parent() == nil)
        #expect(try await s1.children() == [s2])
        #expect(try await dom.listAllSnapshots(flags: .roots) == [s1])
        #expect(Set(try await dom.listAllSnapshots()) == [s1, s2])
        #expect(try await dom.snapshot(named: "one") == s1)
        #expect(try await s1.xmlDescription().contains("<name>one</name>"))
        #expect(try await s1.hasMetadata())
        try await s1.revert()
        #expect(try await dom.currentSnapshot() == s1)
        try await s1.delete(flags: .children)
        #expect(try await dom.listAllSnapshots().isEmpty)
        await Self.expectError(.noDomainSnapshot, "virDomainSnapshotLookupByName") { _ = try await dom.snapshot(named: "one") }
        await Self.expectError(.xmlDetail, "virDomainSnapshotCreateXML") { _ = try await dom.createSnapshot(xml: "<domainsnapshot>") }
    }

    /// Handles outlive their listing and free themselves; calls through them after the
    /// connection closed are refused the same way for every kind.
    @Test func objectHandlesRefuseCallsAfterClose() async throws {
        let conn = try await Connection.open("test:///default")
        let pool = try await conn.storagePool(named: "default-pool")
        let net = try await conn.network(named: "default")
        await conn.close()
        await #expect(throws: LibvirtError.self) { _ = try await pool.info() }
        await #expect(throws: LibvirtError.self) { _ = try await net.isActive() }
        #expect(pool.name == "default-pool" && net.name == "default")  // identity stays readable
    }
}
