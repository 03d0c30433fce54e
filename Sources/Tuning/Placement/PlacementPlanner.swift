import VirtCore

/// Plans where a batch of guests goes on one host: NUMA- and SMT-aware, many guests at once,
/// deterministic. A pure function of its inputs.
///
/// Objective, in order: most guests placed, then fewest NUMA nodes crossed, then most whole
/// cores left free, then free CPUs balanced across nodes. The batch is planned in a few
/// orders (largest first, most constrained first, request order), each greedily with a
/// per-guest node score that follows the same objective; the best plan wins, ties going to
/// the earlier order.
///
/// Per guest: dedicated guests with no cell count live on one node; each guest cell's vCPUs,
/// memory and pages sit on one node; memory is split over cells in proportion to their vCPUs;
/// `prefer` fills whole cores and puts only the remainder on partly used cores; `isolate`
/// takes whole cores (on SMT hosts too) and keeps their other threads empty; `require` takes
/// sibling threads of whole cores; an isolated emulator CPU is searched on all of the guest's
/// nodes, never on a core holding another guest's vCPU.
public struct PlacementPlanner: Sendable {
    public var host: HostTopology
    public var occupancy: PlacementOccupancy
    /// Shared-guest vCPUs allowed per shared host CPU (Nova's `cpu_allocation_ratio`).
    public var sharedCPUAllocationRatio: Int
    /// Allow huge page pools to grow from a node's free base memory when their free pages do
    /// not hold a cell (the plan lists the growth; applying it writes `nr_hugepages`).
    public var growHugepagePools: Bool

    public init(host: HostTopology, occupancy: PlacementOccupancy = .empty, sharedCPUAllocationRatio: Int = 4, growHugepagePools: Bool = false) {
        self.host = host
        self.occupancy = occupancy
        self.sharedCPUAllocationRatio = max(1, sharedCPUAllocationRatio)
        self.growHugepagePools = growHugepagePools
    }

    /// Plans `request`; a request the host can never satisfy (0 vCPUs, …) throws, a guest that
    /// does not fit now is listed in `unplaced` with the reason.
    public func plan(_ request: PlacementRequest) throws(PlacementRequestError) -> PlacementPlan {
        try request.validate(on: host)
        let base = HostLedger(host: host, reserved: request.reservedCPUs, occupancy: occupancy)
        let guests = request.guests
        let indices = Array(guests.indices)
        func strictness(_ g: GuestPlacementRequest) -> Int {
            var s = 0
            if g.cpuPolicy == .dedicated && g.threadPolicy != .prefer { s += 2 }
            if g.pciDevices.contains(where: { $0.affinity == .required }) { s += 2 }
            if g.hugepageSize != nil { s += 1 }
            return s
        }
        let bySize = indices.sorted {
            let a = guests[$0], b = guests[$1]
            if a.vcpus != b.vcpus { return a.vcpus > b.vcpus }
            if a.memory != b.memory { return a.memory > b.memory }
            return $0 < $1
        }
        let byStrictness = indices.sorted {
            let a = guests[$0], b = guests[$1]
            let sa = strictness(a), sb = strictness(b)
            if sa != sb { return sa > sb }
            if a.vcpus != b.vcpus { return a.vcpus > b.vcpus }
            return $0 < $1
        }
        var best: PlacementPlan?
        var seen: [[Int]] = []
        for order in [bySize, byStrictness, indices] where !seen.contains(order) {
            seen.append(order)
            let candidate = run(order: order, guests: guests, ledger: base)
            if best == nil || best!.score < candidate.score { best = candidate }
        }
        return best!
    }

    // MARK: One greedy pass

    private func run(order: [Int], guests: [GuestPlacementRequest], ledger start: HostLedger) -> PlacementPlan {
        var ledger = start
        var results: [Int: Result<GuestPlacement, PlacementFailure>] = [:]
        var takenPCI = occupancy.assignedPCIDevices
        // Dedicated guests first: shared guests float over what they leave.
        let dedicatedFirst = order.filter { guests[$0].cpuPolicy == .dedicated } + order.filter { guests[$0].cpuPolicy == .shared }
        for i in dedicatedFirst {
            let mark = ledger.mark
            let r = placeGuest(guests[i], number: i, ledger: &ledger, takenPCI: takenPCI)
            switch r {
            case .success(let p): takenPCI.formUnion(p.pciDevices)
            case .failure: ledger.rollback(to: mark)
            }
            results[i] = r
        }
        var placements: [GuestPlacement] = []
        var unplaced: [UnplacedGuest] = []
        var crossed = 0
        for i in guests.indices {
            switch results[i]! {
            case .success(let p):
                placements.append(p)
                crossed += p.hostNodes.count - 1
            case .failure(let f): unplaced.append(UnplacedGuest(name: guests[i].name, reason: f))
            }
        }
        let frees = ledger.nodes.filter { !$0.cores.isEmpty }.map(\.freeCPUs)
        let total = frees.reduce(0, +)
        let imbalance = frees.reduce(0) { $0 + ($1 * frees.count - total) * ($1 * frees.count - total) }
        let score = PlacementScore(placed: placements.count, nodesCrossed: crossed, wholeCoresFree: ledger.wholeCoresFree, imbalance: imbalance)
        var growth: [HugepagePoolGrowth] = []
        for node in ledger.nodes {
            for pool in node.pages where pool.grown > 0 {
                growth.append(HugepagePoolGrowth(node: node.id, pageSize: MemorySize(bytes: pool.size), pages: pool.grown))
            }
        }
        return PlacementPlan(placements: placements, unplaced: unplaced, score: score, hugepagePoolGrowth: growth)
    }

    // MARK: One guest

    /// The CPUs chosen for one cell on one node.
    struct CellPick {
        var node: Int
        var cpus: [Int]
        /// Threads kept empty for everyone else (isolate siblings; the spare of a require core).
        var blocked: [Int]
        var wholeCoresBroken: Int
    }

    /// A candidate node for one cell; smaller is better, fields in objective order.
    struct NodeScore: Comparable {
        /// 1 when the guest prefers a PCI device's node and this is not it.
        var pciMiss: Int
        /// Whole cores the cell (and its emulator) break.
        var broken: Int
        /// Σ distance to the guest's other cells.
        var distance: Int
        /// Dedicated: −(free CPUs left per core); shared: load per shared CPU (balance).
        var load: Int
        /// −free MiB (balance of memory).
        var memory: Int
        var node: Int

        static func < (a: Self, b: Self) -> Bool {
            (a.pciMiss, a.broken, a.distance, a.load, a.memory, a.node) < (b.pciMiss, b.broken, b.distance, b.load, b.memory, b.node)
        }
    }

    /// How far a node got before failing; the furthest stage names the guest's reason.
    enum Stage: Int, Comparable {
        case cpus, wholeCores, memory, hugepages, emulator
        static func < (a: Stage, b: Stage) -> Bool { a.rawValue < b.rawValue }
    }

    private func placeGuest(
        _ g: GuestPlacementRequest, number: Int, ledger: inout HostLedger, takenPCI: Set<String>
    ) -> Result<GuestPlacement, PlacementFailure> {
        // PCI devices: known, free, and where they pin the guest.
        var requiredNodes: [Int] = []
        var preferredNodes: Set<Int> = []
        for d in g.pciDevices {
            guard let dev = host.pciDevices.first(where: { $0.address.lowercased() == d.address.lowercased() }) else {
                return .failure(.unknownPCIDevice(d.address))
            }
            if takenPCI.contains(dev.address) || takenPCI.contains(d.address) { return .failure(.pciDeviceTaken(d.address)) }
            guard let nodeID = dev.node, let n = ledger.nodes.firstIndex(where: { $0.id == nodeID }) else { continue }
            switch d.affinity {
            case .required: if !requiredNodes.contains(n) { requiredNodes.append(n) }
            case .preferred: preferredNodes.insert(n)
            }
        }
        let k = g.cellCount
        if requiredNodes.count > k {
            return .failure(.pciAffinityUnsatisfiable(g.pciDevices.first { $0.affinity == .required }!.address))
        }
        let usableNodes = ledger.nodes.indices.filter { !ledger.nodes[$0].cores.isEmpty }
        if k > usableNodes.count { return .failure(.notEnoughNodes(needed: k, available: usableNodes.count)) }
        if g.cpuPolicy == .dedicated && g.threadPolicy == .require && !ledger.hasSMT { return .failure(.noSiblingThreads) }

        // Cells: vCPUs as even as possible (the first cells take the extra), memory in
        // proportion to vCPUs, in whole pages.
        let sizes = (0..<k).map { g.vcpus / k + ($0 < g.vcpus % k ? 1 : 0) }
        let memories = Self.splitMemory(g.memory, by: sizes, granule: g.hugepageSize?.bytes ?? Self.granule(of: g.memory))
        // Page pools keep their index for the whole run.
        let pageIndex: [Int?] = ledger.nodes.map { node in g.hugepageSize.flatMap { s in node.pages.firstIndex { $0.size == s.bytes } } }

        var picks: [CellPick] = []
        var usedNodes: [Int] = []
        var emulatorCPU: Int?
        var furthest = Stage.cpus
        // Cells in decreasing size; equal sizes keep their order.
        let cellOrder = (0..<k).sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }
        var pickByCell = [CellPick?](repeating: nil, count: k)
        for (position, cell) in cellOrder.enumerated() {
            let last = position == k - 1
            let needEmulator = last && g.cpuPolicy == .dedicated && g.emulatorThreads == .isolate
            // Required PCI nodes go to the first cells.
            let candidates: [Int]
            if position < requiredNodes.count {
                candidates = [requiredNodes[position]]
            } else {
                candidates = usableNodes.filter { !usedNodes.contains($0) && !requiredNodes.dropFirst(position).contains($0) }
            }
            var bestNode: (score: NodeScore, pick: CellPick, emulator: Int?)?
            for n in candidates {
                // Cheap checks first: CPU count, then memory or pages.
                if g.cpuPolicy == .dedicated && ledger.nodes[n].freeCPUs < sizes[cell] + (needEmulator ? 1 : 0) { continue }
                if let page = g.hugepageSize?.bytes {
                    guard let pi = pageIndex[n], ledger.nodes[n].pages[pi].free >= memories[cell] / page
                        || growHugepagePools && ledger.nodes[n].memoryFree >= memories[cell] - min(memories[cell], ledger.nodes[n].pages[pi].free * page) else {
                        furthest = max(furthest, .hugepages)
                        continue
                    }
                } else if ledger.nodes[n].memoryFree < memories[cell] {
                    furthest = max(furthest, .memory)
                    continue
                }
                let mark = ledger.mark
                defer { ledger.rollback(to: mark) }
                var stage = Stage.cpus
                guard let pick = pickCell(g, number: number, size: sizes[cell], node: n, ledger: &ledger, stage: &stage) else {
                    furthest = max(furthest, stage)
                    continue
                }
                var emulator: Int?
                var broken = pick.wholeCoresBroken
                if needEmulator {
                    commit(pick, number: number, ledger: &ledger)
                    guard let e = findEmulatorCPU(number: number, nodes: usedNodes + [n], spares: g.threadPolicy == .require, ledger: ledger) else {
                        furthest = max(furthest, .emulator)
                        continue
                    }
                    if ledger.isWhole(ledger.coreOf[e.cpu]) { broken += 1 }
                    emulator = e.cpu
                }
                let distance = usedNodes.reduce(0) { $0 + ledger.distance($1, n) }
                let node = ledger.nodes[n]
                // Balance: dedicated guests by free CPUs left, shared ones by load per shared CPU.
                let load: Int
                if g.cpuPolicy == .shared {
                    load = (node.sharedLoad + sizes[cell]) * 1000 / max(1, ledger.sharedCPUs(node: n).count)
                } else {
                    let freeAfter = needEmulator ? node.freeCPUs : node.freeCPUs - pick.cpus.count - pick.blocked.count
                    load = -freeAfter * 1000 / max(1, node.cores.count)
                }
                let score = NodeScore(
                    pciMiss: preferredNodes.isEmpty || preferredNodes.contains(n) ? 0 : 1, broken: broken, distance: distance,
                    load: load, memory: -Int(min(node.memoryFree >> 20, UInt64(Int.max / 2))), node: n)
                if bestNode == nil || score < bestNode!.score { bestNode = (score, pick, emulator) }
            }
            guard let chosen = bestNode else { return .failure(failure(furthest, g: g, sizes: sizes, memories: memories)) }
            commit(chosen.pick, number: number, ledger: &ledger)
            if let page = g.hugepageSize?.bytes, let pi = pageIndex[chosen.pick.node] {
                ledger.takePages(node: chosen.pick.node, index: pi, count: memories[cell] / page)
            } else {
                ledger.takeMemory(node: chosen.pick.node, bytes: memories[cell])
            }
            if let e = chosen.emulator {
                ledger.set(e, .emulator(number))
                emulatorCPU = e
            }
            usedNodes.append(chosen.pick.node)
            pickByCell[cell] = chosen.pick
            picks.append(chosen.pick)
        }
        let cellPicks = pickByCell.map { $0! }
        if g.cpuPolicy == .shared {
            return sharedPlacement(g, sizes: sizes, memories: memories, picks: cellPicks, ledger: &ledger)
        }
        return .success(dedicatedPlacement(g, sizes: sizes, memories: memories, picks: cellPicks, emulator: emulatorCPU, ledger: ledger))
    }

    private func failure(_ stage: Stage, g: GuestPlacementRequest, sizes: [Int], memories: [UInt64]) -> PlacementFailure {
        let biggest = sizes.max() ?? g.vcpus
        switch stage {
        case .cpus:
            if g.cpuPolicy == .shared { return .noSharedCPUs }
            return .notEnoughCPUs(needed: biggest)
        case .wholeCores:
            return .notEnoughWholeCores(needed: biggest, policy: g.threadPolicy)
        case .memory: return .notEnoughMemory(needed: MemorySize(bytes: memories.max() ?? g.memory.bytes))
        case .hugepages:
            let page = g.hugepageSize ?? .zero
            return .notEnoughHugepages(pageSize: page, pages: page.bytes == 0 ? 0 : (memories.max() ?? 0) / page.bytes)
        case .emulator: return .noEmulatorCPU
        }
    }

    // MARK: Choosing CPUs in one node

    /// The CPUs for `size` vCPUs of guest `number` on node `n`, or nil (with how far it got).
    /// Shared guests pick no CPUs here; they only need shared capacity.
    private func pickCell(
        _ g: GuestPlacementRequest, number: Int, size: Int, node n: Int, ledger: inout HostLedger, stage: inout Stage
    ) -> CellPick? {
        let node = ledger.nodes[n]
        if g.cpuPolicy == .shared {
            let shared = ledger.sharedCPUs(node: n).count
            guard shared > 0, node.sharedLoad + size <= shared * sharedCPUAllocationRatio else { return nil }
            return CellPick(node: n, cpus: [], blocked: [], wholeCoresBroken: 0)
        }
        guard node.freeCPUs >= size else { return nil }
        stage = .wholeCores
        var whole: [Int] = []
        var fragments: [(core: Int, free: [Int])] = []
        for c in node.cores {
            let threads = ledger.cores[c].threads
            let usable = threads.filter { ledger.vcpuUsable($0, guest: number) }
            if usable.isEmpty { continue }
            if usable.count == threads.count { whole.append(c) } else { fragments.append((c, usable)) }
        }
        let coreList = ledger.cores
        let threadCount = { (c: Int) in coreList[c].threads.count }
        // Packages (and dies) of the node: the one that holds the whole cell with the least
        // to spare first, then the emptiest, so a cell stays in one package when it can.
        var groupRank: [Int: Int] = [:]
        if !ledger.nodes[n].singleGroup {
            var freeByGroup: [Int: Int] = [:]
            for c in whole { freeByGroup[coreList[c].group, default: 0] += threadCount(c) }
            for f in fragments { freeByGroup[coreList[f.core].group, default: 0] += f.free.count }
            let groups = freeByGroup.keys.sorted { a, b in
                let fa = freeByGroup[a]!, fb = freeByGroup[b]!
                let holdsA = fa >= size, holdsB = fb >= size
                if holdsA != holdsB { return holdsA }
                if fa != fb { return holdsA ? fa < fb : fa > fb }
                return a < b
            }
            for (i, g) in groups.enumerated() { groupRank[g] = i }
        }
        let rank = { (c: Int) in groupRank.isEmpty ? 0 : groupRank[coreList[c].group] ?? 0 }
        /// The smallest of `cores` holding `count` threads (best package first), else the biggest.
        func bestFit(_ cores: [Int], _ count: Int) -> Int? {
            cores.filter { threadCount($0) >= count }.min { (threadCount($0), rank($0), $0) < (threadCount($1), rank($1), $1) }
                ?? cores.min { (-threadCount($0), rank($0), $0) < (-threadCount($1), rank($1), $1) }
        }
        var cpus: [Int] = []
        var blocked: [Int] = []
        var broken = 0
        var remaining = size
        /// Takes every core of `sorted` that the cell fills completely; returns them.
        func fillWholeCores(_ sorted: [Int]) -> Set<Int> {
            var used = Set<Int>()
            for c in sorted where threadCount(c) <= remaining {
                cpus.append(contentsOf: coreList[c].threads)
                remaining -= threadCount(c)
                used.insert(c)
                broken += 1
            }
            return used
        }
        /// Puts what is left on the best-fitting cores of `sorted` not in `used`, part of a core
        /// each; false when they run out.
        func splitWholeCores(_ sorted: [Int], skipping used: Set<Int>, keepRestEmpty: Bool) -> Bool {
            var used = used
            while remaining > 0 {
                guard let c = bestFit(sorted.filter { !used.contains($0) }, remaining) else { return false }
                let take = min(remaining, threadCount(c))
                cpus.append(contentsOf: coreList[c].threads.prefix(take))
                if keepRestEmpty { blocked.append(contentsOf: coreList[c].threads.dropFirst(take)) }
                remaining -= take
                used.insert(c)
                broken += 1
            }
            return true
        }
        switch g.threadPolicy {
        case .isolate:
            // One vCPU per whole core, fewest threads first so the fewest are kept empty.
            guard whole.count >= size else { return nil }
            for c in whole.sorted(by: { (rank($0), threadCount($0), $0) < (rank($1), threadCount($1), $1) }).prefix(size) {
                cpus.append(coreList[c].threads[0])
                blocked.append(contentsOf: coreList[c].threads.dropFirst())
            }
            broken = size
        case .require:
            let smt = whole.filter { threadCount($0) > 1 }.sorted { (rank($0), -threadCount($0), $0) < (rank($1), -threadCount($1), $1) }
            guard smt.reduce(0, { $0 + threadCount($1) }) >= size else { return nil }
            let used = fillWholeCores(smt)
            // The remainder on the smallest whole core that holds it; its other threads stay
            // empty for everyone else.
            guard splitWholeCores(smt, skipping: used, keepRestEmpty: true) else { return nil }
        case .prefer:
            let wholeSorted = whole.sorted { (rank($0), -threadCount($0), $0) < (rank($1), -threadCount($1), $1) }
            let used = fillWholeCores(wholeSorted)
            if remaining > 0 {
                // The remainder on partly used cores, best fit first (one fragment that holds it
                // all, the fullest first), so whole cores stay whole.
                let frags = fragments.sorted { (rank($0.core), $0.free.count, $0.core) < (rank($1.core), $1.free.count, $1.core) }
                if let f = frags.first(where: { $0.free.count >= remaining }) {
                    cpus.append(contentsOf: f.free.prefix(remaining))
                    remaining = 0
                } else {
                    for f in frags where remaining > 0 {
                        let take = min(remaining, f.free.count)
                        cpus.append(contentsOf: f.free.prefix(take))
                        remaining -= take
                    }
                }
            }
            // Break the smallest whole core that holds the rest.
            guard splitWholeCores(wholeSorted, skipping: used, keepRestEmpty: false) else { return nil }
        }
        return CellPick(node: n, cpus: cpus, blocked: blocked, wholeCoresBroken: broken)
    }

    /// Marks a pick's CPUs as the guest's and closes its kept-empty threads to others (the
    /// guest's own isolated emulator may still take a `require` spare).
    private func commit(_ pick: CellPick, number: Int, ledger: inout HostLedger) {
        for c in pick.cpus { ledger.set(c, .vcpu(number)) }
        for b in pick.blocked { ledger.set(b, .blocked(number)) }
    }

    /// The CPU for guest `number`'s isolated emulator threads on `nodes`: a thread beside the
    /// guest's own vCPUs first, then a thread of a partly used core with no other guest's vCPU,
    /// then a whole free core.
    private func findEmulatorCPU(number: Int, nodes: [Int], spares: Bool, ledger: HostLedger) -> (cpu: Int, rank: Int)? {
        var best: (cpu: Int, rank: [Int])?
        for n in nodes {
            for c in ledger.nodes[n].cores {
                let threads = ledger.cores[c].threads
                let own = threads.contains { ledger.use[$0] == .vcpu(number) || ledger.use[$0] == .blocked(number) }
                for t in threads {
                    // The spare thread of the guest's own require core; isolate siblings stay empty.
                    let spare = spares && ledger.use[t] == .blocked(number)
                    guard spare || ledger.emulatorUsable(t, guest: number) else { continue }
                    let whole = ledger.isWhole(c)
                    let rank = [own ? 0 : (whole ? 2 : 1), whole ? threads.count : 0, t]
                    if best == nil || rank.lexicographicallyPrecedes(best!.rank) { best = (t, rank) }
                }
            }
        }
        return best.map { ($0.cpu, $0.rank[0]) }
    }

    // MARK: Results

    private func dedicatedPlacement(
        _ g: GuestPlacementRequest, sizes: [Int], memories: [UInt64], picks: [CellPick], emulator: Int?, ledger: HostLedger
    ) -> GuestPlacement {
        var pins: [CPUSet] = []
        var cells: [GuestCellPlacement] = []
        var blocked = CPUSet()
        for (i, pick) in picks.enumerated() {
            let first = pins.count
            pins.append(contentsOf: pick.cpus.map { CPUSet([$0]) })
            cells.append(GuestCellPlacement(id: i, vcpus: CPUSet(first..<pins.count), memory: MemorySize(bytes: memories[i]),
                                            hostNode: ledger.nodes[pick.node].id))
            blocked.formUnion(CPUSet(pick.blocked.filter { $0 != emulator }))
        }
        let all = pins.reduce(into: CPUSet()) { $0.formUnion($1) }
        let emulatorPin = emulator.map { CPUSet([$0]) } ?? all
        let iothreadPins: [CPUSet] = (0..<g.iothreads).map { i in
            if let emulator { return CPUSet([emulator]) }
            return CPUSet(picks[i % picks.count].cpus)
        }
        let coreOfVCPU = picks.flatMap { $0.cpus.map { ledger.coreOf[$0] } }
        return GuestPlacement(
            name: g.name, cpuPolicy: .dedicated, vcpuPins: pins, emulatorPin: emulatorPin, iothreadPins: iothreadPins,
            memoryNodes: NodeSet(cells.map(\.hostNode)), cells: cells,
            topology: Self.topology(sizes: sizes, hostCoreOfVCPU: coreOfVCPU), hugepageSize: g.hugepageSize,
            blockedCPUs: blocked, pciDevices: g.pciDevices.map(\.address))
    }

    private func sharedPlacement(
        _ g: GuestPlacementRequest, sizes: [Int], memories: [UInt64], picks: [CellPick], ledger: inout HostLedger
    ) -> Result<GuestPlacement, PlacementFailure> {
        var pins: [CPUSet] = []
        var cells: [GuestCellPlacement] = []
        var cellCPUs: [CPUSet] = []
        for (i, pick) in picks.enumerated() {
            let cpus = ledger.sharedCPUs(node: pick.node)
            ledger.addSharedLoad(node: pick.node, vcpus: sizes[i])
            let first = pins.count
            pins.append(contentsOf: repeatElement(cpus, count: sizes[i]))
            cellCPUs.append(cpus)
            cells.append(GuestCellPlacement(id: i, vcpus: CPUSet(first..<pins.count), memory: MemorySize(bytes: memories[i]),
                                            hostNode: ledger.nodes[pick.node].id))
        }
        let all = cellCPUs.reduce(into: CPUSet()) { $0.formUnion($1) }
        return .success(GuestPlacement(
            name: g.name, cpuPolicy: .shared, vcpuPins: pins, emulatorPin: all,
            iothreadPins: (0..<g.iothreads).map { cellCPUs[$0 % cellCPUs.count] },
            memoryNodes: NodeSet(cells.map(\.hostNode)), cells: cells,
            topology: Self.topology(sizes: sizes, hostCoreOfVCPU: nil), hugepageSize: g.hugepageSize,
            pciDevices: g.pciDevices.map(\.address)))
    }

    /// The guest topology the pins support: `threads = t > 1` only when every cell splits
    /// into runs of `t` consecutive vCPUs that are alone together on one host core; one socket
    /// per cell when the cells are equal, else one socket.
    static func topology(sizes: [Int], hostCoreOfVCPU: [Int]?) -> PlannedCPUTopology {
        let total = sizes.reduce(0, +)
        var threads = 1
        if let cores = hostCoreOfVCPU, !cores.isEmpty {
            var runLengths: [Int] = []
            var count: [Int: Int] = [:]
            for c in cores { count[c, default: 0] += 1 }
            var i = 0
            while i < cores.count {
                var j = i
                while j < cores.count && cores[j] == cores[i] { j += 1 }
                // A host core split over two runs (not consecutive) disqualifies it.
                runLengths.append(count[cores[i]] == j - i ? j - i : -1)
                i = j
            }
            if let t = runLengths.first, t > 1, runLengths.allSatisfy({ $0 == t }), sizes.allSatisfy({ $0 % t == 0 }) {
                // Cell boundaries must not cut a run: every cell start is a multiple of t.
                threads = t
            }
        }
        let equal = sizes.allSatisfy { $0 == sizes[0] }
        let sockets = equal ? sizes.count : 1
        return PlannedCPUTopology(sockets: sockets, dies: 1, cores: total / sockets / threads, threads: threads)
    }

    /// Memory granule without huge pages: 1 MiB when the amount allows it, else 1 KiB.
    static func granule(of memory: MemorySize) -> UInt64 {
        memory.bytes % (1 << 20) == 0 ? 1 << 20 : 1024
    }

    /// Splits `memory` over cells in proportion to `sizes`, in whole granules (largest
    /// remainders get the leftover granules; every cell at least one granule).
    static func splitMemory(_ memory: MemorySize, by sizes: [Int], granule: UInt64) -> [UInt64] {
        let units = memory.bytes / granule
        let total = UInt64(sizes.reduce(0, +))
        var shares = sizes.map { units * UInt64($0) / total }
        var left = units - shares.reduce(0, +)
        let byRemainder = sizes.indices.sorted {
            let ra = units * UInt64(sizes[$0]) % total, rb = units * UInt64(sizes[$1]) % total
            return ra != rb ? ra > rb : $0 < $1
        }
        var k = 0
        while left > 0 { shares[byRemainder[k % sizes.count]] += 1; left -= 1; k += 1 }
        for i in shares.indices where shares[i] == 0 {
            if let donor = shares.indices.max(by: { shares[$0] < shares[$1] }), shares[donor] > 1 {
                shares[donor] -= 1
                shares[i] = 1
            }
        }
        var bytes = shares.map { $0 * granule }
        // Bytes below one granule (only when the amount is not granular) go to cell 0.
        bytes[0] += memory.bytes - bytes.reduce(0, +)
        return bytes
    }
}
