#include "report/glob.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace nantrack {
namespace {

TEST(GlobTest, LiteralPatternsMatchOnlyTheWholeText) {
  EXPECT_TRUE(glob_match("malloc", "malloc"));
  EXPECT_FALSE(glob_match("malloc", "malloc2"));
  EXPECT_FALSE(glob_match("malloc", "xmalloc"));
  EXPECT_TRUE(glob_match("", ""));
  EXPECT_FALSE(glob_match("", "a"));
}

TEST(GlobTest, StarMatchesAnyRunAlsoEmpty) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("*", "anything at all"));
  EXPECT_TRUE(glob_match("lib*.so", "libfoo.so"));
  EXPECT_TRUE(glob_match("lib*.so", "lib.so"));
  EXPECT_FALSE(glob_match("lib*.so", "libfoo.so.6"));
  EXPECT_TRUE(glob_match("*/libc.so*", "/lib/x86_64-linux-gnu/libc.so.6"));
  EXPECT_TRUE(glob_match("a*b*c", "a-b-b-c"));
  EXPECT_FALSE(glob_match("a*b*c", "a-c-b"));
  EXPECT_TRUE(glob_match("**x", "x"));
}

TEST(GlobTest, QuestionMarkMatchesExactlyOneCharacter) {
  EXPECT_TRUE(glob_match("Value?", "Value8"));
  EXPECT_FALSE(glob_match("Value?", "Value16"));
  EXPECT_FALSE(glob_match("?", ""));
  EXPECT_TRUE(glob_match("???", "abc"));
}

TEST(GlobTest, OtherCharactersAreLiteral) {
  EXPECT_TRUE(glob_match("operator new[](unsigned long)", "operator new[](unsigned long)"));
  EXPECT_FALSE(glob_match("operator new[](unsigned long)", "operator new(unsigned long)"));
  EXPECT_TRUE(glob_match("^main$", "^main$"));
}

TEST(GlobTest, ManyStarsAgainstALongTextStayFast) {
  const std::string text(100'000, 'a');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*a*b", text));
  EXPECT_TRUE(glob_match("*a*a*a*a*a*a*a*a*", text));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

}  // namespace
}  // namespace nantrack
