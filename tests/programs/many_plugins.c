// many_plugins PLUGIN DIR N: loads N copies of PLUGIN (libleaky_plugin.so),
// made in DIR, and calls plugin_leak() in each: N blocks of 4242 bytes,
// each kept by its own copy's global. A copy under another name and inode
// is a module of its own to the loader.
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int copy_file(const char* from, const char* to) {
  int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
  char buffer[65536];
  ssize_t got;
  int ok = in >= 0 && out >= 0;
  while (ok && (got = read(in, buffer, sizeof buffer)) > 0) ok = write(out, buffer, (size_t)got) == got;
  if (in >= 0) close(in);
  if (out >= 0) close(out);
  return ok;
}

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  const int count = atoi(argv[3]);
  for (int i = 0; i < count; ++i) {
    char path[4096];
    snprintf(path, sizeof path, "%s/plugin%d.so", argv[2], i);
    if (!copy_file(argv[1], path)) return 3;
    void* plugin = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    void (*leak)(void) = plugin ? (void (*)(void))dlsym(plugin, "plugin_leak") : NULL;
    if (!leak) {
      fprintf(stderr, "%s\n", dlerror());
      return 4;
    }
    leak();
  }
  printf("loaded %d plugins\n", count);
  return 0;
}
