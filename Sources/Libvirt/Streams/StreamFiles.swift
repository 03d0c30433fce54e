import CLibvirt
import Foundation
import VirtCore

/// A file a bulk transfer reads or writes, and what it moved (the opaque context of
/// libvirt's sink/source callbacks, used on one pool thread only).
final class StreamFileContext {
    let file: TransferFile
    var fd: Int32 { file.fd }
    var bytes: UInt64 = 0
    var failure: Int32 = 0

    init(path: String, writing: Bool) throws(LibvirtError) { file = try TransferFile(path: path, writing: writing) }
}

extension LibvirtError {
    /// A file error of a transfer VirtKit runs itself (libvirt's convention: `VIR_ERR_SYSTEM_ERROR`).
    static func file(_ operation: String, _ path: String, _ code: Int32) -> LibvirtError {
        LibvirtError(code: .systemError, message: "\(operation) \(path): \(String(cString: strerror(code)))")
    }
}

private func context(_ opaque: UnsafeMutableRawPointer?) -> StreamFileContext {
    Unmanaged<StreamFileContext>.fromOpaque(opaque!).takeUnretainedValue()
}

extension StreamIO {
    /// `virStreamRecvAll` / `virStreamSparseRecvAll` into `path`, then `virStreamFinish`.
    func receiveAllBlocking(_ st: OpaquePointer, path: String, sparse: Bool) throws(LibvirtError) -> UInt64 {
        let file = try StreamFileContext(path: path, writing: true)
        let opaque = Unmanaged.passUnretained(file).toOpaque()
        let sink: virStreamSinkFunc = { _, data, n, opaque in
            let ctx = context(opaque)
            var done = 0
            while done < n {
                let w = write(ctx.fd, data!.advanced(by: done), n - done)
                if w < 0 { if errno == EINTR { continue }; ctx.failure = errno; return -1 }
                done += w
            }
            ctx.bytes += UInt64(n)
            return Int32(n)
        }
        let rc: Int32
        if sparse {
            rc = withExtendedLifetime(file) {
                virStreamSparseRecvAll(st, sink, { _, length, opaque in
                    let ctx = context(opaque)
                    guard lseek(ctx.fd, off_t(length), SEEK_CUR) >= 0 else { ctx.failure = errno; return -1 }
                    ctx.bytes += UInt64(length)
                    return 0
                }, opaque)
            }
        } else {
            rc = withExtendedLifetime(file) { virStreamRecvAll(st, sink, opaque) }
        }
        try check(rc, file, "write", path, sparse ? "virStreamSparseRecvAll" : "virStreamRecvAll")
        // A trailing hole was only seeked over: give the file its full length.
        if sparse, ftruncate(file.fd, off_t(file.bytes)) < 0 { throw LibvirtError.file("ftruncate", path, errno) }
        try close(st, finish: true)
        return file.bytes
    }

    /// `virStreamSendAll` / `virStreamSparseSendAll` from `path`, then `virStreamFinish`.
    func sendAllBlocking(_ st: OpaquePointer, path: String, sparse: Bool) throws(LibvirtError) -> UInt64 {
        let file = try StreamFileContext(path: path, writing: false)
        let opaque = Unmanaged.passUnretained(file).toOpaque()
        let source: virStreamSourceFunc = { _, data, n, opaque in
            let ctx = context(opaque)
            while true {
                let r = read(ctx.fd, data, n)
                if r < 0 && errno == EINTR { continue }
                if r < 0 { ctx.failure = errno; return -1 }
                ctx.bytes += UInt64(r)
                return Int32(r)
            }
        }
        let rc: Int32
        if sparse {
            rc = withExtendedLifetime(file) {
                virStreamSparseSendAll(st, source, { _, inData, length, opaque in
                    // Where the current section ends: seekData / seekHole from here, the
                    // position left unchanged.
                    let ctx = context(opaque)
                    let here = lseek(ctx.fd, 0, SEEK_CUR)
                    let size = lseek(ctx.fd, 0, SEEK_END)
                    defer { lseek(ctx.fd, here, SEEK_SET) }
                    guard here >= 0, size >= 0 else { ctx.failure = errno; return -1 }
                    let data = lseek(ctx.fd, here, seekData)
                    if data < 0 && errno != ENXIO { ctx.failure = errno; return -1 }
                    if data < 0 || data > here {
                        // In a hole (to the next data, or the implicit one at the end).
                        inData!.pointee = 0
                        length!.pointee = Int64((data < 0 ? size : data) - here)
                    } else {
                        let hole = lseek(ctx.fd, here, seekHole)
                        guard hole >= 0 else { ctx.failure = errno; return -1 }
                        inData!.pointee = 1
                        length!.pointee = Int64(hole - here)
                    }
                    return 0
                }, { _, length, opaque in
                    let ctx = context(opaque)
                    guard lseek(ctx.fd, off_t(length), SEEK_CUR) >= 0 else { ctx.failure = errno; return -1 }
                    return 0
                }, opaque)
            }
        } else {
            rc = withExtendedLifetime(file) { virStreamSendAll(st, source, opaque) }
        }
        try check(rc, file, "read", path, sparse ? "virStreamSparseSendAll" : "virStreamSendAll")
        try close(st, finish: true)
        return file.bytes
    }

    /// A failed bulk transfer: the file's error when a callback failed, else libvirt's
    /// (which has already aborted the stream); recorded for later calls.
    private func check(_ rc: Int32, _ file: StreamFileContext, _ operation: String, _ path: String, _ function: StaticString) throws(LibvirtError) {
        guard rc < 0 else { return }
        let e = file.failure != 0 ? LibvirtError.file(operation, path, file.failure) : LibvirtError.takeLast(after: function)
        virResetLastError()
        fail(e)
        throw e
    }
}
