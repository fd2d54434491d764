/* leak_million: leaks 1,000,000 blocks from 16,384 distinct stacks, the
 * scale at which issue 5 wants text + JSON + HTML reports in under 2 s.
 * A binary recursion 14 levels deep takes one of two call sites at each
 * level, so each of the 2^14 paths is its own stack; 61 blocks (16-72
 * bytes) leak at the end of each path. */
#include <stdint.h>
#include <stdlib.h>

enum { kDepth = 14, kBlocksPerStack = 61 };

static volatile uintptr_t sink;

__attribute__((noinline)) static void leak_blocks(void) {
  for (int i = 0; i < kBlocksPerStack; ++i) sink += (uintptr_t)malloc(16 + (i & 7) * 8);
}

__attribute__((noinline)) static void walk(int depth, unsigned path);

__attribute__((noinline)) static void left(int depth, unsigned path) {
  walk(depth - 1, path >> 1);
  sink += 1;  /* keeps the call from being a tail call: the frame stays */
}

__attribute__((noinline)) static void right(int depth, unsigned path) {
  walk(depth - 1, path >> 1);
  sink += 2;
}

__attribute__((noinline)) static void walk(int depth, unsigned path) {
  if (depth == 0) {
    leak_blocks();
    return;
  }
  if (path & 1)
    right(depth, path);
  else
    left(depth, path);
  sink ^= (uintptr_t)depth;
}

int main(void) {
  for (unsigned path = 0; path < (1u << kDepth); ++path) walk(kDepth, path);
  return 0;
}
