#if canImport(Glibc)
import Glibc
#endif
import VirtCore

/// Why a capture could not be written.
public struct CaptureError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

/// What ``HostProber/capture(to:sections:)`` wrote.
public struct CaptureSummary: Sendable, Hashable, Codable {
    public var files: Int
    public var links: Int
    public var directories: Int
    /// `/dev/kvm` and friends become empty files: their presence is what a fixture records.
    public var deviceNodes: Int
    /// Sources that vanished or could not be copied between probing and copying.
    public var skipped: [String]
}

extension HostProber {
    /// Probes `sections` while recording every file, link, directory and device node it
    /// touches, then recreates exactly those under `directory` (like hwloc-gather-topology),
    /// so `HostProber(rootPath: directory)` sees the same host. `directory` must be absent
    /// or empty.
    @discardableResult
    @available(*, noasync, message: "blocking I/O; use capture(to:sections:)")
    public func captureSync(to directory: String, sections: Set<ProbeSection> = Set(ProbeSection.allCases)) throws(CaptureError) -> CaptureSummary {
        var absolute = directory
        if !absolute.hasPrefix("/") {
            guard let cwd = getcwd(nil, 0) else { throw CaptureError(path: directory, reason: "getcwd failed") }
            defer { free(cwd) }
            absolute = String(cString: cwd) + "/" + directory
        }
        let out = ProbeRoot.normalize(absolute)
        if let d = opendir(out) {
            var nonEmpty = false
            while let e = readdir(d) {
                let name = withUnsafePointer(to: &e.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
                if name != "." && name != ".." { nonEmpty = true; break }
            }
            closedir(d)
            if nonEmpty { throw CaptureError(path: out, reason: "directory is not empty") }
        }
        let reader = SourceReader(root: root, recording: true)
        do { _ = try run(reader, sections: sections) } catch { throw CaptureError(path: root.path, reason: error.description) }
        guard let rec = reader.recorded else { return CaptureSummary(files: 0, links: 0, directories: 0, deviceNodes: 0, skipped: []) }
        try makeDirectories(out)
        var summary = CaptureSummary(files: 0, links: 0, directories: 0, deviceNodes: 0, skipped: [])
        for dir in rec.directories.sorted() {
            try makeDirectories(out + dir)
            summary.directories += 1
        }
        for (path, target) in rec.links.sorted(by: { $0.key < $1.key }) {
            try makeDirectories(out + parent(path))
            if symlink(target, out + path) != 0, errno != EEXIST {
                throw CaptureError(path: out + path, reason: "symlink: \(String(cString: strerror(errno)))")
            }
            summary.links += 1
        }
        let copier = SourceReader(root: root)
        for path in rec.files.sorted() {
            try makeDirectories(out + parent(path))
            guard case .success(let bytes) = copier.withBytes(path, { Array($0) }) else {
                summary.skipped.append(path)
                continue
            }
            try writeFile(out + path, bytes)
            summary.files += 1
        }
        for path in rec.deviceNodes.sorted() where !rec.files.contains(path) {
            try makeDirectories(out + parent(path))
            try writeFile(out + path, [])
            summary.deviceNodes += 1
        }
        return summary
    }

    /// ``captureSync(to:sections:)`` on `BlockingThreadPool.fileIO`, off the cooperative pool.
    @discardableResult
    public func capture(to directory: String, sections: Set<ProbeSection> = Set(ProbeSection.allCases)) async throws(CaptureError) -> CaptureSummary {
        let probe = self
        do {
            return try await BlockingThreadPool.fileIO.run { () throws(CaptureError) in try probe.captureSync(to: directory, sections: sections) }
        } catch let e as CaptureError {
            throw e
        } catch {
            throw CaptureError(path: directory, reason: "cancelled before the capture started")
        }
    }

    private func parent(_ p: String) -> String {
        guard let i = p.lastIndex(of: "/"), i != p.startIndex else { return "/" }
        return String(p[..<i])
    }

    private func makeDirectories(_ path: String) throws(CaptureError) {
        var cur = ""
        for comp in path.split(separator: "/") {
            cur += "/" + comp
            if mkdir(cur, 0o755) != 0, errno != EEXIST {
                throw CaptureError(path: cur, reason: "mkdir: \(String(cString: strerror(errno)))")
            }
        }
    }

    private func writeFile(_ path: String, _ bytes: [UInt8]) throws(CaptureError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CaptureError(path: path, reason: "open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, bytes.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CaptureError(path: path, reason: "write: \(String(cString: strerror(errno)))")
            }
            off += n
        }
    }
}
