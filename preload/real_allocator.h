// The allocator we forward to: the next definition of each function after
// ours (dlsym RTLD_NEXT), which keeps programs linked with jemalloc or
// tcmalloc working. Until those are resolved, and while dlsym itself runs
// (it may call calloc), a small static arena serves allocations.
#pragma once

#include <cstddef>

namespace nantrack {

struct RealAllocator {
  void* (*malloc)(size_t) = nullptr;
  void (*free)(void*) = nullptr;
  void* (*calloc)(size_t, size_t) = nullptr;
  void* (*realloc)(void*, size_t) = nullptr;
  int (*posix_memalign)(void**, size_t, size_t) = nullptr;
  void* (*aligned_alloc)(size_t, size_t) = nullptr;
  void* (*memalign)(size_t, size_t) = nullptr;
  void* (*valloc)(size_t) = nullptr;
  void* (*pvalloc)(size_t) = nullptr;
  size_t (*malloc_usable_size)(void*) = nullptr;
  // malloc is glibc's, not an allocator loaded before it (jemalloc,
  // tcmalloc, mimalloc).
  bool glibc_heap = false;
};

// Resolved once by resolve_real_allocator(); all null before.
extern constinit RealAllocator g_real;
// Resolves every function; returns false if libc's malloc cannot be found.
bool resolve_real_allocator();

// The bootstrap arena: bump allocation, never reused (what it serves is a
// handful of small blocks for the loader), freeing is a no-op.
void* bootstrap_allocate(size_t size, size_t alignment = 16);
bool bootstrap_owns(const void* block);
size_t bootstrap_size(const void* block);

}  // namespace nantrack
