/* no_stack_left: a thread with the smallest stack glibc allows uses all of
 * it but 256 bytes, then spins there, calling nothing, while main() runs
 * 20 leak checks (__lsan_do_recoverable_leak_check), each of which stops
 * the thread with a signal. The kernel's signal frame alone takes more
 * than 256 bytes (1 KiB with SSE state, 3.5 KiB with AVX-512's), so the
 * stop must be taken on the thread's alternate stack. Prints "stopped with
 * 256 bytes of stack left" (natively too: there are no checks then). */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "stack_below.h"

enum { kLeft = 256, kChecks = 20 };

void __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static volatile int g_stop, g_spinning;
void* volatile sink;

static __attribute__((noinline)) void spin_until_told(void) {
  g_spinning = 1;
  while (!g_stop) {
  }
}

static __attribute__((noinline)) void keep_all_but_the_last(size_t bytes) {
  char taken[bytes];
  /* No memset: its first call through the PLT would run the dynamic
   * linker's resolver, which saves the vector registers on the stack. */
  for (size_t i = 0; i < bytes; i += 64) ((volatile char*)taken)[i] = 1;
  sink = taken;
  spin_until_told();
}

static void* worker(void* unused) {
  (void)unused;
  const size_t below = stack_below((uintptr_t)__builtin_frame_address(0));
  if (below < kLeft + 1024) return NULL;
  keep_all_but_the_last(below - kLeft);
  return (void*)1;
}

int main(void) {
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, PTHREAD_STACK_MIN);
  pthread_t thread;
  void* spun = NULL;
  if (pthread_create(&thread, &attributes, worker, NULL) != 0) return 1;
  while (!g_spinning) {
  }
  for (int i = 0; i < kChecks; ++i)
    if (__lsan_do_recoverable_leak_check) __lsan_do_recoverable_leak_check();
  g_stop = 1;
  if (pthread_join(thread, &spun) != 0 || !spun) return 1;
  printf("stopped with %d bytes of stack left\n", kLeft);
  return 0;
}
