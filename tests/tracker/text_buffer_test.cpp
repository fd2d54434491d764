#include "tracker/text_buffer.h"

#include <gtest/gtest.h>

namespace nantrack {
namespace {

TEST(TextBufferTest, FormatsNumbers) {
  InlineText<128> text;
  text << "n=" << uint64_t{0} << ' ' << int64_t{-42} << ' ';
  text.hex(0x5581a2c0) << ' ';
  text.grouped(3072) << ' ';
  text.grouped(1234567) << ' ';
  text.grouped(999);
  EXPECT_EQ(text.view(), "n=0 -42 0x5581a2c0 3,072 1,234,567 999");
}

TEST(TextBufferTest, TruncatesInsteadOfOverflowing) {
  InlineText<8> text;
  text << "0123456789";
  EXPECT_EQ(text.view(), "0123456");
  EXPECT_TRUE(text.truncated());
  EXPECT_STREQ(text.c_str(), "0123456");
}

}  // namespace
}  // namespace nantrack
