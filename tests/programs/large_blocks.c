/* large_blocks: leaks a 200 MiB block, one grown by realloc from 100 to
 * 150 MiB, and one grown from 16 bytes short of 128 MiB to 64 bytes past it
 * (within the pages libc mapped, so in place), and frees a 300 MiB
 * one: blocks past 128 MiB, whose records do not fit the compact table
 * (tracker/live_blocks.h). Their pages are never written, so they cost
 * address space, not memory. */
#include <stdio.h>
#include <stdlib.h>

static void* volatile sink[3];

int main(void) {
  sink[0] = malloc((size_t)200 << 20);
  void* grown = malloc((size_t)100 << 20);
  grown = grown ? realloc(grown, (size_t)150 << 20) : NULL;
  sink[1] = grown;
  void* edge = malloc(((size_t)128 << 20) - 16);
  edge = edge ? realloc(edge, ((size_t)128 << 20) + 64) : NULL;
  sink[2] = edge;
  void* freed = malloc((size_t)300 << 20);
  free(freed);
  if (!sink[0] || !sink[1] || !sink[2] || !freed) return 1;
  puts("large_blocks done");
  sink[0] = sink[1] = sink[2] = NULL; /* leaked: no pointer left */
  return 0;
}
