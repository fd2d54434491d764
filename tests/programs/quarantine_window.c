/* quarantine_window PAIRS WINDOW [again]: how long a freed block stays in
 * quarantine when the heap spans two of nantrack's shard groups (one per
 * 64 MiB of address space). Grows the heap to a few MiB below a 64 MiB
 * boundary, churns PAIRS small malloc/free pairs across it (384 blocks
 * live), frees 64 marker blocks, churns WINDOW more pairs and, with
 * "again", frees the markers a second time: traced, each of those frees
 * should be a double free of a block still in quarantine. Natively the
 * second frees would corrupt the heap: "again" is for traced runs only. */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { kLive = 384, kMarkers = 64, kFillers = 8 };

static void* live[kLive];
static void* markers[kMarkers];
static void* fillers[kFillers];
static volatile uintptr_t sink;
static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next_random(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static void churn(size_t pairs) {
  for (size_t i = 0; i < pairs; ++i) {
    const uint64_t r = next_random();
    void** slot = &live[r % kLive];
    free(*slot);
    *slot = malloc(16 + (r >> 32) % 240);
    sink = (uintptr_t)*slot;
  }
}

/* Blocks kept to the end fill the heap up to 2 MiB below a 64 MiB
 * boundary: what is allocated from then on crosses it as the heap grows.
 * Not a 2 GiB boundary: nantrack puts the two 64 MiB units around one of
 * those in the same group of shards. */
static void grow_heap_near_a_boundary(void) {
  const uintptr_t unit = (uintptr_t)64 << 20, lead = (uintptr_t)2 << 20, most = (uintptr_t)30 << 20;
  const uintptr_t same_group = ((uintptr_t)2 << 30) - 1;
  mallopt(M_MMAP_THRESHOLD, 32 << 20); /* from the heap, not mmap */
  uintptr_t boundary = ((uintptr_t)sbrk(0) + lead + unit) & ~(unit - 1);
  if ((boundary & same_group) == 0) boundary += unit;
  for (int i = 0; i < kFillers; ++i) {
    const uintptr_t end = (uintptr_t)sbrk(0);
    if (end + lead >= boundary) break;
    const uintptr_t gap = boundary - lead - end;
    fillers[i] = malloc(gap < most ? gap : most);
    sink = (uintptr_t)fillers[i];
  }
}

static void __attribute__((noinline)) free_markers(void) {
  for (int i = 0; i < kMarkers; ++i) free(markers[i]);
}

static void __attribute__((noinline)) free_markers_again(void) {
  for (int i = 0; i < kMarkers; ++i) free(markers[i]);
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: quarantine_window PAIRS WINDOW [again]\n");
    return 2;
  }
  const size_t pairs = strtoull(argv[1], NULL, 10), window = strtoull(argv[2], NULL, 10);
  grow_heap_near_a_boundary();
  churn(pairs);
  for (int i = 0; i < kMarkers; ++i) markers[i] = malloc(16 + (size_t)i * 3);
  free_markers();
  churn(window);
  if (argc > 3 && strcmp(argv[3], "again") == 0) free_markers_again();
  for (int i = 0; i < kLive; ++i) free(live[i]);
  for (int i = 0; i < kFillers; ++i) free(fillers[i]);
  puts("done");
  return 0;
}
