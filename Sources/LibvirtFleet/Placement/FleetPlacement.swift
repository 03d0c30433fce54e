import Libvirt
import Tuning
import VirtCore

/// The placement planner (Tuning) run on every host of a fleet for one request: each host's
/// plan on its own topology (capabilities, free memory per cell) and occupancy (its running
/// guests' live definitions), and the best host by `PlacementScore`.
public struct FleetPlacement: Sendable {
    /// One host's plan for the whole request.
    public struct Candidate: Sendable {
        public var host: String
        public var plan: PlacementPlan
    }

    /// Every host that answered, in fleet order.
    public var candidates: [Candidate]
    /// Hosts without a plan: `failed` (with the error) or `timedOut`.
    public var missing: [FleetInventory.Missing]

    /// The host whose plan places the most guests, then crosses fewest nodes, keeps most
    /// whole cores free, balances best (the planner's order); the first in fleet order on a
    /// tie. Nil when no host places every guest.
    public var best: Candidate? {
        let complete = candidates.filter { $0.plan.unplaced.isEmpty }
        guard var top = complete.first else { return nil }
        for c in complete.dropFirst() where top.plan.score < c.plan.score { top = c }
        return top
    }

    /// Builds the answer from a run's outcomes (pure: tests feed plans directly).
    public init(_ outcomes: [FleetHostOutcome<PlacementPlan>]) {
        candidates = outcomes.compactMap { o in o.result.value.map { Candidate(host: o.host.name, plan: $0) } }
        missing = FleetInventory.Missing.list(outcomes)
    }
}

extension Fleet {
    /// Plans `request` on every host (or on `names`) and returns every host's plan and the best.
    ///
    /// - Parameters:
    ///   - sharedCPUAllocationRatio: passed to `PlacementPlanner` (vCPUs of shared guests per host CPU).
    public func place(_ request: PlacementRequest, on names: [String]? = nil, sharedCPUAllocationRatio: Int = 4,
                      deadline: Duration? = nil) async -> FleetPlacement {
        let cache = factsCache
        let report = await run(on: names, deadline: deadline) { conn, host -> PlacementPlan in
            let topology = try await FleetHostInventory.currentTopology(of: host, over: conn, cache: cache)
            let occupancy = try await PlacementOccupancy.gather(from: conn, excluding: Set(request.guests.map(\.name)))
            return try PlacementPlanner(host: topology, occupancy: occupancy, sharedCPUAllocationRatio: sharedCPUAllocationRatio).plan(request)
        }
        return FleetPlacement(report.outcomes)
    }
}

