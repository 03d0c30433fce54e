import Testing
import Libvirt
import VirtCore
@testable import Tuning

/// The guardian's decision logic, without a host: inputs in, effects out.
@Suite("Guardian state machine")
struct GuardianStateMachineTests {
    static let vm = GuardianGuest(uuid: LibvirtUUID("11111111-2222-3333-4444-555555555555")!, name: "vm1")
    static let other = GuardianGuest(uuid: LibvirtUUID("aaaaaaaa-2222-3333-4444-555555555555")!, name: "vm2")

    static let healthy = GuardianHealthReport(checks: [
        GuardianCheck(disk: "vda", subject: "/img/vm1.qcow2", kind: .freeSpace, status: .passed, detail: "1 GiB free"),
        GuardianCheck(disk: "vda", subject: "/img/vm1.qcow2", kind: .testWrite, status: .passed, detail: "4 KiB"),
    ])
    static let failing = GuardianHealthReport(checks: [
        GuardianCheck(disk: "vda", subject: "nbd://127.0.0.1:10852", kind: .networkRead, status: .failed, detail: "EIO"),
    ])

    /// Feeds inputs and checks the invariants on every step: never a second check/action
    /// while one is in flight for a guest, never a resume not directly after a healthy report.
    struct Driver {
        var machine: GuardianStateMachine
        var now: Duration = .zero
        var inFlight: [LibvirtUUID: GuardianEffect] = [:]
        var lastReport: [LibvirtUUID: GuardianHealthReport] = [:]
        var wakes: [LibvirtUUID: (at: Duration, token: Int)] = [:]
        var records: [GuardianDecision] = []
        var effects: [GuardianEffect] = []

        init(_ policy: GuardianPolicy = GuardianPolicy()) { machine = GuardianStateMachine(policy: policy, random: TestRandom(seed: 42)) }

        @discardableResult
        mutating func feed(_ input: GuardianInput) -> [GuardianEffect] {
            switch input {
            case .healthChecked(let g, let r):
                #expect(inFlight[g.uuid] == .checkHealth(g), "a check result answers a check in flight")
                inFlight[g.uuid] = nil
                lastReport[g.uuid] = r
            case .actionFinished(let g, _, _):
                inFlight[g.uuid] = nil
            default: break
            }
            let out = machine.handle(input, at: now)
            for effect in out {
                switch effect {
                case .checkHealth(let g), .destroy(let g):
                    #expect(inFlight[g.uuid] == nil, "two actions at once on \(g.name): \(String(describing: inFlight[g.uuid])) then \(effect)")
                    inFlight[g.uuid] = effect
                case .resume(let g, _):
                    #expect(inFlight[g.uuid] == nil, "two actions at once on \(g.name)")
                    #expect(lastReport[g.uuid]?.isHealthy == true, "resume only right after a healthy report")
                    lastReport[g.uuid] = nil
                    inFlight[g.uuid] = effect
                case .wake(let g, let after, let token):
                    #expect(after >= .zero)
                    wakes[g.uuid] = (now + after, token)
                case .record(let d):
                    records.append(d)
                }
            }
            effects += out
            return out
        }

        /// Advances the clock to the guest's pending wake-up and delivers it.
        @discardableResult
        mutating func fireWake(_ g: GuardianGuest) -> [GuardianEffect] {
            guard let w = wakes.removeValue(forKey: g.uuid) else { Issue.record("no wake pending for \(g.name)"); return [] }
            now = max(now, w.at)
            return feed(.timer(g, token: w.token))
        }

        func pendingWakeDelay(_ g: GuardianGuest) -> Duration? { wakes[g.uuid].map { $0.at - now } }
        var actions: [GuardianActionTaken] { records.map(\.action) }
    }

    @Test func ioErrorPauseIsCheckedAndResumedOnlyWhenHealthy() {
        var d = Driver()
        let first = d.feed(.observed(Self.vm, .paused(.ioError), diskErrors: [GuardianDiskError(disk: "vda", kind: .ioError)]))
        #expect(first.contains(.checkHealth(Self.vm)), "checks at once")
        // The disk still fails: wait with backoff, no resume.
        let waiting = d.feed(.healthChecked(Self.vm, Self.failing))
        #expect(!waiting.contains { if case .resume = $0 { true } else { false } })
        #expect(d.records.last?.action == .wait)
        #expect(d.records.last?.checks == Self.failing.checks, "the checks are in the decision")
        #expect(d.records.last?.diskErrors == [GuardianDiskError(disk: "vda", kind: .ioError)])
        let delay = d.pendingWakeDelay(Self.vm)
        #expect(delay.map { $0 > .milliseconds(1500) && $0 <= .seconds(2) } == true, "first retry after ~2 s: \(String(describing: delay))")
        // Repaired: the next check passes and the guest is resumed.
        #expect(d.fireWake(Self.vm) == [.checkHealth(Self.vm)])
        let resumed = d.feed(.healthChecked(Self.vm, Self.healthy))
        #expect(resumed.contains(.resume(Self.vm, expecting: .ioError)))
        #expect(d.records.last?.action == .resume && d.records.last?.outcome == .issued)
        d.feed(.observed(Self.vm, .running(.unpaused)))  // our resume taking effect: no hand-off
        d.feed(.actionFinished(Self.vm, .resume, error: nil))
        #expect(d.actions == [.observe, .wait, .resume, .resume])
        #expect(d.records.last?.outcome == .succeeded)
        #expect(d.machine.guestsInTrouble.isEmpty)
    }

    @Test func backoffDoublesWithJitterAndIsCappedAtSixtySeconds() {
        var d = Driver()
        d.feed(.observed(Self.vm, .paused(.ioError)))
        var delays: [Duration] = []
        for _ in 0..<10 {
            d.feed(.healthChecked(Self.vm, Self.failing))
            delays.append(d.pendingWakeDelay(Self.vm)!)
            d.fireWake(Self.vm)
        }
        let b = GuardianBackoff()
        for (i, delay) in delays.enumerated() {
            let nominal = min(2.0 * Double(1 << i), 60)
            #expect(delay.inSeconds <= nominal + 0.001 && delay.inSeconds >= nominal * (1 - b.jitter) - 0.001,
                    "attempt \(i + 1): \(delay) within [\(nominal * 0.8), \(nominal)]")
        }
        #expect(delays.allSatisfy { $0 <= .seconds(60) })
        #expect(Set(delays.suffix(4)).count > 1, "jitter spreads the capped waits")
        #expect(!d.effects.contains { if case .resume = $0 { true } else { false } }, "no resume while failing")
    }

    @Test func backoffFunction() {
        let b = GuardianBackoff(initial: .seconds(3), multiplier: 2, maximum: .seconds(60), jitter: 0)
        #expect(b.delay(afterFailures: 1, unit: 0.7) == .seconds(3))
        #expect(b.delay(afterFailures: 2, unit: 0.7) == .seconds(6))
        #expect(b.delay(afterFailures: 5, unit: 0.7) == .seconds(48))
        #expect(b.delay(afterFailures: 6, unit: 0.7) == .seconds(60))
        #expect(b.delay(afterFailures: 1_000_000, unit: 0.7) == .seconds(60))
        let j = GuardianBackoff(jitter: 0.5)
        #expect(j.delay(afterFailures: 1, unit: 0) == .seconds(2))
        #expect(j.delay(afterFailures: 1, unit: 0.999_999) == .milliseconds(1000))
    }

    @Test func thirdPauseWithinTheWindowGivesUpWithACriticalAlert() {
        var d = Driver()
        for round in 1...2 {
            d.feed(.observed(Self.vm, .paused(.ioError)))
            d.feed(.healthChecked(Self.vm, Self.healthy))
            d.feed(.actionFinished(Self.vm, .resume, error: nil))
            #expect(d.records.last?.outcome == .succeeded, "round \(round) resumed")
            d.now += .seconds(30)
        }
        let third = d.feed(.observed(Self.vm, .paused(.ioError)))
        #expect(!third.contains(.checkHealth(Self.vm)), "no more checks or resumes")
        let last = d.records.last
        #expect(last?.action == .giveUp)
        #expect(last?.pausesInWindow == 3)
        #expect(last?.alert?.id == "guest.paused.resume-limit")
        #expect(last?.alert?.severity == "critical")
        // It stays given up: seeing it again (a rescan) does nothing.
        #expect(d.feed(.observed(Self.vm, .paused(.ioError))).isEmpty)
        #expect(d.feed(.reconnected).isEmpty)
    }

    @Test func pausesOutsideTheWindowDoNotCount() {
        var d = Driver(GuardianPolicy(pauseLimit: GuardianPauseLimit(pauses: 2, window: .seconds(60))))
        d.feed(.observed(Self.vm, .paused(.ioError)))
        d.feed(.healthChecked(Self.vm, Self.healthy))
        d.feed(.actionFinished(Self.vm, .resume, error: nil))
        d.now += .seconds(61)
        let again = d.feed(.observed(Self.vm, .paused(.ioError)))
        #expect(again.contains(.checkHealth(Self.vm)), "the first pause aged out")
        #expect(d.records.last?.pausesInWindow == 1)
    }

    @Test func manualResumeOrDestroyIsHandedOff() {
        var d = Driver()
        d.feed(.observed(Self.vm, .paused(.ioError)))
        d.feed(.healthChecked(Self.vm, Self.failing))
        // The operator resumes it while the guardian waits.
        d.feed(.observed(Self.vm, .running(.unpaused)))
        #expect(d.records.last?.action == .handOff)
        #expect(d.records.last?.reason.contains("someone else") == true)
        // The pending wake-up is stale now: nothing happens.
        #expect(d.fireWake(Self.vm).isEmpty)
        // Destroyed by hand while a check runs: the late check result is ignored.
        d.feed(.observed(Self.other, .paused(.ioError)))
        d.feed(.observed(Self.other, .shutoff(.destroyed)))
        #expect(d.records.last?.action == .handOff)
        d.inFlight[Self.other.uuid] = .checkHealth(Self.other)
        #expect(d.feed(.healthChecked(Self.other, Self.healthy)).isEmpty, "never resumes a guest someone else destroyed")
    }

    @Test func aRacingResumeIsNotMistakenForTheOperators() {
        var d = Driver()
        d.feed(.observed(Self.vm, .paused(.ioError)))
        d.feed(.healthChecked(Self.vm, Self.healthy))
        // Event of our own resume, then it pauses again before the call returns.
        d.feed(.observed(Self.vm, .running(.unpaused)))
        d.feed(.observed(Self.vm, .paused(.ioError)))
        let out = d.feed(.actionFinished(Self.vm, .resume, error: nil))
        #expect(d.records.map(\.action) == [.observe, .resume, .resume, .observe])
        #expect(out.contains(.checkHealth(Self.vm)), "the new pause is a new episode")
        #expect(d.records.last?.pausesInWindow == 2)
    }

    @Test func aCheckOfAnEndedEpisodeIsNeverUsedForTheNextPause() {
        var d = Driver()
        d.feed(.observed(Self.vm, .paused(.ioError)))            // check 1 in flight
        d.feed(.observed(Self.vm, .running(.unpaused)))          // resumed by hand: hand-off
        let again = d.feed(.observed(Self.vm, .paused(.ioError)))
        #expect(!again.contains(.checkHealth(Self.vm)), "waits for the old check to return")
        // The old (pre-pause) check says healthy: dropped, and a fresh check starts.
        let out = d.feed(.healthChecked(Self.vm, Self.healthy))
        #expect(out == [.checkHealth(Self.vm)])
        #expect(d.feed(.healthChecked(Self.vm, Self.failing)).contains { if case .wake = $0 { true } else { false } })
    }

    @Test func failedResumeBacksOffAndChecksAgain() {
        var d = Driver()
        d.feed(.observed(Self.vm, .paused(.ioError)))
        d.feed(.healthChecked(Self.vm, Self.healthy))
        d.feed(.actionFinished(Self.vm, .resume, error: "Requested operation is not valid"))
        #expect(d.records.last?.outcome == .failed("Requested operation is not valid"))
        #expect(d.fireWake(Self.vm) == [.checkHealth(Self.vm)], "a new check before any new resume")
    }

    @Test func destroyPolicyDestroysAfterItsLimitAndSaysWhy() {
        let policy = GuardianPolicy(actions: [.ioError: .destroy(after: .seconds(80))])
        var d = Driver(policy)
        let first = d.feed(.observed(Self.vm, .paused(.ioError)))
        #expect(!first.contains(.checkHealth(Self.vm)), "destroy never resumes")
        #expect(d.pendingWakeDelay(Self.vm) == .seconds(80))
        let out = d.fireWake(Self.vm)
        #expect(out.contains(.destroy(Self.vm)))
        let rec = d.records.last
        #expect(rec?.action == .destroy)
        #expect(rec?.reason.contains("longer than the policy's limit") == true, "\(rec?.reason ?? "")")
        d.feed(.observed(Self.vm, .shutoff(.destroyed)))   // our own destroy: no hand-off
        d.feed(.gone(Self.vm))                             // a transient guest vanishes
        d.feed(.scanned(present: []))
        d.feed(.actionFinished(Self.vm, .destroy, error: nil))
        #expect(d.actions == [.observe, .destroy, .destroy])
        #expect(d.records.last?.outcome == .succeeded)
    }

    @Test func resumeOrDestroyResumesWithinTheLimitOrDestroysAfterIt() {
        let policy = GuardianPolicy(guests: ["vm1": [.ioError: .resumeOrDestroy(after: .seconds(10))]])
        var d = Driver(policy)
        d.feed(.observed(Self.vm, .paused(.ioError)))
        var destroyed = false
        for _ in 0..<20 where !destroyed {
            d.feed(.healthChecked(Self.vm, Self.failing))
            #expect(d.pendingWakeDelay(Self.vm).map { d.now + $0 <= .seconds(10) } == true, "never waits past the deadline")
            let out = d.fireWake(Self.vm)
            destroyed = out.contains(.destroy(Self.vm))
        }
        #expect(destroyed)
        #expect(d.now == .seconds(10))
        // Another guest under the defaults is not affected by vm1's override.
        d.feed(.observed(Self.other, .paused(.ioError)))
        #expect(d.records.last?.policy == .resume)
    }

    @Test func documentedDefaultsLeaveWatchdogCrashAndMigrationFailures() {
        var d = Driver()
        let cases: [(DomainStatus, GuardianTrigger)] = [
            (.paused(.watchdog), .watchdog), (.crashed(.panicked), .crashed), (.paused(.crashed), .crashed),
            (.paused(.postcopyFailed), .postcopyFailed), (.paused(.migration), .migration), (.paused(.user), .user),
        ]
        for (i, (status, trigger)) in cases.enumerated() {
            let g = GuardianGuest(uuid: LibvirtUUID(bytes: [UInt8](repeating: UInt8(i + 1), count: 16))!, name: "g\(i)")
            let out = d.feed(.observed(g, status))
            #expect(out.count == 1, "\(status): one record, no action")
            #expect(d.records.last?.action == .leave)
            #expect(d.records.last?.trigger == trigger)
        }
        // Not the guardian's business: transient pauses and healthy states.
        for status: DomainStatus in [.paused(.save), .paused(.snapshot), .paused(.postcopy), .paused(.startingUp), .running(.booted), .shutoff(.shutdown)] {
            #expect(d.feed(.observed(Self.vm, status)).isEmpty, "\(status)")
        }
    }

    @Test func guestMetadataPolicyWinsOverThePolicyFile() {
        let policy = GuardianPolicy(actions: [.ioError: .leave], guests: ["vm1": [.ioError: .leave]])
        var d = Driver(policy)
        let own = GuardianGuestPolicy(actions: [.ioError: .resume])
        #expect(d.feed(.observed(Self.vm, .paused(.ioError), own: own)).contains(.checkHealth(Self.vm)))
        d.feed(.observed(Self.other, .paused(.ioError)))
        #expect(d.records.last?.action == .leave)
    }

    @Test func disconnectedTimersWaitForTheReconnectAndGoneGuestsEnd() {
        var d = Driver()
        d.feed(.observed(Self.vm, .paused(.ioError)))
        d.feed(.healthChecked(Self.vm, Self.failing))
        d.feed(.observed(Self.other, .paused(.ioError)))
        d.feed(.healthChecked(Self.other, Self.failing))
        d.feed(.disconnected)
        #expect(d.fireWake(Self.vm).isEmpty, "no checks while the daemon is away")
        #expect(d.fireWake(Self.other).isEmpty)
        let back = d.feed(.reconnected)
        #expect(back == [.checkHealth(Self.other), .checkHealth(Self.vm)].sorted { "\($0)" < "\($1)" } || back.count == 2)
        // The rescan finds only vm1: vm2's episode ends.
        d.feed(.scanned(present: [Self.vm.uuid]))
        #expect(d.records.last?.guest == Self.other && d.records.last?.action == .handOff)
        #expect(d.machine.guestsInTrouble == [Self.vm])
    }

    @Test func healthyReportWhileDisconnectedDoesNotResume() {
        var d = Driver()
        d.feed(.observed(Self.vm, .paused(.ioError)))
        d.feed(.disconnected)
        let out = d.feed(.healthChecked(Self.vm, Self.healthy))
        #expect(!out.contains { if case .resume = $0 { true } else { false } })
        #expect(d.records.last?.action == .wait)
    }

    @Test func randomInputSequencesKeepTheInvariants() {
        // Random interleavings of events, results and timers; the driver asserts the
        // one-action-per-guest and healthy-before-resume rules on every step.
        var rng = TestRandom(seed: 7)
        for _ in 0..<200 {
            var d = Driver(GuardianPolicy(actions: [.ioError: .resumeOrDestroy(after: .seconds(40))]))
            let guests = [Self.vm, Self.other]
            for _ in 0..<60 {
                let g = guests[Int(rng.next() % 2)]
                d.now += .milliseconds(Int64(rng.next() % 5000))
                switch rng.next() % 8 {
                case 0: d.feed(.observed(g, .paused(.ioError)))
                case 1: d.feed(.observed(g, .running(.unpaused)))
                case 2:
                    if d.inFlight[g.uuid] == .checkHealth(g) { d.feed(.healthChecked(g, rng.next() % 2 == 0 ? Self.healthy : Self.failing)) }
                case 3:
                    if case .resume = d.inFlight[g.uuid] { d.feed(.actionFinished(g, .resume, error: rng.next() % 3 == 0 ? "boom" : nil)) }
                case 4:
                    if d.inFlight[g.uuid] == .destroy(g) { d.feed(.actionFinished(g, .destroy, error: nil)) }
                case 5: if d.wakes[g.uuid] != nil { d.fireWake(g) }
                case 6: d.feed(rng.next() % 2 == 0 ? .disconnected : .reconnected)
                default: d.feed(.scanned(present: Set(guests.map(\.uuid))))
                }
            }
        }
    }

    @Test func policyTextAndJSON() throws {
        #expect(try GuardianAction(parsing: "resume-or-destroy:80s") == .resumeOrDestroy(after: .seconds(80)))
        #expect(try GuardianAction(parsing: " destroy:5m ") == .destroy(after: .seconds(300)))
        #expect(try GuardianAction(parsing: "destroy:500ms") == .destroy(after: .milliseconds(500)))
        #expect(GuardianAction.destroy(after: .seconds(120)).description == "destroy:2m")
        #expect(throws: GuardianPolicyError.self) { try GuardianAction(parsing: "destroy") }
        #expect(throws: GuardianPolicyError.self) { try GuardianAction(parsing: "resume:5s:x") }
        #expect(throws: GuardianPolicyError.self) { try GuardianAction(parsing: "destroy:-1s") }
        #expect(throws: GuardianPolicyError.self) { try GuardianAction(parsing: "destroy:5parsecs") }
        #expect(throws: GuardianPolicyError.self) { try GuardianAction(parsing: "") }

        let json = #"{"actions": {"watchdog": "destroy:30s"}, "guests": {"db1": {"io-error": "resume-or-destroy:80s"}}, "#
            + #""backoff": {"initial": "3s"}, "pauseLimit": {"pauses": 5, "window": "1h"}, "health": {"minimumFreeSpace": "1GiB"}}"#
        let p = try GuardianPolicy(json: Array(json.utf8))
        #expect(p.actions[.watchdog] == .destroy(after: .seconds(30)))
        #expect(p.backoff.initial == .seconds(3) && p.backoff.maximum == .seconds(60))
        #expect(p.pauseLimit == GuardianPauseLimit(pauses: 5, window: .seconds(3600)))
        #expect(p.health.minimumFreeSpace == .gibibytes(1))
        let db1 = GuardianGuest(uuid: Self.vm.uuid, name: "db1")
        #expect(p.action(for: .ioError, guest: db1) == .resumeOrDestroy(after: .seconds(80)))
        #expect(p.action(for: .ioError, guest: Self.vm) == .resume)
        #expect(throws: GuardianPolicyError.self) { try GuardianPolicy(json: Array(#"{"actions": {"io-error": "explode"}}"#.utf8)) }
        #expect(throws: GuardianPolicyError.self) { try GuardianPolicy(json: Array(#"{"actions": {"io-eror": "leave"}}"#.utf8)) }
        #expect(throws: GuardianPolicyError.self) { try GuardianPolicy(json: Array("not json".utf8)) }
        // Round trip.
        let again = try GuardianPolicy(json: Array(try p.jsonBytes()))
        #expect(again == p)
    }

    @Test func metadataElement() throws {
        let xml = """
        <domain type='kvm'><name>vm1</name><metadata>
          <other:thing xmlns:other="urn:x"/>
          <g:guardian xmlns:g="https://virtkit.dev/xmlns/guardian/1" io-error="destroy:80s" watchdog="resume"/>
        </metadata></domain>
        """
        let own = try GuardianGuestPolicy(domainXML: xml)
        #expect(own?.actions == [.ioError: .destroy(after: .seconds(80)), .watchdog: .resume])
        #expect(try GuardianGuestPolicy(domainXML: "<domain><name>x</name></domain>") == nil)
        #expect(throws: GuardianPolicyError.self) {
            try GuardianGuestPolicy(domainXML: "<domain><metadata><guardian xmlns='https://virtkit.dev/xmlns/guardian/1' io-error='sometimes'/></metadata></domain>")
        }
        #expect(throws: GuardianPolicyError.self) {
            try GuardianGuestPolicy(domainXML: "<domain><metadata><guardian xmlns='https://virtkit.dev/xmlns/guardian/1' ioerror='leave'/></metadata></domain>")
        }
    }

    @Test func decisionRecordsEncodeWithStableKeys() throws {
        var d = Driver()
        d.feed(.observed(Self.vm, .paused(.ioError), diskErrors: [GuardianDiskError(disk: "vda", kind: .noSpace)]))
        d.feed(.healthChecked(Self.vm, Self.failing))
        let rec = try #require(d.records.last)
        let data = try rec.jsonLine()
        let text = String(decoding: data, as: UTF8.self)
        for key in ["\"guest\"", "\"trigger\":\"io-error\"", "\"action\":\"wait\"", "\"outcome\"", "\"checks\"", "\"diskErrors\"", "\"ENOSPC\"", "\"retryInSeconds\""] {
            #expect(text.contains(key), "\(key) in \(text)")
        }
        #expect(try GuardianDecision(jsonLine: data) == rec)
    }
}

/// A seeded linear congruential generator (Knuth's MMIX constants): reproducible jitter.
struct TestRandom: RandomNumberGenerator, Sendable {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state ^ (state >> 29)
    }
}
