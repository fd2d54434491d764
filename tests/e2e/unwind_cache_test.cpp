// The unwind cache and the frame-rule walk behind it give exactly
// libunwind's frames: unwind_shapes allocates from every stack shape that
// could fool them, with unwind_check=1 (every cache hit and every rule walk
// is unwound again with libunwind and compared), and the leak stacks in the
// trace do not depend on the cache.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

struct CheckLine {
  uint64_t hits_verified = 0;
  uint64_t mismatches = 0;
  uint64_t walks_verified = 0;
};

// One "nantrack: unwind check: N hits verified, M mismatches (W rule walks
// verified, ...)" line per traced process.
std::vector<CheckLine> check_lines(const std::string& err) {
  static const std::regex line(
      R"(nantrack: unwind check: (\d+) hits verified, (\d+) mismatches \((\d+) rule walks verified)");
  std::vector<CheckLine> lines;
  for (auto it = std::sregex_iterator(err.begin(), err.end(), line); it != std::sregex_iterator(); ++it)
    lines.push_back({std::stoull((*it)[1]), std::stoull((*it)[2]), std::stoull((*it)[3])});
  return lines;
}

TEST(UnwindCache, EveryHitMatchesLibunwindOnEveryStackShape) {
  RunResult result = run({program("unwind_shapes"), "fork"}, {.nantrack_options = "unwind_check=1"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "unwind_shapes done\n");
  std::vector<CheckLine> lines = check_lines(result.err);
  ASSERT_EQ(lines.size(), 2u) << "one line from the program, one from its fork child:\n" << result.err;
  for (const CheckLine& line : lines) {
    EXPECT_EQ(line.mismatches, 0u) << result.err;
    // ~150,000 allocations and frees per process: nearly all must be hits,
    // or the cache is not doing its job; the misses but a few (signal
    // frames) must be rule walks, or the walk is not.
    EXPECT_GT(line.hits_verified, 100000u) << result.err;
    EXPECT_GT(line.walks_verified, 1000u) << result.err;
  }
}

// A clean free's stack is kept only with its block in quarantine: without
// one, frees are not unwound at all (a bad free still is: errors_test).
TEST(UnwindCache, FreesAreUnwoundOnlyWhenAQuarantineKeepsTheirStacks) {
  auto unwinds = [](const std::string& options) {
    RunResult result = run({program("unwind_shapes")}, {.nantrack_options = "unwind_check=1:" + options});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    std::vector<CheckLine> lines = check_lines(result.err);
    EXPECT_EQ(lines.size(), 1u) << result.err;
    return lines.empty() ? 0 : lines[0].hits_verified + lines[0].walks_verified;
  };
  const uint64_t with_quarantine = unwinds("quarantine_bytes=16m");
  const uint64_t without = unwinds("quarantine_bytes=0");
  // unwind_shapes frees nearly every block it allocates.
  EXPECT_GT(with_quarantine, 100000u);
  EXPECT_LT(without, with_quarantine * 6 / 10) << with_quarantine << " unwinds with a quarantine";
}

TEST(UnwindCache, CheckIsSilentWithoutTheOption) {
  RunResult result = run({program("unwind_shapes")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(check_lines(result.err).empty()) << result.err;
}

// The leaked blocks (sizes 3000..3999, one per stack shape) by size, each
// with its stack's function names.
std::vector<std::pair<uint64_t, std::vector<std::string>>> leak_stacks(const Trace& trace) {
  std::vector<std::pair<uint64_t, std::vector<std::string>>> stacks;
  for (const LiveBlock& block : trace.live_blocks)
    if (block.size >= 3000 && block.size < 4000) stacks.emplace_back(block.size, function_names(trace, block.stack));
  std::sort(stacks.begin(), stacks.end());
  return stacks;
}

TEST(UnwindCache, LeakStacksAreTheSameWithAndWithoutTheCache) {
  RunResult cached = run({program("unwind_shapes")}, {.nantrack_options = "unwind_cache=1"});
  RunResult uncached = run({program("unwind_shapes")}, {.nantrack_options = "unwind_cache=0"});
  ASSERT_EQ(cached.exit_code, 0) << cached.err;
  ASSERT_EQ(uncached.exit_code, 0) << uncached.err;
  auto with_cache = leak_stacks(cached.only_trace());
  auto without_cache = leak_stacks(uncached.only_trace());
  // One per scenario's leaking shape: deep paths, inlined, alloca/VLA/
  // realigned, both signal stacks, destructor and catch, longjmp.
  EXPECT_GE(with_cache.size(), 10u);
  ASSERT_EQ(with_cache.size(), without_cache.size());
  for (size_t i = 0; i < with_cache.size(); ++i) {
    EXPECT_EQ(with_cache[i].first, without_cache[i].first);
    EXPECT_EQ(with_cache[i].second, without_cache[i].second) << "block of " << with_cache[i].first << " bytes";
    EXPECT_GE(with_cache[i].second.size(), 3u) << "block of " << with_cache[i].first << " bytes";
  }
}

// Code without unwind tables (a JIT compiler's) sends libunwind along its
// frame pointer, to return addresses that may point anywhere. The unwind
// that records a stack seen a second time read the code at one of them,
// 0x2, and killed the program (the JVM, in its pool threads). Reads off
// the stack and outside every loaded module are checked now.
TEST(UnwindCache, AStrayReturnAddressBelowCodeWithoutUnwindTablesIsNotReadBlindly) {
  RunResult result = run({program("stray_frame")});
  ASSERT_EQ(result.signal, 0) << result.err;
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "allocated 10 blocks\n");
}

}  // namespace
}  // namespace nantrack::testing
