/// libvirt's naming rules for a guest's cgroups, so they can be predicted from the guest's
/// name and ID alone.
public enum LibvirtNaming {
    /// libvirt's machine name (`virDomainDriverGenerateMachineName` in
    /// src/hypervisor/domain_driver.c, privileged daemon, no embed root):
    /// `DRIVER-ID-NAME`, where NAME keeps only ASCII letters, digits, `-` and `.`, drops a
    /// `-`/`.` that would follow another one or start the name, stops once the whole
    /// name has 64 characters, and finally loses trailing `-`/`.`.
    public static func machineName(driver: String = "qemu", id: Int, name: String) -> String {
        var out = Array("\(driver)-\(id)-".utf8)
        var skip = true  // at the start and after a '-' or '.', another one is dropped
        for byte in name.utf8 {
            if out.count >= 64 { break }
            if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") {
                if !skip { out.append(byte); skip = true }
                continue
            }
            let isHostnameChar = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            // Other bytes (spaces, '_', every byte of a non-ASCII character) are dropped
            // and do not end a run of '-'/'.'.
            guard isHostnameChar else { continue }
            out.append(byte)
            skip = false
        }
        while let last = out.last, last == UInt8(ascii: "-") || last == UInt8(ascii: ".") { out.removeLast() }
        return String(decoding: out, as: UTF8.self)
    }

    /// systemd's unit-name escaping of a string (`unit_name_escape` in systemd's
    /// src/basic/unit-name.c; libvirt's `virSystemdEscapeName`): ASCII letters, digits,
    /// `:`, `_` and `.` stay; `/` becomes `-`; a leading `.` and every other byte
    /// (including `-`, `\` and each byte of a UTF-8 sequence) become `\xNN`, lower-case hex.
    public static func systemdEscape(_ s: String) -> String {
        var out = ""
        let hex = Array("0123456789abcdef")
        for (i, byte) in s.utf8.enumerated() {
            let c = byte
            let keep = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: ":") || c == UInt8(ascii: "_") || (c == UInt8(ascii: ".") && i > 0)
            if c == UInt8(ascii: "/") {
                out.append("-")
            } else if keep {
                out.unicodeScalars.append(UnicodeScalar(c))
            } else {
                out += "\\x"
                out.append(hex[Int(c >> 4)])
                out.append(hex[Int(c & 15)])
            }
        }
        return out
    }

    /// The systemd scope libvirt registers a guest under (`virSystemdMakeScopeName`):
    /// `machine-ESCAPED(machineName).scope`.
    public static func scopeName(machineName: String) -> String {
        "machine-" + systemdEscape(machineName) + ".scope"
    }

    /// The slice for a resource partition (`virSystemdMakeSliceName`): `/machine` →
    /// `machine.slice`, `/machine/prod` → `machine-prod.slice` (components escaped).
    public static func sliceName(partition: String) -> String {
        let comps = partition.split(separator: "/").map { systemdEscape(String($0)) }
        return comps.joined(separator: "-") + ".slice"
    }

    /// Where systemd puts a slice in the cgroup tree: each `-` in the (escaped) name opens
    /// a parent slice, so `machine-prod.slice` lives at `/machine.slice/machine-prod.slice`.
    public static func slicePath(sliceName: String) -> String {
        let base = sliceName.hasSuffix(".slice") ? String(sliceName.dropLast(6)) : sliceName
        if base.isEmpty { return "/" }
        var path = ""
        var prefix = ""
        for part in base.split(separator: "-", omittingEmptySubsequences: false) {
            prefix = prefix.isEmpty ? String(part) : prefix + "-" + part
            path += "/" + prefix + ".slice"
        }
        return path
    }

    /// A partition component as libvirt writes it without systemd
    /// (`virCgroupSetPartitionSuffix` + `virCgroupPartitionEscapeName`): components other
    /// than a top-level `machine`, `system` or `user` get `.partition` unless they
    /// contain a dot, and a name starting with `_`, `.`, `cgroup.` or `CONTROLLER.`
    /// gets a leading `_` so it cannot clash with a control file.
    public static func partitionPath(_ partition: String, controllers: [String]) -> String {
        var out: [String] = []
        for (i, comp) in partition.split(separator: "/").enumerated() {
            var c = String(comp)
            if !(i == 0 && ["machine", "system", "user"].contains(c)) && !c.contains(".") { c += ".partition" }
            out.append(escapeCgroupName(c, controllers: controllers))
        }
        return "/" + out.joined(separator: "/")
    }

    /// libvirt's `virCgroupPartitionEscapeName`.
    public static func escapeCgroupName(_ name: String, controllers: [String]) -> String {
        if name.hasPrefix("_") || name.hasPrefix(".") || name.hasPrefix("cgroup.") { return "_" + name }
        for c in controllers where name.hasPrefix(c + ".") { return "_" + name }
        return name
    }

    /// The guest's top cgroup path libvirt uses.
    ///
    /// - systemd: `SLICE-PATH/machine-qemu\x2dID\x2dNAME.scope/libvirt` (libvirt nests its
    ///   own `libvirt` cgroup in the scope so systemd keeps the scope's knobs)
    /// - without systemd: `PARTITION/qemu-ID-NAME.libvirt-qemu`
    public static func guestTopPath(driver: String = "qemu", id: Int, name: String, systemd: Bool,
                                    partition: String = "/machine", controllers: [String] = []) -> String {
        let machine = machineName(driver: driver, id: id, name: name)
        if systemd {
            let slice = slicePath(sliceName: sliceName(partition: partition))
            return joinPath(slice, "/" + scopeName(machineName: machine) + "/libvirt")
        }
        let base = partitionPath(partition, controllers: controllers)
        return joinPath(base, "/" + escapeCgroupName("\(machine).libvirt-\(driver)", controllers: controllers))
    }
}
