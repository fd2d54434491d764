#include "tracker/stack_depot.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace nantrack {
namespace {

class StackDepotTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(depot.init(size_t{64} << 20)); }
  void TearDown() override { depot.release(); }
  StackDepot depot;
};

TEST_F(StackDepotTest, IdenticalStacksShareOneId) {
  uintptr_t a[] = {0x1000, 0x2000, 0x3000};
  uintptr_t same[] = {0x1000, 0x2000, 0x3000};
  StackId first = depot.intern(a, 3);
  EXPECT_NE(first, kNoStack);
  EXPECT_EQ(depot.intern(same, 3), first);
  EXPECT_EQ(depot.stack_count(), 1u);
}

TEST_F(StackDepotTest, OrderDepthAndContentMakeStacksDistinct) {
  uintptr_t a[] = {0x1000, 0x2000, 0x3000};
  uintptr_t reversed[] = {0x3000, 0x2000, 0x1000};
  StackId full = depot.intern(a, 3);
  StackId shorter = depot.intern(a, 2);
  StackId other = depot.intern(reversed, 3);
  EXPECT_NE(full, shorter);
  EXPECT_NE(full, other);
  EXPECT_NE(shorter, other);
  EXPECT_EQ(depot.stack_count(), 3u);
}

TEST_F(StackDepotTest, GetReturnsTheInternedFrames) {
  std::vector<uintptr_t> frames;
  for (uintptr_t i = 0; i < 64; ++i) frames.push_back(0x400000 + i * 16);
  StackId id = depot.intern(frames.data(), 64);
  StackView view = depot.get(id);
  ASSERT_EQ(view.depth, 64u);
  EXPECT_EQ(std::vector<uintptr_t>(view.pcs, view.pcs + view.depth), frames);
}

TEST_F(StackDepotTest, EmptyStackAndUnknownIdsAreNoStack) {
  EXPECT_EQ(depot.intern(nullptr, 0), kNoStack);
  EXPECT_EQ(depot.get(kNoStack).depth, 0u);
  EXPECT_EQ(depot.get(123456).depth, 0u);  // beyond what was handed out
}

TEST_F(StackDepotTest, ConcurrentInternsAgreeOnIds) {
  // Four threads intern the same 2,000 stacks in different orders: every
  // stack must end up with exactly one id, whichever thread won.
  constexpr int kStacks = 2000;
  std::vector<std::vector<StackId>> ids(4, std::vector<StackId>(kStacks));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; n < kStacks; ++n) {
        int i = (t % 2) ? kStacks - 1 - n : n;
        uintptr_t frames[] = {uintptr_t(i) * 8 + 8, 0xabc, uintptr_t(i) + 1};
        ids[t][i] = depot.intern(frames, 3);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<StackId> distinct;
  for (int i = 0; i < kStacks; ++i) {
    for (int t = 1; t < 4; ++t) ASSERT_EQ(ids[t][i], ids[0][i]) << "stack " << i;
    distinct.insert(ids[0][i]);
  }
  EXPECT_EQ(distinct.size(), size_t{kStacks});
  EXPECT_EQ(depot.stack_count(), size_t{kStacks});
}

TEST(StackDepotLimits, ExhaustedDepotReturnsNoStackInsteadOfCrashing) {
  StackDepot small;
  ASSERT_TRUE(small.init(size_t{8} << 20));
  std::vector<uintptr_t> frames(200);
  StackId last = 1;
  int stored = 0;
  for (uintptr_t i = 0; i < 20000 && last != kNoStack; ++i) {
    frames[0] = i + 1;
    last = small.intern(frames.data(), 200);
    if (last != kNoStack) ++stored;
  }
  EXPECT_EQ(last, kNoStack);
  EXPECT_GT(stored, 1000);
  small.release();
}

}  // namespace
}  // namespace nantrack
