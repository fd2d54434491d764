/* live3m [blocks]: a program that holds millions of small objects at once
 * (a parser's AST, an in-memory index). Allocates `blocks` 32-byte blocks,
 * keeps them all live and touches each, then frees them all; what matters is
 * the tracker's memory per live block, seen in peak RSS. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { kBlockSize = 32 };
static const size_t kDefaultBlocks = 3000000;

/* The checksum goes here so the compiler keeps every block and every touch. */
static volatile uintptr_t sink;

int main(int argc, char** argv) {
  const size_t count = argc > 1 ? strtoull(argv[1], NULL, 10) : kDefaultBlocks;
  unsigned char** blocks = malloc(count * sizeof *blocks);
  if (!blocks) return 1;
  for (size_t i = 0; i < count; ++i) {
    blocks[i] = malloc(kBlockSize);
    if (!blocks[i]) return 1;
    memset(blocks[i], (int)i, kBlockSize);
  }
  uintptr_t checksum = 0;
  for (size_t i = 0; i < count; ++i) checksum += blocks[i][i % kBlockSize];
  sink = checksum;
  for (size_t i = 0; i < count; ++i) free(blocks[i]);
  free(blocks);
  return 0;
}
