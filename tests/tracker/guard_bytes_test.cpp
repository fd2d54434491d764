#include "tracker/guard_bytes.h"

#include <gtest/gtest.h>

#include <cstring>

namespace nantrack {
namespace {

TEST(GuardBytesTest, FrontRedzoneKeepsEveryAlignment) {
  RedzoneLayout layout(16);
  EXPECT_EQ(layout.front(RedzoneLayout::alignment_log2(16)), 16u);
  EXPECT_EQ(layout.front(RedzoneLayout::alignment_log2(64)), 64u);
  EXPECT_EQ(layout.front(RedzoneLayout::alignment_log2(4096)), 4096u);
  EXPECT_EQ(layout.back(), 16u);
  // A redzone that is no multiple of the alignment is rounded up to one.
  RedzoneLayout odd(48);
  EXPECT_EQ(odd.front(RedzoneLayout::alignment_log2(32)), 64u);
  EXPECT_EQ(odd.front(RedzoneLayout::alignment_log2(16)), 48u);
  EXPECT_EQ(odd.back(), 48u);
}

TEST(GuardBytesTest, AlignmentLog2IsAtLeastMallocs) {
  EXPECT_EQ(RedzoneLayout::alignment_log2(0), 4);
  EXPECT_EQ(RedzoneLayout::alignment_log2(8), 4);
  EXPECT_EQ(RedzoneLayout::alignment_log2(16), 4);
  EXPECT_EQ(RedzoneLayout::alignment_log2(48), 6);  // memalign rounds up to a power of two
  EXPECT_EQ(RedzoneLayout::alignment_log2(size_t{1} << 40), 40);
}

TEST(GuardBytesTest, OffMeansNoBytesAtAll) {
  RedzoneLayout off(0);
  EXPECT_FALSE(off.enabled());
  EXPECT_EQ(off.front(RedzoneLayout::alignment_log2(4096)), 0u);
  EXPECT_EQ(off.back(), 0u);
}

TEST(GuardBytesTest, FindDamageCountsChangedBytes) {
  unsigned char bytes[40];
  std::memset(bytes, kRedzonePattern, sizeof(bytes));
  EXPECT_EQ(find_damage(bytes, sizeof(bytes), kRedzonePattern).bytes_changed, 0u);
  bytes[3] = 0;
  bytes[17] = 1;
  bytes[39] = 2;
  Damage damage = find_damage(bytes, sizeof(bytes), kRedzonePattern);
  EXPECT_EQ(damage.bytes_changed, 3u);
  EXPECT_EQ(damage.first_offset, 3u);
  EXPECT_EQ(damage.last_offset, 39u);
  EXPECT_EQ(find_damage(bytes, 0, kRedzonePattern).bytes_changed, 0u);
}

}  // namespace
}  // namespace nantrack
