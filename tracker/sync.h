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
// It also knows whether this thread holds it: a signal handler that
// interrupted this thread inside one of our calls, and ends the process or
// forks, must not wait for a lock that call holds; it would wait for ever.
// The holder's id sits in the word's upper 30 bits, set by the same
// compare-exchange that takes the lock: a mark stored beside the word
// left a window (the signal landing between the two stores) in which the
// lock was held by nobody this thread could see.
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
    if ((word_.exchange(kFree, std::memory_order_release) & kStateMask) == kContended) [[unlikely]]
      wake_one();
  }
  NANTRACK_ALWAYS_INLINE bool try_lock() {
    uint32_t expected = kFree;
    return word_.compare_exchange_strong(expected, this_thread() | kHeld, std::memory_order_acquire,
                                         std::memory_order_relaxed);
  }
  // Whether this thread holds it.
  bool held_here() const {
    const uint32_t word = word_.load(std::memory_order_relaxed);
    return word != kFree && (word & ~kStateMask) == this_thread();
  }
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
  void reset_in_child() { word_.store(kFree, std::memory_order_relaxed); }

 private:
  // The word: holder id << 2 | state; 0 when free.
  static constexpr uint32_t kFree = 0, kHeld = 1, kContended = 2, kStateMask = 3;
  NANTRACK_NOINLINE void lock_contended();
  NANTRACK_NOINLINE void wake_one();
  // This thread's id, shifted into place: numbered on first use from 1 (a
  // billion threads before two could share one).
  static uint32_t this_thread() {
    if (!t_id) [[unlikely]]
      t_id = next_id();
    return t_id;
  }
  static uint32_t next_id();
  static NANTRACK_TLS uint32_t t_id;

  std::atomic<uint32_t> word_{kFree};
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
