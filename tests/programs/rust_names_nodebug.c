/* Part of rust_names (see rust_names.c), built without debug info. */
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) void* rust_names_refill(size_t size) __asm__("_ZN7mycrate5cache6refill17h0123456789abcdefE");
__attribute__((noinline)) void* rust_names_evict(size_t size) __asm__("_RNvNtCs1234_7mycrate5cache5evict");

__attribute__((noinline)) void* rust_names_refill(size_t size) { return memset(malloc(size), 2, size); }
__attribute__((noinline)) void* rust_names_evict(size_t size) { return memset(malloc(size), 3, size); }
