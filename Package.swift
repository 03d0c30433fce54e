// swift-tools-version:6.1
import PackageDescription

// Module map (see README.md):
//   VirtCore       shared value types (CPUSet, NodeSet, MemorySize); no dependencies
//   CLibvirt/CNUMA system-library shims over libvirt and libnuma
//   Libvirt        typed async API over libvirt's C API
//   LosslessXML    lossless XML document engine + typed-view machinery (toolchain only)
//   DomainXML      the domain schema on LosslessXML (toolchain only)
//   LibvirtXML     the other libvirt XML kinds on LosslessXML (capabilities, storage, network, …)
//   HostProbe      /sys and /proc facts under an injectable root (toolchain only)
//   CgroupControl  cgroup v1/v2/hybrid discovery, knobs and stats (toolchain only)
//   LibvirtJoins   libvirt domains joined with the host: QEMU PID, threads, cgroups, CPUs; typed definitions
//   Tuning         diagnosis, placement plans, the paused-guest guardian
//   VirtKit        umbrella re-exporting all of the above
let package = Package(
    name: "VirtKit",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "VirtKit", targets: ["VirtKit"]),
        .library(name: "VirtCore", targets: ["VirtCore"]),
        .library(name: "Libvirt", targets: ["Libvirt"]),
        .library(name: "LosslessXML", targets: ["LosslessXML"]),
        .library(name: "DomainXML", targets: ["DomainXML"]),
        .library(name: "LibvirtXML", targets: ["LibvirtXML"]),
        .library(name: "HostProbe", targets: ["HostProbe"]),
        .library(name: "CgroupControl", targets: ["CgroupControl"]),
        .library(name: "LibvirtJoins", targets: ["LibvirtJoins"]),
        .library(name: "Tuning", targets: ["Tuning"]),
        .executable(name: "virtkit", targets: ["virtkit"]),
        .executable(name: "virtkit-bench", targets: ["virtkit-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: C shims
        .systemLibrary(
            name: "CLibvirt",
            path: "Sources/CLibvirt",
            pkgConfig: "libvirt",
            providers: [.apt(["libvirt-dev"]), .yum(["libvirt-devel"]), .brew(["libvirt"])]
        ),
        .systemLibrary(
            name: "CNUMA",
            path: "Sources/CNUMA",
            providers: [.apt(["libnuma-dev"]), .yum(["numactl-devel"])]
        ),

        // MARK: Library modules
        .target(name: "VirtCore"),
        .target(name: "Libvirt", dependencies: ["CLibvirt", "VirtCore"]),
        .target(name: "LosslessXML", dependencies: ["VirtCore"]),
        .target(name: "DomainXML", dependencies: ["VirtCore", "LosslessXML"]),
        .target(name: "LibvirtXML", dependencies: ["VirtCore", "LosslessXML", "DomainXML"]),
        .target(name: "HostProbe", dependencies: ["VirtCore"]),
        .target(name: "CgroupControl", dependencies: ["VirtCore"]),
        .target(name: "LibvirtJoins", dependencies: ["VirtCore", "Libvirt", "DomainXML", "CgroupControl"]),
        .target(name: "Tuning", dependencies: ["VirtCore", "Libvirt", "DomainXML", "HostProbe", "CgroupControl", "LibvirtJoins"]),
        .target(name: "VirtKit", dependencies: ["VirtCore", "Libvirt", "LosslessXML", "DomainXML", "LibvirtXML", "HostProbe", "CgroupControl", "LibvirtJoins", "Tuning"]),

        // MARK: Executables
        .executableTarget(
            name: "virtkit",
            dependencies: ["VirtKit", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Examples/virtkit"
        ),
        .executableTarget(
            name: "virtkit-bench",
            dependencies: ["VirtKit", "CLibvirt", "VirtKitTestSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/virtkit-bench"
        ),

        // MARK: Tests
        // Shared by the test targets: corpus lookup and the live-host gate (no dependencies).
        .target(name: "VirtKitTestSupport", path: "Tests/VirtKitTestSupport"),
        .testTarget(name: "VirtCoreTests", dependencies: ["VirtCore"]),
        .testTarget(name: "LibvirtTests", dependencies: ["Libvirt", "CLibvirt", "VirtCore", "VirtKitTestSupport"]),
        .testTarget(name: "DomainXMLTests", dependencies: ["DomainXML", "LosslessXML", "VirtCore", "VirtKitTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "LibvirtXMLTests", dependencies: ["LibvirtXML", "DomainXML", "LosslessXML", "VirtCore", "VirtKitTestSupport"]),
        .testTarget(name: "HostProbeTests", dependencies: ["HostProbe", "VirtCore", "CNUMA", "VirtKitTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CgroupControlTests", dependencies: ["CgroupControl", "VirtCore", "Libvirt", "LibvirtJoins", "VirtKitTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "LibvirtJoinsTests", dependencies: ["LibvirtJoins", "Libvirt", "DomainXML", "CgroupControl", "VirtCore", "VirtKitTestSupport"]),
        .testTarget(name: "TuningTests", dependencies: ["Tuning", "VirtCore", "Libvirt", "LibvirtJoins", "DomainXML", "HostProbe", "CgroupControl", "VirtKitTestSupport"], exclude: ["Diagnosis/Fixtures"]),
        // Imports only the umbrella: compiles only while every public name is unambiguous.
        .testTarget(name: "UmbrellaTests", dependencies: ["VirtKit"], exclude: ["generic-spellings.txt"]),
        // The CLI's own code (JSON writer, section aliases), tested through `@testable import virtkit`.
        .testTarget(name: "VirtKitCLITests", dependencies: ["virtkit", "HostProbe", "VirtKitTestSupport"]),
        .testTarget(name: "LabTests", dependencies: ["Libvirt", "VirtCore", "VirtKitTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
