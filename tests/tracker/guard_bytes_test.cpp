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

TEST(GuardBytesTest, HoldsPatternSeesEveryChangedByteAtEverySize) {
  // Sizes around the 16- and 64-byte steps and the overlapping tail load,
  // at every offset a change can have, from an unaligned start.
  alignas(16) unsigned char storage[8192 + 1];
  for (size_t size : {0, 1, 7, 15, 16, 17, 31, 33, 63, 64, 65, 100, 127, 129, 255, 4095, 4096, 4097, 8192}) {
    unsigned char* bytes = storage + 1;
    std::memset(bytes, 0xdd, size);
    ASSERT_TRUE(holds_pattern(bytes, size, 0xdd)) << size;
    EXPECT_EQ(holds_pattern(bytes, size, 0xfa), size == 0) << size;
    for (size_t at = 0; at < size; ++at) {
      bytes[at] = 0xdc;
      ASSERT_FALSE(holds_pattern(bytes, size, 0xdd)) << size << " at " << at;
      bytes[at] = 0xdd;
    }
  }
  // Bytes just outside the range are not its business.
  std::memset(storage, 0, sizeof(storage));
  std::memset(storage + 1, 0xdd, 100);
  EXPECT_TRUE(holds_pattern(storage + 1, 100, 0xdd));
}

TEST(GuardBytesTest, FillPatternWritesExactlyTheRange) {
  for (size_t size : {0, 1, 15, 16, 17, 48}) {
    unsigned char bytes[64];
    std::memset(bytes, 0, sizeof(bytes));
    fill_pattern(bytes + 3, size, kRedzonePattern);
    EXPECT_EQ(bytes[2], 0);
    EXPECT_EQ(bytes[3 + size], 0);
    EXPECT_TRUE(holds_pattern(bytes + 3, size, kRedzonePattern));
  }
}

}  // namespace
}  // namespace nantrack
