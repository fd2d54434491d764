// A library with thread-local storage of its own, for runtime_buffers to
// dlopen: the loader gives it a TLS module id and allocates its block in
// each thread that touches it (allocate_dtv_entry).
__thread int plugin_counter;
__thread char plugin_scratch[256];

int plugin_touch(int n) {
  plugin_scratch[n & 255] = (char)n;
  return plugin_counter += n;
}
