#include "tracker/quarantine.h"

#include <gtest/gtest.h>

namespace nantrack {
namespace {

TEST(QuarantineTest, EvictsOldestFirstWhenOverTheByteLimit) {
  Quarantine q;
  ASSERT_TRUE(q.configure(100, 1000));
  q.push(0x1, 40);
  q.push(0x2, 40);
  EXPECT_FALSE(q.over_limit());
  q.push(0x3, 40);
  ASSERT_TRUE(q.over_limit());
  Quarantine::Entry oldest = q.pop_oldest();
  EXPECT_EQ(oldest.address, 0x1u);
  EXPECT_EQ(oldest.size, 40u);
  EXPECT_FALSE(q.over_limit());
  EXPECT_EQ(q.bytes(), 80u);
  q.release();
}

TEST(QuarantineTest, EvictsWhenOverTheBlockLimit) {
  Quarantine q;
  ASSERT_TRUE(q.configure(1 << 20, 3));
  for (uintptr_t a = 1; a <= 3; ++a) q.push(a, 1);
  EXPECT_FALSE(q.over_limit());
  q.push(4, 1);
  ASSERT_TRUE(q.over_limit());
  EXPECT_EQ(q.pop_oldest().address, 1u);
  EXPECT_EQ(q.count(), 3u);
  q.release();
}

TEST(QuarantineTest, RingWrapsAroundManyTimes) {
  Quarantine q;
  ASSERT_TRUE(q.configure(1 << 30, 5));
  uintptr_t next_out = 1;
  for (uintptr_t a = 1; a <= 10000; ++a) {
    q.push(a, 8);
    while (q.over_limit()) ASSERT_EQ(q.pop_oldest().address, next_out++);
  }
  EXPECT_EQ(q.count(), 5u);
  EXPECT_EQ(next_out, 9996u);
  q.release();
}

TEST(QuarantineTest, ZeroLimitsTurnItOffAndHugeBlocksAreRefused) {
  Quarantine off;
  ASSERT_TRUE(off.configure(0, 100));
  EXPECT_FALSE(off.enabled());
  EXPECT_FALSE(off.accepts(1));
  Quarantine on;
  ASSERT_TRUE(on.configure(1000, 10));
  EXPECT_TRUE(on.accepts(1000));
  EXPECT_FALSE(on.accepts(1001));
  on.release();
}

}  // namespace
}  // namespace nantrack
