#include "report/suppressions.h"

#include <chrono>
#include <random>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "report/default_suppressions.h"
#include "tests/report/trace_builder.h"

namespace nantrack {
namespace {

constexpr const char* kApp = "/home/dev/app/build/app";
constexpr const char* kLibc = "/lib/x86_64-linux-gnu/libc.so.6";
constexpr const char* kLoader = "/lib64/ld-linux-x86-64.so.2";

SourceFrame frame(std::string function, std::string file = {}, int line = 0, std::string module = kApp) {
  return {.address = 0x1000, .function = std::move(function), .file = std::move(file), .line = line,
          .module = std::move(module)};
}

// make_buffer() <- load() (inlined) <- main() <- libc.
SourceStack leak_stack() {
  SourceStack stack = {frame("make_buffer(unsigned long)", "/home/dev/app/src/buf.cpp", 12),
                       frame("load()", "/home/dev/app/src/load.cpp", 7), frame("main", "/home/dev/app/src/main.cpp", 20),
                       frame("__libc_start_call_main", "", 0, kLibc)};
  stack[1].inlined = true;
  return stack;
}

Suppressions parsed(std::string_view text) {
  Suppressions suppressions;
  suppressions.add_text(text, "test.supp");
  return suppressions;
}

// The message a file's parse fails with, or "parsed" when it does not.
std::string parse_error(std::string_view text) {
  try {
    parsed(text);
  } catch (const SuppressionsError& error) {
    return error.what();
  }
  return "parsed";
}

bool hides_leak(std::string_view text, const SourceStack& stack, LeakKind kind = LeakKind::Definite) {
  return parsed(text).match_leak(kind, stack) != nullptr;
}

ErrorFinding error_of(ErrorKind kind, SourceStack stack, SourceStack alloc_stack = {}) {
  return {.event = {.kind = kind}, .stack = std::move(stack), .alloc_stack = std::move(alloc_stack)};
}

bool hides_error(std::string_view text, const ErrorFinding& error) { return parsed(text).match_error(error) != nullptr; }

// ---- LeakSanitizer dialect ---------------------------------------------------

TEST(LeakSanitizerSuppressionTest, PatternIsASubstringOfAnyFramesFunctionFileOrModule) {
  EXPECT_TRUE(hides_leak("leak:make_buffer", leak_stack()));
  EXPECT_TRUE(hides_leak("leak:buffer", leak_stack()));
  EXPECT_TRUE(hides_leak("leak:load", leak_stack())) << "an inlined frame counts like any other";
  EXPECT_TRUE(hides_leak("leak:main", leak_stack())) << "any frame, not only the innermost";
  EXPECT_TRUE(hides_leak("leak:src/load.cpp", leak_stack()));
  EXPECT_TRUE(hides_leak("leak:libc.so", leak_stack()));
  EXPECT_TRUE(hides_leak("leak:/home/dev/app/build/", leak_stack()));
  EXPECT_FALSE(hides_leak("leak:Cache", leak_stack()));
}

TEST(LeakSanitizerSuppressionTest, CaretAndDollarAnchorThePattern) {
  EXPECT_TRUE(hides_leak("leak:^make_", leak_stack()));
  EXPECT_FALSE(hides_leak("leak:^buffer", leak_stack()));
  EXPECT_TRUE(hides_leak("leak:^make_buffer$", leak_stack())) << "the name without its parameters";
  EXPECT_TRUE(hides_leak("leak:^make_buffer(unsigned long)$", leak_stack()));
  EXPECT_FALSE(hides_leak("leak:^make$", leak_stack()));
  EXPECT_TRUE(hides_leak("leak:^libc.so.6$", leak_stack())) << "the module's file name";
  EXPECT_TRUE(hides_leak("leak:buf.cpp$", leak_stack()));
}

TEST(LeakSanitizerSuppressionTest, WildcardsInsideThePattern) {
  EXPECT_TRUE(hides_leak("leak:make_*(unsigned*)", leak_stack()));
  EXPECT_TRUE(hides_leak("leak:^ma?e_buffer", leak_stack()));
  EXPECT_FALSE(hides_leak("leak:^ma?_buffer", leak_stack()));
}

TEST(LeakSanitizerSuppressionTest, KindsHideOnlyTheirFindings) {
  const SourceStack stack = {frame("Cache::drop()", "/home/dev/app/src/cache.cpp", 88)};
  EXPECT_TRUE(hides_error("double_free:Cache::drop", error_of(ErrorKind::DoubleFree, stack)));
  EXPECT_TRUE(hides_error("double-free:Cache::drop", error_of(ErrorKind::DoubleFree, stack)))
      << "DESIGN.md spells the kinds with '-'";
  EXPECT_FALSE(hides_error("double_free:Cache::drop", error_of(ErrorKind::InvalidFree, stack)));
  EXPECT_FALSE(hides_error("leak:Cache::drop", error_of(ErrorKind::DoubleFree, stack)));
  EXPECT_FALSE(hides_leak("double_free:Cache::drop", stack));
  EXPECT_TRUE(hides_error("invalid_free:cache.cpp", error_of(ErrorKind::InvalidFree, stack)));
  EXPECT_TRUE(hides_error("mismatched_free:Cache", error_of(ErrorKind::MismatchedFree, stack)));
  EXPECT_TRUE(hides_error("heap_overflow:Cache", error_of(ErrorKind::HeapOverflow, stack)));
  EXPECT_TRUE(hides_error("write_after_free:Cache", error_of(ErrorKind::WriteAfterFree, stack)));
  for (const LeakKind kind : {LeakKind::Definite, LeakKind::Indirect, LeakKind::Possible, LeakKind::Reachable})
    EXPECT_TRUE(hides_leak("leak:Cache", stack, kind)) << name_of(kind);
}

TEST(LeakSanitizerSuppressionTest, ErrorWithoutABadCallStackIsMatchedByItsAllocation) {
  const ErrorFinding found_at_exit = error_of(ErrorKind::HeapOverflow, {}, {frame("fill_table()")});
  EXPECT_TRUE(hides_error("heap_overflow:fill_table", found_at_exit));
  const ErrorFinding at_free = error_of(ErrorKind::HeapOverflow, {frame("cleanup()")}, {frame("fill_table()")});
  EXPECT_FALSE(hides_error("heap_overflow:fill_table", at_free)) << "the bad call's stack decides";
  EXPECT_TRUE(hides_error("heap_overflow:cleanup", at_free));
}

TEST(LeakSanitizerSuppressionTest, CommentsBlankLinesAndSpacesAreIgnored) {
  const Suppressions suppressions = parsed("# a comment\n\n   \t\n  leak : make_buffer  \r\n# another\n");
  ASSERT_EQ(suppressions.rules().size(), 1u);
  EXPECT_EQ(suppressions.rules()[0].name, "leak : make_buffer");
  EXPECT_EQ(suppressions.rules()[0].line, 4);
  EXPECT_EQ(suppressions.rules()[0].source, "test.supp");
  EXPECT_NE(suppressions.match_leak(LeakKind::Definite, leak_stack()), nullptr);
}

TEST(LeakSanitizerSuppressionTest, EmptyStackMatchesNothing) {
  EXPECT_FALSE(hides_leak("leak:*", {}));
}

// ---- valgrind dialect --------------------------------------------------------

std::string memcheck_leak(std::string_view frames) {
  return "{\n   my suppression\n   Memcheck:Leak\n" + std::string(frames) + "}\n";
}

TEST(ValgrindSuppressionTest, FramesMatchFromTheInnermost) {
  EXPECT_TRUE(hides_leak(memcheck_leak("fun:make_buffer\n"), leak_stack()));
  EXPECT_TRUE(hides_leak(memcheck_leak("fun:make_buffer\nfun:load\nfun:main\n"), leak_stack()));
  EXPECT_FALSE(hides_leak(memcheck_leak("fun:load\n"), leak_stack())) << "not the innermost frame";
  EXPECT_FALSE(hides_leak(memcheck_leak("fun:make_buffer\nfun:main\n"), leak_stack())) << "load() is between";
  EXPECT_FALSE(hides_leak(memcheck_leak("fun:buffer\n"), leak_stack())) << "whole names, not substrings";
}

TEST(ValgrindSuppressionTest, FunctionsMatchWithOrWithoutTheirParameterList) {
  EXPECT_TRUE(hides_leak(memcheck_leak("fun:make_buffer(unsigned long)\n"), leak_stack()));
  EXPECT_TRUE(hides_leak(memcheck_leak("fun:make_*\n"), leak_stack()));
  EXPECT_FALSE(hides_leak(memcheck_leak("fun:make_buffer(int)\n"), leak_stack()));
}

TEST(ValgrindSuppressionTest, MangledNamesAsValgrindWritesThem) {
  EXPECT_TRUE(hides_leak(memcheck_leak("fun:_Z11make_bufferm\nfun:_Z4loadv\nfun:main\n"), leak_stack()));
  SourceStack in_namespace = {frame("boost::detail::make(int)")};
  EXPECT_TRUE(hides_leak(memcheck_leak("fun:_ZN5boost6detail*\n"), in_namespace));
}

TEST(ValgrindSuppressionTest, DotsMatchAnyNumberOfFramesAlsoNone) {
  EXPECT_TRUE(hides_leak(memcheck_leak("...\nfun:main\n"), leak_stack()));
  EXPECT_TRUE(hides_leak(memcheck_leak("...\nfun:make_buffer\n"), leak_stack()));
  EXPECT_TRUE(hides_leak(memcheck_leak("fun:make_buffer\n...\nfun:main\n"), leak_stack()));
  EXPECT_TRUE(hides_leak(memcheck_leak("fun:make_buffer\n...\nfun:load\n...\n"), leak_stack()));
  EXPECT_FALSE(hides_leak(memcheck_leak("...\nfun:Cache*\n"), leak_stack()));
  EXPECT_FALSE(hides_leak(memcheck_leak("...\nfun:main\nfun:main\n"), leak_stack()));
  EXPECT_FALSE(hides_leak(memcheck_leak("fun:make_buffer\nfun:load\nfun:main\nfun:*\nfun:*\n"), leak_stack()))
      << "more frames than the stack has";
}

TEST(ValgrindSuppressionTest, ObjMatchesTheModulesFullPath) {
  EXPECT_TRUE(hides_leak(memcheck_leak("obj:/home/dev/app/build/app\n"), leak_stack()));
  EXPECT_TRUE(hides_leak(memcheck_leak("obj:*/app\nobj:*/app\nobj:*/app\nobj:*/libc.so*\n"), leak_stack()));
  EXPECT_FALSE(hides_leak(memcheck_leak("obj:app\n"), leak_stack()));
}

TEST(ValgrindSuppressionTest, SrcMatchesTheFileAndOptionallyTheLine) {
  EXPECT_TRUE(hides_leak(memcheck_leak("src:buf.cpp\n"), leak_stack()));
  EXPECT_TRUE(hides_leak(memcheck_leak("src:buf.cpp:12\n"), leak_stack()));
  EXPECT_TRUE(hides_leak(memcheck_leak("src:/home/dev/*/buf.cpp:12\n"), leak_stack()));
  EXPECT_FALSE(hides_leak(memcheck_leak("src:buf.cpp:13\n"), leak_stack()));
  EXPECT_FALSE(hides_leak(memcheck_leak("src:load.cpp\n"), leak_stack()));
}

TEST(ValgrindSuppressionTest, UnknownFunctionsAndModulesAreQuestionMarks) {
  const SourceStack unknown = {{.address = 0x1234}};
  EXPECT_TRUE(hides_leak(memcheck_leak("fun:???\n"), unknown));
  EXPECT_TRUE(hides_leak(memcheck_leak("obj:???\n"), unknown));
  EXPECT_FALSE(hides_leak(memcheck_leak("src:*\n"), unknown)) << "no file to match";
}

TEST(ValgrindSuppressionTest, ValgrindsOwnAllocatorFrameIsSkipped) {
  // valgrind's stacks start inside its malloc; ours at malloc's caller.
  EXPECT_TRUE(hides_leak(memcheck_leak("fun:malloc\nfun:make_buffer\nfun:load\n"), leak_stack()));
  EXPECT_TRUE(hides_leak(memcheck_leak("fun:_Znwm\nfun:make_buffer\n"), leak_stack()));
  EXPECT_TRUE(hides_leak(memcheck_leak("fun:_ZnamRKSt9nothrow_t\nfun:make_buffer\n"), leak_stack()));
  EXPECT_TRUE(hides_leak(memcheck_leak("obj:/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so\n"
                                       "fun:make_buffer\n"),
                         leak_stack()));
  EXPECT_TRUE(hides_leak(memcheck_leak("fun:calloc\n"), leak_stack())) << "every leak from calloc";
  EXPECT_FALSE(hides_leak("{\n n\n nantrack:leak\n fun:malloc\n fun:make_buffer\n}\n", leak_stack()))
      << "nantrack's own blocks are matched as written";
}

TEST(ValgrindSuppressionTest, MatchLeakKinds) {
  const std::string definite = "{\n n\n Memcheck:Leak\n match-leak-kinds: definite\n fun:make_buffer\n}\n";
  EXPECT_TRUE(hides_leak(definite, leak_stack(), LeakKind::Definite));
  EXPECT_FALSE(hides_leak(definite, leak_stack(), LeakKind::Reachable));
  const std::string two = "{\n n\n Memcheck:Leak\n match-leak-kinds: possible,reachable\n fun:make_buffer\n}\n";
  EXPECT_FALSE(hides_leak(two, leak_stack(), LeakKind::Definite));
  EXPECT_TRUE(hides_leak(two, leak_stack(), LeakKind::Possible));
  EXPECT_TRUE(hides_leak(two, leak_stack(), LeakKind::Reachable));
  const std::string all = "{\n n\n Memcheck:Leak\n match-leak-kinds: all\n fun:make_buffer\n}\n";
  EXPECT_TRUE(hides_leak(all, leak_stack(), LeakKind::Indirect));
}

TEST(ValgrindSuppressionTest, MemcheckFreeHidesTheThreeKindsOfBadFree) {
  const std::string block = "{\n bad frees\n Memcheck:Free\n fun:free\n fun:Cache::drop*\n}\n";
  const SourceStack stack = {frame("Cache::drop()")};
  EXPECT_TRUE(hides_error(block, error_of(ErrorKind::DoubleFree, stack)));
  EXPECT_TRUE(hides_error(block, error_of(ErrorKind::InvalidFree, stack)));
  EXPECT_TRUE(hides_error(block, error_of(ErrorKind::MismatchedFree, stack)));
  EXPECT_FALSE(hides_error(block, error_of(ErrorKind::HeapOverflow, stack)));
  EXPECT_FALSE(hides_leak(block, stack));
}

TEST(ValgrindSuppressionTest, NantrackTypesHideOneKind) {
  const std::string block = "{\n n\n nantrack:heap_overflow\n fun:Cache::drop()\n}\n";
  const SourceStack stack = {frame("Cache::drop()")};
  EXPECT_TRUE(hides_error(block, error_of(ErrorKind::HeapOverflow, stack)));
  EXPECT_FALSE(hides_error(block, error_of(ErrorKind::DoubleFree, stack)));
}

TEST(ValgrindSuppressionTest, OtherToolsAndOtherMemcheckKindsAreAcceptedAndNeverMatch) {
  const Suppressions suppressions = parsed(
      "{\n race\n Helgrind:Race\n fun:whatever\n anything goes here\n}\n"
      "{\n cond\n Memcheck:Cond\n fun:*\n}\n"
      "{\n param\n Memcheck:Param\n write(buf)\n fun:*\n}\n"
      "{\n addr\n Memcheck:Addr8\n fun:*\n}\n");
  EXPECT_TRUE(suppressions.rules().empty());
}

TEST(ValgrindSuppressionTest, NameSourceAndLineAreKept) {
  const Suppressions suppressions = parsed("\n# x\n{\n   <insert_a_suppression_name_here>\n   Memcheck:Leak\n   fun:f\n}\n");
  ASSERT_EQ(suppressions.rules().size(), 1u);
  EXPECT_EQ(suppressions.rules()[0].name, "<insert_a_suppression_name_here>");
  EXPECT_EQ(suppressions.rules()[0].line, 3);
}

// ---- Both dialects, order, files ---------------------------------------------

TEST(SuppressionsTest, BothDialectsInOneFileAndTheFirstMatchWins) {
  const Suppressions suppressions = parsed("leak:load\n" + memcheck_leak("fun:make_buffer\n") + "leak:main\n");
  ASSERT_EQ(suppressions.rules().size(), 3u);
  EXPECT_EQ(suppressions.match_leak(LeakKind::Definite, leak_stack()), &suppressions.rules()[0]);
  const SourceStack only_main = {frame("main")};
  EXPECT_EQ(suppressions.match_leak(LeakKind::Definite, only_main), &suppressions.rules()[2]);
}

TEST(SuppressionsTest, LoadFileNamesTheFileInErrors) {
  testing::TempPath path("ci.supp");
  {
    std::ofstream file(path.str());
    file << "leak:ok\n\n# fine\nleek:libfoo\n";
  }
  try {
    Suppressions::load_file(path.str());
    FAIL() << "no error";
  } catch (const SuppressionsError& error) {
    EXPECT_EQ(std::string(error.what()),
              "suppressions file '" + path.str() +
                  "' line 4: unknown kind 'leek' (expected leak, double_free, invalid_free, mismatched_free, "
                  "heap_overflow, write_after_free)");
  }
}

TEST(SuppressionsTest, AddFileAppendsAndReportsUnreadableFiles) {
  testing::TempPath path("ok.supp");
  {
    std::ofstream file(path.str());
    file << "leak:one\n";
  }
  Suppressions suppressions = Suppressions::load_file(path.str());
  suppressions.add_file(path.str());
  EXPECT_EQ(suppressions.rules().size(), 2u);
  EXPECT_EQ(suppressions.rules()[0].source, path.str());

  try {
    suppressions.add_file("/nonexistent/x.supp");
    FAIL() << "no error";
  } catch (const SuppressionsError& error) {
    EXPECT_STREQ(error.what(), "cannot read suppressions file '/nonexistent/x.supp': No such file or directory");
  }
  try {
    suppressions.add_file("/tmp");
    FAIL() << "no error";
  } catch (const SuppressionsError& error) {
    EXPECT_STREQ(error.what(), "cannot read suppressions file '/tmp': it is a directory");
  }
  EXPECT_EQ(suppressions.rules().size(), 2u);
}

TEST(SuppressionsTest, AFileWithAnErrorAddsNothing) {
  Suppressions suppressions;
  EXPECT_THROW(suppressions.add_text("leak:a\nleak:b\nbad line\n", "x.supp"), SuppressionsError);
  EXPECT_TRUE(suppressions.rules().empty());
}

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

// ---- Helpers ----------------------------------------------------------------

TEST(WithoutParametersTest, StripsTheParameterListAndWhatFollowsIt) {
  EXPECT_EQ(without_parameters("Cache::put(std::string const&) const"), "Cache::put");
  EXPECT_EQ(without_parameters("(anonymous namespace)::pool::pool()"), "(anonymous namespace)::pool::pool");
  EXPECT_EQ(without_parameters("fixture::Probe fixture::probe_in_template<int>(int)"),
            "fixture::Probe fixture::probe_in_template<int>");
  EXPECT_EQ(without_parameters("Foo::operator()(int) &&"), "Foo::operator()");
  EXPECT_EQ(without_parameters("f(void (*)(int)) [clone .cold]"), "f");
  EXPECT_EQ(without_parameters("main"), "main");
  EXPECT_EQ(without_parameters(""), "");
  EXPECT_EQ(without_parameters("broken)"), "broken)");
}

// ---- The built-in suppressions ------------------------------------------------

TEST(DefaultSuppressionsTest, ParseAndAreAddedOnce) {
  Suppressions suppressions;
  suppressions.add_defaults();
  const size_t count = suppressions.rules().size();
  EXPECT_GT(count, 5u);
  suppressions.add_defaults();
  EXPECT_EQ(suppressions.rules().size(), count);
  for (const Suppression& rule : suppressions.rules()) {
    EXPECT_EQ(rule.source, kDefaultSuppressionsSource);
    EXPECT_TRUE(rule.leak_kinds != 0 && rule.error_kinds == 0) << rule.name << ": defaults hide leaks only";
  }
}

const Suppression* default_match(const SourceStack& stack) {
  static const Suppressions defaults = [] {
    Suppressions suppressions;
    suppressions.add_defaults();
    return suppressions;
  }();
  return defaults.match_leak(LeakKind::Definite, stack);
}

TEST(DefaultSuppressionsTest, HideWhatTheRuntimesKeepUntilExit) {
  // Stacks as nantrack showed them for /bin/true, sort, date and C++ programs,
  // with and without libc's debug information.
  EXPECT_NE(default_match({frame("_IO_file_doallocate", "./libio/filedoalloc.c", 101, kLibc),
                           frame("_IO_doallocbuf", "", 0, kLibc), frame("main")}),
            nullptr);
  EXPECT_NE(default_match({frame("", "", 0, kLibc), frame("", "", 0, kLibc), frame("setlocale", "", 0, kLibc),
                           frame("main")}),
            nullptr);
  EXPECT_NE(default_match({frame("calloc", "../include/rtld-malloc.h", 44, kLoader),
                           frame("allocate_dtv", "", 0, kLoader), frame("__pthread_create_2_1", "", 0, kLibc)}),
            nullptr);
  EXPECT_NE(default_match({frame("", "", 0, "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"),
                           frame("call_init", "./elf/dl-init.c", 74, kLoader), frame("_dl_init", "", 0, kLoader)}),
            nullptr);
  EXPECT_NE(default_match({frame("__vasprintf_internal", "", 0, kLibc), frame("___asprintf", "", 0, kLibc),
                           frame("__dlerror", "", 0, kLibc), frame("main")}),
            nullptr);
}

TEST(DefaultSuppressionsTest, DoNotHideTheProgramsOwnLeaks) {
  EXPECT_EQ(default_match(leak_stack()), nullptr);
  EXPECT_EQ(default_match({frame("__strdup", "./string/strdup.c", 42, kLibc), frame("main")}), nullptr);
  EXPECT_EQ(default_match({frame("std::__cxx11::basic_string<char>::_M_create(unsigned long&, unsigned long)", "",
                                 0, "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"),
                           frame("make_name()"), frame("main")}),
            nullptr);
  // A constructor of a dlopen'ed library runs below ld.so's frames: its
  // leaks are its own.
  EXPECT_EQ(default_match({frame("plugin_init", "", 0, "/opt/plugin.so"), frame("call_init", "", 0, kLoader),
                           frame("_dl_init", "", 0, kLoader), frame("_dlerror_run", "", 0, kLibc)}),
            nullptr);
  EXPECT_EQ(default_match({}), nullptr);
}

}  // namespace
}  // namespace nantrack
