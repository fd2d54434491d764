// Preloaded after libnantrack.so by tests/e2e/signal_mask_test.cpp: counts
// the sigprocmask calls that get past nantrack's (on their way to libc's)
// and prints the count at exit. Counting here instead of with strace keeps
// the test free of ptrace, which containers may forbid.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static unsigned long g_calls;

int sigprocmask(int how, const sigset_t* set, sigset_t* old_set) {
  static int (*next)(int, const sigset_t*, sigset_t*);
  if (!next) next = (int (*)(int, const sigset_t*, sigset_t*))dlsym(RTLD_NEXT, "sigprocmask");
  __atomic_fetch_add(&g_calls, 1, __ATOMIC_RELAXED);
  return next(how, set, old_set);
}

__attribute__((destructor)) static void print_count(void) {
  char line[64];
  const int length = snprintf(line, sizeof line, "sigprocmask calls: %lu\n", g_calls);
  if (write(2, line, (size_t)length) != length) return;
}
