#include "tracker/sync.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>
#include <vector>

namespace nantrack {
namespace {

// Four threads on two cores fight for one lock far longer than a waiter
// spins, so some of them sleep in the kernel and must be woken: an
// increment lost or a thread never woken fails (or hangs) the test.
// And a malloc or free that waited for a shard must leave errno as the
// program set it: a waiter's futex wait fails with EAGAIN whenever the
// holder released the lock just before it, hundreds of times here, each a
// changed errno if the lock did not restore it.
TEST(MutexTest, ContendedIncrementsAreNeitherLostNorStuckAndKeepErrno) {
  Mutex mutex;
  uint64_t counter = 0;
  constexpr int kThreads = 4, kIncrements = 200000;
  std::atomic<int> errno_changed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIncrements; ++i) {
        errno = EDOM + t;
        {
          LockGuard guard(mutex);
          // A read-modify-write with a window a lost exclusion would show in.
          uint64_t seen = counter;
          if (i % 1024 == 0) std::this_thread::yield();
          counter = seen + 1;
        }
        if (errno != EDOM + t) errno_changed.fetch_add(1, std::memory_order_relaxed);
      }
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter, uint64_t{kThreads} * kIncrements);
  EXPECT_EQ(errno_changed.load(), 0);
}

// A waiter that gave up spinning and slept in the kernel gets the lock
// when it is released, errno as it was.
TEST(MutexTest, AWaiterThatSleptGetsTheLock) {
  Mutex mutex;
  mutex.lock();
  int errno_after = 0;
  bool got_lock = false;
  std::thread waiter([&] {
    errno = EDOM;
    mutex.lock();
    got_lock = true;
    errno_after = errno;
    mutex.unlock();
  });
  // Long enough for the waiter to give up spinning and sleep.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  mutex.unlock();
  waiter.join();
  EXPECT_TRUE(got_lock);
  EXPECT_EQ(errno_after, EDOM);
}

TEST(MutexTest, TryLockFailsOnlyWhileHeld) {
  Mutex mutex;
  ASSERT_TRUE(mutex.try_lock());
  bool second = true;
  std::thread([&] { second = mutex.try_lock(); }).join();
  EXPECT_FALSE(second);
  mutex.unlock();
  EXPECT_TRUE(mutex.try_lock());
  mutex.unlock();
}

TEST(MutexTest, AResetLockIsFreeAgain) {
  Mutex mutex;
  mutex.lock();
  mutex.reset_in_child();
  EXPECT_TRUE(mutex.try_lock());
  mutex.unlock();
}

}  // namespace
}  // namespace nantrack
