import VirtCore
import HostProbe

/// Rules about each guest's definition, some against the host's topology.
enum GuestRules {
    static let rules: [DiagnosisRule] = [
        DiagnosisRule(ids: [.guestNUMASpread], numaSpread),
        DiagnosisRule(ids: [.guestNUMARemoteMemory], remoteMemory),
        DiagnosisRule(ids: [.guestEmulatorOnVCPUCPUs], emulatorOnVCPUCPUs),
        DiagnosisRule(ids: [.guestPinningOverlap], pinningOverlap),
        DiagnosisRule(ids: [.guestDiskCache], diskCache),
        DiagnosisRule(ids: [.guestDiskIOThreads], diskIOThreads),
        DiagnosisRule(ids: [.guestNetQueues], netQueues),
        DiagnosisRule(ids: [.guestConsoleVideoModel], videoModel),
        DiagnosisRule(ids: [.guestMemoryBalloonHugepages], balloonHugepages),
        DiagnosisRule(ids: [.guestMemoryNoHugepages], noHugepages),
        DiagnosisRule(ids: [.guestAgentMissing], agentMissing),
        DiagnosisRule(ids: [.guestWatchdogAction], watchdogAction),
        DiagnosisRule(ids: [.guestMemoryLockedUnbounded], lockedUnbounded),
    ]

    /// Host NUMA nodes (real ones only) with their CPUs.
    static func hostNodes(_ input: DiagnosisInput) -> [NUMANode] {
        guard let numa = input.host?.numa, !numa.synthesized else { return [] }
        return numa.nodes.filter { !$0.cpus.isEmpty }
    }

    static func nodes(of cpus: CPUSet, _ nodes: [NUMANode]) -> NodeSet {
        NodeSet(nodes.filter { !$0.cpus.isDisjoint(with: cpus) }.map(\.id))
    }

    /// The host CPUs the guest's vCPUs are pinned to (`<vcpupin>`, else `<vcpu cpuset>`); nil when unpinned.
    static func vcpuCPUs(_ g: GuestFacts) -> (cpus: CPUSet, origin: Evidence.Origin)? {
        if let pinned = g.definition.pinnedCPUs ?? g.definition.vcpuDefaultCPUs {
            return (pinned, .domainXML("cputune/vcpupin/@cpuset, vcpu/@cpuset"))
        }
        return nil
    }

    static func numaSpread(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        let nodes = hostNodes(input)
        guard nodes.count > 1 else { return [] }
        var out: [Finding] = []
        for g in input.guests {
            // A guest with its own NUMA topology is meant to span nodes.
            guard g.definition.guestNUMACells <= 1, let (cpus, origin) = vcpuCPUs(g) else { continue }
            let used = Self.nodes(of: cpus, nodes)
            guard used.count > 1 else { continue }
            let vcpus = g.definition.onlineVCPUs
            let memory = g.definition.memory
            let fits = nodes.filter { n in
                n.cpus.count >= vcpus && (memory == nil || n.memTotal.map { $0 >= memory! } ?? true)
            }
            guard let target = fits.first else { continue }
            let targetCPUs = CPUSet(target.cpus.prefix(vcpus))
            out.append(Finding(
                id: .guestNUMASpread, severity: .warning, subject: .guest(g.reference),
                title: "\(g.reference.name)'s \(vcpus) vCPUs span NUMA nodes \(used) but fit in node \(target.id)",
                explanation: "vCPUs on several nodes share memory across the interconnect: every access from the far node pays remote latency (10 % or more), and the guest cannot see it as one node.",
                evidence: [Evidence("vCPU host CPUs", .cpus(cpus), from: origin),
                           Evidence("host nodes used", .nodes(used), from: .sysfs("/sys/devices/system/node/node*/cpulist")),
                           Evidence("vCPUs", .count(vcpus), from: .domainXML("vcpu")),
                           Evidence("node \(target.id) CPUs", .cpus(target.cpus), from: .sysfs("/sys/devices/system/node/node\(target.id)/cpulist"))],
                remedies: [Remedy(.domainXML(.set("vcpu", attribute: "cpuset", to: target.cpus.description)), applies: .guestRestart, "keep the vCPUs on node \(target.id)"),
                           Remedy(.domainXML(.add("numatune", "<memory mode='strict' nodeset='\(target.id)'/>")), applies: .guestRestart, "and its memory")]
                    + (0..<min(vcpus, targetCPUs.count)).map { v in
                        Remedy(.libvirt(.pinVCPU(vcpu: v, cpus: target.cpus)), applies: .live, "move vCPU \(v) to node \(target.id) now")
                    },
                source: RuleSource(RuleReference.numaPlacement, threshold: "vCPUs on > 1 node while one node has ≥ \(vcpus) CPUs")))
        }
        return out
    }

    static func remoteMemory(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        let nodes = hostNodes(input)
        guard nodes.count > 1 else { return [] }
        var out: [Finding] = []
        for g in input.activeGuests {
            guard let (cpus, origin) = vcpuCPUs(g) else { continue }
            let local = Self.nodes(of: cpus, nodes)
            var evidence = [Evidence("vCPU host CPUs", .cpus(cpus), from: origin), Evidence("their nodes", .nodes(local), from: .sysfs("/sys/devices/system/node/node*/cpulist"))]
            var remote: Double?
            if let placement = g.memoryPlacement, placement.total > 0 {
                let off = placement.bytesPerNode.filter { !local.contains($0.key) }.values.reduce(0, +)
                remote = Double(off) / Double(placement.total)
                for (n, b) in placement.bytesPerNode.sorted(by: { $0.key < $1.key }) {
                    evidence.append(Evidence("resident on node \(n)", .memory(MemorySize(bytes: b)), from: .procfs("/proc/\(g.pid.map(String.init) ?? "PID")/numa_maps N\(n)=")))
                }
                evidence.append(Evidence("remote fraction", .percent((remote ?? 0) * 100), from: .derived("resident off the vCPUs' nodes / resident")))
            }
            let unbound = !g.definition.isMemoryBound
            let tooRemote = remote.map { $0 > t.remoteMemoryFraction } ?? false
            guard unbound || tooRemote else { continue }
            if unbound { evidence.append(Evidence("numatune", .text("absent"), from: .domainXML("numatune/memory"))) }
            let title = tooRemote
                ? "\(formatNumber((remote ?? 0) * 100)) % of \(g.reference.name)'s memory is on other nodes than its vCPUs"
                : "\(g.reference.name)'s vCPUs are pinned but its memory is not bound to their nodes"
            out.append(Finding(
                id: .guestNUMARemoteMemory, severity: tooRemote ? .warning : .info, subject: .guest(g.reference),
                title: title,
                explanation: "Pinning vCPUs without binding memory lets the kernel place guest memory on any node; accesses to it from the pinned vCPUs cross the interconnect (10 % or more slower).",
                evidence: evidence,
                remedies: [Remedy(.domainXML(.add("numatune", "<memory mode='strict' nodeset='\(local)'/>")), applies: .guestRestart, "bind memory to the vCPUs' nodes"),
                           Remedy(.libvirt(.setNUMAMemory(mode: "strict", nodes: local)), applies: .live, "bind new allocations now (existing pages stay until migrated)")],
                source: RuleSource(RuleReference.numaPlacement, threshold: tooRemote ? "remoteMemoryFraction > \(formatNumber(t.remoteMemoryFraction * 100)) %" : "pinned vCPUs without numatune")))
        }
        return out
    }

    static func emulatorOnVCPUCPUs(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        var out: [Finding] = []
        let isolated = input.host?.topology?.isolated ?? CPUSet()
        for g in input.guests {
            let d = g.definition
            guard !d.vcpuPins.isEmpty, let pinned = d.pinnedCPUs else { continue }
            let emulator = d.emulatorPin ?? d.vcpuDefaultCPUs
            let overlap = emulator.map { $0.intersection(pinned) } ?? pinned
            guard !overlap.isEmpty else { continue }
            let latencySensitive = d.realtimeVCPUs || !pinned.isDisjoint(with: isolated)
            var evidence = [Evidence("vCPU pins", .cpus(pinned), from: .domainXML("cputune/vcpupin/@cpuset")),
                            Evidence("emulator CPUs", emulator.map { .cpus($0) } ?? .text("unpinned (all host CPUs)"), from: .domainXML("cputune/emulatorpin/@cpuset")),
                            Evidence("shared CPUs", .cpus(overlap), from: .derived("emulator CPUs ∩ vCPU pins"))]
            if latencySensitive { evidence.append(Evidence("isolated host CPUs", .cpus(isolated), from: .sysfs("/sys/devices/system/cpu/isolated"))) }
            let hostCPUs = input.host?.topology?.online ?? CPUSet()
            let housekeeping = hostCPUs.subtracting(pinned).subtracting(isolated)
            var remedies: [Remedy] = []
            if !housekeeping.isEmpty {
                remedies.append(Remedy(.libvirt(.pinEmulator(cpus: housekeeping)), applies: .live, "move the emulator threads to the housekeeping CPUs now"))
                remedies.append(Remedy(.domainXML(.add("cputune", "<emulatorpin cpuset='\(housekeeping)'/>")), applies: .guestRestart, "and keep them there"))
            } else {
                remedies.append(Remedy(.manual("Leave at least one host CPU per socket out of every vCPU pin and pin emulator threads there."), applies: .manual, "make room for housekeeping"))
            }
            out.append(Finding(
                id: .guestEmulatorOnVCPUCPUs, severity: latencySensitive ? .warning : .info, subject: .guest(g.reference),
                title: "\(g.reference.name)'s emulator threads may run on its pinned vCPU CPUs \(overlap)",
                explanation: "QEMU's main loop, I/O and migration threads then preempt the vCPUs they share a CPU with: latency spikes inside the guest (worst for real-time or isolated-CPU guests).",
                evidence: evidence, remedies: remedies,
                source: RuleSource(RuleReference.emulatorPin)))
        }
        return out
    }

    static func pinningOverlap(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        // Only dedicated pins (one host CPU per vCPU) promise exclusivity worth checking.
        struct Pin { var guest: GuestReference; var vcpu: Int; var cpu: Int }
        var pins: [Pin] = []
        for g in input.activeGuests {
            for (v, cpus) in g.definition.vcpuPins where cpus.count == 1 {
                if let c = cpus.min { pins.append(Pin(guest: g.reference, vcpu: v, cpu: c)) }
            }
        }
        let topo = input.host?.topology
        var out: [Finding] = []
        var reported = Set<String>()
        for (i, a) in pins.enumerated() {
            for b in pins[(i + 1)...] where a.guest.uuid != b.guest.uuid {
                let same = a.cpu == b.cpu
                let siblings = !same && (topo?.cpu(a.cpu)?.threadSiblings?.contains(b.cpu) ?? false)
                guard same || siblings else { continue }
                let key = [a.guest.name, b.guest.name].sorted().joined(separator: "|") + "\(min(a.cpu, b.cpu))-\(max(a.cpu, b.cpu))"
                guard reported.insert(key).inserted else { continue }
                out.append(Finding(
                    id: .guestPinningOverlap, severity: same ? .warning : .info, subject: .vcpu(a.guest, index: a.vcpu),
                    title: same
                        ? "\(a.guest.name) vCPU \(a.vcpu) and \(b.guest.name) vCPU \(b.vcpu) are both pinned to CPU \(a.cpu)"
                        : "\(a.guest.name) vCPU \(a.vcpu) (CPU \(a.cpu)) and \(b.guest.name) vCPU \(b.vcpu) (CPU \(b.cpu)) are SMT siblings",
                    explanation: same
                        ? "Dedicated pins on the same CPU make the two vCPUs take turns: each gets at most half the CPU and waits on the run queue (steal) whenever both are busy."
                        : "Hyper-threads share one core's execution units and caches: two busy vCPUs on siblings each run markedly slower than on separate cores.",
                    evidence: [Evidence("\(a.guest.name) vCPU \(a.vcpu)", .cpus([a.cpu]), from: .domainXML("cputune/vcpupin[@vcpu=\(a.vcpu)]")),
                               Evidence("\(b.guest.name) vCPU \(b.vcpu)", .cpus([b.cpu]), from: .domainXML("cputune/vcpupin[@vcpu=\(b.vcpu)]"))]
                        + (siblings ? [Evidence("thread siblings of CPU \(a.cpu)", .cpus(topo?.cpu(a.cpu)?.threadSiblings ?? CPUSet()), from: .sysfs("/sys/devices/system/cpu/cpu\(a.cpu)/topology/thread_siblings_list"))] : []),
                    remedies: [Remedy(.manual("Give each dedicated vCPU its own core: re-pin \(b.guest.name) vCPU \(b.vcpu) (virsh vcpupin --live --config) to a CPU no other guest is pinned to."), applies: .manual, "re-plan the pins")],
                    source: RuleSource(RuleReference.pinningOverlap, threshold: same ? "two guests' dedicated pins on one CPU" : "two guests' dedicated pins on SMT siblings")))
            }
        }
        return out
    }

    static func diskCache(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        var out: [Finding] = []
        let direct: Set<String> = ["none", "directsync"]
        for g in input.guests {
            for d in g.definition.disks where d.device == "disk" || d.device == "lun" {
                let path = "devices/disk[target=\(d.target)]/driver"
                let cache = d.cache ?? "default"
                var evidence = [Evidence("cache", .text(cache), from: .domainXML(path + "/@cache")),
                                Evidence("io", .text(d.io ?? "default (threads)"), from: .domainXML(path + "/@io")),
                                Evidence("source", .text("\(d.type ?? "?"): \(d.sourceDescription)"), from: .domainXML("devices/disk[target=\(d.target)]/source"))]
                if d.io == "native" && !direct.contains(cache) {
                    out.append(Finding(
                        id: .guestDiskCache, severity: .critical, subject: .device(g.reference, target: d.target),
                        title: "\(g.reference.name) \(d.target): io='native' with cache='\(cache)' (QEMU requires direct I/O)",
                        explanation: "Linux native AIO only works on files opened with O_DIRECT; QEMU refuses the combination ('aio=native was specified, but it requires cache.direct=on') and the guest does not start.",
                        evidence: evidence,
                        remedies: [Remedy(.domainXML(.set(path, attribute: "cache", to: "none")), applies: .guestRestart, "use cache='none' with io='native'")],
                        source: RuleSource(RuleReference.diskCache, threshold: "io=native requires cache none|directsync")))
                    continue
                }
                guard d.isBlockBacked else { continue }
                let badCache = !direct.contains(cache)
                let badIO = !(d.io == "native" || d.io == "io_uring")
                guard badCache || badIO else { continue }
                evidence.append(Evidence("backed by a block device", .flag(true), from: .domainXML("devices/disk[target=\(d.target)]/@type")))
                var remedies: [Remedy] = []
                if badCache { remedies.append(Remedy(.domainXML(.set(path, attribute: "cache", to: "none")), applies: .guestRestart, "bypass the host page cache")) }
                if badIO { remedies.append(Remedy(.domainXML(.set(path, attribute: "io", to: "native")), applies: .guestRestart, "use native AIO (or io_uring)")) }
                out.append(Finding(
                    id: .guestDiskCache, severity: badCache ? .warning : .info, subject: .device(g.reference, target: d.target),
                    title: "\(g.reference.name) \(d.target) on a block device uses cache='\(cache)', io='\(d.io ?? "threads")'",
                    explanation: "For disks on block devices the host page cache only doubles memory use and adds copies (and writeback stalls); cache='none' with io='native' or io_uring is the fast and migration-safe setting.",
                    evidence: evidence, remedies: remedies,
                    source: RuleSource(RuleReference.diskCache, threshold: "block-backed: cache none|directsync, io native|io_uring")))
            }
        }
        return out
    }

    static func diskIOThreads(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        var out: [Finding] = []
        for g in input.activeGuests {
            guard let w = g.window else { continue }
            for d in g.definition.disks where d.isVirtio && d.iothread == nil {
                guard let iops = w.diskIOPS[d.target], iops > t.diskIOPSWithoutIOThread else { continue }
                let nextThread = max(g.definition.iothreads, 0) + 1
                out.append(Finding(
                    id: .guestDiskIOThreads, severity: .warning, subject: .device(g.reference, target: d.target),
                    title: "\(g.reference.name) \(d.target) does \(formatNumber(iops)) IOPS without an IOThread",
                    explanation: "Without an IOThread, the disk's requests are handled by QEMU's main loop, which also serves the monitor and other devices: under high IOPS it becomes the bottleneck and adds latency to everything else.",
                    evidence: [Evidence("IOPS", .number(iops, unit: "requests/s"), from: .libvirt("virConnectGetAllDomainStats block.N.rd.reqs + wr.reqs"), window: w.duration),
                               Evidence("iothread", .text("none"), from: .domainXML("devices/disk[target=\(d.target)]/driver/@iothread")),
                               Evidence("IOThreads defined", .count(g.definition.iothreads), from: .domainXML("iothreads"))],
                    remedies: [Remedy(.domainXML(.set("iothreads", to: String(nextThread))), applies: .guestRestart, "define an IOThread"),
                               Remedy(.domainXML(.set("devices/disk[target=\(d.target)]/driver", attribute: "iothread", to: String(nextThread))), applies: .guestRestart, "and put the disk on it")],
                    source: RuleSource(RuleReference.iothreads, threshold: "diskIOPSWithoutIOThread > \(formatNumber(t.diskIOPSWithoutIOThread))")))
            }
        }
        return out
    }

    static func netQueues(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        var out: [Finding] = []
        for g in input.guests {
            let vcpus = g.definition.onlineVCPUs
            guard vcpus >= 2 else { continue }
            for nic in g.definition.interfaces where nic.isVirtio {
                let queues = nic.queues ?? 1
                guard queues < vcpus else { continue }
                let want = min(vcpus, 256)
                out.append(Finding(
                    id: .guestNetQueues, severity: .info, subject: .device(g.reference, target: nic.label),
                    title: "\(g.reference.name) \(nic.label): \(queues) virtio-net queue\(queues == 1 ? "" : "s") for \(vcpus) vCPUs",
                    explanation: "With fewer queues than vCPUs, packet processing of the interface funnels through a few vCPUs and vhost threads; multi-queue spreads it (each queue costs about 64 KiB of vhost memory).",
                    evidence: [Evidence("queues", .count(queues), from: .domainXML("devices/interface/driver/@queues")),
                               Evidence("vCPUs", .count(vcpus), from: .domainXML("vcpu"))],
                    remedies: [Remedy(.domainXML(.set("devices/interface[mac=\(nic.mac ?? "?")]/driver", attribute: "queues", to: String(want))), applies: .guestRestart, "give the interface \(want) queues"),
                               Remedy(.manual("Inside the guest: ethtool -L <interface> combined \(want)."), applies: .manual, "enable them in the guest")],
                    source: RuleSource(RuleReference.netQueues, threshold: "queues < vCPUs (vCPUs ≥ 2)")))
            }
        }
        return out
    }

    static func videoModel(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        var out: [Finding] = []
        for g in input.guests {
            let displays = g.definition.graphics.filter { $0 == "vnc" || $0 == "spice" }
            guard let display = displays.first else { continue }
            for model in g.definition.videoModels where model == "cirrus" || model == "vga" {
                let better = display == "spice" ? "qxl" : "virtio"
                out.append(Finding(
                    id: .guestConsoleVideoModel, severity: model == "cirrus" ? .warning : .info, subject: .guest(g.reference),
                    title: "\(g.reference.name) shows a \(model) video device over \(display)",
                    explanation: "Emulated \(model) framebuffers have tiny video memory, no damage tracking and no hardware cursor: the remote console redraws slowly and lags. virtio-gpu (or qxl with SPICE) sends only changed regions.",
                    evidence: [Evidence("video model", .text(model), from: .domainXML("devices/video/model/@type")),
                               Evidence("display", .text(display), from: .domainXML("devices/graphics/@type"))],
                    remedies: [Remedy(.domainXML(.set("devices/video/model", attribute: "type", to: better)), applies: .guestRestart, "use a \(better) video device")],
                    source: RuleSource(RuleReference.videoModel)))
            }
        }
        return out
    }

    static func balloonHugepages(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        input.guests.compactMap { g in
            guard g.definition.usesHugepages, let model = g.definition.memballoonModel, model != "none" else { return nil }
            return Finding(
                id: .guestMemoryBalloonHugepages, severity: .warning, subject: .guest(g.reference),
                title: "\(g.reference.name) has a \(model) balloon and huge-page memory",
                explanation: "Inflating the balloon frees 4 KiB guest pages inside huge pages the host cannot split or reclaim, so ballooning returns no memory while still fragmenting the guest's.",
                evidence: [Evidence("memballoon", .text(model), from: .domainXML("devices/memballoon/@model")),
                           Evidence("huge pages", .flag(true), from: .domainXML("memoryBacking/hugepages"))],
                remedies: [Remedy(.domainXML(.set("devices/memballoon", attribute: "model", to: "none")), applies: .guestRestart, "remove the balloon")],
                source: RuleSource(RuleReference.balloonHugepages))
        }
    }

    static func noHugepages(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        input.guests.compactMap { g in
            guard !g.definition.usesHugepages, let memory = g.definition.memory, memory >= t.largeGuestMemory else { return nil }
            return Finding(
                id: .guestMemoryNoHugepages, severity: .info, subject: .guest(g.reference),
                title: "\(g.reference.name) has \(memory.humanReadable) of memory on normal pages",
                explanation: "Large guests spend measurable time on TLB misses and two-level page walks; huge pages (or at least THP) cut that and keep the memory unswappable and unfragmented.",
                evidence: [Evidence("memory", .memory(memory), from: .domainXML("memory")),
                           Evidence("huge pages", .flag(false), from: .domainXML("memoryBacking/hugepages"))],
                remedies: [Remedy(.domainXML(.add("memoryBacking", "<hugepages/>")), applies: .guestRestart, "back the guest with huge pages (reserve them on the host first)")],
                source: RuleSource(RuleReference.largeGuestHugepages, threshold: "largeGuestMemory ≥ \(t.largeGuestMemory.humanReadable)"))
        }
    }

    static func agentMissing(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        input.guests.compactMap { g in
            guard !g.definition.hasGuestAgentChannel else { return nil }
            return Finding(
                id: .guestAgentMissing, severity: .info, subject: .guest(g.reference),
                title: "\(g.reference.name) has no guest agent channel",
                explanation: "Without the QEMU guest agent, the host cannot freeze file systems for consistent snapshots, read guest IP addresses, or shut the guest down cleanly when ACPI is ignored.",
                evidence: [Evidence("channel org.qemu.guest_agent.0", .flag(false), from: .domainXML("devices/channel/target[@name='org.qemu.guest_agent.0']"))],
                remedies: [Remedy(.domainXML(.add("devices", "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>")), applies: .guestRestart, "add the agent channel"),
                           Remedy(.manual("Install and start qemu-guest-agent inside the guest."), applies: .manual, "run the agent")],
                source: RuleSource(RuleReference.guestAgent))
        }
    }

    static func watchdogAction(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        var out: [Finding] = []
        for g in input.guests {
            for w in g.definition.watchdogs where w.action == "pause" || w.action == "none" {
                let action = w.action ?? "reset"
                out.append(Finding(
                    id: .guestWatchdogAction, severity: .warning, subject: .guest(g.reference),
                    title: "\(g.reference.name)'s \(w.model) watchdog action is \(action)",
                    explanation: action == "pause"
                        ? "When the guest hangs, the watchdog pauses it: it stays frozen (guest.paused.watchdog) until someone notices, instead of recovering."
                        : "The watchdog fires but nothing happens: a hung guest stays hung.",
                    evidence: [Evidence("watchdog action", .text(action), from: .domainXML("devices/watchdog/@action"))],
                    remedies: [Remedy(.domainXML(.set("devices/watchdog", attribute: "action", to: "reset")), applies: .guestRestart, "reset the guest when it hangs")],
                    source: RuleSource(RuleReference.watchdog)))
            }
        }
        return out
    }

    static func lockedUnbounded(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        input.guests.compactMap { g in
            guard g.definition.locked, g.definition.hardLimit?.value == nil else { return nil }
            let suggested = (g.definition.memory ?? .zero) + .gibibytes(1)
            return Finding(
                id: .guestMemoryLockedUnbounded, severity: .warning, subject: .guest(g.reference),
                title: "\(g.reference.name) locks its memory without a hard limit",
                explanation: "With <locked/> and no <hard_limit>, libvirt lifts QEMU's memory-lock limit entirely: QEMU's own allocations are pinned too and can grow without bound, and the host cannot reclaim or swap any of it.",
                evidence: [Evidence("locked", .flag(true), from: .domainXML("memoryBacking/locked")),
                           Evidence("hard_limit", .text("absent"), from: .domainXML("memtune/hard_limit"))],
                remedies: [Remedy(.domainXML(.set("memtune/hard_limit", to: String(suggested.kibibytes))), applies: .guestRestart, "bound it: guest memory plus QEMU overhead (KiB)"),
                           Remedy(.libvirt(.setMemoryParameter(name: "hard_limit", value: suggested)), applies: .live, "set the limit now")],
                source: RuleSource(RuleReference.lockedMemory))
        }
    }
}
