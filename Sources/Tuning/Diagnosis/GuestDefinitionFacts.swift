import VirtCore
import DomainXML

/// The facts of a domain definition the rules need, copied out of a `DomainDefinition`
/// (whose document is not `Sendable`) into plain values.
///
/// Values the XML spells invalidly are left nil and listed in ``unreadable`` (a guest with
/// one bad attribute is still diagnosed on the rest).
public struct GuestDefinitionFacts: Sendable, Hashable {
    /// `<domain type>`: `kvm`, `qemu`, …
    public var domainType: String?
    /// `<os><type machine>`: `pc-q35-8.2`, `pc`, …
    public var machine: String?
    /// `<vcpu>`: maximum vCPUs, and `current` when set.
    public var vcpus: Int
    public var currentVCPUs: Int?
    /// `<vcpu cpuset>`: the default host CPUs of every vCPU.
    public var vcpuDefaultCPUs: CPUSet?
    public var memory: MemorySize?
    /// `<cputune><vcpupin>`: vCPU → host CPUs.
    public var vcpuPins: [Int: CPUSet]
    public var emulatorPin: CPUSet?
    /// `<cputune><vcpusched scheduler>`: any real-time (`fifo`/`rr`) vCPU scheduling.
    public var realtimeVCPUs: Bool
    /// `<cputune><quota>` / `<period>`.
    public var vcpuQuota: Limit<Duration>?
    public var vcpuPeriod: Duration?
    /// `<numatune><memory mode nodeset>` and whether `<memnode>` entries exist.
    public var numaMode: String?
    public var numaNodes: NodeSet?
    public var numaPlacement: String?
    public var hasMemnodes: Bool
    /// `<cpu><numa>` cells (guest NUMA topology).
    public var guestNUMACells: Int
    /// `<memoryBacking>`.
    public var hugepages: [HugepageRequest]?
    public var locked: Bool
    public var noSharePages: Bool
    /// `<memtune><hard_limit>`.
    public var hardLimit: Limit<MemorySize>?
    /// `<iothreads>` count.
    public var iothreads: Int
    public var disks: [GuestDiskFacts]
    public var interfaces: [GuestInterfaceFacts]
    /// `<video><model type>` of each video device.
    public var videoModels: [String]
    /// `<graphics type>` of each display (`vnc`, `spice`, …).
    public var graphics: [String]
    /// A virtio channel named `org.qemu.guest_agent.0`.
    public var hasGuestAgentChannel: Bool
    /// `<watchdog model action>`.
    public var watchdogs: [GuestWatchdogFacts]
    /// `<memballoon model>`; nil when the element is absent (libvirt then adds a virtio balloon
    /// for x86 QEMU guests).
    public var memballoonModel: String?
    /// PCI host devices (`<hostdev mode='subsystem' type='pci'>`) and all host devices.
    public var pciHostdevs: Int
    public var hostdevs: Int
    /// Values present but invalid: `path: reason`.
    public var unreadable: [String]

    /// The number of vCPUs online at boot.
    public var onlineVCPUs: Int { currentVCPUs ?? vcpus }
    public var usesHugepages: Bool { hugepages != nil }
    /// The union of every vCPU pin (nil when no vCPU is pinned).
    public var pinnedCPUs: CPUSet? {
        vcpuPins.isEmpty ? nil : vcpuPins.values.reduce(CPUSet()) { $0.union($1) }
    }
    /// Pinned: every online vCPU has a `<vcpupin>`, or `<vcpu cpuset>` restricts them all.
    public var isPinned: Bool {
        (!vcpuPins.isEmpty && (0..<onlineVCPUs).allSatisfy { vcpuPins[$0] != nil }) || vcpuDefaultCPUs != nil
    }
    /// Memory bound to nodes: `<numatune><memory>` with a nodeset or automatic placement, or memnodes.
    public var isMemoryBound: Bool { numaNodes != nil || numaPlacement == "auto" || hasMemnodes }
    /// The host CPUs vCPU `index` may run on by its definition (nil: anywhere).
    public func allowedCPUs(vcpu index: Int) -> CPUSet? { vcpuPins[index] ?? vcpuDefaultCPUs }

    /// A minimal definition (tests and guests whose XML could not be read).
    public init(vcpus: Int = 1, memory: MemorySize? = nil) {
        self.vcpus = vcpus
        self.memory = memory
        vcpuPins = [:]
        realtimeVCPUs = false
        hasMemnodes = false
        guestNUMACells = 0
        locked = false
        noSharePages = false
        iothreads = 0
        disks = []
        interfaces = []
        videoModels = []
        graphics = []
        hasGuestAgentChannel = false
        watchdogs = []
        pciHostdevs = 0
        hostdevs = 0
        unreadable = []
    }

    /// Copies the facts out of `definition` (reads only; never edits it).
    public init(_ definition: DomainDefinition) {
        self.init()
        var bad: [String] = []
        func read<V>(_ path: String, _ body: () throws -> V?) -> V? {
            do { return try body() } catch {
                bad.append("\(path): \(error)")
                return nil
            }
        }
        let d = definition
        domainType = d.type.raw
        machine = d.os.type.machine.raw
        vcpus = read("vcpu") { try d.vcpu.count.value } ?? 1
        currentVCPUs = read("vcpu/@current") { try d.vcpu.current.value }
        vcpuDefaultCPUs = read("vcpu/@cpuset") { try d.vcpu.cpuset.value }
        memory = read("memory") { try d.memory.value }
        let tune = d.cputune
        for pin in tune.vcpupin {
            if let v = read("cputune/vcpupin/@vcpu", { try pin.vcpu.value }),
               let cpus = read("cputune/vcpupin[\(v)]/@cpuset", { try pin.cpuset.value }) {
                vcpuPins[v] = cpus
            }
        }
        emulatorPin = read("cputune/emulatorpin/@cpuset") { try tune.emulatorpin.cpuset.value }
        realtimeVCPUs = tune.vcpusched.contains { ["fifo", "rr"].contains($0.scheduler.raw ?? "") }
        vcpuQuota = read("cputune/quota") { try tune.quota.value }
        vcpuPeriod = read("cputune/period") { try tune.period.value }
        numaMode = d.numatune.memory.mode.raw
        numaNodes = read("numatune/memory/@nodeset") { try d.numatune.memory.nodeset.value }
        numaPlacement = d.numatune.memory.placement.raw
        hasMemnodes = !d.numatune.memnode.isEmpty
        guestNUMACells = d.cpu.numa.cells.count
        let backing = d.memoryBacking
        if backing.hugepages.exists {
            hugepages = backing.hugepages.page.map { page in
                HugepageRequest(size: read("memoryBacking/hugepages/page/@size") { try page.size.value },
                                nodes: read("memoryBacking/hugepages/page/@nodeset") { try page.nodeset.value })
            }
        }
        locked = (try? backing.locked.value) == true
        noSharePages = (try? backing.nosharepages.value) == true
        hardLimit = read("memtune/hard_limit") { try d.memtune.hardLimit.value }
        iothreads = read("iothreads") { try d.iothreads.value } ?? 0
        let devices = d.devices
        disks = devices.disks.map { disk in
            let source = disk.source
            return GuestDiskFacts(
                target: disk.target.dev.raw ?? "?",
                bus: disk.target.bus.raw,
                device: disk.device.raw ?? "disk",
                type: disk.type.raw,
                sourcePath: source.file.raw ?? source.dev.raw ?? source.volume.raw,
                networkProtocol: source.protocol.raw,
                networkHosts: source.hosts.map { h in
                    (h.name.raw ?? "") + (h.port.raw.map { ":\($0)" } ?? "")
                },
                networkName: source.name.raw,
                alias: disk.alias.name.raw,
                cache: disk.driver.cache.raw,
                io: disk.driver.io.raw,
                iothread: read("devices/disk/driver/@iothread") { try disk.driver.iothread.value },
                queues: read("devices/disk/driver/@queues") { try disk.driver.queues.value },
                errorPolicy: disk.driver.errorPolicy.raw,
                readOnly: (try? disk.readonly.value) == true)
        }
        interfaces = devices.interfaces.map { nic in
            GuestInterfaceFacts(
                type: nic.type.raw, model: nic.model.type.raw, driverName: nic.driver.name.raw,
                queues: read("devices/interface/driver/@queues") { try nic.driver.queues.value },
                target: nic.target.dev.raw, mac: nic.mac.address.raw)
        }
        videoModels = devices.videos.map { $0.model.type.raw ?? "default" }
        graphics = devices.graphics.compactMap { $0.type.raw }
        hasGuestAgentChannel = devices.channels.contains { $0.target.name.raw == "org.qemu.guest_agent.0" }
        watchdogs = devices.watchdogs.map { GuestWatchdogFacts(model: $0.model.raw ?? "?", action: $0.action.raw) }
        memballoonModel = devices.memballoon.exists ? (devices.memballoon.model.raw ?? "virtio") : nil
        hostdevs = devices.hostdevs.count
        pciHostdevs = devices.hostdevs.filter { $0.type.raw == "pci" }.count
        unreadable = bad
    }
}

/// `<memoryBacking><hugepages><page size nodeset/>`: a page size the guest needs (nil size:
/// the host's default huge page size) and the *guest* NUMA nodes it backs.
public struct HugepageRequest: Sendable, Hashable {
    public var size: MemorySize?
    public var nodes: NodeSet?
    public init(size: MemorySize? = nil, nodes: NodeSet? = nil) {
        self.size = size
        self.nodes = nodes
    }
}

/// One `<disk>`.
public struct GuestDiskFacts: Sendable, Hashable {
    public var target: String
    public var bus: String?
    /// `disk`, `cdrom`, `floppy`, `lun`.
    public var device: String
    /// `file`, `block`, `network`, `volume`, `dir`, `nvme`, `vhostuser`.
    public var type: String?
    /// File path, block device, or volume name.
    public var sourcePath: String?
    /// Network disks: protocol (`nbd`, `rbd`, `iscsi`, …), `host:port` of each server, export/image name.
    public var networkProtocol: String?
    public var networkHosts: [String]
    public var networkName: String?
    public var alias: String?
    public var cache: String?
    public var io: String?
    public var iothread: Int?
    public var queues: Int?
    public var errorPolicy: String?
    public var readOnly: Bool
    /// The host block device under the disk (`nvme0n1`, `vdb`), resolved by the gatherer.
    public var hostBlockDevice: String?

    public init(target: String, bus: String? = nil, device: String = "disk", type: String? = nil, sourcePath: String? = nil,
                networkProtocol: String? = nil, networkHosts: [String] = [], networkName: String? = nil, alias: String? = nil,
                cache: String? = nil, io: String? = nil, iothread: Int? = nil, queues: Int? = nil,
                errorPolicy: String? = nil, readOnly: Bool = false, hostBlockDevice: String? = nil) {
        self.target = target
        self.bus = bus
        self.device = device
        self.type = type
        self.sourcePath = sourcePath
        self.networkProtocol = networkProtocol
        self.networkHosts = networkHosts
        self.networkName = networkName
        self.alias = alias
        self.cache = cache
        self.io = io
        self.iothread = iothread
        self.queues = queues
        self.errorPolicy = errorPolicy
        self.readOnly = readOnly
        self.hostBlockDevice = hostBlockDevice
    }

    /// The block device path when the disk sits directly on one (`type='block'`).
    public var isBlockBacked: Bool { type == "block" }
    public var isVirtio: Bool { bus == "virtio" }
    /// The source as a person would name it (`/var/lib/…qcow2`, `nbd://127.0.0.1:10852`).
    public var sourceDescription: String {
        if let p = networkProtocol {
            return "\(p)://\(networkHosts.first ?? "?")" + (networkName.map { "/\($0)" } ?? "")
        }
        return sourcePath ?? "(no source)"
    }
}

/// One `<interface>`.
public struct GuestInterfaceFacts: Sendable, Hashable {
    public var type: String?
    public var model: String?
    /// `<driver name>`: `vhost`, `qemu`.
    public var driverName: String?
    public var queues: Int?
    public var target: String?
    public var mac: String?
    public init(type: String? = nil, model: String? = nil, driverName: String? = nil, queues: Int? = nil,
                target: String? = nil, mac: String? = nil) {
        self.type = type
        self.model = model
        self.driverName = driverName
        self.queues = queues
        self.target = target
        self.mac = mac
    }
    public var isVirtio: Bool { model == "virtio" }
    /// The device name findings use: the host tap, else the MAC.
    public var label: String { target ?? mac ?? "interface" }
}

/// One `<watchdog model action>`.
public struct GuestWatchdogFacts: Sendable, Hashable {
    public var model: String
    /// nil: libvirt's default, `reset`.
    public var action: String?
    public init(model: String, action: String? = nil) {
        self.model = model
        self.action = action
    }
}
