#ifndef VIRTKIT_CVIRTCORESHIMS_H
#define VIRTKIT_CVIRTCORESHIMS_H
// System calls Swift cannot reach through Glibc (variadic `syscall(2)`), for VirtCore's
// RootedFileReader. Header-only: nothing to link.
#include <errno.h>
#ifdef __linux__
#include <sys/syscall.h>
#include <unistd.h>
#endif

// openat2(2) (Linux 5.6+): `how` is struct open_how {flags, mode, resolve}. -1 with errno
// ENOSYS where the kernel or a seccomp filter lacks it, and on other systems.
static inline int virtkit_openat2(int dirfd, const char *path, unsigned long long flags, unsigned long long resolve) {
#if defined(__linux__)
#ifndef SYS_openat2
#define SYS_openat2 437  /* the same number on every Linux architecture */
#endif
    struct { unsigned long long flags, mode, resolve; } how = { flags, 0, resolve };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
#else
    (void)dirfd; (void)path; (void)flags; (void)resolve;
    errno = ENOSYS;
    return -1;
#endif
}

#endif
