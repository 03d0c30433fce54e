import CLibvirt
import Foundation
import VirtCore

/// A host device libvirt knows (`virNodeDevicePtr`): PCI and USB devices, network interfaces,
/// SCSI hosts, mediated devices, … A `LibvirtObject`; the name comes from the handle.
public final class NodeDevice: LibvirtObject, ConnectionObject, @unchecked Sendable {
    static let kind = ObjectKind(ref: virNodeDeviceRef, free: virNodeDeviceFree)

    init(adopting handle: OpaquePointer, connection: Connection) {
        super.init(adopting: handle, connection: connection, kind: Self.kind)
    }

    /// The device's name, e.g. `pci_0000_00_02_0` (`virNodeDeviceGetName`; from the handle).
    public var name: String { virNodeDeviceGetName(handle).map { String(cString: $0) } ?? "" }

    override var identity: String { name }
    public override var description: String { name }

    /// The parent device's name (`virNodeDeviceGetParent`); the root device (`computer`) has
    /// none, which libvirt reports as an error.
    public func parentName() async throws -> String {
        try await call { d throws(LibvirtError) in try borrowString("virNodeDeviceGetParent", virNodeDeviceGetParent(d)) }
    }

    /// The device XML (`virNodeDeviceGetXMLDesc`).
    public func xmlDescription() async throws -> String {
        try await string("virNodeDeviceGetXMLDesc") { virNodeDeviceGetXMLDesc($0, 0) }
    }

    /// The device's capability names, e.g. `pci`, `net`, `mdev_types` (`virNodeDeviceListCaps`).
    public func capabilities() async throws -> [String] {
        try await call { d throws(LibvirtError) in
            let n = try cCall("virNodeDeviceNumOfCaps", virNodeDeviceNumOfCaps(d))
            if n == 0 { return [] }
            var names = [UnsafeMutablePointer<CChar>?](repeating: nil, count: Int(n))
            let got = try cCall("virNodeDeviceListCaps", virNodeDeviceListCaps(d, &names, n))
            defer { for p in names { free(p) } }
            return names.prefix(Int(got)).compactMap { $0.map { String(cString: $0) } }
        }
    }

    /// Detaches a PCI device from its host driver for passthrough (`virNodeDeviceDetachFlags`);
    /// `driver`: the stub driver, e.g. `vfio` (nil: libvirt's default).
    public func detach(driver: String? = nil) async throws {
        try await check("virNodeDeviceDetachFlags", { virNodeDeviceDetachFlags($0, driver, 0) },
                        classic: driver == nil ? ("virNodeDeviceDettach", { virNodeDeviceDettach($0) }) : nil)
    }

    /// Gives a detached device back to its host driver (`virNodeDeviceReAttach`).
    public func reattach() async throws {
        try await check("virNodeDeviceReAttach") { virNodeDeviceReAttach($0) }
    }

    /// Resets the device (`virNodeDeviceReset`).
    public func reset() async throws {
        try await check("virNodeDeviceReset") { virNodeDeviceReset($0) }
    }

    /// Starts a defined (mediated) device (`virNodeDeviceCreate`).
    public func start() async throws {
        try await check("virNodeDeviceCreate") { virNodeDeviceCreate($0, 0) }
    }

    /// Destroys a created device, e.g. an mdev or an NPIV vHBA (`virNodeDeviceDestroy`).
    public func destroy() async throws {
        try await check("virNodeDeviceDestroy") { virNodeDeviceDestroy($0) }
    }

    /// Removes a persistent device definition (`virNodeDeviceUndefine`).
    public func undefine() async throws {
        try await check("virNodeDeviceUndefine") { virNodeDeviceUndefine($0, 0) }
    }

    /// Whether the device is active (`virNodeDeviceIsActive`).
    public func isActive() async throws -> Bool {
        try await flag("virNodeDeviceIsActive") { virNodeDeviceIsActive($0) }
    }

    /// Whether it has a persistent definition (`virNodeDeviceIsPersistent`).
    public func isPersistent() async throws -> Bool {
        try await flag("virNodeDeviceIsPersistent") { virNodeDeviceIsPersistent($0) }
    }

    /// Whether a defined device starts with the host (`virNodeDeviceGetAutostart`).
    public func autostart() async throws -> Bool {
        try await outFlag("virNodeDeviceGetAutostart") { virNodeDeviceGetAutostart($0, $1) }
    }

    /// Sets whether a defined device starts with the host (`virNodeDeviceSetAutostart`).
    public func setAutostart(_ on: Bool) async throws {
        try await check("virNodeDeviceSetAutostart") { virNodeDeviceSetAutostart($0, on ? 1 : 0) }
    }
}

extension Connection {
    /// `virConnectListAllNodeDeviceFlags`: devices with any of these capabilities (none: all).
    public struct NodeDeviceListFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let system = Self(rawValue: VIR_CONNECT_LIST_NODE_DEVICES_CAP_SYSTEM.rawValue)
        public static let pciDevice = Self(rawValue: VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV.rawValue)
        public static let usbDevice = Self(rawValue: VIR_CONNECT_LIST_NODE_DEVICES_CAP_USB_DEV.rawValue)
        public static let usbInterface = Self(rawValue: VIR_CONNECT_LIST_NODE_DEVICES_CAP_USB_INTERFACE.rawValue)
        public static let net = Self(rawValue: VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET.rawValue)
        public static let scsiHost = Self(rawValue: VIR_CONNECT_LIST_NODE_DEVICES_CAP_SCSI_HOST.rawValue)
        public static let scsiTarget = Self(rawValue: VIR_CONNECT_LIST_NODE_DEVICES_CAP_SCSI_TARGET.rawValue)
        public static let scsi = Self(rawValue: VIR_CONNECT_LIST_NODE_DEVICES_CAP_SCSI.rawValue)
        public static let storage = Self(rawValue: VIR_CONNECT_LIST_NODE_DEVICES_CAP_STORAGE.rawValue)
        public static let drm = Self(rawValue: VIR_CONNECT_LIST_NODE_DEVICES_CAP_DRM.rawValue)
        public static let mdevTypes = Self(rawValue: VIR_CONNECT_LIST_NODE_DEVICES_CAP_MDEV_TYPES.rawValue)
        public static let mdev = Self(rawValue: VIR_CONNECT_LIST_NODE_DEVICES_CAP_MDEV.rawValue)
        public static let vdpa = Self(rawValue: VIR_CONNECT_LIST_NODE_DEVICES_CAP_VDPA.rawValue)
        public static let vpd = Self(rawValue: VIR_CONNECT_LIST_NODE_DEVICES_CAP_VPD.rawValue)
        public static let active = Self(rawValue: VIR_CONNECT_LIST_NODE_DEVICES_ACTIVE.rawValue)
        public static let inactive = Self(rawValue: VIR_CONNECT_LIST_NODE_DEVICES_INACTIVE.rawValue)
    }

    /// Host devices matching `flags` (`virConnectListAllNodeDevices`; where that is
    /// unsupported and no flags are given, `virNodeListDevices`, each name looked up).
    public func listAllNodeDevices(flags: NodeDeviceListFlags = []) async throws -> [NodeDevice] {
        try await list(Self.nodeDeviceListing, flags: flags.rawValue)
    }

    /// The classic list of every device (no capability filter).
    static let nodeDeviceListing = ObjectListing(
        "virConnectListAllNodeDevices", virConnectListAllNodeDevices,
        active: NameList("virNodeNumOfDevices", { virNodeNumOfDevices($0, nil, 0) }, "virNodeListDevices", { virNodeListDevices($0, nil, $1, $2, 0) }),
        lookup: virNodeDeviceLookupByName)

    /// A device by name (`virNodeDeviceLookupByName`); `.noNodeDevice` if none.
    public func nodeDevice(named name: String) async throws -> NodeDevice {
        try await lookup("virNodeDeviceLookupByName") { virNodeDeviceLookupByName($0, name) }
    }

    /// Creates a transient device, e.g. an mdev or vHBA, from XML (`virNodeDeviceCreateXML`).
    public func createNodeDevice(xml: String) async throws -> NodeDevice {
        try await lookup("virNodeDeviceCreateXML") { virNodeDeviceCreateXML($0, xml, 0) }
    }

    /// Defines a persistent device (a mediated device) from XML (`virNodeDeviceDefineXML`).
    public func defineNodeDevice(xml: String) async throws -> NodeDevice {
        try await lookup("virNodeDeviceDefineXML") { virNodeDeviceDefineXML($0, xml, 0) }
    }
}
