// Double, invalid and mismatched frees: reported at the bad call on stderr
// and in the trace with the right stacks, the bad pointer never reaches
// libc, and the program goes on to exit 0.
#include <gtest/gtest.h>

#include <csignal>
#include <utility>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

struct BadFree {
  const char* mode;
  ErrorKind kind;
  InvalidPointer why;
  const char* message;      // in the stderr line
  const char* bad_call_in;  // a function in the bad call's stack
};

void PrintTo(const BadFree& bad_free, std::ostream* out) { *out << bad_free.mode; }

class BadFrees : public ::testing::TestWithParam<BadFree> {};

TEST_P(BadFrees, ReportedAtTheBadCallAndTheProgramGoesOn) {
  const BadFree& expected = GetParam();
  RunResult result = run({program("bad_frees"), expected.mode});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("survived"), std::string::npos) << result.out;
  EXPECT_NE(result.err.find(std::string("nantrack: ") + expected.message), std::string::npos) << result.err;
  const Trace& trace = result.only_trace();
  ASSERT_EQ(trace.errors.size(), 1u) << result.err;
  const ErrorEvent& error = trace.errors[0];
  EXPECT_EQ(error.kind, expected.kind);
  EXPECT_EQ(error.invalid_pointer, expected.why);
  EXPECT_TRUE(stack_has(trace, error.stack, expected.bad_call_in)) << expected.mode;
  EXPECT_TRUE(stack_has(trace, error.stack, "main")) << expected.mode;
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, BadFrees,
    ::testing::Values(
        BadFree{"double_free", ErrorKind::DoubleFree, InvalidPointer::None, "double free of", "second_free"},
        BadFree{"double_free_later", ErrorKind::DoubleFree, InvalidPointer::None, "double free of", "second_free"},
        BadFree{"invalid_stack", ErrorKind::InvalidFree, InvalidPointer::StackAddress, "invalid free of", "free_it"},
        BadFree{"invalid_global", ErrorKind::InvalidFree, InvalidPointer::GlobalAddress, "invalid free of", "free_it"},
        BadFree{"invalid_interior", ErrorKind::InvalidFree, InvalidPointer::Interior, "invalid free of", "free_it"},
        BadFree{"interior_of_freed", ErrorKind::InvalidFree, InvalidPointer::Interior, "invalid free of", "free_it"},
        BadFree{"invalid_never", ErrorKind::InvalidFree, InvalidPointer::NeverAllocated, "invalid free of", "free_it"},
        BadFree{"malloc_delete", ErrorKind::MismatchedFree, InvalidPointer::None, "mismatched free of", "main"},
        BadFree{"new_free", ErrorKind::MismatchedFree, InvalidPointer::None, "mismatched free of", "free_it"},
        BadFree{"new_array_delete", ErrorKind::MismatchedFree, InvalidPointer::None, "mismatched free of", "main"},
        BadFree{"new_delete_array", ErrorKind::MismatchedFree, InvalidPointer::None, "mismatched free of", "main"},
        BadFree{"aligned_new_plain_delete", ErrorKind::MismatchedFree, InvalidPointer::None, "mismatched free of",
                "main"},
        BadFree{"realloc_freed", ErrorKind::DoubleFree, InvalidPointer::None, "double free of", "main"},
        BadFree{"realloc_foreign", ErrorKind::InvalidFree, InvalidPointer::GlobalAddress, "invalid free of",
                "main"}),
    [](const ::testing::TestParamInfo<BadFree>& info) { return std::string(info.param.mode); });

TEST(BadFreeStacks, DoubleFreeCarriesAllocationAndFirstFreeStacks) {
  RunResult result = run({program("bad_frees"), "double_free"});
  const Trace& trace = result.only_trace();
  ASSERT_EQ(trace.errors.size(), 1u);
  const ErrorEvent& error = trace.errors[0];
  EXPECT_EQ(error.block_size, 24u);
  EXPECT_EQ(error.alloc_kind, AllocKind::Malloc);
  EXPECT_TRUE(stack_has(trace, error.stack, "second_free"));
  EXPECT_TRUE(stack_has(trace, error.free_stack, "first_free"));
  EXPECT_TRUE(stack_has(trace, error.alloc_stack, "allocate_here"));
  EXPECT_NE(result.err.find("first freed here:"), std::string::npos);
  EXPECT_NE(result.err.find("allocated here:"), std::string::npos);
}

TEST(BadFreeStacks, MismatchNamesBothFunctions) {
  RunResult result = run({program("bad_frees"), "new_array_delete"});
  EXPECT_NE(result.err.find("allocated by operator new[], released by operator delete"), std::string::npos)
      << result.err;
  const Trace& trace = result.only_trace();
  ASSERT_EQ(trace.errors.size(), 1u);
  EXPECT_EQ(trace.errors[0].alloc_kind, AllocKind::NewArray);
  EXPECT_EQ(trace.errors[0].dealloc_kind, DeallocKind::Delete);
  // The mismatched block was still released: it is not a leak.
  EXPECT_TRUE(blocks_of_size(trace, 40).empty());
}

// A library with operator new and delete of its own (rust's libLLVM: a
// static libstdc++, its operators exported under its own version and bound
// to itself) makes blocks with its new, which calls malloc, and the program
// deletes them with the library's delete, which calls free: every pair
// matches. Our unversioned operators took the program's references to the
// library's, and each block was reported as a mismatched free (128 in one
// rust-lld link).
TEST(BadFreeStacks, AnotherLibrarysOwnOperatorsMakeNoMismatch) {
  const RunResult result = expect_same_output_as_without_us({program("versioned_operators_user")}, "done\n");
  const Trace& trace = result.only_trace();
  EXPECT_TRUE(trace.errors.empty()) << result.err;
  auto leaked = blocks_of_size(trace, 77);
  ASSERT_EQ(leaked.size(), 1u);
  EXPECT_TRUE(stack_has(trace, leaked[0]->stack, "main"));
  EXPECT_TRUE(blocks_of_size(trace, 40).empty());
  EXPECT_TRUE(blocks_of_size(trace, 24).empty());
}

TEST(BadFreeStacks, InteriorPointerNamesItsBlock) {
  RunResult result = run({program("bad_frees"), "invalid_interior"});
  const Trace& trace = result.only_trace();
  ASSERT_EQ(trace.errors.size(), 1u);
  EXPECT_EQ(trace.errors[0].block_size, 64u);
  EXPECT_EQ(trace.errors[0].address - trace.errors[0].block_address, 8u);
  EXPECT_TRUE(stack_has(trace, trace.errors[0].alloc_stack, "allocate_here"));
  EXPECT_TRUE(blocks_of_size(trace, 64).empty());  // the real free of the block went through
}

// Freed blocks' records are in the quarantine, not the block table: a
// second free found there still names both earlier calls, and a free inside
// a freed block still names that block.
TEST(BadFreeStacks, QuarantinedBlocksAreFoundForDoubleAndInteriorFrees) {
  RunResult later = run({program("bad_frees"), "double_free_later"});
  const Trace& trace = later.only_trace();
  ASSERT_EQ(trace.errors.size(), 1u) << later.err;
  EXPECT_EQ(trace.errors[0].block_size, 24u);
  EXPECT_TRUE(stack_has(trace, trace.errors[0].free_stack, "first_free"));
  EXPECT_TRUE(stack_has(trace, trace.errors[0].alloc_stack, "allocate_here"));

  RunResult interior = run({program("bad_frees"), "interior_of_freed"});
  const Trace& interior_trace = interior.only_trace();
  ASSERT_EQ(interior_trace.errors.size(), 1u) << interior.err;
  EXPECT_EQ(interior_trace.errors[0].block_size, 64u);
  EXPECT_EQ(interior_trace.errors[0].address - interior_trace.errors[0].block_address, 8u);
  EXPECT_TRUE(stack_has(interior_trace, interior_trace.errors[0].alloc_stack, "allocate_here"));
}

TEST(BadFreeStacks, AbortOnErrorStopsAtTheFirstOne) {
  RunResult result = run({program("bad_frees"), "double_free"}, {.nantrack_options = "abort_on_error=1"});
  EXPECT_EQ(result.signal, SIGABRT);
  EXPECT_EQ(result.out.find("survived"), std::string::npos);
  const Trace& trace = result.only_trace();
  EXPECT_TRUE(trace.process.crashed);
  EXPECT_EQ(trace.errors.size(), 1u);
}

// What bad_frees' double free (of a 24-byte block, nothing freed between
// the two frees) is reported as with these options.
ErrorKind double_free_reported_as(const std::string& options) {
  RunResult result = run({program("bad_frees"), "double_free"}, {.nantrack_options = options});
  EXPECT_EQ(result.exit_code, 0) << options;
  const Trace& trace = result.only_trace();
  EXPECT_EQ(trace.errors.size(), 1u) << options;
  return trace.errors.empty() ? ErrorKind{} : trace.errors[0].kind;
}

// Without a quarantine a free is unwound only once it is found to be an
// error: the report still names the bad call.
TEST(BadFreeStacks, WithoutAQuarantineABadFreeStillNamesItsCall) {
  for (const auto& [mode, bad_call_in] : {std::pair{"invalid_stack", "free_it"}, {"invalid_interior", "free_it"},
                                          {"new_free", "free_it"}, {"double_free", "second_free"}}) {
    RunResult result = run({program("bad_frees"), mode}, {.nantrack_options = "quarantine_bytes=0"});
    EXPECT_EQ(result.exit_code, 0) << mode << result.err;
    const Trace& trace = result.only_trace();
    ASSERT_EQ(trace.errors.size(), 1u) << mode << result.err;
    EXPECT_TRUE(stack_has(trace, trace.errors[0].stack, bad_call_in)) << mode;
    EXPECT_TRUE(stack_has(trace, trace.errors[0].stack, "main")) << mode;
  }
}

TEST(BadFreeStacks, DoubleFreeIsCaughtEvenAfterTheAddressWasReused) {
  // Without quarantine glibc would hand the address out again at once; with
  // it, the second free is still recognised. Without quarantine the first
  // free is forgotten: it is reported as invalid.
  EXPECT_EQ(double_free_reported_as("quarantine_bytes=0"), ErrorKind::InvalidFree);
}

TEST(BadFreeStacks, TheSmallestQuarantinesStillHoldABlock) {
  // The process's limits are not split into per-shard shares that round
  // down to nothing: one block, or one block's bytes, are held.
  EXPECT_EQ(double_free_reported_as("quarantine_blocks=1"), ErrorKind::DoubleFree);
  EXPECT_EQ(double_free_reported_as("quarantine_bytes=24"), ErrorKind::DoubleFree);
}

}  // namespace
}  // namespace nantrack::testing
