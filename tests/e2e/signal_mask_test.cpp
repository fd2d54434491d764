// sigprocmask under nantrack (preload/signal_mask_hook.cpp), on
// tests/programs/signal_mask.c: the program's own calls behave as without
// us, and libunwind's masking around its table lookups, which it makes for
// every new pc it unwinds through, stays out of the kernel.
#include <gtest/gtest.h>

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

// The sigprocmask calls that reach libc in one run, as
// tests/programs/sigprocmask_counter.c (preloaded after us) counts them.
size_t calls_reaching_libc(bool traced) {
  const std::string counter = program("libsigprocmask_counter.so");
  const std::string preload = traced ? library_path() + " " + counter : counter;
  const RunResult result = run({program("signal_mask")}, {.traced = traced, .environment = {"LD_PRELOAD=" + preload}});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const std::string label = "sigprocmask calls: ";
  const size_t at = result.err.find(label);
  if (at == std::string::npos) {
    ADD_FAILURE() << "the counter printed nothing: " << result.err;
    return 0;
  }
  return std::stoul(result.err.substr(at + label.size()));
}

TEST(SignalMask, LibunwindsMaskingAroundTableLookupsStaysOutOfTheKernel) {
  const size_t native = calls_reaching_libc(false);
  const size_t traced = calls_reaching_libc(true);
  EXPECT_EQ(native, 4u) << "the program's own four calls";
  // 300 allocating functions: libunwind masks signals twice for each new
  // pc it looks up (2,580 calls when they got through).
  EXPECT_LE(traced, native + 10);
}

}  // namespace
}  // namespace nantrack::testing
