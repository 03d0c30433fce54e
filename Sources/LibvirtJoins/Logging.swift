import VirtLogging

/// LibvirtJoins's log messages, label `virtkit.joins`: guests located (QEMU PID, cgroups) and definitions redefined.
/// Silent until the application calls `VirtKitLogging.enable()`.
let log = ModuleLogger(label: "virtkit.joins")
