// Stands in for a module's `Logging.swift` in the plain-swiftc fuzz builds (swift-log is a
// package, not available to swiftc alone): the same call shapes, doing nothing.
struct SilentModuleLogger {
    func debug(_ message: @autoclosure () -> String, metadata: @autoclosure () -> [String: String]? = nil) {}
    func info(_ message: @autoclosure () -> String, metadata: @autoclosure () -> [String: String]? = nil) {}
    func warning(_ message: @autoclosure () -> String, metadata: @autoclosure () -> [String: String]? = nil) {}
}

let log = SilentModuleLogger()
