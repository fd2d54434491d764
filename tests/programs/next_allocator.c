/* next_allocator: a program linked with an allocator of its own in a
 * shared library (page_heap.c), as redis-server is with jemalloc. Fills and
 * frees blocks of a page and more, reallocates one across that size, and
 * leaks one block of 5000 bytes from leak_large(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void leak_large(void) { memset(malloc(5000), 7, 5000); }

int main(void) {
  static const size_t sizes[] = {4096, 4097, 8192, 100000, 1 << 20};
  unsigned long sum = 0;
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; ++i) {
      unsigned char* block = malloc(sizes[i]);
      if (!block) return 1;
      memset(block, (int)i + 1, sizes[i]);
      sum += block[sizes[i] - 1];
      free(block);
    }
  }
  char* grown = malloc(100);
  strcpy(grown, "kept across a realloc");
  grown = realloc(grown, 20000);
  printf("%s, sum %lu\n", grown, sum);
  free(grown);
  leak_large();
  return 0;
}
