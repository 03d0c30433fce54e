import Foundation
import Testing

/// Where tests find the things outside the package: the shared corpus and the live host.
///
/// Conformance tests read `$VIRTKIT_CORPUS`; live tests (real libvirtd, real cgroups,
/// the two-host lab) run when their service is reachable. `.ci/run` sets
/// `VIRTKIT_REQUIRE_LIVE=1`, which turns "not reachable" from a loud skip into a failure,
/// so CI can never pass by silently skipping them.
public enum LiveEnvironment {
    /// True when a missing live service must fail the test (CI).
    public static var isRequired: Bool {
        ProcessInfo.processInfo.environment["VIRTKIT_REQUIRE_LIVE"] == "1"
    }

    /// The corpus folder `sub` (e.g. `libvirt-9.0.0/domainxml`) under `$VIRTKIT_CORPUS`,
    /// or nil, after saying loudly that the caller skips. Fails when required.
    public static func corpus(_ sub: String, sourceLocation: SourceLocation = #_sourceLocation) -> URL? {
        guard let base = ProcessInfo.processInfo.environment["VIRTKIT_CORPUS"], !base.isEmpty else {
            unavailable("VIRTKIT_CORPUS is not set; skipping the conformance test over \(sub)", sourceLocation: sourceLocation)
            return nil
        }
        let url = URL(fileURLWithPath: base).appendingPathComponent(sub)
        guard FileManager.default.fileExists(atPath: url.path) else {
            unavailable("\(url.path) does not exist (VIRTKIT_CORPUS=\(base))", sourceLocation: sourceLocation)
            return nil
        }
        return url
    }

    /// Reports that a live service is missing: a recorded test failure when required,
    /// else a loud skip line on stderr. The caller returns right after.
    public static func unavailable(_ reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if isRequired {
            Issue.record("REQUIRED live resource unavailable: \(reason)", sourceLocation: sourceLocation)
        } else {
            FileHandle.standardError.write(Data("⚠️  SKIPPED (live resource unavailable): \(reason)\n".utf8))
        }
    }

    /// The directory of the package (the folder holding Package.swift), found from a
    /// source file path such as `#filePath`.
    public static func packageRoot(from file: String = #filePath) -> URL {
        var url = URL(fileURLWithPath: file).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
            url.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }
}
