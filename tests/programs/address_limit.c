/* Gives libc's heap 8 MiB of room ahead (M_TOP_PAD), then lowers its own
 * address-space limit (RLIMIT_AS) to exactly what it uses, so that nothing
 * new can be mapped, and allocates 20,000 small blocks (malloc, calloc,
 * realloc) from the room libc already has. A tracker whose tables must
 * grow for them cannot map their memory. Checks every block's contents,
 * frees them all and prints "ok", or where a block went wrong. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

enum { kBlocks = 20000, kSize = 48, kGrown = 96 };
static unsigned char* blocks[kBlocks];

static size_t vm_size_bytes(void) {
  FILE* status = fopen("/proc/self/status", "r");
  char line[256];
  size_t kib = 0;
  while (status && fgets(line, sizeof line, status))
    if (sscanf(line, "VmSize: %zu kB", &kib) == 1) break;
  if (status) fclose(status);
  return kib * 1024;
}

static int holds(const unsigned char* block, size_t size, unsigned char value) {
  for (size_t i = 0; i < size; ++i)
    if (block[i] != value) return 0;
  return 1;
}

/* Block i: calloc'ed every tenth, grown by realloc every seventh. */
static int allocate(size_t i) {
  unsigned char* block = i % 10 == 0 ? calloc(1, kSize) : malloc(kSize);
  if (!block) {
    printf("block %zu: out of memory\n", i);
    return 0;
  }
  if (i % 10 == 0 && !holds(block, kSize, 0)) {
    printf("calloc block %zu not zeroed\n", i);
    return 0;
  }
  memset(block, (unsigned char)i, kSize);
  if (i % 7 == 0) {
    unsigned char* grown = realloc(block, kGrown);
    if (!grown) {
      printf("block %zu: realloc out of memory\n", i);
      return 0;
    }
    block = grown;
    if (!holds(block, kSize, (unsigned char)i)) {
      printf("realloc lost block %zu\n", i);
      return 0;
    }
  }
  blocks[i] = block;
  return 1;
}

int main(void) {
  /* A block of 1 MiB from the heap (not mapped by itself) makes the heap
   * grow by it and the pad, which stays (no trimming). */
  mallopt(M_TOP_PAD, 8 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  free(malloc(1 << 20));
  printf("%s", "");     /* stdout's buffer, before the limit */
  struct rlimit limit;
  getrlimit(RLIMIT_AS, &limit);
  limit.rlim_cur = vm_size_bytes();
  if (setrlimit(RLIMIT_AS, &limit) != 0) return 2;
  for (size_t i = 0; i < kBlocks; ++i)
    if (!allocate(i)) return 1;
  for (size_t i = 0; i < kBlocks; ++i) {
    if (!holds(blocks[i], kSize, (unsigned char)i)) {
      printf("block %zu changed\n", i);
      return 1;
    }
    free(blocks[i]);
  }
  puts("ok");
  return 0;
}
