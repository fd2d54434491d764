// NANTRACK_OPTIONS as users meet it: help, bad keys and values, an output
// directory that cannot be written.
#include <gtest/gtest.h>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

TEST(OptionsEndToEnd, UnknownKeyIsAnErrorOnStderrAndTheProgramStillRuns) {
  RunResult result = run({program("leak_stack")}, {.nantrack_options = "stak_depth=3"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "leak_stack leaky\n");
  EXPECT_NE(result.err.find("nantrack: unknown option 'stak_depth' in NANTRACK_OPTIONS"), std::string::npos)
      << result.err;
  EXPECT_EQ(result.traces.size(), 1u);
}

TEST(OptionsEndToEnd, BadValueKeepsTheDefault) {
  RunResult result = run({program("leak_stack")}, {.nantrack_options = "stack_depth=many"});
  EXPECT_NE(result.err.find("option 'stack_depth'"), std::string::npos) << result.err;
  const Trace& trace = result.only_trace();
  auto blocks = blocks_of_size(trace, 77);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_GT(trace.stack(blocks[0]->stack).size(), 40u);  // the default 64, not garbage
}

TEST(OptionsEndToEnd, HelpListsTheOptions) {
  RunResult result = run({program("leak_stack")}, {.nantrack_options = "help=1"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.err.find("quarantine_bytes="), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("follow_children="), std::string::npos);
}

TEST(OptionsEndToEnd, UnwritableOutputDirIsSaidOnceAndTheProgramIsUnharmed) {
  RunResult result = run({program("leak_stack")}, {.environment = {"NANTRACK_OPTIONS=output_dir=/nonexistent/dir"}});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "leak_stack leaky\n");
  EXPECT_NE(result.err.find("nantrack: output_dir '/nonexistent/dir' is not a writable directory"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("cannot write trace '/nonexistent/dir/nantrack."), std::string::npos) << result.err;
}

}  // namespace
}  // namespace nantrack::testing
