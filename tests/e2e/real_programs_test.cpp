// Real programs from the system behave exactly as without nantrack: same
// stdout, stderr and exit status, and they leave readable traces.
#include <gtest/gtest.h>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

void expect_unchanged(const std::vector<std::string>& argv) {
  RunResult untraced = run(argv, {.traced = false});
  RunResult traced = run(argv);
  EXPECT_EQ(traced.out, untraced.out);
  EXPECT_EQ(traced.err, untraced.err);
  EXPECT_EQ(traced.exit_code, untraced.exit_code);
  EXPECT_EQ(traced.signal, untraced.signal);
  EXPECT_FALSE(traced.traces.empty());
  for (const Trace& trace : traced.traces) {
    EXPECT_TRUE(trace.errors.empty()) << trace.path;
    EXPECT_GT(trace.counters.allocations, 0u);
  }
}

TEST(RealPrograms, Python) {
  expect_unchanged({"python3", "-c", "import json; d = {str(i): list(range(i)) for i in range(200)};"
                                     "print(len(json.dumps(json.loads(json.dumps(d)))))"});
}

TEST(RealPrograms, GitVersion) { expect_unchanged({"git", "--version"}); }

TEST(RealPrograms, Sort) { expect_unchanged({"sh", "-c", "seq 1 20000 | sort -r | head -3"}); }

TEST(RealPrograms, ShellPipelineWithFailure) {
  expect_unchanged({"sh", "-c", "echo one; ls /nonexistent-nantrack 2>&1 | wc -l; exit 3"});
}

TEST(RealPrograms, CmakeFreesInLateDestructorsStillCount) {
  // libcurl, libcrypto and libxml2 free hundreds of blocks in destructors
  // that run after ours; valgrind, which sees the true end, reports 3 blocks
  // in use. Without the late records we would report hundreds.
  RunResult result = run({"cmake", "--version"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const Trace& trace = result.only_trace();
  EXPECT_LE(trace.live_blocks.size(), 5u);
  EXPECT_EQ(trace.counters.allocations - trace.counters.frees, trace.live_blocks.size());
}

}  // namespace
}  // namespace nantrack::testing
