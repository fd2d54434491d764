#include "report/suppressions.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/report/suppression_test_support.h"
#include "tests/report/trace_builder.h"

namespace nantrack {
namespace {

using namespace nantrack::testing;

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

TEST(LeakSanitizerSuppressionTest, EmptyStackMatchesNothing) { EXPECT_FALSE(hides_leak("leak:*", {})); }

// ---- valgrind dialect --------------------------------------------------------

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
  const Suppressions suppressions =
      parsed("\n# x\n{\n   <insert_a_suppression_name_here>\n   Memcheck:Leak\n   fun:f\n}\n");
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
    EXPECT_STREQ(error.what(), "cannot read suppressions file '/nonexistent/x.supp': no such file");
  }
  try {
    suppressions.add_file("/tmp");
    FAIL() << "no error";
  } catch (const SuppressionsError& error) {
    EXPECT_STREQ(error.what(), "cannot read suppressions file '/tmp': is a directory");
  }
  EXPECT_EQ(suppressions.rules().size(), 2u);
}

// Untrusted input: what is not a regular file is not read (a FIFO would
// wait for a writer, /dev/zero never ends), nor is a file far larger than
// any list of suppressions.
TEST(SuppressionsTest, OnlyARegularFileOfSaneSizeIsRead) {
  testing::TempPath fifo("pipe.supp");
  ASSERT_EQ(mkfifo(fifo.str().c_str(), 0600), 0);
  testing::TempPath huge("huge.supp");
  {
    std::ofstream file(huge.str());
  }
  ASSERT_EQ(truncate(huge.str().c_str(), off_t{17} << 20), 0);  // sparse: nothing is written
  const std::pair<std::string, std::string> cases[] = {
      {fifo.str(), "not a regular file"},
      {"/dev/zero", "not a regular file"},
      {huge.str(), "too large (17825792 bytes; at most 16777216)"},
  };
  for (const auto& [path, why] : cases) {
    Suppressions suppressions;
    try {
      suppressions.add_file(path);
      ADD_FAILURE() << path << ": no error";
    } catch (const SuppressionsError& error) {
      EXPECT_EQ(std::string(error.what()), "cannot read suppressions file '" + path + "': " + why);
    }
  }
}

TEST(SuppressionsTest, AFileWithAnErrorAddsNothing) {
  Suppressions suppressions;
  EXPECT_THROW(suppressions.add_text("leak:a\nleak:b\nbad line\n", "x.supp"), SuppressionsError);
  EXPECT_TRUE(suppressions.rules().empty());
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

}  // namespace
}  // namespace nantrack
