// A block reachable only through a __thread variable of a dlopen'd module
// (tls_plugin.c), on the main thread (2001 bytes) and on a second thread
// that is still alive, blocked in read(), at exit (2002 bytes). valgrind
// calls both still reachable.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void (*g_store)(void*);
static int g_never[2];

static void* store_and_block(void* started) {
  g_store(malloc(2002));
  char byte;
  if (write(*(int*)started, "x", 1) != 1) return NULL;
  if (read(g_never[0], &byte, 1) < 0) return NULL;  // never returns: nobody writes
  return NULL;
}

int main(void) {
  void* plugin = dlopen("libtls_plugin.so", RTLD_NOW);
  if (!plugin) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  g_store = (void (*)(void*))dlsym(plugin, "plugin_tls_store");
  g_store(malloc(2001));

  int started[2];
  if (pipe(g_never) != 0 || pipe(started) != 0) return 1;
  pthread_t thread;
  pthread_create(&thread, NULL, store_and_block, &started[1]);
  char byte;
  if (read(started[0], &byte, 1) != 1) return 1;
  printf("dlopen_tls ready\n");
  return 0;
}
