// dlopen a plugin, let it leak 4242 bytes, free a block it allocated,
// dlclose it: the leak's stack runs through a module that is gone at exit,
// which the trace must still map. argv[1] is the plugin path or a bare name
// (found through this program's RUNPATH, $ORIGIN); argv[2] "deepbind" opens
// it with RTLD_DEEPBIND.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  int mode = RTLD_NOW;
  if (argc > 2 && strcmp(argv[2], "deepbind") == 0) mode |= RTLD_DEEPBIND;
  void* plugin = dlopen(argv[1], mode);
  if (!plugin) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  void (*leak)(void) = (void (*)(void))dlsym(plugin, "plugin_leak");
  void* (*allocate)(size_t) = (void* (*)(size_t))dlsym(plugin, "plugin_alloc");
  leak();
  free(allocate(77));
  dlclose(plugin);
  printf("plugin unloaded\n");
  return 0;
}
