import ArgumentParser
import Foundation
import Libvirt
import VirtCore

/// `virtkit vol upload` / `vol download`: a file into or out of a volume over a libvirt
/// stream, with a progress bar on a terminal (stderr) and a one-line summary (or JSON).
extension VolumeCommand {
    struct Transfer: Codable {
        var volume: String
        var file: String
        var bytes: UInt64
        var seconds: Double
        var mibPerSecond: Double
    }

    struct TransferOptions: ParsableArguments {
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Pool name.") var pool: String
        @Argument(help: "Volume name.") var name: String
        @Argument(help: "Local file.") var file: String
        @Flag(help: "Keep holes: send/receive them as holes (sparse streams).") var sparse = false
        @Flag(help: "Move the data on one blocking pool thread (like virsh) instead of event-driven.") var blocking = false

        var mode: StreamTransferMode { blocking ? .blockingThread : .eventDriven }

        func run(_ transfer: @escaping @Sendable (StorageVolume, @escaping @Sendable (UInt64) -> Void) async throws -> UInt64) async throws {
            try await withConnection(connection.resolvedURI, readOnly: false) { conn in
                let vol = try await conn.storagePool(named: pool).volume(named: name)
                let total = try await vol.info().capacity.bytes
                let bar = ProgressBar(json: output.json)
                let t0 = ContinuousClock.now
                let bytes = try await transfer(vol) { done in
                    guard total > 0 else { return }
                    bar.draw(fraction: Double(done) / Double(total), detail: MemorySize(bytes: done).humanReadable)
                }
                bar.clear()
                let seconds = (ContinuousClock.now - t0).inSeconds
                let result = Transfer(volume: name, file: file, bytes: bytes, seconds: seconds,
                                      mibPerSecond: seconds > 0 ? Double(bytes) / 1_048_576 / seconds : 0)
                if output.json {
                    try printJSON(result)
                } else {
                    print(terminalSafe(name) + ": " + MemorySize(bytes: bytes).humanReadable + String(format: " in %.2f s (%.1f MiB/s)", seconds, result.mibPerSecond))
                }
            }
        }
    }

    struct Upload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a local file into a volume (virStorageVolUpload).")
        @OptionGroup var options: TransferOptions
        func run() async throws {
            let (file, sparse, mode) = (options.file, options.sparse, options.mode)
            try await options.run { vol, progress in try await vol.upload(fromFile: file, sparse: sparse, mode: mode, progress: progress) }
        }
    }

    struct Download: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Copy a volume into a local file (virStorageVolDownload).")
        @OptionGroup var options: TransferOptions
        func run() async throws {
            let (file, sparse, mode) = (options.file, options.sparse, options.mode)
            try await options.run { vol, progress in try await vol.download(toFile: file, sparse: sparse, mode: mode, progress: progress) }
        }
    }
}
