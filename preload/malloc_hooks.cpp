// The C allocation functions. Each is the same few lines: enter, call the
// real function, hand the block to the tracker (preload/shim.h) with the
// caller's frame (this file is built with frame pointers for it).
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>

#include "preload/shim.h"

using namespace nantrack;
using nantrack::shim::allocate_tracked;
using nantrack::shim::release_tracked;

NANTRACK_EXPORT void* malloc(size_t size) {
  return allocate_tracked(size, AllocKind::Malloc, 16, NANTRACK_CALLER_FRAME(), [](size_t n) { return g_real.malloc(n); });
}

NANTRACK_EXPORT void free(void* block) { release_tracked(block, DeallocKind::Free, NANTRACK_CALLER_FRAME()); }

// C23; glibc 2.36 has neither, but programs built against a newer libc may
// call them. Both are a plain free here: the size is only a hint.
NANTRACK_EXPORT void free_sized(void* block, size_t) { release_tracked(block, DeallocKind::Free, NANTRACK_CALLER_FRAME()); }
NANTRACK_EXPORT void free_aligned_sized(void* block, size_t, size_t) { release_tracked(block, DeallocKind::Free, NANTRACK_CALLER_FRAME()); }

NANTRACK_EXPORT void* calloc(size_t count, size_t size) {
  size_t total = 0;
  if (__builtin_mul_overflow(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  // The bootstrap arena is static memory that is never reused: already zero.
  // libc zeroes the redzones too; the tracker patterns them afterwards.
  return allocate_tracked(total, AllocKind::Calloc, 16, NANTRACK_CALLER_FRAME(), [](size_t n) { return g_real.calloc(1, n); });
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
  // Its size is in the shard this thread may be holding: only try the lock.
  // If it is busy, fail as realloc may (the block stays as it was).
  std::optional<size_t> old_size = tracker().live_size(block, false);
  if (!old_size) {
    errno = ENOMEM;
    return nullptr;
  }
  void* moved = g_real.malloc(size);
  if (!moved) return nullptr;
  std::memcpy(moved, block, *old_size < size ? *old_size : size);
  tracker().defer_deallocation(block, DeallocKind::Realloc);
  return shim::remember_untracked(moved);
}

}  // namespace

NANTRACK_EXPORT void* realloc(void* block, size_t size) {
  if (!block) return allocate_tracked(size, AllocKind::Realloc, 16, NANTRACK_CALLER_FRAME(), [](size_t n) { return g_real.malloc(n); });
  if (bootstrap_owns(block)) return move_out_of_bootstrap(block, size);
  if (size == 0) {
    // glibc: realloc(p, 0) frees p and returns NULL.
    release_tracked(block, DeallocKind::Realloc, NANTRACK_CALLER_FRAME());
    return nullptr;
  }
  if (!shim::enter()) [[unlikely]]
    return realloc_untracked(block, size);
  void* result = tracker().on_reallocation(block, size, NANTRACK_CALLER_FRAME());
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
  void* block = allocate_tracked(size, AllocKind::PosixMemalign, alignment, NANTRACK_CALLER_FRAME(), [&](size_t n) -> void* {
    void* p = nullptr;
    result = g_real.posix_memalign(&p, alignment, n);
    return result == 0 ? p : nullptr;
  });
  // Before the real function is resolved the arena served it (result stays 0).
  if (result == 0 && !block && size) result = ENOMEM;
  if (result == 0) *out = block;
  return result;
}

NANTRACK_EXPORT void* aligned_alloc(size_t alignment, size_t size) {
  return allocate_tracked(size, AllocKind::AlignedAlloc, alignment, NANTRACK_CALLER_FRAME(),
                          [&](size_t n) { return g_real.aligned_alloc(alignment, n); });
}

NANTRACK_EXPORT void* memalign(size_t alignment, size_t size) {
  return allocate_tracked(size, AllocKind::Memalign, alignment, NANTRACK_CALLER_FRAME(), [&](size_t n) { return g_real.memalign(alignment, n); });
}

NANTRACK_EXPORT void* valloc(size_t size) {
  return allocate_tracked(size, AllocKind::Valloc, 4096, NANTRACK_CALLER_FRAME(), [](size_t n) { return g_real.valloc(n); });
}

NANTRACK_EXPORT void* pvalloc(size_t size) {
  // pvalloc hands out whole pages: the block (and malloc_usable_size) is the
  // size rounded up to the page, with the redzones outside that.
  constexpr size_t kPage = 4096;
  if (__builtin_add_overflow(size, kPage - 1, &size)) {
    errno = ENOMEM;
    return nullptr;
  }
  size = size < kPage ? kPage : size & ~(kPage - 1);
  return allocate_tracked(size, AllocKind::Pvalloc, kPage, NANTRACK_CALLER_FRAME(), [](size_t n) { return g_real.pvalloc(n); });
}

NANTRACK_EXPORT size_t malloc_usable_size(void* block) {
  if (!block) return 0;
  if (bootstrap_owns(block)) return bootstrap_size(block);
  if (!shim::enter()) [[unlikely]]
    return g_real.malloc_usable_size ? g_real.malloc_usable_size(block) : 0;
  // A tracked block has exactly the size asked for (as with ASan): writing
  // up to the usable size must not reach its redzone. Only untracked blocks
  // are libc's to measure; a freed or foreign pointer would make libc read
  // garbage.
  std::optional<size_t> size = tracker().live_size(block);
  if (!size && tracker().may_be_untracked(reinterpret_cast<uintptr_t>(block))) size = g_real.malloc_usable_size(block);
  shim::leave();
  return size.value_or(0);
}

// glibc exports its allocator under these names too, and some programs and
// libraries call them directly (allocators that fall back on libc, memory
// debuggers). As other names for ours, a block from either spelling may go
// back through the other: __libc_malloc then free was an "invalid free",
// and malloc then __libc_free made libc abort on our guarded pointer.
#define NANTRACK_ALIAS(name, target) \
  extern "C" __attribute__((alias(#target), copy(target), visibility("default"))) decltype(target) name
NANTRACK_ALIAS(__libc_malloc, malloc);
NANTRACK_ALIAS(__libc_free, free);
NANTRACK_ALIAS(__libc_calloc, calloc);
NANTRACK_ALIAS(__libc_realloc, realloc);
NANTRACK_ALIAS(__libc_memalign, memalign);
NANTRACK_ALIAS(__libc_valloc, valloc);
NANTRACK_ALIAS(__libc_pvalloc, pvalloc);
#undef NANTRACK_ALIAS
