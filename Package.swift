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
//   LibvirtFleet   many libvirt hosts as one: deadlines per host, inventory, preflight
//   VirtKit        umbrella re-exporting all of the above
let package = Package(
    name: "VirtKit",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "VirtKit", targets: ["VirtKit"]),
        .library(name: "VirtCore", targets: ["VirtCore"]),
        .library(name: "VirtLogging", targets: ["VirtLogging"]),
        .library(name: "Libvirt", targets: ["Libvirt"]),
        .library(name: "LibvirtQEMU", targets: ["LibvirtQEMU"]),
        .library(name: "LibvirtAdmin", targets: ["LibvirtAdmin"]),
        .library(name: "LosslessXML", targets: ["LosslessXML"]),
        .library(name: "DomainXML", targets: ["DomainXML"]),
        .library(name: "LibvirtXML", targets: ["LibvirtXML"]),
        .library(name: "HostProbe", targets: ["HostProbe"]),
        .library(name: "CgroupControl", targets: ["CgroupControl"]),
        .library(name: "LibvirtJoins", targets: ["LibvirtJoins"]),
        .library(name: "Tuning", targets: ["Tuning"]),
        .library(name: "LibvirtFleet", targets: ["LibvirtFleet"]),
        .executable(name: "virtkit", targets: ["virtkit"]),
        .executable(name: "virtkit-bench", targets: ["virtkit-bench"]),
        .executable(name: "virtkit-exporter", targets: ["virtkit-exporter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // virtkit-exporter: HTTP server, signals and graceful shutdown, logging.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // `swift package generate-documentation` (Scripts/docs.sh): a DocC catalog per library module.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // MARK: C shims
        .systemLibrary(
            name: "CLibvirt",
            path: "Sources/CLibvirt",
            pkgConfig: "libvirt",
            providers: [.apt(["libvirt-dev"]), .yum(["libvirt-devel"]), .brew(["libvirt"])]
        ),
        .systemLibrary(name: "CLibvirtQEMU", path: "Sources/CLibvirtQEMU", pkgConfig: "libvirt-qemu", providers: [.apt(["libvirt-dev"])]),
        .systemLibrary(name: "CLibvirtAdmin", path: "Sources/CLibvirtAdmin", pkgConfig: "libvirt-admin", providers: [.apt(["libvirt-dev"])]),
        .systemLibrary(
            name: "CNUMA",
            path: "Sources/CNUMA",
            providers: [.apt(["libnuma-dev"]), .yum(["numactl-devel"])]
        ),
        // openat2(2) for RootedFileReader (a header-only shim: Swift cannot call variadic syscall).
        .systemLibrary(name: "CVirtCoreShims", path: "Sources/CVirtCoreShims"),

        // MARK: Library modules
        .target(name: "VirtCore", dependencies: ["CVirtCoreShims"]),
        // swift-log loggers per module (`virtkit.<module>`), silent until VirtKitLogging.enable().
        .target(name: "VirtLogging", dependencies: [.product(name: "Logging", package: "swift-log")]),
        .target(name: "Libvirt", dependencies: ["CLibvirt", "VirtCore", "VirtLogging"]),
        // libvirt-qemu (monitor/agent pass-through, monitor events) and libvirt-admin (daemon administration).
        .target(name: "LibvirtQEMU", dependencies: ["CLibvirtQEMU", "CLibvirt", "Libvirt", "VirtCore"]),
        .target(name: "LibvirtAdmin", dependencies: ["CLibvirtAdmin", "CLibvirt", "Libvirt", "VirtCore"]),
        .target(name: "LosslessXML", dependencies: ["VirtCore"]),
        .target(name: "DomainXML", dependencies: ["VirtCore", "LosslessXML"]),
        .target(name: "LibvirtXML", dependencies: ["VirtCore", "LosslessXML", "DomainXML"]),
        .target(name: "HostProbe", dependencies: ["VirtCore", "VirtLogging"]),
        .target(name: "CgroupControl", dependencies: ["VirtCore", "VirtLogging"]),
        .target(name: "LibvirtJoins", dependencies: ["VirtCore", "VirtLogging", "Libvirt", "DomainXML", "CgroupControl"]),
        .target(name: "Tuning", dependencies: ["VirtCore", "VirtLogging", "Libvirt", "DomainXML", "HostProbe", "CgroupControl", "LibvirtJoins"]),
        .target(name: "VirtKit", dependencies: ["VirtCore", "VirtLogging", "Libvirt", "LibvirtQEMU", "LibvirtAdmin", "LosslessXML", "DomainXML", "LibvirtXML", "HostProbe", "CgroupControl", "LibvirtJoins", "Tuning", "LibvirtFleet"]),
        .target(name: "LibvirtFleet", dependencies: ["VirtCore", "VirtLogging", "Libvirt", "LosslessXML", "DomainXML", "LibvirtXML", "Tuning"]),

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

        // The Prometheus exporter: scrape, cache and render without HTTP (VirtKitExporter),
        // served over HTTP by the virtkit-exporter daemon.
        .target(
            name: "VirtKitExporter",
            dependencies: ["Libvirt", "DomainXML", "VirtCore", "Tuning", "CgroupControl", "HostProbe", "LibvirtJoins",
                           .product(name: "Logging", package: "swift-log")],
            path: "Examples/virtkit-exporter/Exporter"
        ),
        .executableTarget(
            name: "virtkit-exporter",
            dependencies: [
                "VirtKitExporter",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/virtkit-exporter/Server"
        ),

        // Small standalone examples (each one main.swift under ~80 lines; README lists them).
        .executableTarget(name: "list-guests", dependencies: ["Libvirt"], path: "Examples/list-guests"),
        .executableTarget(name: "redefine-guest", dependencies: ["Libvirt", "LibvirtJoins", "DomainXML", "VirtCore"], path: "Examples/redefine-guest"),
        .executableTarget(name: "pin-to-node", dependencies: ["Libvirt", "HostProbe", "VirtCore"], path: "Examples/pin-to-node"),
        .executableTarget(name: "watch-paused", dependencies: ["Libvirt"], path: "Examples/watch-paused"),
        .executableTarget(name: "probe-tree", dependencies: ["HostProbe"], path: "Examples/probe-tree"),

        // MARK: Tests
        // Shared by the test targets: corpus lookup and the live-host gate (no dependencies).
        .target(name: "VirtKitTestSupport", path: "Tests/VirtKitTestSupport"),
        .testTarget(name: "VirtCoreTests", dependencies: ["VirtCore"]),
        .testTarget(name: "LibvirtTests", dependencies: ["Libvirt", "LibvirtQEMU", "LibvirtAdmin", "CLibvirt", "VirtCore", "VirtKitTestSupport"]),
        .testTarget(name: "DomainXMLTests", dependencies: ["DomainXML", "LosslessXML", "VirtCore", "VirtKitTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "LibvirtXMLTests", dependencies: ["LibvirtXML", "DomainXML", "LosslessXML", "HostProbe", "VirtCore", "VirtKitTestSupport"]),
        .testTarget(name: "HostProbeTests", dependencies: ["HostProbe", "VirtCore", "CNUMA", "VirtKitTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CgroupControlTests", dependencies: ["CgroupControl", "VirtCore", "Libvirt", "LibvirtJoins", "VirtKitTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "LibvirtJoinsTests", dependencies: ["LibvirtJoins", "Libvirt", "DomainXML", "CgroupControl", "VirtCore", "VirtKitTestSupport"]),
        .testTarget(name: "TuningTests", dependencies: ["Tuning", "VirtCore", "Libvirt", "LibvirtJoins", "DomainXML", "LibvirtXML", "HostProbe", "CgroupControl", "VirtKitTestSupport"], exclude: ["Diagnosis/Fixtures"]),
        .testTarget(name: "VirtLoggingTests", dependencies: ["VirtLogging", "Libvirt", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "VirtKitExporterTests", dependencies: ["VirtKitExporter", "Libvirt", "VirtCore", "Tuning", "CgroupControl", "HostProbe", "VirtKitTestSupport"]),
        // Imports only the umbrella: compiles only while every public name is unambiguous.
        .testTarget(name: "UmbrellaTests", dependencies: ["VirtKit"], exclude: ["generic-spellings.txt"]),
        .testTarget(name: "LibvirtFleetTests", dependencies: ["LibvirtFleet", "Libvirt", "DomainXML", "Tuning", "VirtCore", "VirtKitTestSupport"]),
        // The CLI's own code (JSON writer, section aliases), tested through `@testable import virtkit`.
        .testTarget(name: "VirtKitCLITests", dependencies: ["virtkit", "HostProbe", "LosslessXML", "VirtKitTestSupport"]),
        .testTarget(name: "LabTests", dependencies: ["Libvirt", "LibvirtFleet", "VirtCore", "Tuning", "LibvirtXML", "HostProbe", "VirtKitTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
