import VirtCore

extension GuardianAlert {
    /// The alert as a diagnosis finding (`guest.paused.resume-limit`, critical), so `advise`,
    /// the exporter's `virtkit_finding` and any other consumer of findings see it like the rest.
    public var finding: Finding {
        Finding(
            id: Finding.ID(rawValue: id), severity: Finding.Severity(rawValue: severity) ?? .critical,
            subject: .guest(GuestReference(uuid: guest.uuid, name: guest.name)),
            title: "\(guest.name) paused too often: the guardian stopped resuming it",
            explanation: explanation,
            evidence: evidence.map { Evidence("guardian", .text($0), from: .derived("guardian decision log")) },
            remedies: [Remedy(.manual(remedy), applies: .manual, remedy)],
            source: RuleSource("oVirt vdsm's auto-resume of I/O-error pauses, bounded by VirtKit's pause limit"))
    }
}
