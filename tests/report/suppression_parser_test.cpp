#include "report/suppression_parser.h"

#include <chrono>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "tests/report/suppression_test_support.h"

namespace nantrack {
namespace {

using namespace nantrack::testing;

// ---- Parse errors: file and line, what was expected --------------------------

TEST(SuppressionParseErrorTest, TopLevelLines) {
  EXPECT_EQ(parse_error("leak:x\nlibfoo.so\n"),
            "suppressions file 'test.supp' line 2: expected KIND:PATTERN or a valgrind '{' block, got 'libfoo.so'");
  EXPECT_EQ(parse_error("leak:\n"), "suppressions file 'test.supp' line 1: empty pattern after 'leak:'");
  EXPECT_EQ(parse_error("leak:^$\n"), "suppressions file 'test.supp' line 1: empty pattern after 'leak:'");
  EXPECT_EQ(parse_error("interceptor_via_fun:foo\n"),
            "suppressions file 'test.supp' line 1: unknown kind 'interceptor_via_fun' (expected leak, double_free, "
            "invalid_free, mismatched_free, heap_overflow, write_after_free)");
}

TEST(SuppressionParseErrorTest, UnbalancedBraces) {
  EXPECT_EQ(parse_error("leak:x\n}\n"), "suppressions file 'test.supp' line 2: '}' without a '{' before it");
  EXPECT_EQ(parse_error("\n{\n name\n Memcheck:Leak\n fun:f\n"),
            "suppressions file 'test.supp' line 2: suppression 'name' is never closed (missing '}')");
  EXPECT_EQ(parse_error("{\n"),
            "suppressions file 'test.supp' line 1: the suppression opened here is never closed (missing '}')");
  EXPECT_EQ(parse_error("{\n one\n Memcheck:Leak\n fun:f\n{\n two\n"),
            "suppressions file 'test.supp' line 5: '{' inside the suppression opened on line 1 (missing '}'?)");
}

TEST(SuppressionParseErrorTest, BlockContents) {
  EXPECT_EQ(parse_error("{\n}\n"), "suppressions file 'test.supp' line 2: empty suppression block (no name, no type)");
  EXPECT_EQ(parse_error("{\n name\n}\n"),
            "suppressions file 'test.supp' line 3: suppression 'name' has no type line such as Memcheck:Leak");
  EXPECT_EQ(parse_error("{\n name\n Memcheck:Leek\n fun:f\n}\n"),
            "suppressions file 'test.supp' line 3: unknown suppression type 'Memcheck:Leek' in 'name' (expected "
            "Memcheck:Leak, Memcheck:Free or nantrack:KIND with KIND one of leak, double_free, invalid_free, "
            "mismatched_free, heap_overflow, write_after_free)");
  EXPECT_EQ(parse_error("{\n name\n Memchek:Leak\n fun:f\n}\n").substr(0, 80),
            "suppressions file 'test.supp' line 3: unknown suppression type 'Memchek:Leak' in");
  EXPECT_EQ(parse_error("{\n name\n nantrack:lek\n fun:f\n}\n").substr(0, 80),
            "suppressions file 'test.supp' line 3: unknown suppression type 'nantrack:lek' in");
  EXPECT_EQ(parse_error("{\n name\n Memcheck:Leak\n}\n"),
            "suppressions file 'test.supp' line 4: suppression 'name' has no fun:, obj:, src: or '...' line");
  EXPECT_EQ(parse_error("{\n name\n Memcheck:Leak\n fun:f\n function:g\n}\n"),
            "suppressions file 'test.supp' line 5: expected fun:, obj:, src: or '...' in suppression 'name', got "
            "'function:g'");
  EXPECT_EQ(parse_error("{\n name\n Memcheck:Leak\n fun:\n}\n"),
            "suppressions file 'test.supp' line 4: empty pattern in 'fun:'");
}

TEST(SuppressionParseErrorTest, MatchLeakKinds) {
  EXPECT_EQ(parse_error("{\n n\n Memcheck:Leak\n match-leak-kinds: definite,lost\n fun:f\n}\n"),
            "suppressions file 'test.supp' line 4: unknown leak kind 'lost' in match-leak-kinds (expected definite, "
            "indirect, possible, reachable, all or none)");
  EXPECT_EQ(parse_error("{\n n\n Memcheck:Free\n match-leak-kinds: definite\n fun:f\n}\n"),
            "suppressions file 'test.supp' line 4: match-leak-kinds: is only for leak suppressions");
  EXPECT_EQ(parse_error("{\n n\n Memcheck:Leak\n fun:f\n match-leak-kinds: definite\n}\n"),
            "suppressions file 'test.supp' line 5: match-leak-kinds: must come before the frame lines");
}

TEST(SuppressionParseErrorTest, MessagesStayOneShortPrintableLine) {
  const std::string message = parse_error(std::string("\x01\x02 bad\t") + std::string(500, 'x') + "\n");
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_EQ(message.find('\x01'), std::string::npos);
  EXPECT_LT(message.size(), 200u);
  EXPECT_NE(message.find("got '?? bad"), std::string::npos) << message;
}

// ---- Whatever the bytes: a rule set or one SuppressionsError -----------------

constexpr std::string_view kValidFile =
    "# comment\n"
    "leak:libfoo.so\n"
    "double_free:^Cache::drop$\n"
    "{\n   name\n   Memcheck:Leak\n   match-leak-kinds: definite\n   fun:_Znwm\n   fun:make_*\n   ...\n"
    "   obj:*/app\n   src:buf.cpp:12\n}\n"
    "{\n   other\n   Helgrind:Race\n   fun:x\n}\n"
    "{\n   free\n   nantrack:mismatched_free\n   fun:???\n}\n";

// Parses `text` and matches what it yields against a stack. Anything thrown
// but SuppressionsError escapes and fails the test.
void parse_and_match(std::string_view text) {
  try {
    const Suppressions suppressions = parsed(text);
    suppressions.match_leak(LeakKind::Definite, leak_stack());
    suppressions.match_error(error_of(ErrorKind::DoubleFree, leak_stack()));
  } catch (const SuppressionsError&) {
  }
}

TEST(SuppressionFuzzTest, RandomBytes) {
  std::mt19937 random(1234);
  const auto start = std::chrono::steady_clock::now();
  for (int round = 0; round < 3000; ++round) {
    std::string text(random() % 300, '\0');
    for (char& c : text) c = static_cast<char>(random());
    parse_and_match(text);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(SuppressionFuzzTest, MutationsOfAValidFile) {
  ASSERT_NO_THROW(parsed(kValidFile));
  constexpr std::string_view kInteresting = "{}:*?.\n#^$,_Z0123456789 ";
  std::mt19937 random(99);
  for (int round = 0; round < 20000; ++round) {
    std::string text(kValidFile);
    for (int edits = 1 + random() % 4; edits > 0; --edits) {
      const size_t at = random() % text.size();
      switch (random() % 4) {
        case 0: text[at] = kInteresting[random() % kInteresting.size()]; break;
        case 1: text.erase(at, 1 + random() % 8); break;
        case 2: text.insert(at, std::string(1 + random() % 3, kInteresting[random() % kInteresting.size()])); break;
        case 3: text.resize(at); break;
      }
      if (text.empty()) text = "x";
    }
    parse_and_match(text);
  }
}

TEST(SuppressionFuzzTest, ManyDotsAndStarsAgainstADeepStackStayFast) {
  std::string frames;
  for (int i = 0; i < 60; ++i) frames += "...\nfun:*\n";
  frames += "fun:nothing_like_this\n";
  SourceStack deep(256, frame("f()"));
  const Suppressions suppressions = parsed(memcheck_leak(frames));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(suppressions.match_leak(LeakKind::Definite, deep), nullptr);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

}  // namespace
}  // namespace nantrack
