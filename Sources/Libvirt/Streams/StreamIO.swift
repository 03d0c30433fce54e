import CLibvirt
import Foundation
import VirtCore

/// The state a `LibvirtStream` shares with its C event callback: the receive buffer, the
/// waiting reader and writer, what the callback watches, and how the stream ended.
///
/// The callback runs on the `LibvirtEventLoop` thread and reads without waiting; every C call
/// that changes what it watches (`virStreamEventUpdateCallback`/`RemoveCallback`) is made with
/// `lock` held, so the watched set always matches the state (libvirt releases its own stream
/// lock before calling the callback, so the lock order is always ours → libvirt's).
///
/// Sendable: `@unchecked` because every mutable field is guarded by `lock`.
final class StreamIO: @unchecked Sendable {
    enum End: Sendable { case open, endOfStream, finished, aborted, failed(LibvirtError) }

    private let lock = NSLock()
    private let handle: OpaquePointer
    private let pool: BlockingThreadPool
    private let readAhead: Int

    private var attachedToObject = false
    private var registered = false
    private var watched: Int32 = 0
    private var reads = false
    private var sparse = false
    private var end: End = .open
    private var finishPending = false
    private var buffer: [StreamSegment] = []
    private var head = 0
    private var bufferedBytes = 0
    private var rearmQueued = false
    private var reader: CheckedContinuation<Void, Never>?
    private var writer: CheckedContinuation<Void, Never>?
    private var writableSeen = false

    init(handle: OpaquePointer, readAhead: Int, pool: BlockingThreadPool) {
        self.handle = handle
        self.readAhead = readAhead
        self.pool = pool
    }

    var isClosed: Bool {
        lock.lock(); defer { lock.unlock() }
        if case .open = end { return false }
        if case .endOfStream = end { return false }
        return true
    }

    // MARK: Attaching and the callback

    /// Called on the pool right after the stream was bound: remembers how it is used and,
    /// for a non-blocking stream, registers the callback.
    func attached(_ st: OpaquePointer, direction: LibvirtStream.Direction, sparse: Bool, register: Bool) throws(LibvirtError) {
        lock.lock(); defer { lock.unlock() }
        attachedToObject = true
        reads = direction != .write
        self.sparse = sparse
        guard register else { return }
        let events = wantedEvents()
        let opaque = Unmanaged.passRetained(self).toOpaque()
        let rc = virStreamEventAddCallback(st, events, { st, events, opaque in
            guard let st, let opaque else { return }
            Unmanaged<StreamIO>.fromOpaque(opaque).takeUnretainedValue().dispatch(st, events: events)
        }, opaque, { opaque in
            guard let opaque else { return }
            Unmanaged<StreamIO>.fromOpaque(opaque).release()
        })
        if rc < 0 {
            Unmanaged<StreamIO>.fromOpaque(opaque).release()
            let error = LibvirtError.takeLast(after: "virStreamEventAddCallback")
            end = .failed(error)
            throw error
        }
        registered = true
        watched = events
    }

    /// What the callback should watch now (lock held).
    private func wantedEvents() -> Int32 {
        var events: Int32 = 0
        if reads, case .open = end, bufferedBytes < readAhead {
            events |= Int32(VIR_STREAM_EVENT_READABLE.rawValue | VIR_STREAM_EVENT_ERROR.rawValue | VIR_STREAM_EVENT_HANGUP.rawValue)
        }
        if writer != nil { events |= Int32(VIR_STREAM_EVENT_WRITABLE.rawValue | VIR_STREAM_EVENT_ERROR.rawValue) }
        return events
    }

    /// Updates what the callback watches (lock held).
    private func rewatch(_ st: OpaquePointer) {
        guard registered else { return }
        let events = wantedEvents()
        guard events != watched else { return }
        if virStreamEventUpdateCallback(st, events) < 0 {
            failLocked(LibvirtError.takeLast(after: "virStreamEventUpdateCallback"))
            return
        }
        watched = events
    }

    /// The event callback, on the event-loop thread: reads what is there without waiting.
    private func dispatch(_ st: OpaquePointer, events: Int32) {
        var wake: [CheckedContinuation<Void, Never>] = []
        lock.lock()
        guard registered else { lock.unlock(); return }
        if events & Int32(VIR_STREAM_EVENT_WRITABLE.rawValue | VIR_STREAM_EVENT_ERROR.rawValue | VIR_STREAM_EVENT_HANGUP.rawValue) != 0 {
            writableSeen = true
            if let w = writer { wake.append(w); writer = nil }
        }
        if reads, events & Int32(VIR_STREAM_EVENT_READABLE.rawValue | VIR_STREAM_EVENT_ERROR.rawValue | VIR_STREAM_EVENT_HANGUP.rawValue) != 0 {
            receiveAvailable(st)
            if let r = reader, head < buffer.count || !isOpenLocked { wake.append(r); reader = nil }
        }
        rewatch(st)
        lock.unlock()
        for c in wake { c.resume() }
    }

    private var isOpenLocked: Bool { if case .open = end { true } else { false } }

    /// Reads without waiting until libvirt has nothing more or the buffer is full (lock held).
    private func receiveAvailable(_ st: OpaquePointer) {
        let flags: UInt32 = sparse ? VIR_STREAM_RECV_STOP_AT_HOLE.rawValue : 0
        while isOpenLocked && bufferedBytes < readAhead {
            switch receiveOne(st, maxBytes: LibvirtStream.defaultChunkSize, flags: flags) {
            case .success(let segment?): append(segment)
            case .success(nil): end = .endOfStream
            case .failure(.wouldBlock): return
            case .failure(.error(let e)): failLocked(e)
            }
        }
    }

    enum ReceiveFailure: Error { case wouldBlock, error(LibvirtError) }

    /// One `virStreamRecvFlags` (and `virStreamRecvHole` at a hole): a segment, nil at the end.
    private func receiveOne(_ st: OpaquePointer, maxBytes: Int, flags: UInt32) -> Result<StreamSegment?, ReceiveFailure> {
        var rc: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: maxBytes) { buf, count in
            rc = buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: maxBytes) {
                flags == 0 ? virStreamRecv(st, $0, maxBytes) : virStreamRecvFlags(st, $0, maxBytes, flags)
            }
            count = rc > 0 ? Int(rc) : 0
        }
        switch rc {
        case 1...: return .success(.data(bytes))
        case 0: return .success(nil)
        case -2: return .failure(.wouldBlock)
        case -3:
            var length: Int64 = 0
            guard virStreamRecvHole(st, &length, 0) == 0 else {
                return .failure(.error(LibvirtError.takeLast(after: "virStreamRecvHole")))
            }
            return .success(.hole(bytes: UInt64(max(length, 0))))
        default: return .failure(.error(LibvirtError.takeLast(after: flags == 0 ? "virStreamRecv" : "virStreamRecvFlags")))
        }
    }

    private func append(_ segment: StreamSegment) {
        buffer.append(segment)
        if case .data(let d) = segment { bufferedBytes += d.count }
    }

    // MARK: Reader

    /// What a reader finds without waiting.
    private enum Poll { case segments([StreamSegment]), end, failed(LibvirtError), notAttached, empty }

    /// Takes up to `limit` buffered segments (at least one when there is any), or says why
    /// there is none; re-arms the callback on the pool once the buffer has drained to half.
    private func poll(limit: Int) -> Poll {
        lock.lock()
        if head < buffer.count {
            let n = Swift.min(limit, buffer.count - head)
            let taken = Array(buffer[head..<(head + n)])
            head += n
            for case .data(let d) in taken { bufferedBytes -= d.count }
            if head == buffer.count || head > 64 { buffer.removeFirst(head); head = 0 }
            let rearm = registered && reads && isOpenLocked && watched & Int32(VIR_STREAM_EVENT_READABLE.rawValue) == 0
                && bufferedBytes <= readAhead / 2 && !rearmQueued
            if rearm { rearmQueued = true }
            lock.unlock()
            if rearm {
                // The C update runs on the pool, not on the reader's (cooperative) thread.
                pool.execute { [self] in
                    lock.lock()
                    rearmQueued = false
                    rewatch(handle)
                    lock.unlock()
                }
            }
            return .segments(taken)
        }
        defer { lock.unlock() }
        switch end {
        case .open: return attachedToObject ? .empty : .notAttached
        case .endOfStream:
            finishPending = true
            return .end
        case .finished, .aborted: return .end
        case .failed(let e): return .failed(e)
        }
    }

    /// Parks `c` until the callback has something (resumes it at once if it already has).
    private func park(_ c: CheckedContinuation<Void, Never>) {
        lock.lock()
        if head < buffer.count || !isOpenLocked || Task.isCancelled {
            lock.unlock()
            c.resume()
        } else {
            reader = c
            lock.unlock()
        }
    }

    private func unpark() {
        lock.lock()
        let r = reader
        reader = nil
        lock.unlock()
        r?.resume()
    }

    /// The next buffered segment of a non-blocking stream, waiting (without a thread) for
    /// the callback; nil at the end of the stream.
    func next(stream: LibvirtStream) async throws -> StreamSegment? {
        try await next(stream: stream, limit: 1)?.first
    }

    /// Up to `limit` buffered segments at once (what arrived since the last call), waiting
    /// for at least one; nil at the end of the stream.
    func next(stream: LibvirtStream, limit: Int) async throws -> [StreamSegment]? {
        while true {
            switch poll(limit: limit) {
            case .segments(let s): return s
            case .end: return nil
            case .failed(let e): throw e
            case .notAttached:
                throw LibvirtError(code: .operationInvalid, message: "the stream is not attached to a volume, console or screenshot yet")
            case .empty: break
            }
            if Task.isCancelled {
                await stream.abortQuietly()
                throw CancellationError()
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { park($0) }
            } onCancel: {
                unpark()
            }
        }
    }

    /// True once (for the caller that should confirm an ended stream with `virStreamFinish`).
    func takeFinishDuty() -> Bool {
        lock.lock(); defer { lock.unlock() }
        let duty = finishPending
        finishPending = false
        return duty
    }

    /// One blocking receive on a pool thread (blocking streams).
    func receiveBlocking(_ st: OpaquePointer, maxBytes: Int) throws(LibvirtError) -> StreamSegment? {
        lock.lock()
        switch end {
        case .failed(let e): lock.unlock(); throw e
        case .finished, .aborted, .endOfStream: lock.unlock(); return nil
        case .open: break
        }
        let flags: UInt32 = sparse ? VIR_STREAM_RECV_STOP_AT_HOLE.rawValue : 0
        lock.unlock()
        switch receiveOne(st, maxBytes: maxBytes, flags: flags) {
        case .success(let s?): return s
        case .success(nil):
            lock.lock(); end = .endOfStream; finishPending = true; lock.unlock()
            return nil
        case .failure(.wouldBlock):
            throw LibvirtError(code: .internalError, message: "a blocking stream reported no data (-2)", function: "virStreamRecvFlags")
        case .failure(.error(let e)):
            fail(e)
            throw e
        }
    }

    // MARK: Writer

    /// Throws when the stream can no longer be written.
    func checkWritable() throws(LibvirtError) {
        lock.lock(); defer { lock.unlock() }
        switch end {
        case .open: return
        case .failed(let e): throw e
        default: throw LibvirtError(code: .operationInvalid, message: "the stream has ended", function: nil)
        }
    }

    /// `virStreamSend`s of at most one RPC payload each from `bytes[from...]`, in one pool
    /// job until all is sent or a non-blocking stream's buffer is full: the bytes sent (0
    /// when the first send found it full).
    func send(_ st: OpaquePointer, _ bytes: [UInt8], from: Int) throws(LibvirtError) -> Int {
        lock.lock()
        writableSeen = false
        lock.unlock()
        var offset = from
        while offset < bytes.count {
            let count = min(bytes.count - offset, LibvirtStream.defaultChunkSize)
            let rc = bytes.withUnsafeBufferPointer { buf in
                buf.baseAddress!.advanced(by: offset).withMemoryRebound(to: CChar.self, capacity: count) { virStreamSend(st, $0, count) }
            }
            if rc == -2 { break }
            if rc < 0 {
                let e = LibvirtError.takeLast(after: "virStreamSend")
                fail(e)
                throw e
            }
            offset += Int(rc)
        }
        return offset - from
    }

    /// Waits (without a thread) for the writable event after a send found the buffer full.
    func waitWritable(stream: LibvirtStream) async throws {
        try Task.checkCancellation()
        await withTaskCancellationHandler {
            await withCheckedContinuation { parkWriter($0) }
        } onCancel: {
            lock.lock()
            let w = writer
            writer = nil
            lock.unlock()
            w?.resume()
        }
        if Task.isCancelled {
            await stream.abortQuietly()
            throw CancellationError()
        }
    }

    private func parkWriter(_ c: CheckedContinuation<Void, Never>) {
        lock.lock()
        if writableSeen || !isOpenLocked || !registered || Task.isCancelled {
            writableSeen = false
            lock.unlock()
            c.resume()
            return
        }
        writer = c
        rewatch(handle)
        lock.unlock()
    }

    // MARK: Ending

    /// Records a failure and wakes the waiters.
    func fail(_ error: LibvirtError) {
        lock.lock()
        failLocked(error)
        let waiters = takeWaiters()
        lock.unlock()
        for c in waiters { c.resume() }
    }

    private func failLocked(_ error: LibvirtError) {
        if case .open = end { end = .failed(error) } else if case .endOfStream = end { end = .failed(error) }
    }

    private func takeWaiters() -> [CheckedContinuation<Void, Never>] {
        let all = [reader, writer].compactMap { $0 }
        reader = nil
        writer = nil
        return all
    }

    /// Removes the callback, then `virStreamFinish` (`finish`) or `virStreamAbort`, on a pool
    /// thread. An abort of an ended stream does nothing; a finish of an aborted one throws.
    func close(_ st: OpaquePointer?, finish: Bool) throws(LibvirtError) {
        guard let st else { return }
        lock.lock()
        if registered {
            registered = false
            watched = 0
            if virStreamEventRemoveCallback(st) < 0 { virResetLastError() }  // the stream may already be gone
        }
        let state = end
        let waiters = takeWaiters()
        var result: LibvirtError?
        switch (state, finish) {
        case (.finished, true): break
        case (.aborted, true):
            result = LibvirtError(code: .operationInvalid, message: "the stream was aborted")
        case (.failed(let e), true): result = e
        case (.open, true), (.endOfStream, true):
            finishPending = false
            if virStreamFinish(st) < 0 {
                let e = LibvirtError.takeLast(after: "virStreamFinish")
                end = .failed(e)
                result = e
            } else {
                end = .finished
            }
        case (.open, false), (.endOfStream, false):
            finishPending = false
            end = .aborted
            if attachedToObject, virStreamAbort(st) < 0 {
                // libvirt may already have ended it (the peer closed, an earlier error).
                let e = LibvirtError.takeLast(after: "virStreamAbort")
                if e.code != .invalidStream && e.code != .operationInvalid { result = e }
            }
        case (.failed, false):
            // libvirt marks a failed stream aborted itself; an abort now only clears state.
            if attachedToObject { _ = virStreamAbort(st); virResetLastError() }
        case (.finished, false), (.aborted, false): break
        }
        lock.unlock()
        for c in waiters { c.resume() }
        if let result { throw result }
    }

    /// True when a dropped stream still needs its abort.
    func needsAbortOnRelease() -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard attachedToObject else { return false }
        switch end {
        case .open, .endOfStream: return true
        case .failed: return registered
        default: return false
        }
    }
}
