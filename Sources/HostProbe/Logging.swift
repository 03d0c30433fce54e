import VirtLogging

/// HostProbe's log messages, label `virtkit.hostprobe`: sections that cannot be read.
/// Silent until the application calls `VirtKitLogging.enable()`.
let log = ModuleLogger(label: "virtkit.hostprobe")
