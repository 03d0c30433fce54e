#if canImport(Glibc)
import Glibc
#endif
import VirtCore

/// Whether the host can run KVM guests, and how its KVM is configured. JSON key `kvm`.
public struct KVMReadiness: Sendable, Hashable, Codable {
    public var device: DeviceNode
    /// Result of `ioctl(KVM_GET_API_VERSION)` on `/dev/kvm` (12 on every kernel since
    /// 2.6.22); nil unless probed on the live root.
    public var apiVersion: Int?
    /// Whether `ioctl(KVM_CREATE_VM)` returned a VM descriptor: KVM really works here, even
    /// when a nested hypervisor hides `vmx`/`svm` from cpuinfo.
    public var createVMSucceeded: Bool?
    /// `KVM_CHECK_EXTENSION(KVM_CAP_MAX_VCPUS)`: the most vCPUs one VM may have.
    public var maxVCPUs: Int?
    /// Why the live check failed (`errno` text), when it did.
    public var liveCheckError: String?
    /// Loaded KVM modules (`kvm`, `kvm_intel`, `kvm_amd`, …) → `parameters/*` values.
    public var modules: [String: [String: String]]
    public var vhostNet: DeviceNode
    /// `/sys/module/vhost_net` exists (module loaded or built in).
    public var vhostNetModule: Bool
    public var tun: DeviceNode
    public var iommu: IOMMUInfo
    public var secureGuest: SecureGuestSupport
    public var cgroups: CgroupSupport
    /// `/proc/cmdline`.
    public var kernelCommandLine: String?

    /// True when the live ioctls worked; nil when they were not attempted (fixture root).
    public var usable: Bool? {
        guard let createVMSucceeded else { return nil }
        return createVMSucceeded && apiVersion == 12
    }

    /// The vendor module's `nested` parameter (`Y`/`1`).
    public var nested: Bool? {
        for m in ["kvm_intel", "kvm_amd"] {
            if let v = modules[m]?["nested"] { return v == "Y" || v == "1" }
        }
        return nil
    }
    /// `kvm_intel.ept` or `kvm_amd.npt`: two-dimensional paging.
    public var twoDimensionalPaging: Bool? {
        if let v = modules["kvm_intel"]?["ept"] { return v == "Y" || v == "1" }
        if let v = modules["kvm_amd"]?["npt"] { return v == "Y" || v == "1" }
        return nil
    }
    /// `kvm.halt_poll_ns`; nil when absent or not a number that fits (`probeKVM` notes that).
    public var haltPoll: Duration? { modules["kvm"]?["halt_poll_ns"].flatMap { UInt64($0) }.map { .nanoseconds(unsigned: $0) } }
}

/// IOMMU state: groups for device assignment and the ACPI tables that announce one.
public struct IOMMUInfo: Sendable, Hashable, Codable {
    /// `/sys/kernel/iommu_groups/N/devices/*`, by group number.
    public var groups: [IOMMUGroup]
    /// ACPI `DMAR` (Intel VT-d) / `IVRS` (AMD-Vi) tables in `/sys/firmware/acpi/tables`.
    public var dmarTable: Bool
    public var ivrsTable: Bool
    /// `/sys/class/iommu` entries (`dmar0`, `ivhd0`, …): IOMMUs the kernel drives.
    public var units: [String]
    /// `intel_iommu=`, `amd_iommu=`, `iommu=`, `iommu.passthrough=` from the command line.
    public var kernelParameters: [String: String]

    /// The kernel has the IOMMU enabled (groups exist).
    public var enabled: Bool { !groups.isEmpty }
}

public struct IOMMUGroup: Sendable, Hashable, Codable {
    public var id: Int
    /// PCI addresses (`0000:00:1f.2`) in the group.
    public var devices: [String]
}

/// Confidential-guest support: AMD SEV/SEV-ES/SEV-SNP, Intel TDX, IBM s390 Protected
/// Virtualization (what virt-host-validate's "secure guest support" checks).
public struct SecureGuestSupport: Sendable, Hashable, Codable {
    /// `kvm_amd.sev`, `sev_es`, `sev_snp` parameters.
    public var sev: Bool?
    public var sevES: Bool?
    public var sevSNP: Bool?
    /// `/dev/sev` exists (the PSP firmware interface QEMU opens).
    public var sevDevice: Bool
    /// `kvm_intel.tdx`.
    public var tdx: Bool?
    /// `/sys/firmware/uv/prot_virt_host` = 1.
    public var s390ProtectedVirtualization: Bool?
    /// CPU flags seen: `sev`, `sev_es`, `sev_snp`, `tdx_host_platform`.
    public var cpuFlags: [String]

    public var anySupported: Bool { sev == true || tdx == true || s390ProtectedVirtualization == true }
}

/// Which cgroup controllers libvirt can use (virt-host-validate's cgroup checks).
public struct CgroupSupport: Sendable, Hashable, Codable {
    /// `v1`, `v2`, `hybrid`, or `none`.
    public var mode: String
    /// cgroup2 mount point (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` in hybrid).
    public var unifiedMount: String?
    /// Controller → where it is available: the v1 mount point, or the v2 mount for
    /// controllers listed in `cgroup.controllers`.
    public var controllers: [String: String]
}

extension HostProber {
    // linux/kvm.h: _IO(KVMIO=0xAE, nr)
    static let KVM_GET_API_VERSION: UInt = 0xAE00
    static let KVM_CREATE_VM: UInt = 0xAE01
    static let KVM_CHECK_EXTENSION: UInt = 0xAE03
    static let KVM_CAP_MAX_VCPUS: Int32 = 66

    static func probeKVM(_ ctx: ProbeContext, cpuFlags: [String]?) -> KVMReadiness {
        let r = ctx.reader
        let dev = r.deviceNode("/dev/kvm")
        var modules: [String: [String: String]] = [:]
        for m in ["kvm", "kvm_intel", "kvm_amd", "kvm_hv", "kvm_pr", "vhost", "vhost_net"] {
            let pd = "/sys/module/\(m)/parameters"
            guard case .success(let entries) = r.list(pd) else { continue }
            var params: [String: String] = [:]
            for e in entries {
                switch r.read(pd + "/" + e.name) {
                case .success(let v): params[e.name] = v.trimmingASCIIWhitespace()
                // Some parameters are write-only (mode 0200): not a fault of the host.
                case .failure(.permissionDenied): continue
                case .failure(let f): ctx.note("module \(m) parameter \(e.name)", pd + "/" + e.name, f)
                }
            }
            modules[m] = params
        }
        if let v = modules["kvm"]?["halt_poll_ns"], UInt64(v) == nil {
            ctx.note("kvm halt_poll_ns", "/sys/module/kvm/parameters/halt_poll_ns", ProbeContext.numberFailure(v, "a nanosecond count"))
        }
        let cmdline = ctx.line("/proc/cmdline", "kernel command line")
        var k = KVMReadiness(
            device: dev, modules: modules,
            vhostNet: r.deviceNode("/dev/vhost-net"), vhostNetModule: r.exists("/sys/module/vhost_net"),
            tun: r.deviceNode("/dev/net/tun"),
            iommu: probeIOMMU(ctx, cmdline: cmdline),
            secureGuest: SecureGuestSupport(sevDevice: false, cpuFlags: []),
            cgroups: probeCgroupSupport(ctx), kernelCommandLine: cmdline)
        if ctx.root.isLive, dev.present { liveKVMCheck(&k) }

        func flag(_ m: String, _ p: String) -> Bool? {
            modules[m]?[p].map { $0 == "Y" || $0 == "1" }
        }
        var sg = SecureGuestSupport(sevDevice: r.deviceNode("/dev/sev").present, cpuFlags: [])
        sg.sev = flag("kvm_amd", "sev")
        sg.sevES = flag("kvm_amd", "sev_es")
        sg.sevSNP = flag("kvm_amd", "sev_snp")
        sg.tdx = flag("kvm_intel", "tdx")
        if let pv = ctx.line("/sys/firmware/uv/prot_virt_host", "s390 protected virtualization") { sg.s390ProtectedVirtualization = pv == "1" }
        sg.cpuFlags = (cpuFlags ?? []).filter { ["sev", "sev_es", "sev_snp", "tdx_host_platform", "tdx_guest"].contains($0) }
        k.secureGuest = sg
        return k
    }

    /// `KVM_GET_API_VERSION`, `KVM_CHECK_EXTENSION(KVM_CAP_MAX_VCPUS)` and
    /// `KVM_CREATE_VM` on `/dev/kvm`; the VM descriptor is closed at once.
    static func liveKVMCheck(_ k: inout KVMReadiness) {
        let fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            k.liveCheckError = "open /dev/kvm: \(String(cString: strerror(errno)))"
            k.createVMSucceeded = false
            return
        }
        defer { close(fd) }
        let api = ioctl(fd, KVM_GET_API_VERSION)
        if api < 0 {
            k.liveCheckError = "KVM_GET_API_VERSION: \(String(cString: strerror(errno)))"
        } else {
            k.apiVersion = Int(api)
        }
        let maxV = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS)
        if maxV > 0 { k.maxVCPUs = Int(maxV) }
        // Machine type 0: the architecture's default VM.
        let vm = ioctl(fd, KVM_CREATE_VM, Int32(0))
        if vm >= 0 {
            close(vm)
            k.createVMSucceeded = true
        } else {
            k.createVMSucceeded = false
            k.liveCheckError = "KVM_CREATE_VM: \(String(cString: strerror(errno)))"
        }
    }

    static func probeIOMMU(_ ctx: ProbeContext, cmdline: String?) -> IOMMUInfo {
        let base = "/sys/kernel/iommu_groups"
        var groups: [IOMMUGroup] = []
        for e in ctx.list(base, "IOMMU groups") {
            guard let id = Int(e.name) else { continue }
            let devs = ctx.list(base + "/" + e.name + "/devices", "IOMMU group \(id) devices").map(\.name)
            groups.append(IOMMUGroup(id: id, devices: devs))
        }
        groups.sort { $0.id < $1.id }
        var params: [String: String] = [:]
        for word in (cmdline ?? "").split(separator: " ") {
            let kv = word.split(separator: "=", maxSplits: 1)
            guard let key = kv.first else { continue }
            if ["intel_iommu", "amd_iommu", "iommu", "iommu.passthrough", "iommu.strict", "amd_iommu_intr"].contains(String(key)) {
                params[String(key)] = kv.count > 1 ? String(kv[1]) : ""
            }
        }
        return IOMMUInfo(
            groups: groups,
            dmarTable: ctx.reader.exists("/sys/firmware/acpi/tables/DMAR"),
            ivrsTable: ctx.reader.exists("/sys/firmware/acpi/tables/IVRS"),
            units: ctx.list("/sys/class/iommu", "IOMMU units").map(\.name),
            kernelParameters: params)
    }

    static func probeCgroupSupport(_ ctx: ProbeContext) -> CgroupSupport {
        var s = CgroupSupport(mode: "none", controllers: [:])
        guard let mounts = ctx.text("/proc/mounts", "mount table", required: true) else { return s }
        var v1 = false
        for line in mounts.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count >= 4 else { continue }
            let mnt = String(f[1]).replacingOctalEscapes()
            if f[2] == "cgroup2", s.unifiedMount == nil {
                s.unifiedMount = mnt
            } else if f[2] == "cgroup" {
                v1 = true
                for opt in f[3].split(separator: ",") {
                    let o = String(opt)
                    // Mount options also carry rw/relatime/name=…; /proc/cgroups names the controllers.
                    if ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "net_cls",
                        "net_prio", "perf_event", "hugetlb", "pids", "rdma", "misc"].contains(o) {
                        s.controllers[o] = mnt
                    }
                }
            }
        }
        if let unified = s.unifiedMount {
            if let list = ctx.line(unified + "/cgroup.controllers", "cgroup v2 controllers") {
                for c in list.split(separator: " ") where s.controllers[String(c)] == nil {
                    s.controllers[String(c)] = unified
                }
            }
        }
        s.mode = v1 && s.unifiedMount != nil ? "hybrid" : v1 ? "v1" : s.unifiedMount != nil ? "v2" : "none"
        return s
    }
}
