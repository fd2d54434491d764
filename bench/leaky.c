/* leaky: leaks exactly kLeakedBlocks blocks of kLeakedSize bytes, all from
 * one stack. bench/run-bench reads the trace of this run to prove the tracker
 * was really on (a preload that silently failed to load would look fast). */
#include <stdint.h>
#include <stdlib.h>

enum { kLeakedBlocks = 100, kLeakedSize = 1000 };

static volatile uintptr_t sink;

__attribute__((noinline)) static void leak_one_block(void) {
  sink = (uintptr_t)malloc(kLeakedSize);
}

int main(void) {
  for (int i = 0; i < kLeakedBlocks; ++i) leak_one_block();
  return 0;
}
