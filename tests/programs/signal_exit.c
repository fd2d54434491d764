/* signal_exit exit|_exit: allocates and frees in a loop while a timer
 * signal comes every 100 us; the first signal that lands inside malloc or
 * free ends the process from its handler, with exit(3) or _exit(3), as
 * programs end on ^C. (exit is not async-signal-safe, _exit is; both are
 * common.) Without us that works; under us the signal may land inside
 * nantrack's own code, holding one of its locks. It keeps 64 blocks (63
 * while it replaces one) from before the first signal to its end. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t in_allocator;
static int use_exit;

static void on_timer(int signal) {
  (void)signal;
  if (!in_allocator) return;
  if (use_exit) exit(3);
  _exit(3);
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  use_exit = strcmp(argv[1], "exit") == 0;
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
  for (unsigned long i = 0; i < 100000000; ++i) {
    in_allocator = 1;
    free(kept[i & 63]);
    kept[i & 63] = malloc(16 + i % 200);
    in_allocator = 0;
  }
  return 4; /* no signal came */
}
