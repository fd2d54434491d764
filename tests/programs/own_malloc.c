/* own_malloc: a program with an allocator of its own, as one linked with
 * jemalloc or mimalloc: its malloc, calloc, realloc and free are defined
 * here (a bump allocator over one mapping), so they win over a preloaded
 * library's. Leaks a block of 123 bytes from it. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static char* arena;
static size_t used;
enum { kArenaBytes = 64 << 20 };

void* malloc(size_t size) {
  if (!arena) {
    arena = mmap(NULL, kArenaBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (arena == MAP_FAILED) return NULL;
  }
  size = (size + 15) & ~(size_t)15;
  if (used + size + 16 > kArenaBytes) return NULL;
  memcpy(arena + used, &size, sizeof size); /* the size, for realloc */
  void* block = arena + used + 16;
  used += size + 16;
  return block;
}

void free(void* block) { (void)block; }

void* calloc(size_t count, size_t size) {
  if (size && count > (size_t)-1 / size) return NULL;
  void* block = malloc(count * size);
  if (block) memset(block, 0, count * size);
  return block;
}

void* realloc(void* block, size_t size) {
  void* moved = malloc(size);
  if (moved && block) {
    size_t old;
    memcpy(&old, (char*)block - 16, sizeof old);
    memcpy(moved, block, old < size ? old : size);
  }
  return moved;
}

void* volatile sink;

int main(void) {
  char* lost = malloc(123);
  memset(lost, 1, 123);
  sink = lost;
  sink = NULL;
  puts("done");
  return 0;
}
