/* What a program learns of its alternate signal stack: none at first, then
 * the one it installs, which its SA_ONSTACK handler runs on, then none again
 * once it disables it. Prints each step. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kSize = 64 * 1024 };
static char* mine;
static volatile int on_mine = -1;

static void describe(const char* when, const stack_t* stack) {
  printf("%s: disabled %d, mine %d, size %zu\n", when, (stack->ss_flags & SS_DISABLE) != 0,
         mine && stack->ss_sp == mine, (stack->ss_flags & SS_DISABLE) ? 0 : stack->ss_size);
}

static void on_usr1(int signal) {
  (void)signal;
  char local;
  on_mine = (uintptr_t)&local >= (uintptr_t)mine && (uintptr_t)&local < (uintptr_t)mine + kSize;
}

int main(void) {
  stack_t current;
  sigaltstack(NULL, &current);
  describe("at start", &current);
  stack_t disable = {.ss_flags = SS_DISABLE};
  printf("disabling none: %d\n", sigaltstack(&disable, &current));
  describe("before that", &current);

  mine = malloc(kSize);
  stack_t own = {.ss_sp = mine, .ss_size = kSize};
  stack_t previous;
  printf("installing mine: %d\n", sigaltstack(&own, &previous));
  describe("it replaced", &previous);
  sigaltstack(NULL, &current);
  describe("now", &current);

  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_usr1;
  action.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &action, NULL);
  raise(SIGUSR1);
  printf("handler ran on mine: %d\n", on_mine);

  printf("disabling mine: %d\n", sigaltstack(&disable, &previous));
  describe("it replaced", &previous);
  sigaltstack(NULL, &current);
  describe("at end", &current);
  free(mine);
  return 0;
}
