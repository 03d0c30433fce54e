// The enumerations of the domain-level settings (type, lifecycle, CPU, memory, NUMA, clock, OS,
// security labels). Spellings follow libvirt 9.0's domain XML (docs/formatdomain.rst); unknown
// spellings decode to `.other(raw)` and are written back as is.

/// The hypervisor driver (`<domain type=…>`).
public enum DomainType: XMLEnum {
    case qemu, kvm, xen, lxc, hvf, test, vmware, hyperv, vbox, bhyve
    case other(String)
    public static let known: [(Self, String)] = [
        (.qemu, "qemu"),
        (.kvm, "kvm"),
        (.xen, "xen"),
        (.lxc, "lxc"),
        (.hvf, "hvf"),
        (.test, "test"),
        (.vmware, "vmware"),
        (.hyperv, "hyperv"),
        (.vbox, "vbox"),
        (.bhyve, "bhyve"),
    ]
}

/// Where a value's CPUs/nodes come from: `static` (as given) or `auto` (numad).
public enum Placement: XMLEnum {
    case `static`, auto
    case other(String)
    public static let known: [(Self, String)] = [
        (.static, "static"),
        (.auto, "auto"),
    ]
}

/// `on_poweroff` / `on_reboot` / `on_crash` actions.
public enum LifecycleAction: XMLEnum {
    case destroy, restart, preserve, renameRestart, coredumpDestroy, coredumpRestart
    case other(String)
    public static let known: [(Self, String)] = [
        (.destroy, "destroy"),
        (.restart, "restart"),
        (.preserve, "preserve"),
        (.renameRestart, "rename-restart"),
        (.coredumpDestroy, "coredump-destroy"),
        (.coredumpRestart, "coredump-restart"),
    ]
}

/// `<cpu mode>`.
public enum CPUMode: XMLEnum {
    case custom, hostModel, hostPassthrough, maximum
    case other(String)
    public static let known: [(Self, String)] = [
        (.custom, "custom"),
        (.hostModel, "host-model"),
        (.hostPassthrough, "host-passthrough"),
        (.maximum, "maximum"),
    ]
}

/// `<cpu match>`.
public enum CPUMatch: XMLEnum {
    case minimum, exact, strict
    case other(String)
    public static let known: [(Self, String)] = [
        (.minimum, "minimum"),
        (.exact, "exact"),
        (.strict, "strict"),
    ]
}

/// `<cpu check>`.
public enum CPUCheck: XMLEnum {
    case disabled, partial, full
    case other(String)
    public static let known: [(Self, String)] = [
        (.disabled, "none"),
        (.partial, "partial"),
        (.full, "full"),
    ]
}

/// `<cpu><model fallback>`.
public enum CPUModelFallback: XMLEnum {
    case allow, forbid
    case other(String)
    public static let known: [(Self, String)] = [
        (.allow, "allow"),
        (.forbid, "forbid"),
    ]
}

/// `<cpu><feature policy>`.
public enum CPUFeaturePolicy: XMLEnum {
    case force, require, optional, disable, forbid
    case other(String)
    public static let known: [(Self, String)] = [
        (.force, "force"),
        (.require, "require"),
        (.optional, "optional"),
        (.disable, "disable"),
        (.forbid, "forbid"),
    ]
}

/// `memAccess` of a NUMA cell, `<access mode>` of memoryBacking.
public enum MemoryAccess: XMLEnum {
    case shared, `private`
    case other(String)
    public static let known: [(Self, String)] = [
        (.shared, "shared"),
        (.private, "private"),
    ]
}

/// `<numatune><memory mode>` and `<memnode mode>`.
public enum NUMAMode: XMLEnum {
    case strict, interleave, preferred, restrictive
    case other(String)
    public static let known: [(Self, String)] = [
        (.strict, "strict"),
        (.interleave, "interleave"),
        (.preferred, "preferred"),
        (.restrictive, "restrictive"),
    ]
}

/// `<memoryBacking><source type>`.
public enum MemorySourceType: XMLEnum {
    case file, anonymous, memfd
    case other(String)
    public static let known: [(Self, String)] = [
        (.file, "file"),
        (.anonymous, "anonymous"),
        (.memfd, "memfd"),
    ]
}

/// `<memoryBacking><allocation mode>`.
public enum MemoryAllocationMode: XMLEnum {
    case immediate, ondemand
    case other(String)
    public static let known: [(Self, String)] = [
        (.immediate, "immediate"),
        (.ondemand, "ondemand"),
    ]
}

/// `vcpusched`/`iothreadsched`/`emulatorsched` `scheduler`.
public enum Scheduler: XMLEnum {
    case otherPolicy, batch, idle, fifo, rr
    case other(String)
    public static let known: [(Self, String)] = [
        (.otherPolicy, "other"),
        (.batch, "batch"),
        (.idle, "idle"),
        (.fifo, "fifo"),
        (.rr, "rr"),
    ]
}

/// `<clock offset>`.
public enum ClockOffset: XMLEnum {
    case utc, localtime, timezone, variable, absolute
    case other(String)
    public static let known: [(Self, String)] = [
        (.utc, "utc"),
        (.localtime, "localtime"),
        (.timezone, "timezone"),
        (.variable, "variable"),
        (.absolute, "absolute"),
    ]
}

/// `<clock><timer name>`.
public enum TimerName: XMLEnum {
    case platform, pit, rtc, hpet, tsc, kvmclock, hypervclock, armvtimer
    case other(String)
    public static let known: [(Self, String)] = [
        (.platform, "platform"),
        (.pit, "pit"),
        (.rtc, "rtc"),
        (.hpet, "hpet"),
        (.tsc, "tsc"),
        (.kvmclock, "kvmclock"),
        (.hypervclock, "hypervclock"),
        (.armvtimer, "armvtimer"),
    ]
}

/// `<timer tickpolicy>`.
public enum TickPolicy: XMLEnum {
    case delay, catchup, merge, discard
    case other(String)
    public static let known: [(Self, String)] = [
        (.delay, "delay"),
        (.catchup, "catchup"),
        (.merge, "merge"),
        (.discard, "discard"),
    ]
}

/// `<os><type>` (guest ABI).
public enum OSType: XMLEnum {
    case hvm, xen, linux, xenpvh, exe
    case other(String)
    public static let known: [(Self, String)] = [
        (.hvm, "hvm"),
        (.xen, "xen"),
        (.linux, "linux"),
        (.xenpvh, "xenpvh"),
        (.exe, "exe"),
    ]
}

/// `<os><boot dev>`.
public enum BootDevice: XMLEnum {
    case fd, hd, cdrom, network
    case other(String)
    public static let known: [(Self, String)] = [
        (.fd, "fd"),
        (.hd, "hd"),
        (.cdrom, "cdrom"),
        (.network, "network"),
    ]
}

/// `<os><loader type>`.
public enum LoaderType: XMLEnum {
    case rom, pflash
    case other(String)
    public static let known: [(Self, String)] = [
        (.rom, "rom"),
        (.pflash, "pflash"),
    ]
}

/// `<os firmware>` autoselection.
public enum Firmware: XMLEnum {
    case bios, efi
    case other(String)
    public static let known: [(Self, String)] = [
        (.bios, "bios"),
        (.efi, "efi"),
    ]
}

/// `<seclabel type>`.
public enum SecLabelType: XMLEnum {
    case dynamic, `static`, disabled
    case other(String)
    public static let known: [(Self, String)] = [
        (.dynamic, "dynamic"),
        (.static, "static"),
        (.disabled, "none"),
    ]
}
