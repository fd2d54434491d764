/* protected_heap_page: frees a 64 KiB block from libc's heap (below its
 * mmap threshold) with a page in its middle still PROT_NONE. libc's free
 * does not touch that page; nantrack's free fill faults there, inside its
 * block tables (README: the one way a program makes it fault there). A
 * block of 100 bytes stays live. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

static void* volatile kept;

int main(void) {
  kept = malloc(100);
  char* block = malloc(64 * 1024);
  if (!block) return 1;
  char* page = (char*)(((uintptr_t)block + 8192) & ~(uintptr_t)4095);
  if (mprotect(page, 4096, PROT_NONE) != 0) return 2;
  free(block);
  if (mprotect(page, 4096, PROT_READ | PROT_WRITE) != 0) return 3;
  printf("freed\n");
  return 0;
}
