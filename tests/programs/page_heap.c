/* page_heap: an allocator in a shared library the program links with, as
 * jemalloc is redis-server's. The loader puts it after a preloaded
 * libnantrack.so and before libc, so it is the malloc nantrack forwards to.
 * A block of a page or more is mapped on its own and starts at its
 * mapping's first byte, with an inaccessible page before it: jemalloc's
 * large blocks too start a page with none of the allocator's data before
 * them. Smaller blocks are carved from one mapping, never reused. Its
 * functions call one another directly, not through the PLT, where the
 * preloaded library's would answer (jemalloc's do the same). */
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

enum { kPage = 4096, kMaxLarge = 256, kHeader = 16 };
static const size_t kSmallBytes = 64 << 20;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char* small_area;
static size_t small_used;
static struct {
  char* start;    /* the guard page; the block follows it */
  size_t length;  /* of the mapping */
  size_t size;    /* asked for */
} large[kMaxLarge];

/* The slot of a large block, or -1 for a small one. The lock is held. */
static int find_large(const void* block) {
  for (int i = 0; i < kMaxLarge; ++i)
    if (large[i].start && large[i].start + kPage == block) return i;
  return -1;
}

static void* allocate_large(size_t size) {
  size_t length = kPage + ((size + kPage - 1) & ~(size_t)(kPage - 1));
  char* start = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (start == MAP_FAILED) return NULL;
  mprotect(start, kPage, PROT_NONE);
  for (int i = 0; i < kMaxLarge; ++i) {
    if (large[i].start) continue;
    large[i].start = start;
    large[i].length = length;
    large[i].size = size;
    return start + kPage;
  }
  munmap(start, length);
  return NULL;
}

static void* allocate_small(size_t size) {
  if (!small_area) {
    small_area = mmap(NULL, kSmallBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (small_area == MAP_FAILED) small_area = NULL;
  }
  size_t rounded = (size + 15) & ~(size_t)15;
  if (!small_area || small_used + kHeader + rounded > kSmallBytes) return NULL;
  char* block = small_area + small_used + kHeader;
  memcpy(block - kHeader, &size, sizeof size);
  small_used += kHeader + rounded;
  return block;
}

/* What was asked for the block. The lock is held. */
static size_t size_of(const void* block) {
  int i = find_large(block);
  if (i >= 0) return large[i].size;
  size_t size;
  memcpy(&size, (const char*)block - kHeader, sizeof size);
  return size;
}

static void* heap_malloc(size_t size) {
  pthread_mutex_lock(&lock);
  void* block = size >= kPage ? allocate_large(size) : allocate_small(size);
  pthread_mutex_unlock(&lock);
  return block;
}

static void heap_free(void* block) {
  if (!block) return;
  pthread_mutex_lock(&lock);
  int i = find_large(block);
  if (i >= 0) {
    munmap(large[i].start, large[i].length);
    large[i].start = NULL;
  }
  pthread_mutex_unlock(&lock);
}

void* calloc(size_t count, size_t size) {
  if (size && count > (size_t)-1 / size) return NULL;
  void* block = heap_malloc(count * size);
  if (block) memset(block, 0, count * size);
  return block;
}

void* realloc(void* block, size_t size) {
  void* moved = heap_malloc(size);
  if (!moved || !block) return moved;
  pthread_mutex_lock(&lock);
  size_t old_size = size_of(block);
  pthread_mutex_unlock(&lock);
  memcpy(moved, block, old_size < size ? old_size : size);
  heap_free(block);
  return moved;
}

void* malloc(size_t size) { return heap_malloc(size); }

void free(void* block) { heap_free(block); }

size_t malloc_usable_size(void* block) {
  if (!block) return 0;
  pthread_mutex_lock(&lock);
  size_t size = size_of(block);
  pthread_mutex_unlock(&lock);
  return size;
}
