#ifndef VIRTKIT_CLIBVIRT_SHIM_H
#define VIRTKIT_CLIBVIRT_SHIM_H
// The one place libvirt's C API enters Swift. Only headers: every call is
// made from the Libvirt module's thin seam, which captures libvirt's
// thread-local error in the same synchronous call.
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <pthread.h>
#include <signal.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/// Blocks SIGPIPE on the calling thread. libvirt writes to daemon sockets with plain
/// write(): on a thread where SIGPIPE is blocked, a vanished peer gives EPIPE (a libvirt
/// error) instead of killing the process, without touching the process-wide disposition.
static inline int virtkit_block_sigpipe(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    return pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/// Names the calling thread (Linux: prctl(PR_SET_NAME), at most 15 bytes shown) so the
/// libvirt pool threads are recognisable in top/perf/gdb. prctl is variadic, hence
/// this wrapper. No-op elsewhere.
static inline void virtkit_set_thread_name(const char *name) {
#ifdef __linux__
    (void)prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
#else
    (void)name;
#endif
}
#endif
