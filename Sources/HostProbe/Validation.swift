/// The outcome of one readiness check.
public enum ValidationStatus: String, Sendable, Hashable, Codable, Comparable {
    case pass = "PASS"
    case warn = "WARN"
    case fail = "FAIL"

    private var rank: Int { self == .pass ? 0 : self == .warn ? 1 : 2 }
    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
}

/// One line of `virtkit validate`.
public struct ValidationResult: Sendable, Hashable, Codable {
    /// Stable id (`kvm.device`, `cgroup.memory`, …).
    public var id: String
    /// What was checked, in virt-host-validate's words where it has the same check.
    public var check: String
    public var status: ValidationStatus
    /// What was found.
    public var message: String
    /// What to do about a WARN/FAIL.
    public var hint: String?
}

/// KVM host readiness from a snapshot: every QEMU check of libvirt's
/// `virt-host-validate` (hardware virtualization, /dev/kvm, vhost-net, tun, cgroup
/// controllers, IOMMU, secure guests) plus whether KVM actually creates a VM, hugepages,
/// THP and two-dimensional paging.
public enum HostValidation {
    /// The sections ``run(_:)`` needs.
    public static let sections: Set<ProbeSection> = [.topology, .memory, .kvm, .numa]

    public static func run(_ s: HostSnapshot) -> [ValidationResult] {
        var out: [ValidationResult] = []
        func add(_ id: String, _ check: String, _ status: ValidationStatus, _ message: String, _ hint: String? = nil) {
            out.append(ValidationResult(id: id, check: check, status: status, message: message, hint: status == .pass ? nil : hint))
        }
        let info = s.topology?.cpuinfo
        let kvm = s.kvm

        // Hardware virtualization: virt-host-validate greps cpuinfo only, which a nested
        // hypervisor may hide; a VM that KVM really created overrides the flags.
        if let hv = info?.hardwareVirtualization {
            add("cpu.virtualization", "Checking for hardware virtualization", .pass, "CPU flag \(hv) present")
        } else if kvm?.usable == true {
            add("cpu.virtualization", "Checking for hardware virtualization", .pass,
                "no vmx/svm flag in /proc/cpuinfo\((info?.runsUnderHypervisor ?? false) ? " (hidden by the hypervisor)" : ""), but KVM_CREATE_VM works")
        } else if info == nil {
            add("cpu.virtualization", "Checking for hardware virtualization", .warn, "/proc/cpuinfo unreadable", "check the probe diagnostics")
        } else {
            add("cpu.virtualization", "Checking for hardware virtualization", .fail,
                "no vmx/svm flag in /proc/cpuinfo", "enable Intel VT-x / AMD-V in the firmware (or nested virtualization on the outer hypervisor)")
        }

        if let kvm {
            add("kvm.device", "Checking if device /dev/kvm exists", kvm.device.present ? .pass : .fail,
                kvm.device.present ? "present" : "missing", "load kvm and kvm_intel or kvm_amd (modprobe kvm_intel)")
            if kvm.device.present {
                let ok = kvm.device.accessible ?? false
                add("kvm.access", "Checking if device /dev/kvm is accessible", ok ? .pass : .fail,
                    ok ? "read-write for this user" : "no read-write access for this user",
                    "add the user to the kvm group or fix the udev rule for /dev/kvm")
            }
            switch kvm.usable {
            case .some(true):
                add("kvm.usable", "Checking if KVM creates a VM (KVM_CREATE_VM)", .pass,
                    "API version \(kvm.apiVersion ?? 0)\(kvm.maxVCPUs.map { ", up to \($0) vCPUs per VM" } ?? "")")
            case .some(false):
                add("kvm.usable", "Checking if KVM creates a VM (KVM_CREATE_VM)", .fail, kvm.liveCheckError ?? "failed",
                    "check dmesg for kvm errors; VT-x/AMD-V may be disabled or taken by another hypervisor")
            case .none:
                add("kvm.usable", "Checking if KVM creates a VM (KVM_CREATE_VM)", .warn,
                    kvm.device.present ? "not tested: ioctls only run on the live root" : "no /dev/kvm",
                    "run validate on the host itself")
            }
            if let tdp = kvm.twoDimensionalPaging {
                add("kvm.tdp", "Checking for two-dimensional paging (EPT/NPT)", tdp ? .pass : .warn, tdp ? "enabled" : "disabled",
                    "enable kvm_intel.ept / kvm_amd.npt: without it guests use slow shadow page tables")
            }
            add("vhost.net", "Checking if device /dev/vhost-net exists", kvm.vhostNet.present ? .pass : .warn,
                kvm.vhostNet.present ? "present" : "missing", "modprobe vhost_net: in-kernel virtio-net data path")
            add("net.tun", "Checking if device /dev/net/tun exists", kvm.tun.present ? .pass : .fail,
                kvm.tun.present ? "present" : "missing", "modprobe tun")

            // cgroup controllers libvirt's QEMU driver uses.
            let cg = kvm.cgroups
            let v2 = cg.unifiedMount
            for (name, v2name) in [("memory", "memory"), ("cpu", "cpu"), ("cpuacct", "cpu"), ("cpuset", "cpuset"),
                                   ("devices", ""), ("freezer", ""), ("blkio", "io")] {
                let check = "Checking for cgroup '\(name)' controller support"
                if let m = cg.controllers[name] {
                    add("cgroup.\(name)", check, .pass, "mounted at \(m)")
                } else if let v2, v2name.isEmpty {
                    // cgroup v2 has no devices/freezer controllers: BPF programs and cgroup.freeze do the job.
                    add("cgroup.\(name)", check, .pass, "provided by cgroup v2 at \(v2) (\(name == "devices" ? "BPF device filter" : "cgroup.freeze"))")
                } else if let v2, let m = cg.controllers[v2name], m == v2 {
                    add("cgroup.\(name)", check, .pass, "cgroup v2 '\(v2name)' controller at \(v2)")
                } else {
                    add("cgroup.\(name)", check, .warn, "not available (\(cg.mode))",
                        "enable CONFIG_CGROUP for '\(name)' and mount it (or enable it in cgroup.subtree_control)")
                }
            }

            // IOMMU for device assignment.
            let arch = info?.architecture
            let io = kvm.iommu
            let hasTable = io.dmarTable || io.ivrsTable || !io.units.isEmpty || arch == "s390" || arch == "ppc"
            add("iommu.support", "Checking for device assignment IOMMU support", hasTable ? .pass : .warn,
                io.dmarTable ? "ACPI DMAR table (Intel VT-d)" : io.ivrsTable ? "ACPI IVRS table (AMD-Vi)" : hasTable ? "IOMMU units: \(io.units.joined(separator: " "))" : "no ACPI DMAR/IVRS table",
                "enable VT-d / AMD-Vi in the firmware")
            if hasTable {
                add("iommu.enabled", "Checking if IOMMU is enabled by kernel", io.enabled ? .pass : .warn,
                    io.enabled ? "\(io.groups.count) IOMMU groups" : "no IOMMU groups",
                    info?.vendor == "AuthenticAMD" ? "add amd_iommu=on iommu=pt to the kernel command line" : "add intel_iommu=on iommu=pt to the kernel command line")
            }

            let sg = kvm.secureGuest
            if sg.anySupported {
                let what = [sg.sev == true ? "AMD SEV\(sg.sevES == true ? "-ES" : "")\(sg.sevSNP == true ? "/SNP" : "")" : nil,
                            sg.tdx == true ? "Intel TDX" : nil,
                            sg.s390ProtectedVirtualization == true ? "s390 Protected Virtualization" : nil].compactMap { $0 }
                add("secure.guest", "Checking for secure guest support", .pass, what.joined(separator: ", "))
            } else {
                add("secure.guest", "Checking for secure guest support", .warn,
                    sg.cpuFlags.isEmpty ? "no SEV, TDX or s390 PV support enabled" : "CPU has \(sg.cpuFlags.joined(separator: " ")) but KVM does not enable it",
                    "enable SEV (kvm_amd.sev=1), TDX (kvm_intel.tdx=1) or prot_virt=1 where the hardware has it")
            }
        }

        if let mem = s.memory {
            let pools = mem.hugepages.filter { ($0.total ?? 0) > 0 }
            if pools.isEmpty {
                add("memory.hugepages", "Checking for preallocated hugepages", .warn, "no hugepages reserved",
                    "reserve some: sysctl vm.nr_hugepages=N, or hugepagesz=1G hugepages=N on the kernel command line")
            } else {
                let free = pools.map { "\($0.size.kibibytes) KiB: \($0.free ?? 0)/\($0.total ?? 0) free" }.joined(separator: ", ")
                let anyFree = pools.contains { ($0.free ?? 0) > 0 }
                add("memory.hugepages", "Checking for preallocated hugepages", anyFree ? .pass : .warn, free,
                    "all reserved hugepages are in use: reserve more")
            }
            if let thp = mem.transparentHugepages?.enabled?.active {
                add("memory.thp", "Checking transparent hugepages", thp == "never" ? .warn : .pass, "enabled=\(thp)",
                    "set /sys/kernel/mm/transparent_hugepage/enabled to madvise (QEMU madvises guest RAM)")
            } else {
                add("memory.thp", "Checking transparent hugepages", .warn, "THP not available", "build the kernel with CONFIG_TRANSPARENT_HUGEPAGE")
            }
        }
        return out
    }
}
