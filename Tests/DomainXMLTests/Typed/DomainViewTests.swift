import Testing
import VirtKitTestSupport
@testable import DomainXML
@testable import LosslessXML
import VirtCore

/// Read, write and round trip of each domain-level element the typed layer models.
@Suite("Typed domain views", .offCooperativePool)
struct DomainViewTests {
    @Test func identity() {
        let xml = domainXML("  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>\n  <title>T</title>\n  <description>D &amp; E</description>")
        checkProperty(xml, { $0.name }, reads: "t", write: "vm-2", serializes: "<name>vm-2</name>")
        checkProperty(xml, { $0.uuid }, reads: LibvirtUUID("c7a5fdbd-edaf-9455-926a-d65c16db1809"),
                      write: LibvirtUUID("00112233445566778899aabbccddeeff")!,
                      serializes: "<uuid>00112233-4455-6677-8899-aabbccddeeff</uuid>")
        checkProperty(xml, { $0.title }, reads: "T", write: "New title", serializes: "<title>New title</title>")
        checkProperty(xml, { $0.description }, reads: "D & E", write: "a < b", serializes: "<description>a &lt; b</description>")
    }

    @Test func metadataIsRawAndPreserved() throws {
        let xml = domainXML("""
          <metadata>
            <app1:foo xmlns:app1="http://app1.org/app1/">fooish</app1:foo>
          </metadata>
        """)
        let d = try #require(parseDomain(xml))
        #expect(d.metadata.exists)
        #expect(d.metadata.childElements.map(\.name) == ["app1:foo"])
        try d.metadata.append(xml: "<app2:bar xmlns:app2='http://app2.org/'>x</app2:bar>")
        let text = d.serialize()
        #expect(text.contains("<app1:foo xmlns:app1=\"http://app1.org/app1/\">fooish</app1:foo>"))
        #expect(text.contains("<app2:bar xmlns:app2='http://app2.org/'>x</app2:bar>"))
        #expect(throws: TypedXMLError.self) { try d.metadata.append(xml: "<broken") }
    }

    @Test func memoryWithEveryLibvirtUnit() throws {
        let units: [(String, UInt64)] = [
            ("b", 1), ("bytes", 1), ("KB", 1000), ("k", 1024), ("KiB", 1024), ("MB", 1_000_000),
            ("M", 1 << 20), ("MiB", 1 << 20), ("GB", 1_000_000_000), ("G", 1 << 30), ("GiB", 1 << 30),
            ("TB", 1_000_000_000_000), ("T", 1 << 40), ("TiB", 1 << 40),
        ]
        for (unit, multiplier) in units {
            let d = try #require(parseDomain(domainXML("  <memory unit='\(unit)'>3</memory>")))
            #expect(try d.memory.value == MemorySize(bytes: 3 * multiplier), "unit \(unit)")
        }
        // No unit: KiB.
        let plain = try #require(parseDomain(domainXML("  <memory>1024</memory>")))
        #expect(try plain.memory.value == .mebibytes(1))
    }

    @Test func memoryWritesKeepTheUnit() throws {
        let xml = domainXML("  <maxMemory slots='16' unit='GiB'>8</maxMemory>\n  <memory unit='MiB'>1024</memory>\n  <currentMemory>524288</currentMemory>")
        checkProperty(xml, { $0.memory }, reads: .gibibytes(1), write: .gibibytes(2), serializes: "<memory unit='MiB'>2048</memory>")
        // No unit attribute: stays without one while KiB is exact.
        checkProperty(xml, { $0.currentMemory }, reads: .mebibytes(512), write: .mebibytes(768), serializes: "<currentMemory>786432</currentMemory>")
        checkProperty(xml, { $0.maxMemory.size }, reads: .gibibytes(8), write: .gibibytes(16), serializes: "<maxMemory slots='16' unit='GiB'>16</maxMemory>")
        checkProperty(xml, { $0.maxMemory.slots }, reads: 16, write: 32, serializes: "slots='32'")
        // Not exact in the existing unit: falls back to KiB, then bytes.
        let d = try #require(parseDomain(xml))
        d.memory.set(MemorySize(bytes: 1536 * 1024))
        #expect(d.serialize().contains("<memory unit='KiB'>1536</memory>"))
        d.memory.set(MemorySize(bytes: 1000))
        #expect(d.serialize().contains("<memory unit='b'>1000</memory>"))
    }

    @Test func memoryDumpCoreAndACPITables() {
        let xml = domainXML("  <memory unit='KiB' dumpCore='off'>1024</memory>\n  <os>\n    <type>hvm</type>\n    <acpi>\n      <table type='slic'>/var/lib/slic.dat</table>\n    </acpi>\n  </os>")
        checkProperty(xml, { $0.memoryDumpCore }, reads: false, write: true, serializes: "<memory unit='KiB' dumpCore='on'>1024</memory>")
        checkProperty(xml, { $0.memory }, reads: .mebibytes(1), write: .mebibytes(2), serializes: "<memory unit='KiB' dumpCore='off'>2048</memory>")
        checkProperty(xml, { $0.os.acpi.tables[0].path }, reads: "/var/lib/slic.dat", write: "/x.dat", serializes: "<table type='slic'>/x.dat</table>")
    }

    @Test func vcpuAndVcpus() throws {
        let xml = domainXML("""
          <vcpu placement='static' cpuset='0-3' current='2'>4</vcpu>
          <vcpus>
            <vcpu id='0' enabled='yes' hotpluggable='no' order='1'/>
            <vcpu id='1' enabled='no' hotpluggable='yes'/>
          </vcpus>
        """)
        checkProperty(xml, { $0.vcpu.count }, reads: 4, write: 8, serializes: "current='2'>8</vcpu>")
        checkProperty(xml, { $0.vcpu.placement }, reads: .static, write: .auto, serializes: "placement='auto'")
        checkProperty(xml, { $0.vcpu.cpuset }, reads: [0, 1, 2, 3], write: [0, 2, 4, 5, 6], serializes: "cpuset='0,2,4-6'")
        checkProperty(xml, { $0.vcpu.current }, reads: 2, write: 3, serializes: "current='3'")
        let d = try #require(parseDomain(xml))
        #expect(d.vcpus.vcpu.count == 2)
        #expect(try d.vcpus.vcpu[1].enabled.value == false)
        #expect(try d.vcpus.vcpu[0].order.value == 1)
        d.vcpus.vcpu[1].enabled.set(true)
        #expect(d.serialize().contains("<vcpu id='1' enabled='yes' hotpluggable='yes'/>"))
    }

    @Test func iothreads() throws {
        let xml = domainXML("  <iothreads>2</iothreads>\n  <iothreadids>\n    <iothread id='1'/>\n    <iothread id='3' thread_pool_min='2' thread_pool_max='8'/>\n  </iothreadids>")
        checkProperty(xml, { $0.iothreads }, reads: 2, write: 3, serializes: "<iothreads>3</iothreads>")
        let d = try #require(parseDomain(xml))
        #expect(try d.iothreadids.iothread.map { try $0.id.value } == [1, 3])
        #expect(try d.iothreadids.iothread[1].threadPoolMax.value == 8)
        d.iothreadids.iothread.append().id.set(4)
        let again = try #require(reparsed(d))
        #expect(try again.iothreadids.iothread.map { try $0.id.value } == [1, 3, 4])
    }

    @Test func cputuneEveryChild() throws {
        let xml = domainXML("""
          <cputune>
            <shares>2048</shares>
            <period>1000000</period>
            <quota>-1</quota>
            <global_period>1000000</global_period>
            <global_quota>-1</global_quota>
            <emulator_period>1000000</emulator_period>
            <emulator_quota>-1</emulator_quota>
            <iothread_period>1000000</iothread_period>
            <iothread_quota>-1</iothread_quota>
            <vcpupin vcpu='0' cpuset='1'/>
            <vcpupin vcpu='1' cpuset='2-3'/>
            <emulatorpin cpuset='1-3'/>
            <iothreadpin iothread='1' cpuset='2'/>
            <vcpusched vcpus='0-1' scheduler='fifo' priority='1'/>
            <iothreadsched iothreads='1' scheduler='batch'/>
            <emulatorsched scheduler='rr' priority='5'/>
          </cputune>
        """)
        checkProperty(xml, { $0.cputune.shares }, reads: 2048, write: 1024, serializes: "<shares>1024</shares>")
        checkProperty(xml, { $0.cputune.period }, reads: .microseconds(1_000_000), write: .microseconds(100_000), serializes: "<period>100000</period>")
        checkProperty(xml, { $0.cputune.quota }, reads: .unlimited, write: .limited(.microseconds(50_000)), serializes: "<quota>50000</quota>")
        checkProperty(xml, { $0.cputune.globalPeriod }, reads: .microseconds(1_000_000), write: .microseconds(2000), serializes: "<global_period>2000</global_period>")
        checkProperty(xml, { $0.cputune.globalQuota }, reads: .unlimited, write: .limited(.microseconds(3000)), serializes: "<global_quota>3000</global_quota>")
        checkProperty(xml, { $0.cputune.emulatorPeriod }, reads: .microseconds(1_000_000), write: .microseconds(4000), serializes: "<emulator_period>4000</emulator_period>")
        checkProperty(xml, { $0.cputune.emulatorQuota }, reads: .unlimited, write: .limited(.microseconds(5000)), serializes: "<emulator_quota>5000</emulator_quota>")
        checkProperty(xml, { $0.cputune.iothreadPeriod }, reads: .microseconds(1_000_000), write: .microseconds(6000), serializes: "<iothread_period>6000</iothread_period>")
        checkProperty(xml, { $0.cputune.iothreadQuota }, reads: .unlimited, write: .limited(.microseconds(7000)), serializes: "<iothread_quota>7000</iothread_quota>")
        checkProperty(xml, { $0.cputune.emulatorpin.cpuset }, reads: [1, 2, 3], write: [4], serializes: "<emulatorpin cpuset='4'/>")
        checkProperty(xml, { $0.cputune.emulatorsched.scheduler }, reads: .rr, write: .fifo, serializes: "<emulatorsched scheduler='fifo' priority='5'/>")
        let d = try #require(parseDomain(xml))
        #expect(try d.cputune.vcpupin.map { try $0.cpuset.value } == [[1], [2, 3]])
        #expect(try d.cputune.iothreadpin[0].iothread.value == 1)
        #expect(try d.cputune.vcpusched[0].vcpus.value == [0, 1])
        #expect(try d.cputune.vcpusched[0].priority.value == 1)
        #expect(try d.cputune.iothreadsched[0].scheduler.value == .batch)
        // pin() updates an existing pin and appends a new one after the existing pins.
        d.cputune.pin(vcpu: 1, to: [5])
        d.cputune.pin(vcpu: 2, to: [6, 7])
        let text = d.serialize()
        #expect(text.contains("<vcpupin vcpu='1' cpuset='5'/>"))
        #expect(text.contains("<vcpupin vcpu='1' cpuset='5'/>\n    <vcpupin vcpu='2' cpuset='6-7'/>\n    <emulatorpin"))
    }

    @Test func numatune() throws {
        let xml = domainXML("""
          <numatune>
            <memory mode='interleave' nodeset='0-5,^4'/>
            <memnode cellid='0' mode='strict' nodeset='1'/>
          </numatune>
        """)
        checkProperty(xml, { $0.numatune.memory.mode }, reads: .interleave, write: .preferred, serializes: "mode='preferred'")
        checkProperty(xml, { $0.numatune.memory.nodeset }, reads: [0, 1, 2, 3, 5], write: [1], serializes: "nodeset='1'")
        checkProperty(xml, { $0.numatune.memory.placement }, reads: nil, write: .static, serializes: "placement='static'")
        let d = try #require(parseDomain(xml))
        #expect(try d.numatune.memnode[0].cellid.value == 0)
        let m = d.numatune.memnode.append()
        m.cellid.set(1)
        m.mode.set(.restrictive)
        m.nodeset.set([2, 3])
        #expect(d.serialize().contains("<memnode cellid='0' mode='strict' nodeset='1'/>\n    <memnode cellid='1' mode='restrictive' nodeset='2-3'/>"))
    }

    @Test func memoryBacking() throws {
        let xml = domainXML("""
          <memoryBacking>
            <hugepages>
              <page size='1' unit='G' nodeset='0-3,5'/>
            </hugepages>
            <nosharepages/>
            <locked/>
            <source type='file'/>
            <access mode='shared'/>
            <allocation mode='immediate' threads='8'/>
            <discard/>
          </memoryBacking>
        """)
        let d = try #require(parseDomain(xml))
        #expect(try d.memoryBacking.hugepages.page[0].size.value == .gibibytes(1))
        #expect(try d.memoryBacking.hugepages.page[0].nodeset.value == [0, 1, 2, 3, 5])
        #expect(try d.memoryBacking.nosharepages.value == true)
        #expect(try d.memoryBacking.locked.value == true)
        #expect(try d.memoryBacking.discard.value == true)
        #expect(try d.memoryBacking.source.type.value == .file)
        #expect(try d.memoryBacking.access.mode.value == .shared)
        #expect(try d.memoryBacking.allocation.mode.value == .immediate)
        #expect(try d.memoryBacking.allocation.threads.value == 8)
        checkProperty(xml, { $0.memoryBacking.source.type }, reads: .file, write: .memfd, serializes: "<source type='memfd'/>")
        checkProperty(xml, { $0.memoryBacking.locked }, reads: true, write: false, serializes: "<nosharepages/>\n    <source")
        // Adding hugepages to a domain without memoryBacking creates it at libvirt's position.
        let plain = try #require(parseDomain(domainXML("  <memory unit='KiB'>1048576</memory>\n  <vcpu>1</vcpu>")))
        plain.memoryBacking.hugepages.page.append().size.set(.mebibytes(2))
        #expect(plain.serialize().contains("""
          <memory unit='KiB'>1048576</memory>
          <memoryBacking>
            <hugepages>
              <page size='2048' unit='KiB'/>
            </hugepages>
          </memoryBacking>
          <vcpu>1</vcpu>
        """))
    }

    @Test func memtuneAndBlkiotune() throws {
        let xml = domainXML("""
          <blkiotune>
            <weight>800</weight>
            <device>
              <path>/dev/sda</path>
              <weight>400</weight>
              <read_iops_sec>20000</read_iops_sec>
              <write_iops_sec>10000</write_iops_sec>
              <read_bytes_sec>10000</read_bytes_sec>
              <write_bytes_sec>5000</write_bytes_sec>
            </device>
          </blkiotune>
          <memtune>
            <hard_limit unit='KiB'>9437184</hard_limit>
            <soft_limit unit='G'>4</soft_limit>
          </memtune>
        """)
        checkProperty(xml, { $0.memtune.hardLimit }, reads: .limited(.gibibytes(9)), write: .limited(.gibibytes(10)), serializes: "<hard_limit unit='KiB'>10485760</hard_limit>")
        checkProperty(xml, { $0.memtune.softLimit }, reads: .limited(.gibibytes(4)), write: .limited(.gibibytes(5)), serializes: "<soft_limit unit='G'>5</soft_limit>")
        checkProperty(xml, { $0.memtune.swapHardLimit }, reads: nil, write: .limited(.gibibytes(12)), serializes: "<swap_hard_limit unit='KiB'>12582912</swap_hard_limit>")
        checkProperty(xml, { $0.memtune.minGuarantee }, reads: nil, write: .gibibytes(1), serializes: "<min_guarantee unit='KiB'>1048576</min_guarantee>")
        checkProperty(xml, { $0.blkiotune.weight }, reads: 800, write: 500, serializes: "<weight>500</weight>")
        let d = try #require(parseDomain(xml))
        let dev = d.blkiotune.device[0]
        #expect(try dev.path.value == "/dev/sda")
        #expect(try dev.weight.value == 400)
        #expect(try dev.readIopsSec.value == 20000)
        #expect(try dev.writeIopsSec.value == 10000)
        #expect(try dev.readBytesSec.value == 10000)
        #expect(try dev.writeBytesSec.value == 5000)
    }

    @Test func cpuModelTopologyFeaturesAndNUMA() throws {
        let xml = domainXML("""
          <cpu mode='custom' match='exact' check='partial'>
            <model fallback='allow'>core2duo</model>
            <vendor>Intel</vendor>
            <topology sockets='2' dies='1' cores='4' threads='2'/>
            <feature policy='require' name='vmx'/>
            <feature policy='disable' name='lahf_lm'/>
            <numa>
              <cell id='0' cpus='0-7' memory='1048576' unit='KiB' memAccess='shared'>
                <distances>
                  <sibling id='0' value='10'/>
                  <sibling id='1' value='21'/>
                </distances>
              </cell>
              <cell id='1' cpus='8-15' memory='1' unit='GiB'/>
            </numa>
          </cpu>
        """)
        checkProperty(xml, { $0.cpu.mode }, reads: .custom, write: .hostPassthrough, serializes: "mode='host-passthrough'")
        checkProperty(xml, { $0.cpu.match }, reads: .exact, write: .minimum, serializes: "match='minimum'")
        checkProperty(xml, { $0.cpu.check }, reads: .partial, write: .disabled, serializes: "check='none'")
        checkProperty(xml, { $0.cpu.model.name }, reads: "core2duo", write: "Skylake-Client", serializes: "<model fallback='allow'>Skylake-Client</model>")
        checkProperty(xml, { $0.cpu.model.fallback }, reads: .allow, write: .forbid, serializes: "fallback='forbid'")
        checkProperty(xml, { $0.cpu.vendor }, reads: "Intel", write: "AMD", serializes: "<vendor>AMD</vendor>")
        checkProperty(xml, { $0.cpu.topology.sockets }, reads: 2, write: 1, serializes: "sockets='1'")
        checkProperty(xml, { $0.cpu.topology.dies }, reads: 1, write: 2, serializes: "dies='2'")
        checkProperty(xml, { $0.cpu.topology.cores }, reads: 4, write: 8, serializes: "cores='8'")
        checkProperty(xml, { $0.cpu.topology.threads }, reads: 2, write: 1, serializes: "threads='1'")
        let d = try #require(parseDomain(xml))
        #expect(try d.cpu.features.map { try $0.name.value } == ["vmx", "lahf_lm"])
        #expect(try d.cpu.features[1].policy.value == .disable)
        let cells = d.cpu.numa.cells
        #expect(cells.count == 2)
        #expect(try cells[0].cpus.value == CPUSet(0...7))
        #expect(try cells[0].memory.value == .gibibytes(1))
        #expect(try cells[1].memory.value == .gibibytes(1))
        #expect(try cells[0].memAccess.value == .shared)
        #expect(try cells[0].distances.siblings.map { try $0.value.value } == [10, 21])
        cells[1].memory.set(.gibibytes(2))
        cells[1].memAccess.set(.private)
        let again = try #require(reparsed(d))
        #expect(again.serialize().contains("<cell id='1' cpus='8-15' memory='2' unit='GiB' memAccess='private'/>"))
        // A new feature lands after the existing ones, before <numa>.
        let f = d.cpu.features.append()
        f.policy.set(.require)
        f.name.set("pdpe1gb")
        #expect(d.serialize().contains("<feature policy='disable' name='lahf_lm'/>\n    <feature policy='require' name='pdpe1gb'/>\n    <numa>"))
    }

    @Test func osBootAndDirectKernel() throws {
        let xml = domainXML("""
          <os firmware='efi'>
            <type arch='x86_64' machine='q35'>hvm</type>
            <loader readonly='yes' secure='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>
            <nvram template='/usr/share/OVMF/OVMF_VARS.fd'>/var/lib/libvirt/nvram/t_VARS.fd</nvram>
            <kernel>/boot/vmlinuz</kernel>
            <initrd>/boot/initrd.img</initrd>
            <cmdline>console=ttyS0</cmdline>
            <boot dev='hd'/>
            <boot dev='cdrom'/>
            <bootmenu enable='yes' timeout='3000'/>
          </os>
        """)
        checkProperty(xml, { $0.os.firmware }, reads: .efi, write: .bios, serializes: "<os firmware='bios'>")
        checkProperty(xml, { $0.os.type.arch }, reads: "x86_64", write: "aarch64", serializes: "arch='aarch64'")
        checkProperty(xml, { $0.os.type.machine }, reads: "q35", write: "pc-q35-8.2", serializes: "machine='pc-q35-8.2'")
        checkProperty(xml, { $0.os.type.value }, reads: .hvm, write: .other("exotic"), serializes: ">exotic</type>")
        checkProperty(xml, { $0.os.loader.path }, reads: "/usr/share/OVMF/OVMF_CODE.fd", write: "/x.fd", serializes: ">/x.fd</loader>")
        checkProperty(xml, { $0.os.loader.secure }, reads: true, write: false, serializes: "secure='no'")
        checkProperty(xml, { $0.os.loader.type }, reads: .pflash, write: .rom, serializes: "type='rom'")
        checkProperty(xml, { $0.os.nvram.path }, reads: "/var/lib/libvirt/nvram/t_VARS.fd", write: "/n.fd", serializes: ">/n.fd</nvram>")
        checkProperty(xml, { $0.os.nvram.template }, reads: "/usr/share/OVMF/OVMF_VARS.fd", write: "/t.fd", serializes: "template='/t.fd'")
        checkProperty(xml, { $0.os.kernel }, reads: "/boot/vmlinuz", write: "/k", serializes: "<kernel>/k</kernel>")
        checkProperty(xml, { $0.os.initrd }, reads: "/boot/initrd.img", write: "/i", serializes: "<initrd>/i</initrd>")
        checkProperty(xml, { $0.os.cmdline }, reads: "console=ttyS0", write: "quiet", serializes: "<cmdline>quiet</cmdline>")
        checkProperty(xml, { $0.os.bootmenu.timeout }, reads: .milliseconds(3000), write: .zero, serializes: "timeout='0'")
        let d = try #require(parseDomain(xml))
        #expect(try d.os.boot.map { try $0.dev.value } == [.hd, .cdrom])
        d.os.boot.append().dev.set(.network)
        #expect(d.serialize().contains("<boot dev='cdrom'/>\n    <boot dev='network'/>\n    <bootmenu"))
    }

    @Test func featuresFlagsAndStates() throws {
        let xml = domainXML("""
          <features>
            <acpi/>
            <apic eoi='on'/>
            <hyperv mode='custom'>
              <relaxed state='on'/>
              <spinlocks state='on' retries='4096'/>
            </hyperv>
            <kvm>
              <hidden state='on'/>
            </kvm>
            <pmu state='off'/>
            <smm state='on'>
              <tseg unit='MiB'>48</tseg>
            </smm>
          </features>
        """)
        checkProperty(xml, { $0.features.acpi }, reads: true, write: false, serializes: "<features>\n    <apic eoi='on'/>")
        checkProperty(xml, { $0.features.pae }, reads: false, write: true, serializes: "<pae/>")
        checkProperty(xml, { $0.features.apic.eoi }, reads: true, write: false, serializes: "<apic eoi='off'/>")
        checkProperty(xml, { $0.features.hyperv.spinlocks.retries }, reads: 4096, write: 8191, serializes: "retries='8191'")
        checkProperty(xml, { $0.features.kvm.hidden.state }, reads: true, write: false, serializes: "<hidden state='off'/>")
        checkProperty(xml, { $0.features.pmu.state }, reads: false, write: true, serializes: "<pmu state='on'/>")
        checkProperty(xml, { $0.features.smm.tseg }, reads: .mebibytes(48), write: .mebibytes(64), serializes: "<tseg unit='MiB'>64</tseg>")
        checkProperty(xml, { $0.features.vmport.state }, reads: nil, write: false, serializes: "<vmport state='off'/>")
        // The pae flag is inserted where libvirt formats it: first.
        let d = try #require(parseDomain(xml))
        d.features.pae.set(true)
        #expect(d.serialize().contains("<features>\n    <pae/>\n    <acpi/>"))
    }

    @Test func clockAndTimers() throws {
        let xml = domainXML("""
          <clock offset='utc'>
            <timer name='rtc' tickpolicy='catchup'/>
            <timer name='pit' tickpolicy='delay'/>
            <timer name='hpet' present='no'/>
          </clock>
        """)
        checkProperty(xml, { $0.clock.offset }, reads: .utc, write: .localtime, serializes: "<clock offset='localtime'>")
        let d = try #require(parseDomain(xml))
        #expect(try d.clock.timers.map { try $0.name.value } == [.rtc, .pit, .hpet])
        #expect(try d.clock.timers[2].present.value == false)
        #expect(try d.clock.timers[0].tickpolicy.value == .catchup)
        d.clock.timers[2].present.set(true)
        #expect(d.serialize().contains("<timer name='hpet' present='yes'/>"))
    }

    @Test func lifecycleActions() {
        let xml = domainXML("  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n  <on_crash>coredump-restart</on_crash>")
        checkProperty(xml, { $0.onPoweroff }, reads: .destroy, write: .preserve, serializes: "<on_poweroff>preserve</on_poweroff>")
        checkProperty(xml, { $0.onReboot }, reads: .restart, write: .destroy, serializes: "<on_reboot>destroy</on_reboot>")
        checkProperty(xml, { $0.onCrash }, reads: .coredumpRestart, write: .renameRestart, serializes: "<on_crash>rename-restart</on_crash>")
    }

    @Test func unknownEnumValuesAreKept() throws {
        let d = try #require(parseDomain(domainXML("  <on_crash>explode</on_crash>", type: "future-hv")))
        #expect(try d.type.value == .other("future-hv"))
        #expect(try d.onCrash.value == .other("explode"))
        #expect(LifecycleAction.other("explode").rawValue == "explode")
        #expect(!LifecycleAction.other("explode").isKnown)
        #expect(LifecycleAction(rawValue: "destroy") == .destroy)
        #expect(d.validate().isEmpty)
    }

    @Test func clearingAValueRemovesOnlyWhatTheTypedLayerCreated() throws {
        let d = try #require(parseDomain(domainXML("  <memory unit='KiB'>1024</memory>")))
        d.numatune.memory.mode.set(.strict)
        #expect(d.serialize().contains("<numatune>"))
        d.numatune.memory.mode.remove()
        #expect(!d.serialize().contains("numatune"))
        // An existing element with other content stays when one value is cleared.
        let e = try #require(parseDomain(domainXML("  <vcpu placement='static' cpuset='1'>2</vcpu>")))
        e.vcpu.cpuset.remove()
        #expect(e.serialize().contains("<vcpu placement='static'>2</vcpu>"))
    }

    @Test func qemuNamespaceIsMatchedByURINotPrefix() throws {
        let ns = "http://libvirt.org/schemas/domain/qemu/1.0"
        let alt = try #require(parseDomain("""
        <domain type='qemu' xmlns:qemu='urn:dummy'>
          <name>t</name>
          <ns0:commandline xmlns:ns0='\(ns)'>
            <ns0:arg value='-no-reboot'/>
            <ns1:arg value='-S' xmlns:ns1='\(ns)'/>
          </ns0:commandline>
          <qemu:commandline>
            <qemu:arg value='not-qemu'/>
          </qemu:commandline>
        </domain>
        """))
        #expect(try alt.qemuCommandline.arg.map { try $0.value.value } == ["-no-reboot", "-S"])
        let report = alt.coverage()
        #expect(report.passthrough["/domain/qemu:commandline"] == 1)   // the urn:dummy one
        #expect(report.passthrough["/domain/ns0:commandline"] == nil)
        let defaultNS = try #require(parseDomain(domainXML("  <commandline xmlns='\(ns)'>\n    <env name='A' value='1'/>\n  </commandline>")))
        #expect(try defaultNS.qemuCommandline.env.first?.name.value == "A")

        // Creating the element declares the namespace: on the root when the prefix is free…
        let d = DomainDefinition(type: .kvm, name: "ns", memory: .mebibytes(256), vcpus: 1)
        d.qemuCommandline.arg.append().value.set("-no-hpet")
        #expect(d.serialize().hasPrefix("<domain type='kvm' xmlns:qemu='\(ns)'>"))
        #expect(try DomainDefinition(parsing: d.serialize()).qemuCommandline.arg.first?.value.value == "-no-hpet")
        // …and on the element when the root binds `qemu` to something else.
        let clash = try #require(parseDomain("<domain type='kvm' xmlns:qemu='urn:dummy'>\n  <name>t</name>\n</domain>"))
        clash.qemuCommandline.env.append().name.set("B")
        #expect(clash.serialize().contains("<qemu:commandline xmlns:qemu='\(ns)'>"))
        #expect(try clash.qemuCommandline.env.first?.name.value == "B")
        if let rejected = virtXMLValidate([d.serialize()]) { #expect(rejected.isEmpty, "\(rejected)") }
    }

    @Test func unmodeledXMLSurvivesTypedEdits() throws {
        let xml = """
        <domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
          <name>t</name>
          <!-- keep me -->
          <vcpu placement='static' futureAttr="x">2</vcpu>
          <futureElement a='1'><![CDATA[raw <stuff>]]></futureElement>
          <app:extension xmlns:app='http://example.org/app'>
            <app:setting value='blockdev'/>
          </app:extension>
        </domain>
        """
        let d = try #require(parseDomain(xml))
        d.vcpu.count.set(6)
        d.name.set("renamed")
        let expected = xml.replacingOccurrences(of: ">2</vcpu>", with: ">6</vcpu>")
            .replacingOccurrences(of: "<name>t</name>", with: "<name>renamed</name>")
        #expect(d.serialize() == expected)
        let report = d.coverage()
        #expect(report.passthrough["/domain/futureElement"] == 1)
        #expect(report.passthrough["/domain/vcpu@futureAttr"] == 1)
        #expect(report.passthrough["/domain/app:extension/app:setting@value"] == 1)
        #expect(report.typedElements == 3)
    }
}
