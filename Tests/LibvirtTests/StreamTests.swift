import CLibvirt
import Foundation
@testable import Libvirt
import Testing
import VirtCore
import VirtKitTestSupport

/// `LibvirtStream` on libvirt's embedded test driver: its screenshot is a real stream (an
/// fd stream over `/usr/share/libvirt/test-screenshot.png`), read event-driven and blocking;
/// upload, download, console and channel are not in the 9.0 test driver, so they are typed
/// errors naming the function; misuse of a stream is a typed error, never a crash.
@Suite struct StreamTests {
    static let screenshotFile = "/usr/share/libvirt/test-screenshot.png"

    /// A private test node with one running guest and a pool holding one 1 MiB volume.
    static func node() async throws -> Connection {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("virtkit-streams-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).xml").path
        try """
        <node>
          <domain type='test'><name>test</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>
          <pool type='dir'>
            <name>stream-pool</name>
            <capacity unit='MiB'>64</capacity><allocation>0</allocation><available unit='MiB'>64</available>
            <source/><target><path>/stream-pool</path></target>
            <volume type='file'><name>disk.img</name><capacity unit='MiB'>1</capacity><allocation>0</allocation>
              <target><path>/stream-pool/disk.img</path></target></volume>
          </pool>
        </node>
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return try await Connection.open("test://\(path)")
    }

    static func screenshotBytes() throws -> [UInt8]? {
        guard let d = FileManager.default.contents(atPath: screenshotFile) else {
            LiveEnvironment.unavailable("\(screenshotFile) missing (apt install libvirt-daemon)")
            return nil
        }
        return Array(d)
    }

    @Test func screenshotStreamsTheDriversImageEventDriven() async throws {
        guard let expected = try Self.screenshotBytes() else { return }
        let conn = try await Self.node()
        defer { Task { await conn.close() } }
        let dom = try await conn.domain(named: "test")
        let shot = try await dom.screenshot()
        #expect(shot.mimeType == "image/png")
        #expect(shot.data == expected, "\(shot.data.count) bytes vs \(expected.count)")
        #expect(Array(shot.data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // The limit is enforced (and the stream aborted, not leaked).
        await ObjectKindTests.expectError(.invalidArg, nil) { _ = try await dom.screenshot(limit: 100) }
    }

    @Test func blockingStreamReceivesChunkByChunkAndWholeFiles() async throws {
        guard let expected = try Self.screenshotBytes() else { return }
        let conn = try await Self.node()
        defer { Task { await conn.close() } }
        let dom = try await conn.domain(named: "test")

        // One blocking receive per chunk, on the pool; small chunks to take many.
        let st = try await conn.newStream(nonBlocking: false)
        #expect(!st.isNonBlocking)
        let mime = try await st.attach(direction: .read) { s throws(LibvirtError) in
            try takeString("virDomainScreenshot", virDomainScreenshot(dom.handle, s, 0, 0))
        }
        #expect(mime == "image/png")
        var got: [UInt8] = []
        var pieces = 0
        while let seg = try await st.nextSegment(maxBytes: 4096) {
            guard case .data(let d) = seg else { Issue.record("a hole in a non-sparse stream"); break }
            #expect(d.count <= 4096)
            got += d
            pieces += 1
        }
        #expect(got == expected)
        #expect(pieces >= expected.count / 4096)
        #expect(st.isClosed, "the end of the stream was confirmed (virStreamFinish)")
        #expect(try await st.nextSegment() == nil, "reading past the end stays at the end")

        // The whole stream into a file on one pool thread (virStreamRecvAll).
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vk-shot-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).png").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let bulk = try await conn.newStream(nonBlocking: false)
        _ = try await bulk.attach(direction: .read) { s throws(LibvirtError) in
            try takeString("virDomainScreenshot", virDomainScreenshot(dom.handle, s, 0, 0))
        }
        #expect(try await bulk.receiveAll(toFile: file) == UInt64(expected.count))
        #expect(FileManager.default.contents(atPath: file).map(Array.init) == expected)
        // A sparse receive needs a stream the driver opened sparse; a screenshot's isn't:
        // libvirt's refusal, typed, and the stream is ended.
        let sparse = try await conn.newStream(nonBlocking: false)
        _ = try await sparse.attach(direction: .read) { s throws(LibvirtError) in
            try takeString("virDomainScreenshot", virDomainScreenshot(dom.handle, s, 0, 0))
        }
        await ObjectKindTests.expectError(.noSupport, "virStreamSparseRecvAll") { _ = try await sparse.receiveAll(toFile: file, sparse: true) }
        #expect(sparse.isClosed)
    }

    @Test func abortEndsTheStreamAndLaterCallsAreTypedErrors() async throws {
        guard try Self.screenshotBytes() != nil else { return }
        let conn = try await Self.node()
        defer { Task { await conn.close() } }
        let dom = try await conn.domain(named: "test")
        let st = try await conn.newStream()
        _ = try await st.attach(direction: .read) { s throws(LibvirtError) in
            try takeString("virDomainScreenshot", virDomainScreenshot(dom.handle, s, 0, 0))
        }
        var it = st.chunks.makeAsyncIterator()
        let first = try await it.next()
        #expect((first?.count ?? 0) > 0)
        try await st.abort()
        #expect(st.isClosed)
        try await st.abort()  // idempotent
        #expect(try await it.next() == nil, "an aborted stream ends its sequence")
        await ObjectKindTests.expectError(.operationInvalid, nil) { try await st.finish() }
        await ObjectKindTests.expectError(.operationInvalid, nil) { try await st.write([1, 2, 3]) }
    }

    @Test func misuseIsATypedError() async throws {
        let conn = try await Self.node()
        defer { Task { await conn.close() } }
        let st = try await conn.newStream()
        // Not attached yet: reading says so; libvirt refuses a send on an unbound stream.
        await ObjectKindTests.expectError(.operationInvalid, nil) { _ = try await st.nextSegment() }
        do {
            try await st.write([1])
            Issue.record("a send on an unattached stream succeeded")
        } catch let e as LibvirtError {
            #expect(e.function == "virStreamSend", "\(e)")
        }
        let fresh = try await conn.newStream()
        await ObjectKindTests.expectError(.invalidArg, nil) { _ = try await fresh.nextSegment(maxBytes: 0) }
        await ObjectKindTests.expectError(.invalidArg, nil) { try await fresh.sendHole(bytes: .max) }
        await ObjectKindTests.expectError(.operationInvalid, nil) { _ = try await fresh.receiveAll(toFile: "/dev/null") }
        await ObjectKindTests.expectError(.operationInvalid, nil) { _ = try await fresh.sendAll(fromFile: "/dev/null") }
        // A closed connection refuses new streams.
        await conn.close()
        await ObjectKindTests.expectError(.invalidConn, nil) { _ = try await conn.newStream() }
    }

    @Test func testDriverLacksUploadDownloadConsoleAndChannel() async throws {
        let conn = try await Self.node()
        defer { Task { await conn.close() } }
        let dom = try await conn.domain(named: "test")
        let vol = try await conn.storagePool(named: "stream-pool").volume(named: "disk.img")
        await ObjectKindTests.expectError(.noSupport, "virStorageVolDownload") { _ = try await vol.download() }
        await ObjectKindTests.expectError(.noSupport, "virStorageVolUpload") { _ = try await vol.upload() }
        await ObjectKindTests.expectError(.noSupport, "virDomainOpenConsole") { _ = try await dom.openConsole() }
        await ObjectKindTests.expectError(.noSupport, "virDomainOpenChannel") { _ = try await dom.openChannel("org.qemu.guest_agent.0") }
        // File errors come before libvirt is asked: typed, naming the path.
        do {
            _ = try await vol.upload(fromFile: "/nonexistent/virtkit-\(getpid())")
            Issue.record("an upload from a missing file succeeded")
        } catch let e as LibvirtError {
            #expect(e.code == .systemError && e.function == nil && e.message.contains("/nonexistent/virtkit-"), "\(e)")
        }
        await ObjectKindTests.expectError(.invalidArg, nil) { _ = try await vol.upload(fromFile: "/dev") }
        // A FIFO without a writer is refused at once (an open that waited for a writer would
        // hang here for ever).
        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-fifo-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        await ObjectKindTests.expectError(.invalidArg, nil) { _ = try await vol.upload(fromFile: fifo) }
        // A stream of another connection is refused.
        let other = try await Self.node()
        defer { Task { await other.close() } }
        let foreign = try await other.newStream()
        await ObjectKindTests.expectError(.invalidArg, nil) { _ = try await vol.download(stream: foreign) }
        // A stream dropped after a failed attach is released without an abort.
        #expect(!foreign.isClosed)
    }
}

/// The stream part of the API check: every function of libvirt's `libvirt-stream` header is
/// called by the Libvirt module, and the flag sets mirror every constant of their C enums.
@Suite struct StreamCoverageTests {
    @Test func everyStreamFunctionIsCalledAndEveryFlagMirrored() throws {
        guard let api = try APICoverageTests.loadAPI() else { return }
        let code = try APICoverageTests.sources().map { file in
            file.text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }.joined(separator: "\n")
        }.joined(separator: "\n")
        let wanted = api.functions.filter { $0.value == "libvirt-stream" }.map(\.key).sorted()
            + ["virDomainOpenConsole", "virDomainOpenChannel", "virDomainScreenshot", "virStorageVolUpload", "virStorageVolDownload"]
        #expect(wanted.count == 22, "libvirt 9.0 has 17 stream functions: \(wanted)")
        for f in wanted {
            #expect(try !APICoverageTests.matches(#"\b\#(f)\b"#, in: code).isEmpty, "\(f) is not called")
        }
        func constants(_ type: String) -> [Int32] { (api.enums[type] ?? []).filter { !$0.name.hasSuffix("_LAST") }.map(\.value) }
        #expect(constants("virDomainConsoleFlags").sorted() == [Domain.ConsoleFlags.force.rawValue, Domain.ConsoleFlags.safe.rawValue].map(Int32.init).sorted())
        #expect(constants("virDomainChannelFlags") == [Int32(VIR_DOMAIN_CHANNEL_FORCE.rawValue)])
        #expect(constants("virStreamFlags") == [Int32(VIR_STREAM_NONBLOCK.rawValue)])
        #expect(constants("virStreamRecvFlagsValues") == [Int32(VIR_STREAM_RECV_STOP_AT_HOLE.rawValue)])
        #expect(constants("virStorageVolUploadFlags") == [Int32(VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM.rawValue)])
        #expect(constants("virStorageVolDownloadFlags") == [Int32(VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM.rawValue)])
        // The callback watches all four event kinds libvirt defines.
        #expect(Set(constants("virStreamEventType")) == [1, 2, 4, 8])
    }
}
