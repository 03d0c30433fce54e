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
/// A qemu guest reports ~40 such counters per vCPU, about 70 % of a call's fields, and
/// most callers never read them. So `allDomainStats` doesn't copy them at all: a record
/// adopts libvirt's own C parameter array (taken out of the C record before
/// `virDomainStatsRecordListFree`, freed with `virTypedParamsFree` when the last copy of
/// the record is gone: plain memory, safe on any thread) plus the positions of its
/// untyped fields, and a `StatsField` (with its `String` name and `TypedValue`) is only
/// made when an element is read. The trade: a kept record holds libvirt's 96 bytes per
/// field. Fields decoded from parameters the decoder doesn't own, and any `StatsFields`
/// that is appended to, live in a compact buffer of their own instead (name, C type tag
/// and the 8-byte value, or the string's bytes). Nothing is lost either way: every element
/// gives exactly the name, type and value libvirt reported. Copies share storage until
/// one of them is appended to.
///
/// Equality and hashing compare the encoded fields (so two `.double(.nan)` values compare
/// equal here, unlike `TypedValue ==`).
public struct StatsFields: RandomAccessCollection, Hashable, Sendable {
    /// Compact storage shared by copies of this value (internal for tests).
    /// `nonisolated(unsafe)`: a `ManagedBuffer` can't be `Sendable`; it is only mutated
    /// while uniquely referenced (see `StatsFieldStorage`).
    nonisolated(unsafe) private(set) var storage: StatsFieldStorage?
    /// Or: the C parameters these fields are read from (never mutated; see `AdoptedStatsParams`).
    nonisolated(unsafe) private(set) var adopted: AdoptedStatsParams?
    /// Entry numbers in the storage that belong to this value.
    private var entries: Range<Int>

    public init() {
        entries = 0..<0
    }

    init(storage: StatsFieldStorage) {
        self.storage = storage
        entries = 0..<storage.entryCount
    }

    init(adopted: AdoptedStatsParams) {
        self.adopted = adopted
        entries = 0..<adopted.entryCount
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { entries.count }

    /// Entry `i` of the storage, encoded (`StatsFieldEncoding`): in place for compact
    /// storage, encoded into a temporary buffer for adopted C parameters.
    private func withEncodedEntry<R>(_ i: Int, _ body: (UnsafeRawPointer) -> R) -> R {
        if let adopted {
            let field = CStatsParameter(adopted.parameter(i))
            return withUnsafeTemporaryAllocation(byteCount: field.size, alignment: 8) { buffer in
                let b = buffer.baseAddress.unsafelyUnwrapped
                field.write(to: b)
                return body(b)
            }
        }
        // `storage` is non-nil whenever `entries` is non-empty and nothing is adopted.
        return body(storage.unsafelyUnwrapped.entry(at: i))
    }

    /// The field at `position`, decoded now.
    public subscript(position: Int) -> StatsField {
        precondition(position >= 0 && position < entries.count, "StatsFields index out of range")
        let e = withEncodedEntry(entries.lowerBound + position) { StatsFieldEncoding.decode($0) }
        return StatsField(name: e.name, value: e.value)
    }

    /// The value of the first field named `name` (a linear scan comparing bytes; no
    /// `String` is made for the fields passed over).
    public subscript(name: String) -> TypedValue? {
        var target = name
        return target.withUTF8 { t -> TypedValue? in
            for i in entries {
                let found = withEncodedEntry(i) { e in StatsFieldEncoding.nameEquals(e, t) ? StatsFieldEncoding.decode(e).value : nil }
                if let found { return found }
            }
            return nil
        }
    }

    /// Every field name, in order.
    public var names: [String] { map(\.name) }

    /// Appends a field (copies this value's fields to compact storage of its own first when
    /// the storage is shared with other records, adopted from C, or full; capacities double,
    /// so appends are amortized O(1)).
    public mutating func append(_ field: StatsField) {
        var name = field.name
        name.withUTF8 { name in
            let nameBytes = UnsafeRawBufferPointer(name)
            field.value.withEncodedPayload { type, string, scalar in
                let size = StatsFieldEncoding.size(nameLength: nameBytes.count, string: string)
                if adopted != nil || storage == nil || !isKnownUniquelyReferenced(&storage)
                    || entries.upperBound != storage?.entryCount || !(storage?.hasRoom(forBytes: size) ?? false) {
                    var used = 0
                    for i in entries { used += withEncodedEntry(i) { StatsFieldEncoding.entrySize(at: $0) } }
                    let own = StatsFieldStorage.make(entryCapacity: Swift.max(8, entries.count * 2), byteCapacity: Swift.max(256, (used + size) * 2))
                    for i in entries {
                        withEncodedEntry(i) { e in
                            let n = StatsFieldEncoding.entrySize(at: e)
                            own.append { $0.copyMemory(from: e, byteCount: n) }
                        }
                    }
                    storage = own
                    adopted = nil
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
        for (i, j) in zip(a.entries, b.entries) {
            let same = a.withEncodedEntry(i) { ea in
                b.withEncodedEntry(j) { eb in
                    let n = StatsFieldEncoding.entrySize(at: ea)
                    return n == StatsFieldEncoding.entrySize(at: eb) && memcmp(ea, eb, n) == 0
                }
            }
            if !same { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(entries.count)
        for i in entries {
            withEncodedEntry(i) { hasher.combine(bytes: UnsafeRawBufferPointer(start: $0, count: StatsFieldEncoding.entrySize(at: $0))) }
        }
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

    /// The size of the encoded entry at `b`.
    static func entrySize(at b: UnsafeRawPointer) -> Int {
        let nameLength = Int(b.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        guard b.loadUnaligned(as: Int32.self) == stringType else { return 8 + nameLength + 8 }
        return 8 + nameLength + 4 + Int(b.loadUnaligned(fromByteOffset: 8 + nameLength, as: UInt32.self))
    }

    /// Whether the entry at `b` is named exactly `name`.
    static func nameEquals(_ b: UnsafeRawPointer, _ name: UnsafeBufferPointer<UInt8>) -> Bool {
        guard Int(b.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) == name.count else { return false }
        guard let t = name.baseAddress else { return true }
        return memcmp(b + 8, t, name.count) == 0
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

/// Untyped fields in a compact buffer of their own, in one allocation: a header, then the
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

    /// The C parameters `indices` of `params`, copied.
    static func copying(_ params: UnsafePointer<virTypedParameter>, indices: UnsafeBufferPointer<UInt32>) -> StatsFieldStorage {
        var bytes = 0
        for i in indices { bytes += CStatsParameter(params + Int(i)).size }
        let storage = make(entryCapacity: indices.count, byteCapacity: bytes)
        for i in indices { storage.append { CStatsParameter(params + Int(i)).write(to: $0) } }
        return storage
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

    /// Appends an entry that `write` encodes (the caller made sure there is room).
    func append(_ write: (UnsafeMutableRawPointer) -> Void) {
        let r = regions
        let o = header.byteCount
        r.offsets[header.entryCount] = UInt32(truncatingIfNeeded: o)
        write(r.bytes + o)
        header.entryCount += 1
        header.byteCount = o + StatsFieldEncoding.entrySize(at: r.bytes + o)
    }

    /// The encoded entry `i`.
    func entry(at i: Int) -> UnsafeRawPointer {
        let r = regions
        return UnsafeRawPointer(r.bytes + Int(r.offsets[i]))
    }
}

/// One C parameter as an untyped-field entry: its encoded size and how to write it.
struct CStatsParameter {
    let p: UnsafePointer<virTypedParameter>
    let name: UnsafeRawBufferPointer
    let string: UnsafeRawBufferPointer?

    @inline(__always)
    init(_ p: UnsafePointer<virTypedParameter>) {
        self.p = p
        // `strnlen`: the char[80] field need not be NUL-terminated.
        name = UnsafeRawBufferPointer(start: UnsafeRawPointer(p), count: strnlen(UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self), 80))
        if p.pointee.type == StatsFieldEncoding.stringType {
            let s = p.pointee.value.s
            string = UnsafeRawBufferPointer(start: s, count: s.map { strlen($0) } ?? 0)  // NULL reads as ""
        } else {
            string = nil
        }
    }

    var size: Int { StatsFieldEncoding.size(nameLength: name.count, string: string) }

    @inline(__always)
    func write(to dst: UnsafeMutableRawPointer) {
        let p = p
        StatsFieldEncoding.write(dst, type: p.pointee.type, name: name, string: string) { StatsFieldEncoding.storeScalar(of: p, into: $0) }
    }
}

/// A record's untyped fields read straight from libvirt's C parameter array, which it owns
/// (adopted from the C record, so nothing is copied on the hot path): the array, its
/// length, and the positions of the untyped fields. `virTypedParamsFree` in deinit only
/// frees memory (no connection or daemon involved), so it is fine on any thread.
/// Never mutated after `adopt`.
final class AdoptedStatsParams: ManagedBuffer<AdoptedStatsParams.Header, UInt32> {
    struct Header {
        let params: UnsafeMutablePointer<virTypedParameter>
        let count: Int32
        let entryCount: Int
    }

    /// Takes ownership of `params` (`count` parameters); `indices` are the untyped ones.
    static func adopt(_ params: UnsafeMutablePointer<virTypedParameter>, count: Int32, indices: UnsafeBufferPointer<UInt32>) -> AdoptedStatsParams {
        let buffer = create(minimumCapacity: indices.count) { _ in Header(params: params, count: count, entryCount: indices.count) }
        buffer.withUnsafeMutablePointerToElements { $0.initialize(from: indices.baseAddress.unsafelyUnwrapped, count: indices.count) }
        return unsafeDowncast(buffer, to: AdoptedStatsParams.self)
    }

    deinit { virTypedParamsFree(header.params, header.count) }

    var entryCount: Int { header.entryCount }

    /// The C parameter of entry `i`.
    func parameter(_ i: Int) -> UnsafePointer<virTypedParameter> {
        UnsafePointer(header.params + Int(withUnsafeMutablePointerToElements { $0[i] }))
    }
}

/// The positions of a record's untyped fields, collected by the decoder into one scratch
/// buffer that it reuses for every record of a call (no per-field allocation or reference
/// counting).
struct UntypedFieldIndices: ~Copyable {
    private var base: UnsafeMutablePointer<UInt32>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(16, capacity)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @inline(__always)
    mutating func append(_ i: Int) {
        if count == capacity { grow() }
        base[count] = UInt32(truncatingIfNeeded: i)
        count += 1
    }

    private mutating func grow() {
        let more = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity * 2)
        more.update(from: base, count: count)
        base.deallocate()
        base = more
        capacity *= 2
    }

    var buffer: UnsafeBufferPointer<UInt32> { UnsafeBufferPointer(start: base, count: count) }

    mutating func removeAll() { count = 0 }
}
