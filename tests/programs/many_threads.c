// 200 threads alive at once, each with one malloc/free pair, then the
// process's resident memory (VmRSS, kB) on stdout: what each thread costs
// a tracker in memory.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kThreads = 200 };

void* volatile sink;
static pthread_barrier_t all_running, may_exit;

static void* worker(void* arg) {
  sink = malloc(16);
  free(sink);
  pthread_barrier_wait(&all_running);
  pthread_barrier_wait(&may_exit);
  return arg;
}

static long resident_kb(void) {
  FILE* status = fopen("/proc/self/status", "r");
  if (!status) return -1;
  char line[256];
  long kb = -1;
  while (fgets(line, sizeof line, status))
    if (strncmp(line, "VmRSS:", 6) == 0) kb = strtol(line + 6, NULL, 10);
  fclose(status);
  return kb;
}

int main(void) {
  pthread_t threads[kThreads];
  pthread_barrier_init(&all_running, NULL, kThreads + 1);
  pthread_barrier_init(&may_exit, NULL, kThreads + 1);
  for (int i = 0; i < kThreads; ++i)
    if (pthread_create(&threads[i], NULL, worker, NULL) != 0) return 1;
  pthread_barrier_wait(&all_running);
  printf("%ld\n", resident_kb());
  pthread_barrier_wait(&may_exit);
  for (int i = 0; i < kThreads; ++i) pthread_join(threads[i], NULL);
  return 0;
}
