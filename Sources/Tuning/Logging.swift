import VirtLogging

/// Tuning's log messages, label `virtkit.tuning`: plans applied and rolled back.
/// Silent until the application calls `VirtKitLogging.enable()`.
let log = ModuleLogger(label: "virtkit.tuning")
