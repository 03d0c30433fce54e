import Libvirt
import LosslessXML
import VirtCore

/// What the destination has under a name a guest needs: a libvirt network, a host bridge, a
/// storage pool or a volume at a disk's path.
public struct FleetResourceSighting: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum State: String, Sendable, Hashable, Codable {
        /// Exists and is active (a network started, an interface up, a volume in an active pool).
        case active
        /// Defined but not active.
        case inactive
        /// The destination says there is none (`VIR_ERR_NO_NETWORK`, `NO_INTERFACE`, `NO_STORAGE_VOL`, `NO_STORAGE_POOL`).
        case missing
        /// It exists but cannot serve (a host interface of that name that is not a bridge: `detail`).
        case unsuitable
        /// The lookup failed otherwise (`detail` has libvirt's error): nothing is claimed.
        case notChecked
    }

    public var state: State
    /// What was found: a network's bridge, a volume's pool.
    public var detail: String?
    /// For storage: the pool holding the volume, its type (`dir`, `netfs`, …) and source
    /// (`host:/dir`, a device), and the volume's capacity.
    public var pool: String?
    public var poolType: String?
    public var poolSource: String?
    public var capacity: MemorySize?

    public init(state: State, detail: String? = nil, pool: String? = nil, poolType: String? = nil, poolSource: String? = nil, capacity: MemorySize? = nil) {
        self.state = state
        self.detail = detail
        self.pool = pool
        self.poolType = poolType
        self.poolSource = poolSource
        self.capacity = capacity
    }

    /// Pool types whose volumes every host with the same pool source reaches (network file
    /// systems, SAN and network block storage). `dir`, `fs`, `logical`, `disk`, `zfs` are local.
    public static let sharedPoolTypes: Set<String> = ["netfs", "gluster", "rbd", "iscsi", "iscsi-direct", "sheepdog", "vstorage", "mpath", "scsi"]

    /// The volume is in a pool of a shared type.
    public var isSharedStorage: Bool { state == .active && poolType.map(Self.sharedPoolTypes.contains) == true }

    public var description: String {
        var s = state.rawValue
        if let pool { s += " in pool \(pool)" + (poolType.map { " (\($0)" + (poolSource.map { " \($0)" } ?? "") + ")" } ?? "") }
        if let capacity { s += ", capacity \(capacity.humanReadable)" }
        if let detail { s += pool == nil ? " (\(detail))" : ", \(detail)" }
        return s
    }
}

/// The destination's side of the network and storage checks, looked up by name and path.
public struct FleetDestinationResources: Sendable, Hashable, Codable {
    /// Per libvirt network the guest's interfaces name.
    public var networks: [String: FleetResourceSighting]
    /// Per host bridge the guest's interfaces name (`virInterfaceLookupByName`).
    public var bridges: [String: FleetResourceSighting]
    /// Per disk: its path (`virStorageVolLookupByPath`) or `pool/volume`.
    public var storage: [String: FleetResourceSighting]

    public init(networks: [String: FleetResourceSighting] = [:], bridges: [String: FleetResourceSighting] = [:], storage: [String: FleetResourceSighting] = [:]) {
        self.networks = networks
        self.bridges = bridges
        self.storage = storage
    }

    /// Looks up on `connection` what `guest` needs: its networks, bridges, and the storage of
    /// each disk that is not network storage.
    public static func lookUp(for guest: GuestMigrationFacts, over connection: Connection) async -> FleetDestinationResources {
        var out = FleetDestinationResources()
        for name in guest.networks where out.networks[name] == nil {
            out.networks[name] = await sighting(missing: .noNetwork) {
                let n = try await connection.network(named: name)
                let active = try await n.isActive()
                return FleetResourceSighting(state: active ? .active : .inactive, detail: (try? await n.bridgeName()).map { "bridge \($0)" })
            }
        }
        for name in guest.bridges where out.bridges[name] == nil {
            out.bridges[name] = await sighting(missing: .noInterface) {
                let i = try await connection.hostInterface(named: name)
                let type = (try? LosslessXMLDocument(parsing: try await i.xmlDescription()))?.root.attribute("type")
                if let type, type != "bridge" { return FleetResourceSighting(state: .unsuitable, detail: "\(type) interface, not a bridge") }
                return FleetResourceSighting(state: try await i.isActive() ? .active : .inactive, detail: i.mac.map { "mac \($0)" })
            }
        }
        for d in guest.disks where !d.isEmpty && !d.isSharedByNature {
            if let volume = d.volume, let slash = volume.firstIndex(of: "/") {
                let poolName = String(volume[..<slash]), volName = String(volume[volume.index(after: slash)...])
                out.storage[volume] = await sighting(missing: .noStoragePool) {
                    let pool = try await connection.storagePool(named: poolName)
                    var s = try await describe(pool: pool)
                    guard s.state == .active else { return s }
                    do {
                        s.capacity = try await pool.volume(named: volName).info().capacity
                    } catch let e as LibvirtError where e.code == .noStorageVol {
                        s.state = .missing
                        s.detail = "no volume \(volName)"
                    }
                    return s
                }
            } else if let path = d.path {
                out.storage[path] = await sighting(missing: .noStorageVol) {
                    let vol = try await connection.storageVolume(path: path)
                    var s = try await describe(pool: try await vol.pool())
                    s.capacity = try? await vol.info().capacity
                    return s
                }
            }
        }
        return out
    }

    /// A pool's name, state, type and source.
    static func describe(pool: StoragePool) async throws -> FleetResourceSighting {
        let active = try await pool.isActive()
        let (type, source) = poolTypeAndSource(xml: try await pool.xmlDescription())
        return FleetResourceSighting(state: active ? .active : .inactive, pool: pool.name, poolType: type, poolSource: source)
    }

    /// `<pool type>` and where its storage comes from: `host:/dir`, a device path, a name.
    static func poolTypeAndSource(xml: String) -> (String?, String?) {
        guard let doc = try? LosslessXMLDocument(parsing: xml) else { return (nil, nil) }
        let src = doc.root.firstChild(named: "source")
        let host = src?.firstChild(named: "host")?.attribute("name")
        let place = src?.firstChild(named: "dir")?.attribute("path") ?? src?.firstChild(named: "device")?.attribute("path")
            ?? src?.firstChild(named: "name")?.text
        let source: String? = switch (host, place) {
        case let (h?, p?): "\(h):\(p)"
        case let (h?, nil): h
        case let (nil, p?): p
        case (nil, nil): nil
        }
        return (doc.root.attribute("type"), source)
    }

    private static func sighting(missing code: LibvirtError.Code, _ body: () async throws -> FleetResourceSighting) async -> FleetResourceSighting {
        do {
            return try await body()
        } catch let e as LibvirtError where e.code == code {
            return FleetResourceSighting(state: .missing)
        } catch {
            return FleetResourceSighting(state: .notChecked, detail: "\(error)")
        }
    }
}
