import Foundation
import Testing
import VirtCore
import VirtKitTestSupport
@testable import Libvirt

/// The events whose trigger is on the guest's side — agent lifecycle, balloon change,
/// watchdog — end to end on the real `qemu:///system`. The guest is the lab's "devices"
/// guest (`lab.sh xml NAME devices`, Scripts/lab-boot/devices.S): its boot program opens and
/// closes the org.qemu.guest_agent.0 port through virtio-serial, answers every balloon target
/// the host sets through virtio-balloon, and arms an ib700 watchdog when the guest has one.
/// QEMU turns those into VSERPORT_CHANGE / BALLOON_CHANGE / WATCHDOG and libvirt into the
/// events under test; nothing here calls the event callbacks itself.
extension LiveEventTests {
    /// All-domain events (the first agent event is sent while the guest starts, before its
    /// handle exists), filtered by name; a fresh guest from the lab's devices XML.
    static func withDevicesGuest(
        _ tag: String, watchdog: String? = nil,
        _ body: (Connection, Domain, EventRecorder) async throws -> Void
    ) async throws {
        guard await Lab.shared() != nil, let conn = await Self.connect() else { return }
        defer { Task { await conn.close() } }
        let name = Self.uniqueName(tag)
        let xml = try await Lab.guestXML(name, disk: "devices", extra: watchdog)
        let events = EventRecorder(try await conn.domainEvents(ids: [.lifecycle, .agentLifecycle, .balloonChange, .watchdog]))
        do {
            try await Self.withGuest(conn, name: name, xml: xml) { dom in try await body(conn, dom, events) }
        } catch {
            await events.stop()
            throw error
        }
        await events.stop()
    }

    /// The guest's events of one kind, in order.
    static func kinds(_ events: EventRecorder, of name: String) async -> [DomainEventKind] {
        await events.messages.compactMap { m in
            if case .event(let e) = m, e.domainName == name { e.kind } else { nil }
        }
    }

    /// libvirt says "disconnected (domain started)" when the guest starts, then the guest's
    /// PORT_OPEN and its close ~2 s later arrive as connected / disconnected "channel event".
    @Test(.timeLimit(.minutes(5)))  // above the waits' sum (30 + 150 + 20 s) plus the guest's start
    func guestAgentPortOpenAndCloseDeliverAgentLifecycleEvents() async throws {
        try await Self.withDevicesGuest("agent") { _, dom, events in
            let name = dom.name
            let agent: @Sendable (DomainEventMessage) -> (AgentState, AgentReason)? = { m in
                guard case .event(let e) = m, e.domainName == name, case .agentLifecycle(let s, let r) = e.kind else { return nil }
                return (s, r)
            }
            let started = await events.first(timeout: .seconds(30), agent)
            let connected = await events.first(from: (started?.1 ?? -1) + 1, timeout: .seconds(150), agent)  // past the firmware: slow under load
            let closed = await events.first(from: (connected?.1 ?? -1) + 1, timeout: .seconds(20), agent)
            let all = await Self.kinds(events, of: name)
            #expect(started?.0.0 == .disconnected && started?.0.1 == .domainStarted, "at start: \(all)")
            #expect(connected?.0.0 == .connected && connected?.0.1 == .channel, "guest opened the port: \(all)")
            #expect(closed?.0.0 == .disconnected && closed?.0.1 == .channel, "guest closed the port: \(all)")
            // libvirt's own record of the channel agrees.
            let xml = try await dom.xmlDescription()
            #expect(xml.contains("name='org.qemu.guest_agent.0' state='disconnected'"), "\(xml)")
        }
    }

    /// `setMemory` (`virDomainSetMemoryFlags`, live) sets the balloon target; the guest
    /// reports it, QEMU sends BALLOON_CHANGE and libvirt the balloon-change event with the
    /// new size, which `info()` then shows. Twice, down and back up.
    @Test(.timeLimit(.minutes(5)))  // above the waits' sum (150 + 2 × 40 s) plus the guest's start
    func balloonTargetsComeBackAsBalloonChangeEvents() async throws {
        try await Self.withDevicesGuest("balloon") { _, dom, events in
            let name = dom.name
            let balloon: @Sendable (DomainEventMessage) -> MemorySize? = { m in
                guard case .event(let e) = m, e.domainName == name, case .balloonChange(let size) = e.kind else { return nil }
                return size
            }
            // The boot program opens the agent port when it starts: past the firmware (SeaBIOS's
            // POST alone takes ~8 s here, minutes under load), it answers balloon targets.
            let running = await events.first(timeout: .seconds(150)) { (m: DomainEventMessage) -> Bool? in
                guard case .event(let e) = m, e.domainName == name, case .agentLifecycle(.connected, _) = e.kind else { return nil }
                return true
            }
            let soFar = await Self.kinds(events, of: name)
            #expect(running != nil, "the boot program opened the agent port: \(soFar)")
            var from = (running?.1 ?? -1) + 1
            for target in [MemorySize.mebibytes(40), .mebibytes(56)] {
                try await dom.setMemory(target, flags: .live)
                let change = await events.first(from: from, timeout: .seconds(40)) { m in balloon(m).flatMap { $0 == target ? $0 : nil } }
                let all = await Self.kinds(events, of: name)
                #expect(change != nil, "a balloon-change event with \(target): \(all)")
                from = (change?.1 ?? from) + 1
                #expect(try await dom.info().memory == target)
            }
        }
    }

    /// An ib700 watchdog with action `pause` that the guest arms and never re-arms: the
    /// watchdog event names the action, the guest is paused with reason watchdog (the
    /// lifecycle event says so too), and a resume brings it back (the timer fired once).
    @Test(.timeLimit(.minutes(3)))  // a hang guard; the waits inside have their own timeouts
    func expiredWatchdogPausesTheGuestWithReasonWatchdog() async throws {
        try await Self.withDevicesGuest("watchdog", watchdog: "pause") { _, dom, events in
            let name = dom.name
            let fired = await events.first(timeout: .seconds(45)) { m -> WatchdogEventAction? in
                guard case .event(let e) = m, e.domainName == name, case .watchdog(let a) = e.kind else { return nil }
                return a
            }
            let suspended = await events.first(timeout: .seconds(5)) { m -> SuspendedDetail? in
                guard case .event(let e) = m, e.domainName == name, case .lifecycle(.suspended(let d)) = e.kind else { return nil }
                return d
            }
            let all = await Self.kinds(events, of: name)
            #expect(fired?.0 == .pause, "watchdog event: \(all)")
            #expect(suspended?.0 == .watchdog, "suspended (watchdog): \(all)")
            #expect(try await dom.state() == .paused(.watchdog))
            try await dom.resume()
            // Not fired again: the guest armed a 2 s timer once (Scripts/lab-boot/devices.S);
            // a re-fire would come within one period of the resume. Wait for the resumed
            // event, then three periods, and count the watchdog events the stream saw.
            let resumed = await events.first(from: suspended?.1 ?? 0, timeout: .seconds(5)) { m -> Bool? in
                guard case .event(let e) = m, e.domainName == name, case .lifecycle(.resumed) = e.kind else { return nil }
                return true
            }
            let seen = await Self.kinds(events, of: name)
            #expect(resumed != nil, "resumed event: \(seen)")
            try await Task.sleep(for: .seconds(6))
            let watchdogEvents = await Self.kinds(events, of: name).filter { if case .watchdog = $0 { true } else { false } }
            #expect(watchdogEvents.count == 1, "the watchdog fired once: \(watchdogEvents)")
            #expect(try await dom.state() == .running(.unpaused), "resumed and not paused again")
        }
    }
}
