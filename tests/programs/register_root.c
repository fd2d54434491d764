// A block reachable only from a register of a live thread blocked in a
// system call: 3001 bytes kept in r12 (register_root.S), reachable; 3002
// bytes in a second thread that cleared r12 first, definite. valgrind
// agrees on both.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((noreturn)) void block_in_read(void* block, int fd, int keep);

static int g_never[2];

struct Blocker {
  size_t size;
  int keep;
};

// noinline and no use of the block after the call: the register is its
// only home.
static __attribute__((noinline)) void allocate_and_block(size_t size, int keep) {
  char* block = malloc(size);
  memset(block, 1, size);
  block_in_read(block, g_never[0], keep);
}

static void* blocker(void* argument) {
  const struct Blocker* job = argument;
  allocate_and_block(job->size, job->keep);
  return NULL;
}

// Waits until the thread sits in read(): /proc/self/task/TID/syscall
// starts with its number, 0.
static void wait_in_read(pid_t tid) {
  char path[64], text[16];
  snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
  for (int tries = 0; tries < 5000; ++tries) {
    FILE* file = fopen(path, "r");
    size_t got = file ? fread(text, 1, sizeof(text) - 1, file) : 0;
    if (file) fclose(file);
    text[got] = '\0';
    if (strncmp(text, "0 ", 2) == 0) return;
    usleep(1000);
  }
}

static pid_t g_tids[2];
static struct Blocker g_jobs[2] = {{3001, 1}, {3002, 0}};

static void* start(void* argument) {
  struct Blocker* job = argument;
  __atomic_store_n(&g_tids[job == &g_jobs[1]], gettid(), __ATOMIC_RELEASE);
  return blocker(job);
}

int main(void) {
  if (pipe(g_never) != 0) return 1;
  pthread_t threads[2];
  for (int i = 0; i < 2; ++i) pthread_create(&threads[i], NULL, start, &g_jobs[i]);
  for (int i = 0; i < 2; ++i) {
    while (!__atomic_load_n(&g_tids[i], __ATOMIC_ACQUIRE)) usleep(1000);
    wait_in_read(g_tids[i]);
  }
  printf("register_root ready\n");
  return 0;
}
