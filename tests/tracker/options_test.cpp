#include "tracker/options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nantrack {
namespace {

std::vector<std::string> g_messages;
void collect(const char* message) { g_messages.emplace_back(message); }

class OptionsTest : public ::testing::Test {
 protected:
  void SetUp() override { g_messages.clear(); }
  int parse(const char* text) { return parse_options(text, options, collect); }
  Options options;
};

TEST_F(OptionsTest, DefaultsMatchTheDocumentedOnes) {
  EXPECT_STREQ(options.output_dir.text, ".");
  EXPECT_EQ(options.stack_depth, 64);
  EXPECT_EQ(options.quarantine_bytes, uint64_t{16} << 20);
  EXPECT_EQ(options.quarantine_blocks, 65536);
  EXPECT_FALSE(options.abort_on_error);
  EXPECT_TRUE(options.follow_children);
}

TEST_F(OptionsTest, ParsesEveryType) {
  EXPECT_EQ(parse("output_dir=/tmp/x:stack_depth=12:quarantine_bytes=4m:abort_on_error=1:follow_children=no"), 0);
  EXPECT_STREQ(options.output_dir.text, "/tmp/x");
  EXPECT_EQ(options.stack_depth, 12);
  EXPECT_EQ(options.quarantine_bytes, uint64_t{4} << 20);
  EXPECT_TRUE(options.abort_on_error);
  EXPECT_FALSE(options.follow_children);
  EXPECT_TRUE(g_messages.empty());
}

TEST_F(OptionsTest, EmptyAndMissingTextsChangeNothing) {
  EXPECT_EQ(parse(nullptr), 0);
  EXPECT_EQ(parse(""), 0);
  EXPECT_EQ(parse("::"), 0);
  EXPECT_EQ(options.stack_depth, 64);
}

TEST_F(OptionsTest, UnknownKeyIsReportedAndTheRestStillApplies) {
  EXPECT_EQ(parse("stak_depth=3:stack_depth=5"), 1);
  EXPECT_EQ(options.stack_depth, 5);
  ASSERT_EQ(g_messages.size(), 1u);
  EXPECT_NE(g_messages[0].find("unknown option 'stak_depth'"), std::string::npos) << g_messages[0];
}

TEST_F(OptionsTest, BadValuesKeepTheDefaultWithAClearMessage) {
  EXPECT_EQ(parse("stack_depth=0:quarantine_bytes=lots:abort_on_error=maybe:stack_depth"), 4);
  EXPECT_EQ(options.stack_depth, 64);
  EXPECT_EQ(options.quarantine_bytes, uint64_t{16} << 20);
  EXPECT_FALSE(options.abort_on_error);
  ASSERT_EQ(g_messages.size(), 4u);
  EXPECT_NE(g_messages[0].find("outside 1..256"), std::string::npos) << g_messages[0];
  EXPECT_NE(g_messages[1].find("expected a size"), std::string::npos) << g_messages[1];
  EXPECT_NE(g_messages[2].find("expected 0 or 1"), std::string::npos) << g_messages[2];
  EXPECT_NE(g_messages[3].find("not key=value"), std::string::npos) << g_messages[3];
}

TEST_F(OptionsTest, OverflowingNumbersAreRejected) {
  EXPECT_EQ(parse("quarantine_bytes=99999999999999999999999"), 1);
  EXPECT_EQ(parse("quarantine_bytes=99999999999999g"), 1);
  EXPECT_EQ(options.quarantine_bytes, uint64_t{16} << 20);
}

TEST_F(OptionsTest, OverlongPathIsRejected) {
  std::string text = "output_dir=" + std::string(PATH_MAX + 10, 'a');
  EXPECT_EQ(parse(text.c_str()), 1);
  EXPECT_STREQ(options.output_dir.text, ".");
}

TEST(OptionsHelpTest, HelpListsEveryOptionWithItsDefault) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  print_options_help(fds[1]);
  close(fds[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof(buffer))) > 0;) text.append(buffer, n);
  close(fds[0]);
#define NANTRACK_OPTION(type, name, default_value, min, max, help) \
  EXPECT_NE(text.find("  " #name "="), std::string::npos) << #name;
#include "tracker/options.def"
#undef NANTRACK_OPTION
  EXPECT_NE(text.find("stack_depth=64"), std::string::npos);
  EXPECT_NE(text.find("quarantine_bytes=16777216"), std::string::npos);
}

// A value in quotes may hold ':', the separator (a path with one). A quote
// that does not end its value is one problem: with no closing quote the
// rest of the text is that item; with text after it, the next ':' ends it.
TEST_F(OptionsTest, QuotedValuesMayHoldColons) {
  EXPECT_EQ(parse("output_dir=\"/tmp/a:b\":stack_depth=9"), 0);
  EXPECT_STREQ(options.output_dir.text, "/tmp/a:b");
  EXPECT_EQ(options.stack_depth, 9);
  EXPECT_EQ(parse("output_dir='/x:y:z'"), 0);
  EXPECT_STREQ(options.output_dir.text, "/x:y:z");
  EXPECT_EQ(parse("output_dir=\"/open:stack_depth=5"), 1);
  EXPECT_STREQ(options.output_dir.text, "/x:y:z");
  EXPECT_EQ(parse("output_dir=\"/q\"x:stack_depth=7"), 1);
  EXPECT_EQ(options.stack_depth, 7);
  ASSERT_FALSE(g_messages.empty());
  EXPECT_NE(g_messages.back().find("quote"), std::string::npos) << g_messages.back();
}

}  // namespace
}  // namespace nantrack
