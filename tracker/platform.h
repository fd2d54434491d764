// Small compiler helpers shared by the tracker and the preload shim.
#pragma once

#define NANTRACK_NOINLINE __attribute__((noinline))
#define NANTRACK_ALWAYS_INLINE inline __attribute__((always_inline))
// Every thread-local of code that runs inside libnantrack.so must use the
// initial-exec model: the default global-dynamic model may call malloc
// from __tls_get_addr on a thread's first access, which recurses into us.
// __thread, not thread_local: no dynamic-initialisation wrapper calls.
#define NANTRACK_TLS __attribute__((tls_model("initial-exec"))) __thread
#define NANTRACK_EXPORT extern "C" __attribute__((visibility("default")))
