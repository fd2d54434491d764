#include <stdlib.h>

void* volatile plugin_sink;

// Leaks 4242 bytes from inside the plugin.
__attribute__((noinline)) void plugin_leak(void) { plugin_sink = malloc(4242); }

// A block the caller frees: with RTLD_DEEPBIND this malloc would bind to
// libc, not to nantrack, unless the flag is cleared.
__attribute__((noinline)) void* plugin_alloc(size_t size) { return malloc(size); }
