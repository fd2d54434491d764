// Each thread's unwind cache and what goes with it: the bounds of its stack
// (a cache may only be used for calls made on that stack) and scratch space
// for recordings. A thread gets one as it starts (preload/thread_hooks.cpp),
// or on its first tracked call when libc started it; when it exits, its
// state goes back to a pool for the next thread (threads come and go by
// the thousand), to be emptied before that thread unwinds. Nothing here is
// freed. With its state a thread gets an alternate signal stack, if it has
// none, so that its stack overflowing does not kill the process before the
// trace is written.
#pragma once

#include <atomic>
#include <cstdint>

#include "tracker/platform.h"
#include "tracker/readable_segments.h"
#include "tracker/recording_unwinder.h"
#include "tracker/unwind_cache.h"

namespace nantrack {

struct ThreadUnwindState {
  UnwindCache cache;
  StackBounds stack;
  uint64_t generation = 0;  // of g_unwind_generation when last emptied
  // Scratch for unwinds, off the stack (threads may have small ones).
  UnwindRecording recording;
  uintptr_t pcs[Unwinder::kCaptureEntries];
  uintptr_t replayed_pcs[Unwinder::kMaxDepth];
  ReadableSegments segments;  // for recorded unwinds' reads off the stack
  // Where calls made on another stack are unwound (stack_switch.h): mapped
  // at the first. A thread stopped for a leak scan meanwhile has its own
  // stack scanned from where it switched (own_stack_pointer()).
  static constexpr size_t kUnwindStackBytes = 64 * 1024;
  char* unwind_stack = nullptr;
  // Lent to the thread as its alternate signal stack when it has none
  // (signal_stack.h): mapped at the first such thread, with a guard page
  // below (map_stack()), kept with the state.
  void* signal_stack = nullptr;
  ThreadUnwindState* next_in_pool = nullptr;
  ThreadUnwindState* next_created = nullptr;
};

extern NANTRACK_TLS ThreadUnwindState* t_unwind_state;
// Bumped when a module is unloaded: code and unwind tables at a cached pc
// may then change, so every thread empties its cache on its next call.
extern constinit std::atomic<uint64_t> g_unwind_generation;

// Set while this thread is inside pthread_getattr_np (the preload library
// wraps it): glibc holds the thread's own lock there while it allocates,
// so a state set up then, which asks pthread_getattr_np for the stack,
// would wait for that lock for good. The thread goes without until later.
extern NANTRACK_TLS bool t_in_stack_query;

ThreadUnwindState* refresh_this_thread_unwind_state();

// Gives a thread its state as it starts (preload/thread_hooks.cpp), and with
// it an alternate signal stack. A state from the pool is emptied only when
// the thread first unwinds: a thread that never allocates has no use for
// its cache, and emptying writes up to 1.4 MiB (50,000 threads that only
// start and return: 2.70 s -> 2.31 s, 2.07 s natively).
void take_this_thread_unwind_state();

// This thread's state, nullptr when it has none (exiting, out of memory).
// Must run inside nantrack (a first call may allocate, untracked).
NANTRACK_ALWAYS_INLINE ThreadUnwindState* this_thread_unwind_state() {
  ThreadUnwindState* state = t_unwind_state;
  if (!state || state->generation != g_unwind_generation.load(std::memory_order_relaxed)) [[unlikely]]
    return refresh_this_thread_unwind_state();
  return state;
}

// This thread's stack: its state's bounds when it has a state, else from
// pthread_getattr_np (which reads /proc/self/maps for the main thread, 50 us,
// and asks the kernel for the thread's CPU affinity, which a seccomp sandbox
// may kill for: not done there, nor inside pthread_getattr_np). False when
// unknown.
bool this_thread_stack_bounds(StackBounds& bounds);

// From start(): the key that hands an exiting thread's state back.
// Without `with_caches` (unwind_cache=0) states have no cache tables.
void start_thread_unwind_states(bool with_caches);
// The stacks of the last threads that exited (glibc keeps such stacks
// mapped for new threads, stale frames and all), up to `capacity` of them
// into `stacks`; returns how many. Only threads that had a state count.
size_t list_exited_thread_stacks(StackBounds* stacks, size_t capacity);
// Every thread but this one is gone in a fork child: their states return.
void reclaim_thread_unwind_states_in_child();

}  // namespace nantrack
