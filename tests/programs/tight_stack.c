/* tight_stack [check]: a thread with the smallest stack glibc allows keeps
 * all of it but 5 KiB for itself, then allocates from code without unwind
 * tables (stray_frame.S), which only libunwind unwinds, and libunwind takes
 * about 6 KiB of stack: libc's malloc needs a few hundred bytes there.
 * Prints "allocated with 5 KiB of stack left".
 *
 * With "check", the thread first keeps a 7,777-byte block in its frame
 * (and drops every pointer to a 5,555-byte one, a leak), then allocates
 * and frees that way non-stop while main() runs 50 leak checks
 * (__lsan_do_recoverable_leak_check), each of which stops the thread
 * wherever it is. Prints "50 checks". */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "small_stack.h"

enum { kLeft = 5 * 1024, kChecks = 50 };

void* allocate_under_stray_frame(size_t size);
void __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static int g_check;
static volatile int g_stop, g_allocating;
void* volatile sink;

static __attribute__((noinline)) int allocate_in_what_is_left(void) {
  do {
    void* block = allocate_under_stray_frame(64);
    if (!block) return 0;
    free(block);
    g_allocating = 1;
  } while (g_check && !g_stop);
  return 1;
}

static __attribute__((noinline)) int keep_all_but_the_last(size_t bytes) {
  char taken[bytes];
  memset(taken, 1, bytes);
  sink = taken;
  return allocate_in_what_is_left();
}

static void* worker(void* unused) {
  (void)unused;
  void* volatile mine = g_check ? malloc(7777) : NULL;
  uintptr_t volatile lost = g_check ? (uintptr_t)malloc(5555) ^ ~(uintptr_t)0 : 0;  /* no pointer left */
  (void)lost;
  /* Its first allocation, out of the way. */
  const size_t below = stack_below((uintptr_t)__builtin_frame_address(0));
  if (below < kLeft + 1024) return NULL;
  if (!keep_all_but_the_last(below - kLeft)) return NULL;
  if (mine) free(mine);
  return (void*)1;
}

int main(int argc, char** argv) {
  g_check = argc > 1 && strcmp(argv[1], "check") == 0;
  pthread_t thread;
  void* allocated = NULL;
  if (start_with_smallest_stack(&thread, worker) != 0) return 1;
  if (g_check) {
    while (!g_allocating) {
    }
    for (int i = 0; i < kChecks; ++i)
      if (__lsan_do_recoverable_leak_check) __lsan_do_recoverable_leak_check();
    g_stop = 1;
  }
  if (pthread_join(thread, &allocated) != 0 || !allocated) return 1;
  if (g_check)
    printf("%d checks\n", kChecks);
  else
    printf("allocated with %d KiB of stack left\n", kLeft / 1024);
  return 0;
}
