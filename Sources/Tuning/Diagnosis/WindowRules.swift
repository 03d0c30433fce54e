import VirtCore
import HostProbe

/// Rules over rates measured in a sampling window: console lag and lost performance.
enum WindowRules {
    static let rules: [DiagnosisRule] = [
        DiagnosisRule(ids: [.guestVCPUContention], vcpuContention),
        DiagnosisRule(ids: [.guestCPUThrottled], cpuThrottled),
        DiagnosisRule(ids: [.hostIOWait], iowait),
        DiagnosisRule(ids: [.hostContextSwitches], contextSwitches),
        DiagnosisRule(ids: [.hostPSICPU], cpuPressure),
        DiagnosisRule(ids: [.hostTCPRetransmits], tcpRetransmits),
        DiagnosisRule(ids: [.hostMemorySwapping], swapping),
    ]

    /// What else ran on host CPU `cpu` during the window: its busy share and the sampled
    /// threads (other vCPUs, QEMU threads) that last ran there.
    static func cpuNeighbours(_ cpu: Int, excluding tid: Int?, _ input: DiagnosisInput) -> [Evidence] {
        guard let rates = input.hostRates else { return [] }
        var out: [Evidence] = []
        let window = windowOf(rates)
        if let u = rates.perCPU.first(where: { $0.cpu == cpu }) {
            out.append(Evidence("host CPU \(cpu) busy", .percent(u.busy), from: .procfs("/proc/stat cpu\(cpu)"), window: window))
        }
        let names = Dictionary(input.guests.compactMap { g in g.pid.map { ($0, g.reference.name) } }, uniquingKeysWith: { a, _ in a })
        let others = rates.threads.filter { $0.processor == cpu && $0.tid != tid && $0.cpuPercent >= 1 }.sorted { $0.cpuPercent > $1.cpuPercent }.prefix(3)
        for th in others {
            let owner = names[th.pid].map { "guest \($0) " } ?? "PID \(th.pid) "
            out.append(Evidence("also on CPU \(cpu): \(owner)thread \(th.tid) (\(th.name))", .percent(th.cpuPercent), from: .procfs("/proc/\(th.pid)/task/\(th.tid)/stat"), window: window))
        }
        return out
    }

    static func vcpuContention(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        var out: [Finding] = []
        for g in input.activeGuests {
            guard let w = g.window, w.duration > .zero else { continue }
            for v in w.vcpus {
                guard let delay = v.delay else { continue }
                let fraction = delay.inSeconds / w.duration.inSeconds
                guard fraction > t.vcpuDelayWarning else { continue }
                let critical = fraction > t.vcpuDelayCritical
                var evidence = [
                    Evidence("vCPU \(v.index) run-queue delay", .duration(delay), from: .libvirt(v.delaySource), window: w.duration),
                    Evidence("share of wall time (steal seen by the guest)", .percent(fraction * 100), from: .derived("delay / window"), window: w.duration),
                ]
                if let run = v.runTime { evidence.append(Evidence("vCPU \(v.index) ran", .duration(run), from: .libvirt("virConnectGetAllDomainStats vcpu.\(v.index).time"), window: w.duration)) }
                if let tid = v.threadID { evidence.append(Evidence("vCPU \(v.index) thread", .count(tid), from: .procfs("/proc/\(g.pid.map(String.init) ?? "PID")/task/\(tid)"))) }
                if let a = v.affinity { evidence.append(Evidence("allowed host CPUs", .cpus(a), from: .libvirt("virDomainGetVcpuPinInfo"))) }
                if let cpu = v.hostCPU {
                    evidence.append(Evidence("last ran on host CPU", .count(cpu), from: .procfs("/proc/PID/task/TID/stat field 39")))
                    evidence += cpuNeighbours(cpu, excluding: v.threadID, input)
                }
                var remedies: [Remedy] = []
                if let rates = input.hostRates, let idle = rates.perCPU.filter({ $0.cpu != v.hostCPU }).min(by: { $0.busy < $1.busy }), let c = idle.cpu, idle.busy < 50 {
                    remedies.append(Remedy(.libvirt(.pinVCPU(vcpu: v.index, cpus: [c])), applies: .live, "move the vCPU to CPU \(c), \(formatNumber(idle.busy)) % busy in the window"))
                }
                remedies.append(Remedy(.manual("Stop or move whatever else runs on the vCPU's CPUs (other guests' vCPUs, host jobs), or lower the vCPU overcommit."), applies: .manual, "take load off its CPUs"))
                remedies.append(Remedy(.manual("Pin emulator and I/O threads away from the vCPUs (virsh emulatorpin / iothreadpin --live)."), applies: .manual, "keep QEMU's own threads off the vCPU CPUs"))
                out.append(Finding(
                    id: .guestVCPUContention, severity: critical ? .critical : .warning, subject: .vcpu(g.reference, index: v.index),
                    title: "\(g.reference.name) vCPU \(v.index) waited \(formatNumber(fraction * 100)) % of the time for a host CPU",
                    explanation: "The vCPU was runnable but its host CPU was busy with other work; the guest sees this as steal time: a lagging console, slow responses and timer drift, with its own CPU usage looking low.",
                    evidence: evidence, remedies: remedies,
                    source: RuleSource(RuleReference.steal, threshold: critical
                        ? "vcpuDelayCritical > \(formatNumber(t.vcpuDelayCritical * 100)) % of wall time"
                        : "vcpuDelayWarning > \(formatNumber(t.vcpuDelayWarning * 100)) % of wall time")))
            }
        }
        return out
    }

    static func cpuThrottled(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        input.activeGuests.compactMap { g in
            guard let w = g.window, let th = w.throttling, let fraction = th.throttledFraction, fraction > t.throttledPeriodsWarning else { return nil }
            var evidence = [
                Evidence("periods", .count(Int(clamping: th.periods)), from: .cgroup(th.cgroup + "/cpu.stat nr_periods"), window: w.duration),
                Evidence("throttled periods", .count(Int(clamping: th.throttledPeriods)), from: .cgroup(th.cgroup + "/cpu.stat nr_throttled"), window: w.duration),
                Evidence("throttled share", .percent(fraction * 100), from: .derived("nr_throttled / nr_periods"), window: w.duration),
            ]
            if let tt = th.throttledTime { evidence.append(Evidence("time throttled", .duration(tt), from: .cgroup(th.cgroup + "/cpu.stat throttled_usec"), window: w.duration)) }
            if let q = th.quota, let p = th.period {
                evidence.append(Evidence("quota", .duration(q), from: .cgroup(th.cgroup + "/cpu.max")))
                evidence.append(Evidence("period", .duration(p), from: .cgroup(th.cgroup + "/cpu.max")))
            }
            let remedies = [
                Remedy(.libvirt(.setSchedulerParameter(name: th.cgroup.contains("/vcpu") ? "vcpu_quota" : "global_quota", value: "-1")), applies: .live, "lift the CPU quota (or raise it)"),
                Remedy(.domainXML(.remove("cputune/quota")), applies: .guestRestart, "and drop it from the definition"),
            ]
            return Finding(
                id: .guestCPUThrottled, severity: .warning, subject: .guest(g.reference),
                title: "\(g.reference.name) was throttled in \(formatNumber(fraction * 100)) % of its CPU periods",
                explanation: "The guest's CFS bandwidth quota ran out before the end of most periods, so its vCPUs were stopped until the next period: the guest stutters in bursts (console lag) even while the host has idle CPUs.",
                evidence: evidence, remedies: remedies,
                source: RuleSource(RuleReference.throttling, threshold: "throttledPeriodsWarning > \(formatNumber(t.throttledPeriodsWarning * 100)) %"))
        }
    }

    /// The vCPUs with the most run-queue delay in the window (for host-wide findings).
    static func worstVCPUs(_ input: DiagnosisInput) -> [Evidence] {
        var all: [(GuestFacts, VCPUFigures, Double)] = []
        for g in input.activeGuests {
            guard let w = g.window, w.duration > .zero else { continue }
            for v in w.vcpus { if let d = v.delay { all.append((g, v, d.inSeconds / w.duration.inSeconds)) } }
        }
        return all.sorted { $0.2 > $1.2 }.prefix(3).filter { $0.2 > 0.01 }.map { g, v, f in
            Evidence("\(g.reference.name) vCPU \(v.index) delay" + (v.hostCPU.map { " (on CPU \($0))" } ?? ""), .percent(f * 100), from: .libvirt(v.delaySource), window: g.window?.duration)
        }
    }

    static func windowOf(_ rates: RateSample) -> Duration { .nanoseconds(Int64(rates.interval * 1e9)) }

    static func hostFinding(_ input: DiagnosisInput, _ id: Finding.ID, _ severity: Finding.Severity, _ title: String, _ explanation: String,
                            _ evidence: [Evidence], _ remedies: [Remedy], _ source: RuleSource) -> Finding {
        Finding(id: id, severity: severity, subject: .host(name: input.hostName), title: title, explanation: explanation,
                evidence: evidence + worstVCPUs(input), remedies: remedies, source: source)
    }

    static func iowait(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        guard let rates = input.hostRates, let total = rates.total, total.iowait > t.iowaitPercent else { return [] }
        return [hostFinding(input, .hostIOWait, .warning,
            "Host CPUs spent \(formatNumber(total.iowait)) % of the window waiting for I/O",
            "CPUs were idle with I/O outstanding: storage is the bottleneck. Guests doing disk I/O stall, and guest consoles that log to disk lag with them.",
            [Evidence("iowait", .percent(total.iowait), from: .procfs("/proc/stat cpu iowait"), window: windowOf(rates))],
            [Remedy(.manual("Find the busy devices (iostat -x 1), move heavy guests' disks to faster storage, or cap their I/O (blkiotune / iotune)."), applies: .manual, "relieve the storage")],
            RuleSource(RuleReference.iowait, threshold: "iowaitPercent > \(formatNumber(t.iowaitPercent)) %"))]
    }

    static func contextSwitches(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        guard let rates = input.hostRates, let cs = rates.contextSwitchesPerSecond else { return [] }
        let cpus = max(rates.perCPU.count, 1)
        let perCPU = cs / Double(cpus)
        guard perCPU > t.contextSwitchesPerCPU else { return [] }
        return [hostFinding(input, .hostContextSwitches, .warning,
            "\(formatNumber(perCPU)) context switches per second per CPU",
            "Very frequent switching means many runnable threads share each CPU (overcommit, chatty I/O threads, halt polling off): every switch costs cache and TLB warmth, and vCPUs wait their turn.",
            [Evidence("context switches", .number(cs, unit: "switches/s"), from: .procfs("/proc/stat ctxt"), window: windowOf(rates)),
             Evidence("per CPU", .number(perCPU, unit: "switches/s/CPU"), from: .derived("ctxt rate / online CPUs"), window: windowOf(rates))],
            [Remedy(.manual("Look for the threads switching most (pidstat -w 1); reduce overcommit or pin busy guests."), applies: .manual, "find the switching threads")],
            RuleSource(RuleReference.contextSwitches, threshold: "contextSwitchesPerCPU > \(formatNumber(t.contextSwitchesPerCPU))"))]
    }

    static func cpuPressure(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        guard let rates = input.hostRates, let some = rates.pressure["cpu"]?.somePercent, some > t.cpuPressurePercent else { return [] }
        return [hostFinding(input, .hostPSICPU, .warning,
            "Runnable tasks waited for a CPU \(formatNumber(some)) % of the window (CPU pressure)",
            "CPU pressure stall information counts time in which at least one runnable task had no CPU: the host is CPU-bound and vCPUs queue.",
            [Evidence("cpu some", .percent(some), from: .procfs("/proc/pressure/cpu some total="), window: windowOf(rates))],
            [Remedy(.manual("Reduce the CPU load or overcommit: move guests, cap batch guests' CPU (cputune quota), or add hosts."), applies: .manual, "lower CPU demand")],
            RuleSource(RuleReference.psi, threshold: "cpuPressurePercent > \(formatNumber(t.cpuPressurePercent)) %"))]
    }

    static func tcpRetransmits(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        guard let rates = input.hostRates, let r = rates.tcpRetransmitsPerSecond, r > t.tcpRetransmitsPerSecond else { return [] }
        var evidence = [Evidence("TCP retransmits", .number(r, unit: "segments/s"), from: .procfs("/proc/net/snmp Tcp RetransSegs"), window: windowOf(rates))]
        if let out = rates.tcpOutSegmentsPerSecond, out > 0 {
            evidence.append(Evidence("share of sent segments", .percent(r / out * 100), from: .derived("RetransSegs / OutSegs"), window: windowOf(rates)))
        }
        return [hostFinding(input, .hostTCPRetransmits, .warning,
            "The host retransmitted \(formatNumber(r)) TCP segments per second",
            "Retransmissions mean lost packets on the host's connections (VNC/SPICE consoles, migration, network storage): each loss stalls that connection for a retransmission timeout, seen as a freezing remote console.",
            evidence,
            [Remedy(.manual("Check NIC errors and drops (ip -s link), MTU mismatches and the switch; for guests, softnet drops (/proc/net/softnet_stat)."), applies: .manual, "find where packets are lost")],
            RuleSource(RuleReference.tcpRetransmits, threshold: "tcpRetransmitsPerSecond > \(formatNumber(t.tcpRetransmitsPerSecond))"))]
    }

    static func swapping(_ input: DiagnosisInput, _ t: DiagnosisThresholds) -> [Finding] {
        guard let rates = input.hostRates else { return [] }
        let sin = rates.swapInPagesPerSecond ?? 0, sout = rates.swapOutPagesPerSecond ?? 0
        guard sin + sout > t.swapPagesPerSecond else { return [] }
        let committed = input.activeGuests.compactMap(\.definition.memory).reduce(MemorySize.zero, +)
        let total = input.host?.memory?.total
        let overcommitted = total.map { committed > $0 } ?? false
        var evidence = [Evidence("swap-ins", .number(sin, unit: "pages/s"), from: .procfs("/proc/vmstat pswpin"), window: windowOf(rates)),
                        Evidence("swap-outs", .number(sout, unit: "pages/s"), from: .procfs("/proc/vmstat pswpout"), window: windowOf(rates)),
                        Evidence("memory of active guests", .memory(committed), from: .domainXML("memory"))]
        if let total { evidence.append(Evidence("host memory", .memory(total), from: .procfs("/proc/meminfo MemTotal"))) }
        return [hostFinding(input, .hostMemorySwapping, overcommitted && sin > t.swapPagesPerSecond ? .critical : .warning,
            "The host swapped \(formatNumber(sin)) pages/s in and \(formatNumber(sout)) out" + (overcommitted ? " with guest memory overcommitted" : ""),
            "Guest memory is being paged to disk: a guest touching swapped memory stops until the page is read back, which shows up as seconds-long freezes and console lag.",
            evidence,
            [Remedy(.manual("Reduce guest memory or the number of guests, or add RAM; shrink idle guests with the balloon (virsh setmem)."), applies: .manual, "stop overcommitting memory"),
             Remedy(.sysctl(name: "vm.swappiness", value: String(t.maxSwappiness)), applies: .live, "prefer dropping page cache to swapping guests")],
            RuleSource(RuleReference.swapping, threshold: "swapPagesPerSecond > \(formatNumber(t.swapPagesPerSecond))"))]
    }
}
