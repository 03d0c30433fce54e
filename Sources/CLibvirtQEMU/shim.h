#ifndef VIRTKIT_CLIBVIRTQEMU_SHIM_H
#define VIRTKIT_CLIBVIRTQEMU_SHIM_H
// libvirt-qemu: QEMU-specific calls (monitor and agent pass-through, monitor events).
// Only headers; every call is made from the LibvirtQEMU module through Libvirt's seam.
#include <libvirt/libvirt-qemu.h>
#endif
