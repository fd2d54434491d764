// The C allocation functions. Each is the same few lines: enter, call the
// real function, hand the block to the tracker (preload/shim.h).
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "preload/shim.h"

using namespace nantrack;
using nantrack::shim::allocate_tracked;
using nantrack::shim::release_tracked;

NANTRACK_EXPORT void* malloc(size_t size) {
  return allocate_tracked(size, AllocKind::Malloc, 16, __builtin_return_address(0), [&] { return g_real.malloc(size); });
}

NANTRACK_EXPORT void free(void* block) { release_tracked(block, DeallocKind::Free); }

// C23; glibc 2.36 has neither, but programs built against a newer libc may
// call them. Both are a plain free here: the size is only a hint.
NANTRACK_EXPORT void free_sized(void* block, size_t) { release_tracked(block, DeallocKind::Free); }
NANTRACK_EXPORT void free_aligned_sized(void* block, size_t, size_t) { release_tracked(block, DeallocKind::Free); }

NANTRACK_EXPORT void* calloc(size_t count, size_t size) {
  size_t total = 0;
  if (__builtin_mul_overflow(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  // The bootstrap arena is static memory that is never reused: already zero.
  return allocate_tracked(total, AllocKind::Calloc, 16, __builtin_return_address(0), [&] { return g_real.calloc(count, size); });
}

namespace {

// realloc of a block from the bootstrap arena: move it to the real heap.
void* move_out_of_bootstrap(void* block, size_t size) {
  if (size == 0) return nullptr;
  void* moved = malloc(size);
  if (moved) {
    size_t old_size = bootstrap_size(block);
    std::memcpy(moved, block, old_size < size ? old_size : size);
  }
  return moved;
}

// realloc while re-entered: our helpers' blocks are resized by libc; a
// tracked block (a signal handler interrupted us) is copied and its free
// deferred, because its record cannot be updated from here.
void* realloc_untracked(void* block, size_t size) {
  if (!g_real.realloc) return move_out_of_bootstrap(block, size);
  if (!tracker().initialized() || tracker().untracked().remove(reinterpret_cast<uintptr_t>(block)))
    return shim::remember_untracked(g_real.realloc(block, size));
  void* moved = g_real.malloc(size);
  if (!moved) return nullptr;
  size_t old_size = g_real.malloc_usable_size(block);
  std::memcpy(moved, block, old_size < size ? old_size : size);
  tracker().defer_deallocation(block, DeallocKind::Realloc);
  return shim::remember_untracked(moved);
}

}  // namespace

NANTRACK_EXPORT void* realloc(void* block, size_t size) {
  if (!block) return allocate_tracked(size, AllocKind::Realloc, 16, __builtin_return_address(0), [&] { return g_real.malloc(size); });
  if (bootstrap_owns(block)) return move_out_of_bootstrap(block, size);
  if (size == 0) {
    // glibc: realloc(p, 0) frees p and returns NULL.
    release_tracked(block, DeallocKind::Realloc);
    return nullptr;
  }
  if (!shim::enter()) [[unlikely]]
    return realloc_untracked(block, size);
  void* result = tracker().on_reallocation(block, size);
  shim::leave();
  return result;
}

NANTRACK_EXPORT void* reallocarray(void* block, size_t count, size_t size) {
  size_t total = 0;
  if (__builtin_mul_overflow(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(block, total);
}

NANTRACK_EXPORT int posix_memalign(void** out, size_t alignment, size_t size) {
  int result = 0;
  void* block = allocate_tracked(size, AllocKind::PosixMemalign, alignment, __builtin_return_address(0), [&]() -> void* {
    void* p = nullptr;
    result = g_real.posix_memalign(&p, alignment, size);
    return result == 0 ? p : nullptr;
  });
  // Before the real function is resolved the arena served it (result stays 0).
  if (result == 0 && !block && size) result = ENOMEM;
  if (result == 0) *out = block;
  return result;
}

NANTRACK_EXPORT void* aligned_alloc(size_t alignment, size_t size) {
  return allocate_tracked(size, AllocKind::AlignedAlloc, alignment, __builtin_return_address(0),
                          [&] { return g_real.aligned_alloc(alignment, size); });
}

NANTRACK_EXPORT void* memalign(size_t alignment, size_t size) {
  return allocate_tracked(size, AllocKind::Memalign, alignment, __builtin_return_address(0), [&] { return g_real.memalign(alignment, size); });
}

NANTRACK_EXPORT void* valloc(size_t size) {
  return allocate_tracked(size, AllocKind::Valloc, 4096, __builtin_return_address(0), [&] { return g_real.valloc(size); });
}

NANTRACK_EXPORT void* pvalloc(size_t size) {
  return allocate_tracked(size, AllocKind::Pvalloc, 4096, __builtin_return_address(0), [&] { return g_real.pvalloc(size); });
}

NANTRACK_EXPORT size_t malloc_usable_size(void* block) {
  if (!block) return 0;
  if (bootstrap_owns(block)) return bootstrap_size(block);
  if (!shim::enter()) [[unlikely]]
    return g_real.malloc_usable_size ? g_real.malloc_usable_size(block) : 0;
  // Only for blocks libc really has: a freed (quarantined) or foreign
  // pointer would make libc read garbage.
  bool usable = tracker().is_live(block) || tracker().untracked().contains(reinterpret_cast<uintptr_t>(block));
  shim::leave();
  return usable ? g_real.malloc_usable_size(block) : 0;
}
