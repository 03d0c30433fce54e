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
    /// Shared by copies of this value (internal for tests).
    private(set) var storage: StatsFieldStorage?
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
    /// storage is shared with other records).
    public mutating func append(_ field: StatsField) {
        if storage == nil || !isKnownUniquelyReferenced(&storage) || entries.upperBound != storage?.entryCount {
            let own = StatsFieldStorage()
            if let storage { own.copyEntries(entries, from: storage) }
            storage = own
            entries = 0..<own.entryCount
        }
        guard let storage else { return }
        storage.append(name: field.name, value: field.value)
        entries = entries.lowerBound..<storage.entryCount
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

/// The encoded untyped fields of one stats record, back to back. Entry layout (unaligned,
/// native byte order): C type (`Int32`), name length (`UInt32`), name bytes, then the
/// 8 bytes of the C value union, or for strings a `UInt32` length and the bytes.
///
/// Sendable: `@unchecked` because it is mutable, but only while the decoder fills it on
/// one pool thread before the record that references it is returned, or through
/// `StatsFields.append` when the value holds the only reference; read-only afterwards.
final class StatsFieldStorage: @unchecked Sendable {
    // `@exclusivity(unchecked)`: the decoder appends ~900 fields per call, and the dynamic
    // exclusivity checks on class properties showed up in its profile; accesses never
    // overlap here (no closure or inout access spans another).
    @exclusivity(unchecked) private var base: UnsafeMutableRawPointer?
    @exclusivity(unchecked) private var capacity = 0
    @exclusivity(unchecked) private var byteCount = 0
    /// Start offset of each entry.
    @exclusivity(unchecked) private var starts: [UInt32] = []

    var entryCount: Int { starts.count }

    init() {}

    deinit { free(base) }

    /// Makes room for `bytes` more bytes and about `entries` more entries.
    @inline(__always)
    private func ensure(_ bytes: Int) {
        if byteCount + bytes > capacity { grow(to: byteCount + bytes) }
    }

    private func grow(to needed: Int) {
        let newCapacity = max(needed, capacity * 2, 4096)
        guard let p = realloc(base, newCapacity) else { fatalError("StatsFieldStorage: out of memory") }
        base = p
        capacity = newCapacity
    }

    /// Sizes the buffer for about `fields` more entries (once per record, so appends don't regrow).
    func reserve(fields: Int) {
        let bytes = fields * 40  // 8-byte header + a ~24-byte name + 8-byte value
        if byteCount + bytes > capacity { grow(to: byteCount + bytes) }
        starts.reserveCapacity(starts.count + fields)
    }

    /// Copies one C parameter: `nameLength` bytes of its field name and its value.
    @inline(__always)
    func append(_ p: UnsafePointer<virTypedParameter>, nameLength: Int) {
        let type = p.pointee.type
        let name = UnsafeRawBufferPointer(start: UnsafeRawPointer(p), count: nameLength)
        if type == Int32(VIR_TYPED_PARAM_STRING.rawValue) {
            let s = p.pointee.value.s
            appendString(type: type, name: name, UnsafeRawBufferPointer(start: s, count: s.map { strlen($0) } ?? 0))
        } else {
            // Only the union member of `type` is copied, the rest zeroed: equal fields are
            // equal bytes (`==`/`hash` compare bytes).
            let o = beginEntry(type: type, name: name, payload: 8)
            let b = base.unsafelyUnwrapped + o
            let v = p.pointee.value
            switch type {
            case Int32(VIR_TYPED_PARAM_LLONG.rawValue), Int32(VIR_TYPED_PARAM_ULLONG.rawValue), Int32(VIR_TYPED_PARAM_DOUBLE.rawValue):
                b.storeBytes(of: v.ul, as: UInt64.self)
            case Int32(VIR_TYPED_PARAM_INT.rawValue), Int32(VIR_TYPED_PARAM_UINT.rawValue):
                b.storeBytes(of: 0, as: UInt64.self)
                b.storeBytes(of: v.ui, as: UInt32.self)
            case Int32(VIR_TYPED_PARAM_BOOLEAN.rawValue):
                b.storeBytes(of: 0, as: UInt64.self)
                b.storeBytes(of: v.b, as: CChar.self)
            default:  // a type newer than libvirt 9: its value can't be read
                b.storeBytes(of: 0, as: UInt64.self)
            }
        }
    }

    /// Appends a Swift field (the slow path of `StatsFields.append`).
    func append(name: String, value: TypedValue) {
        var name = name
        name.withUTF8 { n in
            let name = UnsafeRawBufferPointer(n)
            func scalar<T>(_ type: virTypedParameterType, _ v: T) {
                let o = beginEntry(type: Int32(type.rawValue), name: name, payload: 8)
                (base.unsafelyUnwrapped + o).storeBytes(of: 0, as: UInt64.self)  // unused bytes zeroed
                (base.unsafelyUnwrapped + o).storeBytes(of: v, as: T.self)
            }
            switch value {
            case .int(let v): scalar(VIR_TYPED_PARAM_INT, v)
            case .uint(let v): scalar(VIR_TYPED_PARAM_UINT, v)
            case .llong(let v): scalar(VIR_TYPED_PARAM_LLONG, v)
            case .ullong(let v): scalar(VIR_TYPED_PARAM_ULLONG, v)
            case .double(let v): scalar(VIR_TYPED_PARAM_DOUBLE, v)
            case .boolean(let v): scalar(VIR_TYPED_PARAM_BOOLEAN, UInt8(v ? 1 : 0))
            case .unknownType(let t):
                let o = beginEntry(type: t, name: name, payload: 8)
                (base.unsafelyUnwrapped + o).storeBytes(of: 0, as: UInt64.self)
            case .string(var v):
                v.withUTF8 { appendString(type: Int32(VIR_TYPED_PARAM_STRING.rawValue), name: name, UnsafeRawBufferPointer($0)) }
            }
        }
    }

    private func appendString(type: Int32, name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) {
        let o = beginEntry(type: type, name: name, payload: 4 + value.count)
        let b = base.unsafelyUnwrapped
        b.storeBytes(of: UInt32(truncatingIfNeeded: value.count), toByteOffset: o, as: UInt32.self)
        if let from = value.baseAddress, value.count > 0 { (b + o + 4).copyMemory(from: from, byteCount: value.count) }
    }

    /// Writes an entry's header and name, reserves `payload` bytes after them, and returns
    /// the payload's offset.
    @inline(__always)
    private func beginEntry(type: Int32, name: UnsafeRawBufferPointer, payload: Int) -> Int {
        ensure(8 + name.count + payload)
        let b = base.unsafelyUnwrapped
        let o = byteCount
        starts.append(UInt32(truncatingIfNeeded: o))
        b.storeBytes(of: type, toByteOffset: o, as: Int32.self)
        b.storeBytes(of: UInt32(truncatingIfNeeded: name.count), toByteOffset: o + 4, as: UInt32.self)
        if let n = name.baseAddress, name.count > 0 { (b + o + 8).copyMemory(from: n, byteCount: name.count) }
        byteCount = o + 8 + name.count + payload
        return o + 8 + name.count
    }

    /// Copies entries `range` of `other` (the copy-on-write path of `StatsFields.append`).
    func copyEntries(_ range: Range<Int>, from other: StatsFieldStorage) {
        guard !range.isEmpty else { return }
        let src = other.bytes(of: range)
        ensure(src.count)
        let shift = byteCount - Int(other.starts[range.lowerBound])
        for i in range { starts.append(UInt32(Int(other.starts[i]) + shift)) }
        if let from = src.baseAddress { (base.unsafelyUnwrapped + byteCount).copyMemory(from: from, byteCount: src.count) }
        byteCount += src.count
    }

    /// The encoded bytes of entries `range` (contiguous: entries are stored in order).
    func bytes(of range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        guard !range.isEmpty, let base else { return UnsafeBufferPointer(start: nil, count: 0) }
        let start = Int(starts[range.lowerBound])
        let end = range.upperBound < starts.count ? Int(starts[range.upperBound]) : byteCount
        return UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self) + start, count: end - start)
    }

    /// Whether entry `i`'s name is exactly `name`.
    func nameEquals(_ i: Int, _ name: UnsafeBufferPointer<UInt8>) -> Bool {
        let o = Int(starts[i])
        let b = base.unsafelyUnwrapped
        guard Int(b.loadUnaligned(fromByteOffset: o + 4, as: UInt32.self)) == name.count else { return false }
        guard let t = name.baseAddress else { return true }
        return memcmp(b + o + 8, t, name.count) == 0
    }

    /// Decodes entry `i`.
    func entry(_ i: Int) -> (name: String, value: TypedValue) {
        let o = Int(starts[i])
        let b = UnsafeRawPointer(base.unsafelyUnwrapped)
        let type = b.loadUnaligned(fromByteOffset: o, as: Int32.self)
        let nameLength = Int(b.loadUnaligned(fromByteOffset: o + 4, as: UInt32.self))
        let name = String(decoding: UnsafeRawBufferPointer(start: b + o + 8, count: nameLength), as: UTF8.self)
        let v = o + 8 + nameLength
        let value: TypedValue
        switch type {
        case Int32(VIR_TYPED_PARAM_INT.rawValue): value = .int(b.loadUnaligned(fromByteOffset: v, as: Int32.self))
        case Int32(VIR_TYPED_PARAM_UINT.rawValue): value = .uint(b.loadUnaligned(fromByteOffset: v, as: UInt32.self))
        case Int32(VIR_TYPED_PARAM_LLONG.rawValue): value = .llong(b.loadUnaligned(fromByteOffset: v, as: Int64.self))
        case Int32(VIR_TYPED_PARAM_ULLONG.rawValue): value = .ullong(b.loadUnaligned(fromByteOffset: v, as: UInt64.self))
        case Int32(VIR_TYPED_PARAM_DOUBLE.rawValue): value = .double(b.loadUnaligned(fromByteOffset: v, as: Double.self))
        case Int32(VIR_TYPED_PARAM_BOOLEAN.rawValue): value = .boolean(b.load(fromByteOffset: v, as: UInt8.self) != 0)
        case Int32(VIR_TYPED_PARAM_STRING.rawValue):
            let length = Int(b.loadUnaligned(fromByteOffset: v, as: UInt32.self))
            value = .string(String(decoding: UnsafeRawBufferPointer(start: b + v + 4, count: length), as: UTF8.self))
        default: value = .unknownType(type)
        }
        return (name, value)
    }
}
