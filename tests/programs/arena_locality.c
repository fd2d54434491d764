/* arena_locality: two threads take turns, 64 pairs at a time, to allocate
 * and free their own blocks: 400,000 pairs each with up to 256 live, 16 to
 * 512 bytes. Past the first 100,000, the first thread hands every 8th of
 * its blocks to the second to free (a producer and a consumer). The second
 * counts the blocks its malloc returns from the first thread's 64 MiB glibc
 * heap (a thread arena's heap is 64 MiB-aligned) in its last 200,000 pairs.
 * Turns keep the threads' progress alike however the machine schedules
 * them. Prints "blocks from the other thread's heap: N of 200000". */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kPairs = 400000, kTurn = 64, kHandFrom = 100000, kCountFrom = 200000, kLive = 256, kHandEvery = 8 };

static uintptr_t g_home[2];
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_turn_changed = PTHREAD_COND_INITIALIZER;
static int g_turn;
/* Blocks on their way from the first thread to the second, handed over
 * between turns. */
static void* g_handed[kTurn];
static int g_handed_count;
static unsigned long g_foreign;

static void wait_for_turn(int self) {
  pthread_mutex_lock(&g_lock);
  while (g_turn != self) pthread_cond_wait(&g_turn_changed, &g_lock);
  pthread_mutex_unlock(&g_lock);
}

static void pass_turn(int self) {
  pthread_mutex_lock(&g_lock);
  g_turn = 1 - self;
  pthread_cond_broadcast(&g_turn_changed);
  pthread_mutex_unlock(&g_lock);
}

static void* churn(void* argument) {
  const int self = (int)(intptr_t)argument;
  void* live[kLive] = {0};
  uint32_t random = 0x9e3779b9u * (uint32_t)(self + 1);
  wait_for_turn(self);
  void* first = malloc(64);
  g_home[self] = (uintptr_t)first >> 26;
  for (int i = 0; i < kPairs; ++i) {
    if (i % kTurn == 0 && i) {
      pass_turn(self);
      wait_for_turn(self);
      if (self == 1) {
        for (int h = 0; h < g_handed_count; ++h) free(g_handed[h]);
        g_handed_count = 0;
      }
    }
    random = random * 1664525u + 1013904223u;
    const int slot = (int)(random >> 24) % kLive;
    if (self == 0 && live[slot] && i >= kHandFrom && i % kHandEvery == 0 && g_handed_count < kTurn)
      g_handed[g_handed_count++] = live[slot];
    else
      free(live[slot]);
    const size_t size = 16 + (random >> 8) % 497;
    live[slot] = malloc(size);
    if (!live[slot]) return NULL;
    memset(live[slot], self, size);
    if (self == 1 && i >= kCountFrom && (uintptr_t)live[slot] >> 26 == g_home[0]) ++g_foreign;
  }
  for (int slot = 0; slot < kLive; ++slot) free(live[slot]);
  free(first);
  pass_turn(self);
  return argument;
}

int main(void) {
  pthread_t threads[2];
  for (int t = 0; t < 2; ++t)
    if (pthread_create(&threads[t], NULL, churn, (void*)(intptr_t)t) != 0) return 1;
  for (int t = 0; t < 2; ++t) pthread_join(threads[t], NULL);
  for (int h = 0; h < g_handed_count; ++h) free(g_handed[h]);
  if (g_home[0] == g_home[1]) {
    printf("the threads share a heap\n");
    return 1;
  }
  printf("blocks from the other thread's heap: %lu of %d\n", g_foreign, kPairs - kCountFrom);
  return 0;
}
