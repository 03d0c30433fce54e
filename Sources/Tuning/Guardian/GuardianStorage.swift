import VirtCore
import DomainXML

/// One layer of a guest disk's storage (the top image or one of its backing images), as the
/// guest's live domain XML describes it: what the health checks look at.
public struct GuardianDiskLayer: Hashable, Sendable, CustomStringConvertible {
    /// A network server as libvirt describes it (`<host name port transport socket>`).
    public struct Host: Hashable, Sendable {
        public var name: String?
        public var port: Int?
        /// `tcp` (default), `unix` or `rdma`.
        public var transport: String?
        public var socket: String?
        public init(name: String? = nil, port: Int? = nil, transport: String? = nil, socket: String? = nil) {
            self.name = name
            self.port = port
            self.transport = transport
            self.socket = socket
        }
    }

    public enum Source: Hashable, Sendable {
        case file(path: String)
        case block(path: String)
        /// `<source protocol name>` with its hosts; `tls` when `tls='yes'`.
        case network(protocol: String, name: String?, hosts: [Host], tls: Bool)
        /// A source the guardian cannot check (`dir`, `volume`, `nvme`, `vhostuser`, …).
        case unsupported(String)
    }

    /// The disk's target (`vda`).
    public var disk: String
    /// 0 for the image the guest writes to, 1… for its backing chain.
    public var depth: Int
    public var source: Source
    /// The guest writes here (top layer of a disk that is not read-only).
    public var writable: Bool

    public init(disk: String, depth: Int, source: Source, writable: Bool) {
        self.disk = disk
        self.depth = depth
        self.source = source
        self.writable = writable
    }

    /// The checked thing, for records: a path or a URI such as `nbd://127.0.0.1:10852/export`.
    public var subject: String {
        switch source {
        case .file(let p), .block(let p): return p
        case .unsupported(let what): return what
        case .network(let proto, let name, let hosts, _):
            guard let h = hosts.first else { return "\(proto):\(name ?? "")" }
            if h.transport == "unix" {
                return "\(proto)+unix:///\(name ?? "")?socket=\(h.socket ?? "")"
            }
            let port = h.port ?? GuardianDiskLayer.defaultPort(proto) ?? 0
            let path = (name?.isEmpty ?? true) ? "" : "/" + (name ?? "")
            return "\(proto)://\(h.name ?? "localhost"):\(port)\(path)"
        }
    }

    public var description: String { "\(disk)[\(depth)] \(subject)" }

    /// The protocol's well-known port (NBD 10809, iSCSI 3260, RBD monitor 6789, …).
    public static func defaultPort(_ proto: String) -> Int? {
        switch proto {
        case "nbd": 10809
        case "iscsi": 3260
        case "rbd": 6789
        case "gluster": 24007
        case "sheepdog": 7000
        case "http": 80
        case "https": 443
        case "ftp": 21
        case "ftps": 990
        case "ssh": 22
        case "nfs": 2049
        default: nil
        }
    }

    /// Every layer of every disk with a source in a domain's (live) XML, top first, backing
    /// chain after. Empty drives (a CD-ROM without media) have no layers.
    public static func layers(domainXML: String) throws(TypedXMLError) -> [GuardianDiskLayer] {
        let domain = try DomainDefinition(parsing: domainXML)
        var out: [GuardianDiskLayer] = []
        for disk in domain.devices.disks {
            let target = disk.target.dev.raw ?? "?"
            let readOnly = try disk.readonly.value ?? false
            guard let top = try source(type: disk.type.value, disk.source) else { continue }
            out.append(GuardianDiskLayer(disk: target, depth: 0, source: top, writable: !readOnly))
            var backing = disk.backingStore
            var depth = 1
            while backing.exists, depth < 64 {
                if let s = try source(type: backing.type.value, backing.source) {
                    out.append(GuardianDiskLayer(disk: target, depth: depth, source: s, writable: false))
                }
                backing = backing.backingStore
                depth += 1
            }
        }
        return out
    }

    private static func source(type: DiskType?, _ s: DiskSource) throws(TypedXMLError) -> Source? {
        guard s.exists else { return nil }
        switch type ?? .file {
        case .file:
            guard let p = s.file.raw, !p.isEmpty else { return nil }
            return .file(path: p)
        case .block:
            guard let p = s.dev.raw, !p.isEmpty else { return nil }
            return .block(path: p)
        case .network:
            let proto = s.protocol.raw ?? "?"
            let hosts = s.hosts.map { h in
                Host(name: h.name.raw, port: h.port.raw.flatMap { Int($0) }, transport: h.transport.raw, socket: h.socket.raw)
            }
            return .network(protocol: proto, name: s.name.raw, hosts: hosts, tls: s.tls.raw == "yes")
        case .dir: return .unsupported("dir:\(s.dir.raw ?? "")")
        case .volume: return .unsupported("volume:\(s.pool.raw ?? "")/\(s.volume.raw ?? "")")
        case .nvme: return .unsupported("nvme")
        case .vhostuser: return .unsupported("vhostuser:\(s.path.raw ?? "")")
        case .other(let t): return .unsupported(t)
        }
    }
}
