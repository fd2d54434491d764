/* tight_stack: a thread with the smallest stack glibc allows, which keeps
 * all of it but 6 KiB for itself, then allocates from code without unwind
 * tables (stray_frame.S), which only libunwind unwinds, and libunwind
 * takes about 9 KiB of stack. libc's malloc needs a few hundred bytes
 * there. Prints "allocated with 6 KiB of stack left". */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kLeft = 6 * 1024 };

void* allocate_under_stray_frame(size_t size);

void* volatile sink;

static __attribute__((noinline)) int allocate_in_what_is_left(void) {
  void* block = allocate_under_stray_frame(64);
  free(block);
  return block != NULL;
}

static __attribute__((noinline)) int keep_all_but_the_last(size_t bytes) {
  char taken[bytes];
  memset(taken, 1, bytes);
  sink = taken;
  return allocate_in_what_is_left();
}

static void* worker(void* unused) {
  (void)unused;
  pthread_attr_t attributes;  /* its first allocation too, out of the way */
  void* low = NULL;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0 ||
      pthread_attr_getstack(&attributes, &low, &size) != 0)
    return NULL;
  pthread_attr_destroy(&attributes);
  const uintptr_t here = (uintptr_t)__builtin_frame_address(0);
  if (here - (uintptr_t)low < kLeft + 1024) return NULL;
  return keep_all_but_the_last(here - (uintptr_t)low - kLeft) ? (void*)1 : NULL;
}

int main(void) {
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, PTHREAD_STACK_MIN);
  pthread_t thread;
  void* allocated = NULL;
  if (pthread_create(&thread, &attributes, worker, NULL) != 0 || pthread_join(thread, &allocated) != 0) return 1;
  if (!allocated) return 1;
  printf("allocated with %d KiB of stack left\n", kLeft / 1024);
  return 0;
}
