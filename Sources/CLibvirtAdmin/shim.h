#ifndef VIRTKIT_CLIBVIRTADMIN_SHIM_H
#define VIRTKIT_CLIBVIRTADMIN_SHIM_H
// libvirt-admin: the daemons' administration interface (servers, thread pools, clients,
// logging). Only headers; every call is made from the LibvirtAdmin module.
#include <libvirt/libvirt-admin.h>
#include <libvirt/virterror.h>
#endif
