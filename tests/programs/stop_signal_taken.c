/* Installs a handler of its own for SIGRTMIN+3, the signal nantrack stops
 * threads with for its leak scan, and counts what it receives. A thread
 * keeps a block of 4,444 bytes in a local only, and main drops a block of
 * 5,555 bytes, then ends. Prints how many signals its handler saw by then.
 * The scan must stop that thread with another signal (the handler sees
 * none) and find its block through its stack. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile int hits;
void* volatile dropped;

static void on_signal(int signal) {
  (void)signal;
  ++hits;
}

static void* keep_a_block(void* arg) {
  (void)arg;
  char* volatile kept = malloc(4444);
  for (;;) pause();
  return kept;
}

int main(void) {
  signal(SIGRTMIN + 3, on_signal);
  pthread_t thread;
  pthread_create(&thread, NULL, keep_a_block, NULL);
  dropped = malloc(5555);
  dropped = NULL;
  usleep(50 * 1000);
  printf("handler saw %d signals\n", hits);
  return 0;
}
