#ifndef VIRTKIT_CNUMA_SHIM_H
#define VIRTKIT_CNUMA_SHIM_H
// libnuma (numa(3)); used to cross-check HostProbe's sysfs topology on the live host.
#include <numa.h>
#endif
