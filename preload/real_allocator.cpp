#include "preload/real_allocator.h"

#include <atomic>
#include <cstdint>
#include <dlfcn.h>
#include <gnu/libc-version.h>

namespace nantrack {

constinit RealAllocator g_real;

namespace {

constexpr size_t kArenaSize = 256 * 1024;
alignas(64) char g_arena[kArenaSize];
std::atomic<size_t> g_arena_used{0};

// Each arena block is preceded by its size, for realloc and malloc_usable_size.
struct ArenaHeader {
  size_t size;
  size_t padding;
};

// Whether `function` is defined in glibc itself (the module that defines
// gnu_get_libc_version).
bool defined_in_glibc(void* function) {
  Dl_info where{}, glibc{};
  return dladdr(function, &where) && dladdr(reinterpret_cast<void*>(&gnu_get_libc_version), &glibc) &&
         where.dli_fbase == glibc.dli_fbase;
}

template <typename Function>
void resolve(Function& slot, const char* name) {
  slot = reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
}

}  // namespace

bool resolve_real_allocator() {
  RealAllocator real;
  resolve(real.malloc, "malloc");
  resolve(real.free, "free");
  resolve(real.calloc, "calloc");
  resolve(real.realloc, "realloc");
  resolve(real.posix_memalign, "posix_memalign");
  resolve(real.aligned_alloc, "aligned_alloc");
  resolve(real.memalign, "memalign");
  resolve(real.valloc, "valloc");
  resolve(real.pvalloc, "pvalloc");
  resolve(real.malloc_usable_size, "malloc_usable_size");
  if (!real.malloc || !real.free || !real.calloc || !real.realloc) return false;
  real.glibc_heap = defined_in_glibc(reinterpret_cast<void*>(real.malloc));
  g_real = real;
  return true;
}

void* bootstrap_allocate(size_t size, size_t alignment) {
  if (alignment < alignof(ArenaHeader)) alignment = alignof(ArenaHeader);
  size_t used = g_arena_used.load(std::memory_order_relaxed);
  for (;;) {
    uintptr_t base = reinterpret_cast<uintptr_t>(g_arena);
    uintptr_t start = (base + used + sizeof(ArenaHeader) + alignment - 1) & ~(alignment - 1);
    size_t end = start - base + size;
    if (end > kArenaSize || size > kArenaSize) return nullptr;
    if (g_arena_used.compare_exchange_weak(used, end, std::memory_order_relaxed)) {
      reinterpret_cast<ArenaHeader*>(start)[-1].size = size;
      return reinterpret_cast<void*>(start);
    }
  }
}

bool bootstrap_owns(const void* block) {
  auto address = reinterpret_cast<uintptr_t>(block);
  auto base = reinterpret_cast<uintptr_t>(g_arena);
  return address >= base && address < base + kArenaSize;
}

size_t bootstrap_size(const void* block) { return static_cast<const ArenaHeader*>(block)[-1].size; }

}  // namespace nantrack
