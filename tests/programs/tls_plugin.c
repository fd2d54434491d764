// A library with thread-local storage of its own, dlopen'd by
// runtime_buffers and dlopen_tls: glibc gives a dlopen'd module's TLS a
// block of its own, allocated lazily with malloc on each thread's first
// access (allocate_dtv_entry) and pointed to only from that thread's DTV.
#include <stddef.h>

__thread int plugin_counter;
__thread char plugin_scratch[256];
__thread void* volatile plugin_tls_slot;

// runtime_buffers: touches the TLS so each thread gets its block.
int plugin_touch(int n) {
  plugin_scratch[n & 255] = (char)n;
  return plugin_counter += n;
}

// dlopen_tls: a heap block reachable only through this thread's TLS.
void plugin_tls_store(void* block) { plugin_tls_slot = block; }
