/* rust_names: allocation sites named as a Rust program's functions are: by
 * the v0 mangling ("_R...") and the legacy one ("_ZN...17h<hash>E"). This
 * file is built with debug info, so DWARF gives the v0 name as the
 * function's linkage name; rust_names_nodebug.c is built without, so the
 * symbol table names its two, as for the parts of Rust's standard library
 * shipped without debug info. Each site leaks a block of its own size. */
#include <stdlib.h>
#include <string.h>

void* rust_names_refill(size_t size) __asm__("_ZN7mycrate5cache6refill17h0123456789abcdefE");
void* rust_names_evict(size_t size) __asm__("_RNvNtCs1234_7mycrate5cache5evict");
__attribute__((noinline)) void* rust_names_allocate(size_t size) __asm__("_RNvNtCs1234_7mycrate5cache8allocate");

__attribute__((noinline)) void* rust_names_allocate(size_t size) { return memset(malloc(size), 1, size); }

int main(void) {
  rust_names_allocate(111);
  rust_names_refill(222);
  rust_names_evict(333);
  return 0;
}
