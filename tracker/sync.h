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
    if (state_.exchange(kFree, std::memory_order_release) == kContended) [[unlikely]]
      wake_one();
  }
  NANTRACK_ALWAYS_INLINE bool try_lock() {
    uint32_t expected = kFree;
    return state_.compare_exchange_strong(expected, kHeld, std::memory_order_acquire, std::memory_order_relaxed);
  }
  // After fork() the child's copy may be held by a thread that no longer
  // exists; the atfork handlers hold every lock across fork, so the child
  // can simply start from a free one.
  void reset_in_child() { state_.store(kFree, std::memory_order_relaxed); }

 private:
  static constexpr uint32_t kFree = 0, kHeld = 1, kContended = 2;
  NANTRACK_NOINLINE void lock_contended();
  NANTRACK_NOINLINE void wake_one();

  std::atomic<uint32_t> state_{kFree};
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
