// Four threads (each with its own malloc arena) allocate, fill and free
// 2048 blocks of 1 KiB each, one after another. Then main prints how many
// KiB libc still counts as in use: natively about none; under nantrack what
// its quarantine holds back, which quarantine_bytes must bound for the
// whole process however many threads free.
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

enum { kThreads = 4, kBlocks = 2048, kBlockBytes = 1024 };

static pthread_barrier_t all_started;

static void* worker(void* arg) {
  (void)arg;
  // Each thread takes an arena at its first malloc; the barrier keeps
  // them all alive then, so that none inherits another's.
  free(malloc(16));
  pthread_barrier_wait(&all_started);
  for (int i = 0; i < kBlocks; ++i) {
    char* block = malloc(kBlockBytes);
    memset(block, i, kBlockBytes);
    free(block);
  }
  return NULL;
}

int main(void) {
  size_t before = mallinfo2().uordblks;
  pthread_t threads[kThreads];
  pthread_barrier_init(&all_started, NULL, kThreads);
  for (int t = 0; t < kThreads; ++t) pthread_create(&threads[t], NULL, worker, NULL);
  for (int t = 0; t < kThreads; ++t) pthread_join(threads[t], NULL);
  size_t after = mallinfo2().uordblks;
  printf("in use after the frees: %zu KiB\n", after > before ? (after - before) / 1024 : 0);
  return 0;
}
