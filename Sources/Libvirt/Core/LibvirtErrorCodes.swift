// Generated once from libvirt 9.0.0's <libvirt/virterror.h> (virErrorNumber, virErrorDomain)
// by a throw-away script; values newer libvirt adds are kept as raw values, never lost.

extension LibvirtError.Code {
    /// `VIR_ERR_OK` (0)
    public static let ok = Self(rawValue: 0)
    /// `VIR_ERR_INTERNAL_ERROR` (1): internal error
    public static let internalError = Self(rawValue: 1)
    /// `VIR_ERR_NO_MEMORY` (2): memory allocation failure
    public static let noMemory = Self(rawValue: 2)
    /// `VIR_ERR_NO_SUPPORT` (3): no support for this function
    public static let noSupport = Self(rawValue: 3)
    /// `VIR_ERR_UNKNOWN_HOST` (4): could not resolve hostname
    public static let unknownHost = Self(rawValue: 4)
    /// `VIR_ERR_NO_CONNECT` (5): can't connect to hypervisor
    public static let noConnect = Self(rawValue: 5)
    /// `VIR_ERR_INVALID_CONN` (6): invalid connection object
    public static let invalidConn = Self(rawValue: 6)
    /// `VIR_ERR_INVALID_DOMAIN` (7): invalid domain object
    public static let invalidDomain = Self(rawValue: 7)
    /// `VIR_ERR_INVALID_ARG` (8): invalid function argument
    public static let invalidArg = Self(rawValue: 8)
    /// `VIR_ERR_OPERATION_FAILED` (9): a command to hypervisor failed
    public static let operationFailed = Self(rawValue: 9)
    /// `VIR_ERR_GET_FAILED` (10): a HTTP GET command to failed
    public static let getFailed = Self(rawValue: 10)
    /// `VIR_ERR_POST_FAILED` (11): a HTTP POST command to failed
    public static let postFailed = Self(rawValue: 11)
    /// `VIR_ERR_HTTP_ERROR` (12): unexpected HTTP error code
    public static let httpError = Self(rawValue: 12)
    /// `VIR_ERR_SEXPR_SERIAL` (13): failure to serialize an S-Expr
    public static let sexprSerial = Self(rawValue: 13)
    /// `VIR_ERR_NO_XEN` (14): could not open Xen hypervisor control
    public static let noXen = Self(rawValue: 14)
    /// `VIR_ERR_XEN_CALL` (15): failure doing an hypervisor call
    public static let xenCall = Self(rawValue: 15)
    /// `VIR_ERR_OS_TYPE` (16): unknown OS type
    public static let osType = Self(rawValue: 16)
    /// `VIR_ERR_NO_KERNEL` (17): missing kernel information
    public static let noKernel = Self(rawValue: 17)
    /// `VIR_ERR_NO_ROOT` (18): missing root device information
    public static let noRoot = Self(rawValue: 18)
    /// `VIR_ERR_NO_SOURCE` (19): missing source device information
    public static let noSource = Self(rawValue: 19)
    /// `VIR_ERR_NO_TARGET` (20): missing target device information
    public static let noTarget = Self(rawValue: 20)
    /// `VIR_ERR_NO_NAME` (21): missing domain name information
    public static let noName = Self(rawValue: 21)
    /// `VIR_ERR_NO_OS` (22): missing domain OS information
    public static let noOs = Self(rawValue: 22)
    /// `VIR_ERR_NO_DEVICE` (23): missing domain devices information
    public static let noDevice = Self(rawValue: 23)
    /// `VIR_ERR_NO_XENSTORE` (24): could not open Xen Store control
    public static let noXenstore = Self(rawValue: 24)
    /// `VIR_ERR_DRIVER_FULL` (25): too many drivers registered
    public static let driverFull = Self(rawValue: 25)
    /// `VIR_ERR_CALL_FAILED` (26): not supported by the drivers (DEPRECATED)
    public static let callFailed = Self(rawValue: 26)
    /// `VIR_ERR_XML_ERROR` (27): an XML description is not well formed or broken
    public static let xmlError = Self(rawValue: 27)
    /// `VIR_ERR_DOM_EXIST` (28): the domain already exist
    public static let domExist = Self(rawValue: 28)
    /// `VIR_ERR_OPERATION_DENIED` (29): operation forbidden on read-only connections
    public static let operationDenied = Self(rawValue: 29)
    /// `VIR_ERR_OPEN_FAILED` (30): failed to open a conf file
    public static let openFailed = Self(rawValue: 30)
    /// `VIR_ERR_READ_FAILED` (31): failed to read a conf file
    public static let readFailed = Self(rawValue: 31)
    /// `VIR_ERR_PARSE_FAILED` (32): failed to parse a conf file
    public static let parseFailed = Self(rawValue: 32)
    /// `VIR_ERR_CONF_SYNTAX` (33): failed to parse the syntax of a conf file
    public static let confSyntax = Self(rawValue: 33)
    /// `VIR_ERR_WRITE_FAILED` (34): failed to write a conf file
    public static let writeFailed = Self(rawValue: 34)
    /// `VIR_ERR_XML_DETAIL` (35): detail of an XML error
    public static let xmlDetail = Self(rawValue: 35)
    /// `VIR_ERR_INVALID_NETWORK` (36): invalid network object
    public static let invalidNetwork = Self(rawValue: 36)
    /// `VIR_ERR_NETWORK_EXIST` (37): the network already exist
    public static let networkExist = Self(rawValue: 37)
    /// `VIR_ERR_SYSTEM_ERROR` (38): general system call failure
    public static let systemError = Self(rawValue: 38)
    /// `VIR_ERR_RPC` (39): some sort of RPC error
    public static let rpc = Self(rawValue: 39)
    /// `VIR_ERR_GNUTLS_ERROR` (40): error from a GNUTLS call
    public static let gnutlsError = Self(rawValue: 40)
    /// `VIR_ERR_NO_DOMAIN` (42): domain not found or unexpectedly disappeared
    public static let noDomain = Self(rawValue: 42)
    /// `VIR_ERR_NO_NETWORK` (43): network not found
    public static let noNetwork = Self(rawValue: 43)
    /// `VIR_ERR_INVALID_MAC` (44): invalid MAC address
    public static let invalidMac = Self(rawValue: 44)
    /// `VIR_ERR_AUTH_FAILED` (45): authentication failed
    public static let authFailed = Self(rawValue: 45)
    /// `VIR_ERR_INVALID_STORAGE_POOL` (46): invalid storage pool object
    public static let invalidStoragePool = Self(rawValue: 46)
    /// `VIR_ERR_INVALID_STORAGE_VOL` (47): invalid storage vol object
    public static let invalidStorageVol = Self(rawValue: 47)
    /// `VIR_ERR_NO_STORAGE_POOL` (49): storage pool not found
    public static let noStoragePool = Self(rawValue: 49)
    /// `VIR_ERR_NO_STORAGE_VOL` (50): storage volume not found
    public static let noStorageVol = Self(rawValue: 50)
    /// `VIR_ERR_INVALID_NODE_DEVICE` (52): invalid node device object
    public static let invalidNodeDevice = Self(rawValue: 52)
    /// `VIR_ERR_NO_NODE_DEVICE` (53): node device not found
    public static let noNodeDevice = Self(rawValue: 53)
    /// `VIR_ERR_NO_SECURITY_MODEL` (54): security model not found
    public static let noSecurityModel = Self(rawValue: 54)
    /// `VIR_ERR_OPERATION_INVALID` (55): operation is not applicable at this time
    public static let operationInvalid = Self(rawValue: 55)
    /// `VIR_ERR_NO_INTERFACE` (57): interface driver not running
    public static let noInterface = Self(rawValue: 57)
    /// `VIR_ERR_INVALID_INTERFACE` (58): invalid interface object
    public static let invalidInterface = Self(rawValue: 58)
    /// `VIR_ERR_MULTIPLE_INTERFACES` (59): more than one matching interface found
    public static let multipleInterfaces = Self(rawValue: 59)
    /// `VIR_ERR_INVALID_NWFILTER` (61): invalid nwfilter object
    public static let invalidNwfilter = Self(rawValue: 61)
    /// `VIR_ERR_NO_NWFILTER` (62): nw filter pool not found
    public static let noNwfilter = Self(rawValue: 62)
    /// `VIR_ERR_BUILD_FIREWALL` (63): nw filter pool not found
    public static let buildFirewall = Self(rawValue: 63)
    /// `VIR_ERR_INVALID_SECRET` (65): invalid secret
    public static let invalidSecret = Self(rawValue: 65)
    /// `VIR_ERR_NO_SECRET` (66): secret not found
    public static let noSecret = Self(rawValue: 66)
    /// `VIR_ERR_CONFIG_UNSUPPORTED` (67): unsupported configuration construct
    public static let configUnsupported = Self(rawValue: 67)
    /// `VIR_ERR_OPERATION_TIMEOUT` (68): timeout occurred during operation
    public static let operationTimeout = Self(rawValue: 68)
    /// `VIR_ERR_MIGRATE_PERSIST_FAILED` (69): a migration worked, but making the VM persist on the dest host failed
    public static let migratePersistFailed = Self(rawValue: 69)
    /// `VIR_ERR_HOOK_SCRIPT_FAILED` (70): a synchronous hook script failed
    public static let hookScriptFailed = Self(rawValue: 70)
    /// `VIR_ERR_INVALID_DOMAIN_SNAPSHOT` (71): invalid domain snapshot
    public static let invalidDomainSnapshot = Self(rawValue: 71)
    /// `VIR_ERR_NO_DOMAIN_SNAPSHOT` (72): domain snapshot not found
    public static let noDomainSnapshot = Self(rawValue: 72)
    /// `VIR_ERR_INVALID_STREAM` (73): stream pointer not valid
    public static let invalidStream = Self(rawValue: 73)
    /// `VIR_ERR_ARGUMENT_UNSUPPORTED` (74): valid API use but unsupported by the given driver
    public static let argumentUnsupported = Self(rawValue: 74)
    /// `VIR_ERR_STORAGE_PROBE_FAILED` (75): storage pool probe failed
    public static let storageProbeFailed = Self(rawValue: 75)
    /// `VIR_ERR_STORAGE_POOL_BUILT` (76): storage pool already built
    public static let storagePoolBuilt = Self(rawValue: 76)
    /// `VIR_ERR_SNAPSHOT_REVERT_RISKY` (77): force was not requested for a risky domain snapshot revert
    public static let snapshotRevertRisky = Self(rawValue: 77)
    /// `VIR_ERR_OPERATION_ABORTED` (78): operation on a domain was canceled/aborted by user
    public static let operationAborted = Self(rawValue: 78)
    /// `VIR_ERR_AUTH_CANCELLED` (79): authentication cancelled
    public static let authCancelled = Self(rawValue: 79)
    /// `VIR_ERR_NO_DOMAIN_METADATA` (80): The metadata is not present
    public static let noDomainMetadata = Self(rawValue: 80)
    /// `VIR_ERR_MIGRATE_UNSAFE` (81): Migration is not safe
    public static let migrateUnsafe = Self(rawValue: 81)
    /// `VIR_ERR_OVERFLOW` (82): integer overflow
    public static let overflow = Self(rawValue: 82)
    /// `VIR_ERR_BLOCK_COPY_ACTIVE` (83): action prevented by block copy job
    public static let blockCopyActive = Self(rawValue: 83)
    /// `VIR_ERR_OPERATION_UNSUPPORTED` (84): The requested operation is not supported
    public static let operationUnsupported = Self(rawValue: 84)
    /// `VIR_ERR_SSH` (85): error in ssh transport driver
    public static let ssh = Self(rawValue: 85)
    /// `VIR_ERR_AGENT_UNRESPONSIVE` (86): guest agent is unresponsive, not running or not usable
    public static let agentUnresponsive = Self(rawValue: 86)
    /// `VIR_ERR_RESOURCE_BUSY` (87): resource is already in use
    public static let resourceBusy = Self(rawValue: 87)
    /// `VIR_ERR_ACCESS_DENIED` (88): operation on the object/resource was denied
    public static let accessDenied = Self(rawValue: 88)
    /// `VIR_ERR_DBUS_SERVICE` (89): error from a dbus service
    public static let dbusService = Self(rawValue: 89)
    /// `VIR_ERR_STORAGE_VOL_EXIST` (90): the storage vol already exists
    public static let storageVolExist = Self(rawValue: 90)
    /// `VIR_ERR_CPU_INCOMPATIBLE` (91): given CPU is incompatible with host CPU
    public static let cpuIncompatible = Self(rawValue: 91)
    /// `VIR_ERR_XML_INVALID_SCHEMA` (92): XML document doesn't validate against schema
    public static let xmlInvalidSchema = Self(rawValue: 92)
    /// `VIR_ERR_MIGRATE_FINISH_OK` (93): Finish API succeeded but it is expected to return NULL
    public static let migrateFinishOk = Self(rawValue: 93)
    /// `VIR_ERR_AUTH_UNAVAILABLE` (94): authentication unavailable
    public static let authUnavailable = Self(rawValue: 94)
    /// `VIR_ERR_NO_SERVER` (95): Server was not found
    public static let noServer = Self(rawValue: 95)
    /// `VIR_ERR_NO_CLIENT` (96): Client was not found
    public static let noClient = Self(rawValue: 96)
    /// `VIR_ERR_AGENT_UNSYNCED` (97): guest agent replies with wrong id to guest-sync command (DEPRECATED)
    public static let agentUnsynced = Self(rawValue: 97)
    /// `VIR_ERR_LIBSSH` (98): error in libssh transport driver
    public static let libssh = Self(rawValue: 98)
    /// `VIR_ERR_DEVICE_MISSING` (99): fail to find the desired device
    public static let deviceMissing = Self(rawValue: 99)
    /// `VIR_ERR_INVALID_NWFILTER_BINDING` (100): invalid nwfilter binding
    public static let invalidNwfilterBinding = Self(rawValue: 100)
    /// `VIR_ERR_NO_NWFILTER_BINDING` (101): no nwfilter binding
    public static let noNwfilterBinding = Self(rawValue: 101)
    /// `VIR_ERR_INVALID_DOMAIN_CHECKPOINT` (102): invalid domain checkpoint
    public static let invalidDomainCheckpoint = Self(rawValue: 102)
    /// `VIR_ERR_NO_DOMAIN_CHECKPOINT` (103): domain checkpoint not found
    public static let noDomainCheckpoint = Self(rawValue: 103)
    /// `VIR_ERR_NO_DOMAIN_BACKUP` (104): domain backup job id not found
    public static let noDomainBackup = Self(rawValue: 104)
    /// `VIR_ERR_INVALID_NETWORK_PORT` (105): invalid network port object
    public static let invalidNetworkPort = Self(rawValue: 105)
    /// `VIR_ERR_NETWORK_PORT_EXIST` (106): the network port already exist
    public static let networkPortExist = Self(rawValue: 106)
    /// `VIR_ERR_NO_NETWORK_PORT` (107): network port not found
    public static let noNetworkPort = Self(rawValue: 107)
    /// `VIR_ERR_NO_HOSTNAME` (108): no domain's hostname found
    public static let noHostname = Self(rawValue: 108)
    /// `VIR_ERR_CHECKPOINT_INCONSISTENT` (109): checkpoint can't be used
    public static let checkpointInconsistent = Self(rawValue: 109)
    /// `VIR_ERR_MULTIPLE_DOMAINS` (110): more than one matching domain found
    public static let multipleDomains = Self(rawValue: 110)
    /// `VIR_WAR_NO_NETWORK` (41): failed to start network (a warning)
    public static let noNetworkWarning = Self(rawValue: 41)
    /// `VIR_WAR_NO_STORAGE` (48): failed to start storage (a warning)
    public static let noStorageWarning = Self(rawValue: 48)
    /// `VIR_WAR_NO_NODE` (51): failed to start node driver (a warning)
    public static let noNodeWarning = Self(rawValue: 51)
    /// `VIR_WAR_NO_INTERFACE` (56): failed to start interface driver (a warning)
    public static let noInterfaceWarning = Self(rawValue: 56)
    /// `VIR_WAR_NO_NWFILTER` (60): failed to start nwfilter driver (a warning)
    public static let noNWFilterWarning = Self(rawValue: 60)
    /// `VIR_WAR_NO_SECRET` (64): failed to start secret storage (a warning)
    public static let noSecretWarning = Self(rawValue: 64)

    /// The libvirt C name (`VIR_ERR_…`) of a known code, nil for codes newer than libvirt 9.0.
    public var cName: String? {
        switch rawValue {
        case 0: return "VIR_ERR_OK"
        case 1: return "VIR_ERR_INTERNAL_ERROR"
        case 2: return "VIR_ERR_NO_MEMORY"
        case 3: return "VIR_ERR_NO_SUPPORT"
        case 4: return "VIR_ERR_UNKNOWN_HOST"
        case 5: return "VIR_ERR_NO_CONNECT"
        case 6: return "VIR_ERR_INVALID_CONN"
        case 7: return "VIR_ERR_INVALID_DOMAIN"
        case 8: return "VIR_ERR_INVALID_ARG"
        case 9: return "VIR_ERR_OPERATION_FAILED"
        case 10: return "VIR_ERR_GET_FAILED"
        case 11: return "VIR_ERR_POST_FAILED"
        case 12: return "VIR_ERR_HTTP_ERROR"
        case 13: return "VIR_ERR_SEXPR_SERIAL"
        case 14: return "VIR_ERR_NO_XEN"
        case 15: return "VIR_ERR_XEN_CALL"
        case 16: return "VIR_ERR_OS_TYPE"
        case 17: return "VIR_ERR_NO_KERNEL"
        case 18: return "VIR_ERR_NO_ROOT"
        case 19: return "VIR_ERR_NO_SOURCE"
        case 20: return "VIR_ERR_NO_TARGET"
        case 21: return "VIR_ERR_NO_NAME"
        case 22: return "VIR_ERR_NO_OS"
        case 23: return "VIR_ERR_NO_DEVICE"
        case 24: return "VIR_ERR_NO_XENSTORE"
        case 25: return "VIR_ERR_DRIVER_FULL"
        case 26: return "VIR_ERR_CALL_FAILED"
        case 27: return "VIR_ERR_XML_ERROR"
        case 28: return "VIR_ERR_DOM_EXIST"
        case 29: return "VIR_ERR_OPERATION_DENIED"
        case 30: return "VIR_ERR_OPEN_FAILED"
        case 31: return "VIR_ERR_READ_FAILED"
        case 32: return "VIR_ERR_PARSE_FAILED"
        case 33: return "VIR_ERR_CONF_SYNTAX"
        case 34: return "VIR_ERR_WRITE_FAILED"
        case 35: return "VIR_ERR_XML_DETAIL"
        case 36: return "VIR_ERR_INVALID_NETWORK"
        case 37: return "VIR_ERR_NETWORK_EXIST"
        case 38: return "VIR_ERR_SYSTEM_ERROR"
        case 39: return "VIR_ERR_RPC"
        case 41: return "VIR_WAR_NO_NETWORK"
        case 48: return "VIR_WAR_NO_STORAGE"
        case 51: return "VIR_WAR_NO_NODE"
        case 56: return "VIR_WAR_NO_INTERFACE"
        case 60: return "VIR_WAR_NO_NWFILTER"
        case 64: return "VIR_WAR_NO_SECRET"
        case 40: return "VIR_ERR_GNUTLS_ERROR"
        case 42: return "VIR_ERR_NO_DOMAIN"
        case 43: return "VIR_ERR_NO_NETWORK"
        case 44: return "VIR_ERR_INVALID_MAC"
        case 45: return "VIR_ERR_AUTH_FAILED"
        case 46: return "VIR_ERR_INVALID_STORAGE_POOL"
        case 47: return "VIR_ERR_INVALID_STORAGE_VOL"
        case 49: return "VIR_ERR_NO_STORAGE_POOL"
        case 50: return "VIR_ERR_NO_STORAGE_VOL"
        case 52: return "VIR_ERR_INVALID_NODE_DEVICE"
        case 53: return "VIR_ERR_NO_NODE_DEVICE"
        case 54: return "VIR_ERR_NO_SECURITY_MODEL"
        case 55: return "VIR_ERR_OPERATION_INVALID"
        case 57: return "VIR_ERR_NO_INTERFACE"
        case 58: return "VIR_ERR_INVALID_INTERFACE"
        case 59: return "VIR_ERR_MULTIPLE_INTERFACES"
        case 61: return "VIR_ERR_INVALID_NWFILTER"
        case 62: return "VIR_ERR_NO_NWFILTER"
        case 63: return "VIR_ERR_BUILD_FIREWALL"
        case 65: return "VIR_ERR_INVALID_SECRET"
        case 66: return "VIR_ERR_NO_SECRET"
        case 67: return "VIR_ERR_CONFIG_UNSUPPORTED"
        case 68: return "VIR_ERR_OPERATION_TIMEOUT"
        case 69: return "VIR_ERR_MIGRATE_PERSIST_FAILED"
        case 70: return "VIR_ERR_HOOK_SCRIPT_FAILED"
        case 71: return "VIR_ERR_INVALID_DOMAIN_SNAPSHOT"
        case 72: return "VIR_ERR_NO_DOMAIN_SNAPSHOT"
        case 73: return "VIR_ERR_INVALID_STREAM"
        case 74: return "VIR_ERR_ARGUMENT_UNSUPPORTED"
        case 75: return "VIR_ERR_STORAGE_PROBE_FAILED"
        case 76: return "VIR_ERR_STORAGE_POOL_BUILT"
        case 77: return "VIR_ERR_SNAPSHOT_REVERT_RISKY"
        case 78: return "VIR_ERR_OPERATION_ABORTED"
        case 79: return "VIR_ERR_AUTH_CANCELLED"
        case 80: return "VIR_ERR_NO_DOMAIN_METADATA"
        case 81: return "VIR_ERR_MIGRATE_UNSAFE"
        case 82: return "VIR_ERR_OVERFLOW"
        case 83: return "VIR_ERR_BLOCK_COPY_ACTIVE"
        case 84: return "VIR_ERR_OPERATION_UNSUPPORTED"
        case 85: return "VIR_ERR_SSH"
        case 86: return "VIR_ERR_AGENT_UNRESPONSIVE"
        case 87: return "VIR_ERR_RESOURCE_BUSY"
        case 88: return "VIR_ERR_ACCESS_DENIED"
        case 89: return "VIR_ERR_DBUS_SERVICE"
        case 90: return "VIR_ERR_STORAGE_VOL_EXIST"
        case 91: return "VIR_ERR_CPU_INCOMPATIBLE"
        case 92: return "VIR_ERR_XML_INVALID_SCHEMA"
        case 93: return "VIR_ERR_MIGRATE_FINISH_OK"
        case 94: return "VIR_ERR_AUTH_UNAVAILABLE"
        case 95: return "VIR_ERR_NO_SERVER"
        case 96: return "VIR_ERR_NO_CLIENT"
        case 97: return "VIR_ERR_AGENT_UNSYNCED"
        case 98: return "VIR_ERR_LIBSSH"
        case 99: return "VIR_ERR_DEVICE_MISSING"
        case 100: return "VIR_ERR_INVALID_NWFILTER_BINDING"
        case 101: return "VIR_ERR_NO_NWFILTER_BINDING"
        case 102: return "VIR_ERR_INVALID_DOMAIN_CHECKPOINT"
        case 103: return "VIR_ERR_NO_DOMAIN_CHECKPOINT"
        case 104: return "VIR_ERR_NO_DOMAIN_BACKUP"
        case 105: return "VIR_ERR_INVALID_NETWORK_PORT"
        case 106: return "VIR_ERR_NETWORK_PORT_EXIST"
        case 107: return "VIR_ERR_NO_NETWORK_PORT"
        case 108: return "VIR_ERR_NO_HOSTNAME"
        case 109: return "VIR_ERR_CHECKPOINT_INCONSISTENT"
        case 110: return "VIR_ERR_MULTIPLE_DOMAINS"
        default: return nil
        }
    }
}

extension LibvirtError.Domain {
    /// `VIR_FROM_NONE` (0)
    public static let none = Self(rawValue: 0)
    /// `VIR_FROM_XEN` (1): Error at Xen hypervisor layer
    public static let xen = Self(rawValue: 1)
    /// `VIR_FROM_XEND` (2): Error at connection with xend daemon
    public static let xend = Self(rawValue: 2)
    /// `VIR_FROM_XENSTORE` (3): Error at connection with xen store
    public static let xenstore = Self(rawValue: 3)
    /// `VIR_FROM_SEXPR` (4): Error in the S-Expression code
    public static let sexpr = Self(rawValue: 4)
    /// `VIR_FROM_XML` (5): Error in the XML code
    public static let xml = Self(rawValue: 5)
    /// `VIR_FROM_DOM` (6): Error when operating on a domain
    public static let dom = Self(rawValue: 6)
    /// `VIR_FROM_RPC` (7): Error in the XML-RPC code
    public static let rpc = Self(rawValue: 7)
    /// `VIR_FROM_PROXY` (8): Error in the proxy code; unused since 0.8.6
    public static let proxy = Self(rawValue: 8)
    /// `VIR_FROM_CONF` (9): Error in the configuration file handling
    public static let conf = Self(rawValue: 9)
    /// `VIR_FROM_QEMU` (10): Error at the QEMU daemon
    public static let qemu = Self(rawValue: 10)
    /// `VIR_FROM_NET` (11): Error when operating on a network
    public static let net = Self(rawValue: 11)
    /// `VIR_FROM_TEST` (12): Error from test driver
    public static let test = Self(rawValue: 12)
    /// `VIR_FROM_REMOTE` (13): Error from remote driver
    public static let remote = Self(rawValue: 13)
    /// `VIR_FROM_OPENVZ` (14): Error from OpenVZ driver
    public static let openvz = Self(rawValue: 14)
    /// `VIR_FROM_XENXM` (15): Error at Xen XM layer
    public static let xenxm = Self(rawValue: 15)
    /// `VIR_FROM_STATS_LINUX` (16): Error in the Linux Stats code
    public static let statsLinux = Self(rawValue: 16)
    /// `VIR_FROM_LXC` (17): Error from Linux Container driver
    public static let lxc = Self(rawValue: 17)
    /// `VIR_FROM_STORAGE` (18): Error from storage driver
    public static let storage = Self(rawValue: 18)
    /// `VIR_FROM_NETWORK` (19): Error from network config
    public static let network = Self(rawValue: 19)
    /// `VIR_FROM_DOMAIN` (20): Error from domain config
    public static let domain = Self(rawValue: 20)
    /// `VIR_FROM_UML` (21): Error at the UML driver; unused since 5.0.0
    public static let uml = Self(rawValue: 21)
    /// `VIR_FROM_NODEDEV` (22): Error from node device monitor
    public static let nodedev = Self(rawValue: 22)
    /// `VIR_FROM_XEN_INOTIFY` (23): Error from xen inotify layer
    public static let xenInotify = Self(rawValue: 23)
    /// `VIR_FROM_SECURITY` (24): Error from security framework
    public static let security = Self(rawValue: 24)
    /// `VIR_FROM_VBOX` (25): Error from VirtualBox driver
    public static let vbox = Self(rawValue: 25)
    /// `VIR_FROM_INTERFACE` (26): Error when operating on an interface
    public static let interface = Self(rawValue: 26)
    /// `VIR_FROM_ONE` (27): The OpenNebula driver no longer exists. Retained for ABI/API compat only
    public static let one = Self(rawValue: 27)
    /// `VIR_FROM_ESX` (28): Error from ESX driver
    public static let esx = Self(rawValue: 28)
    /// `VIR_FROM_PHYP` (29): Error from the phyp driver, unused since 6.0.0
    public static let phyp = Self(rawValue: 29)
    /// `VIR_FROM_SECRET` (30): Error from secret storage
    public static let secret = Self(rawValue: 30)
    /// `VIR_FROM_CPU` (31): Error from CPU driver
    public static let cpu = Self(rawValue: 31)
    /// `VIR_FROM_XENAPI` (32): Error from XenAPI
    public static let xenapi = Self(rawValue: 32)
    /// `VIR_FROM_NWFILTER` (33): Error from network filter driver
    public static let nwfilter = Self(rawValue: 33)
    /// `VIR_FROM_HOOK` (34): Error from Synchronous hooks
    public static let hook = Self(rawValue: 34)
    /// `VIR_FROM_DOMAIN_SNAPSHOT` (35): Error from domain snapshot
    public static let domainSnapshot = Self(rawValue: 35)
    /// `VIR_FROM_AUDIT` (36): Error from auditing subsystem
    public static let audit = Self(rawValue: 36)
    /// `VIR_FROM_SYSINFO` (37): Error from sysinfo/SMBIOS
    public static let sysinfo = Self(rawValue: 37)
    /// `VIR_FROM_STREAMS` (38): Error from I/O streams
    public static let streams = Self(rawValue: 38)
    /// `VIR_FROM_VMWARE` (39): Error from VMware driver
    public static let vmware = Self(rawValue: 39)
    /// `VIR_FROM_EVENT` (40): Error from event loop impl
    public static let event = Self(rawValue: 40)
    /// `VIR_FROM_LIBXL` (41): Error from libxenlight driver
    public static let libxl = Self(rawValue: 41)
    /// `VIR_FROM_LOCKING` (42): Error from lock manager
    public static let locking = Self(rawValue: 42)
    /// `VIR_FROM_HYPERV` (43): Error from Hyper-V driver
    public static let hyperv = Self(rawValue: 43)
    /// `VIR_FROM_CAPABILITIES` (44): Error from capabilities
    public static let capabilities = Self(rawValue: 44)
    /// `VIR_FROM_URI` (45): Error from URI handling
    public static let uri = Self(rawValue: 45)
    /// `VIR_FROM_AUTH` (46): Error from auth handling
    public static let auth = Self(rawValue: 46)
    /// `VIR_FROM_DBUS` (47): Error from DBus
    public static let dbus = Self(rawValue: 47)
    /// `VIR_FROM_PARALLELS` (48): Error from Parallels
    public static let parallels = Self(rawValue: 48)
    /// `VIR_FROM_DEVICE` (49): Error from Device
    public static let device = Self(rawValue: 49)
    /// `VIR_FROM_SSH` (50): Error from libssh2 connection transport
    public static let ssh = Self(rawValue: 50)
    /// `VIR_FROM_LOCKSPACE` (51): Error from lockspace
    public static let lockspace = Self(rawValue: 51)
    /// `VIR_FROM_INITCTL` (52): Error from initctl device communication
    public static let initctl = Self(rawValue: 52)
    /// `VIR_FROM_IDENTITY` (53): Error from identity code
    public static let identity = Self(rawValue: 53)
    /// `VIR_FROM_CGROUP` (54): Error from cgroups
    public static let cgroup = Self(rawValue: 54)
    /// `VIR_FROM_ACCESS` (55): Error from access control manager
    public static let access = Self(rawValue: 55)
    /// `VIR_FROM_SYSTEMD` (56): Error from systemd code
    public static let systemd = Self(rawValue: 56)
    /// `VIR_FROM_BHYVE` (57): Error from bhyve driver
    public static let bhyve = Self(rawValue: 57)
    /// `VIR_FROM_CRYPTO` (58): Error from crypto code
    public static let crypto = Self(rawValue: 58)
    /// `VIR_FROM_FIREWALL` (59): Error from firewall
    public static let firewall = Self(rawValue: 59)
    /// `VIR_FROM_POLKIT` (60): Error from polkit code
    public static let polkit = Self(rawValue: 60)
    /// `VIR_FROM_THREAD` (61): Error from thread utils
    public static let thread = Self(rawValue: 61)
    /// `VIR_FROM_ADMIN` (62): Error from admin backend
    public static let admin = Self(rawValue: 62)
    /// `VIR_FROM_LOGGING` (63): Error from log manager
    public static let logging = Self(rawValue: 63)
    /// `VIR_FROM_XENXL` (64): Error from Xen xl config code
    public static let xenxl = Self(rawValue: 64)
    /// `VIR_FROM_PERF` (65): Error from perf
    public static let perf = Self(rawValue: 65)
    /// `VIR_FROM_LIBSSH` (66): Error from libssh connection transport
    public static let libssh = Self(rawValue: 66)
    /// `VIR_FROM_RESCTRL` (67): Error from resource control
    public static let resctrl = Self(rawValue: 67)
    /// `VIR_FROM_FIREWALLD` (68): Error from firewalld
    public static let firewalld = Self(rawValue: 68)
    /// `VIR_FROM_DOMAIN_CHECKPOINT` (69): Error from domain checkpoint
    public static let domainCheckpoint = Self(rawValue: 69)
    /// `VIR_FROM_TPM` (70): Error from TPM
    public static let tpm = Self(rawValue: 70)
    /// `VIR_FROM_BPF` (71): Error from BPF code
    public static let bpf = Self(rawValue: 71)
    /// `VIR_FROM_CH` (72): Error from Cloud-Hypervisor driver
    public static let ch = Self(rawValue: 72)

    /// The libvirt C name (`VIR_FROM_…`) of a known domain, nil for newer ones.
    public var cName: String? {
        switch rawValue {
        case 0: return "VIR_FROM_NONE"
        case 1: return "VIR_FROM_XEN"
        case 2: return "VIR_FROM_XEND"
        case 3: return "VIR_FROM_XENSTORE"
        case 4: return "VIR_FROM_SEXPR"
        case 5: return "VIR_FROM_XML"
        case 6: return "VIR_FROM_DOM"
        case 7: return "VIR_FROM_RPC"
        case 8: return "VIR_FROM_PROXY"
        case 9: return "VIR_FROM_CONF"
        case 10: return "VIR_FROM_QEMU"
        case 11: return "VIR_FROM_NET"
        case 12: return "VIR_FROM_TEST"
        case 13: return "VIR_FROM_REMOTE"
        case 14: return "VIR_FROM_OPENVZ"
        case 15: return "VIR_FROM_XENXM"
        case 16: return "VIR_FROM_STATS_LINUX"
        case 17: return "VIR_FROM_LXC"
        case 18: return "VIR_FROM_STORAGE"
        case 19: return "VIR_FROM_NETWORK"
        case 20: return "VIR_FROM_DOMAIN"
        case 21: return "VIR_FROM_UML"
        case 22: return "VIR_FROM_NODEDEV"
        case 23: return "VIR_FROM_XEN_INOTIFY"
        case 24: return "VIR_FROM_SECURITY"
        case 25: return "VIR_FROM_VBOX"
        case 26: return "VIR_FROM_INTERFACE"
        case 27: return "VIR_FROM_ONE"
        case 28: return "VIR_FROM_ESX"
        case 29: return "VIR_FROM_PHYP"
        case 30: return "VIR_FROM_SECRET"
        case 31: return "VIR_FROM_CPU"
        case 32: return "VIR_FROM_XENAPI"
        case 33: return "VIR_FROM_NWFILTER"
        case 34: return "VIR_FROM_HOOK"
        case 35: return "VIR_FROM_DOMAIN_SNAPSHOT"
        case 36: return "VIR_FROM_AUDIT"
        case 37: return "VIR_FROM_SYSINFO"
        case 38: return "VIR_FROM_STREAMS"
        case 39: return "VIR_FROM_VMWARE"
        case 40: return "VIR_FROM_EVENT"
        case 41: return "VIR_FROM_LIBXL"
        case 42: return "VIR_FROM_LOCKING"
        case 43: return "VIR_FROM_HYPERV"
        case 44: return "VIR_FROM_CAPABILITIES"
        case 45: return "VIR_FROM_URI"
        case 46: return "VIR_FROM_AUTH"
        case 47: return "VIR_FROM_DBUS"
        case 48: return "VIR_FROM_PARALLELS"
        case 49: return "VIR_FROM_DEVICE"
        case 50: return "VIR_FROM_SSH"
        case 51: return "VIR_FROM_LOCKSPACE"
        case 52: return "VIR_FROM_INITCTL"
        case 53: return "VIR_FROM_IDENTITY"
        case 54: return "VIR_FROM_CGROUP"
        case 55: return "VIR_FROM_ACCESS"
        case 56: return "VIR_FROM_SYSTEMD"
        case 57: return "VIR_FROM_BHYVE"
        case 58: return "VIR_FROM_CRYPTO"
        case 59: return "VIR_FROM_FIREWALL"
        case 60: return "VIR_FROM_POLKIT"
        case 61: return "VIR_FROM_THREAD"
        case 62: return "VIR_FROM_ADMIN"
        case 63: return "VIR_FROM_LOGGING"
        case 64: return "VIR_FROM_XENXL"
        case 65: return "VIR_FROM_PERF"
        case 66: return "VIR_FROM_LIBSSH"
        case 67: return "VIR_FROM_RESCTRL"
        case 68: return "VIR_FROM_FIREWALLD"
        case 69: return "VIR_FROM_DOMAIN_CHECKPOINT"
        case 70: return "VIR_FROM_TPM"
        case 71: return "VIR_FROM_BPF"
        case 72: return "VIR_FROM_CH"
        default: return nil
        }
    }
}
