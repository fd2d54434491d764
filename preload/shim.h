// What every intercepted function does before and after its real work:
// lazy start-up, the per-thread re-entry guard, errno preservation, and the
// untracked path for calls that arrive while we are already inside nantrack.
#pragma once

#include <dlfcn.h>

#include <atomic>
#include <cerrno>
#include <cstddef>

#include "preload/real_allocator.h"
#include "tracker/caller_frame.h"
#include "tracker/kinds.h"
#include "tracker/platform.h"
#include "tracker/tracker.h"

namespace nantrack::shim {

// True while this thread runs nantrack code: a malloc from inside it (our
// helpers, the loader, a signal handler) must not be tracked again.
extern NANTRACK_TLS bool t_inside;
extern constinit std::atomic<bool> g_ready;
// Signals that came while their thread was inside nantrack, maybe holding a
// lock their work needs: the next leave(), on any thread, does that work.
// The snapshot signal takes its snapshot (preload/snapshot_signal.cpp); a
// signal that ends the process writes its trace and ends it
// (preload/signal_hooks.cpp), also when an outermost InsideNantrack ends:
// its thread may make no more calls, and the process must not go on.
extern constinit std::atomic<uint32_t> g_deferred;
inline constexpr uint32_t kSnapshotDeferred = 1;
inline constexpr unsigned kEndingSignalShift = 8;  // bits 8-15: the signal that ends the process
void take_deferred_signals();
void take_deferred_ending();
void take_requested_snapshot();

// Resolves the real allocator and initialises the tracker; false while that
// is under way on this thread.
bool initialize();

// Enters nantrack for a tracked call; false means "take the untracked path".
NANTRACK_ALWAYS_INLINE bool enter() {
  if (t_inside) [[unlikely]]
    return false;
  if (!g_ready.load(std::memory_order_acquire)) [[unlikely]]
    if (!initialize()) return false;
  t_inside = true;
  return true;
}
NANTRACK_ALWAYS_INLINE void leave() {
  t_inside = false;
  if (g_deferred.load(std::memory_order_relaxed)) [[unlikely]]
    take_deferred_signals();
}

// Runs a block of nantrack code that may allocate for itself (dlsym,
// dl_iterate_phdr, libunwind): whatever it allocates stays untracked.
class InsideNantrack {
 public:
  InsideNantrack() : was_inside_(t_inside) { t_inside = true; }
  ~InsideNantrack() {
    t_inside = was_inside_;
    if (!was_inside_ && (g_deferred.load(std::memory_order_relaxed) >> kEndingSignalShift)) [[unlikely]]
      take_deferred_ending();
  }
  InsideNantrack(const InsideNantrack&) = delete;
  InsideNantrack& operator=(const InsideNantrack&) = delete;

 private:
  bool was_inside_;
};

// The definition of `name` that ours hides (libc's), looked up on first use.
template <typename Function>
Function next_definition(Function& slot, const char* name) {
  Function function = __atomic_load_n(&slot, __ATOMIC_RELAXED);
  if (!function) {
    InsideNantrack inside;  // dlsym may allocate
    function = reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
    __atomic_store_n(&slot, function, __ATOMIC_RELAXED);
  }
  return function;
}

// A block handed out on the untracked path: remembered so that its free
// reaches libc instead of being reported.
inline void* remember_untracked(void* block) {
  if (block && tracker().initialized()) tracker().remember_untracked(reinterpret_cast<uintptr_t>(block));
  return block;
}

// The common shape of every allocation function. `allocate(n)` calls the
// real function for n bytes: the program's size plus the redzones when the
// block is tracked, the size alone when it is not (untracked blocks have no
// redzones). Before the real functions are resolved the bootstrap arena
// stands in. `caller` is the program's frame at its call into the exported
// function (NANTRACK_CALLER_FRAME()), where the stack is unwound from.
template <typename Allocate>
NANTRACK_ALWAYS_INLINE void* allocate_tracked(size_t size, AllocKind kind, size_t alignment,
                                              const CallerFrame& caller, Allocate&& allocate) {
  if (!enter()) [[unlikely]] {
    if (!g_real.malloc) return bootstrap_allocate(size, alignment);
    return remember_untracked(allocate(size));
  }
  size_t raw_bytes = 0;
  void* block = nullptr;
  if (tracker().raw_size(size, alignment, raw_bytes)) [[likely]]
    block = allocate(raw_bytes);
  else
    errno = ENOMEM;
  if (block) [[likely]] {
    int saved_errno = errno;
    block = tracker().on_allocation(block, size, kind, alignment, caller);
    errno = saved_errno;
  }
  leave();
  return block;
}

// The common shape of every deallocation function.
void release_tracked(void* block, DeallocKind kind, const CallerFrame& caller);

}  // namespace nantrack::shim
