#include "tracker/thread_unwind_state.h"

#include <algorithm>
#include <new>
#include <pthread.h>

#include "tracker/internal_memory.h"
#include "tracker/sandbox.h"
#include "tracker/signal_stack.h"
#include "tracker/stack_switch.h"
#include "tracker/sync.h"

namespace nantrack {

NANTRACK_TLS ThreadUnwindState* t_unwind_state = nullptr;
NANTRACK_TLS bool t_in_stack_query = false;
constinit std::atomic<uint64_t> g_unwind_generation{1};

namespace {

// A state's generation that no g_unwind_generation matches (it starts at
// 1 and only grows): the state is emptied on its thread's first unwind.
constexpr uint64_t kEmptyBeforeUse = 0;

// Set once the thread has handed its state back: calls made later in its
// exit (other keys' destructors) go uncached rather than take a new one.
NANTRACK_TLS bool t_unwind_state_returned = false;

constinit Mutex g_pool_mutex;
constinit ThreadUnwindState* g_pool = nullptr;  // free states, under g_pool_mutex
constinit std::atomic<ThreadUnwindState*> g_created{nullptr};  // every state, push-only
constinit pthread_key_t g_exit_key;
constinit bool g_exit_key_ready = false;
constinit bool g_with_caches = false;

// The stacks of exited threads, newest last, under g_pool_mutex; read
// without it by the leak scan, which has the other threads stopped. glibc
// caches 40 MiB of stacks at most: five of the default size, hundreds of
// small ones.
constexpr size_t kExitedStacks = 1024;
constinit StackBounds g_exited_stacks[kExitedStacks];
constinit std::atomic<size_t> g_exited_count{0};

void return_to_pool(void* opaque) {
  auto* state = static_cast<ThreadUnwindState*>(opaque);
  t_unwind_state = nullptr;
  t_unwind_state_returned = true;
  // A thread exiting from a handler running on the lent stack: another
  // thread must not get that stack while this one still runs on it. The
  // state stays out of the pool (its stack bounds are not listed either:
  // the thread may still be using them).
  if (!take_back_signal_stack()) return;
  LockGuard guard(g_pool_mutex);
  const size_t exited = g_exited_count.load(std::memory_order_relaxed);
  g_exited_stacks[exited % kExitedStacks] = state->stack;
  g_exited_count.store(exited + 1, std::memory_order_release);
  state->next_in_pool = g_pool;
  g_pool = state;
}

ThreadUnwindState* take_from_pool() {
  LockGuard guard(g_pool_mutex);
  ThreadUnwindState* state = g_pool;
  if (state) g_pool = state->next_in_pool;
  return state;
}

ThreadUnwindState* create() {
  void* memory = map_memory(sizeof(ThreadUnwindState));
  if (!memory) return nullptr;
  auto* state = new (memory) ThreadUnwindState;
  if (g_with_caches && !state->cache.init()) {
    unmap_memory(memory, sizeof(ThreadUnwindState));
    return nullptr;
  }
  state->next_created = g_created.load(std::memory_order_relaxed);
  while (!g_created.compare_exchange_weak(state->next_created, state, std::memory_order_release)) {
  }
  return state;
}

// pthread_getattr_np reads /proc/self/maps for the main thread: that thread
// gets its state at start(), not on the malloc path.
bool this_thread_stack(StackBounds& bounds) {
  pthread_attr_t attributes;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0) return false;
  void* low = nullptr;
  size_t size = 0;
  bool ok = pthread_attr_getstack(&attributes, &low, &size) == 0;
  pthread_attr_destroy(&attributes);
  bounds = {reinterpret_cast<uintptr_t>(low), reinterpret_cast<uintptr_t>(low) + size};
  return ok && size;
}

// Gives this thread a state, nullptr when it cannot have one (now).
// `starting`: the thread has run none of the program's code yet.
ThreadUnwindState* take_state(bool starting) {
  if (t_unwind_state_returned || !g_exit_key_ready) return nullptr;
  // A thread started inside a seccomp sandbox (sandbox.h) goes without: its
  // stack's bounds come from pthread_getattr_np, which asks the kernel for
  // the thread's CPU affinity, a call the sandbox kills for. Its stacks
  // are unwound by libunwind alone, as far as its stack can be told apart.
  if (in_sandbox()) return nullptr;
  // Not now, but on its next call (thread_unwind_state.h).
  if (t_in_stack_query) return nullptr;
  // A state from the pool holds another thread's stacks (another stack):
  // it is emptied when this thread first unwinds (kEmptyBeforeUse), not
  // here, as a thread may never allocate. A new one is empty: clearing it
  // would touch every page of its tables.
  ThreadUnwindState* state = take_from_pool();
  if (state) {
    state->generation = kEmptyBeforeUse;
  } else if ((state = create())) {
    state->generation = g_unwind_generation.load(std::memory_order_relaxed);
  } else {
    return nullptr;
  }
  if (!this_thread_stack(state->stack) || pthread_setspecific(g_exit_key, state) != 0) {
    return_to_pool(state);
    return nullptr;
  }
  t_unwind_state = state;
  if (!state->signal_stack) state->signal_stack = map_stack(kSignalStackBytes);
  lend_signal_stack(state->signal_stack, starting);
  return state;
}

}  // namespace

bool this_thread_stack_bounds(StackBounds& bounds) {
  if (const ThreadUnwindState* state = t_unwind_state) {
    bounds = state->stack;
    return true;
  }
  return !in_sandbox() && !t_in_stack_query && this_thread_stack(bounds);
}

NANTRACK_NOINLINE ThreadUnwindState* refresh_this_thread_unwind_state() {
  ThreadUnwindState* state = t_unwind_state;
  if (!state && !(state = take_state(false))) return nullptr;
  const uint64_t generation = g_unwind_generation.load(std::memory_order_relaxed);
  if (state->generation != generation) {
    state->cache.clear();
    state->segments.clear();
    state->generation = generation;
  }
  return state;
}

void take_this_thread_unwind_state() {
  if (!t_unwind_state) take_state(true);
}

void start_thread_unwind_states(bool with_caches) {
  g_with_caches = with_caches;
  g_exit_key_ready = pthread_key_create(&g_exit_key, return_to_pool) == 0;
  this_thread_unwind_state();
}

size_t list_exited_thread_stacks(StackBounds* stacks, size_t capacity) {
  const size_t exited = std::min(g_exited_count.load(std::memory_order_acquire), kExitedStacks);
  const size_t count = std::min(exited, capacity);
  for (size_t i = 0; i < count; ++i) stacks[i] = g_exited_stacks[i];
  return count;
}

// The threads gone here were not seen to exit: their stacks are left out of
// the exited ones, and the leak scan takes them as roots (what they held at
// the fork is not the child's leak).
void reclaim_thread_unwind_states_in_child() {
  g_pool_mutex.reset_in_child();
  g_pool = nullptr;
  for (ThreadUnwindState* state = g_created.load(std::memory_order_acquire); state; state = state->next_created) {
    if (state == t_unwind_state) continue;
    state->next_in_pool = g_pool;
    g_pool = state;
  }
}

}  // namespace nantrack
