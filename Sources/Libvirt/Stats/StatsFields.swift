import CLibvirt
import Foundation

/// One named statistic libvirt reported that has no typed field here (kept, not lost).
public struct StatsField: Hashable, Sendable {
    public var name: String
    public var value: TypedValue

    public init(name: String, value: TypedValue) {
        self.name = name
        self.value = value
    }
}

/// The fields of a record without a typed home (iothread, dirty rate, KVM `vm.*` and
/// per-vCPU hypervisor counters, fields of newer libvirt versions), in libvirt's order.
///
/// A qemu guest reports ~40 such counters per vCPU, about 80 % of a call's fields, and
/// most callers never read them. So the decoder copies them out of the C records
/// (before `virDomainStatsRecordListFree`) as compact bytes — name, C type tag and the
/// 8-byte value, or the string's bytes — into one buffer per record, and a `StatsField`
/// (with its `String` name and `TypedValue`) is only made when an element is read.
/// Nothing is lost: every element gives exactly the name, type and value libvirt
/// reported. Copies share the buffer until one of them is appended to.
///
/// Equality and hashing compare the encoded fields (so two `.double(.nan)` values compare
/// equal here, unlike `TypedValue ==`).
public struct StatsFields: RandomAccessCollection, Hashable, Sendable {
    /// Shared by copies of this value (internal for tests). `nonisolated(unsafe)`: the
    /// storage is a `ManagedBuffer`, which can't be `Sendable`; it is only mutated while
    /// uniquely referenced (see `StatsFieldStorage`).
    nonisolated(unsafe) private(set) var storage: StatsFieldStorage?
    /// Entry numbers in `storage` that belong to this value.
    private var entries: Range<Int>

    public init() {
        storage = nil
        entries = 0..<0
    }

    init(storage: StatsFieldStorage, entries: Range<Int>) {
        self.storage = storage
        self.entries = entries
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { entries.count }

    /// The field at `position`, decoded now.
    public subscript(position: Int) -> StatsField {
        precondition(position >= 0 && position < entries.count, "StatsFields index out of range")
        // `storage` is non-nil whenever `entries` is non-empty.
        let e = storage.unsafelyUnwrapped.entry(entries.lowerBound + position)
        return StatsField(name: e.name, value: e.value)
    }

    /// The value of the first field named `name` (a linear scan comparing bytes; no
    /// `String` is made for the fields passed over).
    public subscript(name: String) -> TypedValue? {
        guard let storage, !entries.isEmpty else { return nil }
        var target = name
        return target.withUTF8 { t -> TypedValue? in
            for i in entries where storage.nameEquals(i, t) { return storage.entry(i).value }
            return nil
        }
    }

    /// Every field name, in order.
    public var names: [String] { map(\.name) }

    /// Appends a field (copies this value's fields to storage of its own first when the
    /// storage is shared with other records or full; capacities double, so appends are
    /// amortized O(1)).
    public mutating func append(_ field: StatsField) {
        var name = field.name
        name.withUTF8 { name in
            let nameBytes = UnsafeRawBufferPointer(name)
            field.value.withEncodedPayload { type, string, scalar in
                let size = StatsFieldEncoding.size(nameLength: nameBytes.count, string: string)
                if storage == nil || !isKnownUniquelyReferenced(&storage) || entries.upperBound != storage?.entryCount
                    || !(storage?.hasRoom(forBytes: size) ?? false) {
                    let used = storage.map { $0.bytes(of: entries).count } ?? 0
                    let own = StatsFieldStorage.make(entryCapacity: Swift.max(8, entries.count * 2), byteCapacity: Swift.max(256, (used + size) * 2))
                    if let storage { own.copyEntries(entries, from: storage) }
                    storage = own
                    entries = 0..<own.entryCount
                }
                storage.unsafelyUnwrapped.append { dst in
                    StatsFieldEncoding.write(dst, type: type, name: nameBytes, string: string, scalar: scalar)
                }
                entries = entries.lowerBound..<storage.unsafelyUnwrapped.entryCount
            }
        }
    }

    public static func == (a: StatsFields, b: StatsFields) -> Bool {
        guard a.entries.count == b.entries.count else { return false }
        guard let sa = a.storage, let sb = b.storage else { return true }  // both empty
        return sa.bytes(of: a.entries).elementsEqual(sb.bytes(of: b.entries))
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(entries.count)
        if let storage { hasher.combine(bytes: UnsafeRawBufferPointer(storage.bytes(of: entries))) }
    }
}

/// The one place that knows how an untyped field is encoded. Entry layout (unaligned,
/// native byte order): C type (`Int32`), name length (`UInt32`), name bytes, then the 8
/// bytes of the C value union (only the member of `type` written, the rest zero, so equal
/// fields are equal bytes: `==`/`hash` compare bytes), or for strings a `UInt32` length
/// and the bytes.
enum StatsFieldEncoding {
    static let stringType = Int32(VIR_TYPED_PARAM_STRING.rawValue)

    /// Bytes the entry takes (`string`: the value of a string field, nil for scalars).
    @inline(__always)
    static func size(nameLength: Int, string: UnsafeRawBufferPointer?) -> Int {
        8 + nameLength + (string.map { 4 + $0.count } ?? 8)
    }

    /// Writes an entry at `dst`; `scalar` stores a scalar's value into the 8 zeroed bytes
    /// it is given.
    @inline(__always)
    static func write(
        _ dst: UnsafeMutableRawPointer, type: Int32, name: UnsafeRawBufferPointer, string: UnsafeRawBufferPointer?,
        scalar: (UnsafeMutableRawPointer) -> Void
    ) {
        dst.storeBytes(of: type, as: Int32.self)
        dst.storeBytes(of: UInt32(truncatingIfNeeded: name.count), toByteOffset: 4, as: UInt32.self)
        if let n = name.baseAddress, name.count > 0 { (dst + 8).copyMemory(from: n, byteCount: name.count) }
        let payload = dst + 8 + name.count
        if let string {
            payload.storeBytes(of: UInt32(truncatingIfNeeded: string.count), as: UInt32.self)
            if let from = string.baseAddress, string.count > 0 { (payload + 4).copyMemory(from: from, byteCount: string.count) }
        } else {
            payload.storeBytes(of: 0, as: UInt64.self)
            scalar(payload)
        }
    }

    /// Stores the member of `p`'s value union that its type names (a type newer than
    /// libvirt 9 can't be read: its bytes stay zero).
    @inline(__always)
    static func storeScalar(of p: UnsafePointer<virTypedParameter>, into b: UnsafeMutableRawPointer) {
        let v = p.pointee.value
        switch p.pointee.type {
        case Int32(VIR_TYPED_PARAM_LLONG.rawValue), Int32(VIR_TYPED_PARAM_ULLONG.rawValue), Int32(VIR_TYPED_PARAM_DOUBLE.rawValue):
            b.storeBytes(of: v.ul, as: UInt64.self)
        case Int32(VIR_TYPED_PARAM_INT.rawValue), Int32(VIR_TYPED_PARAM_UINT.rawValue):
            b.storeBytes(of: v.ui, as: UInt32.self)
        case Int32(VIR_TYPED_PARAM_BOOLEAN.rawValue):
            b.storeBytes(of: v.b, as: CChar.self)
        default:
            break
        }
    }

    /// Decodes the entry at `b`.
    static func decode(_ b: UnsafeRawPointer) -> (name: String, value: TypedValue) {
        let type = b.loadUnaligned(as: Int32.self)
        let nameLength = Int(b.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let name = String(decoding: UnsafeRawBufferPointer(start: b + 8, count: nameLength), as: UTF8.self)
        let v = 8 + nameLength
        let value: TypedValue
        switch type {
        case Int32(VIR_TYPED_PARAM_INT.rawValue): value = .int(b.loadUnaligned(fromByteOffset: v, as: Int32.self))
        case Int32(VIR_TYPED_PARAM_UINT.rawValue): value = .uint(b.loadUnaligned(fromByteOffset: v, as: UInt32.self))
        case Int32(VIR_TYPED_PARAM_LLONG.rawValue): value = .llong(b.loadUnaligned(fromByteOffset: v, as: Int64.self))
        case Int32(VIR_TYPED_PARAM_ULLONG.rawValue): value = .ullong(b.loadUnaligned(fromByteOffset: v, as: UInt64.self))
        case Int32(VIR_TYPED_PARAM_DOUBLE.rawValue): value = .double(b.loadUnaligned(fromByteOffset: v, as: Double.self))
        case Int32(VIR_TYPED_PARAM_BOOLEAN.rawValue): value = .boolean(b.load(fromByteOffset: v, as: UInt8.self) != 0)
        case stringType:
            let length = Int(b.loadUnaligned(fromByteOffset: v, as: UInt32.self))
            value = .string(String(decoding: UnsafeRawBufferPointer(start: b + v + 4, count: length), as: UTF8.self))
        default: value = .unknownType(type)
        }
        return (name, value)
    }
}

extension TypedValue {
    /// This value as the encoding's C type, string bytes or scalar writer.
    fileprivate func withEncodedPayload<R>(_ body: (Int32, UnsafeRawBufferPointer?, (UnsafeMutableRawPointer) -> Void) -> R) -> R {
        switch self {
        case .int(let v): body(Int32(VIR_TYPED_PARAM_INT.rawValue), nil) { $0.storeBytes(of: v, as: Int32.self) }
        case .uint(let v): body(Int32(VIR_TYPED_PARAM_UINT.rawValue), nil) { $0.storeBytes(of: v, as: UInt32.self) }
        case .llong(let v): body(Int32(VIR_TYPED_PARAM_LLONG.rawValue), nil) { $0.storeBytes(of: v, as: Int64.self) }
        case .ullong(let v): body(Int32(VIR_TYPED_PARAM_ULLONG.rawValue), nil) { $0.storeBytes(of: v, as: UInt64.self) }
        case .double(let v): body(Int32(VIR_TYPED_PARAM_DOUBLE.rawValue), nil) { $0.storeBytes(of: v, as: Double.self) }
        case .boolean(let v): body(Int32(VIR_TYPED_PARAM_BOOLEAN.rawValue), nil) { $0.storeBytes(of: UInt8(v ? 1 : 0), as: UInt8.self) }
        case .unknownType(let t): body(t, nil) { _ in }
        case .string(var v): v.withUTF8 { u in body(StatsFieldEncoding.stringType, UnsafeRawBufferPointer(u)) { _ in } }
        }
    }
}

/// The encoded untyped fields of one stats record, in one allocation: a header, then the
/// entries' start offsets (`UInt32` × `entryCapacity`), then the entries back to back
/// (`StatsFieldEncoding`).
///
/// Not `Sendable` (no `ManagedBuffer` can be), but shared across threads safely: it is
/// mutable only while it is being filled before the record that references it is
/// returned, or through `StatsFields.append` when the value holds the only reference;
/// read-only afterwards.
final class StatsFieldStorage: ManagedBuffer<StatsFieldStorage.Header, UInt8> {
    struct Header {
        var entryCount = 0
        var byteCount = 0
        var entryCapacity: Int
        var byteCapacity: Int
    }

    /// Empty storage with room for `entryCapacity` entries of `byteCapacity` bytes in all.
    static func make(entryCapacity: Int, byteCapacity: Int) -> StatsFieldStorage {
        let buffer = create(minimumCapacity: entryCapacity * 4 + byteCapacity) { _ in
            Header(entryCapacity: entryCapacity, byteCapacity: byteCapacity)
        }
        return unsafeDowncast(buffer, to: StatsFieldStorage.self)
    }

    var entryCount: Int { header.entryCount }

    /// Start of the offsets and of the entries (valid while `self` is alive: tail storage
    /// never moves).
    @inline(__always)
    private var regions: (offsets: UnsafeMutablePointer<UInt32>, bytes: UnsafeMutableRawPointer) {
        withUnsafeMutablePointers { h, e in
            let raw = UnsafeMutableRawPointer(e)
            return (raw.assumingMemoryBound(to: UInt32.self), raw + h.pointee.entryCapacity * 4)
        }
    }

    func hasRoom(forBytes n: Int) -> Bool {
        header.entryCount < header.entryCapacity && header.byteCount + n <= header.byteCapacity
    }

    /// Appends an entry that `write` encodes (the caller checked `hasRoom`).
    func append(_ write: (UnsafeMutableRawPointer) -> Void) {
        let r = regions
        let o = header.byteCount
        r.offsets[header.entryCount] = UInt32(truncatingIfNeeded: o)
        write(r.bytes + o)
        header.entryCount += 1
        header.byteCount = o + Self.entrySize(at: r.bytes + o)
    }

    /// Fills empty storage with `count` entries (`offsets` from 0, `byteCount` bytes).
    func fill(offsets: UnsafePointer<UInt32>, count: Int, bytes: UnsafeRawPointer, byteCount: Int) {
        let r = regions
        r.offsets.update(from: offsets, count: count)
        r.bytes.copyMemory(from: bytes, byteCount: byteCount)
        header.entryCount = count
        header.byteCount = byteCount
    }

    /// Copies entries `range` of `other` (the copy-on-write path of `StatsFields.append`).
    func copyEntries(_ range: Range<Int>, from other: StatsFieldStorage) {
        guard !range.isEmpty else { return }
        let src = other.bytes(of: range)
        let r = regions, o = other.regions
        let shift = header.byteCount - Int(o.offsets[range.lowerBound])
        for (k, i) in range.enumerated() { r.offsets[header.entryCount + k] = UInt32(Int(o.offsets[i]) + shift) }
        if let from = src.baseAddress { (r.bytes + header.byteCount).copyMemory(from: from, byteCount: src.count) }
        header.entryCount += range.count
        header.byteCount += src.count
    }

    /// The encoded bytes of entries `range` (contiguous: entries are stored in order).
    func bytes(of range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        guard !range.isEmpty else { return UnsafeBufferPointer(start: nil, count: 0) }
        let r = regions
        let start = Int(r.offsets[range.lowerBound])
        let end = range.upperBound < header.entryCount ? Int(r.offsets[range.upperBound]) : header.byteCount
        return UnsafeBufferPointer(start: r.bytes.assumingMemoryBound(to: UInt8.self) + start, count: end - start)
    }

    /// Whether entry `i`'s name is exactly `name`.
    func nameEquals(_ i: Int, _ name: UnsafeBufferPointer<UInt8>) -> Bool {
        let r = regions
        let b = r.bytes + Int(r.offsets[i])
        guard Int(b.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) == name.count else { return false }
        guard let t = name.baseAddress else { return true }
        return memcmp(b + 8, t, name.count) == 0
    }

    /// Decodes entry `i`.
    func entry(_ i: Int) -> (name: String, value: TypedValue) {
        let r = regions
        return StatsFieldEncoding.decode(r.bytes + Int(r.offsets[i]))
    }

    /// The size of the encoded entry at `b`.
    private static func entrySize(at b: UnsafeRawPointer) -> Int {
        let nameLength = Int(b.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        guard b.loadUnaligned(as: Int32.self) == StatsFieldEncoding.stringType else { return 8 + nameLength + 8 }
        return 8 + nameLength + 4 + Int(b.loadUnaligned(fromByteOffset: 8 + nameLength, as: UInt32.self))
    }
}

/// Collects one record's untyped fields straight from the C parameters into a scratch
/// buffer that the decoder reuses for every record of a call, then copies them into an
/// exactly sized `StatsFieldStorage` (one allocation per record). Plain pointers in a
/// local value: the per-field path does no reference counting and no array bookkeeping.
struct StatsFieldBuilder: ~Copyable {
    private var bytes: UnsafeMutableRawPointer
    private var byteCapacity: Int
    private var byteCount = 0
    private var offsets: UnsafeMutablePointer<UInt32>
    private var offsetCapacity: Int
    private var count = 0

    /// Room for about `fields` fields before it grows.
    init(fields: Int) {
        offsetCapacity = max(16, fields)
        offsets = .allocate(capacity: offsetCapacity)
        byteCapacity = offsetCapacity * 48  // 8-byte header + a ~30-byte name + 8-byte value
        bytes = .allocate(byteCount: byteCapacity, alignment: 8)
    }

    deinit {
        offsets.deallocate()
        bytes.deallocate()
    }

    /// Appends `p` (its name is `nameLength` bytes long).
    @inline(__always)
    mutating func append(_ p: UnsafePointer<virTypedParameter>, nameLength: Int) {
        let name = UnsafeRawBufferPointer(start: UnsafeRawPointer(p), count: nameLength)
        var string: UnsafeRawBufferPointer?
        if p.pointee.type == StatsFieldEncoding.stringType {
            let s = p.pointee.value.s
            string = UnsafeRawBufferPointer(start: s, count: s.map { strlen($0) } ?? 0)  // NULL reads as ""
        }
        let size = StatsFieldEncoding.size(nameLength: nameLength, string: string)
        if count == offsetCapacity || byteCount + size > byteCapacity { grow(adding: size) }
        offsets[count] = UInt32(truncatingIfNeeded: byteCount)
        StatsFieldEncoding.write(bytes + byteCount, type: p.pointee.type, name: name, string: string) {
            StatsFieldEncoding.storeScalar(of: p, into: $0)
        }
        count += 1
        byteCount += size
    }

    private mutating func grow(adding size: Int) {
        if count == offsetCapacity {
            let more = UnsafeMutablePointer<UInt32>.allocate(capacity: offsetCapacity * 2)
            more.update(from: offsets, count: count)
            offsets.deallocate()
            offsets = more
            offsetCapacity *= 2
        }
        if byteCount + size > byteCapacity {
            let capacity = max(byteCapacity * 2, byteCount + size)
            let more = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
            more.copyMemory(from: bytes, byteCount: byteCount)
            bytes.deallocate()
            bytes = more
            byteCapacity = capacity
        }
    }

    /// The fields appended since the last call, as storage of their own (nil when there
    /// were none); the builder is empty again afterwards.
    mutating func take() -> StatsFieldStorage? {
        guard count > 0 else { return nil }
        let storage = StatsFieldStorage.make(entryCapacity: count, byteCapacity: byteCount)
        storage.fill(offsets: offsets, count: count, bytes: bytes, byteCount: byteCount)
        count = 0
        byteCount = 0
        return storage
    }
}
