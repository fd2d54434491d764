/* coroutine_stack [USED]: a coroutine on a 16 KiB stack the program
 * allocates (ucontext, as small coroutine libraries do) uses USED bytes of
 * it (default 6,500), then allocates and frees. Below the stack lie 4 KiB
 * of the same block filled with a pattern: the program checks them after
 * the coroutine ends and prints "the coroutine stayed on its stack", or
 * how many of those bytes were written. Natively malloc takes a few
 * hundred bytes of stack there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

enum { kStackBytes = 16 * 1024, kBelowBytes = 4 * 1024, kPattern = 0x5a };

static ucontext_t g_main, g_coroutine;
static long g_used;
void* volatile sink;

static __attribute__((noinline)) void allocate(void) {
  void* block = malloc(48);
  sink = block;
  free(block);
}

static __attribute__((noinline)) void use_stack_then_allocate(void) {
  char taken[g_used];
  memset(taken, 1, sizeof taken);
  sink = taken;
  allocate();
}

static void coroutine(void) { use_stack_then_allocate(); }

int main(int argc, char** argv) {
  g_used = argc > 1 ? atol(argv[1]) : 6500;
  unsigned char* block = malloc(kBelowBytes + kStackBytes);
  if (!block || g_used <= 0 || g_used >= kStackBytes) return 2;
  memset(block, kPattern, kBelowBytes);
  getcontext(&g_coroutine);
  g_coroutine.uc_stack.ss_sp = block + kBelowBytes;
  g_coroutine.uc_stack.ss_size = kStackBytes;
  g_coroutine.uc_link = &g_main;
  makecontext(&g_coroutine, coroutine, 0);
  if (swapcontext(&g_main, &g_coroutine) != 0) return 1;
  int written = 0;
  for (int i = 0; i < kBelowBytes; ++i) written += block[i] != kPattern;
  if (written)
    printf("%d bytes below the coroutine's stack were written\n", written);
  else
    printf("the coroutine stayed on its stack\n");
  free(block);
  return 0;
}
