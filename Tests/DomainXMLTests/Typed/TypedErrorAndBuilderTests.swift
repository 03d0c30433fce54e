import Testing
import VirtKitTestSupport
@testable import DomainXML
@testable import LosslessXML
import VirtCore

/// Typed errors at the access, `validate()`, codecs, and documents built from scratch.
@Suite("Typed errors, codecs and builder", .offCooperativePool)
struct TypedErrorAndBuilderTests {
    @Test func invalidVcpuThrowsAtTheAccessWithItsPath() throws {
        let d = try #require(parseDomain(domainXML("  <vcpu placement='static'>x</vcpu>")))
        #expect(throws: TypedXMLError(path: "/domain/vcpu", value: "x", reason: .invalidInteger)) {
            try d.vcpu.count.value
        }
        // Other properties still read; the raw text is available.
        #expect(try d.vcpu.placement.value == .static)
        #expect(d.vcpu.count.raw == "x")
        // Writing a valid value repairs it.
        d.vcpu.count.set(2)
        #expect(try d.vcpu.count.value == 2)
    }

    @Test func attributeErrorsNameTheAttributeAndTheSiblingPosition() throws {
        let d = try #require(parseDomain(domainXML("""
          <devices>
            <interface type='user'><driver queues='2'/></interface>
            <interface type='user'><driver queues='0'/></interface>
          </devices>
        """)))
        let error = try #require(throws: TypedXMLError.self) { try d.devices.interfaces[1].driver.queues.value }
        #expect(error.path == "/domain/devices/interface[2]/driver")
        #expect(error.attribute == "queues")
        #expect(error.value == "0")
        #expect(error.description == "/domain/devices/interface[2]/driver/@queues: '0' is not a valid integer")
    }

    @Test func validateListsEveryProblemAtOnce() throws {
        let d = try #require(parseDomain("""
        <domain>
          <uuid>not-a-uuid</uuid>
          <memory unit='parsec'>1</memory>
          <currentMemory>lots</currentMemory>
          <vcpu cpuset='3-1'>x</vcpu>
          <cpu><topology sockets='0' cores='2' threads='two'/></cpu>
          <numatune><memory nodeset='0-70000'/></numatune>
          <features><apic eoi='maybe'/></features>
          <devices>
            <disk type='file'><target bus='virtio'/></disk>
          </devices>
        </domain>
        """))
        let problems = d.validate()
        let described = problems.map(\.description)
        let expected = [
            "/domain/@type: required but missing",
            "/domain/name: required but missing",
            "/domain/uuid: 'not-a-uuid' is not a UUID",
            "/domain/memory: invalid memory size '1 parsec': unknown unit",
            "/domain/currentMemory: invalid memory size 'lots': not a non-negative integer",
            "/domain/vcpu/@cpuset: invalid ID list '3-1' at offset 0: range 3-1 runs backwards",
            "/domain/vcpu: 'x' is not a valid integer",
            "/domain/numatune/memory/@nodeset: invalid ID list '0-70000' at offset 2: 70000 exceeds the largest supported ID",
            "/domain/features/apic/@eoi: 'maybe' is not one of on/off",
            "/domain/cpu/topology/@sockets: '0' is not a valid integer",
            "/domain/cpu/topology/@threads: 'two' is not a valid integer",
            "/domain/devices/disk/target/@dev: required but missing",
        ]
        for e in expected { #expect(described.contains(e), "missing: \(e)\nall: \(described)") }
        #expect(problems.count == expected.count, "\(described)")
    }

    @Test func malformedDocumentsAreTypedErrorsWithLineAndColumn() {
        do {
            _ = try DomainDefinition(parsing: "<domain type='kvm'>\n  <name>x</nam>\n</domain>")
            Issue.record("expected an error")
        } catch {
            guard case .malformedXML(let e) = error.reason else { Issue.record("wrong reason: \(error)"); return }
            #expect(e.line == 2)
            #expect(e.column > 1)
        }
        #expect(throws: TypedXMLError(path: "/network", reason: .wrongRootElement(expected: "domain", found: "network"))) {
            try DomainDefinition(parsing: "<network/>")
        }
    }

    /// The key tables are the single declaration behind views, `validate()` and `unmodeled`:
    /// every field must be a schema entry and no child name may mean two things.
    @Test func keyTablesAreSound() {
        let specs = DomainDefinition.schema.spec.reachable()
        #expect(specs.count > 150)
        for spec in specs { #expect(spec.declarationProblems.isEmpty, "\(spec.declarationProblems)") }
        // Device views are reachable from <devices> too.
        let reachable = Set(specs.map(ObjectIdentifier.init))
        for device in [DiskDevice.schema.spec, InterfaceDevice.schema.spec, TPMDevice.schema.spec, IOMMUDevice.schema.spec] {
            #expect(reachable.contains(ObjectIdentifier(device)))
        }
    }

    @Test func codecs() throws {
        let address = Codec<Int>.address(hexDigits: 2)
        #expect(try address.decode("0x1f") == 31)
        #expect(try address.decode("0X1F") == 31)
        #expect(try address.decode("017") == 15)     // C base 0: leading zero is octal
        #expect(try address.decode("31") == 31)
        #expect(try address.decode("0") == 0)
        #expect(throws: ValueProblem.self) { try address.decode("-1") }
        #expect(throws: ValueProblem.self) { try address.decode("0xzz") }
        #expect(address.encode(10) == "0x0a")
        #expect(Codec<Int>.address(hexDigits: nil).encode(10) == "10")
        #expect(throws: ValueProblem.self) { try Codec<Int>.decimal(in: 1...8).decode("9") }
        #expect(throws: ValueProblem.self) { try Bool.xmlCodec.decode("on") }
        #expect(try Codec<Bool>.onOff.decode("on") == true)
        #expect(Codec<Bool>.onOff.encode(false) == "off")
        let uuid = try #require(LibvirtUUID("C7A5FDBD-EDAF-9455-926A-D65C16DB1809"))
        #expect(uuid.description == "c7a5fdbd-edaf-9455-926a-d65c16db1809")
        #expect(LibvirtUUID("c7a5fdbdedaf9455926ad65c16db1809") == uuid)
        #expect(LibvirtUUID("c7a5fdbd-edaf-9455-926a-d65c16db18") == nil)
        #expect(LibvirtUUID("c7a5fdbd-edaf-9455-926a-d65c16db1809ff") == nil)
        #expect(try CPUSet.xmlCodec.decode("0-7,^2") == CPUSet([0, 1, 3, 4, 5, 6, 7]))
        #expect(throws: ValueProblem.self) { try NodeSet.xmlCodec.decode("") }
        #expect(DiskCache(rawValue: "none") == .bypass)
        #expect(DiskCache.bypass.rawValue == "none")
        #expect(DiskCache(rawValue: "writearound") == .other("writearound"))
    }

    @Test func writingAnEqualValueKeepsTheOriginalSpelling() throws {
        let xml = domainXML("  <vcpu cpuset='0,1,2'>04</vcpu>\n  <devices>\n    <memballoon model='virtio'>\n      <address type='pci' slot='0xA'/>\n    </memballoon>\n  </devices>")
        let d = try #require(parseDomain(xml))
        d.vcpu.cpuset.set([0, 1, 2])
        d.vcpu.count.set(4)
        d.devices.memballoon.address.slot.set(10)
        #expect(d.serialize() == xml)
        d.vcpu.cpuset.set([0, 1, 2, 3])
        #expect(d.serialize().contains("cpuset='0-3'"))
    }

    @Test func builderMakesLibvirtShapedDocuments() throws {
        let d = DomainDefinition(type: .kvm, name: "built", memory: .gibibytes(2), vcpus: 2, arch: "x86_64", machine: "q35")
        d.uuid.set(try #require(LibvirtUUID("c7a5fdbd-edaf-9455-926a-d65c16db1809")))
        d.onCrash.set(.destroy)
        d.features.acpi.set(true)
        d.devices.emulator.set("/usr/bin/qemu-system-x86_64")
        d.devices.disks.append(DiskDevice(type: .file, source: "/var/lib/libvirt/images/built.qcow2", format: .qcow2, target: "vda", bus: .virtio))
        d.devices.interfaces.append(InterfaceDevice(type: .user))
        d.devices.channels.append(.guestAgent())
        d.devices.graphics.append(.vnc())
        d.devices.rngs.append(.virtio())
        d.os.boot.append().dev.set(.hd)
        #expect(d.serialize() == """
            <domain type='kvm'>
              <name>built</name>
              <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
              <memory unit='KiB'>2097152</memory>
              <vcpu>2</vcpu>
              <os>
                <type arch='x86_64' machine='q35'>hvm</type>
                <boot dev='hd'/>
              </os>
              <features>
                <acpi/>
              </features>
              <on_crash>destroy</on_crash>
              <devices>
                <emulator>/usr/bin/qemu-system-x86_64</emulator>
                <disk type='file' device='disk'>
                  <driver name='qemu' type='qcow2'/>
                  <source file='/var/lib/libvirt/images/built.qcow2'/>
                  <target dev='vda' bus='virtio'/>
                </disk>
                <interface type='user'>
                  <model type='virtio'/>
                </interface>
                <channel type='unix'>
                  <target type='virtio' name='org.qemu.guest_agent.0'/>
                </channel>
                <graphics type='vnc' port='-1' autoport='yes'>
                  <listen type='address' address='127.0.0.1'/>
                </graphics>
                <rng model='virtio'>
                  <backend model='random'>/dev/urandom</backend>
                </rng>
              </devices>
            </domain>

            """)
        #expect(d.validate().isEmpty)
        guard let rejected = virtXMLValidate([d.serialize()]) else { return }
        #expect(rejected.isEmpty, "\(rejected)")
    }

    /// Every document built here passes libvirt's schema (`virt-xml-validate FILE domain`),
    /// before and after the tuning edits.
    @Test func builtDocumentsPassLibvirtsSchema() throws {
        var docs: [String] = []
        let minimal = DomainDefinition(type: .kvm, name: "minimal", memory: .mebibytes(512), vcpus: 1)
        docs.append(minimal.serialize())

        let full = DomainDefinition(type: .kvm, name: "full", memory: .gibibytes(4), vcpus: 4, arch: "x86_64", machine: "q35")
        full.currentMemory.set(.gibibytes(2))
        full.maxMemory.size.set(.gibibytes(8))
        full.maxMemory.slots.set(4)
        full.title.set("A built guest")
        full.description.set("Made by DomainXML's builder & checked by virt-xml-validate")
        full.vcpu.placement.set(.static)
        full.vcpu.cpuset.set([0, 1, 2, 3])
        full.vcpu.current.set(2)
        full.iothreads.set(2)
        full.iothreadids.iothread.append().id.set(1)
        full.iothreadids.iothread.append().id.set(2)
        full.cputune.shares.set(2048)
        full.cputune.period.set(.milliseconds(100))
        full.cputune.quota.set(.limited(.milliseconds(50)))
        full.cputune.pin(vcpu: 0, to: [0])
        full.cputune.pin(vcpu: 1, to: [1])
        full.cputune.emulatorpin.cpuset.set([2, 3])
        let pin = full.cputune.iothreadpin.append()
        pin.iothread.set(1)
        pin.cpuset.set([3])
        let sched = full.cputune.vcpusched.append()
        sched.vcpus.set([0])
        sched.scheduler.set(.fifo)
        sched.priority.set(10)
        full.numatune.memory.mode.set(.strict)
        full.numatune.memory.nodeset.set([0])
        let memnode = full.numatune.memnode.append()
        memnode.cellid.set(0)
        memnode.mode.set(.strict)
        memnode.nodeset.set([0])
        full.memoryBacking.hugepages.page.append().size.set(.mebibytes(2))
        full.memoryBacking.locked.set(true)
        full.memoryBacking.access.mode.set(.shared)
        full.memtune.hardLimit.set(.limited(.gibibytes(6)))
        full.blkiotune.weight.set(500)
        full.cpu.mode.set(.hostPassthrough)
        full.cpu.check.set(.disabled)
        full.cpu.topology.sockets.set(1)
        full.cpu.topology.dies.set(1)
        full.cpu.topology.cores.set(2)
        full.cpu.topology.threads.set(2)
        let cell = full.cpu.numa.cells.append()
        cell.id.set(0)
        cell.cpus.set([0, 1, 2, 3])
        cell.memory.set(.gibibytes(4))
        cell.memAccess.set(.shared)
        full.os.boot.append().dev.set(.hd)
        full.os.bootmenu.enable.set(true)
        full.features.acpi.set(true)
        full.features.apic.create()
        full.features.pmu.state.set(false)
        full.clock.offset.set(.utc)
        let timer = full.clock.timers.append()
        timer.name.set(.rtc)
        timer.tickpolicy.set(.catchup)
        full.onPoweroff.set(.destroy)
        full.onReboot.set(.restart)
        full.onCrash.set(.destroy)
        full.pm.suspendToMem.enabled.set(false)
        let devices = full.devices
        devices.emulator.set("/usr/bin/qemu-system-x86_64")
        let disk = devices.disks.append(DiskDevice(type: .file, source: "/var/lib/libvirt/images/full.qcow2", format: .qcow2, target: "vda", bus: .virtio))
        disk.driver.cache.set(.bypass)
        disk.driver.io.set(.native)
        disk.driver.discard.set(.unmap)
        disk.driver.errorPolicy.set(.stop)
        disk.driver.rerrorPolicy.set(.report)
        disk.driver.iothread.set(1)
        disk.driver.queues.set(4)
        disk.boot.order.set(1)
        let cdrom = devices.disks.append(DiskDevice(type: .file, device: .cdrom, source: "/iso/install.iso", target: "sda", bus: .sata))
        cdrom.readonly.set(true)
        let shared = devices.disks.append(DiskDevice(type: .block, source: "/dev/vg/shared", format: .raw, target: "vdb", bus: .virtio))
        shared.shareable.set(true)
        shared.address.setPCI(bus: 0, slot: 9)
        devices.controllers.append(ControllerDevice(type: .scsi, index: 0, model: "virtio-scsi"))
        devices.controllers.append(ControllerDevice(type: .virtioSerial, index: 0))
        let nic = devices.interfaces.append(InterfaceDevice(type: .network, source: "default", mac: "52:54:00:12:34:56"))
        nic.driver.name.set("vhost")
        nic.driver.queues.set(4)
        nic.driver.rxQueueSize.set(1024)
        nic.driver.txQueueSize.set(1024)
        nic.mtu.size.set(1500)
        nic.link.state.set(.up)
        devices.channels.append(.guestAgent())
        let serial = devices.serials.append()
        serial.type.set(.pty)
        serial.target.port.set(0)
        let console = devices.consoles.append()
        console.type.set(.pty)
        console.target.type.set(.serial)
        console.target.port.set(0)
        let tablet = devices.inputs.append()
        tablet.type.set(.tablet)
        tablet.bus.set(.usb)
        devices.graphics.append(.vnc())
        let video = devices.videos.append()
        video.model.type.set(.virtio)
        video.model.heads.set(1)
        video.model.primary.set(true)
        devices.hostdevs.append(.pci(bus: 6, slot: 0x12, function: 5))
        devices.watchdogs.append().model.set(.i6300esb)
        devices.watchdogs[0].action.set(.reset)
        devices.memballoon.model.set(.virtio)
        devices.memballoon.stats.period.set(.seconds(10))
        devices.rngs.append(.virtio())
        devices.panics.append().model.set(.isa)
        let tpm = devices.tpms.append()
        tpm.model.set(.crb)
        tpm.backend.type.set(.emulator)
        tpm.backend.version.set("2.0")
        let fs = devices.filesystems.append()
        fs.type.set(.mount)
        fs.accessmode.set(.passthrough)
        fs.driver.type.set("virtiofs")
        fs.source.dir.set("/srv/share")
        fs.target.dir.set("share")
        devices.iommu.model.set(.intel)
        devices.iommu.driver.intremap.set(true)
        devices.iommu.driver.cachingMode.set(true)
        #expect(full.validate().isEmpty, "\(full.validate())")
        docs.append(full.serialize())

        // The same tuning edits as the corpus test, on the built documents.
        for text in docs {
            let d = try DomainDefinition(parsing: text)
            try TuningEdit.apply(to: d)
            docs.append(d.serialize())
        }
        guard let rejected = virtXMLValidate(docs) else { return }
        for (i, message) in rejected.sorted(by: { $0.key < $1.key }) {
            Issue.record("built document \(i) rejected by libvirt's schema: \(message)\n\(docs[i])")
        }
        #expect(docs.count == 4)
        // libvirt's schema really is consulted: a hostdev source address with `type` is rejected.
        let bad = docs[1].replacingOccurrences(of: "<address domain='0x0000' bus='0x06'", with: "<address type='pci' domain='0x0000' bus='0x06'")
        #expect(bad != docs[1])
        #expect(virtXMLValidate([bad])?.count == 1)
    }
}
