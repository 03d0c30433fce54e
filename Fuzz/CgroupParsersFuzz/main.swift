// libFuzzer entry for CgroupControl's value parsers (mountinfo, /proc/mounts, /proc/cgroups,
// /proc/PID/cgroup, `key value` stat files, PSI, io.stat, blkio, ID lists) and VirtCore's
// UTF-8 escaping. Compiled with VirtCore's and CgroupControl's sources into one module by
// Scripts/fuzz-hostfiles.sh (outside Sources/, so SwiftPM never builds it). A crash, an ASan
// report or a trap is a finding: every parser must return a value or a typed error.

@_cdecl("LLVMFuzzerTestOneInput")
public func cgroupParsersFuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let text = RootedFileReader.decodeEscapingInvalidUTF8(bytes)
    // Valid UTF-8 passes through unchanged; anything else only grows by escapes.
    if String(validating: bytes, as: UTF8.self) != nil { precondition(text.utf8.elementsEqual(bytes), "valid UTF-8 changed") }
    let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: true).count
    precondition(MountEntry.parseMountinfo(text).count <= lines, "more mounts than lines")
    _ = MountEntry.parseMounts(text)
    _ = ControllerInfo.parse(text)
    _ = try? CgroupLayout.parse(mountinfo: text, mounts: nil, procCgroups: text) { _ in text }
    _ = try? CgroupLayout.parse(mountinfo: nil, mounts: text, procCgroups: nil)
    _ = try? ProcessCgroups.parse(text)
    _ = try? CPUSet(parsing: text, allowEmpty: true)
    _ = Limit<UInt64>(cgroupText: text)
    let sys = CgroupSystem(fs: CgroupFS(root: "/nonexistent-fuzz-root"),
                           layout: CgroupLayout(kind: .v2, v1: [], unified: nil, controllerTable: []))
    _ = try? sys.keyed(text, file: "f")
    _ = try? sys.ioStatV2(text, file: "f")
    _ = try? sys.ioStatV1(bytes: text, ios: text, file: "f")
    for check in [ReadBack.exact, .idList(text), .cpuMax(quota: 1000, period: nil), .ioWeightDefault(100),
                  .ioMax(DeviceNumber(major: 8, minor: 0), ["rbps": "max"]), .v1Device(DeviceNumber(major: 8, minor: 0), 1),
                  .bytesV1(4096), .bytesV2(.limited(.kibibytes(4))), .partition("root")] {
        _ = check.matches(text)
    }
    for r in [Restore.wholeFile, .firstWord, .ioWeightDefault, .ioMaxDevice(DeviceNumber(major: 8, minor: 0)), .v1Device(DeviceNumber(major: 8, minor: 0))] {
        _ = r.value(from: text)
    }
    _ = RootedFileReader.quote(text)
    return 0
}
