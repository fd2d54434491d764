// Ends in the way argv[1] names, leaking 500 bytes first:
// return5, exit3, _exit4, _Exit6, abort, segv, own_handler (a SIGSEGV
// handler of the program's own that reports and calls _exit(9)),
// handler_reraise (the program's handler resets SIGABRT to default and
// raises it again), thread_exit (exit(8) from another thread),
// stack_overflow (unbounded recursion: a SIGSEGV with no stack left),
// file_size_limit (returns 5 with files limited to 512 bytes: ulimit -f),
// quick_exit (quick_exit(10), with an at_quick_exit handler that reports),
// exit_group (the exit_group system call through syscall(), status 11),
// error_exit (glibc's error(12, ...), which calls exit inside libc),
// main_thread_exit (main calls pthread_exit; the last thread's end is
// libc's exit(0)), small_stack_exit, small_stack__exit and
// small_stack_abort (exit(13), _exit(14) or abort() from a thread with the
// smallest stack glibc allows, PTHREAD_STACK_MIN), thread_stack_overflow
// (unbounded recursion in a thread that has allocated before) and
// thread_stack_overflow_at_once (in a thread that never allocates).
#include <error.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

void* volatile sink;
int* volatile null_pointer;

static void own_segv_handler(int signal) {
  (void)signal;
  const char message[] = "own handler ran\n";
  write(1, message, sizeof(message) - 1);
  _exit(9);
}

static void reraise_handler(int signal) {
  const char message[] = "reraise handler ran\n";
  write(1, message, sizeof(message) - 1);
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = SIG_DFL;
  sigaction(signal, &action, NULL);
  raise(signal);
}

/* Each frame keeps a buffer the compiler cannot drop, and recurses after
 * using it, so the calls cannot become a loop. */
static volatile int recursion_limit = 1 << 30; /* never reached */
static int recurse(int depth) {
  if (depth == recursion_limit) return 0;
  volatile char frame[512];
  frame[depth % sizeof frame] = (char)depth;
  return recurse(depth + 1) + frame[(depth + 1) % sizeof frame];
}

static void quick_exit_handler(void) {
  const char message[] = "quick exit handler ran\n";
  write(1, message, sizeof(message) - 1);
}

static void* return_later(void* arg) {
  (void)arg;
  usleep(50 * 1000);
  return NULL;
}

static void* overflow_thread_stack(void* arg) {
  (void)arg;
  void* volatile block = malloc(16);  /* volatile: the pair is not removed */
  free(block);
  recurse(0);
  return NULL;
}

static void* overflow_at_once(void* arg) {
  (void)arg;
  recurse(0);
  return NULL;
}

static void* exit_from_thread(void* arg) {
  (void)arg;
  exit(8);
}

static void* end_on_small_stack(void* mode) {
  if (!strcmp(mode, "small_stack_exit")) exit(13);
  if (!strcmp(mode, "small_stack__exit")) _exit(14);
  abort();
}

int main(int argc, char** argv) {
  sink = malloc(500);
  const char* mode = argc > 1 ? argv[1] : "return5";
  printf("mode %s\n", mode);
  fflush(stdout);
  if (!strcmp(mode, "exit3")) exit(3);
  if (!strcmp(mode, "_exit4")) _exit(4);
  if (!strcmp(mode, "_Exit6")) _Exit(6);
  if (!strcmp(mode, "abort")) abort();
  if (!strcmp(mode, "segv")) return *null_pointer;
  if (!strcmp(mode, "stack_overflow")) return recurse(0);
  if (!strcmp(mode, "quick_exit")) {
    at_quick_exit(quick_exit_handler);
    quick_exit(10);
  }
  if (!strcmp(mode, "exit_group")) syscall(SYS_exit_group, 11);
  if (!strcmp(mode, "error_exit")) error(12, 0, "giving up");
  if (!strcmp(mode, "main_thread_exit")) {
    pthread_t thread;
    pthread_create(&thread, NULL, return_later, NULL);
    pthread_exit(NULL);
  }
  if (!strcmp(mode, "file_size_limit")) {
    struct rlimit limit = {512, 512};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) return 2;
  }
  if (!strcmp(mode, "own_handler")) {
    signal(SIGSEGV, own_segv_handler);
    return *null_pointer;
  }
  if (!strcmp(mode, "handler_reraise")) {
    signal(SIGABRT, reraise_handler);
    raise(SIGABRT);
  }
  if (!strncmp(mode, "small_stack_", strlen("small_stack_"))) {
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, PTHREAD_STACK_MIN);
    pthread_t thread;
    if (pthread_create(&thread, &attributes, end_on_small_stack, (void*)mode) != 0) return 2;
    pthread_join(thread, NULL);
  }
  if (!strncmp(mode, "thread_stack_overflow", strlen("thread_stack_overflow"))) {
    pthread_t thread;
    pthread_create(&thread, NULL, strcmp(mode, "thread_stack_overflow") ? overflow_at_once : overflow_thread_stack, NULL);
    pthread_join(thread, NULL);
  }
  if (!strcmp(mode, "thread_exit")) {
    pthread_t thread;
    pthread_create(&thread, NULL, exit_from_thread, NULL);
    pthread_join(thread, NULL);
  }
  return 5;
}
