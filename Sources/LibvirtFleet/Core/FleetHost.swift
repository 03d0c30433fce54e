import Foundation
import VirtCore

/// One libvirt host of a fleet: a name (unique in the fleet) and how to reach it.
///
/// Credentials are what `virConnectOpenAuth` without a callback can use: the user and SSH key
/// of a `qemu+ssh://` URI, and the client certificates of a `qemu+tls://` URI (libvirt's
/// `pkipath`, `no_verify`, `tls_priority` URI parameters). Passwords need an interactive
/// callback and are not supported: use keys or certificates.
public struct FleetHost: Sendable, Hashable, Codable, CustomStringConvertible {
    /// How the client side of a TLS connection finds and checks certificates.
    public struct TLSSettings: Sendable, Hashable, Codable {
        /// Folder with `cacert.pem`, `clientcert.pem`, `clientkey.pem` (libvirt's `pkipath`);
        /// nil: libvirt's default (`/etc/pki/CA`, `/etc/pki/libvirt`).
        public var pkiPath: String?
        /// Check the server's certificate (libvirt's `no_verify=1` when false).
        public var verify: Bool
        /// GnuTLS priority string (`tls_priority`); nil: libvirt's default.
        public var priority: String?

        public init(pkiPath: String? = nil, verify: Bool = true, priority: String? = nil) {
            self.pkiPath = pkiPath
            self.verify = verify
            self.priority = priority
        }
    }

    /// The host's name in the fleet (results and the CLI use it).
    public var name: String
    /// The libvirt URI as given (`qemu+tls://host/system`, `qemu+ssh://root@host/system`, …).
    public var uri: String
    /// Open read-only (`VIR_CONNECT_RO`): enough for inventory and preflight.
    public var readOnly: Bool
    /// SSH user (only when the URI has none).
    public var user: String?
    /// SSH private key (`keyfile` parameter of `qemu+ssh://`).
    public var sshKeyFile: String?
    /// TLS client settings (for `qemu+tls://` URIs).
    public var tls: TLSSettings?

    public init(name: String? = nil, uri: String, readOnly: Bool = false, user: String? = nil, sshKeyFile: String? = nil, tls: TLSSettings? = nil) {
        self.name = name ?? uri
        self.uri = uri
        self.readOnly = readOnly
        self.user = user
        self.sshKeyFile = sshKeyFile
        self.tls = tls
    }

    public var description: String { name == uri ? uri : "\(name) (\(uri))" }

    /// The URI handed to libvirt: `uri` with the user and the key/TLS parameters added.
    ///
    /// - Throws: `FleetError.invalidURI` when `uri` has no scheme.
    public func connectionURI() throws(FleetError) -> String {
        guard var parts = URLComponents(string: uri), let scheme = parts.scheme, !scheme.isEmpty else {
            throw .invalidURI(uri)
        }
        if let user, parts.user == nil { parts.user = user }
        var items = parts.queryItems ?? []
        func add(_ name: String, _ value: String?) {
            guard let value, !items.contains(where: { $0.name == name }) else { return }
            items.append(URLQueryItem(name: name, value: value))
        }
        add("keyfile", sshKeyFile)
        if let tls {
            add("pkipath", tls.pkiPath)
            add("no_verify", tls.verify ? nil : "1")
            add("tls_priority", tls.priority)
        }
        parts.queryItems = items.isEmpty ? nil : items
        // URLComponents drops the empty authority of `test:///PATH` / `qemu:///system`:
        // put the `//` back so libvirt sees the same URI.
        guard var out = parts.string else { throw .invalidURI(uri) }
        if uri.hasPrefix("\(scheme)://"), !out.hasPrefix("\(scheme)://") {
            out = "\(scheme)://" + out.dropFirst(scheme.count + 1)
        }
        return out
    }
}

/// Fleet-level errors (per-host libvirt failures stay `LibvirtError`s).
public enum FleetError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Two hosts with the same name.
    case duplicateHost(String)
    /// No host of that name in the fleet.
    case unknownHost(String)
    /// The URI cannot be parsed.
    case invalidURI(String)
    /// The host's last connection attempts failed; the next one is allowed after `retryIn`.
    case reconnectBackoff(retryIn: Duration, attempts: Int, lastError: String)
    /// The host was removed from the fleet while the call waited.
    case hostRemoved(String)
    /// The fleet was shut down.
    case shutDown
    /// A config file that cannot be used.
    case invalidConfig(path: String, reason: String)
    /// The source host of a preflight did not answer within the deadline.
    case sourceTimedOut(String)
    /// A drain needs read-write connections, and the host is configured read-only.
    case readOnlyHost(String)

    public var description: String {
        switch self {
        case .duplicateHost(let n): "host '\(n)' is in the fleet twice"
        case .unknownHost(let n): "no host '\(n)' in the fleet"
        case .invalidURI(let u): "invalid libvirt URI '\(u)'"
        case .reconnectBackoff(let d, let n, let e): "not reconnecting for another \(d.humanReadable) after \(n) failed attempt(s): \(e)"
        case .hostRemoved(let n): "host '\(n)' was removed from the fleet"
        case .shutDown: "the fleet was shut down"
        case .invalidConfig(let p, let r): "fleet config \(p): \(r)"
        case .sourceTimedOut(let n): "source host '\(n)' did not answer within the deadline"
        case .readOnlyHost(let n): "host '\(n)' is read-only: a drain migrates guests (configure it with readOnly false)"
        }
    }
}

// Decoding with defaults (config files): a missing name is the URI, readOnly false, verify true.
extension FleetHost {
    enum CodingKeys: String, CodingKey { case name, uri, readOnly, user, sshKeyFile, tls }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let uri = try c.decode(String.self, forKey: .uri)
        self.init(
            name: try c.decodeIfPresent(String.self, forKey: .name), uri: uri,
            readOnly: try c.decodeIfPresent(Bool.self, forKey: .readOnly) ?? false,
            user: try c.decodeIfPresent(String.self, forKey: .user), sshKeyFile: try c.decodeIfPresent(String.self, forKey: .sshKeyFile),
            tls: try c.decodeIfPresent(TLSSettings.self, forKey: .tls))
    }
}

extension FleetHost.TLSSettings {
    enum CodingKeys: String, CodingKey { case pkiPath, verify, priority }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(pkiPath: try c.decodeIfPresent(String.self, forKey: .pkiPath), verify: try c.decodeIfPresent(Bool.self, forKey: .verify) ?? true,
                  priority: try c.decodeIfPresent(String.self, forKey: .priority))
    }
}
