/* leak_sites: leaks one block from each of 256 call stacks, so that the
 * text report of every site (--max-leaks 0) runs to a few hundred KiB. A
 * recursion 8 levels deep takes one of two call sites at each level. */
#include <stdint.h>
#include <stdlib.h>

enum { kDepth = 8 };

static volatile uintptr_t sink;

__attribute__((noinline)) static void walk(int depth, unsigned path);

__attribute__((noinline)) static void left(int depth, unsigned path) {
  walk(depth - 1, path >> 1);
  sink += 1; /* keeps the call from being a tail call: the frame stays */
}

__attribute__((noinline)) static void right(int depth, unsigned path) {
  walk(depth - 1, path >> 1);
  sink += 2;
}

__attribute__((noinline)) static void walk(int depth, unsigned path) {
  if (depth == 0) {
    sink += (uintptr_t)malloc(32);
    return;
  }
  if (path & 1)
    right(depth, path);
  else
    left(depth, path);
}

int main(void) {
  for (unsigned path = 0; path < (1u << kDepth); ++path) walk(kDepth, path);
  return 0;
}
