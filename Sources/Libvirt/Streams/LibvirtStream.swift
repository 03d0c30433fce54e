import CLibvirt
import Foundation
import VirtCore

/// A piece of what a stream carries: bytes, or (on a sparse stream) a run of empty space the
/// receiver should seek over instead of writing.
public enum StreamSegment: Hashable, Sendable {
    case data([UInt8])
    case hole(bytes: UInt64)
}

/// A libvirt data stream (`virStreamPtr`): the channel behind volume upload and download,
/// screenshots, consoles and channels.
///
/// Two modes, chosen at `Connection.newStream(nonBlocking:)`:
/// - **Non-blocking** (the default): libvirt's event loop tells VirtKit when data arrived
///   (`virStreamEventAddCallback`); the callback, on the `LibvirtEventLoop` thread, reads
///   what is there without waiting (`virStreamRecvFlags`) into a bounded buffer that `chunks`
///   / `segments` (`AsyncSequence`s) hand out. No thread waits for data: an idle console holds
///   no pool thread. When the buffer holds `readAhead` bytes the callback stops asking for
///   more until the consumer has taken half of it (backpressure; libvirt's remote client
///   still queues what the daemon has already sent). `write(_:)` sends on the connection's
///   pool (`virStreamSend`; a remote stream's send returns once the packet is on the socket)
///   and, when a local stream's buffer is full, waits for the writable event.
/// - **Blocking**: every `receive`/`send` is one blocking C call on the pool, and the bulk
///   transfers `receiveAll(toFile:sparse:)` / `sendAll(fromFile:sparse:)`
///   (`virStream(Sparse)RecvAll` / `SendAll`) move a whole file on one pool thread, like virsh.
///
/// End: reading to the end of the stream confirms it (`virStreamFinish`) before the sequence
/// ends, so a completed loop means libvirt accepted the transfer; a writer calls `finish()`.
/// `abort()` stops a transfer early (`virStreamAbort`); cancelling a task that waits on the
/// stream aborts it too, and a stream dropped while open is aborted on the pool. Errors are
/// captured in the call that failed (on its thread) and rethrown to every later reader and
/// writer.
///
/// Sendable: `@unchecked` because the handle is immutable, libvirt streams are thread-safe,
/// and the shared state (`StreamIO`) is guarded by its lock.
public final class LibvirtStream: LibvirtObject, @unchecked Sendable {
    static let kind = ObjectKind(ref: virStreamRef, free: virStreamFree)

    /// True for a stream made with `VIR_STREAM_NONBLOCK` (event-driven).
    public let isNonBlocking: Bool
    let io: StreamIO

    /// The largest piece one receive asks for: libvirt's RPC payload limit (256 KiB less
    /// its header), so one remote packet is one chunk.
    public static let defaultChunkSize = 262_120

    init(adopting handle: OpaquePointer, connection: Connection, nonBlocking: Bool, readAhead: Int) {
        isNonBlocking = nonBlocking
        io = StreamIO(handle: handle, readAhead: readAhead, pool: connection.pool)
        super.init(adopting: handle, connection: connection, kind: Self.kind)
    }

    deinit {
        // A stream dropped while open is aborted (a remote abort waits for the daemon: on the
        // pool), its callback removed first; the pool job holds its own reference.
        guard io.needsAbortOnRelease() else { return }
        let box = HandleBox(handle)
        _ = virStreamRef(handle)
        let io = self.io
        connection.pool.execute {
            try? io.close(box.pointer, finish: false)
            _ = virStreamFree(box.pointer)
        }
    }

    /// How a stream is being used once it is attached (decides what the callback watches).
    enum Direction { case read, write, both }

    /// Runs `open` (the C call that binds the stream to a volume, console, …) on the pool
    /// and, for a non-blocking stream, registers the event callback in the same job.
    func attach<T: Sendable>(
        direction: Direction, sparse: Bool = false,
        _ open: @escaping @Sendable (OpaquePointer) throws(LibvirtError) -> T
    ) async throws -> T {
        let nonBlocking = isNonBlocking
        let io = self.io
        return try await call { st throws(LibvirtError) in
            let result = try open(st)
            try io.attached(st, direction: direction, sparse: sparse, register: nonBlocking)
            return result
        }
    }

    // MARK: Reading

    /// The stream's bytes as an `AsyncSequence` of chunks (holes of a sparse stream come as
    /// zero bytes). One consumer at a time. Ends at the end of the stream, after
    /// `virStreamFinish` confirmed it; throws the stream's error, or `CancellationError` when
    /// the consuming task is cancelled (the stream is then aborted).
    public var chunks: Chunks { Chunks(stream: self) }

    /// The stream's data and holes (`VIR_STREAM_RECV_STOP_AT_HOLE` + `virStreamRecvHole` on
    /// a stream opened sparse), otherwise like `chunks`.
    public var segments: Segments { Segments(stream: self) }

    /// The next segment, nil at the end (after `virStreamFinish`).
    public func nextSegment(maxBytes: Int = LibvirtStream.defaultChunkSize) async throws -> StreamSegment? {
        guard maxBytes > 0 else { throw LibvirtError(code: .invalidArg, message: "maxBytes must be positive, not \(maxBytes)") }
        let segment: StreamSegment?
        if isNonBlocking {
            segment = try await io.next(stream: self)
        } else {
            let io = self.io
            do {
                segment = try await call { st throws(LibvirtError) in try io.receiveBlocking(st, maxBytes: maxBytes) }
            } catch is CancellationError {
                await abortQuietly()
                throw CancellationError()
            }
        }
        if segment == nil { try await finishAfterEnd() }
        return segment
    }

    /// Everything buffered so far, at least one segment (waiting for it), nil at the end:
    /// for consumers that handle many segments per wake-up (a file download writes them in
    /// one job). Blocking streams return one segment.
    func nextSegments() async throws -> [StreamSegment]? {
        guard isNonBlocking else { return try await nextSegment().map { [$0] } }
        let batch = try await io.next(stream: self, limit: 64)
        if batch == nil { try await finishAfterEnd() }
        return batch
    }

    /// Reads everything up to the end of the stream (holes as zero bytes) and confirms it.
    /// `limit` bounds what is kept: more is a `.invalidArg` error (the stream is aborted).
    public func readAll(limit: Int = 1 << 30) async throws -> [UInt8] {
        var out: [UInt8] = []
        do {
            for try await chunk in chunks {
                guard out.count + chunk.count <= limit else {
                    throw LibvirtError(code: .invalidArg, message: "the stream carries more than \(limit) bytes")
                }
                out += chunk
            }
        } catch {
            await abortQuietly()
            throw error
        }
        return out
    }

    // MARK: Writing

    /// Sends all of `bytes` (`virStreamSend`, on the pool; a non-blocking stream whose
    /// buffer is full waits for the writable event without holding a thread).
    public func write(_ bytes: [UInt8]) async throws {
        var offset = 0
        let io = self.io
        while offset < bytes.count {
            try io.checkWritable()
            let from = offset
            let sent = try await call { st throws(LibvirtError) in try io.send(st, bytes, from: from) }
            if sent == 0 {
                try await io.waitWritable(stream: self)
            }
            offset += sent
        }
    }

    /// Sends text as UTF-8.
    public func write(_ text: String) async throws {
        try await write(Array(text.utf8))
    }

    /// Tells the receiver to create `bytes` of empty space (`virStreamSendHole`; sparse
    /// uploads only).
    public func sendHole(bytes: UInt64) async throws {
        guard let length = Int64(exactly: bytes) else {
            throw LibvirtError(code: .invalidArg, message: "hole of \(bytes) bytes out of range")
        }
        let io = self.io
        try io.checkWritable()
        try await call { st throws(LibvirtError) in
            do throws(LibvirtError) { try cCall("virStreamSendHole", virStreamSendHole(st, length, 0)) } catch {
                io.fail(error)
                throw error
            }
        }
    }

    // MARK: Ending

    /// Confirms the transfer (`virStreamFinish`, after removing the event callback): a
    /// writer calls it after the last write; a reader gets it from the end of `chunks`.
    /// Throws the error libvirt reports for the transfer (the synchronization point for
    /// errors of earlier asynchronous sends).
    public func finish() async throws {
        let io = self.io
        try await call { st throws(LibvirtError) in try io.close(st, finish: true) }
    }

    /// Stops the transfer early (`virStreamAbort`, after removing the event callback). Does
    /// nothing on a stream that already ended.
    public func abort() async throws {
        let io = self.io
        try await call { st throws(LibvirtError) in try io.close(st, finish: false) }
    }

    /// True once the stream was finished, aborted or failed.
    public var isClosed: Bool { io.isClosed }

    func abortQuietly() async {
        // Not `run`: must happen even when the calling task is already cancelled.
        let box = HandleBox(handle)
        let io = self.io
        _ = virStreamRef(handle)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            connection.pool.execute {
                try? io.close(box.pointer, finish: false)
                _ = virStreamFree(box.pointer)
                done.resume()
            }
        }
    }

    private func finishAfterEnd() async throws {
        guard io.takeFinishDuty() else { return }
        try await finish()
    }

    // MARK: Blocking bulk transfers

    /// Receives the whole stream into the file at `path` (created or truncated, mode 0600) on
    /// one pool thread (`virStreamRecvAll`, or `virStreamSparseRecvAll` seeking over holes
    /// when `sparse`), then confirms it. Blocking streams only. Returns the bytes written.
    public func receiveAll(toFile path: String, sparse: Bool = false) async throws -> UInt64 {
        try requireBlocking("receiveAll")
        let io = self.io
        return try await call { st throws(LibvirtError) in try io.receiveAllBlocking(st, path: path, sparse: sparse) }
    }

    /// Sends the whole file at `path` on one pool thread (`virStreamSendAll`, or
    /// `virStreamSparseSendAll` sending holes as holes when `sparse`), then confirms it.
    /// Blocking streams only. Returns the data bytes sent (holes not counted).
    public func sendAll(fromFile path: String, sparse: Bool = false) async throws -> UInt64 {
        try requireBlocking("sendAll")
        let io = self.io
        return try await call { st throws(LibvirtError) in try io.sendAllBlocking(st, path: path, sparse: sparse) }
    }

    private func requireBlocking(_ what: String) throws(LibvirtError) {
        if isNonBlocking {
            throw LibvirtError(code: .operationInvalid, message: "\(what) needs a blocking stream (newStream(nonBlocking: false))")
        }
    }

    // MARK: Sequences

    /// The stream's bytes; see `LibvirtStream.chunks`.
    public struct Chunks: AsyncSequence, Sendable {
        public typealias Element = [UInt8]
        let stream: LibvirtStream
        public func makeAsyncIterator() -> Iterator { Iterator(stream: stream) }
        public struct Iterator: AsyncIteratorProtocol {
            let stream: LibvirtStream
            var pendingZeros: UInt64 = 0
            public mutating func next() async throws -> [UInt8]? {
                while true {
                    if pendingZeros > 0 {
                        let n = Int(Swift.min(pendingZeros, UInt64(LibvirtStream.defaultChunkSize)))
                        pendingZeros -= UInt64(n)
                        return [UInt8](repeating: 0, count: n)
                    }
                    switch try await stream.nextSegment() {
                    case .data(let bytes): return bytes
                    case .hole(let n): pendingZeros = n
                    case nil: return nil
                    }
                }
            }
        }
    }

    /// The stream's data and holes; see `LibvirtStream.segments`.
    public struct Segments: AsyncSequence, Sendable {
        public typealias Element = StreamSegment
        let stream: LibvirtStream
        public func makeAsyncIterator() -> Iterator { Iterator(stream: stream) }
        public struct Iterator: AsyncIteratorProtocol {
            let stream: LibvirtStream
            public mutating func next() async throws -> StreamSegment? { try await stream.nextSegment() }
        }
    }
}

extension Connection {
    /// A new, unattached stream (`virStreamNew`); hand it to an upload, download, console or
    /// screenshot call. `readAhead`: how many received bytes a non-blocking stream buffers
    /// before it stops reading (at least one chunk).
    public func newStream(nonBlocking: Bool = true, readAhead: Int = 4 << 20) async throws -> LibvirtStream {
        let flags: UInt32 = nonBlocking ? VIR_STREAM_NONBLOCK.rawValue : 0
        let ahead = max(readAhead, LibvirtStream.defaultChunkSize)
        return try await call { c throws(LibvirtError) in
            let st = try cObject("virStreamNew", virStreamNew(c, flags))
            return LibvirtStream(adopting: st, connection: self, nonBlocking: nonBlocking, readAhead: ahead)
        }
    }
}
