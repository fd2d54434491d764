/* interrupted_waits [check]: threads that each wait in a system call a
 * signal handler interrupts (EINTR) whatever SA_RESTART says, as event
 * loops and timer threads do. A wait that fails with EINTR is taken for
 * what it would be natively, a signal of the program's own: the thread
 * says so on stderr and the program exits 3.
 *
 * Without an argument, main() returns while they all wait: "waiting" is
 * the only output, and the exit status 0. With "check", main() runs a leak
 * check while they wait, then wakes the ones that wait for input, lets the
 * timed ones run out, sends SIGUSR1 to the one in pause() (the one EINTR
 * that is expected), and prints what each wait returned.
 *
 * Each thread keeps a block of its own (5,001 bytes and up) on its stack. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void __lsan_do_recoverable_leak_check(void) __attribute__((weak));

enum { kTimedWaitMs = 300 };

struct Waiter {
  const char* name;
  long syscall_number;  // what /proc says it waits in
  void* (*wait)(struct Waiter*);
  pthread_t thread;
  pid_t tid;
  int pipe[2];
  const char* result;
};

static void interrupted(struct Waiter* waiter) {
  fprintf(stderr, "%s: %s\n", waiter->name, strerror(errno));
  exit(3);
}

static void* wait_in_poll(struct Waiter* w) {
  struct pollfd fd = {w->pipe[0], POLLIN, 0};
  if (poll(&fd, 1, -1) < 0) interrupted(w);
  return "ready";
}

static void* wait_in_poll_with_timeout(struct Waiter* w) {
  struct pollfd fd = {w->pipe[0], POLLIN, 0};
  int ready = poll(&fd, 1, kTimedWaitMs);
  if (ready < 0) interrupted(w);
  return ready == 0 ? "timed out" : "ready";
}

static void* wait_in_epoll(struct Waiter* w) {
  int epoll = epoll_create1(0);
  struct epoll_event event = {.events = EPOLLIN};
  if (epoll < 0 || epoll_ctl(epoll, EPOLL_CTL_ADD, w->pipe[0], &event) != 0) return "no epoll";
  if (epoll_wait(epoll, &event, 1, -1) < 0) interrupted(w);
  return "ready";
}

static void* wait_in_select(struct Waiter* w) {
  fd_set readable;
  FD_ZERO(&readable);
  FD_SET(w->pipe[0], &readable);
  if (select(w->pipe[0] + 1, &readable, NULL, NULL, NULL) < 0) interrupted(w);
  return "ready";
}

static void* wait_in_nanosleep(struct Waiter* w) {
  struct timespec left = {0, kTimedWaitMs * 1000000L};
  if (nanosleep(&left, &left) != 0) interrupted(w);
  return "slept";
}

static void* wait_in_sem_timedwait(struct Waiter* w) {
  sem_t never_posted;
  sem_init(&never_posted, 0, 0);
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_nsec += kTimedWaitMs * 1000000L;
  deadline.tv_sec += deadline.tv_nsec / 1000000000L;
  deadline.tv_nsec %= 1000000000L;
  if (sem_timedwait(&never_posted, &deadline) == 0) return "posted";
  if (errno == EINTR) interrupted(w);
  return errno == ETIMEDOUT ? "timed out" : "failed";
}

static void* wait_in_pause(struct Waiter* w) {
  (void)w;
  pause();
  return errno == EINTR ? "interrupted by SIGUSR1" : "returned";
}

static struct Waiter g_waiters[] = {
    {.name = "poll", .syscall_number = SYS_poll, .wait = wait_in_poll},
    {.name = "poll with a timeout", .syscall_number = SYS_poll, .wait = wait_in_poll_with_timeout},
    {.name = "epoll_wait", .syscall_number = SYS_epoll_wait, .wait = wait_in_epoll},
    {.name = "select", .syscall_number = SYS_pselect6, .wait = wait_in_select},
    {.name = "nanosleep", .syscall_number = SYS_clock_nanosleep, .wait = wait_in_nanosleep},
    {.name = "sem_timedwait", .syscall_number = SYS_futex, .wait = wait_in_sem_timedwait},
    {.name = "pause", .syscall_number = SYS_pause, .wait = wait_in_pause},
};
enum { kWaiters = sizeof g_waiters / sizeof g_waiters[0] };

static void on_sigusr1(int signal) { (void)signal; }

static void* waiter_thread(void* arg) {
  struct Waiter* w = arg;
  char* volatile mine = malloc(5001 + (size_t)(w - g_waiters));
  w->tid = (pid_t)syscall(SYS_gettid);
  __atomic_store_n(&w->result, w->wait(w), __ATOMIC_RELEASE);
  return mine;
}

/* Whether /proc says the thread waits in the call it is meant to (or its
 * wait is over already: a timed one on a loaded machine). */
static int waits_where_meant(const struct Waiter* w) {
  if (__atomic_load_n(&w->result, __ATOMIC_ACQUIRE)) return 1;
  char path[64], text[32] = "";
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)__atomic_load_n(&w->tid, __ATOMIC_ACQUIRE));
  FILE* file = fopen(path, "r");
  if (!file) return 0;
  int got = fgets(text, sizeof text, file) != NULL;
  fclose(file);
  return got && atol(text) == w->syscall_number && text[0] >= '0' && text[0] <= '9';
}

int main(int argc, char** argv) {
  const int check = argc > 1 && strcmp(argv[1], "check") == 0;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_sigusr1;
  sigaction(SIGUSR1, &action, NULL);
  for (int i = 0; i < kWaiters; ++i) {
    if (pipe(g_waiters[i].pipe) != 0) return 1;
    if (pthread_create(&g_waiters[i].thread, NULL, waiter_thread, &g_waiters[i]) != 0) return 1;
  }
  for (int i = 0; i < kWaiters; ++i) {
    for (int tries = 0; !waits_where_meant(&g_waiters[i]); ++tries) {
      if (tries == 2000) {
        fprintf(stderr, "%s never started waiting\n", g_waiters[i].name);
        return 1;
      }
      usleep(1000);
    }
  }
  if (!check) {
    puts("waiting");
    return 0;
  }
  if (__lsan_do_recoverable_leak_check) __lsan_do_recoverable_leak_check();
  for (int i = 0; i < kWaiters; ++i) {
    if (g_waiters[i].wait == wait_in_pause) pthread_kill(g_waiters[i].thread, SIGUSR1);
    if (g_waiters[i].wait != wait_in_poll_with_timeout && write(g_waiters[i].pipe[1], "x", 1) != 1) return 1;
  }
  for (int i = 0; i < kWaiters; ++i) {
    void* mine = NULL;
    pthread_join(g_waiters[i].thread, &mine);
    free(mine);
    printf("%s: %s\n", g_waiters[i].name, g_waiters[i].result);
  }
  return 0;
}
