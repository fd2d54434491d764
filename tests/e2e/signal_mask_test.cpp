// sigprocmask under nantrack (preload/signal_mask_hook.cpp), on
// tests/programs/signal_mask.c: the program's own calls behave as without
// us, and libunwind's masking around its table lookups, which it makes for
// every new pc it unwinds through, stays out of the kernel.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

TEST(SignalMask, TheProgramsOwnCallsWorkAsWithoutUs) {
  const RunResult native = run({program("signal_mask")}, {.traced = false});
  const RunResult traced = run({program("signal_mask")});
  EXPECT_EQ(native.out,
            "blocked: 1, pending: 1, delivered: 0\n"
            "invalid how: -1, EINVAL\n"
            "delivered after unblocking: 1\n");
  EXPECT_EQ(traced.out, native.out) << traced.err;
  EXPECT_EQ(traced.exit_code, 0);
  EXPECT_EQ(traced.only_trace().errors.size(), 0u);
}

// rt_sigprocmask system calls of one run, counted by strace.
size_t sigprocmask_calls(bool traced) {
  TempDir dir;
  std::vector<std::string> argv = {"strace", "-f", "-qq", "-e", "trace=rt_sigprocmask", "-o", dir / "calls"};
  if (traced) {
    argv.insert(argv.end(), {"-E", "LD_PRELOAD=" + library_path(), "-E", "NANTRACK_OPTIONS=report=0:output_dir=" + dir.path()});
  }
  argv.push_back(program("signal_mask"));
  const RunResult result = run(argv, {.traced = false});
  EXPECT_EQ(result.exit_code, 0) << "strace: " << result.err;
  std::istringstream lines(read_file(dir / "calls"));
  size_t calls = 0;
  for (std::string line; std::getline(lines, line);) calls += line.find("rt_sigprocmask(") != std::string::npos;
  return calls;
}

TEST(SignalMask, LibunwindsMaskingAroundTableLookupsStaysOutOfTheKernel) {
  const size_t native = sigprocmask_calls(false);
  const size_t traced = sigprocmask_calls(true);
  ASSERT_GT(native, 0u) << "strace saw none of the program's own calls";
  // 300 allocating functions: two calls for each lookup when libunwind's
  // masking reaches the kernel (2,581 before it was kept out).
  EXPECT_LE(traced, native + 20) << "native " << native;
}

}  // namespace
}  // namespace nantrack::testing
