/* Installs handlers for the signals nantrack handles itself (SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL, SIGUSR2) in each of glibc's ways, and prints
 * what sigaction() and signal() report back; then whether a SIGUSR2
 * handler installed by signal() after siginterrupt(SIGUSR2, 1) interrupts
 * a blocking read, as it must, rather than letting it restart. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

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

  int fds[2];
  if (pipe(fds) != 0) return 2;
  siginterrupt(SIGUSR2, 1);
  signal(SIGUSR2, handler);
  const pid_t parent = getpid();
  const pid_t child = fork();
  if (child == 0) {
    usleep(100 * 1000);
    kill(parent, SIGUSR2);
    _exit(0);
  }
  alarm(10); /* a restarted read would wait for ever */
  char byte;
  const ssize_t got = read(fds[0], &byte, 1);
  printf("read interrupted: %d\n", got == -1 && errno == EINTR);
  alarm(0);
  waitpid(child, NULL, 0);
  return 0;
}
