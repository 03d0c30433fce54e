import CgroupControl
import HostProbe
import Libvirt
import VirtCore

/// Renders a scrape (`[HostScrape]`) as the text exposition: every family in
/// `MetricFamily.all` order, each sample with the labels its domain's `DomainMetadata`
/// escaped once. Pure: no I/O, no libvirt call.
public enum ExpositionRenderer {
    public static func render(_ hosts: [HostScrape], scrapeDuration: Duration? = nil) -> [UInt8] {
        let domainCount = hosts.reduce(0) { $0 + $1.domains.count }
        var r = Rendering(hosts: hosts, capacity: 4096 + domainCount * 1024)
        r.write()
        if let scrapeDuration {
            r.w.family(.renderDuration)
            r.w.sample(LabelSet([]), value: .double(scrapeDuration.inSeconds))
        }
        return r.w.bytes
    }
}

private struct Rendering {
    var w: ExpositionWriter
    let hosts: [HostScrape]
    /// Per host, per domain: the label sets of its disks and interfaces (`block.<n>`, `net.<n>` order).
    let blockLabels: [[[LabelSet]]]
    let interfaceLabels: [[[LabelSet]]]

    init(hosts: [HostScrape], capacity: Int) {
        w = ExpositionWriter(capacity: capacity)
        self.hosts = hosts
        blockLabels = hosts.map { h in
            h.domains.map { d in
                d.stats.blocks.map { b in
                    let path = b.path ?? d.metadata.disks.first { $0.target == b.name }?.source ?? ""
                    return LabelSet(d.metadata.labels, ["source_file": path, "target_device": b.name ?? ""])
                }
            }
        }
        interfaceLabels = hosts.map { h in
            h.domains.map { d in
                d.stats.interfaces.map { n in
                    LabelSet(d.metadata.labels, ["source_bridge": d.metadata.interface(target: n.name)?.bridge ?? "", "target_device": n.name ?? ""])
                }
            }
        }
    }

    mutating func write() {
        host(.up) { .integer($0.up ? 1 : 0) }
        w.family(.stale)
        for h in hosts {
            w.sample(h.labels, value: .integer(h.stale ? 1 : 0))
            for d in h.domains where d.stale { w.sample(d.metadata.labels, value: .integer(1)) }
        }
        host(.age) { $0.age.map { .double($0.inSeconds) } }
        host(.callDuration) { $0.callDuration.map { .double($0.inSeconds) } }
        host(.domains) { $0.up ? .integer(UInt64($0.domains.count)) : nil }
        host(.hostCPUs) { $0.node?.info.map { .integer(UInt64(max(0, $0.cpus))) } }
        host(.hostMemory) { $0.node?.info?.memory.map { .integer($0.bytes) } }
        w.family(.hostFreeMemory)
        for h in hosts {
            for (i, free) in (h.node?.freeMemoryPerCell ?? []).enumerated() {
                w.sample(h.labels, ["node": String(i)], value: .integer(free.bytes))
            }
        }
        w.family(.hostCPUTime)
        for h in hosts {
            guard let c = h.node?.cpu else { continue }
            for (mode, v) in [("kernel", c.kernel), ("user", c.user), ("idle", c.idle), ("iowait", c.iowait)] {
                if let v { w.sample(h.labels, ["mode": mode], value: .seconds(v)) }
            }
        }

        domain(.stateCode) { $0.stats.state.map { .integer(UInt64(max(0, $0.state.rawValue))) } }
        w.family(.state)
        forEachDomain { w, d in
            guard let s = d.stats.state else { return }
            w.sample(d.metadata.labels, ["state": s.state.key, "reason": s.reasonDescription], value: .integer(1))
        }
        w.family(.info)
        forEachDomain { w, d in
            guard d.metadata.hasDefinition else { return }
            w.sample(d.metadata.labels, ["title": d.metadata.title ?? ""], value: .integer(1))
        }
        domain(.maxMemory) { d in
            d.stats.balloon?.maximum.map(MetricValue.bytes) ?? d.metadata.maxMemory.map(MetricValue.bytes)
        }
        domain(.memoryUsage) { $0.stats.balloon?.current.map(MetricValue.bytes) }
        domain(.vcpus) { d in (d.stats.vcpu?.current ?? d.metadata.vcpus).map { .integer(UInt64(max(0, $0))) } }
        domain(.cpuTime) { $0.stats.cpu?.time.map(MetricValue.seconds) }
        w.family(.cpuModeTime)
        forEachDomain { w, d in
            guard let c = d.stats.cpu else { return }
            if let u = c.user { w.sample(d.metadata.labels, ["mode": "user"], value: .seconds(u)) }
            if let s = c.system { w.sample(d.metadata.labels, ["mode": "system"], value: .seconds(s)) }
        }

        vcpu(.vcpuState) { v in
            v.state.map { s -> MetricValue in
                switch s {
                case .offline: .integer(0)
                case .running: .integer(1)
                case .blocked: .integer(2)
                case .unknown(let raw): .double(Double(raw))
                }
            }
        }
        vcpu(.vcpuTime) { $0.time.map(MetricValue.seconds) }
        vcpu(.vcpuWait) { $0.wait.map(MetricValue.seconds) }
        vcpu(.vcpuDelay) { $0.delay.map(MetricValue.seconds) }

        w.family(.blockMeta)
        forEachDomain { w, d in
            for disk in d.metadata.disks {
                w.sample(d.metadata.labels, ["target_device": disk.target, "source_file": disk.source,
                                                      "disk_type": disk.type, "device": disk.device], value: .integer(1))
            }
        }
        block(.blockReadBytes) { $0.readBytes.map(MetricValue.integer) }
        block(.blockReadRequests) { $0.readRequests.map(MetricValue.integer) }
        block(.blockReadTime) { $0.readTime.map(MetricValue.seconds) }
        block(.blockWriteBytes) { $0.writeBytes.map(MetricValue.integer) }
        block(.blockWriteRequests) { $0.writeRequests.map(MetricValue.integer) }
        block(.blockWriteTime) { $0.writeTime.map(MetricValue.seconds) }
        block(.blockFlushRequests) { $0.flushRequests.map(MetricValue.integer) }
        block(.blockFlushTime) { $0.flushTime.map(MetricValue.seconds) }
        block(.blockErrors) { $0.errors.map(MetricValue.integer) }
        block(.blockCapacity) { $0.capacity.map(MetricValue.bytes) }
        block(.blockAllocation) { $0.allocation.map(MetricValue.bytes) }
        block(.blockPhysical) { $0.physical.map(MetricValue.bytes) }

        w.family(.ifaceMeta)
        forEachDomain { w, d in
            for n in d.metadata.interfaces {
                w.sample(d.metadata.labels, ["target_device": n.target, "source_bridge": n.bridge,
                                                      "source_network": n.network, "mac": n.mac, "type": n.type], value: .integer(1))
            }
        }
        interface(.rxBytes) { $0.rxBytes }
        interface(.rxPackets) { $0.rxPackets }
        interface(.rxErrors) { $0.rxErrors }
        interface(.rxDrops) { $0.rxDrops }
        interface(.txBytes) { $0.txBytes }
        interface(.txPackets) { $0.txPackets }
        interface(.txErrors) { $0.txErrors }
        interface(.txDrops) { $0.txDrops }

        balloonBytes(.balloonActual) { $0.current }
        balloonBytes(.balloonUnused) { $0.unused }
        balloonBytes(.balloonAvailable) { $0.available }
        balloonBytes(.balloonUsable) { $0.usable }
        balloonBytes(.balloonRSS) { $0.rss }
        balloonBytes(.balloonDiskCaches) { $0.diskCaches }
        balloonBytes(.balloonSwapIn) { $0.swapIn }
        balloonBytes(.balloonSwapOut) { $0.swapOut }
        domain(.balloonMajorFaults) { $0.stats.balloon?.majorFault.map(MetricValue.integer) }
        domain(.balloonMinorFaults) { $0.stats.balloon?.minorFault.map(MetricValue.integer) }
        domain(.balloonUsedPercent) { d in
            guard let b = d.stats.balloon, let a = b.available, let u = b.usable, a.bytes > 0 else { return nil }
            return .double((Double(a.bytes) - Double(u.bytes)) / Double(a.bytes) * 100)
        }
        domain(.balloonLastUpdate) { $0.stats.balloon?.lastUpdate.map { .double($0.sinceUnixEpoch.inSeconds) } }

        hugepagePools(.hostHugepages) { $0.total }
        hugepagePools(.hostHugepagesFree) { $0.free }
        host(.hostSteal) { $0.node?.stall?.steal.map(MetricValue.seconds) }
        host(.hostIOWait) { $0.node?.stall?.iowait.map(MetricValue.seconds) }
        w.family(.hostPressure)
        for h in hosts {
            for (resource, p) in h.node?.stall?.pressures ?? [] {
                if let some = p.someTotal { w.sample(h.labels, ["resource": resource, "kind": "some"], value: .seconds(some)) }
                if let full = p.fullTotal { w.sample(h.labels, ["resource": resource, "kind": "full"], value: .seconds(full)) }
            }
        }
        cgroupCPU(.cgroupPeriods) { $0.periods.map(MetricValue.integer) }
        cgroupCPU(.cgroupThrottledPeriods) { $0.throttledPeriods.map(MetricValue.integer) }
        cgroupCPU(.cgroupThrottledTime) { $0.throttledTime.map(MetricValue.seconds) }
        w.family(.pressure)
        forEachDomain { w, d in
            guard let f = d.host else { return }
            for (resource, p) in [("cpu", f.cpuPressure), ("io", f.ioPressure), ("memory", f.memoryPressure)] {
                guard let p else { continue }
                if let some = p.some { w.sample(d.metadata.labels, ["resource": resource, "kind": "some"], value: .seconds(some.total)) }
                if let full = p.full { w.sample(d.metadata.labels, ["resource": resource, "kind": "full"], value: .seconds(full.total)) }
            }
        }
        w.family(.guestHugepages)
        forEachDomain { w, d in
            for (node, bytes) in (d.host?.hugepageBytesPerNode ?? [:]).sorted(by: { $0.key < $1.key }) {
                w.sample(d.metadata.labels, ["node": String(node)], value: .integer(bytes))
            }
        }
        w.family(.finding)
        for h in hosts {
            for f in h.findings?.findings ?? [] {
                let base = LabelSet(h.labels, ["id": f.id.rawValue, "severity": f.severity.rawValue, "subject": f.subject.description])
                if let g = f.subject.guest {
                    w.sample(LabelSet(base, ["domain": g.name, "uuid": HostCollector.key(g.uuid)]), value: .integer(1))
                } else {
                    w.sample(base, value: .integer(1))
                }
            }
        }
        host(.findingsAge) { h in h.findings.map { .double((ContinuousClock.now - $0.takenAt).inSeconds) } }
    }

    mutating func hugepagePools(_ f: MetricFamily, _ pages: (HugepagePool) -> UInt64?) {
        w.family(f)
        for h in hosts {
            for (node, pool) in h.node?.hugepages ?? [] {
                guard let n = pages(pool) else { continue }
                let (bytes, overflow) = n.multipliedReportingOverflow(by: pool.size.bytes)
                if overflow { continue }
                w.sample(h.labels, ["node": String(node), "page_size": String(pool.size.bytes)], value: .integer(bytes))
            }
        }
    }

    mutating func cgroupCPU(_ f: MetricFamily, _ value: (CPUStats) -> MetricValue?) {
        w.family(f)
        forEachDomain { w, d in
            for (cgroup, stats) in d.host?.cpu ?? [] {
                if let v = value(stats) { w.sample(d.metadata.labels, ["cgroup": cgroup], value: v) }
            }
        }
    }

    // MARK: Family shapes

    mutating func host(_ f: MetricFamily, _ value: (HostScrape) -> MetricValue?) {
        w.family(f)
        for h in hosts { if let v = value(h) { w.sample(h.labels, value: v) } }
    }

    mutating func forEachDomain(_ body: (inout ExpositionWriter, DomainSample) -> Void) {
        for h in hosts { for d in h.domains { body(&w, d) } }
    }

    mutating func domain(_ f: MetricFamily, _ value: (DomainSample) -> MetricValue?) {
        w.family(f)
        forEachDomain { w, d in if let v = value(d) { w.sample(d.metadata.labels, value: v) } }
    }

    mutating func balloonBytes(_ f: MetricFamily, _ value: (DomainStats.Balloon) -> MemorySize?) {
        domain(f) { d in d.stats.balloon.flatMap(value).map(MetricValue.bytes) }
    }

    mutating func vcpu(_ f: MetricFamily, _ value: (DomainStats.VCPU) -> MetricValue?) {
        w.family(f)
        forEachDomain { w, d in
            for (i, v) in (d.stats.vcpu?.entries ?? []).enumerated() {
                if let x = value(v) { w.sample(d.metadata.labels, ["vcpu": String(i)], value: x) }
            }
        }
    }

    mutating func block(_ f: MetricFamily, _ value: (DomainStats.Block) -> MetricValue?) {
        w.family(f)
        for (hi, h) in hosts.enumerated() {
            for (di, d) in h.domains.enumerated() {
                for (bi, b) in d.stats.blocks.enumerated() {
                    if let v = value(b) { w.sample(blockLabels[hi][di][bi], value: v) }
                }
            }
        }
    }

    mutating func interface(_ f: MetricFamily, _ value: (DomainStats.Interface) -> UInt64?) {
        w.family(f)
        for (hi, h) in hosts.enumerated() {
            for (di, d) in h.domains.enumerated() {
                for (ni, n) in d.stats.interfaces.enumerated() {
                    if let v = value(n) { w.sample(interfaceLabels[hi][di][ni], value: .integer(v)) }
                }
            }
        }
    }
}
