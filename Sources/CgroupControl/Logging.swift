import VirtLogging

/// CgroupControl's log messages, label `virtkit.cgroup`: every cgroup write (file, value, previous value), failed writes and rollbacks.
/// Silent until the application calls `VirtKitLogging.enable()`.
let log = ModuleLogger(label: "virtkit.cgroup")
