/* no_stack_left [snapshot|term]: a thread with the smallest stack glibc
 * allows uses all of it but 256 bytes, then spins there, calling nothing,
 * while main() runs 20 leak checks (__lsan_do_recoverable_leak_check),
 * each of which stops the thread with a signal. The kernel's signal frame
 * alone takes more than 256 bytes (1 KiB with SSE state, 3.5 KiB with
 * AVX-512's), so the stop must be taken on the thread's alternate stack.
 * Prints "stopped with 256 bytes of stack left" (natively too: there are
 * no checks then).
 *
 * With "snapshot" or "term", the thread first keeps a 7,777-byte block and
 * drops every pointer to a 5,555-byte one, then uses all of its stack but
 * 1 KiB, keeps the first block's address there, and sends itself a signal
 * whose frame does not fit: the snapshot signal (SIGUSR2; traced only:
 * natively it would end the process), after which it prints "signal
 * taken with 1024 bytes of stack left", or SIGTERM, which ends the
 * process. The trace taken must read the thread's stack where the signal
 * interrupted it: the kept block is reachable. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "small_stack.h"

enum { kLeft = 256, kLeftForSignal = 1024, kChecks = 20 };

void __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static int g_signal; /* sent by the thread to itself; 0: the stops */
static volatile int g_stop, g_spinning;
static void* volatile g_kept;
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
  if (g_signal) {
    /* The only copy of the kept block's address, until the frame returns. */
    void* volatile* slot = (void* volatile*)taken;
    *slot = g_kept;
    g_kept = NULL;
    if (g_signal != SIGUSR2 || __lsan_do_recoverable_leak_check) raise(g_signal);
    g_kept = *slot;
    return;
  }
  spin_until_told();
}

static void* worker(void* unused) {
  (void)unused;
  uintptr_t volatile lost = 0;
  if (g_signal) {
    g_kept = malloc(7777);
    lost = (uintptr_t)malloc(5555) ^ ~(uintptr_t)0; /* no pointer left */
  }
  (void)lost;
  const size_t left = g_signal ? kLeftForSignal : kLeft;
  const size_t below = stack_below((uintptr_t)__builtin_frame_address(0));
  if (below < left + 1024) return NULL;
  keep_all_but_the_last(below - left);
  free(g_kept);
  return (void*)1;
}

int main(int argc, char** argv) {
  if (argc > 1) g_signal = strcmp(argv[1], "snapshot") == 0 ? SIGUSR2 : strcmp(argv[1], "term") == 0 ? SIGTERM : -1;
  if (g_signal < 0) return 2;
  raise(0); /* bound now: lazy binding would save the vector registers on the thread's little stack */
  pthread_t thread;
  void* spun = NULL;
  if (start_with_smallest_stack(&thread, worker) != 0) return 1;
  if (g_signal) {
    if (pthread_join(thread, &spun) != 0 || !spun) return 1;
    printf("signal taken with %d bytes of stack left\n", kLeftForSignal);
    return 0;
  }
  while (!g_spinning) {
  }
  for (int i = 0; i < kChecks; ++i)
    if (__lsan_do_recoverable_leak_check) __lsan_do_recoverable_leak_check();
  g_stop = 1;
  if (pthread_join(thread, &spun) != 0 || !spun) return 1;
  printf("stopped with %d bytes of stack left\n", kLeft);
  return 0;
}
