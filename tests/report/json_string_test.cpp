#include "report/json_string.h"

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace nantrack {
namespace {

std::string as_json(std::string_view text) {
  std::string out = "prefix:";
  append_json_string(out, text);
  return out;
}

TEST(JsonStringTest, PlainTextIsQuoted) {
  EXPECT_EQ(as_json("main"), "prefix:\"main\"");
  EXPECT_EQ(as_json(""), "prefix:\"\"");
}

TEST(JsonStringTest, QuotesBackslashesAndControlCharactersAreEscaped) {
  EXPECT_EQ(as_json("say \"hi\" \\ bye"), R"(prefix:"say \"hi\" \\ bye")");
  EXPECT_EQ(as_json("a\nb\tc\rd\be\ff"), R"(prefix:"a\nb\tc\rd\be\ff")");
  EXPECT_EQ(as_json(std::string("\x01\x1f\0x", 4)), R"(prefix:"\u0001\u001f\u0000x")");
}

TEST(JsonStringTest, WellFormedUtf8IsKept) {
  EXPECT_EQ(as_json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\xa6\x86"),
            "prefix:\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\xa6\x86\"");
}

TEST(JsonStringTest, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(as_json("a\xff"
                    "b"),
            R"(prefix:"a\ufffdb")");
  EXPECT_EQ(as_json("\xc0\x80"), R"(prefix:"\ufffd\ufffd")") << "overlong";
  EXPECT_EQ(as_json("\xed\xa0\x80"), R"(prefix:"\ufffd\ufffd\ufffd")") << "surrogate";
  EXPECT_EQ(as_json("\xf4\x90\x80\x80"), R"(prefix:"\ufffd\ufffd\ufffd\ufffd")") << "past U+10FFFF";
  EXPECT_EQ(as_json("\xe2\x82"), R"(prefix:"\ufffd\ufffd")") << "cut short";
}

TEST(JsonStringTest, EveryByteStringGivesValidJson) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  all += all;
  std::string out;
  append_json_string(out, all);
  ASSERT_NO_THROW(nlohmann::json::parse(out));
  EXPECT_EQ(nlohmann::json::parse(out).get<std::string>().substr(0, 128), all.substr(0, 128));
}

}  // namespace
}  // namespace nantrack
