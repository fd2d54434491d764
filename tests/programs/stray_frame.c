/* stray_frame: allocates, over and over from one call site, from code
 * without unwind tables whose frame pointer leads to a return address of
 * 0x2 (stray_frame.S), as a JVM's compiled code may. A stack seen again
 * is unwound once more to be cached: that unwind must not read at 0x2.
 * Prints "allocated 10 blocks" and frees them. */
#include <stdio.h>
#include <stdlib.h>

void* allocate_under_stray_frame(size_t size);

enum { kBlocks = 10 };

int main(void) {
  void* blocks[kBlocks];
  for (int i = 0; i < kBlocks; ++i) blocks[i] = allocate_under_stray_frame(64);
  int allocated = 0;
  for (int i = 0; i < kBlocks; ++i) {
    allocated += blocks[i] != NULL;
    free(blocks[i]);
  }
  printf("allocated %d blocks\n", allocated);
  return 0;
}
