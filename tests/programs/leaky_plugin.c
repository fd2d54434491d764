#include <stdlib.h>

void* volatile plugin_sink;

// Leaks 4242 bytes from inside the plugin.
__attribute__((noinline)) void plugin_leak(void) { plugin_sink = malloc(4242); }
