import Testing
@testable import DomainXML
@testable import LosslessXML
import VirtCore

/// Read, write and round trip of each device view; devices as standalone documents.
@Suite("Typed device views")
struct DeviceViewTests {
    /// `<devices>` around `inner`.
    func devicesXML(_ inner: String) -> String {
        domainXML("  <devices>\n\(inner)\n  </devices>")
    }

    @Test func emulator() {
        checkProperty(devicesXML("    <emulator>/usr/bin/qemu-system-x86_64</emulator>"), { $0.devices.emulator },
                      reads: "/usr/bin/qemu-system-x86_64", write: "/usr/libexec/qemu-kvm",
                      serializes: "<emulator>/usr/libexec/qemu-kvm</emulator>")
    }

    @Test func diskFileDriverTargetBootAddress() throws {
        let xml = devicesXML("""
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2' cache='none' io='native' discard='unmap' error_policy='stop' rerror_policy='report' iothread='1' queues='4'/>
              <source file='/var/lib/libvirt/images/t.qcow2'/>
              <target dev='vda' bus='virtio'/>
              <boot order='1'/>
              <readonly/>
              <shareable/>
              <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
            </disk>
        """)
        let disk = { (d: DomainDefinition) in d.devices.disks[0] }
        checkProperty(xml, { disk($0).type }, reads: .file, write: .block, serializes: "<disk type='block' device='disk'>")
        checkProperty(xml, { disk($0).device }, reads: .disk, write: .cdrom, serializes: "device='cdrom'")
        checkProperty(xml, { disk($0).driver.format }, reads: .qcow2, write: .raw, serializes: "type='raw'")
        checkProperty(xml, { disk($0).driver.cache }, reads: .bypass, write: .writeback, serializes: "cache='writeback'")
        checkProperty(xml, { disk($0).driver.io }, reads: .native, write: .ioUring, serializes: "io='io_uring'")
        checkProperty(xml, { disk($0).driver.discard }, reads: .unmap, write: .ignore, serializes: "discard='ignore'")
        checkProperty(xml, { disk($0).driver.errorPolicy }, reads: .stop, write: .enospace, serializes: "error_policy='enospace'")
        checkProperty(xml, { disk($0).driver.rerrorPolicy }, reads: .report, write: .ignore, serializes: "rerror_policy='ignore'")
        checkProperty(xml, { disk($0).driver.iothread }, reads: 1, write: 2, serializes: "iothread='2'")
        checkProperty(xml, { disk($0).driver.queues }, reads: 4, write: 8, serializes: "queues='8'")
        checkProperty(xml, { disk($0).source.file }, reads: "/var/lib/libvirt/images/t.qcow2", write: "/x.img", serializes: "<source file='/x.img'/>")
        checkProperty(xml, { disk($0).target.dev }, reads: "vda", write: "sda", serializes: "dev='sda'")
        checkProperty(xml, { disk($0).target.bus }, reads: .virtio, write: .scsi, serializes: "bus='scsi'")
        checkProperty(xml, { disk($0).boot.order }, reads: 1, write: 2, serializes: "<boot order='2'/>")
        checkProperty(xml, { disk($0).readonly }, reads: true, write: false, serializes: "<boot order='1'/>\n      <shareable/>")
        checkProperty(xml, { disk($0).shareable }, reads: true, write: false, serializes: "<readonly/>\n      <address")
        checkProperty(xml, { disk($0).address.slot }, reads: 4, write: 10, serializes: "slot='0x0a'")
        checkProperty(xml, { disk($0).address.bus }, reads: 0, write: 1, serializes: "bus='1'")
        checkProperty(xml, { disk($0).address.type }, reads: .pci, write: .ccw, serializes: "type='ccw'")
    }

    @Test func diskSourceTypes() throws {
        let xml = devicesXML("""
            <disk type='block' device='lun'>
              <source dev='/dev/HostVG/QEMUGuest1'/>
              <target dev='sda' bus='scsi'/>
            </disk>
            <disk type='network' device='disk'>
              <source protocol='rbd' name='pool/image'>
                <host name='mon1.example.org' port='6321'/>
                <host name='mon2.example.org' port='6322'/>
                <auth username='myname'>
                  <secret type='ceph' usage='mycluster_myname'/>
                </auth>
              </source>
              <target dev='vdb' bus='virtio'/>
            </disk>
            <disk type='volume' device='disk'>
              <source pool='pool-iscsi' volume='unit:0:0:1' mode='host'/>
              <target dev='vdc' bus='virtio'/>
            </disk>
            <disk type='dir' device='floppy'>
              <source dir='/tmp/floppy'/>
              <target dev='fda' bus='fdc'/>
            </disk>
            <disk type='nvme' device='disk'>
              <source type='pci' managed='yes' namespace='1'>
                <address domain='0x0001' bus='0x02' slot='0x00' function='0x0'/>
              </source>
              <target dev='vdd' bus='virtio'/>
            </disk>
            <disk type='vhostuser' device='disk'>
              <source type='unix' path='/tmp/vhost-blk.sock'>
                <reconnect enabled='yes' timeout='10'/>
              </source>
              <target dev='vde' bus='virtio'/>
            </disk>
        """)
        let d = try #require(parseDomain(xml))
        let disks = d.devices.disks
        #expect(try disks.map { try $0.type.value } == [.block, .network, .volume, .dir, .nvme, .vhostuser])
        #expect(try disks[0].device.value == .lun)
        #expect(try disks[0].source.dev.value == "/dev/HostVG/QEMUGuest1")
        #expect(try disks[1].source.protocol.value == .rbd)
        #expect(try disks[1].source.name.value == "pool/image")
        #expect(try disks[1].source.hosts.map { try $0.name.value } == ["mon1.example.org", "mon2.example.org"])
        #expect(try disks[1].source.auth.secret.type.value == "ceph")
        #expect(try disks[2].source.pool.value == "pool-iscsi")
        #expect(try disks[2].source.volume.value == "unit:0:0:1")
        #expect(try disks[3].source.dir.value == "/tmp/floppy")
        #expect(try disks[4].source.namespace.value == 1)
        #expect(try disks[4].source.address.domain.value == 1)
        #expect(try disks[5].source.reconnect.timeout.value == .seconds(10))
        // Adding a host appends after the existing hosts, before <auth>.
        let h = disks[1].source.hosts.append()
        h.name.set("mon3.example.org")
        h.port.set("6322")
        #expect(d.serialize().contains("<host name='mon2.example.org' port='6322'/>\n        <host name='mon3.example.org' port='6322'/>\n        <auth"))
    }

    @Test func diskAsStandaloneDocument() throws {
        let text = "<disk type='file' device='cdrom'>\n  <source file='/iso/a.iso'/>\n  <target dev='sdc' bus='sata'/>\n  <readonly/>\n</disk>\n"
        let disk = try DiskDevice(parsing: text)
        #expect(disk.xmlString + "\n" == text)
        #expect(try disk.target.bus.value == .sata)
        disk.source.file.set("/iso/b.iso")
        #expect(disk.xmlString.contains("<source file='/iso/b.iso'/>"))
        // Into a domain: lands after the existing disks.
        let d = try #require(parseDomain(devicesXML("    <disk type='file' device='disk'>\n      <source file='/a'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n    <controller type='usb' index='0'/>")))
        d.devices.disks.append(disk)
        #expect(d.devices.disks.count == 2)
        let again = try #require(reparsed(d))
        #expect(try again.devices.disks[1].source.file.value == "/iso/b.iso")
        #expect(again.element?.firstChild(named: "devices")?.childElements.map(\.name) == ["disk", "disk", "controller"])
        // The wrong element, or broken XML, is a typed error.
        #expect(throws: TypedXMLError(path: "/interface", reason: .wrongRootElement(expected: "disk", found: "interface"))) {
            try DiskDevice(parsing: "<interface type='user'/>")
        }
        do {
            _ = try DiskDevice(parsing: "<disk type='file'>\n  <source file='x'>\n</disk>")
            Issue.record("expected a parse error")
        } catch {
            guard case .malformedXML(let parseError) = error.reason else { Issue.record("wrong reason \(error)"); return }
            #expect(parseError.line == 3)
        }
    }

    @Test func controller() throws {
        let xml = devicesXML("""
            <controller type='pci' index='1' model='pcie-root-port'>
              <model name='pcie-root-port'/>
              <target chassis='1' port='0x10'/>
              <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0' multifunction='on'/>
            </controller>
            <controller type='scsi' index='0' model='virtio-scsi'>
              <driver queues='4' iothread='2'/>
            </controller>
        """)
        checkProperty(xml, { $0.devices.controllers[0].type }, reads: .pci, write: .usb, serializes: "<controller type='usb'")
        checkProperty(xml, { $0.devices.controllers[0].index }, reads: 1, write: 2, serializes: "index='2'")
        checkProperty(xml, { $0.devices.controllers[0].model }, reads: "pcie-root-port", write: "pci-bridge", serializes: "model='pci-bridge'")
        checkProperty(xml, { $0.devices.controllers[0].modelName.name }, reads: "pcie-root-port", write: "ioh3420", serializes: "<model name='ioh3420'/>")
        checkProperty(xml, { $0.devices.controllers[0].target.port }, reads: 16, write: 17, serializes: "port='0x11'")
        checkProperty(xml, { $0.devices.controllers[0].address.multifunction }, reads: true, write: false, serializes: "multifunction='off'")
        checkProperty(xml, { $0.devices.controllers[1].driver.queues }, reads: 4, write: 2, serializes: "<driver queues='2' iothread='2'/>")
        let c = ControllerDevice(type: .virtioSerial, index: 0)
        #expect(c.xmlString == "<controller type='virtio-serial' index='0'/>")
    }

    @Test func interface() throws {
        let xml = devicesXML("""
            <interface type='network'>
              <mac address='52:54:00:aa:bb:cc'/>
              <source network='default'/>
              <target dev='vnet0'/>
              <model type='virtio'/>
              <driver name='vhost' queues='4' rx_queue_size='256' tx_queue_size='512'/>
              <link state='up'/>
              <mtu size='9000'/>
              <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
            </interface>
        """)
        let nic = { (d: DomainDefinition) in d.devices.interfaces[0] }
        checkProperty(xml, { nic($0).type }, reads: .network, write: .bridge, serializes: "<interface type='bridge'>")
        checkProperty(xml, { nic($0).mac.address }, reads: "52:54:00:aa:bb:cc", write: "52:54:00:00:00:01", serializes: "<mac address='52:54:00:00:00:01'/>")
        checkProperty(xml, { nic($0).source.network }, reads: "default", write: "isolated", serializes: "<source network='isolated'/>")
        checkProperty(xml, { nic($0).source.bridge }, reads: nil, write: "br0", serializes: "<source network='default' bridge='br0'/>")
        checkProperty(xml, { nic($0).target.dev }, reads: "vnet0", write: "tap1", serializes: "<target dev='tap1'/>")
        checkProperty(xml, { nic($0).model.type }, reads: .virtio, write: .e1000e, serializes: "<model type='e1000e'/>")
        checkProperty(xml, { nic($0).driver.queues }, reads: 4, write: 8, serializes: "queues='8'")
        checkProperty(xml, { nic($0).driver.rxQueueSize }, reads: 256, write: 1024, serializes: "rx_queue_size='1024'")
        checkProperty(xml, { nic($0).driver.txQueueSize }, reads: 512, write: 1024, serializes: "tx_queue_size='1024'")
        checkProperty(xml, { nic($0).link.state }, reads: .up, write: .down, serializes: "<link state='down'/>")
        checkProperty(xml, { nic($0).mtu.size }, reads: 9000, write: 1500, serializes: "<mtu size='1500'/>")
        // Builder: a bridged virtio NIC.
        let built = InterfaceDevice(type: .bridge, source: "br0", mac: "52:54:00:12:34:56")
        #expect(built.xmlString == "<interface type='bridge'>\n  <mac address='52:54:00:12:34:56'/>\n  <source bridge='br0'/>\n  <model type='virtio'/>\n</interface>")
    }

    @Test func graphicsVNCAndSpice() throws {
        let xml = devicesXML("""
            <graphics type='vnc' port='5903' autoport='no' listen='127.0.0.1'>
              <listen type='address' address='127.0.0.1'/>
            </graphics>
            <graphics type='spice' port='5903' tlsPort='5904' autoport='no'>
              <listen type='address' address='127.0.0.1'/>
              <channel name='main' mode='secure'/>
              <image compression='auto_glz'/>
              <jpeg compression='auto'/>
              <zlib compression='auto'/>
              <playback compression='on'/>
              <streaming mode='filter'/>
              <clipboard copypaste='no'/>
              <mouse mode='client'/>
              <filetransfer enable='no'/>
              <gl enable='yes' rendernode='/dev/dri/foo'/>
            </graphics>
        """)
        checkProperty(xml, { $0.devices.graphics[0].port }, reads: 5903, write: 5905, serializes: "port='5905'")
        checkProperty(xml, { $0.devices.graphics[0].listens[0].address }, reads: "127.0.0.1", write: "0.0.0.0", serializes: "<listen type='address' address='0.0.0.0'/>")
        checkProperty(xml, { $0.devices.graphics[1].tlsPort }, reads: 5904, write: 5906, serializes: "tlsPort='5906'")
        checkProperty(xml, { $0.devices.graphics[1].playback.compression }, reads: true, write: false, serializes: "<playback compression='off'/>")
        checkProperty(xml, { $0.devices.graphics[1].clipboard.copypaste }, reads: false, write: true, serializes: "<clipboard copypaste='yes'/>")
        checkProperty(xml, { $0.devices.graphics[1].gl.rendernode }, reads: "/dev/dri/foo", write: "/dev/dri/renderD128", serializes: "rendernode='/dev/dri/renderD128'")
        let d = try #require(parseDomain(xml))
        let spice = d.devices.graphics[1]
        #expect(try spice.type.value == .spice)
        #expect(try spice.channels[0].mode.value == "secure")
        #expect(try spice.image.compression.value == "auto_glz")
        #expect(try spice.streaming.mode.value == "filter")
        #expect(try spice.mouse.mode.value == "client")
        #expect(try spice.filetransfer.enable.value == false)
        let vnc = GraphicsDevice.vnc()
        #expect(vnc.xmlString == "<graphics type='vnc' port='-1' autoport='yes'>\n  <listen type='address' address='127.0.0.1'/>\n</graphics>")
    }

    @Test func video() {
        let xml = devicesXML("""
            <video>
              <model type='qxl' ram='65536' vram='65536' vgamem='16384' heads='1' primary='yes'>
                <acceleration accel3d='yes'/>
              </model>
              <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
            </video>
        """)
        checkProperty(xml, { $0.devices.videos[0].model.type }, reads: .qxl, write: .virtio, serializes: "<model type='virtio'")
        checkProperty(xml, { $0.devices.videos[0].model.vram }, reads: 65536, write: 32768, serializes: "vram='32768'")
        checkProperty(xml, { $0.devices.videos[0].model.heads }, reads: 1, write: 2, serializes: "heads='2'")
        checkProperty(xml, { $0.devices.videos[0].model.primary }, reads: true, write: false, serializes: "primary='no'")
        checkProperty(xml, { $0.devices.videos[0].model.acceleration.accel3d }, reads: true, write: false, serializes: "<acceleration accel3d='no'/>")
    }

    @Test func channelsIncludingGuestAgent() throws {
        let xml = devicesXML("""
            <channel type='unix'>
              <source mode='bind' path='/var/lib/libvirt/qemu/channel/target/t.org.qemu.guest_agent.0'/>
              <target type='virtio' name='org.qemu.guest_agent.0'/>
              <address type='virtio-serial' controller='0' bus='0' port='1'/>
            </channel>
            <channel type='spicevmc'>
              <target type='virtio' name='com.redhat.spice.0'/>
            </channel>
        """)
        let d = try #require(parseDomain(xml))
        #expect(d.devices.channels.map(\.isGuestAgent) == [true, false])
        checkProperty(xml, { $0.devices.channels[0].sources[0].mode }, reads: .bind, write: .connect, serializes: "<source mode='connect'")
        checkProperty(xml, { $0.devices.channels[0].target.name }, reads: "org.qemu.guest_agent.0", write: "org.example.0", serializes: "name='org.example.0'")
        checkProperty(xml, { $0.devices.channels[0].address.port }, reads: "1", write: "2", serializes: "port='2'")
        let agent = ChannelDevice.guestAgent()
        #expect(agent.isGuestAgent)
        #expect(agent.xmlString == "<channel type='unix'>\n  <target type='virtio' name='org.qemu.guest_agent.0'/>\n</channel>")
    }

    @Test func serialAndConsole() {
        let xml = devicesXML("""
            <serial type='tcp'>
              <source mode='bind' host='127.0.0.1' service='9999'/>
              <protocol type='telnet'/>
              <target type='isa-serial' port='0'>
                <model name='isa-serial'/>
              </target>
            </serial>
            <console type='pty'>
              <target type='serial' port='0'/>
            </console>
        """)
        checkProperty(xml, { $0.devices.serials[0].type }, reads: .tcp, write: .udp, serializes: "<serial type='udp'>")
        checkProperty(xml, { $0.devices.serials[0].sources[0].service }, reads: "9999", write: "4555", serializes: "service='4555'")
        checkProperty(xml, { $0.devices.serials[0].protocol.type }, reads: "telnet", write: "raw", serializes: "<protocol type='raw'/>")
        checkProperty(xml, { $0.devices.serials[0].target.port }, reads: 0, write: 1, serializes: "port='1'")
        checkProperty(xml, { $0.devices.serials[0].target.model.name }, reads: "isa-serial", write: "pci-serial", serializes: "<model name='pci-serial'/>")
        checkProperty(xml, { $0.devices.consoles[0].type }, reads: .pty, write: .file, serializes: "<console type='file'>")
        checkProperty(xml, { $0.devices.consoles[0].target.type }, reads: .serial, write: .virtio, serializes: "<target type='virtio' port='0'/>")
    }

    @Test func inputHostdevRNGWatchdogBalloonPanic() {
        let xml = devicesXML("""
            <input type='tablet' bus='usb'>
              <address type='usb' bus='0' port='1'/>
            </input>
            <hostdev mode='subsystem' type='pci' managed='yes'>
              <source>
                <address domain='0x0000' bus='0x06' slot='0x12' function='0x5'/>
              </source>
              <address type='pci' domain='0x0000' bus='0x00' slot='0x08' function='0x0'/>
            </hostdev>
            <watchdog model='i6300esb' action='poweroff'/>
            <memballoon model='virtio' autodeflate='on'>
              <stats period='10'/>
            </memballoon>
            <rng model='virtio'>
              <rate bytes='1234' period='2000'/>
              <backend model='random'>/dev/urandom</backend>
            </rng>
            <panic model='isa'>
              <address type='isa' iobase='0x505'/>
            </panic>
        """)
        checkProperty(xml, { $0.devices.inputs[0].type }, reads: .tablet, write: .mouse, serializes: "<input type='mouse' bus='usb'>")
        checkProperty(xml, { $0.devices.inputs[0].bus }, reads: .usb, write: .virtio, serializes: "bus='virtio'")
        checkProperty(xml, { $0.devices.hostdevs[0].type }, reads: .pci, write: .usb, serializes: "type='usb'")
        checkProperty(xml, { $0.devices.hostdevs[0].managed }, reads: true, write: false, serializes: "managed='no'")
        checkProperty(xml, { $0.devices.hostdevs[0].source.address.function }, reads: 5, write: 6, serializes: "function='0x6'")
        checkProperty(xml, { $0.devices.watchdogs[0].model }, reads: .i6300esb, write: .itco, serializes: "model='itco'")
        checkProperty(xml, { $0.devices.watchdogs[0].action }, reads: .poweroff, write: .injectNMI, serializes: "action='inject-nmi'")
        checkProperty(xml, { $0.devices.memballoon.model }, reads: .virtio, write: .disabled, serializes: "<memballoon model='none'")
        checkProperty(xml, { $0.devices.memballoon.autodeflate }, reads: true, write: false, serializes: "autodeflate='off'")
        checkProperty(xml, { $0.devices.memballoon.stats.period }, reads: .seconds(10), write: .seconds(5), serializes: "<stats period='5'/>")
        checkProperty(xml, { $0.devices.rngs[0].backend.path }, reads: "/dev/urandom", write: "/dev/hwrng", serializes: ">/dev/hwrng</backend>")
        checkProperty(xml, { $0.devices.rngs[0].backend.model }, reads: .random, write: .builtin, serializes: "<backend model='builtin'>")
        checkProperty(xml, { $0.devices.rngs[0].rate.bytes }, reads: 1234, write: 1024, serializes: "bytes='1024'")
        checkProperty(xml, { $0.devices.panics[0].model }, reads: .isa, write: .pvpanic, serializes: "<panic model='pvpanic'>")
        checkProperty(xml, { $0.devices.panics[0].address.iobase }, reads: "0x505", write: "0x506", serializes: "iobase='0x506'")
        #expect(HostdevDevice.pci(bus: 6, slot: 0x12, function: 5).xmlString == """
            <hostdev mode='subsystem' type='pci' managed='yes'>
              <source>
                <address domain='0x0000' bus='0x06' slot='0x12' function='0x5'/>
              </source>
            </hostdev>
            """)
        #expect(RNGDevice.virtio().xmlString == "<rng model='virtio'>\n  <backend model='random'>/dev/urandom</backend>\n</rng>")
    }

    @Test func tpmFilesystemIOMMU() {
        let xml = devicesXML("""
            <tpm model='tpm-crb'>
              <backend type='emulator' version='2.0'/>
            </tpm>
            <filesystem type='mount' accessmode='passthrough'>
              <driver type='virtiofs' queue='1024'/>
              <binary path='/usr/libexec/virtiofsd' xattr='on'/>
              <source dir='/export'/>
              <target dir='tag0'/>
              <readonly/>
            </filesystem>
            <iommu model='intel'>
              <driver intremap='on' caching_mode='on' aw_bits='48'/>
            </iommu>
        """)
        checkProperty(xml, { $0.devices.tpms[0].model }, reads: .crb, write: .tis, serializes: "<tpm model='tpm-tis'>")
        checkProperty(xml, { $0.devices.tpms[0].backend.type }, reads: .emulator, write: .passthrough, serializes: "<backend type='passthrough'")
        checkProperty(xml, { $0.devices.tpms[0].backend.version }, reads: "2.0", write: "1.2", serializes: "version='1.2'")
        checkProperty(xml, { $0.devices.filesystems[0].driver.type }, reads: "virtiofs", write: "path", serializes: "<driver type='path'")
        checkProperty(xml, { $0.devices.filesystems[0].source.dir }, reads: "/export", write: "/srv", serializes: "<source dir='/srv'/>")
        checkProperty(xml, { $0.devices.filesystems[0].target.dir }, reads: "tag0", write: "tag1", serializes: "<target dir='tag1'/>")
        checkProperty(xml, { $0.devices.filesystems[0].accessmode }, reads: .passthrough, write: .mapped, serializes: "accessmode='mapped'")
        checkProperty(xml, { $0.devices.filesystems[0].readonly }, reads: true, write: false, serializes: "<target dir='tag0'/>\n    </filesystem>")
        checkProperty(xml, { $0.devices.iommu.model }, reads: .intel, write: .smmuv3, serializes: "<iommu model='smmuv3'>")
        checkProperty(xml, { $0.devices.iommu.driver.cachingMode }, reads: true, write: false, serializes: "caching_mode='off'")
        checkProperty(xml, { $0.devices.iommu.driver.awBits }, reads: 48, write: 39, serializes: "aw_bits='39'")
    }

    @Test func appendingAnElementIntoItsOwnSubtreeCopiesItInsteadOfTrapping() throws {
        let d = try #require(parseDomain(devicesXML("    <disk type='file'>\n      <target dev='vda'/>\n    </disk>")))
        let disk = d.devices.disks[0]
        let backing = disk.backingStore
        backing.type.set(.file)
        // Moving the disk under its own backing store would make a cycle: a copy goes there.
        let chain = ChildList<BackingStore>(parent: backing.node, name: "backingStore", parentSpec: BackingStore.schema.spec)
        chain.append(BackingStore(node: disk.node))
        #expect(d.devices.disks.count == 1)
        #expect(d.serialize().contains("<backingStore type='file'>"))
    }

    @Test func removingDevices() throws {
        let d = try #require(parseDomain(devicesXML("    <input type='mouse' bus='ps2'/>\n    <input type='keyboard' bus='ps2'/>\n    <memballoon model='virtio'/>")))
        d.devices.inputs.remove(at: 0)
        d.devices.memballoon.remove()
        #expect(d.serialize() == domainXML("  <devices>\n    <input type='keyboard' bus='ps2'/>\n  </devices>"))
    }
}
