// dlopen a plugin, let it leak 4242 bytes, dlclose it: the leak's stack runs
// through a module that is gone at exit, which the trace must still map.
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  void* plugin = dlopen(argv[1], RTLD_NOW);
  if (!plugin) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  void (*leak)(void) = (void (*)(void))dlsym(plugin, "plugin_leak");
  leak();
  dlclose(plugin);
  printf("plugin unloaded\n");
  return 0;
}
