// Locks for the tracker. pthread mutexes are futex-backed (a waiter sleeps
// instead of spinning, which matters on a 2-core machine), never allocate,
// and can be constant-initialised, so they work before any constructor.
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
  void reset_in_child() { mutex_ = PTHREAD_MUTEX_INITIALIZER; }

 private:
  pthread_mutex_t mutex_ = PTHREAD_MUTEX_INITIALIZER;
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
