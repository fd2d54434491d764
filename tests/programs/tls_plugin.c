// A plugin with a __thread variable, for dlopen_tls: glibc gives a
// dlopen'd module's TLS a block of its own, allocated lazily with malloc on
// each thread's first access and pointed to only from that thread's DTV.
#include <stddef.h>

__thread void* volatile plugin_tls_slot;

void plugin_tls_store(void* block) { plugin_tls_slot = block; }
