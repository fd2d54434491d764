/* What a program learns of its alternate signal stack: none at first, then
 * the one it installs, which its SA_ONSTACK handler runs on, then none again
 * once it disables it (asked at start through syscall() too). Prints
 * each step, in the main thread and then in a thread that has allocated
 * first. Last, a thread installs one with the system call instruction
 * itself, as language runtimes do, past any sigaltstack() or syscall() of
 * a preloaded library, and finds it still there in its thread-specific
 * data destructor, which runs after the thread's routine has returned. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { kSize = 64 * 1024 };
static char* mine;
static volatile int on_mine = -1;

static const char* who;

static void describe(const char* when, const stack_t* stack) {
  printf("%s, %s: disabled %d, mine %d, size %zu\n", who, when, (stack->ss_flags & SS_DISABLE) != 0,
         mine && stack->ss_sp == mine, (stack->ss_flags & SS_DISABLE) ? 0 : stack->ss_size);
}

static void on_usr1(int signal) {
  (void)signal;
  char local;
  on_mine = (uintptr_t)&local >= (uintptr_t)mine && (uintptr_t)&local < (uintptr_t)mine + kSize;
}

static void* check(void* name) {
  who = name;
  on_mine = -1;
  stack_t current;
  sigaltstack(NULL, &current);
  describe("at start", &current);
  syscall(SYS_sigaltstack, NULL, &current);
  describe("at start, by syscall()", &current);
  stack_t disable = {.ss_flags = SS_DISABLE};
  printf("%s, disabling none: %d\n", who, sigaltstack(&disable, &current));
  describe("before that", &current);

  mine = malloc(kSize);
  stack_t own = {.ss_sp = mine, .ss_size = kSize};
  stack_t previous;
  printf("%s, installing mine: %d\n", who, sigaltstack(&own, &previous));
  describe("it replaced", &previous);
  sigaltstack(NULL, &current);
  describe("now", &current);

  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_usr1;
  action.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &action, NULL);
  raise(SIGUSR1);
  printf("%s, handler ran on mine: %d\n", who, on_mine);

  printf("%s, disabling mine: %d\n", who, sigaltstack(&disable, &previous));
  describe("it replaced", &previous);
  sigaltstack(NULL, &current);
  describe("at end", &current);
  free(mine);
  mine = NULL;
  return NULL;
}

static void* check_in_thread(void* name) {
  void* volatile block = malloc(16); /* volatile: the pair is not removed */
  free(block);
  return check(name);
}

static long raw_sigaltstack(const stack_t* stack, stack_t* old_stack) {
  long result;
  __asm__ volatile("syscall"
                   : "=a"(result)
                   : "0"((long)SYS_sigaltstack), "D"(stack), "S"(old_stack)
                   : "rcx", "r11", "memory");
  return result;
}

static char raw_stack[kSize];
static pthread_key_t raw_key;

static void at_raw_thread_exit(void* name) {
  who = name;
  stack_t current;
  raw_sigaltstack(NULL, &current);
  printf("%s, in its key destructor: disabled %d, mine %d, size %zu\n", who, (current.ss_flags & SS_DISABLE) != 0,
         current.ss_sp == raw_stack, (current.ss_flags & SS_DISABLE) ? 0 : current.ss_size);
}

static void* install_raw(void* name) {
  pthread_setspecific(raw_key, name);
  stack_t own = {.ss_sp = raw_stack, .ss_size = kSize};
  printf("%s, installing mine by the instruction: %ld\n", (const char*)name, raw_sigaltstack(&own, NULL));
  return NULL;
}

int main(void) {
  check("main");
  pthread_t thread;
  if (pthread_create(&thread, NULL, check_in_thread, "thread") != 0) return 1;
  pthread_join(thread, NULL);
  /* Created after the first thread: a library's own key, made at its first
   * thread at the latest, has its destructor run before this one. */
  if (pthread_key_create(&raw_key, at_raw_thread_exit) != 0) return 1;
  if (pthread_create(&thread, NULL, install_raw, "raw thread") != 0) return 1;
  pthread_join(thread, NULL);
  return 0;
}
