// A program that gives up the rights nantrack needs at the end to create
// its trace (tests/programs/drop_rights.c: a daemon started by root that
// becomes nobody, or chroots) still gets its trace and its report: the
// trace is opened before the rights go (preload/confinement_hooks.cpp).
// And a trace opened early that the program then closed, its descriptor
// reused for a file of the program's, is never written into that file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>

#include <string>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

// Through nantrack run, whose trace directory is private to its user
// (0700): as root, the program becomes nobody before it ends. Not as root,
// setuid(getuid()) takes the same path and changes nothing.
TEST(DropRights, AProgramThatBecomesAnotherUserKeepsItsTrace) {
  const RunResult result = nantrack({"run", "--", program("drop_rights"), "setuid"});
  // The trace opened early holds a high descriptor: the program's next
  // open gets the number it gets without us.
  const RunResult native = run({program("drop_rights"), "setuid"}, {.traced = false});
  EXPECT_EQ(native.out.rfind("next descriptor ", 0), 0u) << native.out;
  EXPECT_EQ(result.out, native.out);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err.find("cannot write trace"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("200 bytes in 1 block leaked (definite)"), std::string::npos) << result.err;
}

// The other calls that change the effective user id: each opens the trace
// before it too.
class DropRightsThrough : public ::testing::TestWithParam<const char*> {};

TEST_P(DropRightsThrough, TheTraceIsOpenedBeforeTheUserChanges) {
  const RunResult result = nantrack({"run", "--", program("drop_rights"), GetParam()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err.find("cannot write trace"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("200 bytes in 1 block leaked (definite)"), std::string::npos) << result.err;
}

INSTANTIATE_TEST_SUITE_P(EveryCall, DropRightsThrough, ::testing::Values("seteuid", "setreuid", "setresuid"));

TEST(DropRights, AProgramThatChrootsKeepsItsTrace) {
  TempDir jail;
  const RunResult result = nantrack({"run", "--", program("drop_rights"), "chroot", jail.path()});
  EXPECT_EQ(result.out, "done\n");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("200 bytes in 1 block leaked (definite)"), std::string::npos) << result.err;
}

TEST(DropRights, AnEarlyTraceTheProgramClosedIsNeitherWrittenIntoItsFilesNorLost) {
  TempDir files;
  const RunResult traced = run({program("drop_rights"), "reuse", files.path()});
  EXPECT_EQ(traced.out, "done\n");
  EXPECT_EQ(traced.exit_code, 0) << traced.err;
  for (int i = 0; i < 600; ++i)
    EXPECT_EQ(read_file(files / ("file" + std::to_string(i))), "the program's\n") << "file" << i;
  // The trace was opened again at the end.
  ASSERT_EQ(traced.traces.size(), 1u) << traced.err;
  EXPECT_EQ(blocks_of_size(traced.only_trace(), 200).size(), 1u);
}

// The trace opened early stays empty when the process is killed before its
// end: nantrack run says what happened rather than "cannot read trace".
TEST(DropRights, AnEarlyTraceLeftEmptyIsExplained) {
  const RunResult result = nantrack({"run", "--", program("drop_rights"), "killed"});
  EXPECT_EQ(result.signal, SIGKILL) << result.exit_code;
  EXPECT_NE(result.err.find("ended before it wrote its trace (killed with SIGKILL?)"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("cannot read trace"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace nantrack::testing
