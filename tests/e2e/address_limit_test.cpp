// Under an address-space limit (RLIMIT_AS) that leaves the tracker too
// little room for its tables, the program neither crashes nor gets errors
// it did not make: what cannot be recorded goes untracked, with one line
// that says so, and its blocks stay the program's own.
#include <gtest/gtest.h>

#include <string>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
const std::string kOutOfMemory = "nantrack: out of memory for its own tables";

// No error report of any kind on stderr, and none in the traces.
void expect_no_errors(const RunResult& result) {
  EXPECT_EQ(result.err.find("=="), std::string::npos) << result.err.substr(0, 2000);
  for (const Trace& trace : result.traces) EXPECT_EQ(trace.errors.size(), 0u);
}

TEST(AddressSpaceLimit, BlocksTheTableCannotRecordStayTheProgramsOwn) {
  const RunResult native = run({program("address_limit")}, {.traced = false});
  ASSERT_EQ(native.out, "ok\n") << native.err;
  const RunResult traced = run({program("address_limit")});
  EXPECT_EQ(traced.out, "ok\n") << traced.err.substr(0, 2000);
  EXPECT_EQ(traced.exit_code, 0);
  EXPECT_NE(traced.err.find(kOutOfMemory), std::string::npos) << traced.err.substr(0, 2000);
  expect_no_errors(traced);
}

// From too little for the tracker to start well to plenty: whatever it
// manages, the program is not killed and no error is invented; where the
// program could run to its end, it did what it does without us. From
// 32 MiB on it always can: the stack depot, which reserves 4 GiB of
// address space when it may, takes an eighth of the limit at most.
TEST(AddressSpaceLimit, TooLittleRoomAtStartNeverCrashesNorInventsErrors) {
  for (uint64_t limit : {24 * kMiB, 32 * kMiB, 36 * kMiB, 48 * kMiB, 56 * kMiB, 96 * kMiB}) {
    SCOPED_TRACE(std::to_string(limit / kMiB) + " MiB");
    const RunResult native = run({program("descriptors"), "list"}, {.traced = false, .address_space_limit = limit});
    const RunResult traced = run({program("descriptors"), "list"}, {.address_space_limit = limit});
    ASSERT_EQ(native.exit_code, 0);
    EXPECT_EQ(traced.signal, 0) << traced.err.substr(0, 2000);
    expect_no_errors(traced);
    if (limit >= 32 * kMiB) {
      EXPECT_EQ(traced.exit_code, 0);
    }
    if (traced.exit_code == 0) {
      EXPECT_EQ(traced.out, native.out);
    }
  }
}

// Where overcommit is strict (vm.overcommit_memory=2) every private
// writable mapping counts against the system's commit limit, MAP_NORESERVE
// or not. The stack depot's 4 GiB reservation took 4 GiB of it per traced
// process (three traced processes left a 24 GB machine unable to allocate
// 3 GB); it is now address space only, committed as stacks come.
TEST(StrictOvercommit, ATracedProcessTakesLittleOfTheCommitLimit) {
  const RunResult native = run({program("commit_charge")}, {.traced = false});
  const RunResult traced = run({program("commit_charge")});
  ASSERT_EQ(native.exit_code, 0) << native.err;
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  const long native_mib = std::stol(native.out), traced_mib = std::stol(traced.out);
  EXPECT_LT(traced_mib - native_mib, 64) << "MiB chargeable under strict overcommit";
}

}  // namespace
}  // namespace nantrack::testing
