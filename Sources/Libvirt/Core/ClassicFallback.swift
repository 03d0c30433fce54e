import CLibvirt
import Foundation
import Synchronization

// libvirt's newer calls (`*Flags`, `ListAll*`, `GetJobStats`) came after the classic ones, and
// a driver or an older remote daemon may implement only the classic call. Like virsh, VirtKit
// then falls back: the modern call runs first; when it fails with `VIR_ERR_NO_SUPPORT` and the
// classic call does the same for the arguments given, the classic call runs instead. The
// error names the function that failed last, so a caller sees which one ran.

/// Runs `modern`; on `VIR_ERR_NO_SUPPORT`, runs `classic` when there is one for these
/// arguments (nil: the classic call can't express them, the original error stands).
func withClassicFallback<T>(
    _ connection: Connection, _ modern: () throws(LibvirtError) -> T, classic: (() throws(LibvirtError) -> T)?
) throws(LibvirtError) -> T {
    do throws(LibvirtError) {
        if classic != nil, connection.modernCallsUnsupported.load(ordering: .relaxed) {
            throw LibvirtError(code: .noSupport, message: "modern call switched off on this connection (testing)")
        }
        return try modern()
    } catch {
        guard error.code == .noSupport, let classic else { throw error }
        log.debug("modern libvirt call unsupported, using the classic one", metadata: ["unsupported": "\(error.function ?? "-")"])
        return try classic()
    }
}

/// The classic name lists (`virConnectNumOfX` + `virConnectListX`): the names (or UUID
/// strings) at the moment of the call. An object created between the two calls is missed,
/// as with virsh's fallback.
func classicNames(
    _ countFunction: StaticString, _ count: () -> Int32,
    _ listFunction: StaticString, _ list: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, Int32) -> Int32
) throws(LibvirtError) -> [String] {
    let n = try cCall(countFunction, count())
    guard n > 0 else { return [] }
    var names = [UnsafeMutablePointer<CChar>?](repeating: nil, count: Int(n))
    let got = Int(try cCall(listFunction, names.withUnsafeMutableBufferPointer { list($0.baseAddress!, n) }))
    defer { names.prefix(got).forEach { free($0) } }
    return names.prefix(got).compactMap { $0.map { String(cString: $0) } }
}

/// The lookups of `names`, to run once every list has been read: they can't fail (a name whose
/// object went away since the listing is skipped, as virsh does), so a failing list never
/// leaves owned handles behind.
func lookupEach<Name>(_ names: [Name], _ lookup: @escaping (Name) -> OpaquePointer?) -> () -> [OpaquePointer] {
    {
        names.compactMap { name in
            guard let h = lookup(name) else { virResetLastError(); return nil }
            return h
        }
    }
}

/// The classic listing of one object kind: its active and (where the kind has them)
/// inactive objects — each a list read (which may fail) giving its lookups (which don't) —
/// and the `ListAll` flags that select either.
struct ClassicListing {
    typealias Objects = () throws(LibvirtError) -> () -> [OpaquePointer]
    var activeFlag: UInt32 = 0
    var inactiveFlag: UInt32 = 0
    var active: Objects
    var inactive: Objects? = nil

    /// The objects `flags` ask for, or nil when `flags` ask for more than active/inactive.
    func objects(flags: UInt32) -> (() throws(LibvirtError) -> [OpaquePointer])? {
        let state = activeFlag | inactiveFlag
        guard flags & ~state == 0 else { return nil }
        let both = flags & state == 0 || flags & state == state
        return { () throws(LibvirtError) -> [OpaquePointer] in
            var lookups: [() -> [OpaquePointer]] = []
            if both || flags & activeFlag != 0 { lookups.append(try active()) }
            if let inactive, both || flags & inactiveFlag != 0 { lookups.append(try inactive()) }
            return lookups.flatMap { $0() }
        }
    }
}

/// `listAll` with the classic fallback: on `VIR_ERR_NO_SUPPORT`, the classic lists when they
/// can answer `flags`.
func listAll<T>(
    _ function: StaticString, _ owner: OpaquePointer, _ flags: UInt32,
    _ list: (OpaquePointer, UnsafeMutablePointer<UnsafeMutablePointer<OpaquePointer?>?>, UInt32) -> Int32,
    on connection: Connection, classic: ClassicListing, _ wrap: (OpaquePointer) -> T
) throws(LibvirtError) -> [T] {
    let handles = try withClassicFallback(connection, { () throws(LibvirtError) -> [OpaquePointer] in try listAll(function, owner, flags, list) { $0 } },
                                          classic: classic.objects(flags: flags))
    return handles.map(wrap)
}

// MARK: - One listing and lookup shape for the connection's object kinds

/// A kind whose handles a `Connection` lists and looks up (`Network`, `StoragePool`, …).
protocol ConnectionObject: LibvirtObject {
    init(adopting handle: OpaquePointer, connection: Connection)
}

/// One classic name list: its count (`virConnectNumOfX`) and its names (`virConnectListX`).
struct NameList: Sendable {
    typealias Count = @Sendable (OpaquePointer?) -> Int32
    typealias List = @Sendable (OpaquePointer?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, Int32) -> Int32
    let countFunction: StaticString
    let count: Count
    let listFunction: StaticString
    let list: List

    init(_ countFunction: StaticString, _ count: @escaping Count, _ listFunction: StaticString, _ list: @escaping List) {
        (self.countFunction, self.count, self.listFunction, self.list) = (countFunction, count, listFunction, list)
    }

    func names(_ owner: OpaquePointer) throws(LibvirtError) -> [String] {
        try classicNames(countFunction, { count(owner) }, listFunction, { list(owner, $0, $1) })
    }
}

/// How one kind is listed: `ListAll`, and where that is unsupported its classic name lists
/// (active, and inactive where the kind has them), each name looked up; a kind without
/// classic lists (filter bindings, ports) has none.
struct ObjectListing: Sendable {
    typealias ListAll = @Sendable (OpaquePointer?, UnsafeMutablePointer<UnsafeMutablePointer<OpaquePointer?>?>?, UInt32) -> Int32
    typealias Lookup = @Sendable (OpaquePointer?, UnsafePointer<CChar>?) -> OpaquePointer?
    let listAllFunction: StaticString
    let listAll: ListAll
    var active: NameList?
    var inactive: NameList?
    var activeFlag: UInt32
    var inactiveFlag: UInt32
    let lookup: Lookup

    init(_ listAllFunction: StaticString, _ listAll: @escaping ListAll, active: NameList? = nil, inactive: NameList? = nil,
         activeFlag: UInt32 = 0, inactiveFlag: UInt32 = 0, lookup: @escaping Lookup = { _, _ in nil }) {
        (self.listAllFunction, self.listAll, self.active, self.inactive) = (listAllFunction, listAll, active, inactive)
        (self.activeFlag, self.inactiveFlag, self.lookup) = (activeFlag, inactiveFlag, lookup)
    }

    /// The owned handles of `owner`'s objects (a connection's, or a pool's volumes) matching `flags`.
    func handles(_ owner: OpaquePointer, flags: UInt32, on connection: Connection) throws(LibvirtError) -> [OpaquePointer] {
        guard let active else { return try Libvirt.listAll(listAllFunction, owner, flags, listAll) { $0 } }  // no classic lists
        let lookup = self.lookup
        func looked(_ list: NameList) -> ClassicListing.Objects {
            { () throws(LibvirtError) in lookupEach(try list.names(owner)) { lookup(owner, $0) } }
        }
        var classic = ClassicListing(activeFlag: activeFlag, inactiveFlag: inactiveFlag, active: looked(active))
        if let inactive { classic.inactive = looked(inactive) }
        return try Libvirt.listAll(listAllFunction, owner, flags, listAll, on: connection, classic: classic) { $0 }
    }
}

extension Connection {
    /// The connection's objects of one kind matching `flags` (`listing`, with its fallback).
    func list<T: ConnectionObject>(_ listing: ObjectListing, flags: UInt32) async throws -> [T] {
        try await call { c throws(LibvirtError) in try listing.handles(c, flags: flags, on: self).map { T(adopting: $0, connection: self) } }
    }

    /// One object from a C call returning an owned handle (`vir*LookupBy*`, `vir*CreateXML`, …),
    /// named `function` in its error.
    func lookup<T: ConnectionObject>(_ function: StaticString, _ body: @escaping @Sendable (OpaquePointer) -> OpaquePointer?) async throws -> T {
        try await call { c throws(LibvirtError) in T(adopting: try cObject(function, body(c)), connection: self) }
    }
}
