import Foundation
import VirtCore

// The JSON contract of `virtkit plan` (issue #12): the request file and the `--json` answer.
// Keys are fixed; unknown keys and unknown spellings are errors, not ignored.

extension PlacementRequest {
    private static let batchKeys: Set<String> = ["reservedCPUs", "guests"]
    private static let guestKeys: Set<String> = [
        "name", "vcpus", "memoryMiB", "cpuPolicy", "threadPolicy", "emulatorThreads", "iothreads", "numaNodes",
        "hugepageSize", "pciDevices",
    ]
    private static let deviceKeys: Set<String> = ["address", "affinity"]

    /// Reads a request file: `{"reservedCPUs": "0-1", "guests": [{"name": "db1", "vcpus": 8,
    /// "memoryMiB": 16384, "cpuPolicy": "dedicated", "threadPolicy": "prefer",
    /// "emulatorThreads": "isolate", "numaNodes": 1, "hugepageSize": "2M"}]}`. Only `name`,
    /// `vcpus` and `memoryMiB` are required.
    public init(json data: Data) throws(PlacementRequestError) {
        let root: JSONValue
        do { root = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw PlacementRequestError(guest: nil, reason: .malformed("not valid JSON"))
        }
        guard case .object(let object) = root else {
            throw PlacementRequestError(guest: nil, reason: .malformed("the request must be a JSON object"))
        }
        try Self.rejectUnknown(object, allowed: Self.batchKeys, guest: nil)
        var reserved = CPUSet()
        if let text = object["reservedCPUs"] {
            guard case .string(let s) = text, let set = try? CPUSet(parsing: s, allowEmpty: true) else {
                throw PlacementRequestError(guest: nil, reason: .invalidValue(key: "reservedCPUs", value: "\(text)", expected: "a CPU list such as \"0-1\""))
            }
            reserved = set
        }
        guard let list = object["guests"] else { throw PlacementRequestError(guest: nil, reason: .missingKey("guests")) }
        guard case .array(let guests) = list else {
            throw PlacementRequestError(guest: nil, reason: .invalidValue(key: "guests", value: "\(list)", expected: "an array"))
        }
        var parsed: [GuestPlacementRequest] = []
        for (i, item) in guests.enumerated() {
            guard case .object(let g) = item else {
                throw PlacementRequestError(guest: nil, reason: .malformed("guests[\(i)] is not an object"))
            }
            parsed.append(try Self.guest(g, index: i))
        }
        self.init(reservedCPUs: reserved, guests: parsed)
    }

    private static func rejectUnknown(_ object: [String: JSONValue], allowed: Set<String>, guest: String?) throws(PlacementRequestError) {
        if let key = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw PlacementRequestError(guest: guest, reason: .unknownKey(key))
        }
    }

    private static func guest(_ g: [String: JSONValue], index: Int) throws(PlacementRequestError) -> GuestPlacementRequest {
        guard let nameValue = g["name"] else { throw PlacementRequestError(guest: "guests[\(index)]", reason: .missingKey("name")) }
        guard case .string(let name) = nameValue else {
            throw PlacementRequestError(guest: "guests[\(index)]", reason: .invalidValue(key: "name", value: "\(nameValue)", expected: "a string"))
        }
        try rejectUnknown(g, allowed: guestKeys, guest: name)
        func fail(_ r: PlacementRequestError.Reason) -> PlacementRequestError { PlacementRequestError(guest: name, reason: r) }
        func integer(_ key: String) throws(PlacementRequestError) -> Int? {
            guard let v = g[key] else { return nil }
            guard case .integer(let i) = v else { throw fail(.invalidValue(key: key, value: "\(v)", expected: "an integer")) }
            return i
        }
        func choice<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type) throws(PlacementRequestError) -> E? where E.RawValue == String {
            guard let v = g[key] else { return nil }
            guard case .string(let s) = v, let e = E(rawValue: s) else {
                throw fail(.invalidValue(key: key, value: "\(v)", expected: E.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")))
            }
            return e
        }
        guard let vcpus = try integer("vcpus") else { throw fail(.missingKey("vcpus")) }
        guard let mib = try integer("memoryMiB") else { throw fail(.missingKey("memoryMiB")) }
        guard mib >= 0 else { throw fail(.invalidValue(key: "memoryMiB", value: "\(mib)", expected: "a non-negative integer")) }
        var request = GuestPlacementRequest(name: name, vcpus: vcpus, memory: .mebibytes(UInt64(mib)))
        request.cpuPolicy = try choice("cpuPolicy", PlacementCPUPolicy.self) ?? .dedicated
        request.threadPolicy = try choice("threadPolicy", PlacementThreadPolicy.self) ?? .prefer
        request.emulatorThreads = try choice("emulatorThreads", EmulatorThreadsPolicy.self) ?? .share
        request.iothreads = try integer("iothreads") ?? 0
        request.numaNodes = try integer("numaNodes")
        if let v = g["hugepageSize"] {
            guard case .string(let s) = v, let size = try? MemorySize(parsing: s, defaultUnit: .KiB), size.bytes > 0 else {
                throw fail(.invalidValue(key: "hugepageSize", value: "\(v)", expected: "a page size such as \"2M\" or \"1G\""))
            }
            request.hugepageSize = size
        }
        if let v = g["pciDevices"] {
            guard case .array(let list) = v else { throw fail(.invalidValue(key: "pciDevices", value: "\(v)", expected: "an array")) }
            for item in list {
                guard case .object(let d) = item else { throw fail(.invalidValue(key: "pciDevices", value: "\(item)", expected: "objects")) }
                try rejectUnknown(d, allowed: deviceKeys, guest: name)
                guard case .string(let address)? = d["address"] else { throw fail(.missingKey("pciDevices.address")) }
                var affinity = PCIAffinity.required
                if let a = d["affinity"] {
                    guard case .string(let s) = a, let parsed = PCIAffinity(rawValue: s) else {
                        throw fail(.invalidValue(key: "affinity", value: "\(a)", expected: "'required', 'preferred'"))
                    }
                    affinity = parsed
                }
                request.pciDevices.append(PCIDeviceRequest(address: address, affinity: affinity))
            }
        }
        return request
    }
}

/// A JSON value that keeps booleans, integers, fractions and strings apart (so `true` or
/// `1.5` is never taken for a count).
enum JSONValue: Decodable, CustomStringConvertible {
    case null, bool(Bool), integer(Int), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .integer(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    var description: String {
        switch self {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .integer(let i): "\(i)"
        case .number(let d): "\(d)"
        case .string(let s): "\"\(s)\""
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// `virtkit plan --json` output: `{"placements": [...], "unplaced": [{"name", "reason"}]}`,
/// CPU and node sets in libvirt list syntax.
public struct PlacementReport: Encodable, Sendable, Hashable {
    public struct Pin: Encodable, Sendable, Hashable {
        /// One host CPU (dedicated) as a number; a set (shared) as a list string.
        public var cpus: CPUSet
        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            if cpus.count == 1, let only = cpus.min { try c.encode(only) } else { try c.encode(cpus.listString) }
        }
    }

    public struct Cell: Encodable, Sendable, Hashable {
        public var id: Int
        public var vcpus: String
        public var memoryMiB: UInt64
        public var hostNode: Int
    }

    public struct Entry: Encodable, Sendable, Hashable {
        public var name: String
        public var cpuPolicy: String
        public var vcpuPins: [String: Pin]
        public var emulatorPin: String
        public var iothreadPins: [String: String]
        public var memoryNodes: String
        public var cells: [Cell]
        public var topology: PlannedCPUTopology
        public var hugepageSize: String?
        public var domainXML: PlacementXMLFragments
    }

    public struct Unplaced: Encodable, Sendable, Hashable {
        public var name: String
        public var reason: String
    }

    public struct PoolGrowth: Encodable, Sendable, Hashable {
        public var node: Int
        public var pageSize: String
        public var pages: UInt64
    }

    public var placements: [Entry]
    public var unplaced: [Unplaced]
    /// Huge page pools to grow (only with `--grow-hugepages`).
    public var hugepagePoolGrowth: [PoolGrowth]

    public init(_ plan: PlacementPlan) {
        placements = plan.placements.map { p in
            Entry(
                name: p.name, cpuPolicy: p.cpuPolicy.rawValue,
                vcpuPins: Dictionary(uniqueKeysWithValues: p.vcpuPins.enumerated().map { ("\($0.offset)", Pin(cpus: $0.element)) }),
                emulatorPin: p.emulatorPin.listString,
                iothreadPins: Dictionary(uniqueKeysWithValues: p.iothreadPins.enumerated().map { ("\($0.offset + 1)", $0.element.listString) }),
                memoryNodes: p.memoryNodes.listString,
                cells: p.cells.map { Cell(id: $0.id, vcpus: $0.vcpus.listString, memoryMiB: $0.memory.bytes >> 20, hostNode: $0.hostNode) },
                topology: p.topology, hugepageSize: p.hugepageSize?.description, domainXML: p.domainXMLFragments)
        }
        unplaced = plan.unplaced.map { Unplaced(name: $0.name, reason: $0.reason.description) }
        hugepagePoolGrowth = plan.hugepagePoolGrowth.map { PoolGrowth(node: $0.node, pageSize: $0.pageSize.description, pages: $0.pages) }
    }
}
