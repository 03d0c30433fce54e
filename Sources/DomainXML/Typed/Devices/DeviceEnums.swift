// The enumerations of the `<devices>` views (disks, controllers, interfaces, graphics, character
// devices, hostdevs, …). Spellings follow libvirt 9.0's domain XML (docs/formatdomain.rst);
// unknown spellings decode to `.other(raw)` and are written back as is.

/// `<disk type>`: where the source is.
public enum DiskType: XMLEnum {
    case file, block, dir, network, volume, nvme, vhostuser
    case other(String)
    public static let known: [(Self, String)] = [
        (.file, "file"),
        (.block, "block"),
        (.dir, "dir"),
        (.network, "network"),
        (.volume, "volume"),
        (.nvme, "nvme"),
        (.vhostuser, "vhostuser"),
    ]
}

/// `<disk device>`: how the guest sees it.
public enum DiskDeviceKind: XMLEnum {
    case disk, cdrom, floppy, lun
    case other(String)
    public static let known: [(Self, String)] = [
        (.disk, "disk"),
        (.cdrom, "cdrom"),
        (.floppy, "floppy"),
        (.lun, "lun"),
    ]
}

/// `<driver cache>`.
public enum DiskCache: XMLEnum {
    case `default`, bypass, writethrough, writeback, directsync, unsafe
    case other(String)
    public static let known: [(Self, String)] = [
        (.default, "default"),
        (.bypass, "none"),
        (.writethrough, "writethrough"),
        (.writeback, "writeback"),
        (.directsync, "directsync"),
        (.unsafe, "unsafe"),
    ]
}

/// `<driver io>`.
public enum DiskIO: XMLEnum {
    case threads, native, ioUring
    case other(String)
    public static let known: [(Self, String)] = [
        (.threads, "threads"),
        (.native, "native"),
        (.ioUring, "io_uring"),
    ]
}

/// `<driver discard>`.
public enum DiskDiscard: XMLEnum {
    case unmap, ignore
    case other(String)
    public static let known: [(Self, String)] = [
        (.unmap, "unmap"),
        (.ignore, "ignore"),
    ]
}

/// `<driver error_policy>` (writes; `enospace` only here) and `rerror_policy` (reads).
public enum ErrorPolicy: XMLEnum {
    case stop, report, ignore, enospace
    case other(String)
    public static let known: [(Self, String)] = [
        (.stop, "stop"),
        (.report, "report"),
        (.ignore, "ignore"),
        (.enospace, "enospace"),
    ]
}

/// `<target bus>` of a disk.
public enum DiskBus: XMLEnum {
    case ide, scsi, virtio, xen, usb, sata, sd, fdc, uml
    case other(String)
    public static let known: [(Self, String)] = [
        (.ide, "ide"),
        (.scsi, "scsi"),
        (.virtio, "virtio"),
        (.xen, "xen"),
        (.usb, "usb"),
        (.sata, "sata"),
        (.sd, "sd"),
        (.fdc, "fdc"),
        (.uml, "uml"),
    ]
}

/// `<source protocol>` of a network disk.
public enum NetworkProtocol: XMLEnum {
    case nbd, iscsi, rbd, sheepdog, gluster, vxhs, nfs, http, https, ftp, ftps, tftp, ssh
    case other(String)
    public static let known: [(Self, String)] = [
        (.nbd, "nbd"),
        (.iscsi, "iscsi"),
        (.rbd, "rbd"),
        (.sheepdog, "sheepdog"),
        (.gluster, "gluster"),
        (.vxhs, "vxhs"),
        (.nfs, "nfs"),
        (.http, "http"),
        (.https, "https"),
        (.ftp, "ftp"),
        (.ftps, "ftps"),
        (.tftp, "tftp"),
        (.ssh, "ssh"),
    ]
}

/// `<controller type>`.
public enum ControllerType: XMLEnum {
    case ide, fdc, scsi, sata, usb, ccid, virtioSerial, xenbus, pci, isa
    case other(String)
    public static let known: [(Self, String)] = [
        (.ide, "ide"),
        (.fdc, "fdc"),
        (.scsi, "scsi"),
        (.sata, "sata"),
        (.usb, "usb"),
        (.ccid, "ccid"),
        (.virtioSerial, "virtio-serial"),
        (.xenbus, "xenbus"),
        (.pci, "pci"),
        (.isa, "isa"),
    ]
}

/// `<interface type>`.
public enum InterfaceType: XMLEnum {
    case network, bridge, direct, user, ethernet, hostdev, vhostuser, server, client, mcast, udp, vdpa, null, vds
    case other(String)
    public static let known: [(Self, String)] = [
        (.network, "network"),
        (.bridge, "bridge"),
        (.direct, "direct"),
        (.user, "user"),
        (.ethernet, "ethernet"),
        (.hostdev, "hostdev"),
        (.vhostuser, "vhostuser"),
        (.server, "server"),
        (.client, "client"),
        (.mcast, "mcast"),
        (.udp, "udp"),
        (.vdpa, "vdpa"),
        (.null, "null"),
        (.vds, "vds"),
    ]
}

/// `<link state>`.
public enum LinkState: XMLEnum {
    case up, down
    case other(String)
    public static let known: [(Self, String)] = [
        (.up, "up"),
        (.down, "down"),
    ]
}

/// `<graphics type>`.
public enum GraphicsType: XMLEnum {
    case vnc, spice, sdl, rdp, desktop, eglHeadless, dbus
    case other(String)
    public static let known: [(Self, String)] = [
        (.vnc, "vnc"),
        (.spice, "spice"),
        (.sdl, "sdl"),
        (.rdp, "rdp"),
        (.desktop, "desktop"),
        (.eglHeadless, "egl-headless"),
        (.dbus, "dbus"),
    ]
}

/// `<graphics><listen type>`.
public enum ListenType: XMLEnum {
    case address, network, socket, disabled
    case other(String)
    public static let known: [(Self, String)] = [
        (.address, "address"),
        (.network, "network"),
        (.socket, "socket"),
        (.disabled, "none"),
    ]
}

/// `<video><model type>`.
public enum VideoModel: XMLEnum {
    case vga, cirrus, vmvga, xen, vbox, qxl, virtio, gop, bochs, ramfb, disabled
    case other(String)
    public static let known: [(Self, String)] = [
        (.vga, "vga"),
        (.cirrus, "cirrus"),
        (.vmvga, "vmvga"),
        (.xen, "xen"),
        (.vbox, "vbox"),
        (.qxl, "qxl"),
        (.virtio, "virtio"),
        (.gop, "gop"),
        (.bochs, "bochs"),
        (.ramfb, "ramfb"),
        (.disabled, "none"),
    ]
}

/// Source type of serial/console/channel/parallel devices.
public enum CharDeviceType: XMLEnum {
    case pty, dev, file, pipe, unix, tcp, udp, null, vc, stdio, spicevmc, spiceport, nmdm, qemuVdagent, dbus
    case other(String)
    public static let known: [(Self, String)] = [
        (.pty, "pty"),
        (.dev, "dev"),
        (.file, "file"),
        (.pipe, "pipe"),
        (.unix, "unix"),
        (.tcp, "tcp"),
        (.udp, "udp"),
        (.null, "null"),
        (.vc, "vc"),
        (.stdio, "stdio"),
        (.spicevmc, "spicevmc"),
        (.spiceport, "spiceport"),
        (.nmdm, "nmdm"),
        (.qemuVdagent, "qemu-vdagent"),
        (.dbus, "dbus"),
    ]
}

/// `<channel><target type>`.
public enum ChannelTargetType: XMLEnum {
    case virtio, guestfwd, xen
    case other(String)
    public static let known: [(Self, String)] = [
        (.virtio, "virtio"),
        (.guestfwd, "guestfwd"),
        (.xen, "xen"),
    ]
}

/// `<console><target type>`.
public enum ConsoleTargetType: XMLEnum {
    case serial, virtio, xen, lxc, openvz, sclp, sclplm, uml
    case other(String)
    public static let known: [(Self, String)] = [
        (.serial, "serial"),
        (.virtio, "virtio"),
        (.xen, "xen"),
        (.lxc, "lxc"),
        (.openvz, "openvz"),
        (.sclp, "sclp"),
        (.sclplm, "sclplm"),
        (.uml, "uml"),
    ]
}

/// `<input type>`.
public enum InputType: XMLEnum {
    case mouse, tablet, keyboard, passthrough, evdev
    case other(String)
    public static let known: [(Self, String)] = [
        (.mouse, "mouse"),
        (.tablet, "tablet"),
        (.keyboard, "keyboard"),
        (.passthrough, "passthrough"),
        (.evdev, "evdev"),
    ]
}

/// `<input bus>`.
public enum InputBus: XMLEnum {
    case ps2, usb, xen, virtio, disabled
    case other(String)
    public static let known: [(Self, String)] = [
        (.ps2, "ps2"),
        (.usb, "usb"),
        (.xen, "xen"),
        (.virtio, "virtio"),
        (.disabled, "none"),
    ]
}

/// `<hostdev mode>`.
public enum HostdevMode: XMLEnum {
    case subsystem, capabilities
    case other(String)
    public static let known: [(Self, String)] = [
        (.subsystem, "subsystem"),
        (.capabilities, "capabilities"),
    ]
}

/// `<hostdev type>`.
public enum HostdevType: XMLEnum {
    case usb, pci, scsi, scsiHost, mdev, storage, misc, net
    case other(String)
    public static let known: [(Self, String)] = [
        (.usb, "usb"),
        (.pci, "pci"),
        (.scsi, "scsi"),
        (.scsiHost, "scsi_host"),
        (.mdev, "mdev"),
        (.storage, "storage"),
        (.misc, "misc"),
        (.net, "net"),
    ]
}

/// `<rng><backend model>`.
public enum RNGBackendModel: XMLEnum {
    case random, egd, builtin
    case other(String)
    public static let known: [(Self, String)] = [
        (.random, "random"),
        (.egd, "egd"),
        (.builtin, "builtin"),
    ]
}

/// `<watchdog model>`.
public enum WatchdogModel: XMLEnum {
    case i6300esb, ib700, diag288, itco
    case other(String)
    public static let known: [(Self, String)] = [
        (.i6300esb, "i6300esb"),
        (.ib700, "ib700"),
        (.diag288, "diag288"),
        (.itco, "itco"),
    ]
}

/// `<watchdog action>`.
public enum WatchdogAction: XMLEnum {
    case reset, shutdown, poweroff, pause, noAction, dump, injectNMI
    case other(String)
    public static let known: [(Self, String)] = [
        (.reset, "reset"),
        (.shutdown, "shutdown"),
        (.poweroff, "poweroff"),
        (.pause, "pause"),
        (.noAction, "none"),
        (.dump, "dump"),
        (.injectNMI, "inject-nmi"),
    ]
}

/// `<memballoon model>`.
public enum MemballoonModel: XMLEnum {
    case virtio, virtioTransitional, virtioNonTransitional, xen, disabled
    case other(String)
    public static let known: [(Self, String)] = [
        (.virtio, "virtio"),
        (.virtioTransitional, "virtio-transitional"),
        (.virtioNonTransitional, "virtio-non-transitional"),
        (.xen, "xen"),
        (.disabled, "none"),
    ]
}

/// `<panic model>`.
public enum PanicModel: XMLEnum {
    case isa, pseries, hyperv, s390, pvpanic
    case other(String)
    public static let known: [(Self, String)] = [
        (.isa, "isa"),
        (.pseries, "pseries"),
        (.hyperv, "hyperv"),
        (.s390, "s390"),
        (.pvpanic, "pvpanic"),
    ]
}

/// `<tpm model>`.
public enum TPMModel: XMLEnum {
    case tis, crb, spapr, spaprProxy
    case other(String)
    public static let known: [(Self, String)] = [
        (.tis, "tpm-tis"),
        (.crb, "tpm-crb"),
        (.spapr, "tpm-spapr"),
        (.spaprProxy, "spapr-tpm-proxy"),
    ]
}

/// `<tpm><backend type>`.
public enum TPMBackendType: XMLEnum {
    case passthrough, emulator, external
    case other(String)
    public static let known: [(Self, String)] = [
        (.passthrough, "passthrough"),
        (.emulator, "emulator"),
        (.external, "external"),
    ]
}

/// `<filesystem type>`.
public enum FilesystemType: XMLEnum {
    case mount, block, file, template, ram, bind, volume
    case other(String)
    public static let known: [(Self, String)] = [
        (.mount, "mount"),
        (.block, "block"),
        (.file, "file"),
        (.template, "template"),
        (.ram, "ram"),
        (.bind, "bind"),
        (.volume, "volume"),
    ]
}

/// `<filesystem accessmode>`.
public enum FilesystemAccessMode: XMLEnum {
    case passthrough, mapped, squash
    case other(String)
    public static let known: [(Self, String)] = [
        (.passthrough, "passthrough"),
        (.mapped, "mapped"),
        (.squash, "squash"),
    ]
}

/// `<iommu model>`.
public enum IOMMUModel: XMLEnum {
    case intel, smmuv3, virtio
    case other(String)
    public static let known: [(Self, String)] = [
        (.intel, "intel"),
        (.smmuv3, "smmuv3"),
        (.virtio, "virtio"),
    ]
}

/// `<address type>`.
public enum AddressType: XMLEnum {
    case pci, drive, virtioSerial, ccid, usb, spaprVIO, virtioS390, ccw, virtioMMIO, isa, dimm, unassigned
    case other(String)
    public static let known: [(Self, String)] = [
        (.pci, "pci"),
        (.drive, "drive"),
        (.virtioSerial, "virtio-serial"),
        (.ccid, "ccid"),
        (.usb, "usb"),
        (.spaprVIO, "spapr-vio"),
        (.virtioS390, "virtio-s390"),
        (.ccw, "ccw"),
        (.virtioMMIO, "virtio-mmio"),
        (.isa, "isa"),
        (.dimm, "dimm"),
        (.unassigned, "unassigned"),
    ]
}

/// `mode` of a socket source: listen (`bind`) or `connect`.
public enum SourceMode: XMLEnum {
    case bind, connect
    case other(String)
    public static let known: [(Self, String)] = [
        (.bind, "bind"),
        (.connect, "connect"),
    ]
}

/// `<audio type>` backend.
public enum AudioType: XMLEnum {
    case disabled, alsa, coreaudio, jack, oss, pulseaudio, sdl, spice, file, dbus, pipewire
    case other(String)
    public static let known: [(Self, String)] = [
        (.disabled, "none"),
        (.alsa, "alsa"),
        (.coreaudio, "coreaudio"),
        (.jack, "jack"),
        (.oss, "oss"),
        (.pulseaudio, "pulseaudio"),
        (.sdl, "sdl"),
        (.spice, "spice"),
        (.file, "file"),
        (.dbus, "dbus"),
        (.pipewire, "pipewire"),
    ]
}

/// A disk image format (`<driver type>`, `<format type>`), libvirt's `virStorageFileFormat`.
public enum DiskFormat: XMLEnum {
    case raw, dir, bochs, cloop, dmg, iso, vpc, vdi, fat, vhd, ploop, cow, qcow, qcow2, qed, vmdk, luks
    case other(String)
    public static let known: [(Self, String)] = [
        (.raw, "raw"), (.dir, "dir"), (.bochs, "bochs"), (.cloop, "cloop"), (.dmg, "dmg"), (.iso, "iso"),
        (.vpc, "vpc"), (.vdi, "vdi"), (.fat, "fat"), (.vhd, "vhd"), (.ploop, "ploop"), (.cow, "cow"),
        (.qcow, "qcow"), (.qcow2, "qcow2"), (.qed, "qed"), (.vmdk, "vmdk"), (.luks, "luks"),
    ]
}

/// A NIC model (`<interface><model type>`). QEMU accepts more device names; they stay `.other`.
public enum NICModel: XMLEnum {
    case virtio, virtioTransitional, virtioNonTransitional, e1000, e1000e, igb, rtl8139, vmxnet3, ne2kPCI, pcnet, usbNet
    case other(String)
    public static let known: [(Self, String)] = [
        (.virtio, "virtio"), (.virtioTransitional, "virtio-transitional"),
        (.virtioNonTransitional, "virtio-non-transitional"), (.e1000, "e1000"), (.e1000e, "e1000e"),
        (.igb, "igb"), (.rtl8139, "rtl8139"), (.vmxnet3, "vmxnet3"), (.ne2kPCI, "ne2k_pci"),
        (.pcnet, "pcnet"), (.usbNet, "usb-net"),
    ]

    /// True for the virtio models (multiqueue, packed rings and the other virtio options apply).
    public var isVirtio: Bool { self == .virtio || self == .virtioTransitional || self == .virtioNonTransitional }
}
