// A block libc maps for itself (256 KiB, page-aligned), used the way a
// coroutine library uses a stack: its lowest page made a guard (PROT_NONE)
// and another page read-only. It is freed without giving them back their
// protection, which free() allows: libc unmaps such a block whole. Then the
// program goes on allocating and prints "survived".
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

int main(void) {
  const size_t page = 4096, size = 64 * page;
  char* stack = NULL;
  if (posix_memalign((void**)&stack, page, size) != 0) return 1;
  stack[page] = 1;
  if (mprotect(stack, page, PROT_NONE) != 0 || mprotect(stack + 8 * page, page, PROT_READ) != 0) return 2;
  free(stack);
  for (int i = 0; i < 100000; ++i) free(malloc(64));
  printf("survived\n");
  return 0;
}
