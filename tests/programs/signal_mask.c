// The program's own signal mask under nantrack: blocking, a pending signal,
// reading the mask back, an invalid call's errno, unblocking. Meanwhile it
// allocates from 300 different functions, so that libunwind misses its
// cache of unwind tables at every one of them: its signal masking around
// those lookups must not reach the kernel (preload/signal_mask_hook.cpp).
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static volatile sig_atomic_t g_delivered;
static void on_usr1(int signal) {
  (void)signal;
  ++g_delivered;
}

#define ALLOCATOR(n)                                     \
  __attribute__((noinline)) static void* allocate_##n(size_t size) { \
    void* block = malloc(size);                          \
    __asm__ volatile("" ::: "memory");                   \
    return block;                                        \
  }
#define TEN(macro, p) macro(p##0) macro(p##1) macro(p##2) macro(p##3) macro(p##4) \
                      macro(p##5) macro(p##6) macro(p##7) macro(p##8) macro(p##9)
#define HUNDRED(macro, p) TEN(macro, p##0) TEN(macro, p##1) TEN(macro, p##2) TEN(macro, p##3) \
                          TEN(macro, p##4) TEN(macro, p##5) TEN(macro, p##6) TEN(macro, p##7) \
                          TEN(macro, p##8) TEN(macro, p##9)
HUNDRED(ALLOCATOR, 1) HUNDRED(ALLOCATOR, 2) HUNDRED(ALLOCATOR, 3)
#define ENTRY(n) allocate_##n,
static void* (*const g_allocators[])(size_t) = {HUNDRED(ENTRY, 1) HUNDRED(ENTRY, 2) HUNDRED(ENTRY, 3)};
#define COUNT (sizeof g_allocators / sizeof g_allocators[0])

int main(void) {
  signal(SIGUSR1, on_usr1);
  sigset_t usr1, saved, now, pending;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  if (sigprocmask(SIG_BLOCK, &usr1, &saved) != 0) return 1;

  void* volatile blocks[COUNT];
  for (size_t i = 0; i < COUNT; ++i) blocks[i] = g_allocators[i](i + 1);

  raise(SIGUSR1);
  sigpending(&pending);
  sigprocmask(SIG_SETMASK, NULL, &now);
  printf("blocked: %d, pending: %d, delivered: %d\n", sigismember(&now, SIGUSR1), sigismember(&pending, SIGUSR1),
         (int)g_delivered);
  errno = 0;
  const int bad = sigprocmask(12345, &usr1, NULL);
  printf("invalid how: %d, %s\n", bad, errno == EINVAL ? "EINVAL" : "other errno");
  sigprocmask(SIG_SETMASK, &saved, NULL);
  printf("delivered after unblocking: %d\n", (int)g_delivered);

  for (size_t i = 0; i < COUNT; ++i) free(blocks[i]);
  return 0;
}
