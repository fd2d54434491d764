/* signal_exit exit|_exit|fork: allocates and frees in a loop while a timer
 * signal comes every 100 us. With exit or _exit, the first signal that
 * lands inside malloc or free ends the process from its handler, with
 * exit(3) or _exit(3), as programs end on ^C. (exit is not
 * async-signal-safe, _exit is; both are common.) With fork, each of the
 * first 20 such signals forks a child that _exits at once, and the process
 * then exits 0. Without us that works; under us the signal may land inside
 * nantrack's own code, holding one of its locks. It keeps 64 blocks (63
 * while it replaces one) from before the first signal to its end. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t in_allocator, forks;
static enum { kExit, kUnderscoreExit, kFork } ending;

static void on_timer(int signal) {
  (void)signal;
  if (!in_allocator) return;
  if (ending == kExit) exit(3);
  if (ending == kUnderscoreExit) _exit(3);
  if (forks >= 20) return;
  pid_t child = fork();
  if (child == 0) _exit(0);
  if (child > 0 && waitpid(child, NULL, 0) == child) ++forks;
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  ending = strcmp(argv[1], "exit") == 0 ? kExit : strcmp(argv[1], "fork") == 0 ? kFork : kUnderscoreExit;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_timer;
  action.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &action, NULL);
  /* 64 blocks live from before the first signal to the end. */
  void* volatile kept[64];
  for (int i = 0; i < 64; ++i) kept[i] = malloc(16);
  struct itimerval every_100us = {{0, 100}, {0, 100}};
  setitimer(ITIMER_REAL, &every_100us, NULL);
  for (unsigned long i = 0; i < 100000000 && forks < 20; ++i) {
    in_allocator = 1;
    free(kept[i & 63]);
    kept[i & 63] = malloc(16 + i % 200);
    in_allocator = 0;
  }
  return forks >= 20 ? 0 : 4; /* 4: not enough signals came */
}
