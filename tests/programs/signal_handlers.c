/* Installs handlers for the signals nantrack handles itself (SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL, SIGUSR2) in each of glibc's ways, and prints
 * what sigaction() and signal() report back. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>

/* Old ways on purpose: programs still use them. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
sighandler_t bsd_signal(int signal, sighandler_t handler); /* declared for XPG4.2 only */

static void handler(int signal) { (void)signal; }

static int installed(int signal) {
  struct sigaction current;
  sigaction(signal, NULL, &current);
  return current.sa_handler == handler;
}

int main(void) {
  sigset(SIGSEGV, handler);
  printf("sigset: %d\n", installed(SIGSEGV));
  bsd_signal(SIGBUS, handler);
  printf("bsd_signal: %d\n", installed(SIGBUS));
  sysv_signal(SIGFPE, handler);
  printf("sysv_signal: %d\n", installed(SIGFPE));
  printf("signal, before: default %d\n", signal(SIGILL, handler) == SIG_DFL);
  printf("signal, after: %d\n", installed(SIGILL));
  printf("back to default, was the handler: %d\n", signal(SIGSEGV, SIG_DFL) == handler);
  printf("now default: %d\n", signal(SIGSEGV, SIG_DFL) == SIG_DFL);
  struct sigaction action = {.sa_handler = SIG_IGN};
  struct sigaction old;
  sigaction(SIGUSR2, &action, &old);
  printf("SIGUSR2 was default %d, now ignored %d\n", old.sa_handler == SIG_DFL, signal(SIGUSR2, SIG_DFL) == SIG_IGN);
  return 0;
}
