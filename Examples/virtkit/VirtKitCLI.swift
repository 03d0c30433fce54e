import ArgumentParser

/// `virtkit`: the operator's front end to VirtKit. Each issue adds its subcommands in
/// its own file; this root only lists them.
@main
struct VirtKitCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "virtkit",
        abstract: "Inspect and reconfigure KVM hosts and guests.",
        subcommands: [
            // Libvirt (foundation)
            NodeCommand.self, HostCommand.self, DomainsCommand.self, StatsCommand.self, ReportCommand.self,
            // DomainXML
            XMLCommand.self,
            // HostProbe
            ProbeCommand.self, ValidateCommand.self, SampleCommand.self,
            // CgroupControl
            CgroupCommand.self,
            // Events, migration, lab
            EventsCommand.self, MigrateCommand.self, LabCommand.self, ConsoleCommand.self,
            // Tuning: placement
            PlanCommand.self, RollbackCommand.self,
            // Tuning: diagnosis
            AdviseCommand.self, DoctorCommand.self,
            // Tuning: guardian
            GuardCommand.self,
            // Fleet
            FleetCommand.self,
            // Libvirt objects and daemon administration (#13)
            PoolCommand.self, VolumeCommand.self, NetCommand.self, NodeDevCommand.self, SnapshotCommand.self,
            AttachCommand.self, DetachCommand.self, AdminCommand.self,
        ]
    )
}
