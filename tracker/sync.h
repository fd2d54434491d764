// Locks for the tracker. pthread mutexes are futex-backed (a waiter sleeps
// instead of spinning for long, which matters on a 2-core machine), never
// allocate, and can be constant-initialised, so they work before any
// constructor. They are glibc's adaptive kind: a waiter spins a bounded
// number of rounds first. The tracker holds a lock for ~100-200 ns (a
// table lookup, a quarantine step), far less than a futex sleep and wake
// (several microseconds and two context switches): with two threads
// freeing at once, the plain kind put ~15% of the time in futex calls.
#pragma once

#include <pthread.h>

namespace nantrack {

class Mutex {
 public:
  constexpr Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() { pthread_mutex_lock(&mutex_); }
  void unlock() { pthread_mutex_unlock(&mutex_); }
  bool try_lock() { return pthread_mutex_trylock(&mutex_) == 0; }
  // After fork() the child's copy may be held by a thread that no longer
  // exists; the atfork handlers hold every lock across fork, so the child
  // can simply start from a fresh mutex.
  void reset_in_child() { mutex_ = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP; }

 private:
  pthread_mutex_t mutex_ = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
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
