// The snapshot signal (SIGUSR2 unless snapshot_signal says otherwise) in a
// program that goes on and exits with its own status. Leaks 5001 bytes
// first. argv[1]:
//   self [N]   a thread raises SIGUSR2 (or signal N), so the handler runs
//              on it, with none of main's stale registers in its signal
//              frame; exits 3
//   own        installs its own SIGUSR2 handler first, which must be the
//              one that runs; exits 4
//   threads    worker threads allocate and free all the time while the
//              main thread signals them (a signal that lands inside
//              nantrack is deferred); exits 5
//   nested     a worker spins outside nantrack, so each snapshot runs in
//              the handler, on the worker's alternate signal stack, while
//              a timer keeps sending it SIGUSR1, whose handler
//              (SA_ONSTACK) counts; prints whether any came, exits 6
#define _GNU_SOURCE /* gettid, SIGEV_THREAD_ID */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "thread_timer.h"

static volatile sig_atomic_t g_program_handler_ran;
static volatile int g_stop;
static int g_raised = SIGUSR2;

static void program_handler(int signal) {
  (void)signal;
  g_program_handler_ran = 1;
}

static __attribute__((noinline)) void leak(void) { memset(malloc(5001), 0, 5001); }

static void* raise_snapshot_signal(void* unused) {
  (void)unused;
  raise(g_raised);
  return NULL;
}

static void* churn(void* unused) {
  (void)unused;
  while (!g_stop) free(malloc(64));
  return NULL;
}

static volatile sig_atomic_t g_pings;
static void count_ping(int signal) {
  (void)signal;
  ++g_pings;
}

static volatile pid_t g_spinner;
static void* spin(void* unused) {
  (void)unused;
  g_spinner = gettid();
  while (!g_stop) {
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  leak();
  if (strcmp(argv[1], "self") == 0) {
    if (argc > 2) g_raised = atoi(argv[2]);
    pthread_t raiser;
    pthread_create(&raiser, NULL, raise_snapshot_signal, NULL);
    pthread_join(raiser, NULL);
    printf("still running\n");
    return 3;
  }
  if (strcmp(argv[1], "own") == 0) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = program_handler;
    sigaction(SIGUSR2, &action, NULL);
    raise(SIGUSR2);
    printf("program handler ran: %d\n", (int)g_program_handler_ran);
    return 4;
  }
  if (strcmp(argv[1], "nested") == 0) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = count_ping;
    action.sa_flags = SA_ONSTACK | SA_RESTART;
    sigaction(SIGUSR1, &action, NULL);
    pthread_t worker;
    pthread_create(&worker, NULL, spin, NULL);
    while (!g_spinner) usleep(100);
    timer_t timer;
    if (signal_thread_every(g_spinner, SIGUSR1, 20000, &timer) != 0) return 7;
    for (int round = 0; round < 20; ++round) {
      pthread_kill(worker, SIGUSR2);
      usleep(2000);
    }
    timer_delete(timer);
    g_stop = 1;
    pthread_join(worker, NULL);
    printf("pinged: %d\n", g_pings > 0);
    return 6;
  }
  if (strcmp(argv[1], "threads") == 0) {
    pthread_t workers[2];
    for (int i = 0; i < 2; ++i) pthread_create(&workers[i], NULL, churn, NULL);
    for (int round = 0; round < 20; ++round) {
      pthread_kill(workers[round % 2], SIGUSR2);
      usleep(2000);
    }
    g_stop = 1;
    for (int i = 0; i < 2; ++i) pthread_join(workers[i], NULL);
    printf("workers done\n");
    return 5;
  }
  return 2;
}
