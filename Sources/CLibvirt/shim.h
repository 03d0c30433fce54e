#ifndef VIRTKIT_CLIBVIRT_SHIM_H
#define VIRTKIT_CLIBVIRT_SHIM_H
// The one place libvirt's C API enters Swift. Only headers: every call is
// made from the Libvirt module's thin seam, which captures libvirt's
// thread-local error in the same synchronous call.
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#endif
