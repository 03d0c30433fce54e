// libFuzzer entry for HostProbe's value parsers (cpulists and hex masks, meminfo, cpuinfo,
// /proc/stat, PSI, thread stat, sysfs choices, octal escapes) and VirtCore's UTF-8 escaping.
// Compiled with VirtCore's and HostProbe's sources into one module by
// Scripts/fuzz-hostfiles.sh (outside Sources/, so SwiftPM never builds it). A crash, an ASan
// report or a trap is a finding.

@_cdecl("LLVMFuzzerTestOneInput")
public func hostProbeParsersFuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let text = RootedFileReader.decodeEscapingInvalidUTF8(bytes)
    _ = parseHexMask(text)
    _ = try? CPUSet(parsing: text, allowEmpty: true)
    _ = try? NodeSet(parsing: text, allowEmpty: true)
    _ = parseMeminfo(text)
    let info = HostProber.parseCPUInfo(text)
    precondition(info.processorCount >= 0)
    _ = ProcStat.parse(text)
    _ = PressureCounters.parse(text)
    _ = ThreadCounters.parseStat(text, tid: 1)
    _ = SysfsChoice(parsing: text)
    _ = text.replacingOctalEscapes()
    _ = try? MemorySize(parsing: text, defaultUnit: .KiB)
    _ = ProbeContext.numberFailure(text, "an integer")
    return 0
}
