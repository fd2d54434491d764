// A program that leaves every signal to one thread: all are blocked, and
// the signal thread takes them with sigwait() and says which it got. That
// thread keeps a 2,024-byte block only on its stack. Nothing is sent, so
// the program prints "started" and nothing else.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int g_ready[2];

static void* signal_thread(void* unused) {
  (void)unused;
  void* volatile mine = malloc(2024);
  sigset_t all;
  sigfillset(&all);
  write(g_ready[1], "x", 1);
  for (;;) {
    int signal = 0;
    if (sigwait(&all, &signal) == 0) {
      printf("the signal thread got signal %d\n", signal);
      fflush(stdout);
    }
  }
  return (void*)mine;
}

int main(void) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  if (pipe(g_ready) != 0) return 1;
  pthread_t thread;
  if (pthread_create(&thread, NULL, signal_thread, NULL) != 0) return 1;
  char byte;
  if (read(g_ready[0], &byte, 1) != 1) return 1;
  printf("started\n");
  return 0;
}
