/* own_stacks: allocates on two stacks the program sets up itself, each
 * with 4 KiB of its block below it filled with a pattern, checked after:
 *  - a coroutine (ucontext, as small coroutine libraries do) on a 16 KiB
 *    stack, which uses 12,000 bytes of it and then allocates;
 *  - a signal handler on an 8 KiB alternate stack (sigaltstack), which
 *    uses 2 KiB of it and then allocates, as crash handlers do.
 * Prints, for each, that it stayed on its stack or how many bytes below it
 * were written. Natively malloc takes a few hundred bytes of stack. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

enum { kBelowBytes = 4 * 1024, kPattern = 0x5a };
enum { kCoroutineStack = 16 * 1024, kCoroutineUses = 12000 };
enum { kSignalStack = 8 * 1024, kHandlerUses = 2 * 1024 };

static ucontext_t g_main, g_coroutine;
/* Globals: getcontext() returns twice, and locals could be clobbered. */
static unsigned char* g_coroutine_stack;
static unsigned char* g_signal_stack;
void* volatile sink;

static __attribute__((noinline)) void allocate(void) {
  void* block = malloc(48);
  sink = block;
  free(block);
}

static __attribute__((noinline)) void use_stack_then_allocate(size_t bytes) {
  char taken[bytes];
  memset(taken, 1, sizeof taken);
  sink = taken;
  allocate();
}

static void coroutine(void) { use_stack_then_allocate(kCoroutineUses); }
static void on_signal(int signal) {
  (void)signal;
  use_stack_then_allocate(kHandlerUses);
}

/* A block with `stack_bytes` to run on above kBelowBytes of pattern. */
static unsigned char* stack_block(size_t stack_bytes) {
  unsigned char* block = malloc(kBelowBytes + stack_bytes);
  if (block) memset(block, kPattern, kBelowBytes);
  return block;
}

static void say(const char* who, const unsigned char* block) {
  int written = 0;
  for (int i = 0; i < kBelowBytes; ++i) written += block[i] != kPattern;
  if (written)
    printf("%d bytes below the %s's stack were written\n", written, who);
  else
    printf("the %s stayed on its stack\n", who);
}

int main(void) {
  g_coroutine_stack = stack_block(kCoroutineStack);
  g_signal_stack = stack_block(kSignalStack);
  if (!g_coroutine_stack || !g_signal_stack) return 2;

  getcontext(&g_coroutine);
  g_coroutine.uc_stack.ss_sp = g_coroutine_stack + kBelowBytes;
  g_coroutine.uc_stack.ss_size = kCoroutineStack;
  g_coroutine.uc_link = &g_main;
  makecontext(&g_coroutine, coroutine, 0);
  if (swapcontext(&g_main, &g_coroutine) != 0) return 1;
  say("coroutine", g_coroutine_stack);

  stack_t alternate = {.ss_sp = g_signal_stack + kBelowBytes, .ss_size = kSignalStack, .ss_flags = 0};
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  action.sa_flags = SA_ONSTACK;
  if (sigaltstack(&alternate, NULL) != 0 || sigaction(SIGUSR1, &action, NULL) != 0) return 1;
  raise(SIGUSR1);
  say("signal handler", g_signal_stack);

  stack_t off = {.ss_flags = SS_DISABLE};
  sigaltstack(&off, NULL);
  free(g_coroutine_stack);
  free(g_signal_stack);
  return 0;
}
