import CgroupControl
import VirtCore

/// Where a running guest lives on its host: its QEMU process and threads, its cgroups and the
/// host CPUs and NUMA nodes it runs on. The join of libvirt's view of a domain with the host's
/// `/proc`, `/sys` and cgroups, made once here for Tuning, the CLI and callers
/// (`Domain.location()`).
public struct GuestLocation: Sendable, Hashable {
    /// One QEMU thread and what it does for the guest.
    public struct GuestThread: Sendable, Hashable {
        public var tid: Int32
        public var role: GuestThreadRole
        /// The host CPU the thread last ran on (`/proc/PID/task/TID/stat`, field 39).
        public var lastCPU: Int?
        /// The CPUs the thread may run on (`Cpus_allowed_list`).
        public var affinity: CPUSet?
    }

    public var name: String
    public var uuid: LibvirtUUID
    /// libvirt's domain ID (running guests only).
    public var id: Int
    /// The QEMU process.
    public var pid: Int32
    /// Every thread of the QEMU process with its role.
    public var threads: [GuestThread]
    /// The guest's cgroups (nil when this process cannot see them, e.g. a remote host).
    public var cgroups: GuestCgroups?
    /// How the cgroups were found, or why they were not.
    public var cgroupNote: String?
    /// The host CPU → NUMA node map the nodes below were computed with.
    public var hostNodeOfCPU: [Int: Int]

    /// vCPU index → its thread.
    public var vcpuThreads: [Int: GuestThread] {
        var out: [Int: GuestThread] = [:]
        for t in threads { if case .vcpu(let n) = t.role { out[n] = t } }
        return out
    }

    /// IOThread id → its thread.
    public var iothreadThreads: [Int: GuestThread] {
        var out: [Int: GuestThread] = [:]
        for t in threads { if case .iothread(let n) = t.role { out[n] = t } }
        return out
    }

    /// The emulator's threads (main loop, workers, the monitor iothread).
    public var emulatorThreads: [GuestThread] { threads.filter { $0.role == .emulator } }

    /// The host CPUs the guest's vCPUs last ran on.
    public var vcpuHostCPUs: CPUSet { CPUSet(threads.compactMap { $0.role.isVCPU ? $0.lastCPU : nil }) }

    /// The host NUMA nodes of `vcpuHostCPUs`.
    public var vcpuHostNodes: NodeSet { NodeSet(vcpuHostCPUs.compactMap { hostNodeOfCPU[$0] }) }
}

/// What a QEMU thread does, from the name QEMU gives it with `-name …,debug-threads=on`
/// (which libvirt always passes): `CPU 3/KVM`, `IO iothread2`, anything else is the emulator.
public enum GuestThreadRole: Sendable, Hashable, CustomStringConvertible {
    case vcpu(Int)
    case iothread(Int)
    case emulator

    /// Parses a thread's `comm` (at most 15 bytes, so `CPU 123/KVM` is cut to `CPU 123/KVM`,
    /// still whole; TCG's `CPU 0/TCG` counts as a vCPU too).
    public init(comm: String) {
        let c = comm.trimmingASCIIWhitespace()
        if c.hasPrefix("CPU "), let slash = c.firstIndex(of: "/"),
           let n = Int(c[c.index(c.startIndex, offsetBy: 4)..<slash]), n >= 0 {
            self = .vcpu(n)
        } else if c.hasPrefix("IO iothread"), let n = Int(c.dropFirst("IO iothread".count)), n >= 0 {
            self = .iothread(n)
        } else {
            self = .emulator
        }
    }

    public var isVCPU: Bool {
        if case .vcpu = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .vcpu(let n): return "vcpu \(n)"
        case .iothread(let n): return "iothread \(n)"
        case .emulator: return "emulator"
        }
    }
}

/// Why a guest could not be located.
public struct GuestLocationError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: Hashable, Sendable {
        /// The domain is not running, so it has no process.
        case notRunning
        /// No QEMU process with the guest's UUID is visible under the proc root (a remote
        /// host, another PID namespace, or a driver that is not QEMU).
        case noProcess(procRoot: String)
    }
    public var domain: String
    public var reason: Reason

    public var description: String {
        switch reason {
        case .notRunning: return "domain '\(domain)' is not running: it has no QEMU process"
        case .noProcess(let root):
            return "no QEMU process for domain '\(domain)' under \(root)proc: guests are only located on the local QEMU driver's host"
        }
    }
}
