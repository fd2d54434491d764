// Calls every interposed C allocation function and checks libc's semantics
// from the inside. Prints one line per failed check and "checks: N failed".
// Leaks exactly one block per function, each with its own size, so the test
// can find them in the trace: malloc 1001, calloc 1002 (2 x 501), realloc
// 1003, reallocarray 1004 (4 x 251), posix_memalign 1005, aligned_alloc 1024,
// memalign 1007, valloc 1008, pvalloc 4096. glibc's __libc_malloc and
// friends free their blocks through free() and the other way round.
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* glibc exports these; they are declared nowhere. */
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* block, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
void __libc_free(void* block);

void* volatile sink;
static int failures;

#define CHECK(condition)                                          \
  do {                                                            \
    if (!(condition)) {                                           \
      printf("FAILED: %s (line %d)\n", #condition, __LINE__);     \
      ++failures;                                                 \
    }                                                             \
  } while (0)

static void keep(void* p) { sink = p; }

int main(void) {
  // malloc(0) is a unique non-NULL block.
  void* zero1 = malloc(0);
  void* zero2 = malloc(0);
  CHECK(zero1 && zero2 && zero1 != zero2);
  free(zero1);
  free(zero2);

  void* m = malloc(1001);
  CHECK(m && malloc_usable_size(m) >= 1001);
  keep(m);

  char* c = calloc(2, 501);
  CHECK(c && c[0] == 0 && c[1001] == 0);
  keep(c);
  errno = 0;
  CHECK(calloc(SIZE_MAX / 2, 3) == NULL && errno == ENOMEM);

  void* r = realloc(NULL, 10);  // realloc(NULL, n) is malloc
  CHECK(r != NULL);
  memset(r, 7, 10);
  r = realloc(r, 1003);
  CHECK(r && ((char*)r)[9] == 7);
  keep(r);
  void* gone = malloc(50);
  errno = 0;
  CHECK(realloc(gone, 0) == NULL);  // glibc: frees and returns NULL

  void* ra = reallocarray(NULL, 4, 251);
  CHECK(ra != NULL);
  keep(ra);
  errno = 0;
  CHECK(reallocarray(NULL, SIZE_MAX / 2, 3) == NULL && errno == ENOMEM);

  void* pm = NULL;
  CHECK(posix_memalign(&pm, 64, 1005) == 0 && pm && ((uintptr_t)pm % 64) == 0);
  keep(pm);
  void* untouched = (void*)0x1;
  errno = 1234;
  CHECK(posix_memalign(&untouched, 3, 16) == EINVAL && untouched == (void*)0x1);
  CHECK(errno == 1234);  // posix_memalign reports through its result, not errno

  void* aa = aligned_alloc(256, 1024);
  CHECK(aa && ((uintptr_t)aa % 256) == 0);
  keep(aa);

  void* ma = memalign(128, 1007);
  CHECK(ma && ((uintptr_t)ma % 128) == 0);
  keep(ma);

  void* va = valloc(1008);
  CHECK(va && ((uintptr_t)va % 4096) == 0);
  keep(va);

  void* pv = pvalloc(100);
  CHECK(pv && ((uintptr_t)pv % 4096) == 0 && malloc_usable_size(pv) >= 4096);
  keep(pv);

  // errno survives a successful call untouched.
  errno = 4321;
  void* quiet = malloc(64);
  CHECK(errno == 4321);
  free(quiet);
  CHECK(errno == 4321);
  CHECK(malloc_usable_size(NULL) == 0);

  // glibc's other names for its allocator: a block from either spelling
  // goes back through the other.
  void* from_libc = __libc_malloc(77);
  CHECK(from_libc != NULL);
  free(from_libc);
  void* to_libc = malloc(78);
  __libc_free(to_libc);
  void* zeroed = __libc_calloc(3, 26);
  CHECK(zeroed && ((char*)zeroed)[0] == 0 && ((char*)zeroed)[77] == 0);
  zeroed = __libc_realloc(zeroed, 80);
  free(zeroed);
  void* aligned = __libc_memalign(64, 79);
  CHECK(aligned && ((uintptr_t)aligned % 64) == 0);
  __libc_free(aligned);

  // A failed huge malloc: NULL and ENOMEM, as libc says.
  errno = 0;
  CHECK(malloc(SIZE_MAX - 4096) == NULL && errno == ENOMEM);

  printf("checks: %d failed\n", failures);
  return failures ? 1 : 0;
}
