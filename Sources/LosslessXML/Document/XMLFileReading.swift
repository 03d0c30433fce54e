#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import VirtCore

/// Why an XML file could not be read (before any parsing).
public struct XMLFileError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: Hashable, Sendable {
        /// `open`/`fstat`/`read` failed with this errno.
        case system(errno: Int32)
        /// Larger than `XMLParseLimits.maxDocumentBytes` (the size, when known from `fstat`).
        case tooLarge(bytes: Int?, limit: Int)
        /// A directory, socket or other object that is not a document.
        case notAFile
    }

    public var path: String
    public var reason: Reason

    public var description: String {
        switch reason {
        case .system(let e): return "\(path): \(String(cString: strerror(e)))"
        case .tooLarge(let bytes?, let limit): return "\(path): \(bytes) bytes, above the \(limit)-byte document limit"
        case .tooLarge(nil, let limit): return "\(path): more than the \(limit)-byte document limit"
        case .notAFile: return "\(path): not a regular file"
        }
    }
}

extension LosslessXMLDocument {
    /// Reads a document file without ever holding more than `limits.maxDocumentBytes + 1`
    /// bytes of it: a regular file's size is checked with `fstat` before reading; a FIFO or
    /// character device is opened non-blocking (a FIFO without a writer reads as empty rather
    /// than hanging) and read up to the limit. Directories and sockets are refused.
    @available(*, noasync, message: "blocks on file I/O; use readFile(atPath:limits:)")
    public static func readFileBlocking(atPath path: String, limits: XMLParseLimits = .default) throws(XMLFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw XMLFileError(path: path, reason: .system(errno: errno)) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw XMLFileError(path: path, reason: .system(errno: errno)) }
        let type = st.st_mode & S_IFMT
        let limit = limits.maxDocumentBytes
        var capacity = limit + 1
        if type == S_IFREG {
            guard st.st_size <= off_t(limit) else {
                throw XMLFileError(path: path, reason: .tooLarge(bytes: Int(truncatingIfNeeded: st.st_size), limit: limit))
            }
            capacity = Int(st.st_size) + 1   // +1 sees a file that grew since fstat
        } else if type != S_IFIFO && type != S_IFCHR {
            throw XMLFileError(path: path, reason: .notAFile)
        }
        var bytes = [UInt8](repeating: 0, count: min(capacity, 1 << 20))
        var count = 0
        while true {
            if count == bytes.count {
                guard bytes.count < capacity else { break }
                bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, capacity - bytes.count)))
            }
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                // A FIFO whose writer has not written yet: what arrived so far is the document.
                if errno == EAGAIN { break }
                throw XMLFileError(path: path, reason: .system(errno: errno))
            }
            count += n
        }
        guard count <= limit else { throw XMLFileError(path: path, reason: .tooLarge(bytes: nil, limit: limit)) }
        bytes.removeSubrange(count...)
        return bytes
    }

    /// `readFileBlocking(atPath:limits:)` on `BlockingThreadPool.fileIO`.
    public static func readFile(atPath path: String, limits: XMLParseLimits = .default) async throws -> [UInt8] {
        try await BlockingThreadPool.fileIO.run { () throws(XMLFileError) -> [UInt8] in
            try readFileBlocking(atPath: path, limits: limits)
        }
    }
}
