import CLibvirt
import Foundation
import VirtCore

/// How a file transfer drives its stream.
public enum StreamTransferMode: Hashable, Sendable {
    /// A non-blocking stream driven by the event loop; file reads and writes on
    /// `BlockingThreadPool.fileIO`; pool threads only for the sends. The default.
    case eventDriven
    /// A blocking stream moved by libvirt's own loop (`virStream(Sparse)RecvAll`/`SendAll`)
    /// on one pool thread for the whole transfer, like `virsh vol-upload`/`vol-download`.
    case blockingThread
}

extension StorageVolume {
    /// Binds `stream` (a new non-blocking one by default) to the volume's content from
    /// `offset`, `length` bytes (0: to the end) (`virStorageVolDownload`); read it with
    /// `chunks` or, when `sparse`, `segments` (holes as holes).
    public func download(offset: UInt64 = 0, length: UInt64 = 0, sparse: Bool = false, stream: LibvirtStream? = nil) async throws -> LibvirtStream {
        let flags: UInt32 = sparse ? VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM.rawValue : 0
        return try await bind(stream, .read, offset: offset, length: length, sparse: sparse) { [self] s throws(LibvirtError) in
            try cCall("virStorageVolDownload", virStorageVolDownload(handle, s, offset, length, flags))
        }
    }

    /// Binds `stream` to write the volume from `offset`, `length` bytes (0: to the end)
    /// (`virStorageVolUpload`); `write(_:)` (and `sendHole(bytes:)` when `sparse`), then
    /// `finish()`.
    public func upload(offset: UInt64 = 0, length: UInt64 = 0, sparse: Bool = false, stream: LibvirtStream? = nil) async throws -> LibvirtStream {
        let flags: UInt32 = sparse ? VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM.rawValue : 0
        return try await bind(stream, .write, offset: offset, length: length, sparse: sparse) { [self] s throws(LibvirtError) in
            try cCall("virStorageVolUpload", virStorageVolUpload(handle, s, offset, length, flags))
        }
    }

    /// Checks the range, then binds `given` (or a new non-blocking stream) with `open`.
    private func bind(
        _ given: LibvirtStream?, _ direction: LibvirtStream.Direction, offset: UInt64, length: UInt64, sparse: Bool,
        _ open: @escaping @Sendable (OpaquePointer) throws(LibvirtError) -> Void
    ) async throws -> LibvirtStream {
        try await checkRange(offset: offset, length: length, direction == .read ? "download" : "upload")
        let st = try await transferStream(given)
        try await st.attach(direction: direction, sparse: sparse, open)
        return st
    }

    /// libvirt streams a `dir` volume's file as it is and lets a transfer run past its end
    /// (an upload grows the file beyond the volume's capacity; a download past the end is an
    /// empty stream), so a range outside the volume is refused here: the larger of the
    /// capacity and the host file's size (`virStorageVolGetInfo`, `…Flags` physical).
    private func checkRange(offset: UInt64, length: UInt64, _ what: String) async throws {
        let capacity = try await info().capacity.bytes
        let physical = (try? await info(physical: true).allocation.bytes) ?? 0
        let bound = Swift.max(capacity, physical)
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, offset <= bound, end <= bound else {
            throw LibvirtError(code: .invalidArg, message: "\(what) of bytes \(offset)..<\(overflow ? UInt64.max : end) is outside volume \(name) (\(bound) bytes)")
        }
    }

    private func transferStream(_ given: LibvirtStream?) async throws -> LibvirtStream {
        guard let given else { return try await connection.newStream() }
        guard given.connection === connection else {
            throw LibvirtError(code: .invalidArg, message: "the stream belongs to another connection")
        }
        return given
    }

    /// Downloads the volume into the file at `path` (created or truncated, mode 0600);
    /// `sparse`: holes stay holes in the file. `progress` gets the bytes done so far.
    /// Returns the volume bytes transferred.
    public func download(
        toFile path: String, offset: UInt64 = 0, length: UInt64 = 0, sparse: Bool = false,
        mode: StreamTransferMode = .eventDriven, progress: (@Sendable (UInt64) -> Void)? = nil
    ) async throws -> UInt64 {
        switch mode {
        case .blockingThread:
            let st = try await connection.newStream(nonBlocking: false)
            _ = try await download(offset: offset, length: length, sparse: sparse, stream: st)
            let n = try await st.receiveAll(toFile: path, sparse: sparse)
            progress?(n)
            return n
        case .eventDriven:
            let file = try await BlockingThreadPool.fileIO.run { () throws(LibvirtError) in try TransferFile(path: path, writing: true) }
            let st = try await download(offset: offset, length: length, sparse: sparse,
                                        stream: connection.newStream(readAhead: 8 << 20))
            var done: UInt64 = 0
            do {
                // The loop runs on the file-I/O pool (its writes then run in place, and the
                // event callback resumes it there: one wake-up per batch); each batch is what
                // arrived since the last wake-up, written in one go.
                done = try await withTaskExecutorPreference(BlockingThreadPool.fileIO) {
                    var at: UInt64 = 0
                    while let batch = try await st.nextSegments() {
                        let from = at
                        at = try await BlockingThreadPool.fileIO.run { () throws(LibvirtError) in try file.write(batch, at: from) }
                        progress?(at)
                    }
                    return at
                }
                let size = done
                try await BlockingThreadPool.fileIO.run { () throws(LibvirtError) in try file.finish(size: size) }
            } catch {
                await st.abortQuietly()
                throw error
            }
            return done
        }
    }

    /// Uploads the file at `path` into the volume from `offset` (its whole size; a file
    /// larger than the volume is refused by libvirt). `sparse`: the file's holes are sent
    /// as holes. Returns the file bytes covered (data and holes).
    public func upload(
        fromFile path: String, offset: UInt64 = 0, sparse: Bool = false,
        mode: StreamTransferMode = .eventDriven, progress: (@Sendable (UInt64) -> Void)? = nil
    ) async throws -> UInt64 {
        let file = try await BlockingThreadPool.fileIO.run { () throws(LibvirtError) in try TransferFile(path: path, writing: false) }
        let size = file.size
        switch mode {
        case .blockingThread:
            let st = try await connection.newStream(nonBlocking: false)
            _ = try await upload(offset: offset, length: size, sparse: sparse, stream: st)
            _ = try await st.sendAll(fromFile: path, sparse: sparse)
            progress?(size)
            return size
        case .eventDriven:
            let st = try await upload(offset: offset, length: size, sparse: sparse)
            var done: UInt64 = 0
            do {
                // One read ahead: the next piece is read while the current one is sent.
                var next = try await BlockingThreadPool.fileIO.run { () throws(LibvirtError) in try file.section(at: 0, sparse: sparse) }
                while let section = next {
                    let after = done + section.length
                    async let following = BlockingThreadPool.fileIO.run { () throws(LibvirtError) in try file.section(at: after, sparse: sparse) }
                    switch section {
                    case .data(let bytes): try await st.write(bytes)
                    case .hole(let n): try await st.sendHole(bytes: n)
                    }
                    done = after
                    progress?(done)
                    next = try await following
                }
                try await st.finish()
            } catch {
                await st.abortQuietly()
                throw error
            }
            return done
        }
    }
}

/// `lseek` whences Glibc's Swift module doesn't export (Linux values).
let seekData: Int32 = 3
let seekHole: Int32 = 4

/// A file an event-driven transfer reads or writes on the file-I/O pool (positional I/O, so
/// the sections need no shared offset). `@unchecked Sendable`: the descriptor is immutable;
/// each call is one positional system call.
final class TransferFile: @unchecked Sendable {
    let fd: Int32
    let path: String
    let size: UInt64

    init(path: String, writing: Bool) throws(LibvirtError) {
        // Reading: O_NONBLOCK so a FIFO opens at once and is refused below, instead of the
        // open waiting for a writer (no effect on the regular files that are read).
        let fd = writing ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600) : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw LibvirtError.file("open", path, errno) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { let e = errno; close(fd); throw LibvirtError.file("stat", path, e) }
        guard writing || (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw LibvirtError(code: .invalidArg, message: "\(path) is not a regular file")
        }
        self.fd = fd
        self.path = path
        self.size = UInt64(st.st_size)
    }

    deinit { close(fd) }

    enum Section {
        case data([UInt8])
        case hole(UInt64)
        var length: UInt64 {
            switch self {
            case .data(let b): UInt64(b.count)
            case .hole(let n): n
            }
        }
    }

    /// The piece of the file at `offset` (at most 1 MiB of data, or a whole hole when
    /// `sparse`), nil at the end.
    func section(at offset: UInt64, sparse: Bool) throws(LibvirtError) -> Section? {
        guard offset < size else { return nil }
        var dataEnd = size
        if sparse {
            let data = lseek(fd, off_t(offset), seekData)
            if data < 0 && errno != ENXIO { throw LibvirtError.file("lseek", path, errno) }
            if data < 0 || UInt64(data) > offset { return .hole((data < 0 ? size : UInt64(data)) - offset) }
            let hole = lseek(fd, off_t(offset), seekHole)
            if hole < 0 { throw LibvirtError.file("lseek", path, errno) }
            dataEnd = UInt64(hole)
        }
        let count = Int(min(dataEnd - offset, 1 << 20))
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buf, n in
            n = 0
            while n < count {
                let r = pread(fd, buf.baseAddress! + n, count - n, off_t(offset) + off_t(n))
                if r < 0 && errno == EINTR { continue }
                if r < 0 { failure = errno; break }
                if r == 0 { break }
                n += r
            }
        }
        if failure != 0 { throw LibvirtError.file("read", path, failure) }
        guard !bytes.isEmpty else { throw LibvirtError(code: .systemError, message: "\(path) shrank during the upload") }
        return .data(bytes)
    }

    /// Writes data segments from `offset` on, seeking over holes; returns the end offset.
    func write(_ segments: [StreamSegment], at offset: UInt64) throws(LibvirtError) -> UInt64 {
        var at = offset
        for segment in segments {
            switch segment {
            case .data(let bytes):
                try write(bytes, at: at)
                at += UInt64(bytes.count)
            case .hole(let n):
                at += n
            }
        }
        return at
    }

    func write(_ bytes: [UInt8], at offset: UInt64) throws(LibvirtError) {
        var done = 0
        while done < bytes.count {
            let w = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done)) }
            if w < 0 && errno == EINTR { continue }
            if w < 0 { throw LibvirtError.file("write", path, errno) }
            done += w
        }
    }

    /// Gives the file its final length (a trailing hole was only skipped).
    func finish(size: UInt64) throws(LibvirtError) {
        if ftruncate(fd, off_t(size)) < 0 { throw LibvirtError.file("ftruncate", path, errno) }
    }
}
