import CLibvirt
import Foundation
import VirtCore

// The seam into libvirt's C API. Every wrapper names the C function it calls in the same
// expression that calls it (`try cCall("virDomainSuspend", virDomainSuspend(d))`), so the
// function a `LibvirtError` names is the one that failed, and libvirt's thread-local error
// is read on the thread, in the synchronous call, that failed.

/// Checks a C call returning `-1` on failure; returns the result (a count, 0 or 1).
@discardableResult
@inline(__always)
package func cCall(_ function: StaticString, _ result: Int32) throws(LibvirtError) -> Int32 {
    if result < 0 { throw LibvirtError.takeLast(after: function) }
    return result
}

/// Checks a C call returning 1 (true), 0 (false) or -1 (failure): `virDomainIsActive`, …
@inline(__always)
func cFlag(_ function: StaticString, _ result: Int32) throws(LibvirtError) -> Bool {
    try cCall(function, result) == 1
}

/// Checks a C call returning an object (`virDomainLookupByName`, …): nil is a failure.
@inline(__always)
package func cObject(_ function: StaticString, _ result: OpaquePointer?) throws(LibvirtError) -> OpaquePointer {
    guard let result else { throw LibvirtError.takeLast(after: function) }
    return result
}

/// Copies and frees a string libvirt allocated for the caller; nil is a failure.
package func takeString(_ function: StaticString, _ p: UnsafeMutablePointer<CChar>?) throws(LibvirtError) -> String {
    guard let p else { throw LibvirtError.takeLast(after: function) }
    defer { free(p) }
    return String(cString: p)
}

/// Copies a string the object owns (`virDomainGetName`, …; not freed); nil is a failure.
func borrowString(_ function: StaticString, _ p: UnsafePointer<CChar>?) throws(LibvirtError) -> String {
    guard let p else { throw LibvirtError.takeLast(after: function) }
    return String(cString: p)
}

/// Adopts a libvirt-allocated array of object handles (`virConnectListAll*`): wraps each
/// (the caller then owns the reference) and frees the array.
package func adoptList<T>(
    _ function: StaticString, _ count: Int32, _ list: UnsafeMutablePointer<OpaquePointer?>?, _ wrap: (OpaquePointer) -> T
) throws(LibvirtError) -> [T] {
    try cCall(function, count)
    defer { free(list) }
    guard let list else { return [] }
    return (0..<Int(count)).compactMap { list[$0].map(wrap) }
}

/// The `virConnectListAll*` / `vir*ListAll*` pattern: calls `list` for a libvirt-allocated
/// array and adopts every handle in it.
package func listAll<T>(
    _ function: StaticString, _ owner: OpaquePointer, _ flags: UInt32,
    _ list: (OpaquePointer, UnsafeMutablePointer<UnsafeMutablePointer<OpaquePointer?>?>, UInt32) -> Int32,
    _ wrap: (OpaquePointer) -> T
) throws(LibvirtError) -> [T] {
    var array: UnsafeMutablePointer<OpaquePointer?>?
    let n = list(owner, &array, flags)
    return try adoptList(function, n, array, wrap)
}

/// Reads a 16-byte UUID with one of libvirt's `vir*GetUUID` functions.
func readUUID(_ handle: OpaquePointer, _ get: (OpaquePointer?, UnsafeMutablePointer<UInt8>?) -> Int32) -> LibvirtUUID? {
    var raw: (UInt64, UInt64) = (0, 0)  // VIR_UUID_BUFLEN bytes on the stack
    return withUnsafeMutableBytes(of: &raw) { buf in
        let p = buf.baseAddress!.assumingMemoryBound(to: UInt8.self)
        guard get(handle, p) == 0 else { virResetLastError(); return nil }
        return LibvirtUUID(bytes: Array(UnsafeBufferPointer(start: p, count: 16)))
    }
}

/// The reference-counting pair of one libvirt object kind (`virDomainRef`/`virDomainFree`, …).
struct ObjectKind: Sendable {
    typealias Function = @convention(c) (OpaquePointer?) -> Int32
    let ref: Function
    let free: Function
}

/// A handle on one libvirt object (`virDomainPtr`, `virNetworkPtr`, `virStoragePoolPtr`, …)
/// of a `Connection`: what `Domain`, `StoragePool`, `StorageVolume`, `Network`,
/// `NodeDevice`, `Secret` and `DomainSnapshot` share.
///
/// - Reference and free: each object owns exactly one libvirt reference and drops it
///   (`vir*Free`, which only decrements a count, no daemon call, unless the connection was
///   closed: then it may be the connection's last reference, and is dropped on the pool) when
///   the last Swift reference goes; handles taken from C arrays or callbacks take their own
///   (`vir*Ref`).
/// - The call seam: `call { handle in … }` runs the body on the connection's pool thread and
///   refuses when the connection was closed (`.invalidConn`).
/// - Identity: equal when they are the same kind on the same connection with the same
///   `identity` (a UUID, or a name/key for kinds without one).
///
/// Sendable: `@unchecked` because the handle is immutable and libvirt objects are
/// thread-safe, reference-counted objects that any thread may use.
public class LibvirtObject: @unchecked Sendable, Hashable, CustomStringConvertible {
    package let handle: OpaquePointer
    /// The connection this object belongs to (its handle keeps libvirt's connection alive).
    public let connection: Connection
    private let free: ObjectKind.Function

    /// Adopts a handle the caller owns one reference of.
    init(adopting handle: OpaquePointer, connection: Connection, kind: ObjectKind) {
        self.handle = handle
        self.connection = connection
        self.free = kind.free
    }

    /// Takes a new reference on a borrowed handle.
    init(retaining handle: OpaquePointer, connection: Connection, kind: ObjectKind) {
        _ = kind.ref(handle)
        self.handle = handle
        self.connection = connection
        self.free = kind.free
    }

    deinit {
        // After `close()` this handle may hold libvirt's last reference to the connection,
        // whose dispose writes a goodbye to the daemon: on a thread that does not block
        // SIGPIPE (a cooperative one), a daemon that has gone would kill the process. Then the
        // free runs on the pool, whose threads block SIGPIPE. Otherwise it only drops a count.
        if connection.isClosed {
            let box = HandleBox(handle), free = self.free
            connection.pool.execute { _ = free(box.pointer) }
        } else {
            _ = free(handle)
        }
    }

    /// What identifies the object within its kind and connection (overridden per kind: the
    /// UUID where the kind has one, else its name, key or path).
    var identity: String { "\(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(handle))))" }

    public var description: String { identity }

    public static func == (a: LibvirtObject, b: LibvirtObject) -> Bool {
        a === b || (type(of: a) == type(of: b) && a.connection === b.connection && a.identity == b.identity)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(type(of: self)))
        hasher.combine(identity)
    }

    // MARK: - The seam

    /// Runs `body` with the handle on a pool thread; refuses on a closed connection.
    @discardableResult
    package func call<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws(LibvirtError) -> T) async throws -> T {
        try await connection.pool.run { () throws(LibvirtError) -> T in
            try self.connection.checkOpen()
            return try body(self.handle)
        }
    }

    /// Runs a C call returning 0 / -1, named `function` in its error.
    func check(_ function: StaticString, _ body: @escaping @Sendable (OpaquePointer) -> Int32) async throws {
        try await call { h throws(LibvirtError) in try cCall(function, body(h)) }
    }

    /// Runs a C call returning 0 / -1 with the classic call that does the same for these
    /// arguments, used where the modern one is unsupported (`withClassicFallback`).
    func check(_ function: StaticString, _ body: @escaping @Sendable (OpaquePointer) -> Int32,
               classic: (function: StaticString, body: @Sendable (OpaquePointer) -> Int32)?) async throws {
        try await call { h throws(LibvirtError) in
            var classicCall: (() throws(LibvirtError) -> Int32)?
            if let (classicFunction, classicBody) = classic {
                classicCall = { () throws(LibvirtError) in try cCall(classicFunction, classicBody(h)) }
            }
            _ = try withClassicFallback(self.connection, { () throws(LibvirtError) in try cCall(function, body(h)) }, classic: classicCall)
        }
    }

    /// Runs a C call returning 1 / 0 / -1 (`vir*IsActive`, …).
    func flag(_ function: StaticString, _ body: @escaping @Sendable (OpaquePointer) -> Int32) async throws -> Bool {
        try await call { h throws(LibvirtError) in try cFlag(function, body(h)) }
    }

    /// Runs a C getter that fills an int flag (`vir*GetAutostart`, …).
    func outFlag(_ function: StaticString, _ get: @escaping @Sendable (OpaquePointer, UnsafeMutablePointer<Int32>) -> Int32) async throws -> Bool {
        try await call { h throws(LibvirtError) in
            var v: Int32 = 0
            try cCall(function, get(h, &v))
            return v != 0
        }
    }

    /// Runs a C call returning a string the caller frees (`vir*GetXMLDesc`, …).
    func string(_ function: StaticString, _ body: @escaping @Sendable (OpaquePointer) -> UnsafeMutablePointer<CChar>?) async throws -> String {
        try await call { h throws(LibvirtError) in try takeString(function, body(h)) }
    }
}

extension LibvirtUUID {
    /// All zero bytes (what a handle without a UUID would give; never a real object's).
    static let zero: LibvirtUUID = LibvirtUUID(bytes: [UInt8](repeating: 0, count: 16)) ?? LibvirtUUID("00000000-0000-0000-0000-000000000000")!
}
