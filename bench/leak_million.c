/* leak_million [depth [blocks]]: leaks 1,000,000 blocks from 16,384
 * distinct stacks, the scale at which issue 5 wants text + JSON + HTML
 * reports in under 2 s. A binary recursion 14 levels deep (`depth`) takes
 * one of two call sites at each level, so each of the 2^14 paths is its
 * own stack; 61 blocks (`blocks`, 16-72 bytes) leak at the end of each
 * path. The tests take 2^8 stacks of one block: a long report, quickly. */
#include <stdint.h>
#include <stdlib.h>

static int g_depth = 14, g_blocks_per_stack = 61;

static volatile uintptr_t sink;

__attribute__((noinline)) static void leak_blocks(void) {
  for (int i = 0; i < g_blocks_per_stack; ++i) sink += (uintptr_t)malloc(16 + (i & 7) * 8);
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

int main(int argc, char** argv) {
  if (argc > 1) g_depth = atoi(argv[1]);
  if (argc > 2) g_blocks_per_stack = atoi(argv[2]);
  if (g_depth < 0 || g_depth > 24 || g_blocks_per_stack < 0) return 2;
  for (unsigned path = 0; path < (1u << g_depth); ++path) walk(g_depth, path);
  return 0;
}
