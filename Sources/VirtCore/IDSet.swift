/// A set of small non-negative integer IDs (CPUs, NUMA nodes) stored as a bitmap,
/// with the list syntax libvirt and the kernel use (`0-3,8,^2`) and the kernel's
/// hex cpumask syntax (`ff,0000000f`).
///
/// `CPUSet` and `NodeSet` are the two instances; the phantom `Kind` keeps a node
/// set from being passed where a CPU set is expected.
public struct IDSet<Kind: IDSetKind>: Hashable, Sendable {
    /// Bit `i` of `words[i / 64]` is set when ID `i` is a member. No trailing zero words,
    /// so equal sets have equal storage (the synthesized `Hashable` relies on that).
    @usableFromInline internal var words: [UInt64]

    /// The largest ID accepted from text or arrays. Libvirt's own bitmaps top out far
    /// below this; the bound stops `0-4000000000` from allocating gigabytes.
    public static var maxID: Int { 65_535 }

    public init() { words = [] }

    public init<S: Sequence>(_ ids: S) where S.Element == Int {
        self.init()
        for id in ids { setBit(id) }
    }

    public var isEmpty: Bool { words.isEmpty }
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    public func contains(_ id: Int) -> Bool {
        guard id >= 0 else { return false }
        let w = id >> 6
        return w < words.count && words[w] & (1 << UInt64(id & 63)) != 0
    }

    /// Sets the bit for `id`. IDs outside `0...maxID` are ignored (the parsing
    /// initialisers report them as errors instead).
    @usableFromInline internal mutating func setBit(_ id: Int) {
        guard id >= 0, id <= Self.maxID else { return }
        let w = id >> 6
        if w >= words.count { words.append(contentsOf: repeatElement(0, count: w - words.count + 1)) }
        words[w] |= 1 << UInt64(id & 63)
    }

    @usableFromInline internal mutating func clearBit(_ id: Int) {
        guard id >= 0, id >> 6 < words.count else { return }
        words[id >> 6] &= ~(1 << UInt64(id & 63))
        trim()
    }

    public mutating func insert(range: ClosedRange<Int>) {
        for id in range { setBit(id) }
    }

    public var min: Int? {
        for (i, w) in words.enumerated() where w != 0 { return i * 64 + w.trailingZeroBitCount }
        return nil
    }

    public var max: Int? {
        guard let last = words.last else { return nil }
        return (words.count - 1) * 64 + 63 - last.leadingZeroBitCount
    }

    public func union(_ other: Self) -> Self {
        var out = Self()
        out.words = (0..<Swift.max(words.count, other.words.count)).map {
            ($0 < words.count ? words[$0] : 0) | ($0 < other.words.count ? other.words[$0] : 0)
        }
        out.trim()
        return out
    }

    public func intersection(_ other: Self) -> Self {
        var out = Self()
        out.words = (0..<Swift.min(words.count, other.words.count)).map { words[$0] & other.words[$0] }
        out.trim()
        return out
    }

    public func subtracting(_ other: Self) -> Self {
        var out = self
        for i in 0..<Swift.min(words.count, other.words.count) { out.words[i] &= ~other.words[i] }
        out.trim()
        return out
    }

    public func isSubset(of other: Self) -> Bool { subtracting(other).isEmpty }
    public func isDisjoint(with other: Self) -> Bool { intersection(other).isEmpty }

    /// The IDs in ascending order.
    public var ids: [Int] { Array(self) }

    @usableFromInline internal mutating func trim() {
        while let last = words.last, last == 0 { words.removeLast() }
    }
}

/// Distinguishes what an `IDSet` counts; see `CPUSet` and `NodeSet`.
public protocol IDSetKind: Sendable {
    /// Used in error messages and descriptions ("CPU", "NUMA node").
    static var noun: String { get }
}

public enum CPUIDs: IDSetKind { public static var noun: String { "CPU" } }
public enum NUMANodeIDs: IDSetKind { public static var noun: String { "NUMA node" } }

/// Host or guest CPUs, e.g. a vCPU's pinning or a cgroup's `cpuset.cpus`.
public typealias CPUSet = IDSet<CPUIDs>
/// NUMA nodes, e.g. `numatune` nodesets or `cpuset.mems`.
public typealias NodeSet = IDSet<NUMANodeIDs>

extension IDSet: Sequence {
    public struct Iterator: IteratorProtocol {
        let words: [UInt64]
        var index = 0
        var current: UInt64

        init(words: [UInt64]) {
            self.words = words
            self.current = words.first ?? 0
        }

        public mutating func next() -> Int? {
            while current == 0 {
                index += 1
                guard index < words.count else { return nil }
                current = words[index]
            }
            let bit = current.trailingZeroBitCount
            current &= current - 1
            return index * 64 + bit
        }
    }

    public func makeIterator() -> Iterator { Iterator(words: words) }
    public var underestimatedCount: Int { count }
}

extension IDSet: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: Int...) { self.init(elements) }
}

extension IDSet: SetAlgebra {
    public mutating func formUnion(_ other: Self) { self = union(other) }
    public mutating func formIntersection(_ other: Self) { self = intersection(other) }
    public mutating func formSymmetricDifference(_ other: Self) { self = symmetricDifference(other) }
    public func symmetricDifference(_ other: Self) -> Self { union(other).subtracting(intersection(other)) }

    @discardableResult
    public mutating func insert(_ newMember: Int) -> (inserted: Bool, memberAfterInsert: Int) {
        let had = contains(newMember)
        setBit(newMember)
        return (!had, newMember)
    }

    @discardableResult
    public mutating func remove(_ member: Int) -> Int? {
        guard contains(member) else { return nil }
        clearBit(member)
        return member
    }

    @discardableResult
    public mutating func update(with newMember: Int) -> Int? {
        let had = contains(newMember)
        setBit(newMember)
        return had ? newMember : nil
    }
}
