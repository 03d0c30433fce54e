import Foundation

/// A small fleet config file (JSON):
///
/// ```json
/// {"concurrency": 8, "deadlineSeconds": 10,
///  "hosts": [{"name": "b", "uri": "qemu+tls://b.example/system", "readOnly": true,
///             "tls": {"pkiPath": "/etc/virtkit/pki", "verify": true}},
///            {"uri": "qemu+ssh://c.example/system", "user": "ops", "sshKeyFile": "/root/.ssh/id_ed25519"}]}
/// ```
/// A host without `name` is named by its URI; `readOnly` defaults to false.
public struct FleetConfiguration: Sendable, Hashable, Codable {
    public var hosts: [FleetHost]
    public var concurrency: Int?
    public var deadlineSeconds: Double?

    public init(hosts: [FleetHost], concurrency: Int? = nil, deadlineSeconds: Double? = nil) {
        self.hosts = hosts
        self.concurrency = concurrency
        self.deadlineSeconds = deadlineSeconds
    }

    /// Parses a config document; `path` names it in errors.
    public init(json: Data, path: String = "<config>") throws(FleetError) {
        do {
            self = try JSONDecoder().decode(FleetConfiguration.self, from: json)
        } catch let e as FleetError {
            throw e
        } catch {
            throw .invalidConfig(path: path, reason: Self.describe(error))
        }
        var seen = Set<String>()
        for h in hosts {
            guard seen.insert(h.name).inserted else { throw .duplicateHost(h.name) }
            _ = try h.connectionURI()
        }
        if let c = concurrency, c < 1 { throw .invalidConfig(path: path, reason: "concurrency must be at least 1, not \(c)") }
        if let d = deadlineSeconds, !(d > 0 && d.isFinite) { throw .invalidConfig(path: path, reason: "deadlineSeconds must be positive, not \(d)") }
    }

    /// Reads and parses the file at `path`.
    public static func load(path: String) throws(FleetError) -> FleetConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else { throw .invalidConfig(path: path, reason: "cannot read the file") }
        return try FleetConfiguration(json: data, path: path)
    }

    /// Options with this file's concurrency and deadline over `base`.
    public func options(over base: Fleet.Options = Fleet.Options()) -> Fleet.Options {
        var o = base
        if let c = concurrency { o.concurrency = c }
        if let d = deadlineSeconds { o.deadline = .milliseconds(Int64(d * 1000)) }
        return o
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, let ctx)?: "missing '\(key.stringValue)' at \(path(ctx))"
        case .typeMismatch(_, let ctx)?, .valueNotFound(_, let ctx)?, .dataCorrupted(let ctx)?: "\(ctx.debugDescription) at \(path(ctx))"
        default: "\(error)"
        }
    }

    private static func path(_ ctx: DecodingError.Context) -> String {
        ctx.codingPath.isEmpty ? "top level" : ctx.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}
