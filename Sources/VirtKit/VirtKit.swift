// The umbrella: `import VirtKit` brings every VirtKit module into scope.
@_exported import VirtCore
@_exported import Libvirt
@_exported import LibvirtQEMU
@_exported import LibvirtAdmin
@_exported import LosslessXML
@_exported import DomainXML
@_exported import LibvirtXML
@_exported import HostProbe
@_exported import CgroupControl
@_exported import LibvirtJoins
@_exported import Tuning
@_exported import VirtLogging
@_exported import LibvirtFleet
