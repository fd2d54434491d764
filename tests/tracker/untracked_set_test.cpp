#include "tracker/untracked_set.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace nantrack {
namespace {

TEST(UntrackedSetTest, InsertContainsRemove) {
  UntrackedSet set;
  ASSERT_TRUE(set.init(1024));
  EXPECT_TRUE(set.insert(0x1000));
  EXPECT_TRUE(set.contains(0x1000));
  EXPECT_FALSE(set.contains(0x1010));
  EXPECT_TRUE(set.remove(0x1000));
  EXPECT_FALSE(set.remove(0x1000));
  EXPECT_FALSE(set.contains(0x1000));
}

TEST(UntrackedSetTest, RemovedSlotsAreReusedSoChurnNeverFillsIt) {
  UntrackedSet set;
  ASSERT_TRUE(set.init(64));
  for (uintptr_t i = 1; i <= 100000; ++i) {
    ASSERT_TRUE(set.insert(i * 16));
    ASSERT_TRUE(set.remove(i * 16));
  }
  EXPECT_TRUE(set.insert(0x42));
  EXPECT_TRUE(set.contains(0x42));
}

TEST(UntrackedSetTest, FullSetRefusesInsteadOfLooping) {
  UntrackedSet set;
  ASSERT_TRUE(set.init(16));
  for (uintptr_t i = 1; i <= 16; ++i) ASSERT_TRUE(set.insert(i * 16));
  EXPECT_FALSE(set.insert(0x9990));
  EXPECT_FALSE(set.contains(0x9990));
}

TEST(UntrackedSetTest, ConcurrentInsertAndRemoveLoseNothing) {
  UntrackedSet set;
  ASSERT_TRUE(set.init(1 << 16));
  std::vector<std::thread> threads;
  for (uintptr_t t = 0; t < 4; ++t) {
    threads.emplace_back([&set, t] {
      for (uintptr_t i = 1; i <= 20000; ++i) {
        uintptr_t address = (t << 40) | (i * 16);
        ASSERT_TRUE(set.insert(address));
        if (i % 2) {
          ASSERT_TRUE(set.remove(address));
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (uintptr_t t = 0; t < 4; ++t)
    for (uintptr_t i = 1; i <= 20000; ++i) ASSERT_EQ(set.contains((t << 40) | (i * 16)), i % 2 == 0);
}

}  // namespace
}  // namespace nantrack
