/* For the programs that need signals to keep coming at one thread while
 * nantrack stops the others for a leak scan (snapshot_signal nested,
 * concurrent_checks signal): a thread sending them would be stopped too;
 * a timer aimed at the thread is not. The including file defines
 * _GNU_SOURCE first (SIGEV_THREAD_ID). */
#pragma once
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

/* Sends `signal` to thread `tid` every `nanoseconds` (below a second)
 * until timer_delete(*timer); 0, or -1 when the timer cannot be made. */
static int signal_thread_every(pid_t tid, int signal, long nanoseconds, timer_t* timer) {
  struct sigevent event;
  memset(&event, 0, sizeof(event));
  event.sigev_notify = SIGEV_THREAD_ID;
  event.sigev_signo = signal;
  event._sigev_un._tid = tid; /* sigev_notify_thread_id, which glibc 2.36 lacks */
  if (timer_create(CLOCK_MONOTONIC, &event, timer) != 0) return -1;
  const struct itimerspec every = {{0, nanoseconds}, {0, nanoseconds}};
  return timer_settime(*timer, 0, &every, NULL);
}
