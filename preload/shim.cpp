#include "preload/shim.h"

#include <sched.h>
#include <unistd.h>

#include "tracker/stderr_output.h"

namespace nantrack::shim {

NANTRACK_TLS bool t_inside = false;
constinit std::atomic<bool> g_ready{false};
constinit std::atomic<uint32_t> g_deferred{0};

namespace {
constinit std::atomic<int> g_init_state{0};  // 0: not started, 1: running, 2: done
}

bool initialize() {
  int state = g_init_state.load(std::memory_order_acquire);
  if (state == 2) return true;
  if (state == 0 && g_init_state.compare_exchange_strong(state, 1, std::memory_order_acq_rel)) {
    {
      InsideNantrack inside;  // dlsym may allocate: serve it untracked
      if (!resolve_real_allocator()) {
        static const char message[] = "nantrack: cannot find the real malloc (dlsym RTLD_NEXT failed)\n";
        print_to_stderr(message);
        _exit(127);
      }
      tracker().init({g_real.malloc, g_real.free, g_real.malloc_usable_size, g_real.realloc, g_real.glibc_heap});
    }
    g_init_state.store(2, std::memory_order_release);
    g_ready.store(true, std::memory_order_release);
    return true;
  }
  // Another thread is initialising; it takes microseconds.
  while (g_init_state.load(std::memory_order_acquire) != 2) sched_yield();
  return true;
}

// The process ends first: a snapshot would be of no use.
NANTRACK_NOINLINE void take_deferred_signals() {
  take_deferred_ending();
  take_requested_snapshot();
}

void release_tracked(void* block, DeallocKind kind, const CallerFrame& caller) {
  if (!block || bootstrap_owns(block)) return;
  if (!enter()) [[unlikely]] {
    // Re-entered: our own helpers' blocks go straight back to libc; a
    // tracked block (freed by a signal handler that interrupted us) waits.
    if (!tracker().initialized()) return;
    if (tracker().untracked().remove(reinterpret_cast<uintptr_t>(block)))
      g_real.free(block);
    else
      tracker().defer_deallocation(block, kind);
    return;
  }
  int saved_errno = errno;
  tracker().on_deallocation(block, kind, &caller);
  errno = saved_errno;
  leave();
}

}  // namespace nantrack::shim
