import Logging
import Synchronization

/// The switch for VirtKit's log messages (swift-log).
///
/// Every library module logs through its own `ModuleLogger` (`virtkit.libvirt`,
/// `virtkit.cgroup`, …) what an operator wants to see: connections opened and lost,
/// reconnects, event registrations, cgroup writes and rollbacks. Nothing is logged until the
/// application turns it on: swift-log's default handler (used when nothing was bootstrapped)
/// writes to standard error, and a library must not print. While off, a log call costs one
/// atomic load; the message and metadata are never built.
///
/// ```swift
/// LoggingSystem.bootstrap(StreamLogHandler.standardError)
/// VirtKitLogging.enable()                 // VirtKit's loggers now use that handler
/// ```
public enum VirtKitLogging {
    private static let on = Atomic<Bool>(false)
    private static let state = Mutex<State>(State())

    private struct State {
        var factory: (@Sendable (String) -> Logger)?
        var loggers: [String: Logger] = [:]
    }

    /// Sends VirtKit's messages to the handlers `LoggingSystem` makes (bootstrap it first).
    public static func enable() {
        enable { Logger(label: $0) }
    }

    /// Sends VirtKit's messages to loggers made by `makeLogger` (one per module label), e.g.
    /// with a handler of your own without bootstrapping the whole process.
    public static func enable(_ makeLogger: @escaping @Sendable (String) -> Logger) {
        state.withLock {
            $0.factory = makeLogger
            $0.loggers = [:]
        }
        on.store(true, ordering: .releasing)
    }

    /// Silences VirtKit again.
    public static func disable() {
        on.store(false, ordering: .releasing)
        state.withLock { $0 = State() }
    }

    public static var isEnabled: Bool { on.load(ordering: .acquiring) }

    /// The logger for `label`, nil while logging is off.
    static func logger(_ label: String) -> Logger? {
        guard on.load(ordering: .acquiring) else { return nil }
        return state.withLock { s in
            if let l = s.loggers[label] { return l }
            guard let make = s.factory else { return nil }
            let l = make(label)
            s.loggers[label] = l
            return l
        }
    }
}

/// One module's logger (label `virtkit.<module>`), silent until `VirtKitLogging.enable()`.
public struct ModuleLogger: Sendable {
    public let label: String

    public init(label: String) { self.label = label }

    /// The logger, nil while VirtKit logging is off.
    public var logger: Logger? { VirtKitLogging.logger(label) }

    public func log(
        level: Logger.Level, _ message: @autoclosure () -> Logger.Message, metadata: @autoclosure () -> Logger.Metadata? = nil,
        file: String = #fileID, function: String = #function, line: UInt = #line
    ) {
        guard let l = logger, l.logLevel <= level else { return }
        l.log(level: level, message(), metadata: metadata(), source: label, file: file, function: function, line: line)
    }

    public func debug(_ message: @autoclosure () -> Logger.Message, metadata: @autoclosure () -> Logger.Metadata? = nil,
                      file: String = #fileID, function: String = #function, line: UInt = #line) {
        log(level: .debug, message(), metadata: metadata(), file: file, function: function, line: line)
    }

    public func info(_ message: @autoclosure () -> Logger.Message, metadata: @autoclosure () -> Logger.Metadata? = nil,
                     file: String = #fileID, function: String = #function, line: UInt = #line) {
        log(level: .info, message(), metadata: metadata(), file: file, function: function, line: line)
    }

    public func warning(_ message: @autoclosure () -> Logger.Message, metadata: @autoclosure () -> Logger.Metadata? = nil,
                        file: String = #fileID, function: String = #function, line: UInt = #line) {
        log(level: .warning, message(), metadata: metadata(), file: file, function: function, line: line)
    }
}
