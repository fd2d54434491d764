/* tight_stack_check: a thread with the smallest stack glibc allows keeps a
 * 7,777-byte block in one of its frames (and drops every pointer to a
 * 5,555-byte one, a leak), leaves itself 6 KiB of stack,
 * then allocates and frees, over and over, from code only libunwind
 * unwinds (stray_frame.S): with that little stack left each call is
 * unwound on the thread's unwind stack. Meanwhile main() runs 50 leak
 * checks (__lsan_do_recoverable_leak_check), each of which stops the
 * thread wherever it is. Prints "50 checks". */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kLeft = 6 * 1024, kChecks = 50 };

void* allocate_under_stray_frame(size_t size);
void __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static volatile int g_stop, g_looping;
void* volatile sink;

static __attribute__((noinline)) void allocate_until_told(void) {
  while (!g_stop) {
    free(allocate_under_stray_frame(64));
    g_looping = 1;
  }
}

static __attribute__((noinline)) void keep_all_but_the_last(size_t bytes) {
  char taken[bytes];
  memset(taken, 1, bytes);
  sink = taken;
  allocate_until_told();
}

static void* worker(void* unused) {
  (void)unused;
  void* volatile mine = malloc(7777);
  uintptr_t volatile lost = (uintptr_t)malloc(5555) ^ ~(uintptr_t)0;  /* no pointer left */
  (void)lost;
  pthread_attr_t attributes;
  void* low = NULL;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0 ||
      pthread_attr_getstack(&attributes, &low, &size) != 0)
    return NULL;
  pthread_attr_destroy(&attributes);
  const uintptr_t here = (uintptr_t)__builtin_frame_address(0);
  if (here - (uintptr_t)low < kLeft + 1024) return NULL;
  keep_all_but_the_last(here - (uintptr_t)low - kLeft);
  return mine;
}

int main(void) {
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, PTHREAD_STACK_MIN);
  pthread_t thread;
  if (pthread_create(&thread, &attributes, worker, NULL) != 0) return 1;
  while (!g_looping) {
  }
  for (int i = 0; i < kChecks; ++i)
    if (__lsan_do_recoverable_leak_check) __lsan_do_recoverable_leak_check();
  g_stop = 1;
  void* mine = NULL;
  if (pthread_join(thread, &mine) != 0 || !mine) return 1;
  free(mine);
  printf("%d checks\n", kChecks);
  return 0;
}
