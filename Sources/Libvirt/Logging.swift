import VirtLogging

/// Libvirt's log messages, label `virtkit.libvirt`: connections opened, failed, closed and lost; reconnects; domain event callbacks registered and deregistered; at debug, every error libvirt reports (instead of its stderr print) and each fallback to a classic call.
/// Silent until the application calls `VirtKitLogging.enable()`.
let log = ModuleLogger(label: "virtkit.libvirt")
