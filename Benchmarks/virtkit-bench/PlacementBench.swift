import Foundation
import HostProbe
import Tuning
import VirtCore
import VirtKitTestSupport

/// `virtkit-bench placement [--corpus DIR] [--seeds N] [--repeat N]`
///
/// 1. Quality, every hwloc machine of the corpus: the same seeded arrival sequences of
///    dedicated single-cell `prefer` guests (the subset all three understand) through the
///    VirtKit planner (one batch), a Nova-style first fit and a kubelet-static-style packer
///    (one guest at a time, in arrival order). Guests placed and whole cores left free.
/// 2. Speed on 256ia64-64n2s2c (256 CPUs, 64 nodes): batches of 50 / 500 / 5,000 mixed
///    guests (policies, emulator isolation, cells, shared guests) planned in-process, and the
///    same batches through both references. Goal: 500 guests in < 100 ms.
enum PlacementBench {
    static func run(arguments: [String]) async throws {
        var corpus = ProcessInfo.processInfo.environment["VIRTKIT_CORPUS"] ?? "../shared/corpus"
        var seeds = 3
        var repeats = 7
        var i = 0
        while i < arguments.count {
            switch arguments[i] {
            case "--corpus": corpus = arguments[i + 1]; i += 1
            case "--seeds": seeds = Int(arguments[i + 1]) ?? seeds; i += 1
            case "--repeat": repeats = Int(arguments[i + 1]) ?? repeats; i += 1
            default: break
            }
            i += 1
        }
        #if DEBUG
        print("placement: WARNING debug build; timings are meaningless (swift run -c release virtkit-bench placement)")
        #endif
        let folder = URL(fileURLWithPath: corpus).appendingPathComponent("hwloc-2.9.0/linux")
        guard FileManager.default.fileExists(atPath: folder.path) else {
            throw BenchError("\(folder.path) not found (set VIRTKIT_CORPUS or --corpus)")
        }
        var hosts: [(String, HostTopology)] = []
        for name in HwlocArchives.names(in: folder) {
            let root = try HwlocArchives.root(of: name, in: folder)
            let snapshot = try await HostProber(rootPath: root).snapshot(sections: [.topology, .numa, .memory, .pci])
            if let t = snapshot.hostTopology { hosts.append((name, t)) }
        }
        try quality(hosts: hosts, seeds: seeds)
        guard let big = hosts.first(where: { $0.0 == "256ia64-64n2s2c" })?.1 else {
            throw BenchError("256ia64-64n2s2c is not in the corpus")
        }
        try speed(host: big, repeats: repeats)
    }

    struct BenchError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    // MARK: 1. Quality

    /// A seeded arrival sequence that overfills the host about twice.
    static func arrivals(for host: HostTopology, seed: UInt64) -> [GuestPlacementRequest] {
        var rng = SeededGenerator(seed: seed)
        let nodeCPUs = host.nodes.map { $0.cpus.intersection(host.onlineCPUs).count }.max() ?? 1
        let nodeMiB = host.nodes.compactMap { $0.memory.map { $0.bytes >> 20 } }.max() ?? 1024
        let maxVCPUs = max(1, min(8, nodeCPUs))
        let count = max(4, 2 * host.onlineCPUs.count * 2 / (maxVCPUs + 1))
        return (0..<count).map { i in
            let mib = UInt64(Int.random(in: 1...4, using: &rng)) * max(64, nodeMiB / 16)
            return GuestPlacementRequest(name: "g\(i)", vcpus: Int.random(in: 1...maxVCPUs, using: &rng), memory: .mebibytes(mib))
        }
    }

    static func reference<R: ReferencePlacer>(_: R.Type, _ host: HostTopology, _ guests: [GuestPlacementRequest]) -> (placed: Int, wholeCores: Int) {
        var state = ReferenceHost(host)
        var placed = 0
        for g in guests where R.place(vcpus: g.vcpus, memory: g.memory.bytes, on: &state) != nil { placed += 1 }
        return (placed, state.wholeCoresFree)
    }

    static func quality(hosts: [(String, HostTopology)], seeds: Int) throws {
        print("placement: guests placed / whole cores left free, \(seeds) seeded sequences per machine (summed)")
        let header = "  machine                               CPUs nodes guests | VirtKit      | Nova first fit | kubelet packer | VirtKit ≥ both"
        print(header)
        var worse: [String] = []
        var totals = [0, 0, 0, 0, 0, 0]
        for (name, host) in hosts {
            var sums = [0, 0, 0, 0, 0, 0]
            var guests = 0
            for seed in 1...seeds {
                let list = arrivals(for: host, seed: UInt64(seed) * 7_777 + UInt64(host.onlineCPUs.count))
                guests += list.count
                let plan = try PlacementPlanner(host: host).plan(PlacementRequest(guests: list))
                let nova = reference(NovaFirstFit.self, host, list)
                let kube = reference(KubeletStaticPacker.self, host, list)
                for (k, v) in [plan.score.placed, plan.score.wholeCoresFree, nova.placed, nova.wholeCores, kube.placed, kube.wholeCores].enumerated() {
                    sums[k] += v
                }
            }
            for k in 0..<6 { totals[k] += sums[k] }
            // At least as many placed; when placing the same number, at least as many whole cores.
            func beats(_ p: Int, _ w: Int) -> Bool { sums[0] > p || (sums[0] == p && sums[1] >= w) }
            let ok = beats(sums[2], sums[3]) && beats(sums[4], sums[5])
            if !ok { worse.append(name) }
            let padded = name.count >= 36 ? name : name.padding(toLength: 36, withPad: " ", startingAt: 0)
            print(String(format: "  %@ %5d %5d %6d | %5d / %4d | %6d / %4d  | %6d / %4d  | %@",
                         padded as NSString, host.onlineCPUs.count, host.nodes.count, guests,
                         sums[0], sums[1], sums[2], sums[3], sums[4], sums[5], (ok ? "yes" : "NO") as NSString))
        }
        print(String(format: "  total placed: VirtKit %d, Nova %d, kubelet %d; whole cores free: %d, %d, %d",
                     totals[0], totals[2], totals[4], totals[1], totals[3], totals[5]))
        print(worse.isEmpty ? "  VirtKit placed at least as many guests as both references on every machine"
                            : "  VirtKit behind a reference on: \(worse.joined(separator: ", "))")
    }

    // MARK: 2. Speed

    /// A mixed batch: mostly dedicated `prefer`, some isolate/require, emulator isolation,
    /// IOThreads, two-cell and shared guests.
    static func mixedBatch(_ count: Int, seed: UInt64) -> PlacementRequest {
        var rng = SeededGenerator(seed: seed)
        let guests = (0..<count).map { i -> GuestPlacementRequest in
            var g = GuestPlacementRequest(name: "g\(i)", vcpus: Int.random(in: 1...6, using: &rng),
                                          memory: .mebibytes(UInt64(Int.random(in: 1...8, using: &rng)) * 256))
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: g.threadPolicy = .isolate
            case 1: g.threadPolicy = .require
            case 2: g.cpuPolicy = .shared
            case 3: g.emulatorThreads = .isolate; g.vcpus = min(g.vcpus, 3)
            case 4: g.numaNodes = 2; g.vcpus = max(2, g.vcpus)
            default: break
            }
            g.iothreads = Int.random(in: 0...1, using: &rng)
            return g
        }
        return PlacementRequest(reservedCPUs: [0, 1], guests: guests)
    }

    static func speed(host: HostTopology, repeats: Int) throws {
        print("placement: planning time on 256ia64-64n2s2c (256 CPUs, 64 nodes), \(repeats) runs each, in-process")
        print("  (the references treat every guest as dedicated, prefer, one cell: they skip isolate/require, emulator")
        print("   isolation, guest cells and shared guests, so their placed counts here are not comparable)")
        print("  guests |  VirtKit min / median (placed) |  Nova first fit min / median (placed) |  kubelet min / median (placed)")
        let clock = ContinuousClock()
        for count in [50, 500, 5_000] {
            let request = mixedBatch(count, seed: UInt64(count))
            let planner = PlacementPlanner(host: host)
            var ours: [Double] = [], nova: [Double] = [], kube: [Double] = []
            var placed = (0, 0, 0)
            for _ in 0..<max(1, count >= 5_000 ? min(repeats, 3) : repeats) {
                var plan: PlacementPlan?
                ours.append(try clock.measure { plan = try planner.plan(request) }.inSeconds)
                placed.0 = plan?.placements.count ?? 0
                var n = 0, k = 0
                nova.append(clock.measure { n = reference(NovaFirstFit.self, host, request.guests).placed }.inSeconds)
                kube.append(clock.measure { k = reference(KubeletStaticPacker.self, host, request.guests).placed }.inSeconds)
                placed.1 = n
                placed.2 = k
            }
            print(String(format: "  %6d | %8.2f / %8.2f ms (%4d)     | %10.2f / %8.2f ms (%4d)         | %8.2f / %8.2f ms (%4d)",
                         count, ours.min()! * 1e3, median(ours) * 1e3, placed.0, nova.min()! * 1e3, median(nova) * 1e3, placed.1,
                         kube.min()! * 1e3, median(kube) * 1e3, placed.2))
            if count == 500 {
                print(median(ours) < 0.1 ? "         goal: 500 guests < 100 ms met (median)" : "         goal: 500 guests < 100 ms NOT met (median)")
            }
        }
    }
}
