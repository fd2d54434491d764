/* concurrent_checks: two threads each keep a block in a local of theirs
 * (3101 and 3102 bytes) and call nantrack_check_leaks() 30 times at once.
 * One thread's check waits while the other's scans, stopped where it
 * waits: its own stack must still be read, or its block looks leaked.
 * With "signal", one thread keeps a block (3103 bytes) in a local and
 * spins while a timer sends it the snapshot signal every millisecond, and
 * main calls nantrack_check_leaks() 30 times: its scans stop that thread
 * in the snapshot handler, on its alternate signal stack or waiting for
 * the scan. Prints how many checks found a leak (there is none). The
 * interface is declared weak, as code written for LeakSanitizer declares
 * it: run plainly, the program finds no checker and says so. */
#define _GNU_SOURCE /* gettid, SIGEV_THREAD_ID */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "thread_timer.h"

extern int nantrack_check_leaks(void) __attribute__((weak));

static int leaks_seen[2];

static void* check_repeatedly(void* which) {
  const int index = (int)(long)which;
  char* volatile held = malloc(3101 + index);
  memset(held, 1, 3101 + index);
  for (int i = 0; i < 30; ++i)
    if (nantrack_check_leaks() != 0) ++leaks_seen[index];
  free(held);
  return NULL;
}

static volatile int g_stop;
static volatile pid_t g_holder;

static void* hold_and_spin(void* unused) {
  (void)unused;
  char* volatile held = malloc(3103);
  memset(held, 1, 3103);
  g_holder = gettid();
  while (!g_stop) {
  }
  free(held);
  return NULL;
}

static int checks_while_signalled(void) {
  pthread_t holder;
  pthread_create(&holder, NULL, hold_and_spin, NULL);
  while (!g_holder) usleep(100);
  timer_t timer;
  if (signal_thread_every(g_holder, SIGUSR2, 1000000, &timer) != 0) return -1;
  int seen = 0;
  for (int i = 0; i < 30; ++i)
    if (nantrack_check_leaks() != 0) ++seen;
  timer_delete(timer);
  g_stop = 1;
  pthread_join(holder, NULL);
  return seen;
}

int main(int argc, char** argv) {
  if (!nantrack_check_leaks) {
    puts("no leak checker");
    return 0;
  }
  if (argc > 1 && strcmp(argv[1], "signal") == 0) {
    printf("checks that found a leak: %d\n", checks_while_signalled());
    return 0;
  }
  pthread_t threads[2];
  for (long i = 0; i < 2; ++i) pthread_create(&threads[i], NULL, check_repeatedly, (void*)i);
  for (int i = 0; i < 2; ++i) pthread_join(threads[i], NULL);
  printf("checks that found a leak: %d\n", leaks_seen[0] + leaks_seen[1]);
  return 0;
}
