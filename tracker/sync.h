// The tracker's lock: one per shard, taken on every malloc and free.
//
// A futex word in three states (Drepper, "Futexes Are Tricky", mutex 3):
// 0 free, 1 held, 2 held with a sleeper possible. Taking a free lock is
// one compare-exchange and releasing it one exchange, inline; glibc's
// pthread mutex spent ~65 instructions a pair in two calls that dispatch
// on the mutex kind (churn: 4% of all instructions). A waiter first
// spins for a while, since the tracker holds a lock for ~100-200 ns (a
// table lookup, a quarantine step), far less than a futex sleep and wake
// (several microseconds and two context switches); then it sleeps in the
// kernel, which matters on a 2-core machine where the holder may be
// preempted. Never allocates, constant-initialised: usable before any
// constructor.
//
// It also knows whether this thread holds it (a store beside the word on
// each lock and unlock): a signal handler that interrupted this thread
// inside one of our calls, and ends the process or forks, must not wait
// for a lock that call holds; it would wait for ever.
#pragma once

#include <atomic>
#include <cstdint>

#include "tracker/platform.h"

namespace nantrack {

class Mutex {
 public:
  constexpr Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  NANTRACK_ALWAYS_INLINE void lock() {
    if (!try_lock()) [[unlikely]]
      lock_contended();
  }
  NANTRACK_ALWAYS_INLINE void unlock() {
    owner_.store(0, std::memory_order_relaxed);
    if (state_.exchange(kFree, std::memory_order_release) == kContended) [[unlikely]]
      wake_one();
  }
  NANTRACK_ALWAYS_INLINE bool try_lock() {
    uint32_t expected = kFree;
    if (!state_.compare_exchange_strong(expected, kHeld, std::memory_order_acquire, std::memory_order_relaxed))
      return false;
    owner_.store(this_thread(), std::memory_order_relaxed);
    return true;
  }
  // Whether this thread holds it. Exact for this thread: only it stores
  // its own mark, and clears it before it lets go.
  bool held_here() const { return owner_.load(std::memory_order_relaxed) == this_thread(); }
  // Locks it unless this thread holds it already (false then): for a
  // signal handler that interrupted a call of ours on this thread.
  bool lock_unless_held_here() {
    if (held_here()) return false;
    lock();
    return true;
  }
  // The same, but waits 100 ms at most (another thread holds one of ours
  // for far less): for a fatal signal, which may leave anything held.
  bool lock_patiently();
  // After fork() the child's copy may be held by a thread that no longer
  // exists; the atfork handlers hold every lock across fork, so the child
  // can simply start from a free one.
  void reset_in_child() {
    owner_.store(0, std::memory_order_relaxed);
    state_.store(kFree, std::memory_order_relaxed);
  }

 private:
  static constexpr uint32_t kFree = 0, kHeld = 1, kContended = 2;
  NANTRACK_NOINLINE void lock_contended();
  NANTRACK_NOINLINE void wake_one();
  // A mark unique to the running thread: the address of a thread-local.
  static uintptr_t this_thread() { return reinterpret_cast<uintptr_t>(&t_mark); }
  static NANTRACK_TLS char t_mark;

  std::atomic<uint32_t> state_{kFree};
  std::atomic<uintptr_t> owner_{0};
};

class LockGuard {
 public:
  explicit LockGuard(Mutex& mutex) : mutex_(mutex) { mutex_.lock(); }
  ~LockGuard() { mutex_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  Mutex& mutex_;
};

}  // namespace nantrack
