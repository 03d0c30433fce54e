// LibvirtXML: typed, lossless views of every libvirt XML document other than the domain
// (capabilities, domain capabilities, storage, networks, node devices, secrets, snapshots,
// checkpoints, backups, interfaces, nwfilters) on the LosslessXML engine. Snapshots embed a
// `<domain>`, typed through DomainXML.
@_exported import LosslessXML
