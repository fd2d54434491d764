/* ending_signal SIGNAL [churn|twice|small_stack|reset_handler]: ended by SIGNAL (a number), which it
 * does not handle, as a supervisor, a terminal or a limit ends a program:
 * SIGALRM comes from alarm(), SIGPIPE from a write to a pipe nobody reads,
 * any other from kill(). Before, it leaks a block of 2101 bytes and keeps
 * one of 2102 bytes reachable from a global. With "churn" a second thread
 * allocates and frees without a pause, and the signal is sent to it: it
 * then often comes while that thread is inside nantrack. With "twice" it
 * also keeps 200,000 small blocks (so that its trace takes a while to
 * write), and the signal is sent to two sleeping threads at once, as two
 * threads writing to a closed pipe both get SIGPIPE. With "small_stack"
 * it goes to a thread with the smallest stack allowed (PTHREAD_STACK_MIN),
 * which holds a block of 2103 bytes in a local, after that thread got the
 * snapshot signal (SIGUSR2). With "reset_handler" it handles SIGNAL as
 * node does: a handler installed with SA_RESETHAND, which says whether it
 * finds the default action back in place and raises the signal again.
 * Prints "ready"
 * first; the signal comes after. Exits 3 if it outlives the signal. */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void* volatile reachable;
void* volatile lost;
void* volatile reachable_too;

static void* sleep_on(void* unused) {
  (void)unused;
  for (;;) pause();
  return NULL;
}

static void* hold_and_sleep(void* unused) {
  (void)unused;
  void* volatile held = malloc(2103);
  for (;;) pause();
  return held;
}

static void reset_handler(int signal_number) {
  struct sigaction now;
  sigaction(signal_number, NULL, &now);
  printf("handler ran, %s\n", now.sa_handler == SIG_DFL ? "default action back" : "handler still there");
  fflush(stdout);
  raise(signal_number);
}

static void* churn(void* unused) {
  (void)unused;
  for (;;) {
    void* blocks[8];
    for (int i = 0; i < 8; ++i) blocks[i] = malloc(32 + 100 * i);
    for (int i = 0; i < 8; ++i) free(blocks[i]);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const int signal_number = atoi(argv[1]);
  reachable = memset(malloc(2102), 1, 2102);
  lost = memset(malloc(2101), 2, 2101);
  lost = NULL;
  printf("ready\n");
  fflush(stdout);
  if (argc > 2 && !strcmp(argv[2], "churn")) {
    pthread_t thread;
    pthread_create(&thread, NULL, churn, NULL);
    usleep(20000);
    pthread_kill(thread, signal_number);
  } else if (argc > 2 && !strcmp(argv[2], "twice")) {
    enum { kKept = 200000 };
    void** kept = malloc(kKept * sizeof *kept);
    for (int i = 0; i < kKept; ++i) kept[i] = malloc(16);
    reachable_too = kept;
    pthread_t threads[2];
    for (int i = 0; i < 2; ++i) pthread_create(&threads[i], NULL, sleep_on, NULL);
    usleep(20000);
    for (int i = 0; i < 2; ++i) pthread_kill(threads[i], signal_number);
  } else if (argc > 2 && !strcmp(argv[2], "small_stack")) {
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, PTHREAD_STACK_MIN);
    pthread_t thread;
    if (pthread_create(&thread, &attributes, hold_and_sleep, NULL) != 0) return 2;
    usleep(20000);
    pthread_kill(thread, SIGUSR2);
    usleep(300000);
    pthread_kill(thread, signal_number);
  } else if (argc > 2 && !strcmp(argv[2], "reset_handler")) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = reset_handler;
    action.sa_flags = SA_RESETHAND;
    sigfillset(&action.sa_mask);
    sigaction(signal_number, &action, NULL);
    kill(getpid(), signal_number);
  } else if (signal_number == SIGALRM) {
    alarm(1);
  } else if (signal_number == SIGPIPE) {
    int ends[2];
    if (pipe(ends) != 0) return 2;
    close(ends[0]);
    write(ends[1], "x", 1);
  } else {
    kill(getpid(), signal_number);
  }
  for (int tenths = 0; tenths < 100; ++tenths) usleep(100000);
  return 3;
}
