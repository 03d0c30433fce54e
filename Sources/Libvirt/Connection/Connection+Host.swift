import CLibvirt
import Foundation
import VirtCore

/// How a CPU definition compares with what a hypervisor can provide
/// (`virCPUCompareResult`).
public enum CPUCompareResult: CEnumMirror {
    case incompatible, identical, superset
    case unknown(Int32)
    public static let known: [(Self, String)] = [(.incompatible, "incompatible"), (.identical, "identical"), (.superset, "superset")]
    public static func unknownValue(_ r: Int32) -> Self { .unknown(r) }
    public var unknownRaw: Int32? { if case .unknown(let r) = self { r } else { nil } }
}

/// Which hypervisor a CPU or capability query is about (nil fields: libvirt's default).
public struct HypervisorTarget: Hashable, Sendable {
    /// The emulator binary, e.g. `/usr/bin/qemu-system-x86_64`.
    public var emulator: String?
    /// The guest architecture, e.g. `x86_64`.
    public var arch: String?
    /// The machine type, e.g. `q35`.
    public var machine: String?
    /// The virtualization type, e.g. `kvm` or `qemu`.
    public var virtType: String?

    public init(emulator: String? = nil, arch: String? = nil, machine: String? = nil, virtType: String? = nil) {
        self.emulator = emulator
        self.arch = arch
        self.machine = machine
        self.virtType = virtType
    }
}

extension Connection {
    /// The domain capabilities XML for a hypervisor target: supported devices, firmware,
    /// CPU modes (`virConnectGetDomainCapabilities`).
    public func domainCapabilitiesXML(_ target: HypervisorTarget = HypervisorTarget()) async throws -> String {
        try await call { c throws(LibvirtError) in
            try takeString("virConnectGetDomainCapabilities",
                           virConnectGetDomainCapabilities(c, target.emulator, target.arch, target.machine, target.virtType, 0))
        }
    }

    /// Compares a `<cpu>` definition with the CPU the hypervisor can provide
    /// (`virConnectCompareHypervisorCPU`); `failIfIncompatible`: an incompatible CPU is a typed
    /// `.cpuIncompatible` error saying why, instead of `.incompatible`.
    public func compareHypervisorCPU(xml: String, target: HypervisorTarget = HypervisorTarget(), failIfIncompatible: Bool = false) async throws -> CPUCompareResult {
        let flags = failIfIncompatible ? VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE.rawValue : 0
        return try await call { c throws(LibvirtError) in
            let r = virConnectCompareHypervisorCPU(c, target.emulator, target.arch, target.machine, target.virtType, xml, flags)
            // VIR_CPU_COMPARE_ERROR is -1.
            return CPUCompareResult(rawValue: try cCall("virConnectCompareHypervisorCPU", r))
        }
    }

    /// The most capable CPU all `xmls` (`<cpu>` definitions) share, usable on the hypervisor
    /// (`virConnectBaselineHypervisorCPU`).
    public func baselineHypervisorCPU(xmls: [String], target: HypervisorTarget = HypervisorTarget(),
                                      expandFeatures: Bool = false, migratable: Bool = false) async throws -> String {
        let flags = (expandFeatures ? VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES.rawValue : 0) | (migratable ? VIR_CONNECT_BASELINE_CPU_MIGRATABLE.rawValue : 0)
        return try await call { c throws(LibvirtError) in
            try withCStrings(xmls) { (p, n) throws(LibvirtError) in
                try takeString("virConnectBaselineHypervisorCPU",
                               virConnectBaselineHypervisorCPU(c, target.emulator, target.arch, target.machine, target.virtType, p, n, flags))
            }
        }
    }

    /// Compares a `<cpu>` definition (or a domain or capabilities XML holding one) with the
    /// host's CPU as the host itself has it (`virConnectCompareCPU`), which can hold features
    /// the hypervisor can't give a guest; `compareHypervisorCPU` answers for a guest.
    public func compareHostCPU(xml: String, failIfIncompatible: Bool = false) async throws -> CPUCompareResult {
        let flags = failIfIncompatible ? VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE.rawValue : 0
        return try await call { c throws(LibvirtError) in
            // VIR_CPU_COMPARE_ERROR is -1.
            CPUCompareResult(rawValue: try cCall("virConnectCompareCPU", virConnectCompareCPU(c, xml, flags)))
        }
    }

    /// The most capable CPU all `xmls` (host `<cpu>` definitions, e.g. each host's
    /// capabilities CPU) share, as host CPUs (`virConnectBaselineCPU`); without the
    /// hypervisor's limits, which `baselineHypervisorCPU` applies.
    public func baselineHostCPU(xmls: [String], expandFeatures: Bool = false, migratable: Bool = false) async throws -> String {
        let flags = (expandFeatures ? VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES.rawValue : 0) | (migratable ? VIR_CONNECT_BASELINE_CPU_MIGRATABLE.rawValue : 0)
        return try await call { c throws(LibvirtError) in
            try withCStrings(xmls) { (p, n) throws(LibvirtError) in try takeString("virConnectBaselineCPU", virConnectBaselineCPU(c, p, n, flags)) }
        }
    }
}

/// `strings` as a C array of C strings for the length of `body` (none: a nil array, which libvirt refuses with its error).
private func withCStrings<T>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>?, UInt32) throws(LibvirtError) -> T) throws(LibvirtError) -> T {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    var pointers = copies.map { $0.map { UnsafePointer<CChar>($0) } }
    return try pointers.withUnsafeMutableBufferPointer { (buf) throws(LibvirtError) -> T in try body(buf.baseAddress, UInt32(buf.count)) }
}

extension Connection {

    /// The CPU model names libvirt knows for `arch` (`virConnectGetCPUModelNames`).
    public func cpuModelNames(arch: String) async throws -> [String] {
        try await call { c throws(LibvirtError) in
            var models: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
            let n = try cCall("virConnectGetCPUModelNames", virConnectGetCPUModelNames(c, arch, &models, 0))
            defer {
                for i in 0..<Int(n) { free(models?[i]) }
                free(models)
            }
            return (0..<Int(n)).compactMap { models?[$0].map { String(cString: $0) } }
        }
    }

    /// Free pages of each size on each NUMA cell from `startCell` (`virNodeGetFreePages`):
    /// `result[cell - startCell][pageSize]` is the number of free pages.
    public func freePages(sizes: [MemorySize], startCell: Int32 = 0, cellCount: UInt32 = 1) async throws -> [[MemorySize: UInt64]] {
        let kib = sizes.map { UInt32(clamping: $0.kibibytes) }
        return try await call { c throws(LibvirtError) in
            var pages = kib
            var counts = [UInt64](repeating: 0, count: kib.count * Int(cellCount))
            let n = try cCall("virNodeGetFreePages", virNodeGetFreePages(c, UInt32(kib.count), &pages, startCell, cellCount, &counts, 0))
            // The entries filled (the 9.0 test driver returns 0 after filling all of them).
            let cells = kib.isEmpty ? 0 : (n == 0 ? Int(cellCount) : Int(n) / kib.count)
            return (0..<cells).map { cell in
                Dictionary(uniqueKeysWithValues: sizes.enumerated().map { ($0.element, counts[cell * kib.count + $0.offset]) })
            }
        }
    }

    /// Sets (or, with `add`, grows) the hugepage pools on NUMA cells from `startCell`
    /// (`virNodeAllocPages`): `counts[pageSize]` pages of each size. Returns how many cells
    /// libvirt changed.
    @discardableResult
    public func allocatePages(_ counts: [MemorySize: UInt64], startCell: Int32 = 0, cellCount: UInt32 = 1, add: Bool = false) async throws -> Int {
        let entries = counts.sorted { $0.key < $1.key }
        let flags = add ? VIR_NODE_ALLOC_PAGES_ADD.rawValue : VIR_NODE_ALLOC_PAGES_SET.rawValue
        return try await call { c throws(LibvirtError) in
            var sizes = entries.map { UInt32(clamping: $0.key.kibibytes) }
            var numbers = entries.map(\.value)
            return Int(try cCall("virNodeAllocPages", virNodeAllocPages(c, UInt32(sizes.count), &sizes, &numbers, startCell, cellCount, flags)))
        }
    }
}
