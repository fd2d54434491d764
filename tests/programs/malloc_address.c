/* malloc_address: takes the address of malloc and allocates through it,
 * leaking 42 bytes. Built without PIE: the executable then holds a
 * canonical PLT entry for malloc, an undefined symbol with an address,
 * which the loader resolves malloc to although it is no definition (it
 * jumps to the real one). nantrack must not take it for an allocator of
 * the program's own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void* (*volatile allocate)(size_t);
void* volatile sink;

int main(void) {
  /* Taken in code, not in a data initializer (which is a relocation the
   * loader fills in): only code built without -fPIC that names malloc's
   * address makes the linker give the executable that entry, as python3's
   * Debian build has. */
  allocate = malloc;
  char* block = allocate(42);
  memset(block, 4, 42);
  sink = block;
  sink = NULL;
  puts("done");
  return 0;
}
